#pragma once
/// ES10c local profile management between the LPA and the eUICC's ISD-R
/// (SGP.22 §5.7.15 GetProfilesInfo, §5.7.16 EnableProfile, §5.7.17
/// DisableProfile, §5.7.18 DeleteProfile, §5.7.19 eUICCMemoryReset, §5.7.20
/// GetEID, §5.7.21 SetNickname, §5.7.11/§5.7.12 configured addresses,
/// §5.7.22 GetRAT). Result codes outside their named list are kept as
/// their number (0..255): later versions add codes.

#include "esimguard/asn1/iccid.hpp"
#include "esimguard/asn1/metadata.hpp"
#include "esimguard/asn1/rsp_types.hpp"
#include "esimguard/asn1/tlv.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace esimguard::asn1 {

/// ProfileState ::= INTEGER {disabled(0), enabled(1)}.
enum class profile_state : std::uint8_t { disabled = 0, enabled = 1 };

/// An ISD-P AID ([APPLICATION 15], tag 4F), 1..16 bytes.
struct isdp_aid {
    bytes value;
    bool operator==(const isdp_aid&) const = default;
};

/// profileIdentifier: CHOICE { isdpAid 4F, iccid 5A }.
using profile_identifier = std::variant<isdp_aid, iccid_value>;

/// ProfileInfo (E3): one profile as GetProfilesInfo reports it.
struct profile_info {
    std::optional<iccid_value> iccid;                 ///< 5A
    std::optional<isdp_aid> aid;                      ///< 4F
    std::optional<profile_state> state;               ///< 9F70
    std::optional<std::string> profile_nickname;      ///< 90, at most 64 characters
    std::optional<std::string> service_provider_name; ///< 91, at most 32 characters
    std::optional<std::string> profile_name;          ///< 92, at most 64 characters
    std::optional<icon_type> icon_kind;               ///< 93
    std::optional<bytes> icon;                        ///< 94, at most 1024 bytes
    std::optional<profile_class> klass;               ///< 95, operational when absent
    std::optional<std::vector<notification_configuration_information>>
        notification_configuration_info;               ///< B6
    std::optional<operator_id> profile_owner;          ///< B7
    std::optional<dp_proprietary_data> dp_proprietary; ///< B8
    std::optional<bit_string> profile_policy_rules;    ///< 99, ppr_bit
    extension_list extensions;
    bool operator==(const profile_info&) const = default;
};

/// searchCriteria alternative: by profile class (95).
struct by_profile_class {
    profile_class klass = profile_class::operational;
    bool operator==(const by_profile_class&) const = default;
};

/// ProfileInfoListRequest (BF2D) { searchCriteria [0] CHOICE { 4F | 5A | 95 }?, tagList 5C? }.
struct profile_info_list_request {
    std::optional<std::variant<isdp_aid, iccid_value, by_profile_class>> search_criteria;
    std::optional<bytes> tag_list; ///< tags of the ProfileInfo fields wanted
    extension_list extensions;
    bool operator==(const profile_info_list_request&) const = default;
};

/// ProfileInfoListError codes.
enum class profile_info_list_error : std::uint8_t {
    incorrect_input_values = 1,
    undefined_error = 127,
};

/// ProfileInfoListResponse (BF2D) CHOICE { profileInfoListOk [0] | error [1] }.
struct profile_info_list_response {
    std::variant<std::vector<profile_info>, profile_info_list_error> result;
    bool operator==(const profile_info_list_response&) const = default;
};

/// EnableProfileRequest (BF31) { profileIdentifier [0], refreshFlag [1] }.
struct enable_profile_request {
    profile_identifier id;
    bool refresh_flag = false;
    extension_list extensions;
    bool operator==(const enable_profile_request&) const = default;
};
/// enableResult codes.
enum class enable_profile_result : std::uint8_t {
    ok = 0,
    iccid_or_aid_not_found = 1,
    profile_not_in_disabled_state = 2,
    disallowed_by_policy = 3,
    wrong_profile_reenabling = 4,
    undefined_error = 127,
};
/// EnableProfileResponse (BF31) { enableResult [0] }.
struct enable_profile_response {
    enable_profile_result result = enable_profile_result::ok;
    extension_list extensions;
    bool operator==(const enable_profile_response&) const = default;
};

/// DisableProfileRequest (BF32) { profileIdentifier [0], refreshFlag [1] }.
struct disable_profile_request {
    profile_identifier id;
    bool refresh_flag = false;
    extension_list extensions;
    bool operator==(const disable_profile_request&) const = default;
};
/// disableResult codes.
enum class disable_profile_result : std::uint8_t {
    ok = 0,
    iccid_or_aid_not_found = 1,
    profile_not_in_enabled_state = 2,
    disallowed_by_policy = 3,
    undefined_error = 127,
};
/// DisableProfileResponse (BF32) { disableResult [0] }.
struct disable_profile_response {
    disable_profile_result result = disable_profile_result::ok;
    extension_list extensions;
    bool operator==(const disable_profile_response&) const = default;
};

