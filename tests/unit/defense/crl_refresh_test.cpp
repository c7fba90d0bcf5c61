// CRL refresh against a real http::server on loopback serving distribution
// points: a good EUM CRL (DER) is stored and returned with the CI's own CRL,
// a 404, a non-CRL body and a foreign CRL are counted as failures without
// removing what is stored, and the returned set makes a revoked chain fail.

#include "esimguard/crypto/cert_builder.hpp"
#include "esimguard/defense/crl_refresh.hpp"
#include "esimguard/http/server.hpp"
#include "esimguard/pki/crl_store.hpp"
#include "esimguard/pki/test_pki.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include <unistd.h>

namespace esimguard::defense {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono;

const crypto::sys_seconds t0 = sys_days{year{2031} / 3 / 14};
constexpr std::string_view eid = "89049032123451234512345678901235";

std::string read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

crypto::crl sign_crl(const fs::path& pki, std::vector<crypto::certificate> revoked) {
    auto issuer = *crypto::certificate::from_pem(read(pki / "nist" / "eum.pem"));
    auto key = crypto::private_key::from_pem(read(pki / "nist" / "eum.key.pem"));
    crypto::crl_request req;
    req.this_update = t0;
    req.next_update = t0 + days(7);
    for (const auto& c : revoked) {
        req.revoked.push_back({c.serial(), t0});
    }
    auto signer = crypto::create_software_signer(std::move(*key));
    return *crypto::issue_crl(req, issuer, *signer);
}

class crl_refresh_test : public ::testing::Test {
protected:
    void SetUp() override {
        static std::atomic<int> n{0};
        root_ = fs::temp_directory_path() /
                ("esimguard-crlr-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
        fs::remove_all(root_);
        for (const auto& d : {root_ / "pki", root_ / "other"}) {
            pki::test_pki_options o;
            o.dir = d;
            o.curves = pki::curve_set::nist;
            o.now = t0;
            ASSERT_TRUE(pki::init_test_pki(o).has_value());
        }
        ASSERT_TRUE(pki::issue_euicc(root_ / "pki", eid, crypto::curve::nist_p256, t0));

        http::server_config c;
        c.plain_http = true;
        c.worker_threads = 1;
        server_ = std::make_unique<http::server>(c);
        for (std::string path : {"/eum.crl", "/junk", "/foreign.crl"}) {
            server_->add_route("GET", path, [this, path](const http::request&) {
                std::lock_guard lk(m_);
                auto it = bodies_.find(path);
                if (it == bodies_.end()) {
                    return http::response::with_body(404, "no");
                }
                return http::response::with_body(200, it->second, "application/pkix-crl");
            });
        }
        ASSERT_TRUE(server_->start().has_value());
        auto cl = http::client::create({});
        ASSERT_TRUE(cl.has_value());
        client_.emplace(std::move(*cl));
    }
    void TearDown() override {
        server_->stop();
        std::error_code ec;
        fs::remove_all(root_, ec);
    }

    std::string url(std::string_view path) const {
        return "http://127.0.0.1:" + std::to_string(server_->port()) + std::string(path);
    }
    void serve(const std::string& path, std::string body) {
        std::lock_guard lk(m_);
        bodies_[path] = std::move(body);
    }
    crypto::certificate euicc() const {
        return *crypto::certificate::from_pem(
            read(root_ / "pki" / "nist" / "euicc" / (std::string(eid) + ".pem")));
    }

    fs::path root_;
    std::unique_ptr<http::server> server_;
    std::optional<http::client> client_;
    std::mutex m_;
    std::map<std::string, std::string> bodies_;
};

TEST_F(crl_refresh_test,
       when_a_distribution_point_serves_a_good_crl_then_it_is_stored_and_applies) {
    auto crl = sign_crl(root_ / "pki", {euicc()});
    serve("/eum.crl", std::string(crl.der().begin(), crl.der().end()));
    std::vector<std::string> urls{url("/eum.crl")};
    auto r = refresh_crls(root_ / "pki", urls, *client_, t0);
    EXPECT_EQ(r.fetched, 1u);
    EXPECT_EQ(r.stored, 1u);
    EXPECT_EQ(r.failed, 0u);
    EXPECT_TRUE(r.load_error.empty()) << r.load_error;
    // The EUM's CRL and the CI's own ci.crl.pem.
    ASSERT_EQ(r.crls.size(), 2u);

    auto leaf = euicc();
    std::vector<crypto::certificate> inter{
        *crypto::certificate::from_pem(read(root_ / "pki" / "nist" / "eum.pem"))};
    std::vector<crypto::certificate> anchors{
        *crypto::certificate::from_pem(read(root_ / "pki" / "nist" / "ci.pem"))};
    auto v = crypto::validate_chain(leaf, inter, anchors, r.crls, t0 + hours(1),
                                    crypto::cert_role::euicc);
    ASSERT_FALSE(v.has_value());
    EXPECT_EQ(v.error().code, crypto::chain_errc::revoked);
}

TEST_F(crl_refresh_test,
       when_distribution_points_fail_then_failures_are_counted_and_stored_crls_stay) {
    auto good = sign_crl(root_ / "pki", {euicc()});
    ASSERT_TRUE(pki::add_crl(root_ / "pki", good, t0).has_value());
    serve("/junk", "this is not a CRL");
    serve("/foreign.crl", sign_crl(root_ / "other", {}).pem());
    std::vector<std::string> urls{url("/missing"), url("/junk"), url("/foreign.crl"),
                                  "http://127.0.0.1:1/unreachable"};
    auto r = refresh_crls(root_ / "pki", urls, *client_, t0);
    EXPECT_EQ(r.stored, 0u);
    EXPECT_EQ(r.failed, 4u);
    ASSERT_EQ(r.errors.size(), 4u);
    EXPECT_NE(r.errors[0].find("404"), std::string::npos) << r.errors[0];
    EXPECT_NE(r.errors[2].find("signature does not verify"), std::string::npos) << r.errors[2];
    // The good CRL stored before is still in force.
    ASSERT_EQ(r.crls.size(), 2u);
    bool revoked = false;
    for (const auto& c : r.crls) {
        revoked = revoked || c.lists(euicc().serial());
    }
    EXPECT_TRUE(revoked);
}

} // namespace
} // namespace esimguard::defense
