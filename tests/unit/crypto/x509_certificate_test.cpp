// Certificate and CRL parsing and issuance: the fields SGP.22 relies on come
// back as issued, and bad input is refused rather than half-parsed.

#include "esimguard/crypto/cert_builder.hpp"
#include "esimguard/crypto/x509.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace esimguard::crypto {
namespace {

using namespace std::chrono;

const sys_seconds now = sys_days{year{2030} / 1 / 15};
const std::string eid = "89049032123451234512345678901235";

std::unique_ptr<signer> new_signer(curve c = curve::nist_p256) {
    auto key = private_key::generate(c);
    EXPECT_TRUE(key.has_value());
    return create_software_signer(std::move(*key));
}

cert_request request(const signer& s, std::string cn, cert_role role, unsigned ku) {
    return cert_request{
        .subject = {{"O", "esimguard test"}, {"CN", std::move(cn)}},
        .subject_key = s.public_part(),
        .serial = {0x01, 0x02, 0x03},
        .not_before = now - days{1},
        .not_after = now + days{1},
        .key_usage = ku,
        .policy_oids = {std::string(policy_oid(role))},
    };
}

struct issued_pair {
    std::unique_ptr<signer> ci_key;
    certificate ci;
    std::unique_ptr<signer> leaf_key;
    certificate leaf;
};

issued_pair make_pair_of_certs() {
    auto ci_key = new_signer();
    auto ci_req =
        request(*ci_key, "CI", cert_role::ci, key_usage::key_cert_sign | key_usage::crl_sign);
    ci_req.is_ca = true;
    auto ci = issue_certificate(ci_req, std::nullopt, *ci_key);
    EXPECT_TRUE(ci.has_value());
    auto leaf_key = new_signer();
    auto leaf_req = request(*leaf_key, "eUICC", cert_role::euicc, key_usage::digital_signature);
    leaf_req.subject.insert(leaf_req.subject.begin() + 1, {"serialNumber", eid});
    leaf_req.dns_names = {"smdp.example.org"};
    leaf_req.extended_key_usage_oids = {"1.3.6.1.5.5.7.3.1"};
    auto leaf = issue_certificate(leaf_req, *ci, *ci_key);
    EXPECT_TRUE(leaf.has_value());
    return {std::move(ci_key), *ci, std::move(leaf_key), *leaf};
}

TEST(certificate, when_issued_then_its_fields_read_back_as_requested) {
    auto p = make_pair_of_certs();
    EXPECT_EQ(p.leaf.subject(), "CN=eUICC,serialNumber=" + eid + ",O=esimguard test");
    EXPECT_EQ(p.leaf.issuer(), p.ci.subject());
    EXPECT_EQ(p.leaf.serial(), (bytes{0x01, 0x02, 0x03}));
    EXPECT_EQ(p.leaf.not_before(), now - days{1});
    EXPECT_EQ(p.leaf.not_after(), now + days{1});
    EXPECT_EQ(p.leaf.subject_serial_number(), eid);
    EXPECT_EQ(p.leaf.policy_oids(), std::vector<std::string>{"2.23.146.1.2.1.1"});
    EXPECT_EQ(p.leaf.key_usage_bits(), key_usage::digital_signature);
    EXPECT_FALSE(p.leaf.is_ca());
    EXPECT_TRUE(p.ci.is_ca());
    EXPECT_EQ(p.leaf.dns_names(), std::vector<std::string>{"smdp.example.org"});
    EXPECT_EQ(p.leaf.extended_key_usage_oids(), std::vector<std::string>{"1.3.6.1.5.5.7.3.1"});
    EXPECT_EQ(p.leaf.key().point(), p.leaf_key->public_part().point());
    EXPECT_FALSE(p.leaf.has_unknown_critical_extension());
}

TEST(certificate, when_issued_then_ski_is_the_key_id_and_aki_names_the_issuer) {
    auto p = make_pair_of_certs();
    EXPECT_EQ(p.ci.subject_key_id(), p.ci_key->public_part().key_id());
    EXPECT_EQ(p.leaf.subject_key_id(), p.leaf_key->public_part().key_id());
    EXPECT_EQ(p.leaf.authority_key_id(), p.ci.subject_key_id());
    // SGP.26 CI certificates carry no AKI: a self-signed root is named by its SKI.
    EXPECT_FALSE(p.ci.authority_key_id().has_value());
}

TEST(certificate, when_pem_is_read_back_then_der_is_identical) {
    auto p = make_pair_of_certs();
    auto again = certificate::from_pem(p.leaf.pem());
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(again->der(), p.leaf.der());
    auto chain = certificate::all_from_pem(p.leaf.pem() + p.ci.pem());
    ASSERT_TRUE(chain.has_value());
    ASSERT_EQ(chain->size(), 2U);
    EXPECT_EQ((*chain)[1].der(), p.ci.der());
}

TEST(certificate, when_bytes_are_not_a_certificate_then_they_are_refused) {
    auto p = make_pair_of_certs();
    bytes truncated(p.leaf.der().begin(), p.leaf.der().end() - 5);
    EXPECT_EQ(certificate::from_der(truncated).error().code, errc::invalid_certificate);
    bytes trailing = p.leaf.der();
    trailing.push_back(0x00);
    EXPECT_EQ(certificate::from_der(trailing).error().code, errc::invalid_certificate);
    EXPECT_EQ(certificate::from_der(bytes{}).error().code, errc::invalid_certificate);
    EXPECT_FALSE(certificate::from_pem("no pem here").has_value());
}

TEST(certificate, when_eum_range_is_given_then_permitted_prefixes_read_back_in_both_forms) {
    auto p = make_pair_of_certs();
    for (auto form : {eid_range_form::permitted_eins, eid_range_form::name_constraints}) {
        auto key = new_signer();
        auto req = request(*key, "EUM", cert_role::eum, key_usage::key_cert_sign);
        req.is_ca = true;
        req.permitted_eid_prefixes = {"89049032", "89049033"};
        req.eid_form = form;
        auto eum = issue_certificate(req, p.ci, *p.ci_key);
        ASSERT_TRUE(eum.has_value()) << eum.error().detail;
        EXPECT_EQ(eum->permitted_eid_prefixes(),
                  (std::vector<std::string>{"89049032", "89049033"}));
    }
}

TEST(certificate_builder, when_signer_does_not_hold_the_issuer_key_then_issue_refuses) {
    auto p = make_pair_of_certs();
    auto other = new_signer();
    auto req = request(*p.leaf_key, "x", cert_role::dp_auth, key_usage::digital_signature);
    auto r = issue_certificate(req, p.ci, *other);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, errc::invalid_key);
}

