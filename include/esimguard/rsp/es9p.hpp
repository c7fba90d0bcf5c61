#pragma once
/// ES9+ (LPA ↔ SM-DP+) JSON binding (SGP.22 §5.6, §6.5): the packer between
/// HTTP bodies and typed messages, used by the SM-DP+ (parse requests, write
/// responses), the LPA and the load generator (write requests, parse responses).
///
/// Binary fields travel as standard base64 of complete DER TLVs (tag
/// included): serverSignature1 is `5F37 40 <r‖s>`, euiccCiPKIdToBeUsed is
/// `04 <len> <key id>`, and so on. transactionId travels as upper-case hex.
///
/// Every message that carries DER keeps it twice: `*_der` holds the exact
/// bytes (signatures cover bytes, not values) and the field of the same name
/// without the suffix holds the decoded value. parse_* fills both; to_json
/// writes the `_der` bytes only, so a caller that builds a request from bytes
/// it got from the eUICC need not decode them first.
///
/// Parsing is for hostile input: nothing throws; every refusal is an
/// rsp::status naming the element (codes::mandatory_element_missing or
/// codes::invalid_format, or a header code). JSON nlohmann-json is kept out
/// of this header.

#include "esimguard/asn1/authentication.hpp"
#include "esimguard/asn1/cancel_session.hpp"
#include "esimguard/asn1/download.hpp"
#include "esimguard/asn1/euicc_info.hpp"
#include "esimguard/asn1/metadata.hpp"
#include "esimguard/asn1/notifications.hpp"
#include "esimguard/asn1/rsp_types.hpp"
#include "esimguard/core/bytes.hpp"
#include "esimguard/rsp/status.hpp"

#include <cstddef>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

namespace esimguard::rsp {

/// Largest request or response body parsed (a bound profile package of a
/// large profile with its BSP overhead fits well within it).
inline constexpr std::size_t max_body_size = 4 * 1024 * 1024;

/// The URL path prefix of ES9+ functions: "/gsma/rsp2/es9plus/" + function name.
inline constexpr std::string_view es9p_path_prefix = "/gsma/rsp2/es9plus/";

/// The X-Admin-Protocol value esimguard's LPA sends and its server answers with.
inline constexpr std::string_view admin_protocol_value = "gsma/rsp/v2.2.2";

template <typename T>
using parse_result = std::expected<T, status>;

/// Checks the headers of an ES9+ or ES2+ request: Content-Type must be
/// application/json (parameters such as charset=UTF-8 allowed, case-insensitive)
/// else codes::content_type_invalid; X-Admin-Protocol must start with
/// "gsma/rsp/v2." or "gsma/rsp/v3." else codes::admin_protocol_unsupported.
[[nodiscard]] std::expected<void, status> check_request_headers(std::string_view content_type,
                                                                std::string_view admin_protocol);

/// header.functionExecutionStatus.status values (SGP.22 §6.5.1.4).
enum class execution_status {
    executed_success,      ///< "Executed-Success"
    executed_with_warning, ///< "Executed-WithWarning"
    failed,                ///< "Failed"
    expired,               ///< "Expired"
};

/// The wire string of a status ("Executed-Success", …).
std::string_view to_string(execution_status s);

/// header.functionExecutionStatus of a response.
struct function_execution_status {
    execution_status status = execution_status::executed_success;
    std::optional<rsp::status> status_code_data; ///< present when failed

    bool operator==(const function_execution_status&) const = default;
};

/// Why a response could not be used: either the peer reported a failure (its
/// statusCodeData, or codes::invalid_format with a note when a Failed header
/// carries none), or the body itself was malformed (the parse refusal).
struct response_error {
    bool reported_by_peer = false; ///< true: the peer's header said Failed
    status detail;

    bool operator==(const response_error&) const = default;
};

template <typename T>
using response_result = std::expected<T, response_error>;

// --- initiateAuthentication (SGP.22 §5.6.1) ------------------------------------

/// ES9+.InitiateAuthentication request.
struct initiate_authentication_request {
    std::string smdp_address;          ///< as the LPA got it (FQDN, maybe ":port")
    asn1::challenge euicc_challenge{}; ///< 16 bytes
    bytes euicc_info1_der;             ///< BF20, exact bytes
    asn1::euicc_info1 euicc_info1;     ///< decoded by parse; not read by to_json

    bool operator==(const initiate_authentication_request&) const = default;
};

/// ES9+.InitiateAuthentication response (success part).
struct initiate_authentication_response {
    bytes transaction_id;                          ///< 1..16 bytes, hex on the wire
    bytes server_signed1_der;                      ///< 30 …, exact bytes the DPauth key signed
    asn1::server_signed1 server_signed1;           ///< decoded by parse; not read by to_json
    asn1::raw_signature server_signature1{};       ///< r‖s; `5F37 40` on the wire
    asn1::key_identifier euicc_ci_pkid_to_be_used; ///< key ID; `04 len` on the wire
    asn1::der_certificate server_certificate;      ///< CERT.DPauth.ECDSA, 30 …

