// The risk engine with its default rules: each rule fires exactly at its
// threshold and not before, per-key isolation, sliding windows, blocks
// answered by precheck, stolen devices, backend failure policy, threads.

#include "esimguard/defense/risk_engine.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <fmt/core.h>
#include <string>
#include <thread>
#include <vector>

using namespace esimguard::defense;
using namespace std::chrono_literals;

namespace {

const risk_time_point t0 =
    risk_time_point{std::chrono::sys_days{std::chrono::year{2025} / std::chrono::January / 1}};

constexpr std::string_view eid_a = "89049032123451234512345678901235";
constexpr std::string_view eid_b = "89049032123451234512345678901236";
constexpr std::string_view eid_c = "89049032123451234512345678901237";

template <class A>
std::vector<A> actions_of(const risk_decision& d) {
    std::vector<A> out;
    for (const auto& a : d.actions) {
        if (const auto* x = std::get_if<A>(&a)) {
            out.push_back(*x);
        }
    }
    return out;
}

// Counts failures of every add and count when told to; delegates otherwise.
struct failing_backend final : counter_backend {
    std::shared_ptr<counter_backend> inner = create_memory_counter_backend();
    bool failing = false;
    risk_result<std::uint64_t> add(const counter_series& s, std::string_view k, std::uint32_t n,
                                   risk_time_point now) override {
        if (failing) {
            return std::unexpected(risk_error{risk_errc::unavailable, "store down"});
        }
        return inner->add(s, k, n, now);
    }
    risk_result<std::uint64_t> count(const counter_series& s, std::string_view k,
                                     risk_time_point now) override {
        if (failing) {
            return std::unexpected(risk_error{risk_errc::unavailable, "store down"});
        }
        return inner->count(s, k, now);
    }
    void reset(const counter_series& s, std::string_view k) override { inner->reset(s, k); }
    counter_stats stats() const override { return inner->stats(); }
};

class risk_engine_test : public ::testing::Test {
protected:
    risk_time_point now = t0;
    risk_clock clock = [this] { return now; };
    blocklist blocks{clock};
    stolen_devices stolen;
    std::shared_ptr<counter_backend> counters = create_memory_counter_backend();
    std::unique_ptr<risk_engine> engine = make({});

    std::unique_ptr<risk_engine> make(risk_engine_config config,
                                      std::shared_ptr<counter_backend> backend = nullptr) {
        auto e = create_risk_engine(std::move(config), backend ? backend : counters, blocks, stolen,
                                    clock);
        EXPECT_TRUE(e.has_value()) << (e ? "" : e.error().message);
        return e ? std::move(*e) : nullptr;
    }

    risk_decision unknown_id_from(std::string ip) {
        return engine->record({.kind = risk_event_kind::unknown_matching_id,
                               .source_ip = std::move(ip),
                               .matching_id = "GUESS-" + std::to_string(++guesses_)});
    }

    // Records `n - 1` events that must pass silently, then returns the n-th decision.
    risk_decision nth(int n, const std::function<risk_decision()>& record) {
        for (int i = 1; i < n; ++i) {
            auto d = record();
            EXPECT_TRUE(d.allowed()) << "event " << i << " refused by " << d.rule.value_or("?");
            EXPECT_TRUE(d.actions.empty()) << "event " << i << " already acted";
        }
        return record();
    }

    int guesses_ = 0;
};

} // namespace

TEST_F(risk_engine_test, when_one_address_sends_twenty_unknown_matching_ids_then_it_is_blocked) {
    EXPECT_TRUE(engine->precheck({.source_ip = "203.0.113.9"}).allowed());
    auto d = nth(20, [&] { return unknown_id_from("203.0.113.9"); });
    EXPECT_FALSE(d.allowed());
    EXPECT_EQ(d.rule, "matching_id_guessing");
    ASSERT_TRUE(d.evidence);
    EXPECT_EQ(d.evidence->count, 20u);
    EXPECT_EQ(d.evidence->key, "203.0.113.9");
    auto alerts = actions_of<risk_alert_action>(d);
    ASSERT_EQ(alerts.size(), 1u);
    EXPECT_EQ(alerts[0].severity, risk_severity::warning);
    auto blocks_done = actions_of<risk_block_source_action>(d);
    ASSERT_EQ(blocks_done.size(), 1u);
    EXPECT_EQ(blocks_done[0].entry.value, "203.0.113.9");
    EXPECT_EQ(blocks_done[0].entry.expires, t0 + 1h);

    auto pre = engine->precheck({.source_ip = "203.0.113.9"});
    EXPECT_FALSE(pre.allowed());
    EXPECT_EQ(pre.rule, "blocklist:ip");
}

