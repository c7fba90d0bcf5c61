// ES10a.SetDefaultDpAddress (SGP.22 §5.7.4): an empty address removes it.

#include "context.hpp"

namespace esimguard::euicc::detail {

bytes set_default_dp_address(context& ctx, byte_view request) {
    asn1::set_default_dp_address_response r;
    auto req = asn1::decode_set_default_dp_address_request(request);
    if (!req || req->default_dp_address.size() > 255) {
        r.result = asn1::set_default_dp_address_result::undefined_error;
        return asn1::encode(r);
    }
    if (req->default_dp_address.empty()) {
        ctx.state.default_dp_address.reset();
    } else {
        ctx.state.default_dp_address = req->default_dp_address;
    }
    ctx.save();
    return asn1::encode(r);
}

} // namespace esimguard::euicc::detail
