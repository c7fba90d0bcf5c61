// ES10b GetEUICCChallenge (SGP.22 §5.7.7) and GetEUICCInfo (SGP.22 §5.7.8):
// EUICCInfo1, EUICCInfo2 and the eUICC challenge, DER both ways.
#include "esimguard/asn1/euicc_info.hpp"

#include "field_codec.hpp"

namespace esimguard::asn1 {

namespace {

using namespace detail;

constexpr std::uint32_t tag_svn = 0x82;
constexpr std::uint32_t tag_ci_verification = 0xA9;
constexpr std::uint32_t tag_ci_signing = 0xAA;

constexpr std::uint32_t tag_profile_version = 0x81;
constexpr std::uint32_t tag_firmware_ver = 0x83;
constexpr std::uint32_t tag_ext_card_resource = 0x84;
constexpr std::uint32_t tag_uicc_capability = 0x85;
constexpr std::uint32_t tag_ts102241_version = 0x86;
constexpr std::uint32_t tag_gp_version = 0x87;
constexpr std::uint32_t tag_rsp_capability = 0x88;
constexpr std::uint32_t tag_euicc_category = 0x8B;
constexpr std::uint32_t tag_forbidden_ppr = 0x99;
constexpr std::uint32_t tag_certification_data = 0xAC;

constexpr std::uint32_t tag_challenge = 0x80;

constexpr std::size_t sas_accreditation_number_max = 64;
// UTF8String without a SIZE bound in the spec; a bound still keeps hostile
// input from making us hold large strings.
constexpr std::size_t dloa_string_max = 1024;

void put_bits(writer& w, std::uint32_t tag, const bit_string& b) {
    bytes content;
    content.reserve(b.data.size() + 1);
    content.push_back(b.data.empty() ? 0 : b.unused_bits);
    content.insert(content.end(), b.data.begin(), b.data.end());
    w.add(tag, content);
}

void put_key_ids(writer& w, std::uint32_t tag, const std::vector<key_identifier>& ids) {
    w.begin(tag);
    for (const auto& id : ids) {
        w.add(tag_octet_string, id);
    }
    w.end();
}

result<certification_data_object> decode_certification_data(const reader& parent, const tlv& t) {
    auto r = parent.enter(t);
    if (!r) {
        return std::unexpected(r.error());
    }
    certification_data_object out;
    tlv f;
    ESIMGUARD_ASN1_ASSIGN(f, r->expect(0x80, "platformLabel"));
    ESIMGUARD_ASN1_ASSIGN(out.platform_label, utf8(f, dloa_string_max, "platformLabel"));
    ESIMGUARD_ASN1_ASSIGN(f, r->expect(0x81, "discoveryBaseURL"));
    ESIMGUARD_ASN1_ASSIGN(out.discovery_base_url, utf8(f, dloa_string_max, "discoveryBaseURL"));
    ESIMGUARD_ASN1_ASSIGN(out.extensions, extensions(*r, {0x80, 0x81}, "certificationDataObject"));
    return out;
}

} // namespace

namespace detail {

result<euicc_info2> decode_euicc_info2(const reader& parent, const tlv& t) {
    if (t.tag != tag_euicc_info2) {
        return fail(errc::unexpected_tag, t, "euiccInfo2");
    }
    auto body = parent.enter(t);
    if (!body) {
        return std::unexpected(body.error());
    }
    reader& r = *body;
    euicc_info2 out;
    tlv f;
    ESIMGUARD_ASN1_ASSIGN(f, r.expect(tag_profile_version, "profileVersion"));
    ESIMGUARD_ASN1_ASSIGN(out.profile_version, fixed_octets<3>(f, "profileVersion"));
    ESIMGUARD_ASN1_ASSIGN(f, r.expect(tag_svn, "svn"));
    ESIMGUARD_ASN1_ASSIGN(out.svn, fixed_octets<3>(f, "svn"));
    ESIMGUARD_ASN1_ASSIGN(f, r.expect(tag_firmware_ver, "euiccFirmwareVer"));
    ESIMGUARD_ASN1_ASSIGN(out.euicc_firmware_ver, fixed_octets<3>(f, "euiccFirmwareVer"));
    ESIMGUARD_ASN1_ASSIGN(f, r.expect(tag_ext_card_resource, "extCardResource"));
    out.ext_card_resource = to_bytes(f.value);
    ESIMGUARD_ASN1_ASSIGN(f, r.expect(tag_uicc_capability, "uiccCapability"));
    ESIMGUARD_ASN1_ASSIGN(out.uicc_capability, bits(f, "uiccCapability"));

    ESIMGUARD_ASN1_ASSIGN(f, r.next_if(tag_ts102241_version));
    if (f.tag != 0) {
        ESIMGUARD_ASN1_ASSIGN(out.ts102241_version, fixed_octets<3>(f, "ts102241Version"));
    }
    ESIMGUARD_ASN1_ASSIGN(f, r.next_if(tag_gp_version));
    if (f.tag != 0) {
        ESIMGUARD_ASN1_ASSIGN(out.globalplatform_version,
                              fixed_octets<3>(f, "globalplatformVersion"));
    }
    ESIMGUARD_ASN1_ASSIGN(f, r.expect(tag_rsp_capability, "rspCapability"));
    ESIMGUARD_ASN1_ASSIGN(out.rsp_capability, bits(f, "rspCapability"));
    ESIMGUARD_ASN1_ASSIGN(f, r.expect(tag_ci_verification, "euiccCiPKIdListForVerification"));
    ESIMGUARD_ASN1_ASSIGN(out.ci_pkid_list_for_verification,
                          key_id_list(r, f, "euiccCiPKIdListForVerification"));
    ESIMGUARD_ASN1_ASSIGN(f, r.expect(tag_ci_signing, "euiccCiPKIdListForSigning"));
    ESIMGUARD_ASN1_ASSIGN(out.ci_pkid_list_for_signing,
                          key_id_list(r, f, "euiccCiPKIdListForSigning"));

    ESIMGUARD_ASN1_ASSIGN(f, r.next_if(tag_euicc_category));
    if (f.tag != 0) {
        ESIMGUARD_ASN1_ASSIGN(out.euicc_category, small_uint(f, "euiccCategory"));
    }
    ESIMGUARD_ASN1_ASSIGN(f, r.next_if(tag_forbidden_ppr));
    if (f.tag != 0) {
        ESIMGUARD_ASN1_ASSIGN(out.forbidden_profile_policy_rules,
                              bits(f, "forbiddenProfilePolicyRules"));
    }
    ESIMGUARD_ASN1_ASSIGN(f, r.expect(tag_octet_string, "ppVersion"));
    ESIMGUARD_ASN1_ASSIGN(out.pp_version, fixed_octets<3>(f, "ppVersion"));
    ESIMGUARD_ASN1_ASSIGN(f, r.expect(tag_utf8_string, "sasAcreditationNumber"));
    ESIMGUARD_ASN1_ASSIGN(out.sas_accreditation_number,
                          utf8(f, sas_accreditation_number_max, "sasAcreditationNumber"));
    ESIMGUARD_ASN1_ASSIGN(f, r.next_if(tag_certification_data));
    if (f.tag != 0) {
        ESIMGUARD_ASN1_ASSIGN(out.certification_data, decode_certification_data(r, f));
    }
    ESIMGUARD_ASN1_ASSIGN(
        out.extensions,
        extensions(r,
                   {tag_profile_version, tag_svn, tag_firmware_ver, tag_ext_card_resource,
                    tag_uicc_capability, tag_ts102241_version, tag_gp_version, tag_rsp_capability,
                    tag_ci_verification, tag_ci_signing, tag_euicc_category, tag_forbidden_ppr,
                    tag_certification_data},
                   "euiccInfo2"));
    return out;
}

} // namespace detail

result<euicc_info1> decode_euicc_info1(byte_view data) {
    auto top = open_top_level(data, tag_euicc_info1, "euiccInfo1");
    if (!top) {
        return std::unexpected(top.error());
    }
    reader& r = top->body;
    euicc_info1 out;
    tlv f;
    ESIMGUARD_ASN1_ASSIGN(f, r.expect(tag_svn, "svn"));
    ESIMGUARD_ASN1_ASSIGN(out.svn, fixed_octets<3>(f, "svn"));
    ESIMGUARD_ASN1_ASSIGN(f, r.expect(tag_ci_verification, "euiccCiPKIdListForVerification"));
    ESIMGUARD_ASN1_ASSIGN(out.ci_pkid_list_for_verification,
                          key_id_list(r, f, "euiccCiPKIdListForVerification"));
    ESIMGUARD_ASN1_ASSIGN(f, r.expect(tag_ci_signing, "euiccCiPKIdListForSigning"));
    ESIMGUARD_ASN1_ASSIGN(out.ci_pkid_list_for_signing,
                          key_id_list(r, f, "euiccCiPKIdListForSigning"));
    ESIMGUARD_ASN1_ASSIGN(
        out.extensions,
        extensions(r, {tag_svn, tag_ci_verification, tag_ci_signing}, "euiccInfo1"));
    return out;
}

bytes encode(const euicc_info1& v) {
    writer w;
    w.begin(tag_euicc_info1);
    w.add(tag_svn, v.svn);
    put_key_ids(w, tag_ci_verification, v.ci_pkid_list_for_verification);
    put_key_ids(w, tag_ci_signing, v.ci_pkid_list_for_signing);
    put_extensions(w, v.extensions);
    w.end();
    return std::move(w).finish();
}

result<euicc_info2> decode_euicc_info2(byte_view data) {
    auto whole = decode_single(data);
    if (!whole) {
        return std::unexpected(whole.error());
    }
    return detail::decode_euicc_info2(reader(data), *whole);
}

bytes encode(const euicc_info2& v) {
    writer w;
    w.begin(tag_euicc_info2);
    w.add(tag_profile_version, v.profile_version);
    w.add(tag_svn, v.svn);
    w.add(tag_firmware_ver, v.euicc_firmware_ver);
    w.add(tag_ext_card_resource, v.ext_card_resource);
    put_bits(w, tag_uicc_capability, v.uicc_capability);
    if (v.ts102241_version) {
        w.add(tag_ts102241_version, *v.ts102241_version);
    }
    if (v.globalplatform_version) {
        w.add(tag_gp_version, *v.globalplatform_version);
    }
    put_bits(w, tag_rsp_capability, v.rsp_capability);
    put_key_ids(w, tag_ci_verification, v.ci_pkid_list_for_verification);
    put_key_ids(w, tag_ci_signing, v.ci_pkid_list_for_signing);
    if (v.euicc_category) {
        w.add_uint(tag_euicc_category, *v.euicc_category);
    }
    if (v.forbidden_profile_policy_rules) {
        put_bits(w, tag_forbidden_ppr, *v.forbidden_profile_policy_rules);
    }
    w.add(tag_octet_string, v.pp_version);
    w.add(tag_utf8_string, as_bytes(v.sas_accreditation_number));
    if (v.certification_data) {
        w.begin(tag_certification_data);
        w.add(0x80, as_bytes(v.certification_data->platform_label));
        w.add(0x81, as_bytes(v.certification_data->discovery_base_url));
        put_extensions(w, v.certification_data->extensions);
        w.end();
    }
    put_extensions(w, v.extensions);
    w.end();
    return std::move(w).finish();
}

result<get_euicc_challenge_response> decode_get_euicc_challenge_response(byte_view data) {
    auto top = open_top_level(data, tag_get_euicc_challenge, "getEuiccChallenge");
    if (!top) {
        return std::unexpected(top.error());
    }
    get_euicc_challenge_response out;
    tlv f;
    ESIMGUARD_ASN1_ASSIGN(f, top->body.expect(tag_challenge, "euiccChallenge"));
    ESIMGUARD_ASN1_ASSIGN(out.euicc_challenge, fixed_octets<16>(f, "euiccChallenge"));
    ESIMGUARD_ASN1_ASSIGN(out.extensions,
                          extensions(top->body, {tag_challenge}, "getEuiccChallenge"));
    return out;
}

bytes encode(const get_euicc_challenge_response& v) {
    writer w;
    w.begin(tag_get_euicc_challenge);
    w.add(tag_challenge, v.euicc_challenge);
    put_extensions(w, v.extensions);
    w.end();
    return std::move(w).finish();
}

namespace {

bytes empty_request(std::uint32_t tag) {
    writer w;
    w.begin(tag);
    w.end();
    return std::move(w).finish();
}

} // namespace

bytes encode_get_euicc_challenge_request() {
    return empty_request(tag_get_euicc_challenge);
}
bytes encode_get_euicc_info1_request() {
    return empty_request(tag_euicc_info1);
}
bytes encode_get_euicc_info2_request() {
    return empty_request(tag_euicc_info2);
}

result<void> decode_empty_request(byte_view data, std::uint32_t tag) {
    auto top = open_top_level(data, tag, "request");
    if (!top) {
        return std::unexpected(top.error());
    }
    ESIMGUARD_ASN1_CHECK(extensions(top->body, {}, "request"));
    return {};
}

} // namespace esimguard::asn1
