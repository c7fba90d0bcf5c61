// ES10c.GetEID (SGP.22 §5.7.20): GetEuiccDataRequest { tagList 5A } → the EID.

#include "context.hpp"

namespace esimguard::euicc::detail {

bytes get_eid(context& ctx, byte_view request) {
    // lpac stops working if GetEID fails, so an odd tagList still gets the EID.
    (void)asn1::decode_get_eid_request(request);
    asn1::get_eid_response r;
    r.eid = ctx.eid;
    return asn1::encode(r);
}

} // namespace esimguard::euicc::detail
