#include "store_fixture.hpp"

#include <array>
#include <barrier>
#include <thread>
#include <vector>

namespace esimguard::store::testing {
namespace {

class download : public store_test {};

TEST_F(download, when_order_is_released_then_begin_download_grants_and_counts_an_attempt) {
    released_order(1);
    auto d = db().begin_download("MID-1", eid_a, t0() + 1min);
    ASSERT_TRUE(d.has_value()) << d.error().message;
    EXPECT_TRUE(d->granted());
    ASSERT_TRUE(d->order.has_value());
    EXPECT_EQ(d->order->download_attempts, 1);
    EXPECT_EQ(db().find_order("order-1")->download_attempts, 1);
}

TEST_F(download, when_matching_id_is_unknown_then_refusal_is_unknown_matching_id) {
    released_order(1);
    auto d = db().begin_download("MID-404", eid_a, t0());
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->refusal, download_refusal::unknown_matching_id);
    EXPECT_FALSE(d->order.has_value());
}

TEST_F(download, when_order_is_past_expiry_then_it_is_refused_and_marked_expired) {
    released_order(1, 3, {}, t0() + 1h);
    auto d = db().begin_download("MID-1", eid_a, t0() + 1h);
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->refusal, download_refusal::expired);
    auto o = db().find_order("order-1");
    EXPECT_EQ(o->state, order_state::expired);
    EXPECT_EQ(o->download_attempts, 0);
    EXPECT_EQ(db().find_profile(iccid(1))->state, profile_state::expired);
    // And it stays refused for the same reason.
    EXPECT_EQ(db().begin_download("MID-1", eid_a, t0())->refusal, download_refusal::expired);
}

TEST_F(download, when_attempts_reach_the_limit_then_the_next_is_refused) {
    released_order(1, 2);
    EXPECT_TRUE(db().begin_download("MID-1", eid_a, t0())->granted());
    EXPECT_TRUE(db().begin_download("MID-1", eid_a, t0())->granted());
    auto d = db().begin_download("MID-1", eid_a, t0());
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->refusal, download_refusal::attempts_exceeded);
    EXPECT_EQ(db().find_order("order-1")->download_attempts, 2);
}

TEST_F(download, when_order_is_bound_to_another_eid_then_it_is_refused_without_using_an_attempt) {
    released_order(1, 1, eid_a);
    auto d = db().begin_download("MID-1", eid_b, t0());
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->refusal, download_refusal::eid_mismatch);
    EXPECT_EQ(db().find_order("order-1")->download_attempts, 0);
    EXPECT_TRUE(db().begin_download("MID-1", eid_a, t0())->granted());
}

TEST_F(download, when_order_is_only_confirmed_then_it_is_not_released) {
    add_profile(iccid(1));
    order_request r;
    r.order_id = "order-1";
    r.operator_id = operator_id;
    r.iccid = iccid(1);
    r.expires_at = t0() + 1h;
    ASSERT_TRUE(db().create_order(r, t0()).has_value());
    confirm_request c{"order-1", "MID-1", {}, {}, false, {}};
    ASSERT_TRUE(db().confirm_order(c, t0()).has_value());
    EXPECT_EQ(db().begin_download("MID-1", eid_a, t0())->refusal, download_refusal::not_released);
    EXPECT_EQ(db().find_order("order-1")->download_attempts, 0);
}

TEST_F(download, when_order_was_downloaded_or_cancelled_then_refusal_says_so) {
    released_order(1);
    released_order(2);
    std::array from{order_state::released};
    ASSERT_TRUE(db().transition_order("order-1", from, order_state::downloaded, t0()));
    ASSERT_TRUE(db().cancel_order("order-2", final_profile_status::available, t0()));
    EXPECT_EQ(db().begin_download("MID-1", eid_a, t0())->refusal,
              download_refusal::already_downloaded);
    EXPECT_EQ(db().begin_download("MID-2", eid_a, t0())->refusal, download_refusal::cancelled);
}

TEST_F(download, when_confirmation_code_is_wrong_three_times_then_order_is_locked) {
    released_order(1);
    auto f1 = db().record_cc_failure("order-1", t0());
    auto f2 = db().record_cc_failure("order-1", t0());
    ASSERT_TRUE(f1.has_value() && f2.has_value());
    EXPECT_EQ(f1->failures, 1);
    EXPECT_FALSE(f2->locked);
    EXPECT_TRUE(db().begin_download("MID-1", eid_a, t0())->granted());
    auto f3 = db().record_cc_failure("order-1", t0());
    ASSERT_TRUE(f3.has_value());
    EXPECT_EQ(f3->failures, 3);
    EXPECT_TRUE(f3->locked);
    auto o = db().find_order("order-1");
    EXPECT_TRUE(o->locked);
    EXPECT_EQ(o->lock_reason, "cc_retries_exceeded");
    EXPECT_EQ(db().begin_download("MID-1", eid_a, t0())->refusal, download_refusal::locked);
    // A further failure on a locked order counts nothing.
    auto f4 = db().record_cc_failure("order-1", t0());
    EXPECT_EQ(f4->failures, 3);
    EXPECT_TRUE(f4->locked);
}

TEST_F(download, when_a_locked_order_is_unlocked_then_it_downloads_again) {
    released_order(1);
    ASSERT_TRUE(db().lock_order("order-1", "risk: many attempts", t0()));
    EXPECT_EQ(db().begin_download("MID-1", eid_a, t0())->refusal, download_refusal::locked);
    auto u = db().unlock_order("order-1", t0());
    ASSERT_TRUE(u.has_value());
    EXPECT_FALSE(u->locked);
    EXPECT_TRUE(db().begin_download("MID-1", eid_a, t0())->granted());
}

TEST_F(download, when_refused_then_the_refusal_is_in_the_order_history) {
    released_order(1, 1, eid_a);
    ASSERT_TRUE(db().begin_download("MID-1", eid_b, t0()));
    auto ev = db().list_order_events("order-1");
    ASSERT_TRUE(ev.has_value());
    ASSERT_FALSE(ev->empty());
    EXPECT_EQ(ev->back().name, "download_refused");
    EXPECT_EQ(ev->back().detail, "eid_mismatch");
}

// Eight threads race for each of 50 single-attempt orders: exactly one
// thread may win each order, on separate connections of the pool.
TEST_F(download, when_threads_race_on_a_single_attempt_order_then_exactly_one_wins) {
    constexpr int orders = 50;
    constexpr int threads = 8;
    for (int n = 0; n < orders; ++n) {
        released_order(n, 1);
    }
    std::vector<std::array<int, orders>> wins(threads);
    std::vector<int> errors(threads, 0);
    std::barrier start(threads);
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            wins[t].fill(0);
            start.arrive_and_wait();
            for (int n = 0; n < orders; ++n) {
                auto d = db().begin_download("MID-" + std::to_string(n), eid_a, t0());
                if (!d) {
                    ++errors[t];
                } else if (d->granted()) {
                    ++wins[t][n];
                }
            }
        });
    }
    for (auto& th : pool) {
        th.join();
    }
    for (int t = 0; t < threads; ++t) {
        EXPECT_EQ(errors[t], 0) << "thread " << t;
    }
    for (int n = 0; n < orders; ++n) {
        int total = 0;
        for (int t = 0; t < threads; ++t) {
            total += wins[t][n];
        }
        EXPECT_EQ(total, 1) << "order " << n;
        EXPECT_EQ(db().find_order("order-" + std::to_string(n))->download_attempts, 1);
    }
}

} // namespace
} // namespace esimguard::store::testing
