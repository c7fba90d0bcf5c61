// The audit group-commit writer and audit_chain::append_batch over a real
// SQLite file and head file: many submitters end in one linear chain that
// verifies, batches really are batched, a full queue blocks instead of
// dropping, store failures are retried and then counted, stop() drains, and
// verify() still names an edited event written by a batch.

#include "esimguard/defense/audit_writer.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include <unistd.h>

namespace esimguard::defense {
namespace {

using store::audit_kind;

const store::time_point t0{std::chrono::seconds(1704067200)};

/// Delegates to a real log; append_batch can be held at a gate or made to
/// fail a number of times, and counts its calls.
class gated_log final : public store::audit_log_store {
public:
    explicit gated_log(std::unique_ptr<store::audit_log_store> inner) : inner_(std::move(inner)) {}

    store::result<store::audit_event> append(const store::audit_sealer& s) override {
        return inner_->append(s);
    }
    store::result<std::vector<store::audit_event>>
    append_batch(const store::audit_batch_sealer& s) override {
        {
            std::unique_lock lk(m_);
            ++entered_;
            cv_.notify_all();
            cv_.wait(lk, [&] { return open_; });
            ++calls_;
            if (failures_left_ > 0) {
                --failures_left_;
                return std::unexpected(store::error{store::errc::io, "disk on fire"});
            }
        }
        return inner_->append_batch(s);
    }
    store::result<std::optional<store::audit_head>> head() override { return inner_->head(); }
    store::result<std::vector<store::audit_event>> scan(std::int64_t a, std::size_t l) override {
        return inner_->scan(a, l);
    }
    store::result<std::vector<std::int64_t>> seqs_with_hash(byte_view h) override {
        return inner_->seqs_with_hash(h);
    }
    store::result<std::vector<store::audit_event>> query(const store::audit_query& q) override {
        return inner_->query(q);
    }

