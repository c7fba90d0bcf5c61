#include "esimguard/crypto/ecdh.hpp"
#include "esimguard/crypto/ecdsa.hpp"
#include "esimguard/crypto/hash.hpp"
#include "esimguard/crypto/keys.hpp"

#include <gtest/gtest.h>

namespace esimguard::crypto {
namespace {

class keys_on_each_curve : public ::testing::TestWithParam<curve> {};

TEST_P(keys_on_each_curve, generated_key_reports_its_curve_and_a_65_byte_uncompressed_point) {
    auto key = private_key::generate(GetParam());
    ASSERT_TRUE(key) << key.error().detail;
    EXPECT_EQ(key->key_curve(), GetParam());
    const bytes point = key->public_part().point();
    ASSERT_EQ(point.size(), 65u);
    EXPECT_EQ(point[0], 0x04);
}

TEST_P(keys_on_each_curve, public_key_round_trips_through_point_and_spki) {
    auto key = private_key::generate(GetParam());
    ASSERT_TRUE(key);
    const public_key pub = key->public_part();
    auto from_point = public_key::from_point(GetParam(), pub.point());
    ASSERT_TRUE(from_point) << from_point.error().detail;
    EXPECT_EQ(from_point->point(), pub.point());
    auto from_spki = public_key::from_spki_der(pub.spki_der());
    ASSERT_TRUE(from_spki) << from_spki.error().detail;
    EXPECT_EQ(from_spki->point(), pub.point());
    EXPECT_EQ(from_spki->key_curve(), GetParam());
}

TEST_P(keys_on_each_curve, private_key_round_trips_through_pem) {
    auto key = private_key::generate(GetParam());
    ASSERT_TRUE(key);
    const std::string pem = key->to_pem();
    EXPECT_NE(pem.find("-----BEGIN PRIVATE KEY-----"), std::string::npos);
    auto back = private_key::from_pem(pem);
    ASSERT_TRUE(back) << back.error().detail;
    EXPECT_EQ(back->public_part().point(), key->public_part().point());
    EXPECT_EQ(back->key_curve(), GetParam());
}

TEST_P(keys_on_each_curve, software_signer_signature_verifies_raw_and_der_and_not_for_other_data) {
    auto key = private_key::generate(GetParam());
    ASSERT_TRUE(key);
    auto s = create_software_signer(std::move(*key));
    const bytes msg = {1, 2, 3, 4};
    auto raw = s->sign(msg);
    ASSERT_TRUE(raw) << raw.error().detail;
    ASSERT_EQ(raw->size(), 64u);
    EXPECT_TRUE(verify(s->public_part(), msg, *raw));
    auto der = s->sign_der(msg);
    ASSERT_TRUE(der);
    EXPECT_TRUE(verify_der(s->public_part(), msg, *der));
    const bytes other = {1, 2, 3, 5};
    auto r = verify(s->public_part(), other, *raw);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::signature_mismatch);
}

TEST_P(keys_on_each_curve, two_one_time_key_pairs_agree_on_a_32_byte_secret) {
    auto a = private_key::generate(GetParam());
    auto b = private_key::generate(GetParam());
    ASSERT_TRUE(a && b);
    auto ab = ecdh(*a, b->public_part());
    auto sb = create_software_signer(std::move(*b));
    auto ba = sb->ecdh(a->public_part());
    ASSERT_TRUE(ab && ba);
    EXPECT_EQ(ab->size(), 32u);
    EXPECT_EQ(*ab, *ba);
}

INSTANTIATE_TEST_SUITE_P(sgp22_curves, keys_on_each_curve,
                         ::testing::Values(curve::nist_p256, curve::brainpool_p256r1));

TEST(keys, key_id_is_sha1_of_the_uncompressed_point) {
    auto key = private_key::generate(curve::nist_p256);
    ASSERT_TRUE(key);
    const public_key pub = key->public_part();
    EXPECT_EQ(pub.key_id(), sha1(pub.point()));
    EXPECT_EQ(pub.key_id().size(), 20u);
}

TEST(keys, point_off_the_curve_is_refused) {
    auto key = private_key::generate(curve::nist_p256);
    ASSERT_TRUE(key);
    bytes point = key->public_part().point();
    point[64] ^= 0x01;
    auto r = public_key::from_point(curve::nist_p256, point);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::invalid_key);
}

TEST(keys, p256_point_is_not_accepted_as_a_brainpool_point) {
    auto key = private_key::generate(curve::nist_p256);
    ASSERT_TRUE(key);
    auto r = public_key::from_point(curve::brainpool_p256r1, key->public_part().point());
    EXPECT_FALSE(r);
}

TEST(keys, ecdh_across_curves_is_refused) {
    auto a = private_key::generate(curve::nist_p256);
    auto b = private_key::generate(curve::brainpool_p256r1);
    ASSERT_TRUE(a && b);
    auto r = ecdh(*a, b->public_part());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::invalid_key);
}

TEST(keys, secp384r1_key_is_refused_as_unsupported_curve) {
    // A throw-away test key from `openssl genpkey -algorithm EC -pkeyopt
    // ec_paramgen_curve:secp384r1`.
    const char* pem = "-----BEGIN PRIVATE KEY-----\n"
                      "MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDBAGlDQMCgclXG5g2RG\n"
                      "MHuKPOoruU+sw5aV/5kLChaleROTpLgtvn9IMX5BCq9GNjihZANiAARb8qDF6cU0\n"
                      "+nXrudCj2VNy1nTrORSQl/QAciYlYt1jEF1gmigQMH8gu4LAQ9b0xEyGA7RYgWa1\n"
                      "uF1vqjfp7mJnY6woEOnZ806FeT87uU5k1Qa25LbuN94LgkdqYV4r3q0=\n"
                      "-----END PRIVATE KEY-----\n";
    auto r = private_key::from_pem(pem);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::unsupported_curve);
}

TEST(keys, garbage_is_not_a_private_key) {
    EXPECT_FALSE(private_key::from_pem("not a key"));
    const bytes junk = {0x30, 0x03, 0x02, 0x01, 0x00};
    EXPECT_FALSE(private_key::from_der(junk));
    EXPECT_FALSE(public_key::from_spki_der(junk));
}

} // namespace
} // namespace esimguard::crypto
