#pragma once
/// ES10b CancelSession (SGP.22 §5.7.14): CancelSessionRequest, the signed
/// EuiccCancelSessionSigned and CancelSessionResponse, DER both ways.
///
/// euiccCancelSessionSigned keeps the exact bytes received in `raw`; a value
/// built by hand has an empty `raw`, and encode() always encodes from the fields.

#include "esimguard/asn1/rsp_types.hpp"
#include "esimguard/asn1/tlv.hpp"

#include <cstdint>
#include <variant>

namespace esimguard::asn1 {

/// CancelSessionRequest and CancelSessionResponse share this tag.
inline constexpr std::uint32_t tag_cancel_session = 0xBF41;

/// CancelSessionReason (SGP.22 §5.7.14). Other values are kept as received.
enum class cancel_session_reason : std::uint32_t {
    end_user_rejection = 0,
    postponed = 1,
    timeout = 2,
    ppr_not_allowed = 3,
    metadata_mismatch = 4,        ///< absent from the first v2 module
    load_bpp_execution_error = 5, ///< absent from the first v2 module
    undefined_reason = 127,
};

/// cancelSessionResponseError values (SGP.22 §5.7.14).
enum class cancel_session_error_code : std::uint32_t {
    invalid_transaction_id = 5,
    undefined_error = 127,
};

/// CancelSessionRequest, tag BF41: sent by the LPA to the eUICC.
struct cancel_session_request {
    bytes transaction_id;                                                   ///< [0] 1..16 bytes
    cancel_session_reason reason = cancel_session_reason::undefined_reason; ///< [1]
    extension_list extensions;

    bool operator==(const cancel_session_request&) const = default;
};

/// EuiccCancelSessionSigned, signed by the eUICC.
struct euicc_cancel_session_signed {
    bytes transaction_id; ///< [0]
    bytes smdp_oid;       ///< [1] OBJECT IDENTIFIER content octets (no tag, no length)
    cancel_session_reason reason = cancel_session_reason::undefined_reason; ///< [2]
    extension_list extensions;
    bytes raw; ///< exact TLV as received (tag 30 included); empty when built by hand

    bool operator==(const euicc_cancel_session_signed&) const = default;
};

/// CancelSessionResponseOk ([0], tag A0).
struct cancel_session_response_ok {
    euicc_cancel_session_signed cancel_signed;
    raw_signature euicc_cancel_session_signature{}; ///< 5F37 over cancel_signed.raw
    extension_list extensions;

    bool operator==(const cancel_session_response_ok&) const = default;
};

/// CancelSessionResponse, tag BF41: the signed result, or an error code ([1], tag 81).
using cancel_session_response = std::variant<cancel_session_response_ok, cancel_session_error_code>;

/// Decodes CancelSessionRequest (BF41 SEQUENCE) from untrusted bytes.
[[nodiscard]] result<cancel_session_request> decode_cancel_session_request(byte_view data);
/// Encodes CancelSessionRequest as DER.
[[nodiscard]] bytes encode(const cancel_session_request& v);

/// Decodes EuiccCancelSessionSigned (tag 30) from untrusted bytes; fills raw.
[[nodiscard]] result<euicc_cancel_session_signed>
decode_euicc_cancel_session_signed(byte_view data);
/// Encodes EuiccCancelSessionSigned: the bytes the eUICC signs.
[[nodiscard]] bytes encode(const euicc_cancel_session_signed& v);

/// Decodes CancelSessionResponse (BF41 CHOICE) from untrusted bytes, as the
/// LPA relays it in ES9+ CancelSession.
[[nodiscard]] result<cancel_session_response> decode_cancel_session_response(byte_view data);
/// Encodes CancelSessionResponse as DER.
[[nodiscard]] bytes encode(const cancel_session_response& v);

} // namespace esimguard::asn1
