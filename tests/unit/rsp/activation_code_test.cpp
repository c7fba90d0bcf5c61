#include "esimguard/rsp/activation_code.hpp"

#include <gtest/gtest.h>

using namespace esimguard::rsp;

namespace {

activation_code_errc refusal(std::string_view text) {
    auto r = parse_activation_code(text);
    EXPECT_FALSE(r.has_value()) << text;
    if (r) {
        return activation_code_errc::empty;
    }
    EXPECT_FALSE(r.error().message.empty());
    return r.error().code;
}

} // namespace

TEST(activation_code, minimal_code_parses_address_and_matching_id) {
    auto ac = parse_activation_code("LPA:1$smdp.example.com$QR-G-5C-KR-1PVHLVE");
    ASSERT_TRUE(ac.has_value());
    EXPECT_EQ(ac->smdp_address, "smdp.example.com");
    EXPECT_EQ(ac->matching_id, "QR-G-5C-KR-1PVHLVE");
    EXPECT_FALSE(ac->smdp_oid.has_value());
    EXPECT_FALSE(ac->confirmation_code_required);
}

TEST(activation_code, full_code_with_port_oid_and_cc_flag_parses_every_field) {
    auto ac = parse_activation_code("LPA:1$rsp.example.com:8443$ABC-123$1.3.6.1.4.1.31746$1");
    ASSERT_TRUE(ac.has_value());
    EXPECT_EQ(ac->smdp_address, "rsp.example.com:8443");
    EXPECT_EQ(ac->matching_id, "ABC-123");
    EXPECT_EQ(ac->smdp_oid, "1.3.6.1.4.1.31746");
    EXPECT_TRUE(ac->confirmation_code_required);
}

TEST(activation_code, bare_form_without_lpa_prefix_is_accepted_as_android_scanner_passes_it) {
    auto ac = parse_activation_code("1$smdp.example.com$MID1");
    ASSERT_TRUE(ac.has_value());
    EXPECT_EQ(ac->matching_id, "MID1");
}

TEST(activation_code, lower_case_prefix_is_accepted) {
    EXPECT_TRUE(parse_activation_code("lpa:1$smdp.example.com$MID1").has_value());
}

TEST(activation_code, cc_flag_without_oid_leaves_oid_empty) {
    auto ac = parse_activation_code("LPA:1$smdp.example.com$MID1$$1");
    ASSERT_TRUE(ac.has_value());
    EXPECT_FALSE(ac->smdp_oid.has_value());
    EXPECT_TRUE(ac->confirmation_code_required);
    EXPECT_EQ(format_activation_code(*ac), "LPA:1$smdp.example.com$MID1$$1");
}

TEST(activation_code, format_then_parse_round_trips_each_shape) {
    for (std::string_view text :
         {"LPA:1$smdp.example.com$MID1", "LPA:1$smdp.example.com:8443$A-b-9$1.2.3",
          "LPA:1$10.0.0.1:443$X$1.2.3$1", "LPA:1$[::1]:8443$X", "LPA:1$smdp.example.com$"}) {
        auto ac = parse_activation_code(text);
        ASSERT_TRUE(ac.has_value()) << text;
        EXPECT_EQ(format_activation_code(*ac), text);
        EXPECT_EQ(parse_activation_code(format_activation_code(*ac)), ac);
    }
}

TEST(activation_code, each_malformation_is_refused_with_its_own_code) {
    EXPECT_EQ(refusal(""), activation_code_errc::empty);
    EXPECT_EQ(refusal("LPA:"), activation_code_errc::empty);
    EXPECT_EQ(refusal("LPA:2$smdp.example.com$MID"), activation_code_errc::bad_format_id);
    EXPECT_EQ(refusal("LPA:smdp.example.com$MID"), activation_code_errc::bad_format_id);
    EXPECT_EQ(refusal("LPA:1"), activation_code_errc::missing_smdp_address);
    EXPECT_EQ(refusal("LPA:1$$MID"), activation_code_errc::missing_smdp_address);
    EXPECT_EQ(refusal("LPA:1$https://smdp.example.com$MID"),
              activation_code_errc::invalid_smdp_address);
    EXPECT_EQ(refusal("LPA:1$smdp.example.com:0$MID"), activation_code_errc::invalid_smdp_address);
    EXPECT_EQ(refusal("LPA:1$smdp.example.com:70000$MID"),
              activation_code_errc::invalid_smdp_address);
    EXPECT_EQ(refusal("LPA:1$smdp..example.com$MID"), activation_code_errc::invalid_smdp_address);
    EXPECT_EQ(refusal("LPA:1$smdp.example.com"), activation_code_errc::missing_matching_id);
    EXPECT_EQ(refusal("LPA:1$smdp.example.com$MID_1"), activation_code_errc::invalid_matching_id);
    EXPECT_EQ(refusal("LPA:1$smdp.example.com$MID 1"), activation_code_errc::invalid_matching_id);
    EXPECT_EQ(refusal("LPA:1$smdp.example.com$MID$1..2"), activation_code_errc::invalid_smdp_oid);
    EXPECT_EQ(refusal("LPA:1$smdp.example.com$MID$abc"), activation_code_errc::invalid_smdp_oid);
    EXPECT_EQ(refusal("LPA:1$smdp.example.com$MID$1.2$0"), activation_code_errc::invalid_cc_flag);
    EXPECT_EQ(refusal("LPA:1$smdp.example.com$MID$1.2$yes"), activation_code_errc::invalid_cc_flag);
    EXPECT_EQ(refusal("LPA:1$smdp.example.com$MID$1.2$1$x"), activation_code_errc::too_many_fields);
    EXPECT_EQ(refusal("LPA:1$smdp.example.com$" + std::string(300, 'A')),
              activation_code_errc::too_long);
}

TEST(activation_code, matching_id_rule_allows_letters_digits_and_dash_only) {
    EXPECT_TRUE(is_valid_matching_id("Az09-"));
    EXPECT_TRUE(is_valid_matching_id(""));
    EXPECT_FALSE(is_valid_matching_id("a.b"));
    EXPECT_FALSE(is_valid_matching_id("é"));
}
