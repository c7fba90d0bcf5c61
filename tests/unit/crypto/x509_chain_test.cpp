// Chain validation of the SGP.22 PKI: each refusal reason has its own test,
// and a good chain on each curve is accepted.

#include "esimguard/crypto/cert_builder.hpp"
#include "esimguard/crypto/x509.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace esimguard::crypto {
namespace {

using namespace std::chrono;

// A fixed clock: 2030-06-01 00:00:00 UTC.
const sys_seconds now = sys_days{year{2030} / 6 / 1};
const std::string in_range_eid = "89049032123451234512345678901235";
const std::string out_of_range_eid = "89001012012341234012345678901224";

struct party {
    std::unique_ptr<signer> sign;
    certificate cert;
};

std::unique_ptr<signer> new_signer(curve c) {
    auto key = private_key::generate(c);
    EXPECT_TRUE(key.has_value());
    return create_software_signer(std::move(*key));
}

cert_request base_request(const signer& s, std::string cn, std::uint8_t serial) {
    return cert_request{
        .subject = {{"C", "DE"}, {"O", "esimguard test"}, {"CN", std::move(cn)}},
        .subject_key = s.public_part(),
        .serial = {serial, 0x42},
        .not_before = now - days{365},
        .not_after = now + days{365},
    };
}

party make_ci(curve c) {
    auto s = new_signer(c);
    auto r = base_request(*s, "Test CI", 1);
    r.is_ca = true;
    r.key_usage = key_usage::key_cert_sign | key_usage::crl_sign;
    r.policy_oids = {std::string(policy_oid(cert_role::ci))};
    auto cert = issue_certificate(r, std::nullopt, *s);
    EXPECT_TRUE(cert.has_value()) << cert.error().detail;
    return {std::move(s), std::move(*cert)};
}

party make_eum(curve c, const party& ci, std::vector<std::string> prefixes = {"89049032"},
               eid_range_form form = eid_range_form::permitted_eins) {
    auto s = new_signer(c);
    auto r = base_request(*s, "Test EUM", 2);
    r.is_ca = true;
    r.path_len = 0;
    r.key_usage = key_usage::key_cert_sign | key_usage::crl_sign;
    r.policy_oids = {std::string(policy_oid(cert_role::eum))};
    r.permitted_eid_prefixes = std::move(prefixes);
    r.eid_form = form;
    auto cert = issue_certificate(r, ci.cert, *ci.sign);
    EXPECT_TRUE(cert.has_value()) << cert.error().detail;
    return {std::move(s), std::move(*cert)};
}

result<certificate> make_euicc(const signer& key, const party& eum, const std::string& eid,
                               cert_role policy = cert_role::euicc, std::uint8_t serial = 3) {
    auto r = base_request(key, "Test eUICC", serial);
    r.subject.insert(r.subject.end() - 1, {"serialNumber", eid});
    r.key_usage = key_usage::digital_signature;
    r.policy_oids = {std::string(policy_oid(policy))};
    return issue_certificate(r, eum.cert, *eum.sign);
}

result<certificate> make_dp(const signer& key, const party& ci, cert_role role,
                            std::uint8_t serial = 4) {
    auto r = base_request(key, "testsmdpplus1.example.com", serial);
    r.key_usage = key_usage::digital_signature;
    r.policy_oids = {std::string(policy_oid(role))};
    r.dns_names = {"testsmdpplus1.example.com"};
    r.registered_ids = {"2.999.10"};
    return issue_certificate(r, ci.cert, *ci.sign);
}

struct chain_fixture {
    explicit chain_fixture(curve c)
        : ci(make_ci(c)), eum(make_eum(c, ci)), euicc_key(new_signer(c)),
          euicc(*make_euicc(*euicc_key, eum, in_range_eid)) {}

