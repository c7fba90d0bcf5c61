// The strength rule and Argon2id hashing of portal passwords.

#include "esimguard/portal/password.hpp"

#include <gtest/gtest.h>

namespace esimguard::portal {
namespace {

TEST(password_rule, when_password_is_shorter_than_12_characters_then_it_is_refused_and_says_why) {
    auto v = check_password("alice", "x7#Rq!9z");
    EXPECT_FALSE(v.acceptable);
    ASSERT_FALSE(v.reasons.empty());
    EXPECT_NE(v.reasons.front().find("12 characters"), std::string::npos);
}

TEST(password_rule, when_password_is_a_common_one_then_zxcvbn_scores_it_below_3) {
    for (const char* pw : {"password1234", "qwertyuiop12", "123456789012", "iloveyou2024"}) {
        auto v = check_password("bob", pw);
        EXPECT_FALSE(v.acceptable) << pw;
        EXPECT_LT(v.score, 3) << pw;
    }
}

TEST(password_rule, when_password_contains_the_account_name_then_it_is_refused) {
    auto v = check_password("margaret", "xMargaret!84Kq7w");
    EXPECT_FALSE(v.acceptable);
    bool named = false;
    for (const auto& r : v.reasons) {
        named = named || r.find("account name") != std::string::npos;
    }
    EXPECT_TRUE(named);
}

TEST(password_rule, when_password_is_long_and_unpredictable_then_it_is_accepted) {
    auto v = check_password("alice", "correct-Horse-battery-7-staple");
    EXPECT_TRUE(v.acceptable);
    EXPECT_GE(v.score, 3);
    EXPECT_TRUE(v.reasons.empty());
}

TEST(password_hash, when_hashed_then_argon2id_string_verifies_only_the_same_password) {
    auto h = hash_password("correct-Horse-battery-7-staple");
    ASSERT_TRUE(h);
    EXPECT_TRUE(h->starts_with("$argon2id$"));
    EXPECT_TRUE(verify_password(*h, "correct-Horse-battery-7-staple"));
    EXPECT_FALSE(verify_password(*h, "correct-Horse-battery-7-stapl"));
    EXPECT_FALSE(verify_password("not a hash", "x"));
    EXPECT_FALSE(verify_password("", "x"));
}

TEST(password_hash, when_same_password_is_hashed_twice_then_salts_differ) {
    auto a = hash_password("correct-Horse-battery-7-staple");
    auto b = hash_password("correct-Horse-battery-7-staple");
    ASSERT_TRUE(a && b);
    EXPECT_NE(*a, *b);
}

} // namespace
} // namespace esimguard::portal
