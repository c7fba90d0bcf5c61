// The LPA against the real SM-DP+ over real HTTPS on loopback, with the real
// simulated eUICC in process: a whole download with and without a
// confirmation code, a wrong code refused with its SGP.22 status and the
// session cancelled, a TLS chain from an untrusted CI refused.

#include "esimguard/apdu/es10_client.hpp"
#include "esimguard/apdu/transports.hpp"
#include "esimguard/asn1/iccid.hpp"
#include "esimguard/euicc/euicc.hpp"
#include "esimguard/http/metrics.hpp"
#include "esimguard/http/server.hpp"
#include "esimguard/lpa/es9p_client.hpp"
#include "esimguard/lpa/lpa.hpp"
#include "esimguard/pki/test_pki.hpp"
#include "esimguard/rsp/activation_code.hpp"
#include "esimguard/rsp/saip.hpp"
#include "esimguard/smdp/config.hpp"
#include "esimguard/smdp/routes.hpp"
#include "esimguard/smdp/service.hpp"
#include "esimguard/store/sqlite_store.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <unistd.h>

namespace esimguard {
namespace {

namespace fs = std::filesystem;

const std::string eid = "89049032123451234512345678901235";

/// A temp dir with a test PKI, an SM-DP+ on 127.0.0.1:<ephemeral> and one
/// simulated eUICC.
struct loopback {
    fs::path dir;
    std::unique_ptr<store::store> db;
    std::shared_ptr<http::metrics_registry> metrics = std::make_shared<http::metrics_registry>();
    std::unique_ptr<http::server> server;
    std::atomic<smdp::smdp_service*> slot{nullptr};
    std::unique_ptr<smdp::smdp_service> service;
    std::string address;
    std::unique_ptr<euicc::euicc> chip;
    std::unique_ptr<apdu::card> card;
    std::unique_ptr<apdu::transport> link;
    std::unique_ptr<apdu::es10_client> es10;