    std::expected<void, chain_error>
    validate(const certificate& leaf, std::span<const crl> crls = {}, sys_seconds at = now) const {
        std::vector<certificate> inter{eum.cert};
        std::vector<certificate> anchors{ci.cert};
        return validate_chain(leaf, inter, anchors, crls, at, cert_role::euicc);
    }

    party ci;
    party eum;
    std::unique_ptr<signer> euicc_key;
    certificate euicc;
};

std::string curve_name(const ::testing::TestParamInfo<curve>& p) {
    return p.param == curve::nist_p256 ? "nist" : "brainpool";
}

class chain_on_curve : public ::testing::TestWithParam<curve> {};

TEST_P(chain_on_curve, when_euicc_chain_is_sound_then_it_is_accepted) {
    chain_fixture f(GetParam());
    auto r = f.validate(f.euicc);
    EXPECT_TRUE(r.has_value()) << to_string(r.error().code) << ": " << r.error().detail;
}

TEST_P(chain_on_curve, when_dp_certificates_chain_to_the_ci_then_each_role_is_accepted) {
    chain_fixture f(GetParam());
    std::vector<certificate> anchors{f.ci.cert};
    for (auto role : {cert_role::dp_auth, cert_role::dp_pb, cert_role::dp_tls}) {
        auto key = new_signer(GetParam());
        auto dp = make_dp(*key, f.ci, role);
        ASSERT_TRUE(dp.has_value()) << dp.error().detail;
        auto r = validate_chain(*dp, {}, anchors, {}, now, role);
        EXPECT_TRUE(r.has_value()) << to_string(role) << ": " << r.error().detail;
    }
}

INSTANTIATE_TEST_SUITE_P(curves, chain_on_curve,
                         ::testing::Values(curve::nist_p256, curve::brainpool_p256r1), curve_name);

TEST(chain_validation, when_euicc_is_issued_by_another_eum_then_wrong_issuer) {
    chain_fixture f(curve::nist_p256);
    auto other_eum = make_eum(curve::nist_p256, f.ci);
    // Same subject name as the trusted EUM, another key: only AKI/SKI tell them apart.
    auto key = new_signer(curve::nist_p256);
    auto forged = make_euicc(*key, other_eum, in_range_eid);
    ASSERT_TRUE(forged.has_value());
    auto r = f.validate(*forged);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, chain_errc::wrong_issuer);
}

TEST(chain_validation, when_validated_after_not_after_then_expired) {
    chain_fixture f(curve::nist_p256);
    auto r = f.validate(f.euicc, {}, now + days{366});
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, chain_errc::expired);
}

TEST(chain_validation, when_validated_before_not_before_then_not_yet_valid) {
    chain_fixture f(curve::nist_p256);
    auto r = f.validate(f.euicc, {}, now - days{366});
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, chain_errc::not_yet_valid);
}

TEST(chain_validation, when_eid_is_outside_the_eum_range_then_eid_out_of_range) {
    chain_fixture f(curve::nist_p256);
    auto key = new_signer(curve::nist_p256);
    auto cert = make_euicc(*key, f.eum, out_of_range_eid);
    ASSERT_TRUE(cert.has_value());
    auto r = f.validate(*cert);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, chain_errc::eid_out_of_range);
}

TEST(chain_validation, when_range_is_in_name_constraints_then_it_is_enforced_too) {
    chain_fixture f(curve::nist_p256);
    auto eum = make_eum(curve::nist_p256, f.ci, {"89049032"}, eid_range_form::name_constraints);
    EXPECT_EQ(eum.cert.permitted_eid_prefixes(), std::vector<std::string>{"89049032"});
    std::vector<certificate> inter{eum.cert};
    std::vector<certificate> anchors{f.ci.cert};
    auto key = new_signer(curve::nist_p256);
    auto inside = make_euicc(*key, eum, in_range_eid);
    auto outside = make_euicc(*key, eum, out_of_range_eid);
    ASSERT_TRUE(inside && outside);
    EXPECT_TRUE(validate_chain(*inside, inter, anchors, {}, now, cert_role::euicc).has_value());
    auto r = validate_chain(*outside, inter, anchors, {}, now, cert_role::euicc);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, chain_errc::eid_out_of_range);
}

