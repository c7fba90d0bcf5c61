#include "esimguard/asn1/iccid.hpp"

#include <gtest/gtest.h>

using namespace esimguard;
using namespace esimguard::asn1;

namespace {

bytes h(std::string_view hex) {
    return *from_hex(hex);
}

TEST(iccid_codec, when_twenty_digits_are_parsed_then_each_pair_is_nibble_swapped) {
    auto v = iccid_value::parse("89014103211118510720");
    ASSERT_TRUE(v);
    EXPECT_EQ(to_bytes(v->der_value()), h("98101430121181157002"));
    EXPECT_EQ(encode(*v), h("5a0a98101430121181157002"));
}

TEST(iccid_codec, when_nineteen_digits_are_parsed_then_the_last_byte_is_f_padded) {
    auto v = iccid_value::parse("8901410321111851072");
    ASSERT_TRUE(v);
    EXPECT_EQ(to_bytes(v->der_value()), h("981014301211811570f2"));
    EXPECT_EQ(v->to_string(), "8901410321111851072");
}

TEST(iccid_codec, when_eighteen_digits_are_parsed_then_a_whole_ff_byte_pads) {
    auto v = iccid_value::parse("890141032111185107");
    ASSERT_TRUE(v);
    EXPECT_EQ(to_bytes(v->der_value()), h("981014301211811570ff"));
    EXPECT_EQ(v->to_string(), "890141032111185107");
}

TEST(iccid_codec, when_der_content_is_read_then_the_digits_come_back) {
    auto v = iccid_value::from_der_value(h("98101430121181157002"));
    ASSERT_TRUE(v);
    EXPECT_EQ(v->to_string(), "89014103211118510720");
}

TEST(iccid_codec, when_a_string_has_a_non_digit_then_it_is_refused) {
    EXPECT_FALSE(iccid_value::parse("8901410321111851072A"));
    EXPECT_FALSE(iccid_value::parse("890141032111185107F"));
}

TEST(iccid_codec, when_a_string_is_too_short_or_long_then_it_is_refused) {
    EXPECT_FALSE(iccid_value::parse("89014103211118510"));
    EXPECT_FALSE(iccid_value::parse("890141032111185107201"));
}

TEST(iccid_codec, when_der_content_has_a_hex_digit_then_it_is_refused) {
    auto v = iccid_value::from_der_value(h("9810143012118115700a"));
    ASSERT_FALSE(v);
    EXPECT_EQ(v.error().code, errc::invalid_value);
}

TEST(iccid_codec, when_der_content_has_a_digit_after_padding_then_it_is_refused) {
    EXPECT_FALSE(iccid_value::from_der_value(h("98101430121181157f02")));
}

TEST(iccid_codec, when_der_content_has_fewer_than_eighteen_digits_then_it_is_refused) {
    EXPECT_FALSE(iccid_value::from_der_value(h("9810143012118115ffff")));
}

TEST(iccid_codec, when_der_content_is_not_ten_bytes_then_it_is_refused) {
    EXPECT_FALSE(iccid_value::from_der_value(h("981014301211811570")));
}

TEST(iccid_codec, when_a_tlv_carries_another_tag_then_decode_iccid_refuses_it) {
    const bytes der = h("4f0a98101430121181157002");
    auto t = decode_single(der);
    ASSERT_TRUE(t);
    auto v = decode_iccid(*t);
    ASSERT_FALSE(v);
    EXPECT_EQ(v.error().code, errc::unexpected_tag);
}

TEST(eid_codec, when_thirty_two_digits_are_parsed_then_they_are_plain_bcd) {
    auto e = eid_value::parse("89049032123451234512345678901235");
    ASSERT_TRUE(e);
    EXPECT_EQ(to_bytes(e->value()), h("89049032123451234512345678901235"));
    EXPECT_EQ(e->to_string(), "89049032123451234512345678901235");
}

TEST(eid_codec, when_an_eid_has_a_non_digit_or_wrong_length_then_it_is_refused) {
    EXPECT_FALSE(eid_value::parse("8904903212345123451234567890123A"));
    EXPECT_FALSE(eid_value::parse("8904903212345123451234567890123"));
    EXPECT_FALSE(eid_value::from_bytes(h("8904903212345123451234567890123a")));
    EXPECT_FALSE(eid_value::from_bytes(h("890490321234512345123456789012")));
}

TEST(eid_codec, when_check_digits_are_right_then_mod_97_is_one) {
    // 8904903212345123451234567890123 followed by the check digits that
    // make the number 1 mod 97, computed independently below.
    const std::string body = "890490321234512345123456789012";
    unsigned rem = 0;
    for (char c : body + "00") {
        rem = (rem * 10 + static_cast<unsigned>(c - '0')) % 97;
    }
    const unsigned check = 98 - rem;
    std::string digits = body + (check < 10 ? "0" : "") + std::to_string(check);
    auto good = eid_value::parse(digits);
    ASSERT_TRUE(good);
    EXPECT_TRUE(good->check_digits_ok());
    digits.back() = digits.back() == '9' ? '0' : static_cast<char>(digits.back() + 1);
    auto bad = eid_value::parse(digits);
    ASSERT_TRUE(bad);
    EXPECT_FALSE(bad->check_digits_ok());
}

} // namespace