    bool operator==(const initiate_authentication_response&) const = default;
};

// --- authenticateClient (SGP.22 §5.6.3) ----------------------------------------

/// ES9+.AuthenticateClient request.
struct authenticate_client_request {
    bytes transaction_id;
    bytes authenticate_server_response_der; ///< BF38, exact bytes from the eUICC
    asn1::authenticate_server_response authenticate_server_response; ///< decoded by parse

    bool operator==(const authenticate_client_request&) const = default;
};

/// ES9+.AuthenticateClient response (success part).
struct authenticate_client_response {
    bytes transaction_id;
    bytes profile_metadata_der;                    ///< BF25 StoreMetadataRequest
    asn1::store_metadata_request profile_metadata; ///< decoded by parse
    bytes smdp_signed2_der;                        ///< 30 …, exact signed bytes
    asn1::smdp_signed2 smdp_signed2;               ///< decoded by parse
    asn1::raw_signature smdp_signature2{};         ///< r‖s; `5F37 40` on the wire
    asn1::der_certificate smdp_certificate;        ///< CERT.DPpb.ECDSA, 30 …

    bool operator==(const authenticate_client_response&) const = default;
};

// --- getBoundProfilePackage (SGP.22 §5.6.2) ------------------------------------

/// ES9+.GetBoundProfilePackage request.
struct get_bound_profile_package_request {
    bytes transaction_id;
    bytes prepare_download_response_der;                       ///< BF21, exact bytes from the eUICC
    asn1::prepare_download_response prepare_download_response; ///< decoded by parse

    bool operator==(const get_bound_profile_package_request&) const = default;
};

/// ES9+.GetBoundProfilePackage response (success part). The BPP is only
/// checked to be one well-formed BF36 TLV; asn1::decode_bound_profile_package
/// or asn1::split_bound_profile_package read it.
struct get_bound_profile_package_response {
    bytes transaction_id;
    bytes bound_profile_package_der; ///< BF36

    bool operator==(const get_bound_profile_package_response&) const = default;
};

// --- handleNotification (SGP.22 §5.6.4) ----------------------------------------

/// ES9+.HandleNotification request. Its answer is HTTP 204 with no body.
struct handle_notification_request {
    bytes pending_notification_der;                  ///< BF37 or 30, exact bytes
    asn1::pending_notification pending_notification; ///< decoded by parse

    bool operator==(const handle_notification_request&) const = default;
};

// --- cancelSession (SGP.22 §5.6.5) ---------------------------------------------

/// ES9+.CancelSession request. Its answer is a header-only response.
struct cancel_session_request {
    bytes transaction_id;
    bytes cancel_session_response_der;                     ///< BF41, exact bytes
    asn1::cancel_session_response cancel_session_response; ///< decoded by parse

    bool operator==(const cancel_session_request&) const = default;
};

// --- Requests: the SM-DP+ parses, the LPA writes --------------------------------

/// Parses a request body (UTF-8 JSON, at most max_body_size bytes).
[[nodiscard]] parse_result<initiate_authentication_request>
parse_initiate_authentication_request(std::string_view body);
[[nodiscard]] parse_result<authenticate_client_request>
parse_authenticate_client_request(std::string_view body);
[[nodiscard]] parse_result<get_bound_profile_package_request>
parse_get_bound_profile_package_request(std::string_view body);
[[nodiscard]] parse_result<handle_notification_request>
parse_handle_notification_request(std::string_view body);
[[nodiscard]] parse_result<cancel_session_request>
parse_cancel_session_request(std::string_view body);

/// Writes a request body; reads only the `_der` and plain fields.
[[nodiscard]] std::string to_json(const initiate_authentication_request& r);
[[nodiscard]] std::string to_json(const authenticate_client_request& r);
[[nodiscard]] std::string to_json(const get_bound_profile_package_request& r);
[[nodiscard]] std::string to_json(const handle_notification_request& r);
[[nodiscard]] std::string to_json(const cancel_session_request& r);

// --- Responses: the SM-DP+ writes, the LPA parses --------------------------------

/// Writes a success response: header Executed-Success plus the fields.
[[nodiscard]] std::string to_json(const initiate_authentication_response& r);
[[nodiscard]] std::string to_json(const authenticate_client_response& r);
[[nodiscard]] std::string to_json(const get_bound_profile_package_response& r);

/// A header-only success response (cancelSession): {"header":{"functionExecutionStatus":
/// {"status":"Executed-Success"}}}.
[[nodiscard]] std::string success_response_json();

/// A failure response for any ES9+ or ES2+ function (sent with HTTP 200):
/// status "Failed" with statusCodeData from `s`.
[[nodiscard]] std::string failed_response_json(const status& s);

/// Parses a response body. A header saying Failed gives
/// response_error{reported_by_peer = true, its statusCodeData}.
[[nodiscard]] response_result<initiate_authentication_response>
parse_initiate_authentication_response(std::string_view body);
[[nodiscard]] response_result<authenticate_client_response>
parse_authenticate_client_response(std::string_view body);
[[nodiscard]] response_result<get_bound_profile_package_response>
parse_get_bound_profile_package_response(std::string_view body);
/// Parses a header-only response (cancelSession; also any function's failure).
[[nodiscard]] response_result<function_execution_status>
parse_header_only_response(std::string_view body);

} // namespace esimguard::rsp
