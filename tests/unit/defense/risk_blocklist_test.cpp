// Blocklist: TTL expiry, exact and CIDR matches (IPv4 and IPv6), EUM ranges,
// persistence through a store, and the stolen device list.

#include "esimguard/defense/blocklist.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

using namespace esimguard::defense;
using namespace std::chrono_literals;

namespace {

const risk_time_point t0 =
    risk_time_point{std::chrono::sys_days{std::chrono::year{2025} / std::chrono::January / 1}};

struct manual_clock {
    risk_time_point now = t0;
    risk_clock fn() {
        return [this] { return now; };
    }
};

// Records what the blocklist wrote; can be told to fail.
struct fake_blocklist_store final : blocklist_store {
    std::map<std::pair<block_kind, std::string>, block_entry> rows;
    bool failing = false;
    risk_result<std::vector<block_entry>> load() override {
        std::vector<block_entry> out;
        for (const auto& [k, e] : rows) {
            out.push_back(e);
        }
        return out;
    }
    risk_result<void> save(const block_entry& e) override {
        if (failing) {
            return std::unexpected(risk_error{risk_errc::unavailable, "down"});
        }
        rows[{e.kind, e.value}] = e;
        return {};
    }
    risk_result<void> remove(block_kind kind, std::string_view value) override {
        rows.erase({kind, std::string(value)});
        return {};
    }
};

struct fake_stolen_store final : stolen_devices_store {
    std::map<std::string, stolen_device> rows;
    risk_result<std::vector<stolen_device>> load() override {
        std::vector<stolen_device> out;
        for (const auto& [k, d] : rows) {
            out.push_back(d);
        }
        return out;
    }
    risk_result<void> save(const stolen_device& d) override {
        rows[d.eid] = d;
        return {};
    }
    risk_result<void> remove(std::string_view eid) override {
        rows.erase(std::string(eid));
        return {};
    }
};

block_entry entry(block_kind kind, std::string value, std::optional<risk_time_point> expires) {
    return {.kind = kind,
            .value = std::move(value),
            .reason = "test",
            .created = t0,
            .expires = expires,
            .created_by = "admin"};
}

constexpr std::string_view eid_a = "89049032123451234512345678901235";

} // namespace

TEST(risk_blocklist, when_a_block_expires_then_the_address_is_allowed_again) {
    manual_clock clock;
    blocklist b(clock.fn());
    ASSERT_TRUE(b.add(entry(block_kind::ip, "192.0.2.7", t0 + 1h)));
    clock.now = t0 + 59min;
    EXPECT_TRUE(b.match_ip("192.0.2.7"));
    clock.now = t0 + 1h;
    EXPECT_FALSE(b.match_ip("192.0.2.7"));
    EXPECT_TRUE(b.list().empty());
    EXPECT_EQ(b.purge_expired(), 1u);
}

TEST(risk_blocklist, when_an_entry_has_no_expiry_then_it_stays) {
    manual_clock clock;
    blocklist b(clock.fn());
    ASSERT_TRUE(b.add(entry(block_kind::ip, "192.0.2.7", std::nullopt)));
    clock.now = t0 + 24h * 3650;
    EXPECT_TRUE(b.match_ip("192.0.2.7"));
    EXPECT_EQ(b.purge_expired(), 0u);
}

TEST(risk_blocklist,
     when_an_ipv4_prefix_is_blocked_then_addresses_inside_match_and_outside_do_not) {
    manual_clock clock;
    blocklist b(clock.fn());
    auto added = b.add(entry(block_kind::ip_prefix, "198.51.100.77/25", std::nullopt));
    ASSERT_TRUE(added);
    EXPECT_EQ(added->value, "198.51.100.0/25") << "host bits cleared";
    EXPECT_TRUE(b.match_ip("198.51.100.0"));
    EXPECT_TRUE(b.match_ip("198.51.100.127"));
    EXPECT_FALSE(b.match_ip("198.51.100.128"));
    EXPECT_FALSE(b.match_ip("198.51.99.255"));
    // Dual-stack sockets report IPv4 peers as IPv4-mapped IPv6.
    EXPECT_TRUE(b.match_ip("::ffff:198.51.100.5"));
}

TEST(risk_blocklist,
     when_an_ipv6_prefix_is_blocked_then_addresses_inside_match_and_outside_do_not) {
    manual_clock clock;
    blocklist b(clock.fn());
    ASSERT_TRUE(b.add(entry(block_kind::ip_prefix, "2001:db8:aa::/48", std::nullopt)));
    EXPECT_TRUE(b.match_ip("2001:db8:aa:ffff::1"));
    EXPECT_TRUE(b.match_ip("[2001:db8:aa::5]"));
    EXPECT_FALSE(b.match_ip("2001:db8:ab::1"));
    EXPECT_FALSE(b.match_ip("192.0.2.1"));
}

TEST(risk_blocklist, when_prefixes_overlap_then_the_longest_match_is_reported) {
    manual_clock clock;
    blocklist b(clock.fn());
    ASSERT_TRUE(b.add(entry(block_kind::ip_prefix, "10.0.0.0/8", std::nullopt)));
    ASSERT_TRUE(b.add(entry(block_kind::ip_prefix, "10.1.0.0/16", t0 + 1h)));
    EXPECT_EQ(b.match_ip("10.1.2.3")->value, "10.1.0.0/16");
    clock.now = t0 + 2h;
    EXPECT_EQ(b.match_ip("10.1.2.3")->value, "10.0.0.0/8");
}

