// CRLs in the PKI directory: a CRL of the directory's EUM is stored and,
// once loaded, makes the chain of the eUICC it lists fail as revoked; a CRL
// of a foreign CA, a stale one, an older one than stored, a non-CRL and a
// stored file edited on disk are all refused.

#include "esimguard/crypto/cert_builder.hpp"
#include "esimguard/crypto/x509.hpp"
#include "esimguard/pki/crl_store.hpp"
#include "esimguard/pki/test_pki.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <sstream>

#include <unistd.h>

namespace esimguard::pki {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono;
using crypto::cert_role;
using crypto::certificate;

const crypto::sys_seconds t0 = sys_days{year{2031} / 3 / 14};
constexpr std::string_view eid = "89049032123451234512345678901235";

std::string read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

certificate load(const fs::path& p) {
    return *certificate::from_pem(read(p));
}

class crl_store_test : public ::testing::Test {
protected:
    void SetUp() override {
        static std::atomic<int> n{0};
        root_ = fs::temp_directory_path() /
                ("esimguard-crl-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
        fs::remove_all(root_);
        make_pki(dir());
        ASSERT_TRUE(issue_euicc(dir(), eid, crypto::curve::nist_p256, t0).has_value());
    }
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(root_, ec);
    }

    fs::path dir() const { return root_ / "pki"; }
    fs::path nist() const { return dir() / "nist"; }

    static void make_pki(const fs::path& d) {
        test_pki_options o;
        o.dir = d;
        o.curves = curve_set::nist;
        o.now = t0;
        auto r = init_test_pki(o);
        ASSERT_TRUE(r.has_value()) << r.error().detail;
    }

    /// A CRL signed with the `who` ("eum" or "ci") key of PKI `d`.
    static crypto::crl sign_crl(const fs::path& d, const std::string& who,
                                std::vector<certificate> revoked, crypto::sys_seconds at,
                                std::chrono::days valid = std::chrono::days(7)) {
        auto issuer = load(d / "nist" / (who + ".pem"));
        auto key = crypto::private_key::from_pem(read(d / "nist" / (who + ".key.pem")));
        EXPECT_TRUE(key.has_value());
        crypto::crl_request req;
        req.this_update = at;
        req.next_update = at + valid;
        req.number = static_cast<std::uint64_t>(at.time_since_epoch().count());
        for (const auto& c : revoked) {
            req.revoked.push_back({c.serial(), at});
        }
        auto signer = crypto::create_software_signer(std::move(*key));
        auto crl = crypto::issue_crl(req, issuer, *signer);
        EXPECT_TRUE(crl.has_value());
        return *crl;
    }

    std::expected<void, crypto::chain_error> validate(std::span<const crypto::crl> crls) {
        auto leaf = load(nist() / "euicc" / (std::string(eid) + ".pem"));
        std::vector<certificate> inter{load(nist() / "eum.pem")};
        std::vector<certificate> anchors{load(nist() / "ci.pem")};
        return crypto::validate_chain(leaf, inter, anchors, crls, t0 + hours(1), cert_role::euicc);
    }

