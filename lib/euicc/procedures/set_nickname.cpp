// ES10c.SetNickname (SGP.22 §5.7.21).

#include "context.hpp"

#include "esimguard/asn1/metadata.hpp"

namespace esimguard::euicc::detail {

bytes set_nickname(context& ctx, byte_view request) {
    asn1::set_nickname_response r;
    auto req = asn1::decode_set_nickname_request(request);
    if (!req) {
        r.result = asn1::set_nickname_result::undefined_error;
        return asn1::encode(r);
    }
    auto* p = ctx.find_profile_by_iccid(req->iccid.to_string());
    if (!p) {
        r.result = asn1::set_nickname_result::iccid_not_found;
        return asn1::encode(r);
    }
    p->nickname = req->profile_nickname;
    ctx.save();
    return asn1::encode(r);
}

} // namespace esimguard::euicc::detail