TEST_F(risk_engine_test, when_one_address_guesses_then_other_addresses_are_unaffected) {
    nth(20, [&] { return unknown_id_from("203.0.113.9"); });
    auto d = nth(19, [&] { return unknown_id_from("203.0.113.10"); });
    EXPECT_TRUE(d.allowed());
    EXPECT_TRUE(engine->precheck({.source_ip = "203.0.113.10"}).allowed());
    EXPECT_TRUE(engine->precheck({.source_ip = "198.51.100.1"}).allowed());
}

TEST_F(risk_engine_test, when_guesses_are_spread_over_more_than_the_window_then_nothing_fires) {
    for (int i = 0; i < 19; ++i) {
        ASSERT_TRUE(unknown_id_from("203.0.113.9").allowed());
    }
    // The first 19 fall out of the 10-minute window (to within one bucket).
    now += 10min;
    auto d = unknown_id_from("203.0.113.9");
    EXPECT_TRUE(d.allowed());
    EXPECT_EQ(d.evidence, std::nullopt);
    EXPECT_TRUE(engine->precheck({.source_ip = "203.0.113.9"}).allowed());
}

TEST_F(risk_engine_test,
       when_the_threshold_is_passed_then_requests_are_refused_but_actions_not_repeated) {
    nth(20, [&] { return unknown_id_from("203.0.113.9"); });
    auto d = unknown_id_from("203.0.113.9");
    EXPECT_FALSE(d.allowed());
    EXPECT_EQ(d.rule, "matching_id_guessing");
    EXPECT_TRUE(d.actions.empty());
}

TEST_F(risk_engine_test, when_the_block_expires_then_the_address_may_try_again) {
    nth(20, [&] { return unknown_id_from("203.0.113.9"); });
    now += 59min;
    EXPECT_FALSE(engine->precheck({.source_ip = "203.0.113.9"}).allowed());
    now += 1min;
    EXPECT_TRUE(engine->precheck({.source_ip = "203.0.113.9"}).allowed());
}

TEST_F(risk_engine_test, when_an_ipv6_attacker_rotates_addresses_in_its_64_then_the_64_is_blocked) {
    int host = 0;
    auto d = nth(20, [&] { return unknown_id_from(fmt::format("2001:db8:1:2::{:x}", ++host)); });
    EXPECT_FALSE(d.allowed());
    auto b = actions_of<risk_block_source_action>(d);
    ASSERT_EQ(b.size(), 1u);
    EXPECT_EQ(b[0].entry.kind, block_kind::ip_prefix);
    EXPECT_EQ(b[0].entry.value, "2001:db8:1:2::/64");
    EXPECT_FALSE(engine->precheck({.source_ip = "2001:db8:1:2:ffff::1"}).allowed());
    EXPECT_TRUE(engine->precheck({.source_ip = "2001:db8:1:3::1"}).allowed());
}

TEST_F(risk_engine_test, when_one_address_sends_five_bad_signatures_then_it_is_blocked_for_a_day) {
    auto d = nth(5, [&] {
        return engine->record({.kind = risk_event_kind::bad_signature,
                               .source_ip = "198.51.100.4",
                               .eid = std::string(eid_a)});
    });
    EXPECT_FALSE(d.allowed());
    EXPECT_EQ(d.rule, "forged_device_signature");
    ASSERT_EQ(actions_of<risk_alert_action>(d).size(), 1u);
    EXPECT_EQ(actions_of<risk_alert_action>(d)[0].severity, risk_severity::critical);
    EXPECT_EQ(actions_of<risk_alert_action>(d)[0].evidence.eid, std::string(eid_a));
    EXPECT_EQ(actions_of<risk_block_source_action>(d).at(0).entry.expires, t0 + 24h);
    EXPECT_FALSE(engine->precheck({.source_ip = "198.51.100.4"}).allowed());
}

TEST_F(risk_engine_test, when_one_address_sends_five_bad_chains_then_it_is_blocked) {
    auto d = nth(5, [&] {
        return engine->record({.kind = risk_event_kind::bad_chain, .source_ip = "198.51.100.5"});
    });
    EXPECT_FALSE(d.allowed());
    EXPECT_EQ(d.rule, "forged_device_chain");
    EXPECT_EQ(actions_of<risk_block_source_action>(d).size(), 1u);
    EXPECT_FALSE(engine->precheck({.source_ip = "198.51.100.5"}).allowed());
}

