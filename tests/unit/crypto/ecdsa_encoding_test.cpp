// Raw r‖s ⇄ DER ECDSA-Sig-Value, and the strictness of verification.

#include "esimguard/crypto/ecdsa.hpp"
#include "test_hex.hpp"

#include <gtest/gtest.h>

namespace esimguard::crypto {
namespace {

using test::hex;

// RFC 6979 §A.2.5 key and SHA-256 signature of "sample".
const bytes u = hex("0460fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6"
                    "7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299");
const bytes r = hex("efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716");
const bytes s = hex("f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8");
// P-256 group order n (FIPS 186-4 §D.1.2.3).
const bytes n = hex("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");

public_key rfc_key() {
    return public_key::from_point(curve::nist_p256, u).value();
}

TEST(ecdsa_encoding, raw_to_der_gives_sequence_of_two_minimal_integers) {
    auto der = signature_raw_to_der(concat({r, s}));
    ASSERT_TRUE(der);
    // Both values have the top bit set, so each INTEGER takes a leading 00: 2+33+2+33.
    const bytes expected = concat({hex("3046022100"), r, hex("022100"), s});
    EXPECT_EQ(*der, expected);
}

TEST(ecdsa_encoding, der_to_raw_left_pads_short_integers) {
    const bytes der = hex("3006020101020102");
    auto raw = signature_der_to_raw(der);
    ASSERT_TRUE(raw);
    bytes expected(64, 0);
    expected[31] = 1;
    expected[63] = 2;
    EXPECT_EQ(*raw, expected);
}

TEST(ecdsa_encoding, raw_signature_of_wrong_size_is_refused_as_invalid_signature) {
    for (std::size_t size : {0u, 63u, 65u, 72u}) {
        const bytes sig(size, 0x11);
        auto v = verify(rfc_key(), as_bytes("sample"), sig);
        ASSERT_FALSE(v);
        EXPECT_EQ(v.error().code, errc::invalid_signature) << size;
        EXPECT_EQ(signature_raw_to_der(sig).error().code, errc::invalid_signature);
    }
}

TEST(ecdsa_encoding, der_with_trailing_byte_is_refused) {
    bytes der = concat({hex("3046022100"), r, hex("022100"), s, hex("00")});
    auto v = verify_der(rfc_key(), as_bytes("sample"), der);
    ASSERT_FALSE(v);
    EXPECT_EQ(v.error().code, errc::invalid_signature);
}

TEST(ecdsa_encoding, der_with_non_minimal_integer_is_refused) {
    // r = 1 written as 00 01.
    auto v = signature_der_to_raw(hex("300702020001020102"));
    ASSERT_FALSE(v);
    EXPECT_EQ(v.error().code, errc::invalid_signature);
}

TEST(ecdsa_encoding, der_with_long_form_length_is_refused) {
    // SEQUENCE length 6 written as 81 06 (BER, not DER).
    auto v = signature_der_to_raw(hex("308106020101020102"));
    ASSERT_FALSE(v);
    EXPECT_EQ(v.error().code, errc::invalid_signature);
}

TEST(ecdsa_encoding, der_integer_wider_than_32_bytes_is_refused) {
    const bytes der = concat({hex("3027022201"), bytes(33, 0x01), hex("020101")});
    auto v = signature_der_to_raw(der);
    ASSERT_FALSE(v);
    EXPECT_EQ(v.error().code, errc::invalid_signature);
}

TEST(ecdsa_encoding, garbage_der_is_refused) {
    EXPECT_EQ(signature_der_to_raw(hex("3003020101")).error().code, errc::invalid_signature);
    EXPECT_EQ(signature_der_to_raw({}).error().code, errc::invalid_signature);
}

TEST(ecdsa_verify, r_or_s_zero_fails_verification) {
    const bytes zero(32, 0);
    auto v1 = verify(rfc_key(), as_bytes("sample"), concat({zero, s}));
    ASSERT_FALSE(v1);
    EXPECT_EQ(v1.error().code, errc::signature_mismatch);
    auto v2 = verify(rfc_key(), as_bytes("sample"), concat({r, zero}));
    ASSERT_FALSE(v2);
    EXPECT_EQ(v2.error().code, errc::signature_mismatch);
}

TEST(ecdsa_verify, r_equal_to_the_order_fails_verification) {
    auto v = verify(rfc_key(), as_bytes("sample"), concat({n, s}));
    ASSERT_FALSE(v);
    EXPECT_EQ(v.error().code, errc::signature_mismatch);
}

} // namespace
} // namespace esimguard::crypto