    fs::path root_;
};

TEST_F(crl_store_test,
       when_the_eum_revokes_an_euicc_then_after_add_its_chain_is_refused_as_revoked) {
    ASSERT_TRUE(validate({}).has_value());
    auto leaf = load(nist() / "euicc" / (std::string(eid) + ".pem"));
    auto crl = sign_crl(dir(), "eum", {leaf}, t0);
    auto stored = add_crl(dir(), crl, t0);
    ASSERT_TRUE(stored.has_value()) << stored.error().detail;
    EXPECT_EQ(stored->parent_path(), nist() / "crls");

    auto loaded = load_stored_crls(dir());
    ASSERT_TRUE(loaded.has_value()) << loaded.error().detail;
    ASSERT_EQ(loaded->size(), 1u);
    auto v = validate(*loaded);
    ASSERT_FALSE(v.has_value());
    EXPECT_EQ(v.error().code, crypto::chain_errc::revoked);
    EXPECT_EQ(v.error().depth, 0u);
}

TEST_F(crl_store_test, when_the_ci_revokes_the_eum_then_every_chain_under_it_is_refused) {
    auto eum = load(nist() / "eum.pem");
    ASSERT_TRUE(add_crl(dir(), sign_crl(dir(), "ci", {eum}, t0), t0).has_value());
    auto loaded = load_stored_crls(dir());
    ASSERT_TRUE(loaded.has_value());
    auto v = validate(*loaded);
    ASSERT_FALSE(v.has_value());
    EXPECT_EQ(v.error().code, crypto::chain_errc::revoked);
    EXPECT_EQ(v.error().depth, 1u);
}

TEST_F(crl_store_test, when_a_crl_is_signed_by_a_foreign_eum_of_the_same_name_then_it_is_refused) {
    make_pki(root_ / "other");
    auto leaf = load(nist() / "euicc" / (std::string(eid) + ".pem"));
    auto foreign = sign_crl(root_ / "other", "eum", {leaf}, t0);
    auto r = add_crl(dir(), foreign, t0);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, pki_errc::bad_input);
    EXPECT_NE(r.error().detail.find("signature does not verify"), std::string::npos);
    EXPECT_FALSE(fs::exists(nist() / "crls") && !fs::is_empty(nist() / "crls"));
}

TEST_F(crl_store_test, when_a_crl_is_stale_then_it_is_refused) {
    auto crl = sign_crl(dir(), "eum", {}, t0, std::chrono::days(1));
    auto r = add_crl(dir(), crl, t0 + std::chrono::days(2));
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.error().detail.find("stale"), std::string::npos);
}

TEST_F(crl_store_test, when_an_older_crl_follows_a_newer_one_then_revocations_are_not_rolled_back) {
    auto leaf = load(nist() / "euicc" / (std::string(eid) + ".pem"));
    auto old_empty = sign_crl(dir(), "eum", {}, t0);
    auto newer = sign_crl(dir(), "eum", {leaf}, t0 + hours(1));
    ASSERT_TRUE(add_crl(dir(), newer, t0 + hours(1)).has_value());
    auto r = add_crl(dir(), old_empty, t0 + hours(1));
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.error().detail.find("older"), std::string::npos);
    // A newer one replaces (one file per CA).
    auto newest = sign_crl(dir(), "eum", {}, t0 + hours(2));
    ASSERT_TRUE(add_crl(dir(), newest, t0 + hours(2)).has_value());
    auto loaded = load_stored_crls(dir());
    ASSERT_EQ(loaded->size(), 1u);
    EXPECT_TRUE(validate(*loaded).has_value());
}

TEST_F(crl_store_test, when_bytes_are_not_a_crl_then_parse_refuses_them) {
    auto r = parse_crl(as_bytes(std::string_view("hello")));
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, pki_errc::bad_input);
    auto cert_pem = read(nist() / "eum.pem");
    EXPECT_FALSE(parse_crl(as_bytes(cert_pem)).has_value());
    auto crl = sign_crl(dir(), "eum", {}, t0);
    EXPECT_TRUE(parse_crl(crl.der()).has_value());
    EXPECT_TRUE(parse_crl(as_bytes(crl.pem())).has_value());
}

TEST_F(crl_store_test, when_a_stored_crl_is_replaced_on_disk_by_a_foreign_one_then_loading_fails) {
    auto stored = add_crl(dir(), sign_crl(dir(), "eum", {}, t0), t0);
    ASSERT_TRUE(stored.has_value());
    make_pki(root_ / "other");
    std::ofstream(*stored, std::ios::trunc) << sign_crl(root_ / "other", "eum", {}, t0).pem();
    auto loaded = load_stored_crls(dir());
    ASSERT_FALSE(loaded.has_value());
    EXPECT_NE(loaded.error().detail.find(stored->filename().string()), std::string::npos);
}

} // namespace
} // namespace esimguard::pki