TEST(risk_blocklist, when_an_ipv6_address_is_written_differently_then_it_still_matches) {
    manual_clock clock;
    blocklist b(clock.fn());
    auto added = b.add(entry(block_kind::ip, "2001:0DB8:0:0:0:0:0:0001", std::nullopt));
    ASSERT_TRUE(added);
    EXPECT_EQ(added->value, "2001:db8::1");
    EXPECT_TRUE(b.match_ip("2001:db8::1"));
    EXPECT_TRUE(b.match_ip("2001:db8:0::1"));
    EXPECT_FALSE(b.match_ip("2001:db8::2"));
}

TEST(risk_blocklist, when_a_value_is_malformed_then_it_is_refused) {
    manual_clock clock;
    blocklist b(clock.fn());
    EXPECT_EQ(b.add(entry(block_kind::ip, "999.1.1.1", std::nullopt)).error().code,
              risk_errc::invalid_argument);
    EXPECT_FALSE(b.add(entry(block_kind::ip_prefix, "10.0.0.0/33", std::nullopt)));
    EXPECT_FALSE(b.add(entry(block_kind::ip_prefix, "2001:db8::/129", std::nullopt)));
    EXPECT_FALSE(b.add(entry(block_kind::ip_prefix, "10.0.0.0/", std::nullopt)));
    EXPECT_FALSE(b.add(entry(block_kind::eid, "8904", std::nullopt)));
    EXPECT_FALSE(b.add(entry(block_kind::eum, "89ab", std::nullopt)));
    EXPECT_FALSE(b.add(entry(block_kind::matching_id, "has space", std::nullopt)));
    EXPECT_TRUE(b.list().empty());
    EXPECT_FALSE(b.match_ip("not an address"));
}

TEST(risk_blocklist, when_an_eid_or_its_eum_is_blocked_then_the_eid_matches) {
    manual_clock clock;
    blocklist b(clock.fn());
    ASSERT_TRUE(b.add(entry(block_kind::eum, "89049032", std::nullopt)));
    EXPECT_EQ(b.match_eid(eid_a)->kind, block_kind::eum);
    EXPECT_FALSE(b.match_eid("89033023123451234512345678901235"));
    ASSERT_TRUE(b.add(entry(block_kind::eid, std::string(eid_a), std::nullopt)));
    EXPECT_EQ(b.match_eid(eid_a)->kind, block_kind::eid);
}

TEST(risk_blocklist, when_an_entry_is_removed_then_it_no_longer_matches) {
    manual_clock clock;
    fake_blocklist_store store;
    blocklist b(clock.fn(), &store);
    ASSERT_TRUE(b.add(entry(block_kind::matching_id, "ABC-123", std::nullopt)));
    EXPECT_TRUE(b.match_matching_id("ABC-123"));
    EXPECT_TRUE(b.remove(block_kind::matching_id, "ABC-123").value());
    EXPECT_FALSE(b.match_matching_id("ABC-123"));
    EXPECT_TRUE(store.rows.empty());
    EXPECT_FALSE(b.remove(block_kind::matching_id, "ABC-123").value());
}

TEST(risk_blocklist, when_entries_are_saved_then_a_new_blocklist_loads_the_unexpired_ones) {
    manual_clock clock;
    fake_blocklist_store store;
    {
        blocklist b(clock.fn(), &store);
        ASSERT_TRUE(b.add(entry(block_kind::ip, "192.0.2.1", t0 + 1h)));
        ASSERT_TRUE(b.add(entry(block_kind::ip_prefix, "2001:db8::/32", t0 + 48h)));
        ASSERT_TRUE(b.add(entry(block_kind::eid, std::string(eid_a), std::nullopt)));
    }
    EXPECT_EQ(store.rows.size(), 3u);
    clock.now = t0 + 2h;
    blocklist restarted(clock.fn(), &store);
    EXPECT_EQ(restarted.load().value(), 2u);
    EXPECT_FALSE(restarted.match_ip("192.0.2.1"));
    EXPECT_TRUE(restarted.match_ip("2001:db8::99"));
    EXPECT_TRUE(restarted.match_eid(eid_a));
}

TEST(risk_blocklist, when_the_store_fails_then_the_block_still_applies_in_memory) {
    manual_clock clock;
    fake_blocklist_store store;
    store.failing = true;
    blocklist b(clock.fn(), &store);
    auto r = b.add(entry(block_kind::ip, "192.0.2.1", t0 + 1h));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, risk_errc::unavailable);
    EXPECT_TRUE(b.match_ip("192.0.2.1"));
}

TEST(risk_blocklist, when_a_device_is_reported_stolen_then_it_stays_listed_until_removed) {
    fake_stolen_store store;
    stolen_devices stolen(&store);
    ASSERT_TRUE(stolen.add({.eid = std::string(eid_a),
                            .reason = "phone stolen",
                            .reported = t0,
                            .reported_by = "subscriber:42"}));
    EXPECT_FALSE(stolen.add({.eid = "123"}));
    EXPECT_TRUE(stolen.contains(eid_a));
    EXPECT_FALSE(stolen.contains("89049032123451234512345678909999"));

    stolen_devices restarted(&store);
    EXPECT_EQ(restarted.load().value(), 1u);
    EXPECT_EQ(restarted.find(eid_a)->reported_by, "subscriber:42");
    EXPECT_TRUE(restarted.remove(eid_a).value());
    EXPECT_FALSE(restarted.contains(eid_a));
    EXPECT_TRUE(store.rows.empty());
}
