#pragma once
/// ES2+ (operator ↔ SM-DP+) JSON binding (SGP.22 §5.3, §6.5): downloadOrder,
/// confirmOrder, cancelOrder, releaseProfile (operator → SM-DP+) and
/// handleDownloadProgressInfo (SM-DP+ → operator).
///
/// Requests carry header {functionRequesterIdentifier, functionCallIdentifier};
/// responses carry header.functionExecutionStatus as in ES9+ (es9p.hpp).
/// EIDs and ICCIDs are typed (asn1::eid_value, asn1::iccid_value), so a
/// parsed value is always well formed; an ICCID may arrive F-padded.
///
/// Parsing never throws; refusals are rsp::status: codes::mandatory_element_missing
/// or codes::invalid_format for shape, codes::eid_invalid / codes::iccid_invalid /
/// codes::matching_id_invalid for values.

#include "esimguard/asn1/iccid.hpp"
#include "esimguard/core/bytes.hpp"
#include "esimguard/rsp/es9p.hpp"
#include "esimguard/rsp/status.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace esimguard::rsp {

/// The URL path prefix of ES2+ functions: "/gsma/rsp2/es2plus/" + function name.
inline constexpr std::string_view es2p_path_prefix = "/gsma/rsp2/es2plus/";

/// Longest string accepted in free-text ES2+ fields (identifiers, profile type,
/// addresses, timestamps, confirmation codes).
inline constexpr std::size_t es2p_string_max = 255;

/// The header of every ES2+ request.
struct es2p_request_header {
    std::string function_requester_identifier; ///< who calls (the operator's ID)
    std::string function_call_identifier;      ///< unique per call, for replies and logs

    bool operator==(const es2p_request_header&) const = default;
};

/// finalProfileStatusIndicator of cancelOrder.
enum class final_profile_status {
    available,   ///< "Available": the profile may be reused
    unavailable, ///< "Unavailable": the profile is burnt
};

/// ES2+.DownloadOrder request: reserve a profile (by ICCID or by type).
struct download_order_request {
    es2p_request_header header;
    std::optional<asn1::eid_value> eid;
    std::optional<asn1::iccid_value> iccid;
    std::optional<std::string> profile_type;

    bool operator==(const download_order_request&) const = default;
};

/// ES2+.DownloadOrder response.
struct download_order_response {
    asn1::iccid_value iccid;

    bool operator==(const download_order_response&) const = default;
};

/// ES2+.ConfirmOrder request.
struct confirm_order_request {
    es2p_request_header header;
    asn1::iccid_value iccid;
    std::optional<asn1::eid_value> eid;
    std::optional<std::string> matching_id; ///< letters, digits, '-' only
    std::optional<std::string> confirmation_code;
    std::optional<std::string> smds_address;
    bool release_flag = false;

    bool operator==(const confirm_order_request&) const = default;
};

/// ES2+.ConfirmOrder response.
struct confirm_order_response {
    std::string matching_id;
    std::optional<asn1::eid_value> eid;
    std::optional<std::string> smdp_address;

    bool operator==(const confirm_order_response&) const = default;
};

/// ES2+.CancelOrder request. Its answer is header-only.
struct cancel_order_request {
    es2p_request_header header;
    asn1::iccid_value iccid;
    std::optional<asn1::eid_value> eid;
    std::optional<std::string> matching_id;
    final_profile_status final_profile_status_indicator = final_profile_status::available;

    bool operator==(const cancel_order_request&) const = default;
};

/// ES2+.ReleaseProfile request. Its answer is header-only.
struct release_profile_request {
    es2p_request_header header;
    asn1::iccid_value iccid;

    bool operator==(const release_profile_request&) const = default;
};

/// notificationPointStatus of handleDownloadProgressInfo.
struct progress_status {
    execution_status status = execution_status::executed_success;
    std::optional<rsp::status> status_code_data;

    bool operator==(const progress_status&) const = default;
};

/// ES2+.HandleDownloadProgressInfo, SM-DP+ → operator (SGP.22 §5.3.5).
struct handle_download_progress_info_request {
    es2p_request_header header;
    std::optional<asn1::eid_value> eid;
    asn1::iccid_value iccid;
    std::string profile_type;
    std::string timestamp;                   ///< ISO 8601 UTC, e.g. "2024-05-01T10:00:00Z"
    std::uint32_t notification_point_id = 0; ///< 1 eligibility … 10 deleted (SGP.22 §5.3.5)
    progress_status notification_point_status;
    std::optional<bytes> result_data; ///< base64 on the wire: the signed notification, DER

    bool operator==(const handle_download_progress_info_request&) const = default;
};

/// The wire string "Available" / "Unavailable".
std::string_view to_string(final_profile_status s);

// --- Parse (server side for operator calls; operator side for progress info) --

[[nodiscard]] parse_result<download_order_request>
parse_download_order_request(std::string_view body);
[[nodiscard]] parse_result<confirm_order_request>
parse_confirm_order_request(std::string_view body);
[[nodiscard]] parse_result<cancel_order_request> parse_cancel_order_request(std::string_view body);
[[nodiscard]] parse_result<release_profile_request>
parse_release_profile_request(std::string_view body);
[[nodiscard]] parse_result<handle_download_progress_info_request>
parse_handle_download_progress_info_request(std::string_view body);

/// Parses a response; a Failed header gives response_error{reported_by_peer = true}.
[[nodiscard]] response_result<download_order_response>
parse_download_order_response(std::string_view body);
[[nodiscard]] response_result<confirm_order_response>
parse_confirm_order_response(std::string_view body);
// Header-only responses (cancelOrder, releaseProfile, handleDownloadProgressInfo):
// parse_header_only_response() in es9p.hpp; write them with success_response_json()
// or failed_response_json().

// --- Write ---------------------------------------------------------------------

[[nodiscard]] std::string to_json(const download_order_request& r);
[[nodiscard]] std::string to_json(const confirm_order_request& r);
[[nodiscard]] std::string to_json(const cancel_order_request& r);
[[nodiscard]] std::string to_json(const release_profile_request& r);
[[nodiscard]] std::string to_json(const handle_download_progress_info_request& r);
/// Success responses, with header Executed-Success.
[[nodiscard]] std::string to_json(const download_order_response& r);
[[nodiscard]] std::string to_json(const confirm_order_response& r);

} // namespace esimguard::rsp
