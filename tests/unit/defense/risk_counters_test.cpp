// Sliding-window counters: window arithmetic, per-key isolation, LRU eviction
// at the cap, memory under an address spray, and exact totals under threads.

#include "esimguard/defense/risk_counters.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fmt/core.h>
#include <string>
#include <thread>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
// From <sanitizer/allocator_interface.h>, which g++ does not ship.
extern "C" std::size_t __sanitizer_get_current_allocated_bytes();
#else
#include <malloc.h>
#endif

using namespace esimguard::defense;
using namespace std::chrono_literals;

namespace {

const risk_time_point t0 =
    risk_time_point{std::chrono::sys_days{std::chrono::year{2025} / std::chrono::January / 1}};

// 10 minutes in 10 buckets of one minute.
const counter_series guesses{.kind = risk_event_kind::unknown_matching_id,
                             .dimension = risk_dimension::source_ip,
                             .window = 600s};

std::uint64_t add(counter_backend& c, std::string_view key, risk_time_point at,
                  std::uint32_t n = 1) {
    auto r = c.add(guesses, key, n, at);
    EXPECT_TRUE(r.has_value());
    return r.value_or(0);
}

std::uint64_t count(counter_backend& c, std::string_view key, risk_time_point at) {
    auto r = c.count(guesses, key, at);
    EXPECT_TRUE(r.has_value());
    return r.value_or(0);
}

// Bytes currently allocated by this process: what the sanitizer's allocator
// reports under ASan (which replaces malloc), glibc's arena use otherwise.
std::size_t allocated_bytes() {
#if defined(__SANITIZE_ADDRESS__)
    return __sanitizer_get_current_allocated_bytes();
#else
    return mallinfo2().uordblks;
#endif
}

std::string ipv4(std::uint32_t n) {
    return fmt::format("10.{}.{}.{}", (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
}

} // namespace

TEST(risk_counters, when_events_are_added_then_the_window_total_counts_them) {
    auto c = create_memory_counter_backend();
    EXPECT_EQ(add(*c, "192.0.2.1", t0), 1u);
    EXPECT_EQ(add(*c, "192.0.2.1", t0 + 30s), 2u);
    EXPECT_EQ(add(*c, "192.0.2.1", t0 + 5min, 3), 5u);
    EXPECT_EQ(count(*c, "192.0.2.1", t0 + 5min), 5u);
}

TEST(risk_counters, when_the_window_slides_past_old_buckets_then_their_events_are_forgotten) {
    auto c = create_memory_counter_backend();
    add(*c, "192.0.2.1", t0);           // bucket 0
    add(*c, "192.0.2.1", t0 + 5min, 2); // bucket 5
    // Bucket 0 still counts until the window has moved a whole window past it.
    EXPECT_EQ(count(*c, "192.0.2.1", t0 + 9min + 59s), 3u);
    EXPECT_EQ(count(*c, "192.0.2.1", t0 + 10min), 2u);
    EXPECT_EQ(add(*c, "192.0.2.1", t0 + 10min), 3u);
    EXPECT_EQ(count(*c, "192.0.2.1", t0 + 15min), 1u);
    EXPECT_EQ(count(*c, "192.0.2.1", t0 + 20min), 0u);
    // Long idle: every bucket is stale at once.
    EXPECT_EQ(add(*c, "192.0.2.1", t0 + 24h), 1u);
}

TEST(risk_counters, when_one_key_counts_then_other_keys_and_series_are_unaffected) {
    auto c = create_memory_counter_backend();
    for (int i = 0; i < 7; ++i) {
        add(*c, "192.0.2.1", t0);
    }
    EXPECT_EQ(count(*c, "192.0.2.2", t0), 0u);
    const counter_series other{.kind = risk_event_kind::bad_signature,
                               .dimension = risk_dimension::source_ip,
                               .window = 600s};
    EXPECT_EQ(c->count(other, "192.0.2.1", t0).value(), 0u);
    EXPECT_EQ(add(*c, "192.0.2.2", t0), 1u);
    EXPECT_EQ(count(*c, "192.0.2.1", t0), 7u);
}

TEST(risk_counters, when_a_key_is_reset_then_it_counts_from_zero_and_others_keep_theirs) {
    auto c = create_memory_counter_backend({.shards = 1});
    add(*c, "a", t0, 4);
    add(*c, "b", t0, 2);
    add(*c, "c", t0, 1);
    c->reset(guesses, "a");
    EXPECT_EQ(count(*c, "a", t0), 0u);
    EXPECT_EQ(count(*c, "b", t0), 2u);
    EXPECT_EQ(count(*c, "c", t0), 1u);
    EXPECT_EQ(c->stats().tracked(risk_dimension::source_ip), 2u);
    EXPECT_EQ(add(*c, "c", t0), 2u);
    EXPECT_EQ(add(*c, "a", t0), 1u);
}

TEST(risk_counters, when_a_key_is_only_read_then_nothing_is_tracked) {
    auto c = create_memory_counter_backend();
    EXPECT_EQ(count(*c, "192.0.2.9", t0), 0u);
    EXPECT_EQ(c->stats().tracked(risk_dimension::source_ip), 0u);
}

TEST(risk_counters, when_the_cap_is_reached_then_the_least_recently_seen_key_is_evicted) {
    auto c = create_memory_counter_backend({.max_keys_per_dimension = 3, .shards = 1});
    add(*c, "a", t0, 5);
    add(*c, "b", t0, 5);
    add(*c, "c", t0, 5);
    add(*c, "a", t0 + 1s); // a is now the most recently seen; b the least
    add(*c, "d", t0 + 2s);
    EXPECT_EQ(count(*c, "b", t0 + 2s), 0u) << "b was least recently seen";
    EXPECT_EQ(count(*c, "a", t0 + 2s), 6u);
    EXPECT_EQ(count(*c, "c", t0 + 2s), 5u);
    EXPECT_EQ(count(*c, "d", t0 + 2s), 1u);
    add(*c, "e", t0 + 3s); // now c is the least recently seen
    EXPECT_EQ(count(*c, "c", t0 + 3s), 0u);
    EXPECT_EQ(count(*c, "a", t0 + 3s), 6u);
    const auto st = c->stats();
    EXPECT_EQ(st.tracked(risk_dimension::source_ip), 3u);
    EXPECT_EQ(st.evicted(risk_dimension::source_ip), 2u);
}

TEST(risk_counters, when_one_dimension_is_full_then_other_dimensions_keep_their_keys) {
    auto c = create_memory_counter_backend({.max_keys_per_dimension = 1000,
                                            .max_keys = {{risk_dimension::source_ip, 2}},
                                            .shards = 1});
    const counter_series per_eid{
        .kind = risk_event_kind::download_started, .dimension = risk_dimension::eid, .window = 24h};
    ASSERT_TRUE(c->add(per_eid, "89049032000000000000000000000001", 1, t0));
    for (int i = 0; i < 100; ++i) {
        add(*c, ipv4(i), t0);
    }
    EXPECT_EQ(c->stats().tracked(risk_dimension::source_ip), 2u);
    EXPECT_EQ(c->count(per_eid, "89049032000000000000000000000001", t0).value(), 1u);
}

TEST(risk_counters,
     when_one_million_addresses_spray_then_tracked_keys_and_memory_stay_under_the_cap) {
    constexpr std::size_t cap = 10'000;
    constexpr std::uint32_t spray = 1'000'000;
    // Per tracked key (B = 10, key <= 15 bytes so it stays in the string's
    // own buffer): slot 32 B + counts 40 B + hash node 56 B (malloc: 64) +
    // hash bucket pointer 8-16 B = about 150 B. 256 B leaves room for malloc
    // rounding and a hash table that doubled once; a backend that kept
    // every sprayed key would need over 100 MB and fail by far.
    constexpr std::size_t per_key_bound = 256;
    constexpr std::size_t fixed_overhead = 64 * 1024; // shards, series table, vector headers

    const std::size_t before = allocated_bytes();
    auto c = create_memory_counter_backend({.max_keys_per_dimension = cap});
    for (std::uint32_t i = 0; i < spray; ++i) {
        ASSERT_TRUE(c->add(guesses, ipv4(i), 1, t0 + std::chrono::milliseconds(i)));
    }
    const std::size_t used = allocated_bytes() - before;
    const auto st = c->stats();

    EXPECT_LE(st.tracked(risk_dimension::source_ip), cap);
    // Shards split the cap evenly, so nearly all of it is in use.
    EXPECT_GE(st.tracked(risk_dimension::source_ip), cap * 9 / 10);
    EXPECT_EQ(st.evicted(risk_dimension::source_ip) + st.tracked(risk_dimension::source_ip), spray);
    EXPECT_LT(used, cap * per_key_bound + fixed_overhead);
    // The most recent addresses survive; the first ones are long gone.
    EXPECT_EQ(c->count(guesses, ipv4(spray - 1), t0 + 1000s).value(), 1u);
    EXPECT_EQ(c->count(guesses, ipv4(0), t0 + 1000s).value(), 0u);
    std::printf("[ memory  ] %zu tracked keys, %zu bytes, %.1f bytes per key\n",
                st.tracked(risk_dimension::source_ip), used,
                static_cast<double>(used) /
                    static_cast<double>(st.tracked(risk_dimension::source_ip)));
    RecordProperty("bytes_per_key", static_cast<int>(used / st.tracked(risk_dimension::source_ip)));
}

TEST(risk_counters, when_keys_are_huge_then_they_are_folded_and_memory_stays_bounded) {
    constexpr std::size_t cap = 1'000;
    const std::size_t before = allocated_bytes();
    auto c = create_memory_counter_backend({.max_keys_per_dimension = cap});
    const counter_series per_id{.kind = risk_event_kind::unknown_matching_id,
                                .dimension = risk_dimension::matching_id,
                                .window = 600s};
    std::string junk(10'000, 'x');
    for (int i = 0; i < 5'000; ++i) {
        junk.replace(0, 8, fmt::format("{:08}", i));
        ASSERT_TRUE(c->add(per_id, junk, 1, t0));
    }
    const std::size_t used = allocated_bytes() - before;
    EXPECT_LE(c->stats().tracked(risk_dimension::matching_id), cap);
    // Folded keys are ~28 bytes (heap); unfolded ones would be 10 KB each.
    EXPECT_LT(used, cap * 512 + 64 * 1024);
    // Folding keeps distinct keys distinct.
    EXPECT_EQ(c->count(per_id, junk, t0).value(), 1u);
    EXPECT_EQ(c->add(per_id, junk, 1, t0).value(), 2u);
}

TEST(risk_counters, when_many_threads_add_at_once_then_totals_are_exact) {
    auto c = create_memory_counter_backend({.max_keys_per_dimension = 100'000, .shards = 4});
    constexpr int threads = 8;
    constexpr int per_thread = 5'000;
    std::atomic<bool> go{false};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            while (!go.load()) {
                std::this_thread::yield();
            }
            for (int i = 0; i < per_thread; ++i) {
                // One key every thread hits, and one per thread and i % 50.
                (void)c->add(guesses, "shared", 1, t0);
                (void)c->add(guesses, fmt::format("t{}-{}", t, i % 50), 1, t0);
            }
        });
    }
    go = true;
    for (auto& th : pool) {
        th.join();
    }
    EXPECT_EQ(count(*c, "shared", t0), static_cast<std::uint64_t>(threads * per_thread));
    for (int t = 0; t < threads; ++t) {
        for (int k = 0; k < 50; ++k) {
            ASSERT_EQ(count(*c, fmt::format("t{}-{}", t, k), t0),
                      static_cast<std::uint64_t>(per_thread / 50));
        }
    }
    EXPECT_EQ(c->stats().tracked(risk_dimension::source_ip), 1u + threads * 50u);
}

TEST(risk_counters, series_names_are_stable_for_a_shared_store) {
    EXPECT_EQ(guesses.name(), "unknown_matching_id/source_ip/600s");
    const counter_series pairs{.kind = risk_event_kind::profile_tried_by_eid,
                               .dimension = risk_dimension::iccid,
                               .window = 24h,
                               .distinct = risk_dimension::eid};
    EXPECT_EQ(pairs.name(), "profile_tried_by_eid/iccid+eid/86400s");
}
