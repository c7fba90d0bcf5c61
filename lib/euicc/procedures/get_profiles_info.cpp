// ES10c.GetProfilesInfo (SGP.22 §5.7.15): every installed profile, or those
// matching an ISD-P AID, an ICCID or a profile class. tagList is not applied:
// the full ProfileInfo is always returned, which LPAs accept.

#include "context.hpp"

namespace esimguard::euicc::detail {

bytes get_profiles_info(context& ctx, byte_view request) {
    asn1::profile_info_list_response r;
    auto req = asn1::decode_profile_info_list_request(request);
    if (!req) {
        r.result = asn1::profile_info_list_error::incorrect_input_values;
        return asn1::encode(r);
    }
    std::vector<asn1::profile_info> list;
    for (const auto& p : ctx.state.profiles) {
        auto md = stored_metadata(p);
        if (!md) {
            continue;
        }
        const auto klass = md->klass.value_or(asn1::profile_class::operational);
        if (req->search_criteria) {
            const auto& c = *req->search_criteria;
            if (const auto* aid = std::get_if<asn1::isdp_aid>(&c);
                aid && aid->value != p.isdp_aid) {
                continue;
            }
            if (const auto* ic = std::get_if<asn1::iccid_value>(&c);
                ic && ic->to_string() != p.iccid) {
                continue;
            }
            if (const auto* pc = std::get_if<asn1::by_profile_class>(&c);
                pc && pc->klass != klass) {
                continue;
            }
        }
        asn1::profile_info i;
        i.iccid = md->iccid;
        i.aid = asn1::isdp_aid{p.isdp_aid};
        i.state = p.enabled ? asn1::profile_state::enabled : asn1::profile_state::disabled;
        if (!p.nickname.empty()) {
            i.profile_nickname = p.nickname;
        }
        i.service_provider_name = md->service_provider_name;
        i.profile_name = md->profile_name;
        i.icon_kind = md->icon_kind;
        i.icon = md->icon;
        i.klass = klass;
        i.notification_configuration_info = md->notification_configuration_info;
        i.profile_owner = md->profile_owner;
        if (!p.dp_oid.empty()) {
            i.dp_proprietary = asn1::dp_proprietary_data{p.dp_oid, {}};
        }
        i.profile_policy_rules = md->profile_policy_rules;
        list.push_back(std::move(i));
    }
    r.result = std::move(list);
    return asn1::encode(r);
}

} // namespace esimguard::euicc::detail