    void close_gate() {
        std::lock_guard lk(m_);
        open_ = false;
    }
    void open_gate() {
        std::lock_guard lk(m_);
        open_ = true;
        cv_.notify_all();
    }
    void wait_entered(int n) {
        std::unique_lock lk(m_);
        cv_.wait(lk, [&] { return entered_ >= n; });
    }
    void fail_next(int n) {
        std::lock_guard lk(m_);
        failures_left_ = n;
    }
    int calls() {
        std::lock_guard lk(m_);
        return calls_;
    }

private:
    std::unique_ptr<store::audit_log_store> inner_;
    std::mutex m_;
    std::condition_variable cv_;
    bool open_ = true;
    int entered_ = 0;
    int calls_ = 0;
    int failures_left_ = 0;
};

class audit_writer_test : public ::testing::Test {
protected:
    void SetUp() override {
        static std::atomic<int> counter{0};
        dir_ = std::filesystem::temp_directory_path() /
               ("esimguard-auditw-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
        db_path_ = (dir_ / "audit.db").string();
        auto l = store::create_sqlite_audit_log({db_path_});
        ASSERT_TRUE(l.has_value()) << l.error().message;
        auto g = std::make_unique<gated_log>(std::move(*l));
        log_ = g.get();
        audit_chain_config cfg;
        cfg.head_file = dir_ / "audit.head";
        cfg.clock = [this] { return t0 + std::chrono::microseconds(++ticks_); };
        chain_ = audit_chain::create(std::move(g), cfg);
    }
    void TearDown() override {
        chain_.reset();
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }

    static audit_entry entry(int i) {
        audit_entry e;
        e.kind = audit_kind::es9p_call;
        e.actor = "lpa";
        e.eid = "89049032123451234512345678901235";
        e.source_address = "192.0.2." + std::to_string(i % 250);
        e.outcome = "ok";
        e.reason = "authenticateClient";
        e.detail_json = R"({"n":)" + std::to_string(i) + "}";
        return e;
    }

    void tamper(const std::string& sql) {
        ::sqlite3* db = nullptr;
        ASSERT_EQ(::sqlite3_open(db_path_.c_str(), &db), SQLITE_OK);
        char* err = nullptr;
        int rc = ::sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
        EXPECT_EQ(rc, SQLITE_OK) << (err ? err : "");
        ::sqlite3_free(err);
        ::sqlite3_close(db);
    }

    std::filesystem::path dir_;
    std::string db_path_;
    gated_log* log_ = nullptr;
    std::unique_ptr<audit_chain> chain_;
    std::atomic<std::int64_t> ticks_{0};
};

TEST_F(audit_writer_test, when_a_batch_is_appended_then_it_links_and_the_head_file_names_its_last) {
    std::vector<audit_entry> batch{entry(1), entry(2), entry(3)};
    auto r = chain_->append_batch(batch);
    ASSERT_TRUE(r.has_value()) << r.error().message;
    ASSERT_EQ(r->size(), 3u);
    EXPECT_EQ(r->at(0).seq, 1);
    EXPECT_EQ(r->at(2).seq, 3);
    EXPECT_EQ(r->at(1).prev_hash, r->at(0).hash);
    EXPECT_EQ(log_->calls(), 1);
    auto second = chain_->append_batch(std::vector<audit_entry>{entry(4)});
    ASSERT_TRUE(second.has_value());
    EXPECT_EQ(second->at(0).prev_hash, r->at(2).hash);
    auto v = chain_->verify();
    ASSERT_TRUE(v.has_value());
    EXPECT_TRUE(v->ok) << v->message;
    EXPECT_EQ(v->events_checked, 4);
    ASSERT_TRUE(v->file_head.has_value());
    EXPECT_EQ(v->file_head->seq, 4);
}

TEST_F(audit_writer_test, when_one_entry_of_a_batch_is_invalid_then_nothing_is_stored) {
    auto bad = entry(2);
    bad.detail_json = "[1,2]";
    std::vector<audit_entry> batch{entry(1), bad};
    auto r = chain_->append_batch(batch);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, audit_errc::invalid_argument);
    EXPECT_EQ(log_->calls(), 0);
    EXPECT_EQ(chain_->verify()->events_checked, 0);
}

TEST_F(audit_writer_test, when_an_event_of_a_batch_is_edited_then_verify_names_it) {
    std::vector<audit_entry> batch;
    for (int i = 0; i < 10; ++i) {
        batch.push_back(entry(i));
    }
    ASSERT_TRUE(chain_->append_batch(batch).has_value());
    tamper("DROP TRIGGER audit_events_no_update;"
           "UPDATE audit_events SET outcome = 'refused' WHERE seq = 7;");
    auto v = chain_->verify();
    ASSERT_TRUE(v.has_value());
    EXPECT_FALSE(v->ok);
    EXPECT_EQ(v->kind, audit_break_kind::edited);
    EXPECT_EQ(v->seq, 7);
}

TEST_F(audit_writer_test, when_many_threads_submit_then_the_chain_holds_all_in_few_batches) {
    audit_writer w(*chain_);
    constexpr int threads = 4;
    constexpr int per_thread = 250;
    // Hold the first batch so that the rest pile up and are grouped.
    log_->close_gate();
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t) {
        ts.emplace_back([&, t] {
            for (int i = 0; i < per_thread; ++i) {
                ASSERT_TRUE(w.submit(entry(t * per_thread + i)).has_value());
            }
        });
    }
    for (auto& t : ts) {
        t.join();
    }
    log_->open_gate();
    ASSERT_TRUE(w.flush().has_value());
    auto c = w.counters();
    EXPECT_EQ(c.submitted, 1000u);
    EXPECT_EQ(c.written, 1000u);
    EXPECT_EQ(c.failed, 0u);
    EXPECT_EQ(c.queued, 0u);
    // The held batch, then everything that queued behind it.
    EXPECT_LE(c.batches, 3u);
    auto v = chain_->verify();
    ASSERT_TRUE(v.has_value());
    EXPECT_TRUE(v->ok) << v->message;
    EXPECT_EQ(v->events_checked, 1000);
}

TEST_F(audit_writer_test, when_entries_trickle_in_within_the_linger_then_they_share_one_batch) {
    audit_writer_config cfg;
    cfg.linger = std::chrono::seconds(30);
    audit_writer w(*chain_, cfg);
    ASSERT_TRUE(w.submit(entry(1)).has_value());
    // Without the linger the writer takes the lone entry at once; with it,
    // the entry waits for company.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_EQ(w.counters().batches, 0u);
    for (int i = 2; i <= 5; ++i) {
        ASSERT_TRUE(w.submit(entry(i)).has_value());
    }
    // flush() ends the linger: it does not wait the 30 s.
    const auto start = std::chrono::steady_clock::now();
    ASSERT_TRUE(w.flush().has_value());
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
    auto c = w.counters();
    EXPECT_EQ(c.written, 5u);
    EXPECT_EQ(c.batches, 1u);
}

TEST_F(audit_writer_test, when_the_queue_is_full_then_submit_blocks_and_nothing_is_dropped) {
    audit_writer_config cfg;
    cfg.queue_capacity = 2;
    audit_writer w(*chain_, cfg);
    log_->close_gate();
    ASSERT_TRUE(w.submit(entry(0)).has_value());
    log_->wait_entered(1); // the writer holds entry 0 at the gate
    ASSERT_TRUE(w.submit(entry(1)).has_value());
    ASSERT_TRUE(w.submit(entry(2)).has_value());
    std::atomic<bool> returned{false};
    std::thread blocked([&] {
        ASSERT_TRUE(w.submit(entry(3)).has_value());
        returned = true;
    });
    // Wait (without sleeping) until the submit is counted as blocked.
    while (w.counters().blocked == 0) {
        std::this_thread::yield();
    }
    EXPECT_FALSE(returned.load());
    log_->open_gate();
    blocked.join();
    EXPECT_TRUE(returned.load());
    ASSERT_TRUE(w.flush().has_value());
    EXPECT_EQ(w.counters().written, 4u);
    EXPECT_EQ(w.counters().blocked, 1u);
    EXPECT_EQ(chain_->verify()->events_checked, 4);
}

TEST_F(audit_writer_test, when_the_store_fails_briefly_then_the_batch_is_retried_and_written) {
    audit_writer_config cfg;
    cfg.retry_backoff = std::chrono::milliseconds(0);
    cfg.max_attempts = 3;
    audit_writer w(*chain_, cfg);
    log_->fail_next(2);
    ASSERT_TRUE(w.submit(entry(1)).has_value());
    ASSERT_TRUE(w.flush().has_value());
    EXPECT_EQ(w.counters().written, 1u);
    EXPECT_EQ(w.counters().failed, 0u);
    EXPECT_EQ(log_->calls(), 3);
}

TEST_F(audit_writer_test,
       when_the_store_keeps_failing_then_entries_are_counted_failed_and_flush_says_so) {
    auto metrics = std::make_shared<http::metrics_registry>();
    audit_writer_config cfg;
    cfg.retry_backoff = std::chrono::milliseconds(0);
    cfg.max_attempts = 2;
    cfg.metrics = metrics;
    audit_writer w(*chain_, cfg);
    log_->fail_next(2);
    ASSERT_TRUE(w.submit(entry(1)).has_value());
    auto f = w.flush();
    ASSERT_FALSE(f.has_value());
    EXPECT_EQ(f.error().code, audit_errc::store_failure);
    EXPECT_EQ(w.counters().failed, 1u);
    EXPECT_NE(metrics->render().find("esimguard_audit_failed_total 1"), std::string::npos);
    // The error is reported once; later entries go through.
    ASSERT_TRUE(w.submit(entry(2)).has_value());
    EXPECT_TRUE(w.flush().has_value());
    EXPECT_EQ(w.counters().written, 1u);
}

TEST_F(audit_writer_test, when_entries_wait_in_the_queue_then_they_keep_the_time_of_submission) {
    audit_writer_config cfg;
    std::atomic<int> calls{0};
    cfg.clock = [&] { return t0 + std::chrono::hours(1) + std::chrono::seconds(++calls); };
    audit_writer w(*chain_, cfg);
    log_->close_gate();
    ASSERT_TRUE(w.submit(entry(0)).has_value());
    ASSERT_TRUE(w.submit(entry(1)).has_value());
    auto given = entry(2);
    given.at = t0 + std::chrono::hours(5);
    ASSERT_TRUE(w.submit(given).has_value());
    log_->open_gate();
    ASSERT_TRUE(w.flush().has_value());
    auto events = chain_->activation_records({});
    ASSERT_TRUE(events.has_value());
    ASSERT_EQ(events->size(), 3u);
    EXPECT_EQ(events->at(0).at, t0 + std::chrono::hours(1) + std::chrono::seconds(1));
    EXPECT_EQ(events->at(1).at, t0 + std::chrono::hours(1) + std::chrono::seconds(2));
    EXPECT_EQ(events->at(2).at, t0 + std::chrono::hours(5));
    EXPECT_EQ(calls.load(), 2);
    EXPECT_TRUE(chain_->verify()->ok);
}

TEST_F(audit_writer_test, when_an_entry_is_invalid_then_submit_refuses_it_and_counts) {
    audit_writer w(*chain_);
    auto bad = entry(1);
    bad.actor.clear();
    auto r = w.submit(bad);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, audit_errc::invalid_argument);
    EXPECT_EQ(w.counters().refused, 1u);
    EXPECT_EQ(w.counters().submitted, 0u);
}

TEST_F(audit_writer_test,
       when_stopped_then_everything_submitted_is_written_and_later_submits_refused) {
    {
        audit_writer w(*chain_);
        log_->close_gate();
        for (int i = 0; i < 50; ++i) {
            ASSERT_TRUE(w.submit(entry(i)).has_value());
        }
        log_->open_gate();
        w.stop();
        EXPECT_EQ(w.counters().written, 50u);
        EXPECT_FALSE(w.submit(entry(99)).has_value());
        EXPECT_EQ(w.counters().refused, 1u);
    }
    EXPECT_EQ(chain_->verify()->events_checked, 50);
}

} // namespace
} // namespace esimguard::defense