TEST(certificate_builder, when_request_has_bad_values_then_issue_refuses) {
    auto key = new_signer();
    auto req = request(*key, "x", cert_role::ci, key_usage::key_cert_sign);
    auto bad_serial = req;
    bad_serial.serial = {0x00, 0x00};
    EXPECT_FALSE(issue_certificate(bad_serial, std::nullopt, *key).has_value());
    auto bad_oid = req;
    bad_oid.policy_oids = {"@section"};
    EXPECT_FALSE(issue_certificate(bad_oid, std::nullopt, *key).has_value());
    auto bad_dns = req;
    bad_dns.dns_names = {"a,URI:http://x"};
    EXPECT_FALSE(issue_certificate(bad_dns, std::nullopt, *key).has_value());
    auto bad_time = req;
    bad_time.not_after = bad_time.not_before - days{1};
    EXPECT_FALSE(issue_certificate(bad_time, std::nullopt, *key).has_value());
}

TEST(certificate_builder, when_validity_runs_to_9999_then_it_reads_back_exactly) {
    auto key = new_signer(curve::brainpool_p256r1);
    auto req = request(*key, "x", cert_role::ci, key_usage::key_cert_sign);
    req.not_after = sys_days{year{9999} / 12 / 31} + hours{23} + minutes{59} + seconds{59};
    auto cert = issue_certificate(req, std::nullopt, *key);
    ASSERT_TRUE(cert.has_value());
    EXPECT_EQ(cert->not_after(), req.not_after);
    EXPECT_EQ(cert->key_curve(), curve::brainpool_p256r1);
}

TEST(crl, when_issued_then_it_lists_exactly_the_revoked_serials_and_verifies) {
    auto p = make_pair_of_certs();
    crl_request req{now, now + days{7}, 3, {{{0x01, 0x02, 0x03}, now}, {{0x7f}, now}}};
    auto l = issue_crl(req, p.ci, *p.ci_key);
    ASSERT_TRUE(l.has_value()) << l.error().detail;
    EXPECT_TRUE(l->lists(bytes{0x01, 0x02, 0x03}));
    EXPECT_TRUE(l->lists(bytes{0x7f}));
    EXPECT_FALSE(l->lists(bytes{0x01, 0x02}));
    EXPECT_EQ(l->issuer(), p.ci.subject());
    EXPECT_EQ(l->this_update(), now);
    EXPECT_EQ(l->next_update(), now + days{7});
    EXPECT_TRUE(l->signed_by(p.ci.key()));
    EXPECT_FALSE(l->signed_by(p.leaf.key()));
    auto again = crl::from_pem(l->pem());
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(again->der(), l->der());
}

} // namespace
} // namespace esimguard::crypto
