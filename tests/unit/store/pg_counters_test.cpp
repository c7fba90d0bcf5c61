// The risk engine's shared counters on PostgreSQL: what two nodes add to
// one key adds up, windows slide as in memory, and the sweep bounds the
// rows (issue 6). Compiled into unit_store_pg only.

#ifdef ESIMGUARD_STORE_TEST_POSTGRES

#include "esimguard/defense/shared_counters.hpp"
#include "esimguard/store/counter_store.hpp"
#include "pg_fixture.hpp"
#include "store_fixture.hpp"

#include <barrier>
#include <thread>

namespace esimguard::store::testing {
namespace {

using defense::counter_series;
using defense::risk_dimension;

counter_series guesses() {
    counter_series s;
    s.kind = defense::risk_event_kind::request;
    s.dimension = risk_dimension::source_ip;
    s.window = std::chrono::seconds(600);
    return s;
}

class pg_counters : public ::testing::Test {
protected:
    void SetUp() override {
        cfg_ = fresh_pg_config(4);
        for (auto* node : {&node_a_, &node_b_}) {
            auto t = create_postgres_counter_store(cfg_);
            ASSERT_TRUE(t.has_value()) << t.error().message;
            *node = defense::create_shared_counter_backend(std::move(*t), config_);
        }
    }

    postgres_config cfg_;
    defense::shared_counter_config config_;
    std::unique_ptr<defense::counter_backend> node_a_;
    std::unique_ptr<defense::counter_backend> node_b_;
};

TEST_F(pg_counters, when_two_nodes_add_to_one_key_then_each_sees_the_sum) {
    auto a = node_a_->add(guesses(), "192.0.2.1", 1, t0());
    ASSERT_TRUE(a.has_value()) << a.error().message;
    EXPECT_EQ(*a, 1u);
    auto b = node_b_->add(guesses(), "192.0.2.1", 2, t0() + 1s);
    ASSERT_TRUE(b.has_value());
    EXPECT_EQ(*b, 3u);
    EXPECT_EQ(node_a_->count(guesses(), "192.0.2.1", t0() + 2s).value_or(0), 3u);
    EXPECT_EQ(node_a_->count(guesses(), "192.0.2.2", t0() + 2s).value_or(99), 0u);
}

TEST_F(pg_counters, when_threads_on_two_nodes_add_at_once_then_no_increment_is_lost) {
    constexpr int threads = 16;
    constexpr int adds = 25;
    std::barrier start(threads);
    std::vector<std::thread> pool;
    std::atomic<int> errors{0};
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            auto& node = t % 2 == 0 ? node_a_ : node_b_;
            start.arrive_and_wait();
            for (int i = 0; i < adds; ++i) {
                if (!node->add(guesses(), "198.51.100.9", 1, t0())) {
                    ++errors;
                }
            }
        });
    }
    for (auto& t : pool) {
        t.join();
    }
    EXPECT_EQ(errors.load(), 0);
    EXPECT_EQ(node_b_->count(guesses(), "198.51.100.9", t0()).value_or(0),
              static_cast<std::uint64_t>(threads * adds));
}

TEST_F(pg_counters, when_the_window_passes_then_old_events_stop_counting) {
    ASSERT_TRUE(node_a_->add(guesses(), "k", 5, t0()).has_value());
    // Bucket width 60 s: still counted 9 buckets later, gone after 10.
    EXPECT_EQ(node_b_->count(guesses(), "k", t0() + 540s).value_or(0), 5u);
    EXPECT_EQ(node_b_->count(guesses(), "k", t0() + 600s).value_or(99), 0u);
    auto later = node_b_->add(guesses(), "k", 1, t0() + 600s);
    ASSERT_TRUE(later.has_value());
    EXPECT_EQ(*later, 1u);
}

TEST_F(pg_counters, when_a_key_is_reset_then_both_nodes_count_from_zero) {
    ASSERT_TRUE(node_a_->add(guesses(), "k", 4, t0()).has_value());
    node_b_->reset(guesses(), "k");
    EXPECT_EQ(node_a_->count(guesses(), "k", t0()).value_or(99), 0u);
}

TEST_F(pg_counters, when_a_spray_exceeds_the_row_bound_then_the_sweep_deletes_the_oldest) {
    auto t = create_postgres_counter_store(cfg_);
    ASSERT_TRUE(t.has_value());
    auto& table = **t;
    const std::string series = guesses().name();
    for (int i = 0; i < 50; ++i) {
        ASSERT_TRUE(table.add(series, "spray-" + std::to_string(i), i, 1, 0).has_value());
    }
    auto deleted = table.sweep(series, 10, 20);
    ASSERT_TRUE(deleted.has_value());
    // 10 buckets left the window, then 20 of the remaining 40 were over the bound.
    EXPECT_EQ(*deleted, 30u);
    EXPECT_EQ(table.keys(series).value_or(0), 20u);
    EXPECT_EQ(table.sum(series, "spray-49", 0, 100).value_or(0), 1u);
    EXPECT_EQ(table.sum(series, "spray-29", 0, 100).value_or(99), 0u);
}

TEST_F(pg_counters, when_a_key_is_very_long_then_it_is_stored_hashed_and_still_counts) {
    std::string huge(10'000, 'x');
    ASSERT_TRUE(node_a_->add(guesses(), huge, 1, t0()).has_value());
    EXPECT_EQ(node_b_->add(guesses(), huge, 1, t0()).value_or(0), 2u);
}

TEST(pg_counters_down, when_the_database_is_unreachable_then_the_counter_store_does_not_open) {
    // A store whose server is gone: connect to a port nothing listens on.
    postgres_config cfg;
    cfg.url = "postgresql://esimguard@127.0.0.1:1/postgres";
    cfg.connect_timeout = std::chrono::seconds(1);
    EXPECT_FALSE(create_postgres_counter_store(cfg).has_value());
}

} // namespace
} // namespace esimguard::store::testing

#endif