    loopback() {
        static std::atomic<int> n{0};
        dir = fs::temp_directory_path() /
              ("lpa-integration-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
        fs::remove_all(dir);
        fs::create_directories(dir);
        const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
        pki::test_pki_options o;
        o.dir = dir / "pki";
        o.curves = pki::curve_set::nist;
        o.now = now;
        EXPECT_TRUE(pki::init_test_pki(o).has_value());
        EXPECT_TRUE(pki::issue_euicc(dir / "pki", eid, crypto::curve::nist_p256, now).has_value());

        store::sqlite_config sc;
        sc.path = (dir / "esimguard.db").string();
        db = std::move(store::create_sqlite_store(sc).value());

        const fs::path curve_dir = dir / "pki" / "nist";
        http::server_config hc;
        hc.bind_address = "127.0.0.1";
        hc.port = 0;
        hc.certificate_chain_file = curve_dir / "dptls-chain.pem";
        hc.private_key_file = curve_dir / "dptls.key.pem";
        hc.worker_threads = 2;
        hc.metrics = metrics;
        server = std::make_unique<http::server>(hc);
        for (std::string_view fn : smdp::es9p_functions) {
            server->add_route("POST", fmt::format("/gsma/rsp2/es9plus/{}", fn),
                              [this, fn](const http::request& req) {
                                  auto* svc = slot.load();
                                  return svc ? smdp::handle_es9p_request(*svc, fn, req)
                                             : http::response::with_body(503, "starting\n");
                              });
        }
        EXPECT_TRUE(server->start().has_value());
        address = fmt::format("localhost:{}", server->port());

        auto material = smdp::load_pki_material(dir / "pki").value();
        smdp::smdp_config config;
        config.addresses = {address};
        config.credentials = std::move(material.credentials);
        config.trusted_cis = std::move(material.trusted_cis);
        config.crls = std::move(material.crls);
        config.metrics = metrics;
        service = std::move(smdp::create_smdp_service(std::move(config), *db).value());
        slot.store(service.get());

        smdp::operator_spec op;
        op.id = "op";
        op.display_name = "Operator";
        op.bearer_token = "0123456789abcdef0123456789abcdef";
        EXPECT_TRUE(service->add_operator(op).has_value());

        chip = std::move(
            euicc::create_euicc(
                euicc::load_euicc_from_pki(dir / "pki", crypto::curve::nist_p256, eid).value(),
                dir / "euicc.json")
                .value());
        card = euicc::create_euicc_card(*chip);
        link = apdu::create_card_transport(*card);
        es10 = std::make_unique<apdu::es10_client>(*link);
    }

    ~loopback() {
        es10.reset();
        if (server) {
            server->stop();
        }
        std::error_code ec;
        fs::remove_all(dir, ec);
    }

    /// An order for a fresh profile; returns its activation code.
    std::string order(const std::string& iccid, std::optional<std::string> cc) {
        rsp::profile_package_params params;
        params.iccid = asn1::iccid_value::parse(iccid).value();
        params.imsi = "001010000000023";
        params.profile_type = "test";
        auto der = rsp::make_profile_package(params).value();
        smdp::profile_package_info info;
        info.service_provider_name = "esimguard";
        info.profile_name = "Integration";
        auto profile = service->add_profile_package("op", der, info).value();
        smdp::admin_order_request req;
        req.operator_id = "op";
        req.iccid = profile.iccid;
        if (cc) {
            req.confirmation_code = *cc;
        }
        auto o = service->admin_create_order(req).value();
        return rsp::format_activation_code(o.activation_code);
    }

    std::unique_ptr<lpa::es9p_client> client(bool trust_ci = true) {
        lpa::https_es9p_config hc;
        if (trust_ci) {
            hc.trusted_ca_files = {dir / "pki" / "nist" / "ci.der"};
        } else {
            // A CA that did not issue the DPtls chain.
            hc.trusted_ca_files = {dir / "pki" / "nist" / "euicc" / (eid + ".der")};
        }
        return std::move(lpa::create_https_es9p_client(hc).value());
    }
};

TEST(integration_lpa, when_downloading_without_confirmation_code_then_profile_is_installed) {
    loopback lb;
    const auto ac = lb.order("8949449999999990031", std::nullopt);
    auto es9p = lb.client();
    lpa::lpa l(*lb.es10, *es9p);
    auto req = lpa::download_request::from_activation_code(ac).value();

    auto r = l.download_profile(req);

    ASSERT_TRUE(r.has_value()) << lpa::describe(r.error());
    EXPECT_TRUE(r->notification_sent);
    ASSERT_EQ(lb.chip->profiles().size(), 1u);
    EXPECT_EQ(lb.chip->profiles()[0].iccid, "8949449999999990031");
    EXPECT_TRUE(lb.chip->notifications().empty());
}

TEST(integration_lpa, when_downloading_with_confirmation_code_then_the_code_is_asked_and_works) {
    loopback lb;
    const auto ac = lb.order("8949449999999990049", "31415926");
    auto es9p = lb.client();
    lpa::lpa l(*lb.es10, *es9p);
    int asked = 0;
    lpa::download_callbacks cb;
    cb.confirmation_code = [&]() -> std::optional<std::string> {
        ++asked;
        return "31415926";
    };

    auto r = l.download_profile(lpa::download_request::from_activation_code(ac).value(), cb);

    ASSERT_TRUE(r.has_value()) << lpa::describe(r.error());
    EXPECT_EQ(asked, 1);
    ASSERT_EQ(lb.chip->profiles().size(), 1u);
}

TEST(integration_lpa, when_the_confirmation_code_is_wrong_then_8_2_7_is_reported_and_cancelled) {
    loopback lb;
    const auto ac = lb.order("8949449999999990056", "31415926");
    auto es9p = lb.client();
    lpa::lpa l(*lb.es10, *es9p);
    auto req = lpa::download_request::from_activation_code(ac).value();
    req.confirmation_code = "00000000";

    auto r = l.download_profile(req);

    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, lpa::errc::server_refused);
    ASSERT_TRUE(r.error().server_status.has_value());
    EXPECT_EQ(r.error().server_status->subject_code, "8.2.7");
    EXPECT_FALSE(r.error().server_status->message.empty());
    EXPECT_TRUE(r.error().cancelled_with.has_value());
    EXPECT_TRUE(lb.chip->profiles().empty());
}

TEST(integration_lpa, when_the_server_chain_is_not_from_a_trusted_ci_then_nothing_is_sent) {
    loopback lb;
    const auto ac = lb.order("8949449999999990064", std::nullopt);
    auto es9p = lb.client(false);
    lpa::lpa l(*lb.es10, *es9p);

    auto r = l.download_profile(lpa::download_request::from_activation_code(ac).value());

    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, lpa::errc::server_transport);
    EXPECT_TRUE(lb.chip->profiles().empty());
}

} // namespace
} // namespace esimguard