TEST_F(
    risk_engine_test,
    when_a_confirmation_code_fails_three_times_then_the_order_is_paused_and_the_subscriber_told) {
    int ip = 0;
    // From a new address each time: the count is per profile.
    auto d = nth(3, [&] {
        return engine->record({.kind = risk_event_kind::cc_failure,
                               .source_ip = fmt::format("192.0.2.{}", ++ip),
                               .matching_id = "MATCH-0001-XYZ",
                               .iccid = "8944000000000000001",
                               .order_id = "order-1",
                               .subscriber_id = "sub-1"});
    });
    EXPECT_FALSE(d.allowed());
    EXPECT_EQ(d.rule, "cc_brute_force");
    auto pause = actions_of<risk_pause_order_action>(d);
    ASSERT_EQ(pause.size(), 1u);
    EXPECT_EQ(pause[0].order_id, "order-1");
    EXPECT_EQ(pause[0].iccid, "8944000000000000001");
    auto told = actions_of<risk_notify_subscriber_action>(d);
    ASSERT_EQ(told.size(), 1u);
    EXPECT_EQ(told[0].subscriber_id, "sub-1");
    EXPECT_EQ(actions_of<risk_alert_action>(d).size(), 1u);
    EXPECT_TRUE(actions_of<risk_block_source_action>(d).empty());
    // Another profile is untouched.
    EXPECT_TRUE(engine
                    ->record({.kind = risk_event_kind::cc_failure,
                              .source_ip = "192.0.2.200",
                              .iccid = "8944000000000000002"})
                    .allowed());
}

TEST_F(risk_engine_test, when_one_address_fails_ten_codes_across_profiles_then_it_is_blocked) {
    int iccid = 0;
    auto d = nth(10, [&] {
        return engine->record({.kind = risk_event_kind::cc_failure,
                               .source_ip = "192.0.2.66",
                               .iccid = fmt::format("89440000000000{:05}", ++iccid)});
    });
    EXPECT_FALSE(d.allowed());
    EXPECT_EQ(d.rule, "cc_spray_from_address");
    EXPECT_EQ(actions_of<risk_block_source_action>(d).size(), 1u);
}

TEST_F(risk_engine_test,
       when_one_eid_starts_five_downloads_in_a_day_then_it_is_paused_and_alerted) {
    int n = 0;
    auto d = nth(5, [&] {
        ++n;
        now += 1h;
        return engine->record({.kind = risk_event_kind::download_started,
                               .source_ip = "192.0.2.10",
                               .eid = std::string(eid_a),
                               .iccid = fmt::format("89440000000000{:05}", n),
                               .order_id = fmt::format("order-{}", n)});
    });
    EXPECT_FALSE(d.allowed());
    EXPECT_EQ(d.rule, "eid_pulling_profiles");
    EXPECT_EQ(actions_of<risk_pause_order_action>(d).at(0).order_id, "order-5");
    EXPECT_EQ(actions_of<risk_alert_action>(d).size(), 1u);
    // Another device is not affected.
    EXPECT_TRUE(engine
                    ->record({.kind = risk_event_kind::download_started,
                              .source_ip = "192.0.2.10",
                              .eid = std::string(eid_b)})
                    .allowed());
}

TEST_F(risk_engine_test, when_three_distinct_eids_try_one_profile_then_the_order_is_paused) {
    auto tried = [&](std::string_view eid) {
        return engine->record({.kind = risk_event_kind::profile_tried_by_eid,
                               .source_ip = "192.0.2.20",
                               .eid = std::string(eid),
                               .iccid = "8944000000000000009",
                               .order_id = "order-9",
                               .subscriber_id = "sub-9"});
    };
    // The same device retrying is one device.
    for (int i = 0; i < 10; ++i) {
        ASSERT_TRUE(tried(eid_a).allowed());
    }
    auto second = tried(eid_b);
    EXPECT_TRUE(second.allowed());
    EXPECT_TRUE(second.actions.empty());
    auto d = tried(eid_c);
    EXPECT_FALSE(d.allowed());
    EXPECT_EQ(d.rule, "profile_tried_by_many_eids");
    EXPECT_EQ(d.evidence->count, 3u);
    EXPECT_EQ(actions_of<risk_pause_order_action>(d).at(0).order_id, "order-9");
    EXPECT_EQ(actions_of<risk_alert_action>(d).at(0).severity, risk_severity::critical);
    EXPECT_EQ(actions_of<risk_notify_subscriber_action>(d).size(), 1u);
    // An EID seen before keeps being refused while the count stands, without new actions.
    auto again = tried(eid_a);
    EXPECT_FALSE(again.allowed());
    EXPECT_TRUE(again.actions.empty());
}

