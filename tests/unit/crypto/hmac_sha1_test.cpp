// HMAC-SHA1 against the RFC 2202 §3 test cases (TOTP depends on it).

#include "esimguard/crypto/mac.hpp"
#include "test_hex.hpp"

#include <gtest/gtest.h>

#include <string>

namespace esimguard::crypto {
namespace {

using test::hex;

struct rfc2202_case {
    bytes key;
    bytes data;
    const char* digest;
};

bytes repeat(std::uint8_t b, std::size_t n) {
    return bytes(n, b);
}

bytes text(std::string_view s) {
    return to_bytes(as_bytes(s));
}

TEST(hmac_sha1, when_given_the_rfc2202_test_cases_then_every_digest_matches) {
    const rfc2202_case cases[] = {
        {repeat(0x0b, 20), text("Hi There"), "b617318655057264e28bc0b6fb378c8ef146be00"},
        {text("Jefe"), text("what do ya want for nothing?"),
         "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"},
        {repeat(0xaa, 20), repeat(0xdd, 50), "125d7342b9ac11cd91a39af48aa17b4f63f175d3"},
        {hex("0102030405060708090a0b0c0d0e0f10111213141516171819"), repeat(0xcd, 50),
         "4c9007f4026250c6bc8414f9bf50c86c2d7235da"},
        {repeat(0x0c, 20), text("Test With Truncation"),
         "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04"},
        {repeat(0xaa, 80), text("Test Using Larger Than Block-Size Key - Hash Key First"),
         "aa4ae5e15272d00e95705637ce8a3b55ed402112"},
        {repeat(0xaa, 80),
         text("Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data"),
         "e8e99d0f45237d786d6bbaa7965c7808bbff1a91"},
    };
    int n = 1;
    for (const auto& c : cases) {
        auto mac = hmac_sha1(c.key, c.data);
        ASSERT_TRUE(mac.has_value()) << "case " << n;
        EXPECT_EQ(to_hex(*mac), c.digest) << "case " << n;
        ++n;
    }
}

TEST(hmac_sha1, when_the_key_differs_by_one_bit_then_the_digest_differs) {
    auto a = hmac_sha1(repeat(0x0b, 20), text("Hi There"));
    auto key = repeat(0x0b, 20);
    key[0] ^= 1;
    auto b = hmac_sha1(key, text("Hi There"));
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->size(), 20u);
    EXPECT_NE(*a, *b);
}

} // namespace
} // namespace esimguard::crypto
