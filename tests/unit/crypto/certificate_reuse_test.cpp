// certificate::from_der reuses recent parses (x509.cpp): a reused parse must
// be exactly what a fresh one gives, for those bytes and no others.

#include "esimguard/crypto/cert_builder.hpp"
#include "esimguard/crypto/x509.hpp"

#include <gtest/gtest.h>

namespace esimguard::crypto {
namespace {

using namespace std::chrono;

const sys_seconds now = sys_days{year{2030} / 1 / 15};

struct issuer {
    std::unique_ptr<signer> key;
    certificate cert;
};

std::unique_ptr<signer> new_signer() {
    auto key = private_key::generate(curve::nist_p256);
    EXPECT_TRUE(key.has_value());
    return create_software_signer(std::move(*key));
}

issuer make_ci() {
    auto key = new_signer();
    cert_request r{.subject = {{"O", "esimguard test"}, {"CN", "CI"}},
                   .subject_key = key->public_part(),
                   .serial = {0x01},
                   .not_before = now - days{1},
                   .not_after = now + days{1},
                   .is_ca = true,
                   .key_usage = key_usage::key_cert_sign | key_usage::crl_sign,
                   .policy_oids = {std::string(policy_oid(cert_role::ci))}};
    auto c = issue_certificate(r, std::nullopt, *key);
    EXPECT_TRUE(c.has_value());
    return {std::move(key), *c};
}

bytes leaf_der(const issuer& ci, std::uint16_t serial) {
    const auto key = new_signer();
    cert_request r{.subject = {{"O", "esimguard test"}, {"CN", "leaf"}},
                   .subject_key = key->public_part(),
                   .serial = {0x10, static_cast<std::uint8_t>(serial >> 8),
                              static_cast<std::uint8_t>(serial & 0xFF)},
                   .not_before = now - days{1},
                   .not_after = now + days{1},
                   .key_usage = key_usage::digital_signature,
                   .policy_oids = {std::string(policy_oid(cert_role::euicc))}};
    auto c = issue_certificate(r, ci.cert, *ci.key);
    EXPECT_TRUE(c.has_value());
    return c->der();
}

TEST(certificate_reuse, when_the_same_der_is_parsed_again_then_it_reads_the_same_certificate) {
    const auto ci = make_ci();
    const bytes der = leaf_der(ci, 1);
    auto first = certificate::from_der(der);
    auto second = certificate::from_der(der);
    ASSERT_TRUE(first.has_value());
    ASSERT_TRUE(second.has_value());
    EXPECT_EQ(first->der(), der);
    EXPECT_EQ(second->der(), der);
    EXPECT_EQ(second->serial(), first->serial());
    EXPECT_EQ(second->key().point(), first->key().point());
}

TEST(certificate_reuse, when_two_certificates_share_a_subject_then_each_parse_returns_its_own) {
    const auto ci = make_ci();
    const bytes a = leaf_der(ci, 1);
    const bytes b = leaf_der(ci, 2);
    ASSERT_NE(a, b);
    auto pa = certificate::from_der(a);
    auto pb = certificate::from_der(b);
    auto pa2 = certificate::from_der(a);
    ASSERT_TRUE(pa && pb && pa2);
    EXPECT_EQ(pb->der(), b);
    EXPECT_EQ(pa2->der(), a);
    EXPECT_NE(pb->serial(), pa->serial());
    EXPECT_NE(pb->key().point(), pa->key().point());
}

TEST(certificate_reuse, when_a_parsed_certificate_is_truncated_or_extended_then_it_is_refused) {
    const auto ci = make_ci();
    const bytes der = leaf_der(ci, 3);
    ASSERT_TRUE(certificate::from_der(der).has_value());
    const bytes shorter(der.begin(), der.end() - 1);
    bytes longer = der;
    longer.push_back(0x00);
    EXPECT_FALSE(certificate::from_der(shorter).has_value());
    EXPECT_FALSE(certificate::from_der(longer).has_value());
}

TEST(certificate_reuse,
     when_more_certificates_are_parsed_than_are_kept_then_the_first_still_parses) {
    const auto ci = make_ci();
    const bytes first = leaf_der(ci, 4);
    ASSERT_TRUE(certificate::from_der(first).has_value());
    // More distinct certificates than the 1024 kept, so the first is
    // evicted. Variants of one certificate differing in the last two bytes
    // of its signature value are distinct DER that parse (parsing does not
    // check the signature) and cost no issuance.
    bytes variant = leaf_der(ci, 5);
    for (int i = 0; i < 1100; ++i) {
        variant[variant.size() - 1] = static_cast<std::uint8_t>(i & 0xFF);
        variant[variant.size() - 2] = static_cast<std::uint8_t>(i >> 8);
        auto c = certificate::from_der(variant);
        ASSERT_TRUE(c.has_value()) << i;
        ASSERT_EQ(c->der(), variant);
    }
    auto again = certificate::from_der(first);
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(again->der(), first);
}

} // namespace
} // namespace esimguard::crypto
