// Published known-answer vectors; each names its source.

#include "esimguard/crypto/ecdh.hpp"
#include "esimguard/crypto/ecdsa.hpp"
#include "esimguard/crypto/hash.hpp"
#include "esimguard/crypto/kdf.hpp"
#include "esimguard/crypto/mac.hpp"
#include "test_hex.hpp"

#include <gtest/gtest.h>

namespace esimguard::crypto {
namespace {

using test::hex;

// NIST CAVP, SP 800-56A ECC CDH primitive, KAS_ECC_CDH_PrimitiveTest.txt, [P-256]
// COUNT = 0 and COUNT = 1 (ecccdhtestvectors.zip).
struct cdh_vector {
    const char* d_iut;
    const char* q_cavs_x;
    const char* q_cavs_y;
    const char* q_iut_x;
    const char* q_iut_y;
    const char* z_iut;
};

class nist_cavp_ecc_cdh_p256 : public ::testing::TestWithParam<cdh_vector> {};

TEST_P(nist_cavp_ecc_cdh_p256, ecdh_of_iut_key_and_cavs_point_gives_ziut) {
    const auto& v = GetParam();
    auto own = private_key::from_scalar(curve::nist_p256, hex(v.d_iut));
    ASSERT_TRUE(own) << own.error().detail;
    if (v.q_iut_x[0] != '\0') {
        EXPECT_EQ(own->public_part().point(), concat({hex("04"), hex(v.q_iut_x), hex(v.q_iut_y)}));
    }
    auto peer = public_key::from_point(curve::nist_p256,
                                       concat({hex("04"), hex(v.q_cavs_x), hex(v.q_cavs_y)}));
    ASSERT_TRUE(peer) << peer.error().detail;
    auto z = ecdh(*own, *peer);
    ASSERT_TRUE(z) << z.error().detail;
    EXPECT_EQ(*z, hex(v.z_iut));
    auto via_signer = create_software_signer(std::move(*own))->ecdh(*peer);
    ASSERT_TRUE(via_signer);
    EXPECT_EQ(*via_signer, hex(v.z_iut));
}

INSTANTIATE_TEST_SUITE_P(
    cavp, nist_cavp_ecc_cdh_p256,
    ::testing::Values(
        cdh_vector{"7d7dc5f71eb29ddaf80d6214632eeae03d9058af1fb6d22ed80badb62bc1a534",
                   "700c48f77f56584c5cc632ca65640db91b6bacce3a4df6b42ce7cc838833d287",
                   "db71e509e3fd9b060ddb20ba5c51dcc5948d46fbf640dfe0441782cab85fa4ac",
                   "ead218590119e8876b29146ff89ca61770c4edbbf97d38ce385ed281d8a6b230",
                   "28af61281fd35e2fa7002523acc85a429cb06ee6648325389f59edfce1405141",
                   "46fc62106420ff012e54a434fbdd2d25ccc5852060561e68040dd7778997bd7b"},
        cdh_vector{"38f65d6dce47676044d58ce5139582d568f64bb16098d179dbab07741dd5caf5",
                   "809f04289c64348c01515eb03d5ce7ac1a8cb9498f5caa50197e58d43a86a7ae",
                   "b29d84e811197f25eba8f5194092cb6ff440e26d4421011372461f579271cda3", "", "",
                   "057d636096cb80b67a8c038c890e887d1adfa4195e9b3ce241c8a778c59cda67"}));

// RFC 6979 §A.2.5: P-256 key, SHA-256 signatures of "sample" and "test".
constexpr const char* rfc6979_x =
    "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721";
constexpr const char* rfc6979_u =
    "0460fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6"
    "7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299";
constexpr const char* rfc6979_sample_sig =
    "efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716"
    "f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8";
constexpr const char* rfc6979_test_sig =
    "f1abb023518351cd71d881567b1ea663ed3efcf6c5132b354f28d3b0b7d38367"
    "019f4113742a2b14bd25926b49c649155f267e60d3814b4c0cc84250e46f0083";

TEST(rfc6979_a25_p256_sha256, scalar_gives_the_published_public_point) {
    auto key = private_key::from_scalar(curve::nist_p256, hex(rfc6979_x));
    ASSERT_TRUE(key);
    EXPECT_EQ(key->public_part().point(), hex(rfc6979_u));
}

TEST(rfc6979_a25_p256_sha256, published_signatures_verify_as_raw_and_as_der) {
    auto pub = public_key::from_point(curve::nist_p256, hex(rfc6979_u));
    ASSERT_TRUE(pub);
    EXPECT_TRUE(verify(*pub, as_bytes("sample"), hex(rfc6979_sample_sig)));
    EXPECT_TRUE(verify(*pub, as_bytes("test"), hex(rfc6979_test_sig)));
    auto der = signature_raw_to_der(hex(rfc6979_sample_sig));
    ASSERT_TRUE(der);
    EXPECT_TRUE(verify_der(*pub, as_bytes("sample"), *der));
}

TEST(rfc6979_a25_p256_sha256, published_signature_fails_for_the_other_message) {
    auto pub = public_key::from_point(curve::nist_p256, hex(rfc6979_u));
    ASSERT_TRUE(pub);
    auto r = verify(*pub, as_bytes("test"), hex(rfc6979_sample_sig));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::signature_mismatch);
}

TEST(rfc6979_a25_p256_sha256, signature_with_one_flipped_bit_fails) {
    auto pub = public_key::from_point(curve::nist_p256, hex(rfc6979_u));
    ASSERT_TRUE(pub);
    bytes sig = hex(rfc6979_sample_sig);
    sig[40] ^= 0x01;
    EXPECT_FALSE(verify(*pub, as_bytes("sample"), sig));
}

// NIST CAVP SP 800-135 ANSI X9.63 KDF, ansx963_2001.rsp, [SHA-256] COUNT = 0 of the
// groups without SharedInfo (128-bit output) and with SharedInfo (1024-bit output).
TEST(nist_cavp_ansx963_sha256, without_shared_info_gives_published_key_data) {
    auto k = x963_kdf_sha256(hex("96c05619d56c328ab95fe84b18264b08725b85e33fd34f08"), {}, 16);
    ASSERT_TRUE(k);
    EXPECT_EQ(*k, hex("443024c3dae66b95e6f5670601558f71"));
}

TEST(nist_cavp_ansx963_sha256, with_shared_info_and_four_blocks_gives_published_key_data) {
    auto k = x963_kdf_sha256(hex("22518b10e70f2a3f243810ae3254139efbee04aa57c7af7d"),
                             hex("75eef81aa3041e33b80971203d2c0c52"), 128);
    ASSERT_TRUE(k);
    EXPECT_EQ(*k, hex("c498af77161cc59f2962b9a713e2b215152d139766ce34a776df11866a69bf2e"
                      "52a13d9c7c6fc878c50c5ea0bc7b00e0da2447cfd874f6cf92f30d0097111485"
                      "500c90c3af8b487872d04685d14c8d1dc8d7fa08beb0ce0ababc11f0bd496269"
                      "142d43525a78e5bc79a17f59676a5706dc54d54d4d1f0bd7e386128ec26afc21"));
}

TEST(x963_kdf, zero_length_is_refused) {
    auto k = x963_kdf_sha256(hex("00"), {}, 0);
    ASSERT_FALSE(k);
    EXPECT_EQ(k.error().code, errc::invalid_length);
}

// RFC 4493 §4, AES-128 key 2b7e1516..., examples 1, 2 and 4.
TEST(rfc4493_aes_cmac, examples_give_published_tags) {
    const bytes key = hex("2b7e151628aed2a6abf7158809cf4f3c");
    const bytes m64 = hex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
                          "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710");
    EXPECT_EQ(aes_cmac(key, {}).value(), hex("bb1d6929e95937287fa37d129b756746"));
    EXPECT_EQ(aes_cmac(key, byte_view(m64).first(16)).value(),
              hex("070a16b46b4d4144f79bdd9dd04a287c"));
    EXPECT_EQ(aes_cmac(key, m64).value(), hex("51f0bebf7e3b9d92fc49741779363cfe"));
}

