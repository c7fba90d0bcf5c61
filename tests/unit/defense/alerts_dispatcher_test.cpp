// The alert dispatcher's queueing, retry, drop and counting rules, against a
// scripted in-process channel; the alert value type, its JSON and the inbox.

#include "esimguard/defense/alerts.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>

namespace esimguard::defense {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

/// Polls `pred` until it holds or `timeout` passes.
template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = 10s) {
    const auto deadline = steady::now() + timeout;
    while (!pred()) {
        if (steady::now() > deadline) {
            return false;
        }
        std::this_thread::sleep_for(1ms);
    }
    return true;
}

/// What a scripted channel saw, shared between the test and the channel the
/// dispatcher owns.
struct channel_control {
    std::mutex mutex;
    std::condition_variable changed;
    /// Outcomes of the next attempts, in order; delivered once exhausted.
    std::deque<delivery_status> script;
    bool hold = false;
    int in_deliver = 0;
    std::vector<std::string> attempted_ids;
    std::vector<std::string> delivered_ids;
    std::vector<steady::time_point> attempt_times;

    void set_hold(bool h) {
        {
            std::lock_guard lock(mutex);
            hold = h;
        }
        changed.notify_all();
    }
    bool wait_in_deliver(std::chrono::milliseconds timeout = 10s) {
        std::unique_lock lock(mutex);
        return changed.wait_for(lock, timeout, [&] { return in_deliver > 0; });
    }
    std::size_t attempts() {
        std::lock_guard lock(mutex);
        return attempted_ids.size();
    }
    std::vector<std::string> delivered() {
        std::lock_guard lock(mutex);
        return delivered_ids;
    }
};

/// Releases a held channel before the dispatcher joins its worker, whatever
/// the test's outcome (declared after the dispatcher, destroyed before it).
struct release_on_exit {
    std::shared_ptr<channel_control> control;
    ~release_on_exit() { control->set_hold(false); }
};

class scripted_channel final : public alert_channel {
public:
    scripted_channel(std::string name, std::shared_ptr<channel_control> control)
        : name_(std::move(name)), control_(std::move(control)) {}
    std::string_view name() const override { return name_; }
    delivery_result deliver(const alert& a) override {
        std::unique_lock lock(control_->mutex);
        control_->attempted_ids.push_back(a.id);
        control_->attempt_times.push_back(steady::now());
        ++control_->in_deliver;
        control_->changed.notify_all();
        control_->changed.wait(lock, [&] { return !control_->hold; });
        --control_->in_deliver;
        delivery_status s = delivery_status::delivered;
        if (!control_->script.empty()) {
            s = control_->script.front();
            control_->script.pop_front();
        }
        if (s == delivery_status::delivered) {
            control_->delivered_ids.push_back(a.id);
        }
        return {s, "scripted"};
    }

private:
    std::string name_;
    std::shared_ptr<channel_control> control_;
};