TEST(chain_validation, when_eid_is_not_32_digits_then_malformed_eid) {
    chain_fixture f(curve::nist_p256);
    auto key = new_signer(curve::nist_p256);
    auto cert = make_euicc(*key, f.eum, "8904903212345");
    ASSERT_TRUE(cert.has_value());
    auto r = f.validate(*cert);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, chain_errc::malformed_eid);
}

TEST(chain_validation, when_leaf_carries_another_role_policy_then_wrong_policy) {
    chain_fixture f(curve::nist_p256);
    auto key = new_signer(curve::nist_p256);
    auto cert = make_euicc(*key, f.eum, in_range_eid, cert_role::dp_auth);
    ASSERT_TRUE(cert.has_value());
    auto r = f.validate(*cert);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, chain_errc::wrong_policy);
    EXPECT_EQ(r.error().depth, 0U);
}

TEST(chain_validation, when_dpauth_is_presented_as_dppb_then_wrong_policy) {
    chain_fixture f(curve::nist_p256);
    auto key = new_signer(curve::nist_p256);
    auto dp = make_dp(*key, f.ci, cert_role::dp_auth);
    ASSERT_TRUE(dp.has_value());
    std::vector<certificate> anchors{f.ci.cert};
    auto r = validate_chain(*dp, {}, anchors, {}, now, cert_role::dp_pb);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, chain_errc::wrong_policy);
}

TEST(chain_validation, when_euicc_serial_is_on_the_eum_crl_then_revoked) {
    chain_fixture f(curve::nist_p256);
    crl_request req{now - days{1}, now + days{30}, 7, {{f.euicc.serial(), now - days{1}}}};
    auto list = issue_crl(req, f.eum.cert, *f.eum.sign);
    ASSERT_TRUE(list.has_value()) << list.error().detail;
    EXPECT_TRUE(list->lists(f.euicc.serial()));
    std::vector<crl> crls{*list};
    auto r = f.validate(f.euicc, crls);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, chain_errc::revoked);
}

TEST(chain_validation, when_eum_serial_is_on_the_ci_crl_then_revoked_at_depth_one) {
    chain_fixture f(curve::nist_p256);
    crl_request req{now - days{1}, now + days{30}, 1, {{f.eum.cert.serial(), now - days{1}}}};
    auto list = issue_crl(req, f.ci.cert, *f.ci.sign);
    ASSERT_TRUE(list.has_value());
    std::vector<crl> crls{*list};
    auto r = f.validate(f.euicc, crls);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, chain_errc::revoked);
    EXPECT_EQ(r.error().depth, 1U);
}

// The signatures of recurring certificates and CRLs are remembered after a
// first success (x509_chain.cpp); each test below accepts a chain first, so
// that what follows runs against the remembered state.

TEST(chain_validation, when_an_accepted_eum_is_altered_then_its_signature_is_checked_again) {
    chain_fixture f(curve::nist_p256);
    ASSERT_TRUE(f.validate(f.euicc).has_value());
    bytes der = f.eum.cert.der();
    der.back() ^= 0x01; // inside the EUM's signature; its key (and so the eUICC's) unchanged
    auto altered = certificate::from_der(der);
    ASSERT_TRUE(altered.has_value());
    std::vector<certificate> inter{*altered};
    std::vector<certificate> anchors{f.ci.cert};
    auto r = validate_chain(f.euicc, inter, anchors, {}, now, cert_role::euicc);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, chain_errc::bad_signature);
    EXPECT_EQ(r.error().depth, 1U);
}

