// The SQLite audit log on its own: append links to the head under one write
// transaction, refuses what does not link, scans in seq order, answers the
// activation-record queries, and shares its file with the main store.

#include "esimguard/store/audit.hpp"
#include "store_fixture.hpp"

#include <thread>

namespace esimguard::store::testing {
namespace {

/// A sealer that links to the head with a made-up (not SHA-256) hash: the
/// store checks the shape of the chain, not the hash function.
audit_sealer seal_with(std::string iccid, time_point at, std::string source = "192.0.2.1") {
    return [=](const std::optional<audit_head>& head) -> result<audit_event> {
        audit_event e;
        e.seq = head ? head->seq + 1 : 1;
        e.at = at;
        e.actor = "lpa";
        e.kind = "es9p_call";
        e.iccid = iccid;
        e.eid = eid_a;
        e.source_address = source;
        e.outcome = "ok";
        e.reason = "r";
        e.detail = "{}";
        e.prev_hash = head ? head->hash : bytes(32, 0);
        e.hash = bytes(32, static_cast<std::uint8_t>(e.seq));
        return e;
    };
}

class audit_log_test : public ::testing::Test {
protected:
    void SetUp() override {
        auto l = create_sqlite_audit_log({(dir_.path() / "audit.db").string()});
        ASSERT_TRUE(l.has_value()) << l.error().message;
        log_ = std::move(*l);
    }

    temp_dir dir_;
    std::unique_ptr<audit_log_store> log_;
};

TEST_F(audit_log_test, when_the_log_is_new_then_it_has_no_head) {
    auto h = log_->head();
    ASSERT_TRUE(h.has_value());
    EXPECT_FALSE(h->has_value());
}

TEST_F(audit_log_test, when_events_are_appended_then_they_read_back_exactly_in_seq_order) {
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(log_->append(seal_with(iccid(i), t0() + std::chrono::seconds(i))));
    }
    auto rows = log_->scan(0, 10);
    ASSERT_TRUE(rows.has_value());
    ASSERT_EQ(rows->size(), 3u);
    EXPECT_EQ((*rows)[0].seq, 1);
    EXPECT_EQ((*rows)[0].prev_hash, bytes(32, 0));
    EXPECT_EQ((*rows)[1].prev_hash, (*rows)[0].hash);
    EXPECT_EQ((*rows)[2].iccid, iccid(2));
    EXPECT_EQ((*rows)[2].at, t0() + std::chrono::seconds(2));
    EXPECT_EQ((*rows)[2].kind, "es9p_call");
    auto page = log_->scan(1, 1);
    ASSERT_TRUE(page.has_value());
    ASSERT_EQ(page->size(), 1u);
    EXPECT_EQ(page->front().seq, 2);
    auto h = log_->head();
    ASSERT_TRUE(h.has_value() && h->has_value());
    EXPECT_EQ((*h)->seq, 3);
    EXPECT_EQ((*h)->hash, bytes(32, 3));
}

TEST_F(audit_log_test, when_the_sealed_event_does_not_link_to_the_head_then_it_is_refused) {
    ASSERT_TRUE(log_->append(seal_with(iccid(1), t0())));
    auto bad_seq = log_->append([](const std::optional<audit_head>& head) -> result<audit_event> {
        audit_event e;
        e.seq = head->seq + 2;
        e.actor = "x";
        e.kind = "alert";
        e.outcome = "ok";
        e.prev_hash = head->hash;
        e.hash = bytes(32, 9);
        return e;
    });
    ASSERT_FALSE(bad_seq.has_value());
    EXPECT_EQ(bad_seq.error().code, errc::invalid_argument);
    auto bad_prev = log_->append([](const std::optional<audit_head>& head) -> result<audit_event> {
        audit_event e;
        e.seq = head->seq + 1;
        e.actor = "x";
        e.kind = "alert";
        e.outcome = "ok";
        e.prev_hash = bytes(32, 0xee);
        e.hash = bytes(32, 9);
        return e;
    });
    ASSERT_FALSE(bad_prev.has_value());
    auto bad_kind = log_->append([](const std::optional<audit_head>& head) -> result<audit_event> {
        audit_event e;
        e.seq = head->seq + 1;
        e.actor = "x";
        e.kind = "not_a_kind";
        e.outcome = "ok";
        e.prev_hash = head->hash;
        e.hash = bytes(32, 9);
        return e;
    });
    ASSERT_FALSE(bad_kind.has_value());
    auto rows = log_->scan(0, 10);
    ASSERT_TRUE(rows.has_value());
    EXPECT_EQ(rows->size(), 1u);
}

TEST_F(audit_log_test, when_the_sealer_fails_then_nothing_is_appended) {
    auto r = log_->append([](const std::optional<audit_head>&) -> result<audit_event> {
        return std::unexpected(error{errc::io, "sealer failed"});
    });
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().message, "sealer failed");
    EXPECT_FALSE(log_->head()->has_value());
}

