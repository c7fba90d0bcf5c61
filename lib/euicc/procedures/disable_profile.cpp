// ES10c.DisableProfile (SGP.22 §5.7.17), with the disable notification the
// profile's notificationConfigurationInfo asks for.

#include "context.hpp"

namespace esimguard::euicc::detail {

bytes disable_profile(context& ctx, byte_view request) {
    asn1::disable_profile_response r;
    auto req = asn1::decode_disable_profile_request(request);
    if (!req) {
        r.result = asn1::disable_profile_result::undefined_error;
        return asn1::encode(r);
    }
    auto* p = ctx.find_profile(req->id);
    if (!p) {
        r.result = asn1::disable_profile_result::iccid_or_aid_not_found;
        return asn1::encode(r);
    }
    if (!p->enabled) {
        r.result = asn1::disable_profile_result::profile_not_in_enabled_state;
        return asn1::encode(r);
    }
    auto md = stored_metadata(*p);
    if (md && md->profile_policy_rules &&
        md->profile_policy_rules->test(asn1::ppr1_disabling_not_allowed)) {
        r.result = asn1::disable_profile_result::disallowed_by_policy;
        return asn1::encode(r);
    }
    p->enabled = false;
    ctx.add_profile_notification(*p, asn1::notification_disable);
    ctx.save();
    return asn1::encode(r);
}

} // namespace esimguard::euicc::detail