TEST(chain_validation, when_an_accepted_chain_is_checked_later_then_expiry_still_applies) {
    chain_fixture f(curve::nist_p256);
    ASSERT_TRUE(f.validate(f.euicc).has_value());
    auto r = f.validate(f.euicc, {}, now + days{400});
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, chain_errc::expired);
}

TEST(chain_validation, when_an_accepted_eum_is_revoked_later_then_the_chain_is_refused) {
    chain_fixture f(curve::nist_p256);
    crl_request empty{now - days{1}, now + days{30}, 1, {}};
    auto clean = issue_crl(empty, f.ci.cert, *f.ci.sign);
    ASSERT_TRUE(clean.has_value());
    std::vector<crl> before{*clean};
    ASSERT_TRUE(f.validate(f.euicc, before).has_value());
    crl_request listing{now - days{1}, now + days{30}, 2, {{f.eum.cert.serial(), now}}};
    auto revoking = issue_crl(listing, f.ci.cert, *f.ci.sign);
    ASSERT_TRUE(revoking.has_value());
    std::vector<crl> after{*revoking};
    auto r = f.validate(f.euicc, after);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, chain_errc::revoked);
    EXPECT_EQ(r.error().depth, 1U);
}

TEST(chain_validation, when_an_accepted_crl_is_altered_then_its_signature_is_checked_again) {
    chain_fixture f(curve::nist_p256);
    crl_request req{now - days{1}, now + days{30}, 1, {}};
    auto list = issue_crl(req, f.ci.cert, *f.ci.sign);
    ASSERT_TRUE(list.has_value());
    std::vector<crl> good{*list};
    ASSERT_TRUE(f.validate(f.euicc, good).has_value());
    bytes der = list->der();
    der.back() ^= 0x01;
    auto forged = crl::from_der(der);
    ASSERT_TRUE(forged.has_value());
    std::vector<crl> bad{*forged};
    auto r = f.validate(f.euicc, bad);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, chain_errc::bad_crl);
}

TEST(chain_validation, when_an_accepted_crl_is_presented_for_another_ci_of_that_name_then_bad_crl) {
    // Two CIs named alike with different keys: the CRL verified under the
    // first is remembered for that key only, so under the second (whose name
    // it claims) it is checked again and fails.
    chain_fixture first(curve::nist_p256);
    chain_fixture second(curve::nist_p256);
    ASSERT_EQ(first.ci.cert.subject(), second.ci.cert.subject());
    crl_request req{now - days{1}, now + days{30}, 1, {}};
    auto list = issue_crl(req, first.ci.cert, *first.ci.sign);
    ASSERT_TRUE(list.has_value());
    std::vector<crl> crls{*list};
    ASSERT_TRUE(first.validate(first.euicc, crls).has_value());
    auto r = second.validate(second.euicc, crls);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, chain_errc::bad_crl);
}

TEST(chain_validation, when_crl_lists_other_serials_then_chain_is_accepted) {
    chain_fixture f(curve::nist_p256);
    crl_request req{now - days{1}, now + days{30}, 1, {{{0x7f, 0x01}, now - days{1}}}};
    auto list = issue_crl(req, f.eum.cert, *f.eum.sign);
    ASSERT_TRUE(list.has_value());
    std::vector<crl> crls{*list};
    EXPECT_TRUE(f.validate(f.euicc, crls).has_value());
}

TEST(chain_validation, when_crl_signature_is_forged_then_bad_crl) {
    chain_fixture f(curve::nist_p256);
    crl_request req{now - days{1}, now + days{30}, 1, {}};
    auto list = issue_crl(req, f.eum.cert, *f.eum.sign);
    ASSERT_TRUE(list.has_value());
    bytes der = list->der();
    der.back() ^= 0x01;
    auto forged = crl::from_der(der);
    ASSERT_TRUE(forged.has_value());
    std::vector<crl> crls{*forged};
    auto r = f.validate(f.euicc, crls);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, chain_errc::bad_crl);
}

