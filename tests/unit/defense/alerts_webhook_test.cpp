// The signed webhook channel against a real http::server on loopback (plain
// HTTP, allowed explicitly): what arrives verifies, a tampered body does
// not, 5xx answers are retried, 4xx answers are not.

#include "esimguard/defense/webhook.hpp"
#include "esimguard/http/server.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <mutex>
#include <thread>

namespace esimguard::defense {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view secret = "s3cret-webhook-key";

template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > deadline) {
            return false;
        }
        std::this_thread::sleep_for(1ms);
    }
    return true;
}

/// A webhook receiver: records every request and answers the scripted
/// statuses in order (200 once they run out).
class receiver {
public:
    receiver() : server_(config()) {
        server_.add_route("POST", "/hooks/esimguard", [this](const http::request& r) {
            std::lock_guard lock(mutex_);
            requests_.push_back(r);
            int status = 200;
            if (!statuses_.empty()) {
                status = statuses_.front();
                statuses_.pop_front();
            }
            return http::response::with_body(status, "ok");
        });
        auto started = server_.start();
        EXPECT_TRUE(started.has_value()) << (started ? "" : started.error().detail);
    }
    ~receiver() { server_.stop(); }

    void script(std::deque<int> statuses) {
        std::lock_guard lock(mutex_);
        statuses_ = std::move(statuses);
    }
    std::vector<http::request> requests() {
        std::lock_guard lock(mutex_);
        return requests_;
    }
    std::string url() const {
        return "http://127.0.0.1:" + std::to_string(server_.port()) + "/hooks/esimguard";
    }

private:
    static http::server_config config() {
        http::server_config c;
        c.plain_http = true;
        c.worker_threads = 1;
        return c;
    }
    http::server server_;
    std::mutex mutex_;
    std::deque<int> statuses_;
    std::vector<http::request> requests_;
};

