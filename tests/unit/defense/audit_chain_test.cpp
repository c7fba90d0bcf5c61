// The audit chain against a real SQLite file and head file: appends verify,
// and every kind of tampering done behind esimguard's back (with the SQLite
// C API, as someone with the file would) is named with the first bad seq.

#include "esimguard/defense/audit_chain.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include <unistd.h>

namespace esimguard::defense {
namespace {

using namespace std::chrono_literals;
using store::audit_kind;

const store::time_point t0{std::chrono::seconds(1704067200)};
const std::string eid_a = "89049032123451234512345678901235";
const std::string eid_b = "89049032123451234512345678901299";
const std::string iccid_a = "89440000000000010001";
const std::string iccid_b = "89440000000000010002";

class temp_dir {
public:
    temp_dir() {
        static std::atomic<int> counter{0};
        path_ = std::filesystem::temp_directory_path() /
                ("esimguard-audit-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
        std::filesystem::remove_all(path_);
        std::filesystem::create_directories(path_);
    }
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

/// Runs SQL on the database file directly, as an attacker with the file
/// would: the append-only triggers are dropped first.
void tamper(const std::filesystem::path& db_file, const std::string& sql) {
    ::sqlite3* db = nullptr;
    ASSERT_EQ(::sqlite3_open(db_file.c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    std::string script = "DROP TRIGGER IF EXISTS audit_events_no_update;"
                         "DROP TRIGGER IF EXISTS audit_events_no_delete;" +
                         sql;
    int rc = ::sqlite3_exec(db, script.c_str(), nullptr, nullptr, &err);
    std::string msg = err ? err : "";
    ::sqlite3_free(err);
    ::sqlite3_close(db);
    ASSERT_EQ(rc, SQLITE_OK) << msg;
}

/// Runs SQL with the triggers in place and returns the SQLite result code.
int exec_keeping_triggers(const std::filesystem::path& db_file, const std::string& sql) {
    ::sqlite3* db = nullptr;
    EXPECT_EQ(::sqlite3_open(db_file.c_str(), &db), SQLITE_OK);
    int rc = ::sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
    ::sqlite3_close(db);
    return rc;
}

class audit_chain_test : public ::testing::Test {
protected:
    void SetUp() override { open(); }

    void open() {
        chain_.reset();
        auto log = store::create_sqlite_audit_log({db_file().string()});
        ASSERT_TRUE(log.has_value()) << log.error().message;
        audit_chain_config cfg;
        cfg.head_file = head_file();
        cfg.clock = [this] { return t0 + std::chrono::seconds(tick_++); };
        cfg.verify_page_size = page_size_;
        chain_ = audit_chain::create(std::move(*log), cfg);
    }

    std::filesystem::path db_file() const { return dir_.path() / "audit.db"; }
    std::filesystem::path head_file() const { return dir_.path() / "audit.head"; }

    static audit_entry entry(int n) {
        audit_entry e;
        e.kind = n % 3 == 0 ? audit_kind::decision : audit_kind::es9p_call;
        e.actor = n % 3 == 0 ? "engine" : "lpa";
        e.eid = n % 2 == 0 ? eid_a : eid_b;
        e.iccid = n % 2 == 0 ? iccid_a : iccid_b;
        e.source_address = n % 4 == 0 ? "198.51.100.7" : "203.0.113.9";
        e.outcome = "ok";
        e.reason = "authenticateClient";
        e.detail_json = R"({"n": )" + std::to_string(n) + R"(, "function": "authenticateClient"})";
        return e;
    }

    void append_n(int n) {
        for (int i = 1; i <= n; ++i) {
            auto r = chain_->append(entry(i));
            ASSERT_TRUE(r.has_value()) << r.error().message;
        }
    }

    audit_verification verify() {
        auto v = chain_->verify();
        EXPECT_TRUE(v.has_value()) << (v ? "" : v.error().message);
        return v.value_or(audit_verification{});
    }

    void expect_break(audit_break_kind kind, std::int64_t seq) {
        auto v = verify();
        EXPECT_FALSE(v.ok);
        EXPECT_EQ(v.kind, kind) << "got " << to_string(v.kind) << ": " << v.message;
        EXPECT_EQ(v.seq, seq) << v.message;
    }

    /// A correctly hashed event that the chain never contained.
    static store::audit_event forged(std::int64_t seq, const bytes& prev) {
        store::audit_event e;
        e.seq = seq;
        e.at = t0 + 1h;
        e.actor = "admin:mallory";
        e.kind = "admin_action";
        e.outcome = "ok";
        e.reason = "unblock";
        e.detail = "{}";
        e.prev_hash = prev;
        e.hash = audit_event_hash(prev, e);
        return e;
    }

    static std::string insert_sql(const store::audit_event& e) {
        return "INSERT INTO audit_events (seq, at, actor, kind, outcome, reason, detail, "
               "prev_hash, hash) VALUES (" +
               std::to_string(e.seq) + ", " +
               std::to_string(
                   std::chrono::duration_cast<std::chrono::microseconds>(e.at.time_since_epoch())
                       .count()) +
               ", '" + e.actor + "', '" + e.kind + "', '" + e.outcome + "', '" + e.reason + "', '" +
               e.detail + "', X'" + to_hex(e.prev_hash) + "', X'" + to_hex(e.hash) + "');";
    }

    bytes stored_hash(std::int64_t seq) {
        auto log = store::create_sqlite_audit_log({db_file().string()});
        EXPECT_TRUE(log.has_value());
        auto rows = (*log)->scan(seq - 1, 1);
        EXPECT_TRUE(rows.has_value() && rows->size() == 1);
        return rows->front().hash;
    }

    temp_dir dir_;
    int tick_ = 0;
    std::size_t page_size_ = 1000;
    std::unique_ptr<audit_chain> chain_;
};

TEST_F(audit_chain_test, when_events_are_appended_then_the_chain_verifies) {
    append_n(20);
    auto v = verify();
    EXPECT_TRUE(v.ok) << v.message;
    EXPECT_EQ(v.kind, audit_break_kind::none);
    EXPECT_EQ(v.events_checked, 20);
    ASSERT_TRUE(v.file_head.has_value());
    EXPECT_EQ(v.file_head->seq, 20);
}

TEST_F(audit_chain_test, when_the_chain_spans_several_pages_then_it_still_verifies) {
    page_size_ = 3;
    open();
    append_n(10);
    auto v = verify();
    EXPECT_TRUE(v.ok) << v.message;
    EXPECT_EQ(v.events_checked, 10);
}

TEST_F(audit_chain_test, when_events_are_appended_then_they_link_and_the_head_file_names_the_last) {
    append_n(3);
    auto e4 = chain_->append(entry(4));
    ASSERT_TRUE(e4.has_value());
    EXPECT_EQ(e4->seq, 4);
    EXPECT_EQ(e4->prev_hash, stored_hash(3));
    EXPECT_EQ(e4->hash, audit_event_hash(e4->prev_hash, *e4));
    std::ifstream in(head_file());
    std::string line;
    std::getline(in, line);
    EXPECT_EQ(line, "esimguard-audit-head v1 4 " + to_hex(e4->hash));
}

TEST_F(audit_chain_test, when_the_chain_is_empty_then_it_verifies) {
    auto v = verify();
    EXPECT_TRUE(v.ok) << v.message;
    EXPECT_EQ(v.events_checked, 0);
}

TEST_F(audit_chain_test, when_one_events_outcome_is_edited_in_sqlite_then_verify_names_it_edited) {
    append_n(10);
    tamper(db_file(), "UPDATE audit_events SET outcome = 'refused' WHERE seq = 6;");
    expect_break(audit_break_kind::edited, 6);
}

TEST_F(audit_chain_test, when_an_edited_event_is_also_rehashed_then_verify_still_names_it) {
    append_n(10);
    // Recompute seq 6's hash after the edit, but not the events after it.
    auto log = store::create_sqlite_audit_log({db_file().string()});
    ASSERT_TRUE(log.has_value());
    auto row = (*log)->scan(5, 1);
    ASSERT_TRUE(row.has_value() && row->size() == 1);
    auto e = row->front();
    e.outcome = "refused";
    auto h = audit_event_hash(e.prev_hash, e);
    tamper(db_file(), "UPDATE audit_events SET outcome = 'refused', hash = X'" + to_hex(h) +
                          "' WHERE seq = 6;");
    expect_break(audit_break_kind::edited, 6);
}

TEST_F(audit_chain_test,
       when_the_whole_chain_is_recomputed_after_an_edit_then_the_head_file_catches_it) {
    append_n(6);
    auto log = store::create_sqlite_audit_log({db_file().string()});
    ASSERT_TRUE(log.has_value());
    auto rows = (*log)->scan(0, 100);
    ASSERT_TRUE(rows.has_value());
    std::string sql;
    bytes prev(32, 0);
    for (auto e : *rows) {
        if (e.seq == 3) {
            e.outcome = "refused";
        }
        e.prev_hash = prev;
        e.hash = audit_event_hash(prev, e);
        prev = e.hash;
        sql += "UPDATE audit_events SET outcome = '" + e.outcome + "', prev_hash = X'" +
               to_hex(e.prev_hash) + "', hash = X'" + to_hex(e.hash) +
               "' WHERE seq = " + std::to_string(e.seq) + ";";
    }
    tamper(db_file(), sql);
    expect_break(audit_break_kind::rewritten, 6);
}

TEST_F(audit_chain_test, when_one_event_is_deleted_then_verify_names_the_gap) {
    append_n(10);
    tamper(db_file(), "DELETE FROM audit_events WHERE seq = 4;");
    expect_break(audit_break_kind::deleted, 4);
}

TEST_F(audit_chain_test, when_an_event_is_deleted_and_the_rest_renumbered_then_verify_names_it) {
    append_n(10);
    tamper(db_file(), "DELETE FROM audit_events WHERE seq = 4;"
                      "UPDATE audit_events SET seq = seq + 1000 WHERE seq > 4;"
                      "UPDATE audit_events SET seq = seq - 1001 WHERE seq > 1000;");
    expect_break(audit_break_kind::deleted, 4);
}

TEST_F(audit_chain_test, when_the_first_event_is_deleted_then_verify_names_seq_one) {
    append_n(5);
    tamper(db_file(), "DELETE FROM audit_events WHERE seq = 1;");
    expect_break(audit_break_kind::deleted, 1);
}

TEST_F(audit_chain_test, when_a_forged_row_is_inserted_in_the_middle_then_verify_detects_it) {
    append_n(10);
    // Make room at seq 5 and put a correctly linked, correctly hashed event there.
    auto f = forged(5, stored_hash(4));
    tamper(db_file(), "UPDATE audit_events SET seq = seq + 1000 WHERE seq >= 5;"
                      "UPDATE audit_events SET seq = seq - 999 WHERE seq > 1000;" +
                          insert_sql(f));
    expect_break(audit_break_kind::inserted, 5);
}

TEST_F(audit_chain_test,
       when_a_linked_forged_row_is_appended_at_the_end_then_the_head_file_catches_it) {
    append_n(10);
    tamper(db_file(), insert_sql(forged(11, stored_hash(10))));
    expect_break(audit_break_kind::inserted, 11);
}

TEST_F(audit_chain_test, when_a_badly_forged_row_is_appended_at_the_end_then_it_is_inserted) {
    append_n(10);
    auto f = forged(11, bytes(32, 0x77));
    tamper(db_file(), insert_sql(f));
    expect_break(audit_break_kind::inserted, 11);
}

TEST_F(audit_chain_test, when_two_events_are_swapped_then_verify_names_it_reordered) {
    append_n(10);
    tamper(db_file(), "UPDATE audit_events SET seq = 1003 WHERE seq = 3;"
                      "UPDATE audit_events SET seq = 3 WHERE seq = 4;"
                      "UPDATE audit_events SET seq = 4 WHERE seq = 1003;");
    expect_break(audit_break_kind::reordered, 3);
}

TEST_F(audit_chain_test, when_the_contents_of_two_events_are_swapped_then_verify_detects_it) {
    append_n(10);
    // Swap every column but seq between 7 and 8.
    tamper(db_file(), "CREATE TEMP TABLE s AS SELECT * FROM audit_events WHERE seq IN (7, 8);"
                      "DELETE FROM audit_events WHERE seq IN (7, 8);"
                      "INSERT INTO audit_events SELECT 15 - seq, at, actor, kind, eid, iccid, "
                      "source_address, outcome, reason, detail, prev_hash, hash FROM s;");
    expect_break(audit_break_kind::reordered, 7);
}

TEST_F(audit_chain_test, when_the_last_event_is_deleted_then_the_head_file_shows_truncation) {
    append_n(10);
    tamper(db_file(), "DELETE FROM audit_events WHERE seq = 10;");
    expect_break(audit_break_kind::truncated, 10);
}

TEST_F(audit_chain_test, when_the_log_is_truncated_then_a_later_append_keeps_the_evidence) {
    append_n(10);
    tamper(db_file(), "DELETE FROM audit_events WHERE seq >= 9;");
    // The next appends reach seq 10 and beyond with other hashes; the head
    // file must not be moved over the missing event, and the appends say so.
    ASSERT_TRUE(chain_->append(entry(11)).has_value()); // seq 9: the file stays at 10
    for (int n = 12; n <= 13; ++n) {                    // seq 10 and 11
        auto r = chain_->append(entry(n));
        ASSERT_FALSE(r.has_value());
        EXPECT_EQ(r.error().code, audit_errc::head_file_failure);
    }
    auto v = verify();
    EXPECT_FALSE(v.ok);
    EXPECT_EQ(v.kind, audit_break_kind::rewritten) << v.message;
    EXPECT_EQ(v.seq, 10);
}

TEST_F(audit_chain_test, when_the_head_file_is_removed_then_verify_reports_it_missing) {
    append_n(3);
    std::filesystem::remove(head_file());
    expect_break(audit_break_kind::head_missing, 0);
}

TEST_F(audit_chain_test, when_the_head_file_is_garbage_then_verify_reports_it_invalid) {
    append_n(3);
    std::ofstream(head_file()) << "seq=3\n";
    expect_break(audit_break_kind::head_invalid, 0);
}

TEST_F(audit_chain_test, when_the_store_is_changed_through_sql_with_triggers_then_it_is_refused) {
    append_n(3);
    EXPECT_NE(exec_keeping_triggers(db_file(), "UPDATE audit_events SET outcome = 'x'"), SQLITE_OK);
    EXPECT_NE(exec_keeping_triggers(db_file(), "DELETE FROM audit_events"), SQLITE_OK);
    EXPECT_TRUE(verify().ok);
}

TEST_F(audit_chain_test, when_eight_threads_append_at_once_then_the_chain_is_linear_and_verifies) {
    constexpr int threads = 8;
    constexpr int per_thread = 15;
    std::atomic<int> failures{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            for (int i = 0; i < per_thread; ++i) {
                if (!chain_->append(entry(t * 1000 + i))) {
                    failures++;
                }
            }
        });
    }
    for (auto& th : pool) {
        th.join();
    }
    EXPECT_EQ(failures.load(), 0);
    auto v = verify();
    EXPECT_TRUE(v.ok) << v.message;
    EXPECT_EQ(v.events_checked, threads * per_thread);
    ASSERT_TRUE(v.file_head.has_value());
    EXPECT_EQ(v.file_head->seq, threads * per_thread);
}

TEST_F(audit_chain_test, when_two_chains_share_the_files_then_appends_from_both_stay_linear) {
    // Two audit_chain objects stand for two processes (server and CLI): each
    // has its own connections and mutex; the store lock and the head-file
    // lock must keep them in one line.
    auto log2 = store::create_sqlite_audit_log({db_file().string()});
    ASSERT_TRUE(log2.has_value());
    audit_chain_config cfg;
    cfg.head_file = head_file();
    auto other = audit_chain::create(std::move(*log2), cfg);
    std::atomic<int> failures{0};
    std::thread a([&] {
        for (int i = 0; i < 30; ++i) {
            if (!chain_->append(entry(i))) {
                failures++;
            }
        }
    });
    std::thread b([&] {
        for (int i = 0; i < 30; ++i) {
            if (!other->append(entry(100 + i))) {
                failures++;
            }
        }
    });
    a.join();
    b.join();
    EXPECT_EQ(failures.load(), 0);
    auto v = verify();
    EXPECT_TRUE(v.ok) << v.message;
    EXPECT_EQ(v.events_checked, 60);
}

TEST_F(audit_chain_test, when_queried_by_iccid_eid_or_ip_then_matching_records_come_in_time_order) {
    append_n(12);
    store::audit_query by_iccid;
    by_iccid.iccid = iccid_a;
    auto r = chain_->activation_records(by_iccid);
    ASSERT_TRUE(r.has_value());
    ASSERT_EQ(r->size(), 6u);
    for (std::size_t i = 0; i < r->size(); ++i) {
        EXPECT_EQ((*r)[i].iccid, iccid_a);
        if (i > 0) {
            EXPECT_LT((*r)[i - 1].at, (*r)[i].at);
        }
    }
    store::audit_query by_eid;
    by_eid.eid = eid_b;
    auto e = chain_->activation_records(by_eid);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->size(), 6u);
    store::audit_query by_ip;
    by_ip.source_address = "198.51.100.7";
    auto ip = chain_->activation_records(by_ip);
    ASSERT_TRUE(ip.has_value());
    ASSERT_EQ(ip->size(), 3u);
    EXPECT_EQ(ip->front().seq, 4);
    EXPECT_EQ(ip->back().seq, 12);
}

TEST_F(audit_chain_test, when_detail_is_not_a_json_object_then_the_entry_is_refused) {
    auto e = entry(1);
    e.detail_json = "[1,2";
    auto r = chain_->append(e);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, audit_errc::invalid_argument);
    e.detail_json = "";
    auto ok = chain_->append(e);
    ASSERT_TRUE(ok.has_value());
    EXPECT_EQ(ok->detail, "{}");
}

TEST_F(audit_chain_test, when_detail_has_whitespace_then_it_is_stored_compact_with_sorted_keys) {
    auto e = entry(1);
    e.detail_json = "{ \"b\" : 1 ,\n \"a\" : \"x\" }";
    auto r = chain_->append(e);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->detail, R"({"a":"x","b":1})");
}

TEST(audit_canonical, when_an_optional_field_is_absent_or_empty_then_the_encodings_differ) {
    store::audit_event a;
    a.seq = 1;
    a.actor = "lpa";
    a.kind = "es9p_call";
    store::audit_event b = a;
    b.eid = "";
    EXPECT_NE(audit_canonical_encoding(a), audit_canonical_encoding(b));
}

TEST(audit_canonical, when_bytes_move_between_adjacent_fields_then_the_encodings_differ) {
    store::audit_event a;
    a.seq = 1;
    a.outcome = "ok";
    a.reason = "x";
    store::audit_event b = a;
    b.outcome = "okx";
    b.reason = "";
    EXPECT_NE(audit_canonical_encoding(a), audit_canonical_encoding(b));
}

TEST(audit_canonical, when_an_event_is_encoded_then_the_layout_is_the_documented_one) {
    store::audit_event e;
    e.seq = 2;
    e.at = store::time_point(std::chrono::microseconds(0x0102));
    e.actor = "a";
    e.kind = "k";
    e.iccid = "i";
    e.outcome = "o";
    e.reason = "";
    e.detail = "{}";
    auto enc = audit_canonical_encoding(e);
    EXPECT_EQ(to_hex(enc), "00000012" + to_hex(as_bytes("esimguard.audit.v1")) +
                               "0000000000000002" + "0000000000000102" + "0000000161" +
                               "000000016b" + "00" + "010000000169" + "00" + "000000016f" +
                               "00000000" + "000000027b7d");
}

} // namespace
} // namespace esimguard::defense
