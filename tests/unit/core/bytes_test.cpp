#include "esimguard/core/bytes.hpp"

#include <gtest/gtest.h>

using namespace esimguard;

TEST(hex, when_bytes_are_encoded_then_lower_and_upper_case_digits_are_used) {
    bytes b{0x00, 0x9f, 0xbf, 0x36};
    EXPECT_EQ(to_hex(b), "009fbf36");
    EXPECT_EQ(to_hex_upper(b), "009FBF36");
}

TEST(hex, when_hex_has_mixed_case_then_it_parses) {
    auto b = from_hex("BF2e00");
    ASSERT_TRUE(b.has_value());
    EXPECT_EQ(*b, (bytes{0xbf, 0x2e, 0x00}));
}

TEST(hex, when_hex_has_odd_length_or_bad_digit_then_it_is_refused) {
    EXPECT_FALSE(from_hex("abc").has_value());
    EXPECT_FALSE(from_hex("zz").has_value());
    EXPECT_FALSE(from_hex("0 ").has_value());
}

TEST(base64, when_encoding_rfc4648_vectors_then_output_matches) {
    // RFC 4648 §10 test vectors.
    EXPECT_EQ(to_base64(as_bytes("")), "");
    EXPECT_EQ(to_base64(as_bytes("f")), "Zg==");
    EXPECT_EQ(to_base64(as_bytes("fo")), "Zm8=");
    EXPECT_EQ(to_base64(as_bytes("foo")), "Zm9v");
    EXPECT_EQ(to_base64(as_bytes("foob")), "Zm9vYg==");
    EXPECT_EQ(to_base64(as_bytes("fooba")), "Zm9vYmE=");
    EXPECT_EQ(to_base64(as_bytes("foobar")), "Zm9vYmFy");
}

TEST(base64, when_decoding_rfc4648_vectors_then_bytes_match) {
    auto d = from_base64("Zm9vYmE=");
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(*d, to_bytes(as_bytes("fooba")));
    auto e = from_base64("Zg==");
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(*e, to_bytes(as_bytes("f")));
}

TEST(base64, when_padding_is_missing_misplaced_or_chars_invalid_then_decode_refuses) {
    EXPECT_FALSE(from_base64("Zg").has_value());
    EXPECT_FALSE(from_base64("Z===").has_value());
    EXPECT_FALSE(from_base64("Zg==Zg==").has_value());
    EXPECT_FALSE(from_base64("Zm9v YmFy").has_value());
    EXPECT_FALSE(from_base64("Zm9-").has_value());
    EXPECT_FALSE(from_base64("Zg=a").has_value());
}

TEST(bytes, when_views_are_concatenated_then_order_is_kept) {
    bytes a{1, 2};
    bytes b{3};
    EXPECT_EQ(concat({a, b, a}), (bytes{1, 2, 3, 1, 2}));
}
