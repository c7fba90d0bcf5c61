#pragma once
// Private helpers of the ES9+/ES2+ JSON packers: reading typed fields from an
// untrusted JSON object with a precise rsp::status per refusal, and writing
// JSON without ever throwing on odd strings.

#include "esimguard/asn1/tlv.hpp"
#include "esimguard/core/bytes.hpp"
#include "esimguard/rsp/es9p.hpp"
#include "esimguard/rsp/status.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <exception>
#include <optional>
#include <string>
#include <string_view>

namespace esimguard::rsp::detail {

using json = nlohmann::json;

/// Largest binary field other than a bound profile package (certificates,
/// signed parts, notifications are a few kilobytes at most).
inline constexpr std::size_t max_field_bytes = 64 * 1024;
/// Longest free-text field (addresses, identifiers, messages).
inline constexpr std::size_t max_text = 1024;

/// Parses a body that must be one JSON object. Never throws.
[[nodiscard]] parse_result<json> parse_object(std::string_view body);

/// A required member that must be a JSON object.
[[nodiscard]] parse_result<const json*> object_member(const json& o, const char* name);

/// A required string, at most `max` bytes.
[[nodiscard]] parse_result<std::string> string_member(const json& o, const char* name,
                                                      std::size_t max = max_text);
/// An optional string (absent or null gives nullopt), at most `max` bytes.
[[nodiscard]] parse_result<std::optional<std::string>>
optional_string_member(const json& o, const char* name, std::size_t max = max_text);
/// A required base64 field of at most `max` decoded bytes.
[[nodiscard]] parse_result<bytes> base64_member(const json& o, const char* name,
                                                std::size_t max = max_field_bytes);
/// A required transactionId: hex of 1..16 bytes.
[[nodiscard]] parse_result<bytes> transaction_id_member(const json& o, const char* name);

/// A status for a field: missing, or invalid with a note.
[[nodiscard]] status missing(std::string_view field);
[[nodiscard]] status invalid(std::string_view field, std::string_view why);
/// Describes a DER decode failure for a message.
[[nodiscard]] std::string der_failure(const asn1::error& e);

/// Parses header.functionExecutionStatus of a response; Failed gives a
/// response_error reported by the peer.
[[nodiscard]] std::expected<function_execution_status, response_error>
read_response_header(const json& body);

/// The JSON of a functionExecutionStatus / statusCodeData.
[[nodiscard]] json status_code_data_json(const status& s);
[[nodiscard]] json execution_status_json(const function_execution_status& s);
/// {"header":{"functionExecutionStatus":{"status":"Executed-Success"}}}.
[[nodiscard]] json success_envelope();
/// Serialises without throwing: invalid UTF-8 is replaced.
[[nodiscard]] std::string dump(const json& j);

/// Wraps a request-parse failure as a response failure (not from the peer).
inline response_error malformed(status s) {
    return response_error{false, std::move(s)};
}

/// Parses the execution status string.
[[nodiscard]] std::optional<execution_status> execution_status_from(std::string_view s);

/// statusCodeData from JSON (subjectCode, reasonCode required; message optional).
[[nodiscard]] parse_result<status> read_status_code_data(const json& o);

/// Parses the envelope of a response: a JSON object, then its header (a
/// Failed status comes back as reported by the peer).
[[nodiscard]] std::expected<json, response_error> response_body(std::string_view body);

/// Runs a request parser body, turning any exception nlohmann or the
/// allocator throws into a status: a parser must never let one escape.
template <typename T, typename F>
parse_result<T> guarded(F&& f) {
    try {
        return f();
    } catch (const std::exception&) {
        return std::unexpected(invalid("body", "could not be parsed"));
    }
}

/// The same for response parsers (the LPA side).
template <typename T, typename F>
response_result<T> guarded_response(F&& f) {
    try {
        return f();
    } catch (const std::exception&) {
        return std::unexpected(malformed(invalid("body", "could not be parsed")));
    }
}

} // namespace esimguard::rsp::detail
