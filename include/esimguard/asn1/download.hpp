#pragma once
/// ES10b PrepareDownload (SGP.22 §5.7.5, §3.1.3): SmdpSigned2,
/// PrepareDownloadRequest, EUICCSigned2 and PrepareDownloadResponse, DER
/// both ways.
///
/// Signed parts keep the exact bytes received in `raw`; a value built by
/// hand has an empty `raw`, and encode() always encodes from the fields.

#include "esimguard/asn1/rsp_types.hpp"
#include "esimguard/asn1/tlv.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <variant>

namespace esimguard::asn1 {

/// PrepareDownloadRequest and PrepareDownloadResponse share this tag.
inline constexpr std::uint32_t tag_prepare_download = 0xBF21;

/// Hash of the confirmation code: SHA-256(SHA-256(code) ‖ transactionId).
using hash_cc = std::array<std::uint8_t, 32>;

/// Longest one-time public key accepted (an uncompressed P-521 point); the
/// SM-DP+'s curves give 65 bytes. The crypto module checks the point itself.
inline constexpr std::size_t otpk_max = 133;

/// DownloadErrorCode (SGP.22 §5.7.5). Other values are kept as received.
enum class download_error_code : std::uint32_t {
    invalid_certificate = 1,
    invalid_signature = 2,
    unsupported_curve = 3,
    no_session_context = 4,
    invalid_transaction_id = 5,
    undefined_error = 127,
};

/// SmdpSigned2, signed by the SM-DP+ with its DPpb key (together with
/// euiccSignature1, SGP.22 §5.7.5).
struct smdp_signed2 {
    bytes transaction_id;                ///< [0] 1..16 bytes
    bool cc_required = false;            ///< ccRequiredFlag: confirmation code needed
    std::optional<bytes> bpp_euicc_otpk; ///< 5F49, on a retry with a BPP already bound
    extension_list extensions;
    bytes raw; ///< exact TLV as received (tag 30 included); empty when built by hand

    bool operator==(const smdp_signed2&) const = default;
};

/// PrepareDownloadRequest, tag BF21: what the SM-DP+ hands the eUICC.
struct prepare_download_request {
    smdp_signed2 smdp_signed;
    raw_signature smdp_signature2{};  ///< 5F37
    std::optional<hash_cc> hash;      ///< hashCc, present when cc_required
    der_certificate smdp_certificate; ///< CERT.DPpb.ECDSA
    extension_list extensions;

    bool operator==(const prepare_download_request&) const = default;
};

/// EUICCSigned2, signed by the eUICC.
struct euicc_signed2 {
    bytes transaction_id;        ///< [0]
    bytes euicc_otpk;            ///< 5F49 otPK.EUICC.ECKA, 1..otpk_max bytes
    std::optional<hash_cc> hash; ///< hashCc
    extension_list extensions;
    bytes raw; ///< exact TLV as received (tag 30 included); empty when built by hand

    bool operator==(const euicc_signed2&) const = default;
};

/// PrepareDownloadResponseOk ([0], tag A0).
struct prepare_download_response_ok {
    euicc_signed2 euicc_signed;
    raw_signature euicc_signature2{}; ///< 5F37
    extension_list extensions;

    bool operator==(const prepare_download_response_ok&) const = default;
};

/// PrepareDownloadResponseError ([1], tag A1).
struct prepare_download_response_error {
    bytes transaction_id; ///< [0]
    download_error_code code = download_error_code::undefined_error;
    extension_list extensions;

    bool operator==(const prepare_download_response_error&) const = default;
};

/// PrepareDownloadResponse, tag BF21: a CHOICE of the two above.
using prepare_download_response =
    std::variant<prepare_download_response_ok, prepare_download_response_error>;

/// Decodes SmdpSigned2 (tag 30) from untrusted bytes; fills raw.
[[nodiscard]] result<smdp_signed2> decode_smdp_signed2(byte_view data);
/// Encodes SmdpSigned2: the bytes the SM-DP+ signs (first part of the input).
[[nodiscard]] bytes encode(const smdp_signed2& v);

/// Decodes PrepareDownloadRequest (BF21 SEQUENCE) from untrusted bytes.
[[nodiscard]] result<prepare_download_request> decode_prepare_download_request(byte_view data);
/// Encodes PrepareDownloadRequest as DER.
[[nodiscard]] bytes encode(const prepare_download_request& v);

/// Decodes EUICCSigned2 (tag 30) from untrusted bytes; fills raw.
[[nodiscard]] result<euicc_signed2> decode_euicc_signed2(byte_view data);
/// Encodes EUICCSigned2: the bytes the eUICC signs (first part of the input).
[[nodiscard]] bytes encode(const euicc_signed2& v);

/// Decodes PrepareDownloadResponse (BF21 CHOICE) from untrusted bytes, as the
/// LPA relays it in ES9+ GetBoundProfilePackage.
[[nodiscard]] result<prepare_download_response> decode_prepare_download_response(byte_view data);
/// Encodes PrepareDownloadResponse as DER.
[[nodiscard]] bytes encode(const prepare_download_response& v);

} // namespace esimguard::asn1
