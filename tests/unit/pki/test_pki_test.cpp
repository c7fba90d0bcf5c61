// The test PKI on disk: its layout, that its chains pass our validator and
// `openssl verify`, and that eUICC issuance keeps to the EUM's EID range.

#include "esimguard/crypto/x509.hpp"
#include "esimguard/pki/test_pki.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace esimguard::pki {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono;
using crypto::cert_role;
using crypto::certificate;
using crypto::curve;

const crypto::sys_seconds now = sys_days{year{2031} / 3 / 14};
constexpr std::string_view in_range_eid = "89049032123451234512345678901235";
constexpr std::string_view out_of_range_eid = "89001012012341234012345678901224";

std::string read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

certificate load(const fs::path& p) {
    auto c = certificate::from_pem(read(p));
    EXPECT_TRUE(c.has_value()) << p;
    return *c;
}

// Runs a shell command in `dir`; returns its exit status and output.
std::pair<int, std::string> run_in(const fs::path& dir, const std::string& cmd) {
    const std::string full = "cd '" + dir.string() + "' && " + cmd + " 2>&1";
    FILE* pipe = ::popen(full.c_str(), "r");
    if (pipe == nullptr) {
        return {-1, "popen failed"};
    }
    std::string out;
    std::array<char, 256> buf{};
    while (std::fgets(buf.data(), buf.size(), pipe) != nullptr) {
        out += buf.data();
    }
    const int status = ::pclose(pipe);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

class test_pki : public ::testing::Test {
protected:
    void SetUp() override {
        std::string tmpl = (fs::temp_directory_path() / "esimguard-pki-XXXXXX").string();
        ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
        dir = tmpl;
    }
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }

    void init(curve_set curves = curve_set::both, std::string host = "localhost") {
        test_pki_options o;
        o.dir = dir;
        o.curves = curves;
        o.host = std::move(host);
        o.now = now;
        auto r = init_test_pki(o);
        ASSERT_TRUE(r.has_value()) << r.error().detail;
    }

    fs::path dir;
};

TEST_F(test_pki, when_initialised_then_every_file_of_the_layout_exists_for_both_curves) {
    init();
    for (std::string_view c : {"nist", "brainpool"}) {
        for (std::string_view name : {"ci", "eum", "dpauth", "dppb", "dptls"}) {
            for (std::string_view ext : {".pem", ".der", ".key.pem"}) {
                EXPECT_TRUE(fs::exists(dir / c / (std::string(name) + std::string(ext))))
                    << c << "/" << name << ext;
            }
        }
        EXPECT_TRUE(fs::exists(dir / c / "ci.crl.pem"));
        EXPECT_TRUE(fs::exists(dir / c / "ci.crl.der"));
        EXPECT_TRUE(fs::exists(dir / c / "dptls-chain.pem"));
    }
    EXPECT_TRUE(fs::exists(dir / "README.txt"));
}

TEST_F(test_pki, when_initialised_then_private_keys_are_readable_by_the_owner_only) {
    init(curve_set::nist);
    for (std::string_view name : {"ci", "eum", "dpauth", "dppb", "dptls"}) {
        struct stat st {};
        ASSERT_EQ(::stat((dir / "nist" / (std::string(name) + ".key.pem")).c_str(), &st), 0);
        EXPECT_EQ(st.st_mode & 0777, 0600U) << name;
    }
}

TEST_F(test_pki, when_one_curve_is_asked_then_the_other_is_not_written) {
    init(curve_set::brainpool);
    EXPECT_TRUE(fs::exists(dir / "brainpool" / "ci.pem"));
    EXPECT_FALSE(fs::exists(dir / "nist"));
    EXPECT_EQ(load(dir / "brainpool" / "ci.pem").key_curve(), curve::brainpool_p256r1);
}

TEST_F(test_pki, when_a_pki_exists_then_init_refuses_to_overwrite_it) {
    init(curve_set::nist);
    const std::string key_before = read(dir / "nist" / "ci.key.pem");
    test_pki_options o;
    o.dir = dir;
    o.curves = curve_set::nist;
    o.now = now;
    auto r = init_test_pki(o);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, pki_errc::already_exists);
    EXPECT_EQ(read(dir / "nist" / "ci.key.pem"), key_before);
}

TEST_F(test_pki, when_host_is_not_a_dns_name_then_init_refuses) {
    test_pki_options o;
    o.dir = dir;
    o.host = "evil,URI:x";
    o.now = now;
    auto r = init_test_pki(o);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, pki_errc::bad_input);
}

TEST_F(test_pki, when_initialised_then_dp_certificates_pass_our_validator_on_both_curves) {
    init();
    for (std::string_view c : {"nist", "brainpool"}) {
        std::vector<certificate> anchors{load(dir / c / "ci.pem")};
        auto crl = crypto::crl::from_pem(read(dir / c / "ci.crl.pem"));
        ASSERT_TRUE(crl.has_value());
        std::vector<crypto::crl> crls{*crl};
        for (auto [name, role] :
             {std::pair{"dpauth", cert_role::dp_auth}, std::pair{"dppb", cert_role::dp_pb},
              std::pair{"dptls", cert_role::dp_tls}}) {
            auto r = crypto::validate_chain(load(dir / c / (std::string(name) + ".pem")), {},
                                            anchors, crls, now, role);
            EXPECT_TRUE(r.has_value()) << c << "/" << name << ": " << r.error().detail;
        }
    }
}

