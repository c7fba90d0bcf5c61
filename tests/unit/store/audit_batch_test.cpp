// audit_log_store::append_batch: the SQLite override writes a linked batch in
// one transaction and stores nothing of a batch that does not link; the
// default (one append per event, for backends that do not override it)
// links too and refuses an event built on a head that moved.

#include "esimguard/store/audit.hpp"
#include "store_fixture.hpp"

namespace esimguard::store::testing {
namespace {

audit_event event_after(const std::optional<audit_head>& head, std::uint8_t tag) {
    audit_event e;
    e.seq = head ? head->seq + 1 : 1;
    e.at = t0();
    e.actor = "lpa";
    e.kind = "es9p_call";
    e.outcome = "ok";
    e.reason = "r";
    e.detail = "{}";
    e.prev_hash = head ? head->hash : bytes(32, 0);
    e.hash = bytes(32, tag);
    return e;
}

/// `n` events chained after `head`.
std::vector<audit_event> chain_of(std::optional<audit_head> head, int n, std::uint8_t first_tag) {
    std::vector<audit_event> out;
    for (int i = 0; i < n; ++i) {
        out.push_back(event_after(head, static_cast<std::uint8_t>(first_tag + i)));
        head = audit_head{out.back().seq, out.back().hash};
    }
    return out;
}

/// Forwards everything but append_batch, so the interface's default runs.
class default_batch_log final : public audit_log_store {
public:
    explicit default_batch_log(audit_log_store& inner) : inner_(inner) {}
    result<audit_event> append(const audit_sealer& s) override { return inner_.append(s); }
    result<std::optional<audit_head>> head() override { return inner_.head(); }
    result<std::vector<audit_event>> scan(std::int64_t a, std::size_t l) override {
        return inner_.scan(a, l);
    }
    result<std::vector<std::int64_t>> seqs_with_hash(byte_view h) override {
        return inner_.seqs_with_hash(h);
    }
    result<std::vector<audit_event>> query(const audit_query& q) override {
        return inner_.query(q);
    }

private:
    audit_log_store& inner_;
};

class audit_batch_test : public ::testing::Test {
protected:
    void SetUp() override {
        auto l = create_sqlite_audit_log({(dir_.path() / "audit.db").string()});
        ASSERT_TRUE(l.has_value()) << l.error().message;
        log_ = std::move(*l);
    }
    temp_dir dir_;
    std::unique_ptr<audit_log_store> log_;
};

TEST_F(audit_batch_test, when_a_linked_batch_is_appended_then_all_events_are_stored_in_order) {
    auto r = log_->append_batch(
        [](const std::optional<audit_head>& h) -> result<std::vector<audit_event>> {
            return chain_of(h, 5, 1);
        });
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->size(), 5u);
    auto all = log_->scan(0, 100);
    ASSERT_EQ(all->size(), 5u);
    EXPECT_EQ(all->back().seq, 5);
    EXPECT_EQ(all->at(3).prev_hash, all->at(2).hash);
    auto next = log_->append_batch(
        [](const std::optional<audit_head>& h) -> result<std::vector<audit_event>> {
            return chain_of(h, 2, 50);
        });
    ASSERT_TRUE(next.has_value());
    EXPECT_EQ(next->front().seq, 6);
    EXPECT_EQ((*log_->head())->seq, 7);
}

TEST_F(audit_batch_test, when_one_event_of_a_batch_does_not_link_then_nothing_is_stored) {
    auto r = log_->append_batch(
        [](const std::optional<audit_head>& h) -> result<std::vector<audit_event>> {
            auto events = chain_of(h, 4, 1);
            events[2].prev_hash = bytes(32, 0xEE); // a fork in the middle
            return events;
        });
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, errc::invalid_argument);
    EXPECT_TRUE(log_->scan(0, 100)->empty());
}

TEST_F(audit_batch_test, when_the_sealer_fails_then_its_error_is_returned_and_nothing_stored) {
    auto r = log_->append_batch(
        [](const std::optional<audit_head>&) -> result<std::vector<audit_event>> {
            return std::unexpected(error{errc::invalid_argument, "no"});
        });
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().message, "no");
    EXPECT_FALSE(log_->head()->has_value());
}

TEST_F(audit_batch_test, when_a_backend_keeps_the_default_then_batches_still_link) {
    default_batch_log d(*log_);
    auto r =
        d.append_batch([](const std::optional<audit_head>& h) -> result<std::vector<audit_event>> {
            return chain_of(h, 3, 1);
        });
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ((*log_->head())->seq, 3);
}

TEST_F(audit_batch_test,
       when_the_head_moves_under_the_default_then_the_batch_is_refused_not_forked) {
    default_batch_log d(*log_);
    auto r =
        d.append_batch([&](const std::optional<audit_head>& h) -> result<std::vector<audit_event>> {
            auto events = chain_of(h, 2, 1);
            // Another writer appends after the batch was sealed.
            EXPECT_TRUE(
                log_->append([](const std::optional<audit_head>& head) -> result<audit_event> {
                        return event_after(head, 0x99);
                    })
                    .has_value());
            return events;
        });
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, errc::invalid_argument);
    auto all = log_->scan(0, 100);
    ASSERT_EQ(all->size(), 1u);
    EXPECT_EQ(all->front().hash, bytes(32, 0x99));
}

} // namespace
} // namespace esimguard::store::testing
