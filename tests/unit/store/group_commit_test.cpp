// The SQLite pool's group commit (lib/store/sqlite/db.hpp): writers that
// arrive while a batch runs share the next transaction and its one fsync, and
// each keeps the outcome it would have had in a transaction of its own.

#include "sqlite/db.hpp"
#include "store_fixture.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>

namespace esimguard::store::testing {
namespace {

using sqlite::connection;
using sqlite::in_transaction;
using sqlite::pool;

/// A pool of `n` connections on a fresh file with one table `t(k PRIMARY KEY, v)`.
std::unique_ptr<pool> make_pool(const temp_dir& dir, std::size_t n) {
    std::vector<std::unique_ptr<connection>> conns;
    for (std::size_t i = 0; i < n; ++i) {
        auto c = connection::open((dir.path() / "g.db").string(), std::chrono::milliseconds(5000));
        EXPECT_TRUE(c.has_value());
        if (i == 0) {
            EXPECT_TRUE((*c)->exec("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)"));
        }
        conns.push_back(std::move(*c));
    }
    return std::make_unique<pool>(std::move(conns));
}

result<void> insert(connection& c, int k, std::string_view v) {
    auto s = c.prepare("INSERT INTO t (k, v) VALUES (?, ?)");
    if (!s) {
        return std::unexpected(s.error());
    }
    return s->bind(k, v).run();
}

result<std::int64_t> count_rows(pool& p, std::string_view where = "1") {
    return in_transaction(p, false, [&](connection& c) -> result<std::int64_t> {
        auto s = c.prepare(std::string("SELECT count(*) FROM t WHERE ") + std::string(where));
        if (!s) {
            return std::unexpected(s.error());
        }
        auto row = s->step();
        if (!row) {
            return std::unexpected(row.error());
        }
        return s->int64(0);
    });
}

/// Starts a write whose job holds the batch open until `waiting` more jobs
/// are queued behind it, so that those are sure to share the next batch.
std::thread hold_batch_until_queued(pool& p, std::size_t waiting) {
    std::atomic<bool> started{false};
    std::thread t([&p, &started, waiting] {
        auto r = in_transaction(p, true, [&](connection& c) -> result<void> {
            started = true;
            while (p.queued() < waiting) {
                std::this_thread::yield();
            }
            return insert(c, 1000, "holder");
        });
        EXPECT_TRUE(r.has_value());
    });
    while (!started) {
        std::this_thread::yield();
    }
    return t;
}

TEST(group_commit, when_writers_queue_behind_a_running_batch_then_they_commit_together_in_one) {
    temp_dir dir;
    auto p = make_pool(dir, 3);
    constexpr int writers = 6;
    auto holder = hold_batch_until_queued(*p, writers);
    std::vector<std::thread> ts;
    for (int i = 0; i < writers; ++i) {
        ts.emplace_back([&, i] {
            auto r = in_transaction(*p, true, [&](connection& c) { return insert(c, i, "w"); });
            EXPECT_TRUE(r.has_value()) << r.error().message;
        });
    }
    holder.join();
    for (auto& t : ts) {
        t.join();
    }
    EXPECT_EQ(p->jobs_committed(), writers + 1U);
    EXPECT_EQ(p->batches_committed(), 2U) << "the six writers should have shared one batch";
    EXPECT_EQ(count_rows(*p).value(), writers + 1);
}

TEST(group_commit, when_one_job_of_a_batch_fails_then_only_its_writes_are_rolled_back) {
    temp_dir dir;
    auto p = make_pool(dir, 3);
    auto holder = hold_batch_until_queued(*p, 3);
    std::thread ok1([&] {
        EXPECT_TRUE(in_transaction(*p, true, [&](connection& c) { return insert(c, 1, "kept"); }));
    });
    while (p->queued() < 1) {
        std::this_thread::yield();
    }
    std::thread bad([&] {
        auto r = in_transaction(*p, true, [&](connection& c) -> result<void> {
            if (auto w = insert(c, 2, "half-done"); !w) {
                return w;
            }
            return std::unexpected(error{errc::state_mismatch, "the job gives up"});
        });
        ASSERT_FALSE(r.has_value());
        EXPECT_EQ(r.error().code, errc::state_mismatch);
    });
    while (p->queued() < 2) {
        std::this_thread::yield();
    }
    std::thread ok2([&] {
        EXPECT_TRUE(in_transaction(*p, true, [&](connection& c) { return insert(c, 3, "kept"); }));
    });
    holder.join();
    ok1.join();
    bad.join();
    ok2.join();
    EXPECT_EQ(p->batches_committed(), 2U);
    EXPECT_EQ(count_rows(*p, "k = 2").value(), 0);
    EXPECT_EQ(count_rows(*p, "v = 'kept'").value(), 2);
}

TEST(group_commit, when_two_jobs_of_one_batch_take_the_same_key_then_the_second_sees_the_first) {
    temp_dir dir;
    auto p = make_pool(dir, 2);
    auto holder = hold_batch_until_queued(*p, 2);
    std::atomic<int> conflicts{0};
    std::atomic<int> wins{0};
    std::vector<std::thread> ts;
    for (int i = 0; i < 2; ++i) {
        ts.emplace_back([&] {
            auto r = in_transaction(*p, true, [&](connection& c) { return insert(c, 7, "mine"); });
            if (r) {
                ++wins;
            } else if (r.error().code == errc::conflict) {
                ++conflicts;
            }
        });
    }
    holder.join();
    for (auto& t : ts) {
        t.join();
    }
    EXPECT_EQ(p->batches_committed(), 2U);
    EXPECT_EQ(wins.load(), 1);
    EXPECT_EQ(conflicts.load(), 1);
    EXPECT_EQ(count_rows(*p, "k = 7").value(), 1);
}

TEST(group_commit, when_a_job_throws_then_the_caller_gets_the_exception_and_the_others_commit) {
    temp_dir dir;
    auto p = make_pool(dir, 2);
    auto holder = hold_batch_until_queued(*p, 2);
    std::atomic<bool> caught{false};
    std::thread thrower([&] {
        try {
            (void)in_transaction(*p, true, [&](connection& c) -> result<void> {
                (void)insert(c, 5, "thrown away");
                throw std::runtime_error("boom");
            });
        } catch (const std::runtime_error&) {
            caught = true;
        }
    });
    while (p->queued() < 1) {
        std::this_thread::yield();
    }
    std::thread ok([&] {
        EXPECT_TRUE(in_transaction(*p, true, [&](connection& c) { return insert(c, 6, "kept"); }));
    });
    holder.join();
    thrower.join();
    ok.join();
    EXPECT_TRUE(caught.load());
    EXPECT_EQ(count_rows(*p, "k = 5").value(), 0);
    EXPECT_EQ(count_rows(*p, "k = 6").value(), 1);
}

TEST(group_commit,
     when_sqlite_drops_a_batch_then_jobs_keep_their_own_errors_and_later_ones_commit) {
    temp_dir dir;
    auto p = make_pool(dir, 3);
    auto holder = hold_batch_until_queued(*p, 4);
    std::vector<std::thread> ts;
    // Started one at a time, so that they queue in this order.
    auto start = [&](auto fn) {
        const auto before = p->queued();
        ts.emplace_back(fn);
        while (p->queued() == before) {
            std::this_thread::yield();
        }
    };
    start([&] { // fails on its own: keeps its own error
        auto r = in_transaction(*p, true, [&](connection&) -> result<void> {
            return std::unexpected(error{errc::state_mismatch, "not mine"});
        });
        ASSERT_FALSE(r.has_value());
        EXPECT_EQ(r.error().code, errc::state_mismatch);
    });
    start([&] { // succeeded, but its transaction is lost below: told so
        auto r = in_transaction(*p, true, [&](connection& c) { return insert(c, 1, "lost"); });
        ASSERT_FALSE(r.has_value());
        EXPECT_EQ(r.error().code, errc::io);
    });
    start([&] { // ends the transaction under the batch, as SQLite does on an I/O error
        auto r = in_transaction(*p, true,
                                [&](connection& c) -> result<void> { return c.exec("ROLLBACK"); });
        ASSERT_FALSE(r.has_value());
        EXPECT_EQ(r.error().code, errc::io);
    });
    start([&] { // after the loss: runs in a new transaction and is kept
        EXPECT_TRUE(in_transaction(*p, true, [&](connection& c) { return insert(c, 2, "kept"); }));
    });
    holder.join();
    for (auto& t : ts) {
        t.join();
    }
    EXPECT_EQ(count_rows(*p, "k = 1").value(), 0);
    EXPECT_EQ(count_rows(*p, "k = 2").value(), 1);
}

TEST(group_commit, when_two_pools_share_a_file_then_their_writers_share_one_queue) {
    temp_dir dir;
    auto a = make_pool(dir, 2);
    // A second pool on the same file, as the defence store and audit log
    // open beside the store.
    std::vector<std::unique_ptr<connection>> conns;
    conns.push_back(
        connection::open((dir.path() / "g.db").string(), std::chrono::milliseconds(5000)).value());
    pool b(std::move(conns));
    auto holder = hold_batch_until_queued(*a, 2);
    std::thread from_a([&] {
        EXPECT_TRUE(in_transaction(*a, true, [&](connection& c) { return insert(c, 1, "a"); }));
    });
    std::thread from_b([&] {
        EXPECT_TRUE(in_transaction(b, true, [&](connection& c) { return insert(c, 2, "b"); }));
    });
    holder.join();
    from_a.join();
    from_b.join();
    EXPECT_EQ(b.batches_committed(), 2U) << "pool b's writer should have joined pool a's queue";
    EXPECT_EQ(b.jobs_committed(), 3U);
    EXPECT_EQ(count_rows(b).value(), 3);
}

TEST(group_commit, when_many_threads_write_at_once_then_every_write_is_kept_once) {
    temp_dir dir;
    auto p = make_pool(dir, 4);
    constexpr int threads = 8;
    constexpr int each = 40;
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t) {
        ts.emplace_back([&, t] {
            for (int i = 0; i < each; ++i) {
                auto r = in_transaction(
                    *p, true, [&](connection& c) { return insert(c, t * each + i, "x"); });
                EXPECT_TRUE(r.has_value());
            }
        });
    }
    for (auto& t : ts) {
        t.join();
    }
    EXPECT_EQ(count_rows(*p).value(), threads * each);
    EXPECT_EQ(p->jobs_committed(), static_cast<std::uint64_t>(threads * each));
}

} // namespace
} // namespace esimguard::store::testing