alert make_alert(std::string id, alert_severity s = alert_severity::warning) {
    alert a;
    a.id = std::move(id);
    a.time = std::chrono::system_clock::from_time_t(1'714'564'800); // 2024-05-01T12:00:00Z
    a.severity = s;
    a.rule = "matching_id_guessing";
    a.summary = "20 unknown matching IDs from one address in 10 minutes";
    a.evidence.ip = "192.0.2.7";
    a.evidence.eid = "89049032123451234512345678901235";
    a.evidence.count = 20;
    a.evidence.window = 600s;
    return a;
}

alert_dispatcher_config fast_config() {
    alert_dispatcher_config c;
    c.initial_backoff = 1ms;
    c.max_backoff = 5ms;
    c.max_attempts = 3;
    return c;
}

struct one_channel {
    std::shared_ptr<channel_control> control = std::make_shared<channel_control>();
    std::vector<std::unique_ptr<alert_channel>> channels() {
        std::vector<std::unique_ptr<alert_channel>> v;
        v.push_back(std::make_unique<scripted_channel>("fake", control));
        return v;
    }
};

TEST(alerts_dispatcher, when_channel_blocks_then_on_alert_returns_before_the_attempt_completes) {
    one_channel f;
    f.control->set_hold(true);
    alert_dispatcher d(fast_config(), f.channels());
    release_on_exit release{f.control};

    auto raised = std::async(std::launch::async, [&] { d.on_alert(make_alert("a1")); });
    ASSERT_EQ(raised.wait_for(10s), std::future_status::ready)
        << "on_alert waited for a delivery that the channel holds";
    ASSERT_TRUE(f.control->wait_in_deliver());
    EXPECT_EQ(d.counters("fake")->sent, 0u);

    f.control->set_hold(false);
    EXPECT_TRUE(eventually([&] { return d.counters("fake")->sent == 1; }));
    EXPECT_EQ(f.control->delivered(), std::vector<std::string>{"a1"});
}

TEST(alerts_dispatcher, when_delivery_fails_twice_then_it_is_retried_and_delivered) {
    one_channel f;
    f.control->script = {delivery_status::retryable_failure, delivery_status::retryable_failure};
    alert_dispatcher d(fast_config(), f.channels());

    d.on_alert(make_alert("a1"));
    ASSERT_TRUE(eventually([&] { return d.counters("fake")->sent == 1; }));
    const auto c = *d.counters("fake");
    EXPECT_EQ(c.retried, 2u);
    EXPECT_EQ(c.failed, 0u);
    EXPECT_EQ(f.control->attempts(), 3u);
}

TEST(alerts_dispatcher, when_attempts_are_exhausted_then_the_alert_is_counted_failed) {
    one_channel f;
    f.control->script.assign(10, delivery_status::retryable_failure);
    alert_dispatcher d(fast_config(), f.channels()); // max_attempts = 3

    d.on_alert(make_alert("a1"));
    ASSERT_TRUE(eventually([&] { return d.counters("fake")->failed == 1; }));
    ASSERT_TRUE(d.wait_until_idle(10s));
    EXPECT_EQ(d.counters("fake")->retried, 2u);
    EXPECT_EQ(d.counters("fake")->sent, 0u);
    EXPECT_EQ(f.control->attempts(), 3u);
}

TEST(alerts_dispatcher, when_failure_is_permanent_then_it_is_not_retried) {
    one_channel f;
    f.control->script = {delivery_status::permanent_failure};
    alert_dispatcher d(fast_config(), f.channels());

    d.on_alert(make_alert("a1"));
    ASSERT_TRUE(eventually([&] { return d.counters("fake")->failed == 1; }));
    ASSERT_TRUE(d.wait_until_idle(10s));
    EXPECT_EQ(d.counters("fake")->retried, 0u);
    EXPECT_EQ(f.control->attempts(), 1u);
}

TEST(alerts_dispatcher, retry_waits_grow_exponentially) {
    one_channel f;
    f.control->script = {delivery_status::retryable_failure, delivery_status::retryable_failure};
    auto cfg = fast_config();
    cfg.initial_backoff = 30ms;
    cfg.max_backoff = 1s;
    cfg.backoff_multiplier = 2.0;
    cfg.jitter = 0.5;
    cfg.random_unit = [] { return 0.0; }; // the shortest jittered wait: half
    alert_dispatcher d(cfg, f.channels());

    d.on_alert(make_alert("a1"));
    ASSERT_TRUE(eventually([&] { return d.counters("fake")->sent == 1; }));
    std::lock_guard lock(f.control->mutex);
    const auto& t = f.control->attempt_times;
    ASSERT_EQ(t.size(), 3u);
    EXPECT_GE(t[1] - t[0], 15ms);
    EXPECT_GE(t[2] - t[1], 30ms);
}

TEST(alerts_dispatcher, when_queue_is_full_then_the_oldest_lowest_severity_alert_is_dropped) {
    one_channel f;
    f.control->set_hold(true);
    auto cfg = fast_config();
    cfg.queue_capacity = 3;
    alert_dispatcher d(cfg, f.channels());
    release_on_exit release{f.control};

    d.on_alert(make_alert("in_flight", alert_severity::info));
    ASSERT_TRUE(f.control->wait_in_deliver());
    d.on_alert(make_alert("A", alert_severity::warning));
    d.on_alert(make_alert("B", alert_severity::info));
    d.on_alert(make_alert("C", alert_severity::critical));
    d.on_alert(make_alert("D", alert_severity::warning));  // full: B (info) goes
    d.on_alert(make_alert("E", alert_severity::info));     // E itself is the lowest: dropped
    d.on_alert(make_alert("F", alert_severity::critical)); // A (oldest warning) goes
    EXPECT_EQ(d.counters("fake")->dropped, 3u);
    EXPECT_EQ(d.counters("fake")->queued, 3u);

    f.control->set_hold(false);
    ASSERT_TRUE(d.wait_until_idle(10s));
    auto delivered = f.control->delivered();
    std::sort(delivered.begin() + 1, delivered.end());
    EXPECT_EQ(delivered, (std::vector<std::string>{"in_flight", "C", "D", "F"}));
    EXPECT_EQ(d.counters("fake")->sent, 4u);
}

TEST(alerts_dispatcher, a_slow_channel_does_not_delay_another) {
    auto slow = std::make_shared<channel_control>();
    auto fast = std::make_shared<channel_control>();
    slow->set_hold(true);
    std::vector<std::unique_ptr<alert_channel>> channels;
    channels.push_back(std::make_unique<scripted_channel>("slow", slow));
    channels.push_back(std::make_unique<scripted_channel>("fast", fast));
    alert_dispatcher d(fast_config(), std::move(channels));
    release_on_exit release{slow};

    d.on_alert(make_alert("a1"));
    d.on_alert(make_alert("a2"));
    EXPECT_TRUE(eventually([&] { return d.counters("fast")->sent == 2; }));
    EXPECT_EQ(d.counters("slow")->sent, 0u);
}

TEST(alerts_dispatcher, counters_are_exported_as_prometheus_metrics) {
    one_channel f;
    f.control->script = {delivery_status::retryable_failure};
    auto cfg = fast_config();
    cfg.metrics = std::make_shared<http::metrics_registry>();
    alert_dispatcher d(cfg, f.channels());

    d.on_alert(make_alert("a1", alert_severity::critical));
    ASSERT_TRUE(eventually([&] { return d.counters("fake")->sent == 1; }));
    const std::string text = cfg.metrics->render();
    EXPECT_NE(text.find("esimguard_alerts_sent_total{channel=\"fake\"} 1"), std::string::npos)
        << text;
    EXPECT_NE(text.find("esimguard_alerts_retried_total{channel=\"fake\"} 1"), std::string::npos);
    EXPECT_NE(text.find("esimguard_alerts_failed_total{channel=\"fake\"} 0"), std::string::npos);
    EXPECT_NE(text.find("esimguard_alerts_dropped_total{channel=\"fake\"} 0"), std::string::npos);
    EXPECT_NE(text.find("esimguard_alerts_raised_total{severity=\"critical\"} 1"),
              std::string::npos);
}

TEST(alerts_dispatcher, when_stopped_then_undelivered_alerts_are_counted_dropped) {
    one_channel f;
    f.control->script.assign(10, delivery_status::retryable_failure);
    auto cfg = fast_config();
    cfg.initial_backoff = 10min; // the retry would come long after the stop
    cfg.max_backoff = 10min;
    alert_dispatcher d(cfg, f.channels());

    d.on_alert(make_alert("a1"));
    ASSERT_TRUE(eventually([&] { return d.counters("fake")->retried == 1; }));
    d.stop();
    EXPECT_EQ(d.counters("fake")->dropped, 1u);
    d.on_alert(make_alert("a2"));
    EXPECT_EQ(d.counters("fake")->dropped, 2u);
    EXPECT_EQ(f.control->attempts(), 1u);
}

TEST(alerts_dispatcher, an_alert_without_id_gets_a_fresh_one) {
    one_channel f;
    alert_dispatcher d(fast_config(), f.channels());
    d.on_alert(make_alert(""));
    d.on_alert(make_alert(""));
    ASSERT_TRUE(eventually([&] { return d.counters("fake")->sent == 2; }));
    const auto ids = f.control->delivered();
    ASSERT_EQ(ids.size(), 2u);
    EXPECT_EQ(ids[0].size(), 32u);
    EXPECT_NE(ids[0], ids[1]);
}

TEST(alerts_inbox, the_inbox_channel_appends_and_recent_filters_newest_first) {
    std::shared_ptr<alert_inbox> inbox = create_memory_alert_inbox(3);
    std::vector<std::unique_ptr<alert_channel>> channels;
    channels.push_back(create_inbox_channel(inbox));
    alert_dispatcher d(fast_config(), std::move(channels));

    for (int i = 0; i < 4; ++i) {
        auto a = make_alert("a" + std::to_string(i),
                            i == 2 ? alert_severity::critical : alert_severity::info);
        a.subscriber = alert_party{i % 2 == 0 ? "sub-even" : "sub-odd", ""};
        d.on_alert(a);
    }
    ASSERT_TRUE(eventually([&] { return d.counters("inbox")->sent == 4; }));

    auto all = inbox->recent({});
    ASSERT_EQ(all.size(), 3u); // capacity 3: a0 went first
    EXPECT_EQ(all[0].id, "a3");
    EXPECT_EQ(all[2].id, "a1");
    alert_inbox::query q;
    q.subscriber_id = "sub-even";
    auto even = inbox->recent(q);
    ASSERT_EQ(even.size(), 1u);
    EXPECT_EQ(even[0].id, "a2");
    q = {};
    q.min_severity = alert_severity::critical;
    EXPECT_EQ(inbox->recent(q).size(), 1u);
    q = {};
    q.limit = 1;
    EXPECT_EQ(inbox->recent(q).size(), 1u);
}

TEST(alerts_json, an_alert_survives_the_round_trip) {
    auto a = make_alert("id-1", alert_severity::critical);
    a.evidence.iccid = "8944500000000000001";
    a.evidence.details = {{"threshold", "20"}, {"dimension", "source_ip"}};
    a.subscriber = alert_party{"sub-1", "alice@example.com"};
    a.operator_party = alert_party{"op-1", "soc@operator.example"};
    const std::string text = alert_to_json(a);
    EXPECT_EQ(text.find("alice@example.com"), std::string::npos) << "mail addresses leaked";
    EXPECT_NE(text.find("\"time\":\"2024-05-01T12:00:00Z\""), std::string::npos) << text;

    auto back = parse_alert_json(text);
    ASSERT_TRUE(back.has_value()) << back.error();
    EXPECT_EQ(back->id, a.id);
    EXPECT_EQ(back->time, a.time);
    EXPECT_EQ(back->severity, a.severity);
    EXPECT_EQ(back->rule, a.rule);
    EXPECT_EQ(back->summary, a.summary);
    EXPECT_EQ(back->evidence.ip, a.evidence.ip);
    EXPECT_EQ(back->evidence.eid, a.evidence.eid);
    EXPECT_EQ(back->evidence.iccid, a.evidence.iccid);
    EXPECT_EQ(back->evidence.count, a.evidence.count);
    EXPECT_EQ(back->evidence.window, a.evidence.window);
    EXPECT_EQ(back->evidence.details.size(), 2u);
    ASSERT_TRUE(back->subscriber.has_value());
    EXPECT_EQ(back->subscriber->id, "sub-1");
    ASSERT_TRUE(back->operator_party.has_value());
    EXPECT_EQ(back->operator_party->id, "op-1");
}

TEST(alerts_json, malformed_documents_are_refused) {
    EXPECT_FALSE(parse_alert_json("[]").has_value());
    EXPECT_FALSE(parse_alert_json("{\"id\":\"x\"}").has_value());
    EXPECT_FALSE(parse_alert_json(R"({"id":"x","time":"yesterday","severity":"info",)"
                                  R"("rule":"r","summary":"s"})")
                     .has_value());
    EXPECT_FALSE(parse_alert_json(R"({"id":"x","time":"2024-05-01T12:00:00Z","severity":"loud",)"
                                  R"("rule":"r","summary":"s"})")
                     .has_value());
}

TEST(alerts_text, eids_are_masked_for_text_channels) {
    EXPECT_EQ(alert_masked_eid("89049032123451234512345678901235"), "89049032…1235");
    EXPECT_EQ(alert_masked_eid("123"), "***");
    EXPECT_EQ(to_string(alert_severity::warning), "warning");
    EXPECT_EQ(parse_alert_severity("critical"), alert_severity::critical);
    EXPECT_FALSE(parse_alert_severity("Critical").has_value());
}

} // namespace
} // namespace esimguard::defense