TEST(chain_validation, when_a_signature_byte_is_flipped_then_bad_signature) {
    chain_fixture f(curve::nist_p256);
    bytes der = f.euicc.der();
    // The last byte of a certificate is inside the s of its ECDSA signature.
    der.back() ^= 0x01;
    auto altered = certificate::from_der(der);
    ASSERT_TRUE(altered.has_value());
    auto r = f.validate(*altered);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, chain_errc::bad_signature);
    EXPECT_EQ(r.error().depth, 0U);
}

TEST(chain_validation, when_euicc_key_is_on_another_curve_than_its_chain_then_mixed_curves) {
    chain_fixture f(curve::nist_p256);
    auto brainpool_key = new_signer(curve::brainpool_p256r1);
    auto cert = make_euicc(*brainpool_key, f.eum, in_range_eid);
    ASSERT_TRUE(cert.has_value());
    auto r = f.validate(*cert);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, chain_errc::mixed_curves);
}

TEST(chain_validation, when_leaf_lacks_digital_signature_then_key_usage) {
    chain_fixture f(curve::nist_p256);
    auto key = new_signer(curve::nist_p256);
    auto r = base_request(*key, "Test eUICC", 9);
    r.subject.insert(r.subject.end() - 1, {"serialNumber", in_range_eid});
    r.key_usage = key_usage::key_agreement;
    r.policy_oids = {std::string(policy_oid(cert_role::euicc))};
    auto cert = issue_certificate(r, f.eum.cert, *f.eum.sign);
    ASSERT_TRUE(cert.has_value());
    auto v = f.validate(*cert);
    ASSERT_FALSE(v.has_value());
    EXPECT_EQ(v.error().code, chain_errc::key_usage);
}

TEST(chain_validation, when_eum_is_not_a_ca_then_not_a_ca) {
    chain_fixture f(curve::nist_p256);
    auto eum_key = new_signer(curve::nist_p256);
    auto r = base_request(*eum_key, "Test EUM", 2);
    r.key_usage = key_usage::key_cert_sign;
    r.policy_oids = {std::string(policy_oid(cert_role::eum))};
    r.permitted_eid_prefixes = {"89049032"};
    auto eum_cert = issue_certificate(r, f.ci.cert, *f.ci.sign);
    ASSERT_TRUE(eum_cert.has_value());
    party eum{std::move(eum_key), *eum_cert};
    auto key = new_signer(curve::nist_p256);
    auto leaf = make_euicc(*key, eum, in_range_eid);
    ASSERT_TRUE(leaf.has_value());
    std::vector<certificate> inter{eum.cert};
    std::vector<certificate> anchors{f.ci.cert};
    auto v = validate_chain(*leaf, inter, anchors, {}, now, cert_role::euicc);
    ASSERT_FALSE(v.has_value());
    EXPECT_EQ(v.error().code, chain_errc::not_a_ca);
    EXPECT_EQ(v.error().depth, 1U);
}

TEST(chain_validation, when_euicc_is_issued_straight_by_the_ci_then_unexpected_path) {
    chain_fixture f(curve::nist_p256);
    auto key = new_signer(curve::nist_p256);
    auto cert = make_euicc(*key, f.ci, in_range_eid);
    ASSERT_TRUE(cert.has_value());
    auto r = f.validate(*cert);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, chain_errc::unexpected_path);
}

TEST(chain_validation, when_ci_is_not_among_the_anchors_then_wrong_issuer) {
    chain_fixture f(curve::nist_p256);
    auto other_ci = make_ci(curve::nist_p256);
    std::vector<certificate> inter{f.eum.cert};
    std::vector<certificate> anchors{other_ci.cert};
    auto r = validate_chain(f.euicc, inter, anchors, {}, now, cert_role::euicc);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, chain_errc::wrong_issuer);
}

} // namespace
} // namespace esimguard::crypto
