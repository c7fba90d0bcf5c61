// ES10c.EnableProfile (SGP.22 §5.7.16): enables a disabled profile and
// disables the one that was enabled, each with the notifications its
// notificationConfigurationInfo asks for (SGP.22 §3.2.1).

#include "context.hpp"

namespace esimguard::euicc::detail {

bytes enable_profile(context& ctx, byte_view request) {
    asn1::enable_profile_response r;
    auto req = asn1::decode_enable_profile_request(request);
    if (!req) {
        r.result = asn1::enable_profile_result::undefined_error;
        return asn1::encode(r);
    }
    auto* target = ctx.find_profile(req->id);
    if (!target) {
        r.result = asn1::enable_profile_result::iccid_or_aid_not_found;
        return asn1::encode(r);
    }
    if (target->enabled) {
        r.result = asn1::enable_profile_result::profile_not_in_disabled_state;
        return asn1::encode(r);
    }
    for (auto& p : ctx.state.profiles) {
        if (p.enabled) {
            // PPR1 forbids disabling the current one, and so enabling another.
            auto md = stored_metadata(p);
            if (md && md->profile_policy_rules &&
                md->profile_policy_rules->test(asn1::ppr1_disabling_not_allowed)) {
                r.result = asn1::enable_profile_result::disallowed_by_policy;
                return asn1::encode(r);
            }
        }
    }
    for (auto& p : ctx.state.profiles) {
        if (p.enabled) {
            p.enabled = false;
            ctx.add_profile_notification(p, asn1::notification_disable);
        }
    }
    target->enabled = true;
    ctx.add_profile_notification(*target, asn1::notification_enable);
    ctx.save();
    return asn1::encode(r);
}

} // namespace esimguard::euicc::detail
