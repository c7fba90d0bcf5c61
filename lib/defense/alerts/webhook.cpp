// The signed webhook channel (issue 4 §2): the alert as JSON, POSTed with an
// HMAC-SHA256 over timestamp and body, so that the receiver can tell our
// alerts from forged ones and refuse replays. The signing scheme is
// documented in webhook.hpp for receivers.

#include "esimguard/defense/webhook.hpp"

#include "esimguard/core/bytes.hpp"
#include "esimguard/crypto/mac.hpp"

#include "logger.hpp"

#include <fmt/format.h>

#include <charconv>

namespace esimguard::defense {

std::string webhook_signature(std::string_view secret, std::string_view timestamp,
                              std::string_view body) {
    std::string signed_text;
    signed_text.reserve(timestamp.size() + 1 + body.size());
    signed_text.append(timestamp).append(".").append(body);
    auto mac = crypto::hmac_sha256(as_bytes(secret), as_bytes(signed_text));
    if (!mac) {
        // Only an OpenSSL failure gets here; an empty signature never verifies.
        return {};
    }
    return "sha256=" + to_hex(*mac);
}

std::string_view to_string(webhook_verify_error e) {
    switch (e) {
    case webhook_verify_error::bad_timestamp:
        return "bad timestamp";
    case webhook_verify_error::stale_timestamp:
        return "stale timestamp";
    case webhook_verify_error::bad_signature:
        return "bad signature";
    }
    return "unknown";
}

std::expected<void, webhook_verify_error>
verify_webhook(std::string_view secret, std::string_view timestamp, std::string_view signature,
               std::string_view body, std::chrono::system_clock::time_point now,
               std::chrono::seconds tolerance) {
    std::int64_t seconds = 0;
    const auto* end = timestamp.data() + timestamp.size();
    const auto [ptr, ec] = std::from_chars(timestamp.data(), end, seconds);
    if (timestamp.empty() || ec != std::errc{} || ptr != end || seconds < 0) {
        return std::unexpected(webhook_verify_error::bad_timestamp);
    }
    const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch());
    const auto diff = now_s.count() - seconds;
    if (diff > tolerance.count() || -diff > tolerance.count()) {
        return std::unexpected(webhook_verify_error::stale_timestamp);
    }
    const std::string expected = webhook_signature(secret, timestamp, body);
    if (expected.empty() || !crypto::constant_time_equal(as_bytes(expected), as_bytes(signature))) {
        return std::unexpected(webhook_verify_error::bad_signature);
    }
    return {};
}

namespace {

class webhook_channel final : public alert_channel {
public:
    webhook_channel(webhook_config config, http::client client)
        : config_(std::move(config)), client_(std::move(client)) {}

    std::string_view name() const override { return config_.name; }

    delivery_result deliver(const alert& a) override {
        const std::string body = alert_to_json(a);
        const auto now = config_.clock ? config_.clock() : std::chrono::system_clock::now();
        const std::string timestamp = std::to_string(
            std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count());
        const std::string signature = webhook_signature(config_.secret, timestamp, body);
        if (signature.empty()) {
            return {delivery_status::retryable_failure, "HMAC computation failed"};
        }
        const http::header_list headers{
            {"Content-Type", "application/json"},
            {std::string(webhook_timestamp_header), timestamp},
            {std::string(webhook_signature_header), signature},
        };
        auto r = client_.post(config_.url, body, headers);
        if (!r) {
            // A kept-alive connection in a broken state must not poison the retry.
            client_.close_connections();
            const bool permanent =
                r.error().code == http::errc::bad_url || r.error().code == http::errc::bad_config;
            return {permanent ? delivery_status::permanent_failure
                              : delivery_status::retryable_failure,
                    fmt::format("{}: {}", http::to_string(r.error().code), r.error().detail)};
        }
        const int status = r->status;
        if (status >= 200 && status < 300) {
            return {delivery_status::delivered, {}};
        }
        const bool retry = status >= 500 || status == 408 || status == 429;
        return {retry ? delivery_status::retryable_failure : delivery_status::permanent_failure,
                fmt::format("receiver answered HTTP {}", status)};
    }

private:
    webhook_config config_;
    http::client client_;
};

} // namespace

std::expected<std::unique_ptr<alert_channel>, std::string>
create_webhook_channel(webhook_config config) {
    if (config.url.empty()) {
        return std::unexpected(std::string("webhook URL is empty"));
    }
    if (config.secret.empty()) {
        return std::unexpected(std::string("webhook secret is empty"));
    }
    if (config.url.starts_with("http://")) {
        if (!config.allow_plain_http) {
            return std::unexpected(std::string(
                "webhook URL is plain http:// (alerts would cross the network unencrypted); "
                "use https:// or allow plain HTTP explicitly"));
        }
    } else if (!config.url.starts_with("https://")) {
        return std::unexpected(std::string("webhook URL must start with https://"));
    }
    auto client = http::client::create(config.client);
    if (!client) {
        return std::unexpected("webhook HTTPS client: " + client.error().detail);
    }
    return std::make_unique<webhook_channel>(std::move(config), std::move(*client));
}

} // namespace esimguard::defense