alert make_alert() {
    alert a;
    a.id = "4f1c0de0000000000000000000000001";
    a.time = std::chrono::system_clock::from_time_t(1'714'564'800);
    a.severity = alert_severity::critical;
    a.rule = "forged_device_signature";
    a.summary = "5 bad eUICC signatures from one address within an hour";
    a.evidence.ip = "198.51.100.23";
    a.evidence.eid = "89049032123451234512345678901235";
    a.evidence.count = 5;
    a.evidence.window = 3600s;
    return a;
}

std::unique_ptr<alert_channel> make_channel(const std::string& url) {
    webhook_config c;
    c.url = url;
    c.secret = std::string(secret);
    c.allow_plain_http = true;
    c.client.request_timeout = 5s;
    auto ch = create_webhook_channel(std::move(c));
    EXPECT_TRUE(ch.has_value()) << (ch ? "" : ch.error());
    return ch ? std::move(*ch) : nullptr;
}

alert_dispatcher_config fast_retries() {
    alert_dispatcher_config c;
    c.initial_backoff = 1ms;
    c.max_backoff = 5ms;
    c.max_attempts = 4;
    return c;
}

std::string header(const http::request& r, std::string_view name) {
    const auto v = http::find_header(r.headers, name);
    return v ? std::string(*v) : std::string();
}

TEST(alerts_webhook,
     when_an_alert_is_posted_then_its_signature_verifies_and_a_tampered_body_fails) {
    receiver rx;
    std::vector<std::unique_ptr<alert_channel>> channels;
    channels.push_back(make_channel(rx.url()));
    ASSERT_NE(channels.front(), nullptr);
    alert_dispatcher d(fast_retries(), std::move(channels));

    d.on_alert(make_alert());
    ASSERT_TRUE(eventually([&] { return d.counters("webhook")->sent == 1; }));
    const auto reqs = rx.requests();
    ASSERT_EQ(reqs.size(), 1u);
    const auto& r = reqs[0];
    EXPECT_EQ(header(r, "Content-Type"), "application/json");
    const std::string ts = header(r, webhook_timestamp_header);
    const std::string sig = header(r, webhook_signature_header);
    ASSERT_FALSE(ts.empty());
    ASSERT_TRUE(sig.starts_with("sha256=")) << sig;
    EXPECT_EQ(sig.size(), 7u + 64u);

    const auto now = std::chrono::system_clock::now();
    auto ok = verify_webhook(secret, ts, sig, r.body, now);
    EXPECT_TRUE(ok.has_value()) << to_string(ok.error());

    auto parsed = parse_alert_json(r.body);
    ASSERT_TRUE(parsed.has_value()) << parsed.error();
    EXPECT_EQ(parsed->id, make_alert().id);
    EXPECT_EQ(parsed->rule, "forged_device_signature");
    EXPECT_EQ(parsed->evidence.eid, make_alert().evidence.eid);

    std::string tampered = r.body;
    tampered.replace(tampered.find("critical"), 8, "info    ");
    auto bad = verify_webhook(secret, ts, sig, tampered, now);
    ASSERT_FALSE(bad.has_value());
    EXPECT_EQ(bad.error(), webhook_verify_error::bad_signature);

    auto wrong_key = verify_webhook("another-key", ts, sig, r.body, now);
    ASSERT_FALSE(wrong_key.has_value());
    EXPECT_EQ(wrong_key.error(), webhook_verify_error::bad_signature);

    auto moved_ts = verify_webhook(secret, std::to_string(std::stoll(ts) + 1), sig, r.body, now);
    EXPECT_FALSE(moved_ts.has_value());
}

TEST(alerts_webhook,
     when_the_receiver_answers_500_twice_then_the_alert_is_delivered_on_the_third_try) {
    receiver rx;
    rx.script({500, 500});
    std::vector<std::unique_ptr<alert_channel>> channels;
    channels.push_back(make_channel(rx.url()));
    ASSERT_NE(channels.front(), nullptr);
    alert_dispatcher d(fast_retries(), std::move(channels));

    d.on_alert(make_alert());
    ASSERT_TRUE(eventually([&] { return d.counters("webhook")->sent == 1; }));
    const auto c = *d.counters("webhook");
    EXPECT_EQ(c.retried, 2u);
    EXPECT_EQ(c.failed, 0u);
    const auto reqs = rx.requests();
    ASSERT_EQ(reqs.size(), 3u);
    // Every attempt carries the same alert, so that the receiver can deduplicate.
    EXPECT_EQ(reqs[0].body, reqs[2].body);
}

TEST(alerts_webhook, when_the_receiver_answers_400_then_the_alert_is_not_retried) {
    receiver rx;
    rx.script({400});
    std::vector<std::unique_ptr<alert_channel>> channels;
    channels.push_back(make_channel(rx.url()));
    ASSERT_NE(channels.front(), nullptr);
    alert_dispatcher d(fast_retries(), std::move(channels));

    d.on_alert(make_alert());
    ASSERT_TRUE(eventually([&] { return d.counters("webhook")->failed == 1; }));
    EXPECT_EQ(d.counters("webhook")->retried, 0u);
    EXPECT_EQ(rx.requests().size(), 1u);
}

TEST(alerts_webhook, plain_http_is_refused_unless_allowed) {
    webhook_config c;
    c.url = "http://127.0.0.1:9/hook";
    c.secret = "hunter2-webhook-secret";
    auto refused = create_webhook_channel(c);
    ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error().find(c.secret), std::string::npos) << "the secret leaked";

    c.allow_plain_http = true;
    EXPECT_TRUE(create_webhook_channel(c).has_value());
    c.secret.clear();
    EXPECT_FALSE(create_webhook_channel(c).has_value());
    c.secret = "hunter2-webhook-secret";
    c.url = "ftp://example.com/hook";
    EXPECT_FALSE(create_webhook_channel(c).has_value());
}

TEST(alerts_webhook, verification_refuses_stale_and_malformed_timestamps) {
    const std::string body = R"({"id":"x"})";
    const auto now = std::chrono::system_clock::from_time_t(1'714'564'800);
    const std::string ts = "1714564800";
    const std::string sig = webhook_signature(secret, ts, body);
    EXPECT_TRUE(verify_webhook(secret, ts, sig, body, now).has_value());
    EXPECT_TRUE(verify_webhook(secret, ts, sig, body, now + 299s).has_value());
    EXPECT_EQ(verify_webhook(secret, ts, sig, body, now + 301s).error(),
              webhook_verify_error::stale_timestamp);
    EXPECT_EQ(verify_webhook(secret, ts, sig, body, now - 301s).error(),
              webhook_verify_error::stale_timestamp);
    EXPECT_EQ(verify_webhook(secret, "17145648OO", sig, body, now).error(),
              webhook_verify_error::bad_timestamp);
    EXPECT_EQ(verify_webhook(secret, "", sig, body, now).error(),
              webhook_verify_error::bad_timestamp);
    EXPECT_EQ(verify_webhook(secret, ts, "sha256=00", body, now).error(),
              webhook_verify_error::bad_signature);
}

TEST(alerts_webhook, the_signature_is_the_documented_hmac) {
    // Computed independently: printf '%s' '1714564800.{"id":"x"}' | openssl dgst -sha256 -hmac Jefe
    EXPECT_EQ(webhook_signature("Jefe", "1714564800", R"({"id":"x"})"),
              "sha256=825203f65356408dcaaa4ff8afc10fe1217ced35b5f1113281049c61efeacd43");
}

} // namespace
} // namespace esimguard::defense
