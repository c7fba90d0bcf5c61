#pragma once
/// The signed webhook alert channel.
///
/// Each alert is POSTed as JSON (alert_to_json, Content-Type
/// application/json) with two headers:
///
///     X-Esimguard-Timestamp: <Unix time in seconds, decimal>
///     X-Esimguard-Signature: sha256=<lower-case hex HMAC-SHA256(secret, timestamp + "." + body)>
///
/// How a receiver verifies a delivery (verify_webhook does exactly this):
///  1. take the raw body bytes as received (before any JSON parsing);
///  2. compute HMAC-SHA256 with the shared secret over the timestamp header's
///     value, a ".", and the body; compare its hex with the signature header
///     in constant time;
///  3. refuse a timestamp further than a few minutes from its own clock, so
///     that a captured delivery cannot be replayed later; deduplicate on the
///     alert's "id" within that window (a retried delivery carries the same id).
/// Any 2xx answer counts as delivered; 408, 429 and 5xx (and network errors)
/// are retried with backoff; other statuses are permanent failures.

#include "esimguard/defense/alerts.hpp"
#include "esimguard/http/client.hpp"

#include <chrono>
#include <expected>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace esimguard::defense {

/// Header carrying the signing time.
inline constexpr std::string_view webhook_timestamp_header = "X-Esimguard-Timestamp";
/// Header carrying "sha256=<hex>".
inline constexpr std::string_view webhook_signature_header = "X-Esimguard-Signature";

/// "sha256=" + hex HMAC-SHA256(secret, timestamp + "." + body).
[[nodiscard]] std::string webhook_signature(std::string_view secret, std::string_view timestamp,
                                            std::string_view body);

/// Why verify_webhook refused a delivery.
enum class webhook_verify_error : std::uint8_t {
    bad_timestamp,   ///< not a decimal number of seconds
    stale_timestamp, ///< further than the tolerance from `now` (either way)
    bad_signature,   ///< malformed, or does not match the body and timestamp
};

[[nodiscard]] std::string_view to_string(webhook_verify_error e);

/// The receiver's check: signature over (timestamp, body) with `secret`,
/// compared in constant time, and the timestamp within `tolerance` of `now`.
[[nodiscard]] std::expected<void, webhook_verify_error>
verify_webhook(std::string_view secret, std::string_view timestamp, std::string_view signature,
               std::string_view body, std::chrono::system_clock::time_point now,
               std::chrono::seconds tolerance = std::chrono::seconds{300});

/// Where and how the webhook channel posts.
struct webhook_config {
    /// https://host[:port]/path. http:// only with allow_plain_http.
    std::string url;
    /// The shared HMAC key. Never logged. Must not be empty.
    std::string secret;
    /// Trust (CA files or PEM), timeouts and limits of the HTTPS client.
    http::client_config client = {};
    /// Allows an http:// URL: for loopback tests, or a receiver on the same
    /// host. Everything else must use TLS.
    bool allow_plain_http = false;
    /// Names the channel in counters and metrics.
    std::string name = "webhook";
    /// The signing clock; default: system_clock::now.
    std::function<std::chrono::system_clock::time_point()> clock = nullptr;
};

/// A webhook channel. Errors (as text, without the secret): empty URL or
/// secret, an http:// URL without allow_plain_http, an unusable client config.
[[nodiscard]] std::expected<std::unique_ptr<alert_channel>, std::string>
create_webhook_channel(webhook_config config);

} // namespace esimguard::defense
