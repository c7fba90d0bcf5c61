#include "store_fixture.hpp"

#include <mutex>
#include <set>
#include <thread>

namespace esimguard::store::testing {
namespace {

class outbox : public store_test {};

TEST_F(outbox, when_messages_are_due_then_a_claim_takes_them_once_within_the_lease) {
    auto a = db().enqueue_notification(operator_id, std::nullopt, R"({"n":1})", t0());
    auto b = db().enqueue_notification(operator_id, std::nullopt, R"({"n":2})", t0() + 1s);
    ASSERT_TRUE(a.has_value() && b.has_value());
    auto first = db().claim_due_notifications(t0() + 1s, 10, 30s);
    ASSERT_TRUE(first.has_value());
    ASSERT_EQ(first->size(), 2u);
    EXPECT_EQ((*first)[0].id, *a);
    EXPECT_EQ((*first)[0].body, R"({"n":1})");
    EXPECT_EQ((*first)[0].attempts, 1);
    EXPECT_TRUE(db().claim_due_notifications(t0() + 10s, 10, 30s)->empty());
    // The sender died: after the lease they are due again.
    EXPECT_EQ(db().claim_due_notifications(t0() + 32s, 10, 30s)->size(), 2u);
}

TEST_F(outbox, when_limit_is_smaller_than_what_is_due_then_oldest_come_first) {
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(db().enqueue_notification(operator_id, std::nullopt, "{}", t0() + i * 1s));
    }
    auto c = db().claim_due_notifications(t0() + 5s, 2, 30s);
    ASSERT_EQ(c->size(), 2u);
    EXPECT_LT((*c)[0].created_at, (*c)[1].created_at);
    EXPECT_EQ(db().claim_due_notifications(t0() + 5s, 2, 30s)->size(), 1u);
}

TEST_F(outbox, when_delivered_then_it_is_never_claimed_again) {
    auto id = db().enqueue_notification(operator_id, std::nullopt, "{}", t0());
    ASSERT_TRUE(db().claim_due_notifications(t0(), 10, 1s));
    ASSERT_TRUE(db().mark_notification_delivered(*id, t0()));
    EXPECT_EQ(db().find_notification(*id)->state, outbox_state::delivered);
    EXPECT_TRUE(db().claim_due_notifications(t0() + 1h, 10, 1s)->empty());
    EXPECT_EQ(db().mark_notification_delivered(*id, t0()).error().code, errc::state_mismatch);
    EXPECT_EQ(db().mark_notification_delivered(999, t0()).error().code, errc::not_found);
}

TEST_F(outbox, when_delivery_fails_then_it_backs_off_exponentially_then_fails) {
    retry_policy p{10s, 25s, 3};
    auto id = db().enqueue_notification(operator_id, std::nullopt, "{}", t0());
    auto now = t0();
    std::vector<time_point> due;
    for (int i = 0; i < 3; ++i) {
        auto c = db().claim_due_notifications(now, 10, 5s);
        ASSERT_EQ(c->size(), 1u) << "try " << i;
        auto m = db().reschedule_notification(*id, p, "HTTP 503", now);
        ASSERT_TRUE(m.has_value());
        due.push_back(m->next_attempt_at);
        if (i < 2) {
            EXPECT_EQ(m->state, outbox_state::pending);
            EXPECT_TRUE(db().claim_due_notifications(m->next_attempt_at - 1us, 10, 5s)->empty());
            now = m->next_attempt_at;
        } else {
            EXPECT_EQ(m->state, outbox_state::failed);
            EXPECT_EQ(m->last_error, "HTTP 503");
        }
    }
    EXPECT_EQ(due[0], t0() + 10s);
    EXPECT_EQ(due[1], t0() + 10s + 20s);
    EXPECT_TRUE(db().claim_due_notifications(now + 24h, 10, 5s)->empty());
}

TEST_F(outbox, when_senders_claim_concurrently_then_no_message_is_handed_out_twice) {
    constexpr int messages = 60;
    for (int i = 0; i < messages; ++i) {
        ASSERT_TRUE(db().enqueue_notification(operator_id, std::nullopt, "{}", t0()));
    }
    std::mutex m;
    std::multiset<std::int64_t> seen;
    std::vector<std::thread> senders;
    for (int t = 0; t < 4; ++t) {
        senders.emplace_back([&] {
            for (;;) {
                auto c = db().claim_due_notifications(t0(), 4, 60s);
                if (!c || c->empty()) {
                    return;
                }
                std::lock_guard lk(m);
                for (const auto& msg : *c) {
                    seen.insert(msg.id);
                }
            }
        });
    }
    for (auto& t : senders) {
        t.join();
    }
    EXPECT_EQ(seen.size(), static_cast<std::size_t>(messages));
    EXPECT_EQ(std::set<std::int64_t>(seen.begin(), seen.end()).size(), seen.size());
}

TEST(backoff, doubles_from_the_initial_delay_up_to_the_cap) {
    retry_policy p{10s, 60s, 10};
    EXPECT_EQ(backoff_delay(p, 1), 10s);
    EXPECT_EQ(backoff_delay(p, 2), 20s);
    EXPECT_EQ(backoff_delay(p, 3), 40s);
    EXPECT_EQ(backoff_delay(p, 4), 60s);
    EXPECT_EQ(backoff_delay(p, 1000), 60s);
}

TEST_F(outbox, when_operator_is_unknown_then_enqueue_is_not_found) {
    EXPECT_EQ(db().enqueue_notification("nobody", std::nullopt, "{}", t0()).error().code,
              errc::not_found);
}

} // namespace
} // namespace esimguard::store::testing
