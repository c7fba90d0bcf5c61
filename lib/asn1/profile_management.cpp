// ES10c local profile management messages (SGP.22 §5.7.15-§5.7.22), after
// RSPDefinitions. Untagged SEQUENCEs take automatic tags: a result INTEGER
// alone in a response is [0] (80); EnableProfile's CHOICE is [0] (A0,
// explicit because it is a CHOICE) and its refreshFlag [1] (81).

#include "esimguard/asn1/profile_management.hpp"

#include "message_parts2.hpp"

namespace esimguard::asn1 {

using codec2::fail;

namespace {

constexpr std::size_t aid_max = 16;
constexpr std::size_t address_max = 255;
constexpr std::uint32_t tag_profile_info = 0xE3;
constexpr std::uint32_t tag_tag_list = 0x5C;

result<profile_identifier> profile_identifier_of(const tlv& t) {
    if (t.tag == codec2::tag_aid) {
        ESIMGUARD_M2_TRY(aid, codec2::octets(t, 1, aid_max, "isdpAid"));
        return profile_identifier{isdp_aid{std::move(aid)}};
    }
    if (t.tag == codec2::tag_iccid) {
        ESIMGUARD_M2_TRY(ic, decode_iccid(t));
        return profile_identifier{ic};
    }
    return fail(errc::unexpected_tag, t, "profileIdentifier");
}

void put_identifier(writer& w, const profile_identifier& id) {
    if (const auto* aid = std::get_if<isdp_aid>(&id)) {
        w.add(codec2::tag_aid, aid->value);
    } else {
        w.add(codec2::tag_iccid, std::get<iccid_value>(id).der_value());
    }
}

result<std::optional<std::string>> optional_utf8(reader& r, std::uint32_t tag, std::size_t max,
                                                 std::string_view field) {
    ESIMGUARD_M2_TRY(t, r.next_if(tag));
    if (t.tag == 0) {
        return std::optional<std::string>{};
    }
    ESIMGUARD_M2_TRY(s, codec2::utf8(t, max, field));
    return std::optional<std::string>{std::move(s)};
}

result<profile_info> profile_info_body(reader r) {
    profile_info p;
    ESIMGUARD_M2_TRY(ic, r.next_if(codec2::tag_iccid));
    if (ic.tag != 0) {
        ESIMGUARD_M2_TRY(ic_v, decode_iccid(ic));
        p.iccid = ic_v;
    }
    ESIMGUARD_M2_TRY(aid, r.next_if(codec2::tag_aid));
    if (aid.tag != 0) {
        ESIMGUARD_M2_TRY(aid_v, codec2::octets(aid, 1, aid_max, "isdpAid"));
        p.aid = isdp_aid{std::move(aid_v)};
    }
    ESIMGUARD_M2_TRY(st, r.next_if(0x9F70));
    if (st.tag != 0) {
        ESIMGUARD_M2_TRY(st_v, codec2::uint_max(st, 1, "profileState"));
        p.state = static_cast<profile_state>(st_v);
    }
    ESIMGUARD_M2_TRY(nick, optional_utf8(r, 0x90, profile_nickname_max, "profileNickname"));
    p.profile_nickname = std::move(nick);
    ESIMGUARD_M2_TRY(spn, optional_utf8(r, 0x91, service_provider_name_max, "serviceProviderName"));
    p.service_provider_name = std::move(spn);
    ESIMGUARD_M2_TRY(pn, optional_utf8(r, 0x92, profile_name_max, "profileName"));
    p.profile_name = std::move(pn);
    ESIMGUARD_M2_TRY(it, r.next_if(0x93));
    if (it.tag != 0) {
        ESIMGUARD_M2_TRY(it_v, detail2::icon_type_of(it));
        p.icon_kind = it_v;
    }
    ESIMGUARD_M2_TRY(icon, r.next_if(0x94));
    if (icon.tag != 0) {
        ESIMGUARD_M2_TRY(icon_v, codec2::octets(icon, 0, icon_max, "icon"));
        p.icon = std::move(icon_v);
    }
    ESIMGUARD_M2_TRY(pc, r.next_if(0x95));
    if (pc.tag != 0) {
        ESIMGUARD_M2_TRY(pc_v, detail2::profile_class_of(pc));
        p.klass = pc_v;
    }
    ESIMGUARD_M2_TRY(nci, r.next_if(0xB6));
    if (nci.tag != 0) {
        ESIMGUARD_M2_TRY(nci_v, detail2::notification_configuration_list_of(r, nci));
        p.notification_configuration_info = std::move(nci_v);
    }
    ESIMGUARD_M2_TRY(owner, r.next_if(0xB7));
    if (owner.tag != 0) {
        ESIMGUARD_M2_TRY(owner_v, detail2::operator_id_of(r, owner));
        p.profile_owner = std::move(owner_v);
    }
    ESIMGUARD_M2_TRY(dp, r.next_if(0xB8));
    if (dp.tag != 0) {
        ESIMGUARD_M2_TRY(dp_v, detail2::dp_proprietary_data_of(r, dp));
        p.dp_proprietary = std::move(dp_v);
    }
    ESIMGUARD_M2_TRY(ppr, r.next_if(0x99));
    if (ppr.tag != 0) {
        ESIMGUARD_M2_TRY(ppr_v, codec2::bits(ppr, "profilePolicyRules"));
        p.profile_policy_rules = std::move(ppr_v);
    }
    ESIMGUARD_M2_TRY(
        ext,
        codec2::extensions(r, {0x9F70, 0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0xB6, 0xB7, 0xB8, 0x99},
                           "profileInfo"));
    p.extensions = std::move(ext);
    return p;
}

void put_profile_info(writer& w, const profile_info& p) {
    w.begin(tag_profile_info);
    if (p.iccid) {
        w.add(codec2::tag_iccid, p.iccid->der_value());
    }
    if (p.aid) {
        w.add(codec2::tag_aid, p.aid->value);
    }
    if (p.state) {
        w.add_uint(0x9F70, static_cast<std::uint64_t>(*p.state));
    }
    if (p.profile_nickname) {
        w.add(0x90, as_bytes(*p.profile_nickname));
    }
    if (p.service_provider_name) {
        w.add(0x91, as_bytes(*p.service_provider_name));
    }
    if (p.profile_name) {
        w.add(0x92, as_bytes(*p.profile_name));
    }
    if (p.icon_kind) {
        w.add_uint(0x93, static_cast<std::uint64_t>(*p.icon_kind));
    }
    if (p.icon) {
        w.add(0x94, *p.icon);
    }
    if (p.klass) {
        w.add_uint(0x95, static_cast<std::uint64_t>(*p.klass));
    }
    if (p.notification_configuration_info) {
        detail2::put(w, *p.notification_configuration_info);
    }
    if (p.profile_owner) {
        detail2::put(w, 0xB7, *p.profile_owner);
    }
    if (p.dp_proprietary) {
        detail2::put(w, *p.dp_proprietary);
    }
    if (p.profile_policy_rules) {
        codec2::put_bits(w, 0x99, *p.profile_policy_rules);
    }
    codec2::put_extensions(w, p.extensions);
    w.end();
}

// A response that is a SEQUENCE of one result code [0] (80).
template <typename T, typename Code>
result<T> decode_code_response(byte_view der, std::uint32_t tag, std::string_view field) {
    ESIMGUARD_M2_TRY(o, codec2::open_top(der, tag, field));
    T m;
    ESIMGUARD_M2_TRY(code, o.r.expect(0x80, field));
    ESIMGUARD_M2_TRY(code_v, codec2::uint_max(code, 0xff, field));
    m.result = static_cast<Code>(code_v);
    ESIMGUARD_M2_TRY(ext, codec2::extensions(o.r, {0x80}, field));
    m.extensions = std::move(ext);
    return m;
}

template <typename T>
bytes encode_code_response(const T& m, std::uint32_t tag) {
    writer w;
    w.begin(tag);
    w.add_uint(0x80, static_cast<std::uint64_t>(m.result));
    codec2::put_extensions(w, m.extensions);
    w.end();
    return std::move(w).finish();
}

// Enable and Disable requests share { profileIdentifier [0], refreshFlag [1] }.
template <typename T>
result<T> decode_switch_request(byte_view der, std::uint32_t tag, std::string_view field) {
    ESIMGUARD_M2_TRY(o, codec2::open_top(der, tag, field));
    T m;
    ESIMGUARD_M2_TRY(idt, o.r.expect(0xA0, "profileIdentifier"));
    ESIMGUARD_M2_TRY(ir, codec2::enter(o.r, idt, "profileIdentifier"));
    ESIMGUARD_M2_TRY(choice, ir.next());
    ESIMGUARD_M2_CHECK(ir.finish());
    ESIMGUARD_M2_TRY(id, profile_identifier_of(choice));
    m.id = std::move(id);
    ESIMGUARD_M2_TRY(flag, o.r.expect(0x81, "refreshFlag"));
    ESIMGUARD_M2_TRY(flag_v, codec2::boolean(flag, "refreshFlag"));
    m.refresh_flag = flag_v;
    ESIMGUARD_M2_TRY(ext, codec2::extensions(o.r, {0xA0, 0x81}, field));
    m.extensions = std::move(ext);
    return m;
}

template <typename T>
bytes encode_switch_request(const T& m, std::uint32_t tag) {
    writer w;
    w.begin(tag);
    w.begin(0xA0);
    put_identifier(w, m.id);
    w.end();
    w.add_bool(0x81, m.refresh_flag);
    codec2::put_extensions(w, m.extensions);
    w.end();
    return std::move(w).finish();
}

// A request with no content of its own (BF3C, BF43).
template <typename T>
result<T> decode_empty(byte_view der, std::uint32_t tag, std::string_view field) {
    ESIMGUARD_M2_TRY(o, codec2::open_top(der, tag, field));
    T m;
    ESIMGUARD_M2_TRY(ext, codec2::extensions(o.r, {}, field));
    m.extensions = std::move(ext);
    return m;
}

template <typename T>
bytes encode_empty(const T& m, std::uint32_t tag) {
    writer w;
    w.begin(tag);
    codec2::put_extensions(w, m.extensions);
    w.end();
    return std::move(w).finish();
}

result<operator_id> rat_operator(reader& r) {
    ESIMGUARD_M2_TRY(t, r.expect(codec2::tag_sequence, "allowedOperators"));
    return detail2::operator_id_of(r, t);
}

result<profile_policy_authorisation_rule> rat_rule(reader& parent) {
    ESIMGUARD_M2_TRY(t, parent.expect(codec2::tag_sequence, "profilePolicyAuthorisationRule"));
    ESIMGUARD_M2_TRY(r, codec2::enter(parent, t, "profilePolicyAuthorisationRule"));
    profile_policy_authorisation_rule rule;
    ESIMGUARD_M2_TRY(ids, r.expect(0x80, "pprIds"));
    ESIMGUARD_M2_TRY(ids_v, codec2::bits(ids, "pprIds"));
    rule.ppr_ids = std::move(ids_v);
    ESIMGUARD_M2_TRY(ops, r.expect(0xA1, "allowedOperators"));
    ESIMGUARD_M2_TRY(ops_r, codec2::enter(r, ops, "allowedOperators"));
    while (!ops_r.at_end()) {
        ESIMGUARD_M2_TRY(op, rat_operator(ops_r));
        rule.allowed_operators.push_back(std::move(op));
    }
    ESIMGUARD_M2_TRY(flags, r.expect(0x82, "pprFlags"));
    ESIMGUARD_M2_TRY(flags_v, codec2::bits(flags, "pprFlags"));
    rule.ppr_flags = std::move(flags_v);
    ESIMGUARD_M2_TRY(ext,
                     codec2::extensions(r, {0x80, 0xA1, 0x82}, "profilePolicyAuthorisationRule"));
    rule.extensions = std::move(ext);
    return rule;
}

} // namespace

result<profile_info> decode_profile_info(byte_view der) {
    ESIMGUARD_M2_TRY(o, codec2::open_top(der, tag_profile_info, "profileInfo"));
    return profile_info_body(o.r);
}

bytes encode(const profile_info& m) {
    writer w;
    put_profile_info(w, m);
    return std::move(w).finish();
}

result<profile_info_list_request> decode_profile_info_list_request(byte_view der) {
    ESIMGUARD_M2_TRY(o, codec2::open_top(der, 0xBF2D, "profileInfoListRequest"));
    profile_info_list_request m;
    ESIMGUARD_M2_TRY(sc, o.r.next_if(0xA0));
    if (sc.tag != 0) {
        ESIMGUARD_M2_TRY(sr, codec2::enter(o.r, sc, "searchCriteria"));
        ESIMGUARD_M2_TRY(choice, sr.next());
        ESIMGUARD_M2_CHECK(sr.finish());
        if (choice.tag == 0x95) {
            ESIMGUARD_M2_TRY(pc, detail2::profile_class_of(choice));
            m.search_criteria = by_profile_class{pc};
        } else {
            ESIMGUARD_M2_TRY(id, profile_identifier_of(choice));
            if (const auto* aid = std::get_if<isdp_aid>(&id)) {
                m.search_criteria = *aid;
            } else {
                m.search_criteria = std::get<iccid_value>(id);
            }
        }
    }
    ESIMGUARD_M2_TRY(tl, o.r.next_if(tag_tag_list));
    if (tl.tag != 0) {
        ESIMGUARD_M2_TRY(tl_v, codec2::octets(tl, 0, 255, "tagList"));
        m.tag_list = std::move(tl_v);
    }
    ESIMGUARD_M2_TRY(ext, codec2::extensions(o.r, {0xA0}, "profileInfoListRequest"));
    m.extensions = std::move(ext);
    return m;
}

bytes encode(const profile_info_list_request& m) {
    writer w;
    w.begin(0xBF2D);
    if (m.search_criteria) {
        w.begin(0xA0);
        if (const auto* aid = std::get_if<isdp_aid>(&*m.search_criteria)) {
            w.add(codec2::tag_aid, aid->value);
        } else if (const auto* ic = std::get_if<iccid_value>(&*m.search_criteria)) {
            w.add(codec2::tag_iccid, ic->der_value());
        } else {
            w.add_uint(0x95, static_cast<std::uint64_t>(
                                 std::get<by_profile_class>(*m.search_criteria).klass));
        }
        w.end();
    }
    if (m.tag_list) {
        w.add(tag_tag_list, *m.tag_list);
    }
    codec2::put_extensions(w, m.extensions);
    w.end();
    return std::move(w).finish();
}

result<profile_info_list_response> decode_profile_info_list_response(byte_view der) {
    ESIMGUARD_M2_TRY(o, codec2::open_top(der, 0xBF2D, "profileInfoListResponse"));
    ESIMGUARD_M2_TRY(choice, o.r.next());
    ESIMGUARD_M2_CHECK(o.r.finish());
    profile_info_list_response m;
    if (choice.tag == 0xA0) {
        ESIMGUARD_M2_TRY(lr, codec2::enter(o.r, choice, "profileInfoListOk"));
        std::vector<profile_info> list;
        while (!lr.at_end()) {
            ESIMGUARD_M2_TRY(item, lr.expect(tag_profile_info, "profileInfo"));
            ESIMGUARD_M2_TRY(ir, codec2::enter(lr, item, "profileInfo"));
            ESIMGUARD_M2_TRY(p, profile_info_body(ir));
            list.push_back(std::move(p));
        }
        m.result = std::move(list);
    } else if (choice.tag == 0x81) {
        ESIMGUARD_M2_TRY(code, codec2::uint_max(choice, 0xff, "profileInfoListError"));
        m.result = static_cast<profile_info_list_error>(code);
    } else {
        return fail(errc::unexpected_tag, choice, "profileInfoListResponse");
    }
    return m;
}

bytes encode(const profile_info_list_response& m) {
    writer w;
    w.begin(0xBF2D);
    if (const auto* list = std::get_if<std::vector<profile_info>>(&m.result)) {
        w.begin(0xA0);
        for (const auto& p : *list) {
            put_profile_info(w, p);
        }
        w.end();
    } else {
        w.add_uint(0x81, static_cast<std::uint64_t>(std::get<profile_info_list_error>(m.result)));
    }
    w.end();
    return std::move(w).finish();
}

result<enable_profile_request> decode_enable_profile_request(byte_view der) {
    return decode_switch_request<enable_profile_request>(der, 0xBF31, "enableProfileRequest");
}
bytes encode(const enable_profile_request& m) {
    return encode_switch_request(m, 0xBF31);
}
result<enable_profile_response> decode_enable_profile_response(byte_view der) {
    return decode_code_response<enable_profile_response, enable_profile_result>(der, 0xBF31,
                                                                                "enableResult");
}
bytes encode(const enable_profile_response& m) {
    return encode_code_response(m, 0xBF31);
}

result<disable_profile_request> decode_disable_profile_request(byte_view der) {
    return decode_switch_request<disable_profile_request>(der, 0xBF32, "disableProfileRequest");
}
bytes encode(const disable_profile_request& m) {
    return encode_switch_request(m, 0xBF32);
}
result<disable_profile_response> decode_disable_profile_response(byte_view der) {
    return decode_code_response<disable_profile_response, disable_profile_result>(der, 0xBF32,
                                                                                  "disableResult");
}
bytes encode(const disable_profile_response& m) {
    return encode_code_response(m, 0xBF32);
}

result<delete_profile_request> decode_delete_profile_request(byte_view der) {
    ESIMGUARD_M2_TRY(o, codec2::open_top(der, 0xBF33, "deleteProfileRequest"));
    ESIMGUARD_M2_TRY(choice, o.r.next());
    ESIMGUARD_M2_CHECK(o.r.finish());
    ESIMGUARD_M2_TRY(id, profile_identifier_of(choice));
    return delete_profile_request{std::move(id)};
}
bytes encode(const delete_profile_request& m) {
    writer w;
    w.begin(0xBF33);
    put_identifier(w, m.id);
    w.end();
    return std::move(w).finish();
}
result<delete_profile_response> decode_delete_profile_response(byte_view der) {
    return decode_code_response<delete_profile_response, delete_profile_result>(der, 0xBF33,
                                                                                "deleteResult");
}
bytes encode(const delete_profile_response& m) {
    return encode_code_response(m, 0xBF33);
}

result<euicc_memory_reset_request> decode_euicc_memory_reset_request(byte_view der) {
    ESIMGUARD_M2_TRY(o, codec2::open_top(der, 0xBF34, "euiccMemoryResetRequest"));
    euicc_memory_reset_request m;
    ESIMGUARD_M2_TRY(opt, o.r.expect(0x82, "resetOptions"));
    ESIMGUARD_M2_TRY(opt_v, codec2::bits(opt, "resetOptions"));
    m.reset_options = std::move(opt_v);
    ESIMGUARD_M2_TRY(ext, codec2::extensions(o.r, {0x82}, "euiccMemoryResetRequest"));
    m.extensions = std::move(ext);
    return m;
}
bytes encode(const euicc_memory_reset_request& m) {
    writer w;
    w.begin(0xBF34);
    codec2::put_bits(w, 0x82, m.reset_options);
    codec2::put_extensions(w, m.extensions);
    w.end();
    return std::move(w).finish();
}
result<euicc_memory_reset_response> decode_euicc_memory_reset_response(byte_view der) {
    return decode_code_response<euicc_memory_reset_response, euicc_memory_reset_result>(
        der, 0xBF34, "resetResult");
}
bytes encode(const euicc_memory_reset_response& m) {
    return encode_code_response(m, 0xBF34);
}

result<get_eid_request> decode_get_eid_request(byte_view der) {
    ESIMGUARD_M2_TRY(o, codec2::open_top(der, 0xBF3E, "getEuiccDataRequest"));
    get_eid_request m;
    ESIMGUARD_M2_TRY(tl, o.r.expect(tag_tag_list, "tagList"));
    ESIMGUARD_M2_TRY(tl_v, codec2::fixed<1>(tl, "tagList"));
    m.tag_list = tl_v[0];
    ESIMGUARD_M2_TRY(ext, codec2::extensions(o.r, {}, "getEuiccDataRequest"));
    m.extensions = std::move(ext);
    return m;
}
bytes encode(const get_eid_request& m) {
    writer w;
    w.begin(0xBF3E);
    w.add(tag_tag_list, byte_view(&m.tag_list, 1));
    codec2::put_extensions(w, m.extensions);
    w.end();
    return std::move(w).finish();
}
result<get_eid_response> decode_get_eid_response(byte_view der) {
    ESIMGUARD_M2_TRY(o, codec2::open_top(der, 0xBF3E, "getEuiccDataResponse"));
    get_eid_response m;
    ESIMGUARD_M2_TRY(e, o.r.expect(0x5A, "eidValue"));
    ESIMGUARD_M2_CHECK(codec2::primitive(e, "eidValue"));
    auto eid = eid_value::from_bytes(e.value);
    if (!eid) {
        return fail(errc::invalid_value, e, "eidValue");
    }
    m.eid = *eid;
    ESIMGUARD_M2_TRY(ext, codec2::extensions(o.r, {}, "getEuiccDataResponse"));
    m.extensions = std::move(ext);
    return m;
}
bytes encode(const get_eid_response& m) {
    writer w;
    w.begin(0xBF3E);
    w.add(0x5A, m.eid.value());
    codec2::put_extensions(w, m.extensions);
    w.end();
    return std::move(w).finish();
}

result<set_nickname_request> decode_set_nickname_request(byte_view der) {
    ESIMGUARD_M2_TRY(o, codec2::open_top(der, 0xBF29, "setNicknameRequest"));
    set_nickname_request m;
    ESIMGUARD_M2_TRY(ic, o.r.expect(codec2::tag_iccid, "iccid"));
    ESIMGUARD_M2_TRY(ic_v, decode_iccid(ic));
    m.iccid = ic_v;
    ESIMGUARD_M2_TRY(nick, o.r.expect(0x90, "profileNickname"));
    ESIMGUARD_M2_TRY(nick_v, codec2::utf8(nick, profile_nickname_max, "profileNickname"));
    m.profile_nickname = std::move(nick_v);
    ESIMGUARD_M2_TRY(ext, codec2::extensions(o.r, {0x90}, "setNicknameRequest"));
    m.extensions = std::move(ext);
    return m;
}
bytes encode(const set_nickname_request& m) {
    writer w;
    w.begin(0xBF29);
    w.add(codec2::tag_iccid, m.iccid.der_value());
    w.add(0x90, as_bytes(m.profile_nickname));
    codec2::put_extensions(w, m.extensions);
    w.end();
    return std::move(w).finish();
}
result<set_nickname_response> decode_set_nickname_response(byte_view der) {
    return decode_code_response<set_nickname_response, set_nickname_result>(der, 0xBF29,
                                                                            "setNicknameResult");
}
bytes encode(const set_nickname_response& m) {
    return encode_code_response(m, 0xBF29);
}

result<euicc_configured_addresses_request>
decode_euicc_configured_addresses_request(byte_view der) {
    return decode_empty<euicc_configured_addresses_request>(der, 0xBF3C,
                                                            "euiccConfiguredAddressesRequest");
}
bytes encode(const euicc_configured_addresses_request& m) {
    return encode_empty(m, 0xBF3C);
}
result<euicc_configured_addresses_response>
decode_euicc_configured_addresses_response(byte_view der) {
    ESIMGUARD_M2_TRY(o, codec2::open_top(der, 0xBF3C, "euiccConfiguredAddressesResponse"));
    euicc_configured_addresses_response m;
    ESIMGUARD_M2_TRY(dp, optional_utf8(o.r, 0x80, address_max, "defaultDpAddress"));
    m.default_dp_address = std::move(dp);
    ESIMGUARD_M2_TRY(ds, o.r.expect(0x81, "rootDsAddress"));
    ESIMGUARD_M2_TRY(ds_v, codec2::utf8(ds, address_max, "rootDsAddress"));
    m.root_ds_address = std::move(ds_v);
    ESIMGUARD_M2_TRY(ext,
                     codec2::extensions(o.r, {0x80, 0x81}, "euiccConfiguredAddressesResponse"));
    m.extensions = std::move(ext);
    return m;
}
bytes encode(const euicc_configured_addresses_response& m) {
    writer w;
    w.begin(0xBF3C);
    if (m.default_dp_address) {
        w.add(0x80, as_bytes(*m.default_dp_address));
    }
    w.add(0x81, as_bytes(m.root_ds_address));
    codec2::put_extensions(w, m.extensions);
    w.end();
    return std::move(w).finish();
}

result<set_default_dp_address_request> decode_set_default_dp_address_request(byte_view der) {
    ESIMGUARD_M2_TRY(o, codec2::open_top(der, 0xBF3F, "setDefaultDpAddressRequest"));
    set_default_dp_address_request m;
    ESIMGUARD_M2_TRY(dp, o.r.expect(0x80, "defaultDpAddress"));
    ESIMGUARD_M2_TRY(dp_v, codec2::utf8(dp, address_max, "defaultDpAddress"));
    m.default_dp_address = std::move(dp_v);
    ESIMGUARD_M2_TRY(ext, codec2::extensions(o.r, {0x80}, "setDefaultDpAddressRequest"));
    m.extensions = std::move(ext);
    return m;
}
bytes encode(const set_default_dp_address_request& m) {
    writer w;
    w.begin(0xBF3F);
    w.add(0x80, as_bytes(m.default_dp_address));
    codec2::put_extensions(w, m.extensions);
    w.end();
    return std::move(w).finish();
}
result<set_default_dp_address_response> decode_set_default_dp_address_response(byte_view der) {
    return decode_code_response<set_default_dp_address_response, set_default_dp_address_result>(
        der, 0xBF3F, "setDefaultDpAddressResult");
}
bytes encode(const set_default_dp_address_response& m) {
    return encode_code_response(m, 0xBF3F);
}

result<get_rat_request> decode_get_rat_request(byte_view der) {
    return decode_empty<get_rat_request>(der, 0xBF43, "getRatRequest");
}
bytes encode(const get_rat_request& m) {
    return encode_empty(m, 0xBF43);
}
result<get_rat_response> decode_get_rat_response(byte_view der) {
    ESIMGUARD_M2_TRY(o, codec2::open_top(der, 0xBF43, "getRatResponse"));
    get_rat_response m;
    ESIMGUARD_M2_TRY(rat, o.r.expect(0xA0, "rat"));
    ESIMGUARD_M2_TRY(rr, codec2::enter(o.r, rat, "rat"));
    while (!rr.at_end()) {
        ESIMGUARD_M2_TRY(rule, rat_rule(rr));
        m.rat.push_back(std::move(rule));
    }
    ESIMGUARD_M2_TRY(ext, codec2::extensions(o.r, {0xA0}, "getRatResponse"));
    m.extensions = std::move(ext);
    return m;
}
bytes encode(const get_rat_response& m) {
    writer w;
    w.begin(0xBF43);
    w.begin(0xA0);
    for (const auto& rule : m.rat) {
        w.begin(codec2::tag_sequence);
        codec2::put_bits(w, 0x80, rule.ppr_ids);
        w.begin(0xA1);
        for (const auto& op : rule.allowed_operators) {
            detail2::put(w, codec2::tag_sequence, op);
        }
        w.end();
        codec2::put_bits(w, 0x82, rule.ppr_flags);
        codec2::put_extensions(w, rule.extensions);
        w.end();
    }
    w.end();
    codec2::put_extensions(w, m.extensions);
    w.end();
    return std::move(w).finish();
}

} // namespace esimguard::asn1
