// ES10c.DeleteProfile (SGP.22 §5.7.18): only a disabled profile, unless PPR2
// forbids it; the delete notification is signed before the profile goes.

#include "context.hpp"

namespace esimguard::euicc::detail {

bytes delete_profile(context& ctx, byte_view request) {
    asn1::delete_profile_response r;
    auto req = asn1::decode_delete_profile_request(request);
    if (!req) {
        r.result = asn1::delete_profile_result::undefined_error;
        return asn1::encode(r);
    }
    auto* p = ctx.find_profile(req->id);
    if (!p) {
        r.result = asn1::delete_profile_result::iccid_or_aid_not_found;
        return asn1::encode(r);
    }
    if (p->enabled) {
        r.result = asn1::delete_profile_result::profile_not_in_disabled_state;
        return asn1::encode(r);
    }
    auto md = stored_metadata(*p);
    if (md && md->profile_policy_rules &&
        md->profile_policy_rules->test(asn1::ppr2_deletion_not_allowed)) {
        r.result = asn1::delete_profile_result::disallowed_by_policy;
        return asn1::encode(r);
    }
    ctx.add_profile_notification(*p, asn1::notification_delete);
    const auto iccid = p->iccid;
    std::erase_if(ctx.state.profiles, [&](const installed_profile& x) { return x.iccid == iccid; });
    ctx.save();
    return asn1::encode(r);
}

} // namespace esimguard::euicc::detail