/// DeleteProfileRequest (BF33) ::= CHOICE { 4F | 5A } (explicitly tagged: BF33 { 5A ... }).
struct delete_profile_request {
    profile_identifier id;
    bool operator==(const delete_profile_request&) const = default;
};
/// deleteResult codes.
enum class delete_profile_result : std::uint8_t {
    ok = 0,
    iccid_or_aid_not_found = 1,
    profile_not_in_disabled_state = 2,
    disallowed_by_policy = 3,
    undefined_error = 127,
};
/// DeleteProfileResponse (BF33) { deleteResult [0] }.
struct delete_profile_response {
    delete_profile_result result = delete_profile_result::ok;
    extension_list extensions;
    bool operator==(const delete_profile_response&) const = default;
};

/// Named bits of resetOptions.
enum reset_option_bit : std::size_t {
    delete_operational_profiles = 0,
    delete_field_loaded_test_profiles = 1,
    reset_default_smdp_address = 2,
};
/// EuiccMemoryResetRequest (BF34) { resetOptions [2] BIT STRING }.
struct euicc_memory_reset_request {
    bit_string reset_options; ///< reset_option_bit
    extension_list extensions;
    bool operator==(const euicc_memory_reset_request&) const = default;
};
/// resetResult codes.
enum class euicc_memory_reset_result : std::uint8_t {
    ok = 0,
    nothing_to_delete = 1,
    undefined_error = 127,
};
/// EuiccMemoryResetResponse (BF34) { resetResult [0] }.
struct euicc_memory_reset_response {
    euicc_memory_reset_result result = euicc_memory_reset_result::ok;
    extension_list extensions;
    bool operator==(const euicc_memory_reset_response&) const = default;
};

/// GetEuiccDataRequest (BF3E) { tagList 5C (1 byte, 5A for the EID) }: GetEID.
struct get_eid_request {
    std::uint8_t tag_list = 0x5A;
    extension_list extensions;
    bool operator==(const get_eid_request&) const = default;
};
/// GetEuiccDataResponse (BF3E) { eidValue 5A (16 bytes) }.
struct get_eid_response {
    eid_value eid;
    extension_list extensions;
    bool operator==(const get_eid_response&) const = default;
};

/// SetNicknameRequest (BF29) { iccid 5A, profileNickname 90 (at most 64 characters) }.
struct set_nickname_request {
    iccid_value iccid;
    std::string profile_nickname;
    extension_list extensions;
    bool operator==(const set_nickname_request&) const = default;
};
/// setNicknameResult codes.
enum class set_nickname_result : std::uint8_t {
    ok = 0,
    iccid_not_found = 1,
    undefined_error = 127
};
/// SetNicknameResponse (BF29) { setNicknameResult [0] }.
struct set_nickname_response {
    set_nickname_result result = set_nickname_result::ok;
    extension_list extensions;
    bool operator==(const set_nickname_response&) const = default;
};

/// EuiccConfiguredAddressesRequest (BF3C), no content.
struct euicc_configured_addresses_request {
    extension_list extensions;
    bool operator==(const euicc_configured_addresses_request&) const = default;
};
/// EuiccConfiguredAddressesResponse (BF3C) { defaultDpAddress [0]?, rootDsAddress [1] }.
struct euicc_configured_addresses_response {
    std::optional<std::string> default_dp_address;
    std::string root_ds_address;
    extension_list extensions;
    bool operator==(const euicc_configured_addresses_response&) const = default;
};

/// SetDefaultDpAddressRequest (BF3F) { defaultDpAddress [0] }.
struct set_default_dp_address_request {
    std::string default_dp_address; ///< FQDN; empty removes it
    extension_list extensions;
    bool operator==(const set_default_dp_address_request&) const = default;
};
/// setDefaultDpAddressResult codes.
enum class set_default_dp_address_result : std::uint8_t { ok = 0, undefined_error = 127 };
/// SetDefaultDpAddressResponse (BF3F) { setDefaultDpAddressResult [0] }.
struct set_default_dp_address_response {
    set_default_dp_address_result result = set_default_dp_address_result::ok;
    extension_list extensions;
    bool operator==(const set_default_dp_address_response&) const = default;
};