TEST_F(test_pki, when_initialised_then_dptls_names_the_host_and_allows_server_auth) {
    init(curve_set::nist, "smdp.example.org");
    auto tls = load(dir / "nist" / "dptls.pem");
    EXPECT_EQ(tls.dns_names(), std::vector<std::string>{"smdp.example.org"});
    auto eku = tls.extended_key_usage_oids();
    EXPECT_NE(std::find(eku.begin(), eku.end(), "1.3.6.1.5.5.7.3.1"), eku.end());
    EXPECT_EQ(load(dir / "nist" / "eum.pem").permitted_eid_prefixes(),
              std::vector<std::string>{std::string(test_eid_prefix)});
}

TEST_F(test_pki, when_euicc_is_issued_then_its_chain_passes_our_validator_on_both_curves) {
    init();
    for (curve c : {curve::nist_p256, curve::brainpool_p256r1}) {
        auto files = issue_euicc(dir, in_range_eid, c, now);
        ASSERT_TRUE(files.has_value()) << files.error().detail;
        const fs::path base = dir / curve_dir_name(c);
        auto euicc = load(base / "euicc" / (std::string(in_range_eid) + ".pem"));
        EXPECT_EQ(euicc.subject_serial_number(), std::string(in_range_eid));
        EXPECT_EQ(euicc.key_curve(), c);
        std::vector<certificate> inter{load(base / "eum.pem")};
        std::vector<certificate> anchors{load(base / "ci.pem")};
        auto r = crypto::validate_chain(euicc, inter, anchors, {}, now, cert_role::euicc);
        EXPECT_TRUE(r.has_value()) << r.error().detail;
        struct stat st {};
        ASSERT_EQ(::stat((base / "euicc" / (std::string(in_range_eid) + ".key.pem")).c_str(), &st),
                  0);
        EXPECT_EQ(st.st_mode & 0777, 0600U);
    }
}

TEST_F(test_pki, when_euicc_and_dp_chains_are_given_to_openssl_verify_then_it_accepts_them) {
    init();
    for (curve c : {curve::nist_p256, curve::brainpool_p256r1}) {
        ASSERT_TRUE(issue_euicc(dir, in_range_eid, c, now).has_value());
        const fs::path base = dir / curve_dir_name(c);
        // The generated certificates start an hour before `now` (2031): check
        // them at that time, not at the wall clock's.
        const std::string at =
            " -attime " + std::to_string(now.time_since_epoch().count()) + " -x509_strict";
        auto [rc, out] =
            run_in(base, "openssl verify" + at + " -CAfile ci.pem -untrusted eum.pem euicc/" +
                             std::string(in_range_eid) + ".pem");
        EXPECT_EQ(rc, 0) << out;
        auto [rc2, out2] =
            run_in(base, "openssl verify" + at + " -CAfile ci.pem dpauth.pem dppb.pem dptls.pem");
        EXPECT_EQ(rc2, 0) << out2;
        auto [rc3, out3] = run_in(base, "openssl verify" + at +
                                            " -crl_check -CRLfile ci.crl.pem -CAfile ci.pem "
                                            "-purpose sslserver dptls.pem");
        EXPECT_EQ(rc3, 0) << out3;
    }
}

TEST_F(test_pki, when_openssl_verify_gets_the_wrong_ci_then_it_refuses_the_euicc) {
    // Guards the test above: openssl verify must be able to fail here.
    init();
    ASSERT_TRUE(issue_euicc(dir, in_range_eid, curve::nist_p256, now).has_value());
    const std::string at = " -attime " + std::to_string(now.time_since_epoch().count());
    auto [rc, out] = run_in(dir / "nist", "openssl verify" + at +
                                              " -CAfile ../brainpool/ci.pem -untrusted eum.pem "
                                              "euicc/" +
                                              std::string(in_range_eid) + ".pem");
    EXPECT_NE(rc, 0) << out;
}

TEST_F(test_pki, when_eid_is_outside_the_eum_range_then_issue_refuses) {
    init(curve_set::nist);
    auto r = issue_euicc(dir, out_of_range_eid, curve::nist_p256, now);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, pki_errc::eid_out_of_range);
    EXPECT_FALSE(fs::exists(dir / "nist" / "euicc" / (std::string(out_of_range_eid) + ".pem")));
}

TEST_F(test_pki, when_eid_is_malformed_then_issue_refuses) {
    init(curve_set::nist);
    for (std::string_view eid : {std::string_view("8904903212345123451234567890123"),
                                 std::string_view("89049032123451234512345678901236"),
                                 std::string_view("8904903212345123451234567890123X")}) {
        auto r = issue_euicc(dir, eid, curve::nist_p256, now);
        ASSERT_FALSE(r.has_value()) << eid;
        EXPECT_EQ(r.error().code, pki_errc::malformed_eid) << eid;
    }
}

TEST_F(test_pki, when_no_pki_exists_then_issue_reports_it_missing) {
    auto r = issue_euicc(dir, in_range_eid, curve::nist_p256, now);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, pki_errc::missing_pki);
}

TEST_F(test_pki, when_eid_already_has_a_certificate_then_issue_keeps_the_first_key) {
    init(curve_set::nist);
    ASSERT_TRUE(issue_euicc(dir, in_range_eid, curve::nist_p256, now).has_value());
    const fs::path key = dir / "nist" / "euicc" / (std::string(in_range_eid) + ".key.pem");
    const std::string first = read(key);
    auto again = issue_euicc(dir, in_range_eid, curve::nist_p256, now);
    ASSERT_FALSE(again.has_value());
    EXPECT_EQ(again.error().code, pki_errc::already_exists);
    EXPECT_EQ(read(key), first);
}

} // namespace
} // namespace esimguard::pki
