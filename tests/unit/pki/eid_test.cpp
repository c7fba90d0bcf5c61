// EID check digits (SGP.29, ISO 7064 MOD 97-10).

#include "esimguard/pki/eid.hpp"

#include <gtest/gtest.h>

namespace esimguard::pki {
namespace {

// The EID of the SGP.26 test eUICC certificates.
constexpr std::string_view sgp26_eid = "89049032123451234512345678901235";

TEST(eid, when_check_digits_are_right_then_eid_is_valid) {
    EXPECT_TRUE(eid_is_valid(sgp26_eid));
}

TEST(eid, when_one_digit_changes_then_eid_is_invalid) {
    std::string eid(sgp26_eid);
    eid[10] = eid[10] == '9' ? '0' : static_cast<char>(eid[10] + 1);
    EXPECT_FALSE(eid_is_valid(eid));
}

TEST(eid, when_length_or_characters_are_wrong_then_eid_is_invalid) {
    EXPECT_FALSE(eid_is_valid(sgp26_eid.substr(0, 31)));
    EXPECT_FALSE(eid_is_valid(std::string(sgp26_eid) + "0"));
    EXPECT_FALSE(eid_is_valid("8904903212345123451234567890123A"));
    EXPECT_FALSE(eid_is_valid(""));
}

TEST(eid, when_check_digits_are_computed_then_they_match_the_published_eid) {
    auto eid = eid_with_check_digits(sgp26_eid.substr(0, 30));
    ASSERT_TRUE(eid.has_value());
    EXPECT_EQ(*eid, sgp26_eid);
}

TEST(eid, when_computed_check_digits_are_below_ten_then_they_are_zero_padded) {
    // Search a body whose check value is one digit, so the padding is exercised.
    bool found = false;
    for (int i = 0; i < 200 && !found; ++i) {
        std::string body = "8904903200000000000000000" + std::to_string(10000 + i);
        auto eid = eid_with_check_digits(body);
        ASSERT_TRUE(eid.has_value());
        EXPECT_TRUE(eid_is_valid(*eid)) << *eid;
        found = eid->substr(30, 1) == "0";
    }
    EXPECT_TRUE(found);
}

TEST(eid, when_body_is_not_30_digits_then_no_check_digits) {
    EXPECT_FALSE(eid_with_check_digits("123").has_value());
    EXPECT_FALSE(eid_with_check_digits("89049032123451234512345678901X").has_value());
}

} // namespace
} // namespace esimguard::pki
