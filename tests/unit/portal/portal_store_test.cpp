// The SQLite portal store: unique names, the TOTP step compare-and-set,
// one-time recovery codes, sessions and their purge.

#include "esimguard/crypto/hash.hpp"
#include "esimguard/store/portal_store.hpp"

#include <gtest/gtest.h>

namespace esimguard::store {
namespace {

class portal_store_test : public ::testing::Test {
protected:
    void SetUp() override {
        sqlite_config c;
        c.path = ":memory:";
        auto s = create_sqlite_portal_store(c);
        ASSERT_TRUE(s) << s.error().message;
        db_ = std::move(*s);
        ASSERT_TRUE(db_->add_account(account("a1", "alice")));
    }

    static portal_account account(std::string id, std::string name) {
        portal_account a;
        a.id = std::move(id);
        a.name = std::move(name);
        a.password_hash = "$argon2id$stand-in";
        a.subscriber_id = "sub-1";
        a.created_at = t0;
        return a;
    }

    static bytes h(std::string_view s) { return crypto::sha256(as_bytes(s)); }

    static inline const time_point t0 = std::chrono::sys_days(std::chrono::year(2026) / 1 / 1);
    std::unique_ptr<portal_store> db_;
};

TEST_F(portal_store_test, when_a_name_is_taken_then_a_second_account_is_a_conflict) {
    auto r = db_->add_account(account("a2", "alice"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::conflict);
    auto a = db_->find_account_by_name("alice");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->id, "a1");
    EXPECT_EQ(a->role, portal_role::subscriber);
    EXPECT_EQ(db_->find_account("nobody").error().code, errc::not_found);
}

TEST_F(portal_store_test, when_the_totp_step_moved_then_the_compare_and_set_fails) {
    ASSERT_TRUE(db_->enrol_totp("a1", bytes(20, 7), 100, {h("code1")}));
    EXPECT_TRUE(db_->advance_totp_step("a1", 100, 101));
    auto stale = db_->advance_totp_step("a1", 100, 102);
    ASSERT_FALSE(stale);
    EXPECT_EQ(stale.error().code, errc::state_mismatch);
    EXPECT_EQ(db_->find_account("a1")->totp_last_step, 101);
}

TEST_F(portal_store_test, when_a_recovery_code_is_used_then_it_is_spent) {
    ASSERT_TRUE(db_->enrol_totp("a1", bytes(20, 7), 1, {h("code1"), h("code2")}));
    EXPECT_EQ(*db_->recovery_codes_left("a1"), 2);
    EXPECT_TRUE(*db_->use_recovery_code("a1", h("code1"), t0));
    EXPECT_FALSE(*db_->use_recovery_code("a1", h("code1"), t0));
    EXPECT_FALSE(*db_->use_recovery_code("a1", h("other"), t0));
    EXPECT_EQ(*db_->recovery_codes_left("a1"), 1);
    // Enrolling again replaces every code.
    ASSERT_TRUE(db_->enrol_totp("a1", bytes(20, 8), 2, {h("code3")}));
    EXPECT_FALSE(*db_->use_recovery_code("a1", h("code2"), t0));
    EXPECT_TRUE(*db_->use_recovery_code("a1", h("code3"), t0));
}

TEST_F(portal_store_test, when_failures_are_recorded_then_they_count_until_reset) {
    EXPECT_EQ(*db_->record_failure("a1", t0), 1);
    EXPECT_EQ(*db_->record_failure("a1", t0 + std::chrono::seconds(1)), 2);
    EXPECT_EQ(db_->find_account("a1")->last_failure_at, t0 + std::chrono::seconds(1));
    ASSERT_TRUE(db_->reset_failures("a1"));
    EXPECT_EQ(db_->find_account("a1")->failed_attempts, 0);
    EXPECT_EQ(db_->record_failure("nobody", t0).error().code, errc::not_found);
}

TEST_F(portal_store_test, when_sessions_expire_then_purge_removes_only_those) {
    portal_session s1{h("t1"), "a1", "csrf1", t0, t0, t0 + std::chrono::hours(1)};
    portal_session s2{h("t2"), "a1", "csrf2", t0, t0, t0 + std::chrono::hours(3)};
    ASSERT_TRUE(db_->add_session(s1));
    ASSERT_TRUE(db_->add_session(s2));
    EXPECT_EQ(db_->add_session(s1).error().code, errc::conflict);
    EXPECT_EQ(*db_->purge_sessions(t0 + std::chrono::hours(2)), 1u);
    EXPECT_FALSE(db_->find_session(h("t1")));
    ASSERT_TRUE(db_->find_session(h("t2")));
    EXPECT_EQ(db_->find_session(h("t2"))->csrf_token, "csrf2");
    ASSERT_TRUE(db_->remove_sessions_of("a1"));
    EXPECT_FALSE(db_->find_session(h("t2")));
}

} // namespace
} // namespace esimguard::store
