// The PostgreSQL audit log: the chain stays linear (seq 1..n, each
// prev_hash the previous hash) when two processes, each with several
// threads, append at once (issue 6). Compiled into unit_store_pg only.

#ifdef ESIMGUARD_STORE_TEST_POSTGRES

#include "esimguard/store/audit.hpp"
#include "pg_fixture.hpp"
#include "store_fixture.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <thread>

namespace esimguard::store::testing {
namespace {

/// Event `seq` after `prev`, with a hash made of the writer's tag and the
/// seq, so that every event is distinct and its writer can be told.
audit_event event_at(std::uint8_t writer, time_point at, std::int64_t seq, bytes prev) {
    audit_event e;
    e.seq = seq;
    e.at = at;
    e.actor = "engine";
    e.kind = "decision";
    e.iccid = iccid(writer);
    e.source_address = "192.0.2.7";
    e.outcome = "ok";
    e.reason = "r";
    e.detail = "{}";
    e.prev_hash = std::move(prev);
    e.hash = bytes(32, writer);
    e.hash[0] = static_cast<std::uint8_t>(seq & 0xff);
    e.hash[1] = static_cast<std::uint8_t>((seq >> 8) & 0xff);
    return e;
}

/// Links to the head.
audit_sealer seal_as(std::uint8_t writer, time_point at) {
    return [=](const std::optional<audit_head>& head) -> result<audit_event> {
        return event_at(writer, at, head ? head->seq + 1 : 1, head ? head->hash : bytes(32, 0));
    };
}

/// Appends `n` events from `threads` threads of this process.
int append_many(const postgres_config& cfg, std::uint8_t writer, int threads, int n) {
    auto log = create_postgres_audit_log(cfg);
    if (!log) {
        return -1;
    }
    std::atomic<int> failures{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&] {
            for (int i = 0; i < n / threads; ++i) {
                if (!(*log)->append(seal_as(writer, t0()))) {
                    ++failures;
                }
            }
        });
    }
    for (auto& t : pool) {
        t.join();
    }
    return failures.load();
}

TEST(pg_audit_log, when_two_processes_append_at_once_then_the_chain_is_linear) {
    auto cfg = fresh_pg_config(4);
    // Migrate before forking, so that the child's first call is an append.
    ASSERT_TRUE(create_postgres_audit_log(cfg).has_value());
    constexpr int per_process = 200;
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        // The child owns no gtest state worth reporting: its exit code says it all.
        ::_exit(append_many(cfg, 2, 4, per_process) == 0 ? 0 : 1);
    }
    int parent_failures = append_many(cfg, 1, 4, per_process);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "the child process failed appends";
    EXPECT_EQ(parent_failures, 0);

    auto log = create_postgres_audit_log(cfg);
    ASSERT_TRUE(log.has_value());
    auto rows = (*log)->scan(0, 10'000);
    ASSERT_TRUE(rows.has_value());
    ASSERT_EQ(rows->size(), static_cast<std::size_t>(2 * per_process));
    int from_child = 0;
    bytes prev(32, 0);
    for (std::size_t i = 0; i < rows->size(); ++i) {
        const auto& e = (*rows)[i];
        ASSERT_EQ(e.seq, static_cast<std::int64_t>(i + 1));
        ASSERT_EQ(e.prev_hash, prev) << "fork at seq " << e.seq;
        prev = e.hash;
        from_child += e.iccid == iccid(2) ? 1 : 0;
    }
    EXPECT_EQ(from_child, per_process);
    auto head = (*log)->head();
    ASSERT_TRUE(head.has_value() && head->has_value());
    EXPECT_EQ((*head)->seq, 2 * per_process);
    EXPECT_EQ((*head)->hash, rows->back().hash);
}

TEST(pg_audit_log, when_a_batch_is_appended_then_it_links_and_a_bad_one_stores_nothing) {
    auto log = create_postgres_audit_log(fresh_pg_config(2));
    ASSERT_TRUE(log.has_value());
    auto batch_of = [](int n, bool break_last) {
        return [=](const std::optional<audit_head>& head) -> result<std::vector<audit_event>> {
            std::vector<audit_event> out;
            std::int64_t seq = head ? head->seq : 0;
            bytes prev = head ? head->hash : bytes(32, 0);
            for (int i = 0; i < n; ++i) {
                out.push_back(event_at(3, t0(), ++seq, prev));
                prev = out.back().hash;
            }
            if (break_last) {
                out.back().prev_hash = bytes(32, 0xAB);
            }
            return out;
        };
    };
    auto ok = (*log)->append_batch(batch_of(5, false));
    ASSERT_TRUE(ok.has_value()) << ok.error().message;
    EXPECT_EQ(ok->size(), 5u);
    auto bad = (*log)->append_batch(batch_of(4, true));
    ASSERT_FALSE(bad.has_value());
    EXPECT_EQ(bad.error().code, errc::invalid_argument);
    auto rows = (*log)->scan(0, 100);
    ASSERT_TRUE(rows.has_value());
    EXPECT_EQ(rows->size(), 5u) << "a refused batch must leave nothing behind";
    EXPECT_EQ((*log)->head()->value().seq, 5);
}

TEST(pg_audit_log, when_the_event_does_not_link_then_it_is_refused_and_nothing_is_stored) {
    auto log = create_postgres_audit_log(fresh_pg_config(1));
    ASSERT_TRUE(log.has_value());
    ASSERT_TRUE((*log)->append(seal_as(1, t0())).has_value());
    auto bad = (*log)->append([](const std::optional<audit_head>& head) -> result<audit_event> {
        auto e = seal_as(1, t0())(head);
        e->prev_hash = bytes(32, 0xEE);
        return e;
    });
    ASSERT_FALSE(bad.has_value());
    EXPECT_EQ(bad.error().code, errc::invalid_argument);
    EXPECT_EQ((*log)->scan(0, 10)->size(), 1u);
}

TEST(pg_audit_log, when_queried_then_filters_apply_and_hashes_are_found) {
    auto log = create_postgres_audit_log(fresh_pg_config(1));
    ASSERT_TRUE(log.has_value());
    for (int i = 0; i < 4; ++i) {
        ASSERT_TRUE((*log)->append(
            seal_as(static_cast<std::uint8_t>(1 + i % 2), t0() + std::chrono::seconds(i))));
    }
    audit_query q;
    q.iccid = iccid(2);
    auto found = (*log)->query(q);
    ASSERT_TRUE(found.has_value());
    ASSERT_EQ(found->size(), 2u);
    EXPECT_EQ((*found)[0].seq, 2);
    EXPECT_EQ((*found)[1].seq, 4);
    q.from = t0() + std::chrono::seconds(2);
    EXPECT_EQ((*log)->query(q)->size(), 1u);
    auto rows = (*log)->scan(0, 10);
    auto seqs = (*log)->seqs_with_hash((*rows)[2].hash);
    ASSERT_TRUE(seqs.has_value());
    ASSERT_EQ(seqs->size(), 1u);
    EXPECT_EQ(seqs->front(), 3);
}

} // namespace
} // namespace esimguard::store::testing

#endif