TEST_F(audit_log_test, when_threads_append_at_once_then_seqs_are_one_to_n_without_forks) {
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 25; ++i) {
                EXPECT_TRUE(log_->append(seal_with(iccid(1), t0())).has_value());
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    auto rows = log_->scan(0, 1000);
    ASSERT_TRUE(rows.has_value());
    ASSERT_EQ(rows->size(), 200u);
    for (std::size_t i = 0; i < rows->size(); ++i) {
        EXPECT_EQ((*rows)[i].seq, static_cast<std::int64_t>(i + 1));
        if (i > 0) {
            EXPECT_EQ((*rows)[i].prev_hash, (*rows)[i - 1].hash);
        }
    }
}

TEST_F(audit_log_test, when_queried_then_filters_combine_and_results_come_oldest_first) {
    // Appended out of time order on purpose: the query sorts by time.
    ASSERT_TRUE(log_->append(seal_with(iccid(1), t0() + std::chrono::seconds(5), "192.0.2.1")));
    ASSERT_TRUE(log_->append(seal_with(iccid(2), t0() + std::chrono::seconds(1), "192.0.2.1")));
    ASSERT_TRUE(log_->append(seal_with(iccid(1), t0() + std::chrono::seconds(3), "192.0.2.2")));
    audit_query q;
    q.iccid = iccid(1);
    auto r = log_->query(q);
    ASSERT_TRUE(r.has_value());
    ASSERT_EQ(r->size(), 2u);
    EXPECT_EQ((*r)[0].seq, 3);
    EXPECT_EQ((*r)[1].seq, 1);
    q.source_address = "192.0.2.1";
    r = log_->query(q);
    ASSERT_TRUE(r.has_value());
    ASSERT_EQ(r->size(), 1u);
    EXPECT_EQ((*r)[0].seq, 1);
    audit_query by_ip;
    by_ip.source_address = "192.0.2.1";
    by_ip.from = t0() + std::chrono::seconds(2);
    r = log_->query(by_ip);
    ASSERT_TRUE(r.has_value());
    ASSERT_EQ(r->size(), 1u);
    EXPECT_EQ((*r)[0].seq, 1);
    audit_query by_eid;
    by_eid.eid = eid_a;
    by_eid.limit = 2;
    r = log_->query(by_eid);
    ASSERT_TRUE(r.has_value());
    ASSERT_EQ(r->size(), 2u);
    EXPECT_EQ((*r)[0].seq, 2);
    audit_query none;
    none.eid = eid_b;
    r = log_->query(none);
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(r->empty());
}

TEST_F(audit_log_test, when_a_hash_is_looked_up_then_its_seq_is_found) {
    ASSERT_TRUE(log_->append(seal_with(iccid(1), t0())));
    ASSERT_TRUE(log_->append(seal_with(iccid(1), t0())));
    auto s = log_->seqs_with_hash(bytes(32, 2));
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(*s, std::vector<std::int64_t>{2});
    auto none = log_->seqs_with_hash(bytes(32, 7));
    ASSERT_TRUE(none.has_value());
    EXPECT_TRUE(none->empty());
}

TEST(audit_log_shared_file, when_the_store_and_the_audit_log_open_one_file_then_both_work) {
    temp_dir dir;
    sqlite_config cfg{(dir.path() / "shared.db").string()};
    auto log = create_sqlite_audit_log(cfg);
    ASSERT_TRUE(log.has_value()) << log.error().message;
    auto s = create_sqlite_store(cfg);
    ASSERT_TRUE(s.has_value()) << s.error().message;
    operator_record op{"op", "Op", std::string(64, 'c'), {}, {}, t0()};
    ASSERT_TRUE((*s)->add_operator(op));
    ASSERT_TRUE((*log)->append(seal_with(iccid(1), t0())));
    EXPECT_TRUE((*s)->find_operator("op").has_value());
    EXPECT_EQ((*(*log)->head())->seq, 1);
}

TEST(audit_kind_names, when_a_kind_is_named_then_the_name_parses_back) {
    for (auto k : {audit_kind::es9p_call, audit_kind::es2p_call, audit_kind::decision,
                   audit_kind::alert, audit_kind::admin_action, audit_kind::subscriber_action}) {
        EXPECT_EQ(audit_kind_from_string(to_string(k)), k);
    }
    EXPECT_FALSE(audit_kind_from_string("es9p").has_value());
}

} // namespace
} // namespace esimguard::store::testing
