#pragma once
/// Vocabulary shared by the risk engine (issue 4 §2, "The platform watches"):
/// the clock, the error type, what is counted (event kinds) and by what it is
/// counted (dimensions), and how serious a finding is.
///
/// Everything here is a plain value. Config files name these enums by their
/// to_string() text; the parse_* functions are what `apps/` use to read them.

#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace esimguard::defense {

/// A point in time, UTC; the same type as store::time_point.
using risk_time_point = std::chrono::system_clock::time_point;

/// The injected clock. Tests pass a lambda over a variable they advance, so no
/// test ever sleeps; the server passes std::chrono::system_clock::now.
using risk_clock = std::function<risk_time_point()>;

/// What went wrong in a risk engine, counter or blocklist call.
enum class risk_errc : std::uint8_t {
    invalid_argument, ///< a malformed address, prefix, EID or rule
    unavailable,      ///< a shared counter or blocklist store could not be reached
    capacity,         ///< a fixed limit of the implementation was hit (e.g. too many series)
};

/// "invalid_argument", "unavailable" or "capacity".
[[nodiscard]] std::string_view to_string(risk_errc e);

/// An error of the risk module. `message` is for logs: it never holds
/// confirmation codes, matching IDs or keys.
struct risk_error {
    risk_errc code;
    std::string message;
};

/// Every fallible call of the risk module returns one of these.
template <class T>
using risk_result = std::expected<T, risk_error>;

/// By what an event is counted: the key of a counter is the event's value for
/// this dimension (its source address, its EID, ...).
enum class risk_dimension : std::uint8_t {
    source_ip,   ///< IPv4 address, or the IPv6 network of configured length (a /64 by default)
    eid,         ///< the eUICC's EID (32 digits)
    matching_id, ///< the matching ID of an activation code
    iccid,       ///< the profile
    order,       ///< the ES2+ order
    subscriber,  ///< the subscriber's line
    operator_id, ///< the operator owning the profile
};

/// Number of risk_dimension values; arrays indexed by dimension use it.
inline constexpr std::size_t risk_dimension_count = 7;

/// "source_ip", "eid", "matching_id", "iccid", "order", "subscriber" or "operator".
[[nodiscard]] std::string_view to_string(risk_dimension d);
/// The inverse of to_string; nullopt for anything else.
[[nodiscard]] std::optional<risk_dimension> parse_risk_dimension(std::string_view text);

/// What happened. The server reports one event per occurrence, after the
/// procedure decided what it was.
enum class risk_event_kind : std::uint8_t {
    request,               ///< any ES9+ request (for request-rate rules)
    unknown_matching_id,   ///< a matching ID that names no order
    bad_signature,         ///< an eUICC signature that does not verify
    bad_chain,             ///< an eUICC chain that is broken, unknown, revoked or out of range
    cc_failure,            ///< a wrong confirmation code
    download_started,      ///< a bound profile package is about to be built for an eUICC
    profile_tried_by_eid,  ///< an eUICC presented itself for a profile (authenticateClient)
    replay,                ///< a replayed or out-of-session ES9+ call
    operator_auth_failure, ///< ES2+ credentials refused
    portal_login_failure,  ///< a subscriber's password or TOTP code refused
};

/// "request", "unknown_matching_id", ... (the enumerator's name).
[[nodiscard]] std::string_view to_string(risk_event_kind k);
/// The inverse of to_string; nullopt for anything else.
[[nodiscard]] std::optional<risk_event_kind> parse_risk_event_kind(std::string_view text);

/// How urgent a finding is. Ordered, and the same three levels as
/// alert_severity (alerts.hpp) so that the server maps one onto the other.
enum class risk_severity : std::uint8_t { info = 0, warning = 1, critical = 2 };

/// "info", "warning" or "critical".
[[nodiscard]] std::string_view to_string(risk_severity s);
/// The inverse of to_string; nullopt for anything else.
[[nodiscard]] std::optional<risk_severity> parse_risk_severity(std::string_view text);

} // namespace esimguard::defense
