#pragma once
/// ES10b GetEUICCInfo and GetEUICCChallenge (SGP.22 §5.7.8, §5.7.7) and the
/// EUICCInfo1 / EUICCInfo2 data objects (SGP.22 §4.1, §5.7.8) an SM-DP+
/// reads to pick a CI key and check versions.

#include "esimguard/asn1/rsp_types.hpp"
#include "esimguard/asn1/tlv.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace esimguard::asn1 {

/// Tags of these messages (SGP.22 §5.7).
inline constexpr std::uint32_t tag_euicc_info1 = 0xBF20;
inline constexpr std::uint32_t tag_euicc_info2 = 0xBF22;
inline constexpr std::uint32_t tag_get_euicc_challenge = 0xBF2E;

/// Named bits of RspCapability (SGP.22 §5.7.8).
enum class rsp_capability_bit : std::size_t {
    additional_profile = 0,
    crl_support = 1,
    rpm_support = 2,
    test_profile_support = 3,
};

/// euiccCategory values (SGP.22 §5.7.8).
enum class euicc_category : std::uint32_t {
    other = 0,
    basic_euicc = 1,
    medium_euicc = 2,
    contactless_euicc = 3,
};

/// EUICCInfo1, tag BF20: what the eUICC sends in ES9+ InitiateAuthentication.
struct euicc_info1 {
    version_type svn{};                                        ///< [2] SGP.22 version
    std::vector<key_identifier> ci_pkid_list_for_verification; ///< [9]
    std::vector<key_identifier> ci_pkid_list_for_signing;      ///< [10]
    extension_list extensions;                                 ///< later additions, raw

    bool operator==(const euicc_info1&) const = default;
};

/// CertificationDataObject (GlobalPlatform DLOA).
struct certification_data_object {
    std::string platform_label;     ///< [0] UTF8String
    std::string discovery_base_url; ///< [1] UTF8String
    extension_list extensions;

    bool operator==(const certification_data_object&) const = default;
};

/// EUICCInfo2, tag BF22 (SGP.22 §5.7.8), with the fields of SGP.22 v2.x.
/// Fields of later versions (treProperties [13], lpaMode [16], …) land in
/// `extensions` unread.
struct euicc_info2 {
    version_type profile_version{};                     ///< [1] SIMalliance package version
    version_type svn{};                                 ///< [2] SGP.22 version
    version_type euicc_firmware_ver{};                  ///< [3]
    bytes ext_card_resource;                            ///< [4] ETSI TS 102 226 TLVs
    bit_string uicc_capability;                         ///< [5]
    std::optional<version_type> ts102241_version;       ///< [6] (named javacardVersion since v2.1)
    std::optional<version_type> globalplatform_version; ///< [7]
    bit_string rsp_capability;                          ///< [8]
    std::vector<key_identifier> ci_pkid_list_for_verification;   ///< [9]
    std::vector<key_identifier> ci_pkid_list_for_signing;        ///< [10]
    std::optional<std::uint32_t> euicc_category;                 ///< [11], see euicc_category
    std::optional<bit_string> forbidden_profile_policy_rules;    ///< [25] PprIds
    version_type pp_version{};                                   ///< Protection Profile version
    std::string sas_accreditation_number;                        ///< UTF8String, 0..64 bytes
    std::optional<certification_data_object> certification_data; ///< [12]
    extension_list extensions;

    bool operator==(const euicc_info2&) const = default;
};

/// GetEuiccChallengeResponse, tag BF2E (SGP.22 §5.7.7).
struct get_euicc_challenge_response {
    challenge euicc_challenge{}; ///< [0] Octet16
    extension_list extensions;

    bool operator==(const get_euicc_challenge_response&) const = default;
};

/// Decodes EUICCInfo1 (BF20) from untrusted bytes; the whole input must be it.
[[nodiscard]] result<euicc_info1> decode_euicc_info1(byte_view data);
/// Encodes EUICCInfo1 as DER.
[[nodiscard]] bytes encode(const euicc_info1& v);

/// Decodes EUICCInfo2 (BF22) from untrusted bytes; the whole input must be it.
[[nodiscard]] result<euicc_info2> decode_euicc_info2(byte_view data);
/// Encodes EUICCInfo2 as DER.
[[nodiscard]] bytes encode(const euicc_info2& v);

/// Decodes GetEuiccChallengeResponse (BF2E); the challenge must be 16 bytes.
[[nodiscard]] result<get_euicc_challenge_response>
decode_get_euicc_challenge_response(byte_view data);
/// Encodes GetEuiccChallengeResponse as DER.
[[nodiscard]] bytes encode(const get_euicc_challenge_response& v);

/// The empty requests: GetEuiccChallengeRequest (BF2E 00), GetEuiccInfo1Request
/// (BF20 00), GetEuiccInfo2Request (BF22 00), as the LPA sends them.
[[nodiscard]] bytes encode_get_euicc_challenge_request();
[[nodiscard]] bytes encode_get_euicc_info1_request();
[[nodiscard]] bytes encode_get_euicc_info2_request();

/// Checks that the input is one of the empty requests above (`tag` BF2E,
/// BF20 or BF22); extension additions after the empty content are tolerated.
[[nodiscard]] result<void> decode_empty_request(byte_view data, std::uint32_t tag);

} // namespace esimguard::asn1