TEST_F(risk_engine_test,
       when_a_download_goes_to_a_stolen_eid_then_it_is_refused_with_a_critical_alert) {
    ASSERT_TRUE(stolen.add({.eid = std::string(eid_a), .reason = "reported by owner"}));
    auto d = engine->record({.kind = risk_event_kind::download_started,
                             .source_ip = "192.0.2.30",
                             .eid = std::string(eid_a),
                             .iccid = "8944000000000000003"});
    EXPECT_FALSE(d.allowed());
    EXPECT_EQ(d.rule, "download_to_stolen_eid");
    auto alerts = actions_of<risk_alert_action>(d);
    ASSERT_EQ(alerts.size(), 1u);
    EXPECT_EQ(alerts[0].severity, risk_severity::critical);
    EXPECT_EQ(alerts[0].evidence.eid, std::string(eid_a));

    auto pre = engine->precheck({.source_ip = "192.0.2.30", .eid = std::string(eid_a)});
    EXPECT_FALSE(pre.allowed());
    EXPECT_EQ(pre.rule, "download_to_stolen_eid");
    EXPECT_EQ(actions_of<risk_alert_action>(pre).size(), 1u);
    // Another device downloads normally; the stolen one stays refused a year on.
    EXPECT_TRUE(engine->precheck({.source_ip = "192.0.2.30", .eid = std::string(eid_b)}).allowed());
    now += 24h * 365;
    EXPECT_FALSE(
        engine->precheck({.source_ip = "192.0.2.31", .eid = std::string(eid_a)}).allowed());
}

TEST_F(risk_engine_test, when_an_eid_or_matching_id_is_blocked_then_precheck_refuses_it) {
    ASSERT_TRUE(blocks.add({.kind = block_kind::eum, .value = "8904903212345"}));
    ASSERT_TRUE(blocks.add({.kind = block_kind::matching_id, .value = "SECRET-MID-1"}));
    auto by_eum = engine->precheck({.source_ip = "192.0.2.1", .eid = std::string(eid_a)});
    EXPECT_FALSE(by_eum.allowed());
    EXPECT_EQ(by_eum.rule, "blocklist:eum");
    auto by_id = engine->precheck({.source_ip = "192.0.2.1", .matching_id = "SECRET-MID-1"});
    EXPECT_FALSE(by_id.allowed());
    EXPECT_EQ(by_id.evidence->key.find("SECRET-MID-1"), std::string::npos) << "masked";
    EXPECT_TRUE(engine->precheck({.source_ip = "192.0.2.1", .matching_id = "OTHER"}).allowed());
}

TEST_F(risk_engine_test, when_the_counter_backend_fails_then_the_fail_policy_decides) {
    auto backend = std::make_shared<failing_backend>();
    backend->failing = true;
    auto open = make({}, backend);
    auto d = open->record({.kind = risk_event_kind::unknown_matching_id, .source_ip = "192.0.2.1"});
    EXPECT_TRUE(d.allowed());
    EXPECT_TRUE(d.degraded);
    auto closed = make({.fail_closed = true}, backend);
    auto c =
        closed->record({.kind = risk_event_kind::unknown_matching_id, .source_ip = "192.0.2.1"});
    EXPECT_FALSE(c.allowed());
    EXPECT_TRUE(c.degraded);
}

TEST_F(risk_engine_test, when_one_address_replays_then_the_first_alerts_and_the_fifth_blocks) {
    const auto replay = [&] {
        return engine->record({.kind = risk_event_kind::replay,
                               .source_ip = "203.0.113.40",
                               .eid = std::string(eid_a)});
    };
    auto first = replay();
    // The procedure refuses a replayed call itself; the rule only tells.
    EXPECT_TRUE(first.allowed());
    auto told = actions_of<risk_alert_action>(first);
    ASSERT_EQ(told.size(), 1u);
    EXPECT_EQ(told[0].rule, "replayed_session");
    EXPECT_EQ(told[0].severity, risk_severity::critical);
    EXPECT_EQ(told[0].evidence.source_ip, "203.0.113.40");
    EXPECT_EQ(told[0].evidence.eid, std::string(eid_a));
    for (int i = 2; i < 5; ++i) {
        auto d = replay();
        EXPECT_TRUE(d.allowed()) << i;
        EXPECT_TRUE(d.actions.empty()) << "one alert per window, not per replay (" << i << ")";
    }
    auto fifth = replay();
    EXPECT_FALSE(fifth.allowed());
    EXPECT_EQ(fifth.rule, "replays_from_address");
    ASSERT_TRUE(fifth.evidence);
    EXPECT_EQ(fifth.evidence->count, 5u);
    auto blocked = actions_of<risk_block_source_action>(fifth);
    ASSERT_EQ(blocked.size(), 1u);
    EXPECT_EQ(blocked[0].entry.expires, t0 + 1h);
    EXPECT_FALSE(engine->precheck({.source_ip = "203.0.113.40"}).allowed());
}