TEST(aes_cmac, key_of_other_than_16_bytes_is_refused) {
    auto r = aes_cmac(hex("00112233"), hex("00"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::invalid_length);
}

// RFC 4231 §4.3, test case 2.
TEST(rfc4231_hmac_sha256, test_case_2_gives_published_mac) {
    auto m = hmac_sha256(as_bytes("Jefe"), as_bytes("what do ya want for nothing?"));
    ASSERT_TRUE(m);
    EXPECT_EQ(*m, hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"));
}

// FIPS 180-2 appendix examples, message "abc".
TEST(fips180_digests, abc_gives_published_sha256_and_sha1) {
    EXPECT_EQ(sha256(as_bytes("abc")),
              hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    EXPECT_EQ(sha1(as_bytes("abc")), hex("a9993e364706816aba3e25717850c26c9cd0d89d"));
}

// No published vector exists; the expected value was computed with Python's hashlib:
// sha256(sha256(b"12345678").digest() + bytes.fromhex("0123456789abcdef0123456789abcdef")).
TEST(confirmation_code_hash, is_sha256_of_code_hash_and_transaction_id) {
    const bytes tid = hex("0123456789abcdef0123456789abcdef");
    EXPECT_EQ(confirmation_code_hash("12345678", tid),
              hex("a1370440a38ba522a1518b10200ec765da6a7b2e5afd2a696de8592fd4a0928f"));
}

TEST(confirmation_code_hash, depends_on_the_transaction_id) {
    EXPECT_NE(confirmation_code_hash("12345678", hex("00")),
              confirmation_code_hash("12345678", hex("01")));
}

TEST(constant_time_equal, equal_only_for_same_length_and_bytes) {
    EXPECT_TRUE(constant_time_equal(hex("0102"), hex("0102")));
    EXPECT_FALSE(constant_time_equal(hex("0102"), hex("0103")));
    EXPECT_FALSE(constant_time_equal(hex("0102"), hex("010200")));
    EXPECT_TRUE(constant_time_equal({}, {}));
}

} // namespace
} // namespace esimguard::crypto
