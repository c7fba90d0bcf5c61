#pragma once
/// Common mutual authentication (SGP.22 §3.1.2): ServerSigned1, CtxParams1,
/// ES10b AuthenticateServer request and response (SGP.22 §5.7.13), DER both ways.
///
/// Signed parts (serverSigned1, euiccSigned1) keep the exact bytes they were
/// received as in `raw`, because signatures cover bytes, not values. A value
/// built by hand has an empty `raw`; encode() never reads it, it always
/// encodes from the fields.

#include "esimguard/asn1/euicc_info.hpp"
#include "esimguard/asn1/rsp_types.hpp"
#include "esimguard/asn1/tlv.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>

namespace esimguard::asn1 {

/// AuthenticateServerRequest and AuthenticateServerResponse share this tag.
inline constexpr std::uint32_t tag_authenticate_server = 0xBF38;

/// Longest serverAddress / matchingId accepted: UTF8String without a SIZE in
/// the spec; an FQDN is at most 255 octets and a matching ID fits in that too.
inline constexpr std::size_t address_max = 255;
inline constexpr std::size_t matching_id_max = 255;

/// AuthenticateErrorCode (SGP.22 §5.7.13). Other values are kept as received.
enum class authenticate_error_code : std::uint32_t {
    invalid_certificate = 1,
    invalid_signature = 2,
    unsupported_curve = 3,
    no_session_context = 4,
    invalid_oid = 5,
    euicc_challenge_mismatch = 6,
    ci_pk_unknown = 7,
    undefined_error = 127,
};

/// DeviceCapabilities (SGP.22 §5.7.13): highest release supported per
/// technology, each a VersionType. Later fields (nrEpc, lpaSvn, …) are kept raw.
struct device_capabilities {
    std::optional<version_type> gsm_supported_release;           ///< [0]
    std::optional<version_type> utran_supported_release;         ///< [1]
    std::optional<version_type> cdma2000onex_supported_release;  ///< [2]
    std::optional<version_type> cdma2000hrpd_supported_release;  ///< [3]
    std::optional<version_type> cdma2000ehrpd_supported_release; ///< [4]
    std::optional<version_type> eutran_supported_release;        ///< [5]
    std::optional<version_type> contactless_supported_release;   ///< [6]
    std::optional<version_type> rsp_crl_supported_version;       ///< [7]
    std::optional<version_type> rsp_rpm_supported_version;       ///< [8]
    extension_list extensions;

    bool operator==(const device_capabilities&) const = default;
};

/// DeviceInfo: the device's TAC, capabilities and IMEI.
struct device_info {
    std::array<std::uint8_t, 4> tac{};               ///< [0] Octet4, first 8 IMEI digits in BCD
    device_capabilities capabilities;                ///< [1]
    std::optional<std::array<std::uint8_t, 8>> imei; ///< [2] Octet8
    extension_list extensions;

    bool operator==(const device_info&) const = default;
};

/// CtxParams1, a CHOICE of which SGP.22 v2 defines one alternative:
/// ctxParamsForCommonAuthentication ([0], tag A0). Others are refused.
struct ctx_params1 {
    std::optional<std::string> matching_id; ///< [0] UTF8String: AC token, event ID, or absent
    device_info device;                     ///< [1]
    extension_list extensions;

    bool operator==(const ctx_params1&) const = default;
};

/// ServerSigned1 (SGP.22 §5.7.13), signed by the SM-DP+ with its DPauth key.
struct server_signed1 {
    bytes transaction_id;         ///< [0] 1..16 bytes
    challenge euicc_challenge{};  ///< [1]
    std::string server_address;   ///< [3]
    challenge server_challenge{}; ///< [4]
    extension_list extensions;
    bytes raw; ///< exact TLV as received (tag 30 included); empty when built by hand

    bool operator==(const server_signed1&) const = default;
};

/// AuthenticateServerRequest, tag BF38: what the SM-DP+ hands the eUICC.
struct authenticate_server_request {
    server_signed1 server_signed;
    raw_signature server_signature1{};       ///< 5F37 over server_signed.raw
    key_identifier euicc_ci_pkid_to_be_used; ///< SubjectKeyIdentifier of the CI to use
    der_certificate server_certificate;      ///< CERT.DPauth.ECDSA
    ctx_params1 ctx_params;
    extension_list extensions;

    bool operator==(const authenticate_server_request&) const = default;
};

/// EuiccSigned1 (SGP.22 §5.7.13), signed by the eUICC.
struct euicc_signed1 {
    bytes transaction_id;         ///< [0]
    std::string server_address;   ///< [3]
    challenge server_challenge{}; ///< [4]
    euicc_info2 info2;            ///< [34] BF22
    ctx_params1 ctx_params;       ///< A0
    extension_list extensions;
    bytes raw; ///< exact TLV as received (tag 30 included); empty when built by hand

    bool operator==(const euicc_signed1&) const = default;
};

/// AuthenticateResponseOk ([0], tag A0).
struct authenticate_response_ok {
    euicc_signed1 euicc_signed;
    raw_signature euicc_signature1{};  ///< 5F37 over euicc_signed.raw
    der_certificate euicc_certificate; ///< CERT.EUICC.ECDSA
    der_certificate eum_certificate;   ///< CERT.EUM.ECDSA
    extension_list extensions;

    bool operator==(const authenticate_response_ok&) const = default;
};

/// AuthenticateResponseError ([1], tag A1).
struct authenticate_response_error {
    bytes transaction_id; ///< [0]
    authenticate_error_code code = authenticate_error_code::undefined_error;
    extension_list extensions;

    bool operator==(const authenticate_response_error&) const = default;
};

/// AuthenticateServerResponse, tag BF38: a CHOICE of the two above.
using authenticate_server_response =
    std::variant<authenticate_response_ok, authenticate_response_error>;

/// Decodes ServerSigned1 (tag 30) from untrusted bytes; fills raw.
[[nodiscard]] result<server_signed1> decode_server_signed1(byte_view data);
/// Encodes ServerSigned1: the bytes the SM-DP+ signs with its DPauth key.
[[nodiscard]] bytes encode(const server_signed1& v);

/// Decodes CtxParams1 (tag A0) from untrusted bytes.
[[nodiscard]] result<ctx_params1> decode_ctx_params1(byte_view data);
/// Encodes CtxParams1 as ctxParamsForCommonAuthentication.
[[nodiscard]] bytes encode(const ctx_params1& v);

/// Decodes AuthenticateServerRequest (BF38 SEQUENCE) from untrusted bytes.
[[nodiscard]] result<authenticate_server_request>
decode_authenticate_server_request(byte_view data);
/// Encodes AuthenticateServerRequest as DER.
[[nodiscard]] bytes encode(const authenticate_server_request& v);

/// Decodes EuiccSigned1 (tag 30) from untrusted bytes; fills raw.
[[nodiscard]] result<euicc_signed1> decode_euicc_signed1(byte_view data);
/// Encodes EuiccSigned1: the bytes the eUICC signs.
[[nodiscard]] bytes encode(const euicc_signed1& v);

/// Decodes AuthenticateServerResponse (BF38 CHOICE) from untrusted bytes,
/// as the LPA relays it in ES9+ AuthenticateClient.
[[nodiscard]] result<authenticate_server_response>
decode_authenticate_server_response(byte_view data);
/// Encodes AuthenticateServerResponse as DER.
[[nodiscard]] bytes encode(const authenticate_server_response& v);

} // namespace esimguard::asn1