TEST_F(risk_engine_test, when_two_rules_count_the_same_series_then_an_event_counts_once) {
    const risk_rule early{.name = "early",
                          .kind = risk_event_kind::bad_chain,
                          .dimension = risk_dimension::source_ip,
                          .threshold = 2,
                          .window = 600s,
                          .refuse = false};
    risk_rule late = early;
    late.name = "late";
    late.threshold = 3;
    auto e = make({.rules = {early, late}});
    const auto chain = [&] {
        return e->record({.kind = risk_event_kind::bad_chain, .source_ip = "203.0.113.41"});
    };
    EXPECT_TRUE(chain().actions.empty());
    auto second = chain();
    ASSERT_EQ(actions_of<risk_alert_action>(second).size(), 1u);
    EXPECT_EQ(actions_of<risk_alert_action>(second)[0].rule, "early");
    auto third = chain();
    ASSERT_EQ(actions_of<risk_alert_action>(third).size(), 1u);
    EXPECT_EQ(actions_of<risk_alert_action>(third)[0].rule, "late");
    EXPECT_EQ(actions_of<risk_alert_action>(third)[0].evidence.count, 3u);
}

TEST_F(risk_engine_test, when_a_rule_is_invalid_then_no_engine_is_made) {
    auto rules = default_risk_rules();
    rules.push_back(rules.front()); // duplicate name
    auto dup = create_risk_engine({.rules = rules}, counters, blocks, stolen, clock);
    ASSERT_FALSE(dup);
    EXPECT_NE(dup.error().message.find("matching_id_guessing"), std::string::npos);
    auto zero = default_risk_rules();
    zero[0].threshold = 0;
    EXPECT_FALSE(create_risk_engine({.rules = zero}, counters, blocks, stolen, clock));
    EXPECT_FALSE(create_risk_engine({.ipv6_prefix_length = 0}, counters, blocks, stolen, clock));
}

TEST_F(risk_engine_test, when_an_operator_resets_a_rule_for_a_key_then_counting_starts_again) {
    nth(4, [&] {
        return engine->record(
            {.kind = risk_event_kind::download_started, .eid = std::string(eid_a)});
    });
    EXPECT_TRUE(engine->reset("eid_pulling_profiles", eid_a));
    EXPECT_FALSE(engine->reset("no_such_rule", eid_a));
    auto d = engine->record({.kind = risk_event_kind::download_started, .eid = std::string(eid_a)});
    EXPECT_TRUE(d.allowed());
}

TEST_F(risk_engine_test, when_many_threads_record_at_once_then_the_rule_fires_exactly_once) {
    // A high threshold so that the count itself is checked: exactly one
    // event among all threads reaches it, however they interleave.
    auto rules = default_risk_rules();
    rules[0].threshold = 4000;
    auto e = make({.rules = rules});
    constexpr int threads = 8;
    constexpr int per_thread = 1000;
    std::atomic<int> fired{0};
    std::atomic<int> refused{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&] {
            for (int i = 0; i < per_thread; ++i) {
                auto d = e->record(
                    {.kind = risk_event_kind::unknown_matching_id, .source_ip = "203.0.113.50"});
                fired += d.actions.empty() ? 0 : 1;
                refused += d.allowed() ? 0 : 1;
            }
        });
    }
    for (auto& th : pool) {
        th.join();
    }
    const counter_series s{.kind = risk_event_kind::unknown_matching_id,
                           .dimension = risk_dimension::source_ip,
                           .window = 600s};
    EXPECT_EQ(counters->count(s, "203.0.113.50", now).value(),
              static_cast<std::uint64_t>(threads * per_thread));
    EXPECT_EQ(fired.load(), 1);
    EXPECT_EQ(refused.load(), threads * per_thread - 4000 + 1);
    EXPECT_FALSE(e->precheck({.source_ip = "203.0.113.50"}).allowed());
}
