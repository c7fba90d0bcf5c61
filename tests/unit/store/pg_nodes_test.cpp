// Two store instances on one PostgreSQL database play two server nodes:
// whatever both do at once to one order or session, exactly one wins, and
// nothing is lost (issue 6). Compiled into unit_store_pg only.

#ifdef ESIMGUARD_STORE_TEST_POSTGRES

#include "esimguard/store/postgres_store.hpp"
#include "pg_fixture.hpp"
#include "store_fixture.hpp"

#include <array>
#include <barrier>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <thread>

namespace esimguard::store::testing {
namespace {

class pg_nodes : public store_test {
protected:
    void SetUp() override {
        store_test::SetUp();
        auto other = create_postgres_store(pg_config_);
        ASSERT_TRUE(other.has_value()) << other.error().message;
        node_b_ = std::move(*other);
    }

    store& node_a() { return db(); }
    store& node_b() { return *node_b_; }

    std::unique_ptr<store> node_b_;
};

// 100 devices, 50 on each node, race begin_download for one matching ID of a
// single-attempt order: exactly one is granted, 99 are refused with
// attempts_exceeded, and the order counts one attempt.
TEST_F(pg_nodes, when_100_devices_race_for_one_matching_id_on_two_nodes_then_exactly_one_wins) {
    released_order(1, 1);
    constexpr int devices = 100;
    std::atomic<int> granted{0};
    std::atomic<int> exceeded{0};
    std::atomic<int> errors{0};
    std::barrier start(devices);
    std::vector<std::thread> threads;
    auto begin = std::chrono::steady_clock::now();
    for (int d = 0; d < devices; ++d) {
        threads.emplace_back([&, d] {
            store& node = d % 2 == 0 ? node_a() : node_b();
            start.arrive_and_wait();
            auto r = node.begin_download("MID-1", eid_a, t0());
            if (!r) {
                ++errors;
            } else if (r->granted()) {
                ++granted;
            } else if (r->refusal == download_refusal::attempts_exceeded) {
                ++exceeded;
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - begin)
                  .count();
    RecordProperty("race_ms", static_cast<int>(ms));
    std::printf("[ measure  ] 100 begin_download on 2 nodes (16 connections): %lld ms\n",
                static_cast<long long>(ms));
    EXPECT_EQ(errors.load(), 0);
    EXPECT_EQ(granted.load(), 1);
    EXPECT_EQ(exceeded.load(), devices - 1);
    EXPECT_EQ(node_b().find_order("order-1")->download_attempts, 1);
}

// With three attempts allowed, exactly three of the racers get one each: no
// lost update on the attempt counter.
TEST_F(pg_nodes, when_devices_race_on_a_three_attempt_order_then_exactly_three_are_granted) {
    released_order(1, 3);
    constexpr int devices = 40;
    std::atomic<int> granted{0};
    std::barrier start(devices);
    std::vector<std::thread> threads;
    for (int d = 0; d < devices; ++d) {
        threads.emplace_back([&, d] {
            store& node = d % 2 == 0 ? node_a() : node_b();
            start.arrive_and_wait();
            auto r = node.begin_download("MID-1", eid_a, t0());
            if (r && r->granted()) {
                ++granted;
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(granted.load(), 3);
    EXPECT_EQ(node_a().find_order("order-1")->download_attempts, 3);
}

// Both nodes try to move one order to downloaded: one succeeds, the other
// gets state_mismatch; the order is downloaded once.
TEST_F(pg_nodes, when_two_nodes_claim_one_download_then_only_one_transition_succeeds) {
    released_order(1, 3);
    const std::array from{order_state::released};
    constexpr int tries = 20;
    std::atomic<int> ok{0};
    std::atomic<int> mismatch{0};
    std::barrier start(tries);
    std::vector<std::thread> threads;
    for (int i = 0; i < tries; ++i) {
        threads.emplace_back([&, i] {
            store& node = i % 2 == 0 ? node_a() : node_b();
            start.arrive_and_wait();
            auto r = node.transition_order("order-1", from, order_state::downloaded, t0());
            if (r) {
                ++ok;
            } else if (r.error().code == errc::state_mismatch) {
                ++mismatch;
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(ok.load(), 1);
    EXPECT_EQ(mismatch.load(), tries - 1);
    EXPECT_EQ(node_b().find_profile(iccid(1))->state, profile_state::downloaded);
}

// Two nodes order by profile type at once: every order gets its own
// profile, and the surplus orders find none available.
TEST_F(pg_nodes, when_nodes_order_by_type_at_once_then_no_profile_is_given_twice) {
    constexpr int profiles = 10;
    constexpr int orders = 16;
    for (int n = 0; n < profiles; ++n) {
        add_profile(iccid(n), "silver");
    }
    std::vector<std::string> got(orders);
    std::atomic<int> conflicts{0};
    std::barrier start(orders);
    std::vector<std::thread> threads;
    for (int i = 0; i < orders; ++i) {
        threads.emplace_back([&, i] {
            store& node = i % 2 == 0 ? node_a() : node_b();
            order_request r;
            r.order_id = "o-" + std::to_string(i);
            r.operator_id = operator_id;
            r.profile_type = "silver";
            r.expires_at = t0() + 1h;
            start.arrive_and_wait();
            auto o = node.create_order(r, t0());
            if (o) {
                got[i] = o->iccid;
            } else if (o.error().code == errc::conflict) {
                ++conflicts;
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    std::set<std::string> distinct;
    int placed = 0;
    for (const auto& g : got) {
        if (!g.empty()) {
            ++placed;
            distinct.insert(g);
        }
    }
    EXPECT_EQ(placed, profiles);
    EXPECT_EQ(distinct.size(), static_cast<std::size_t>(profiles));
    EXPECT_EQ(conflicts.load(), orders - profiles);
}

// Two operators' confirmOrders with one matching ID on two nodes: one wins,
// the other is a conflict, and its order is unchanged.
TEST_F(pg_nodes, when_two_nodes_confirm_with_one_matching_id_then_the_second_conflicts) {
    for (int n = 1; n <= 2; ++n) {
        add_profile(iccid(n));
        order_request r;
        r.order_id = "order-" + std::to_string(n);
        r.operator_id = operator_id;
        r.iccid = iccid(n);
        r.expires_at = t0() + 1h;
        ASSERT_TRUE(db().create_order(r, t0()).has_value());
    }
    std::barrier start(2);
    std::array<result<order_record>, 2> out{std::unexpected(error{errc::io, ""}),
                                            std::unexpected(error{errc::io, ""})};
    std::vector<std::thread> threads;
    for (int i = 0; i < 2; ++i) {
        threads.emplace_back([&, i] {
            confirm_request c;
            c.order_id = "order-" + std::to_string(i + 1);
            c.matching_id = "SAME-MID";
            c.release = true;
            start.arrive_and_wait();
            out[i] = (i == 0 ? node_a() : node_b()).confirm_order(c, t0());
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    int ok = (out[0] ? 1 : 0) + (out[1] ? 1 : 0);
    EXPECT_EQ(ok, 1);
    const auto& loser = out[0] ? out[1] : out[0];
    ASSERT_FALSE(loser.has_value());
    EXPECT_EQ(loser.error().code, errc::conflict);
}

// A session created on one node is continued on the other; when both nodes
// get the same authenticateClient, only one moves the session on.
TEST_F(pg_nodes, when_both_nodes_update_one_session_then_only_one_moves_it_on) {
    session_record s;
    s.transaction_id = "0102030405060708090A0B0C0D0E0F10";
    s.created_at = t0();
    s.expires_at = t0() + 5min;
    s.euicc_challenge = bytes(16, 1);
    s.server_challenge = bytes(16, 2);
    s.server_address = "smdp.example";
    s.ci_pkid = bytes(20, 3);
    s.smdp_otsk = bytes(32, 9);
    ASSERT_TRUE(node_a().create_session(s).has_value());
    auto seen = node_b().find_session(s.transaction_id);
    ASSERT_TRUE(seen.has_value());
    EXPECT_EQ(seen->server_challenge, s.server_challenge);
    EXPECT_EQ(seen->smdp_otsk, s.smdp_otsk);

    constexpr int tries = 20;
    std::atomic<int> ok{0};
    std::atomic<int> mismatch{0};
    std::barrier start(tries);
    std::vector<std::thread> threads;
    for (int i = 0; i < tries; ++i) {
        threads.emplace_back([&, i] {
            session_update u;
            u.state = session_state::authenticated;
            u.eid = eid_a;
            start.arrive_and_wait();
            auto r = (i % 2 == 0 ? node_a() : node_b())
                         .update_session(s.transaction_id, session_state::initiated, u, t0());
            if (r) {
                ++ok;
            } else if (r.error().code == errc::state_mismatch) {
                ++mismatch;
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(ok.load(), 1);
    EXPECT_EQ(mismatch.load(), tries - 1);
    EXPECT_EQ(node_a().find_session(s.transaction_id)->state, session_state::authenticated);
    ASSERT_TRUE(node_b().end_session(s.transaction_id, "completed", t0()).has_value());
    EXPECT_FALSE(node_a().find_session(s.transaction_id)->smdp_otsk.has_value());
}

// Outbox senders on two nodes never get the same message within a lease.
TEST_F(pg_nodes, when_senders_on_two_nodes_claim_at_once_then_each_message_goes_once) {
    constexpr int messages = 60;
    for (int i = 0; i < messages; ++i) {
        ASSERT_TRUE(node_a()
                        .enqueue_notification(operator_id, std::nullopt,
                                              "{\"n\":" + std::to_string(i) + "}", t0())
                        .has_value());
    }
    constexpr int senders = 6;
    std::vector<std::vector<std::int64_t>> claimed(senders);
    std::barrier start(senders);
    std::vector<std::thread> threads;
    for (int i = 0; i < senders; ++i) {
        threads.emplace_back([&, i] {
            store& node = i % 2 == 0 ? node_a() : node_b();
            start.arrive_and_wait();
            for (;;) {
                auto c = node.claim_due_notifications(t0(), 4, std::chrono::minutes(1));
                if (!c || c->empty()) {
                    return;
                }
                for (const auto& m : *c) {
                    claimed[i].push_back(m.id);
                }
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    std::set<std::int64_t> all;
    std::size_t total = 0;
    for (const auto& v : claimed) {
        total += v.size();
        all.insert(v.begin(), v.end());
    }
    EXPECT_EQ(total, static_cast<std::size_t>(messages));
    EXPECT_EQ(all.size(), static_cast<std::size_t>(messages));
}

// The database drops every connection (a restart, a failover): the next
// transactional call reconnects and succeeds, since nothing of it was sent
// on the dead connection; a one-statement read may fail once with io, and
// the call after it works on a fresh connection.
TEST_F(pg_nodes, when_the_database_drops_the_connections_then_calls_reconnect) {
    released_order(1, 3);
    ASSERT_TRUE(node_a().find_order("order-1").has_value());
    const std::string kill =
        "psql -q -X -d '" + pg_config_.url +
        "' -c \"SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE application_name = 'esimguard' AND pid <> pg_backend_pid()\" >/dev/null";
    ASSERT_EQ(std::system(kill.c_str()), 0);
    auto d = node_a().begin_download("MID-1", eid_a, t0());
    ASSERT_TRUE(d.has_value()) << d.error().message;
    EXPECT_TRUE(d->granted());
    ASSERT_EQ(std::system(kill.c_str()), 0);
    auto first = node_a().find_order("order-1");
    if (!first) {
        EXPECT_EQ(first.error().code, errc::io);
    }
    auto again = node_a().find_order("order-1");
    ASSERT_TRUE(again.has_value()) << again.error().message;
    EXPECT_EQ(again->download_attempts, 1);
}

// Three nodes starting at once on an empty schema migrate it once: all
// open, and the schema has the newest version.
TEST(pg_migrations, when_three_nodes_start_at_once_on_an_empty_schema_then_all_open) {
    auto cfg = fresh_pg_config(2);
    std::array<result<std::unique_ptr<store>>, 3> opened{std::unexpected(error{errc::io, ""}),
                                                         std::unexpected(error{errc::io, ""}),
                                                         std::unexpected(error{errc::io, ""})};
    std::barrier start(3);
    std::vector<std::thread> threads;
    for (int i = 0; i < 3; ++i) {
        threads.emplace_back([&, i] {
            start.arrive_and_wait();
            opened[i] = create_postgres_store(cfg);
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    for (auto& o : opened) {
        ASSERT_TRUE(o.has_value()) << o.error().message;
    }
    operator_record op;
    op.id = "op";
    op.display_name = "Op";
    op.token_sha256_hex = std::string(64, 'b');
    ASSERT_TRUE((*opened[0])->add_operator(op).has_value());
    EXPECT_TRUE((*opened[2])->find_operator("op").has_value());
}

TEST(pg_migrations, when_the_server_is_unreachable_then_open_fails_with_io) {
    postgres_config cfg;
    // Port 1 on loopback: nothing listens there.
    cfg.url = "postgresql://esimguard@127.0.0.1:1/postgres";
    cfg.connect_timeout = std::chrono::seconds(2);
    auto s = create_postgres_store(cfg);
    ASSERT_FALSE(s.has_value());
    EXPECT_EQ(s.error().code, errc::io);
}

TEST(pg_migrations, when_the_schema_name_is_not_an_identifier_then_open_is_refused) {
    auto cfg = fresh_pg_config(1);
    cfg.schema = "x; DROP TABLE orders";
    auto s = create_postgres_store(cfg);
    ASSERT_FALSE(s.has_value());
    EXPECT_EQ(s.error().code, errc::invalid_argument);
}

} // namespace
} // namespace esimguard::store::testing

#endif