/// GetRatRequest (BF43), no content.
struct get_rat_request {
    extension_list extensions;
    bool operator==(const get_rat_request&) const = default;
};
/// ProfilePolicyAuthorisationRule ::= SEQUENCE { pprIds [0], allowedOperators [1]
/// SEQUENCE OF OperatorID, pprFlags [2] BIT STRING {consentRequired(0)} }.
struct profile_policy_authorisation_rule {
    bit_string ppr_ids; ///< ppr_bit
    std::vector<operator_id> allowed_operators;
    bit_string ppr_flags; ///< bit 0: consentRequired
    extension_list extensions;
    bool operator==(const profile_policy_authorisation_rule&) const = default;
};
/// GetRatResponse (BF43) { rat [0] SEQUENCE OF ProfilePolicyAuthorisationRule }.
struct get_rat_response {
    std::vector<profile_policy_authorisation_rule> rat;
    extension_list extensions;
    bool operator==(const get_rat_response&) const = default;
};

// Decoders: exact outer tag, mandatory fields, sizes and charsets checked,
// trailing bytes refused, unknown later context-tagged fields kept raw.

/// Decodes E3.
[[nodiscard]] result<profile_info> decode_profile_info(byte_view der);
[[nodiscard]] result<profile_info_list_request> decode_profile_info_list_request(byte_view der);
[[nodiscard]] result<profile_info_list_response> decode_profile_info_list_response(byte_view der);
[[nodiscard]] result<enable_profile_request> decode_enable_profile_request(byte_view der);
[[nodiscard]] result<enable_profile_response> decode_enable_profile_response(byte_view der);
[[nodiscard]] result<disable_profile_request> decode_disable_profile_request(byte_view der);
[[nodiscard]] result<disable_profile_response> decode_disable_profile_response(byte_view der);
[[nodiscard]] result<delete_profile_request> decode_delete_profile_request(byte_view der);
[[nodiscard]] result<delete_profile_response> decode_delete_profile_response(byte_view der);
[[nodiscard]] result<euicc_memory_reset_request> decode_euicc_memory_reset_request(byte_view der);
[[nodiscard]] result<euicc_memory_reset_response> decode_euicc_memory_reset_response(byte_view der);
[[nodiscard]] result<get_eid_request> decode_get_eid_request(byte_view der);
[[nodiscard]] result<get_eid_response> decode_get_eid_response(byte_view der);
[[nodiscard]] result<set_nickname_request> decode_set_nickname_request(byte_view der);
[[nodiscard]] result<set_nickname_response> decode_set_nickname_response(byte_view der);
[[nodiscard]] result<euicc_configured_addresses_request>
decode_euicc_configured_addresses_request(byte_view der);
[[nodiscard]] result<euicc_configured_addresses_response>
decode_euicc_configured_addresses_response(byte_view der);
[[nodiscard]] result<set_default_dp_address_request>
decode_set_default_dp_address_request(byte_view der);
[[nodiscard]] result<set_default_dp_address_response>
decode_set_default_dp_address_response(byte_view der);
[[nodiscard]] result<get_rat_request> decode_get_rat_request(byte_view der);
[[nodiscard]] result<get_rat_response> decode_get_rat_response(byte_view der);

/// Encoders: the DER of each message, tag included.
[[nodiscard]] bytes encode(const profile_info& m);
[[nodiscard]] bytes encode(const profile_info_list_request& m);
[[nodiscard]] bytes encode(const profile_info_list_response& m);
[[nodiscard]] bytes encode(const enable_profile_request& m);
[[nodiscard]] bytes encode(const enable_profile_response& m);
[[nodiscard]] bytes encode(const disable_profile_request& m);
[[nodiscard]] bytes encode(const disable_profile_response& m);
[[nodiscard]] bytes encode(const delete_profile_request& m);
[[nodiscard]] bytes encode(const delete_profile_response& m);
[[nodiscard]] bytes encode(const euicc_memory_reset_request& m);
[[nodiscard]] bytes encode(const euicc_memory_reset_response& m);
[[nodiscard]] bytes encode(const get_eid_request& m);
[[nodiscard]] bytes encode(const get_eid_response& m);
[[nodiscard]] bytes encode(const set_nickname_request& m);
[[nodiscard]] bytes encode(const set_nickname_response& m);
[[nodiscard]] bytes encode(const euicc_configured_addresses_request& m);
[[nodiscard]] bytes encode(const euicc_configured_addresses_response& m);
[[nodiscard]] bytes encode(const set_default_dp_address_request& m);
[[nodiscard]] bytes encode(const set_default_dp_address_response& m);
[[nodiscard]] bytes encode(const get_rat_request& m);
[[nodiscard]] bytes encode(const get_rat_response& m);

} // namespace esimguard::asn1
