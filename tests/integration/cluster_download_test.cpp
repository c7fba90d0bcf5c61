// Three SM-DP+ nodes on one PostgreSQL database (issue 6): each node has its
// own store connections, service and HTTPS server on loopback, and the LPA's
// calls go to the nodes in turn as a load balancer would send them. A
// session started on one node finishes on another; 100 devices racing for
// one matching ID across the nodes get exactly one profile installed; a node
// killed mid-session loses no order (the device retries on another node).
// Run under scripts/pg-test-server (ctest does), which passes the server's
// URL in ESIMGUARD_TEST_PG_URL.

#include "esimguard/apdu/es10_client.hpp"
#include "esimguard/apdu/transports.hpp"
#include "esimguard/asn1/iccid.hpp"
#include "esimguard/euicc/euicc.hpp"
#include "esimguard/http/metrics.hpp"
#include "esimguard/http/server.hpp"
#include "esimguard/lpa/es9p_client.hpp"
#include "esimguard/lpa/lpa.hpp"
#include "esimguard/pki/eid.hpp"
#include "esimguard/pki/test_pki.hpp"
#include "esimguard/rsp/activation_code.hpp"
#include "esimguard/rsp/saip.hpp"
#include "esimguard/smdp/config.hpp"
#include "esimguard/smdp/routes.hpp"
#include "esimguard/smdp/service.hpp"
#include "esimguard/store/postgres_store.hpp"
#include "esimguard/store/store.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <thread>
#include <unistd.h>

namespace esimguard {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr int node_count = 3;

std::string pg_url() {
    const char* url = std::getenv("ESIMGUARD_TEST_PG_URL");
    return url ? url : "";
}

std::string eid_of(int n) {
    return pki::eid_with_check_digits(fmt::format("89049032123451234512{:010d}", n)).value();
}

/// One SM-DP+ node: its own connections to the shared database, its own
/// service and HTTPS server. Stopping it is what killing the process does to
/// the other nodes and the devices: its port stops answering.
struct node {
    std::unique_ptr<store::store> db;
    std::shared_ptr<http::metrics_registry> metrics = std::make_shared<http::metrics_registry>();
    std::unique_ptr<http::server> server;
    std::atomic<smdp::smdp_service*> slot{nullptr};
    std::unique_ptr<smdp::smdp_service> service;
    std::atomic<int> calls{0};
    std::string address;

    void kill() {
        server->stop();
        slot.store(nullptr);
    }
};

/// A temp dir with one test PKI, a fresh schema and three nodes.
struct cluster {
    fs::path dir;
    store::postgres_config pg;
    std::array<std::unique_ptr<node>, node_count> nodes;
    std::vector<std::string> addresses;

    cluster() {
        static std::atomic<int> n{0};
        dir = fs::temp_directory_path() /
              ("cluster-it-" + std::to_string(::getpid()) + "-" + std::to_string(n));
        fs::remove_all(dir);
        fs::create_directories(dir);
        pg.url = pg_url();
        EXPECT_FALSE(pg.url.empty()) << "run under scripts/pg-test-server run -- <test>";
        pg.schema = fmt::format("c{}_{}", ::getpid(), n++);
        pg.connections = 8;
        const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
        pki::test_pki_options o;
        o.dir = dir / "pki";
        o.curves = pki::curve_set::nist;
        o.now = now;
        EXPECT_TRUE(pki::init_test_pki(o).has_value());

        const fs::path curve_dir = dir / "pki" / "nist";
        for (auto& nd : nodes) {
            nd = std::make_unique<node>();
            auto s = store::create_postgres_store(pg);
            EXPECT_TRUE(s.has_value()) << (s ? "" : s.error().message);
            if (!s) {
                return;
            }
            nd->db = std::move(*s);
            http::server_config hc;
            hc.bind_address = "127.0.0.1";
            hc.port = 0;
            hc.certificate_chain_file = curve_dir / "dptls-chain.pem";
            hc.private_key_file = curve_dir / "dptls.key.pem";
            hc.worker_threads = 4;
            hc.metrics = nd->metrics;
            nd->server = std::make_unique<http::server>(hc);
            node* self = nd.get();
            for (std::string_view fn : smdp::es9p_functions) {
                nd->server->add_route("POST", fmt::format("/gsma/rsp2/es9plus/{}", fn),
                                      [self, fn](const http::request& req) {
                                          ++self->calls;
                                          auto* svc = self->slot.load();
                                          return svc ? smdp::handle_es9p_request(*svc, fn, req)
                                                     : http::response::with_body(503, "down\n");
                                      });
            }
            EXPECT_TRUE(nd->server->start().has_value());
            nd->address = fmt::format("localhost:{}", nd->server->port());
            addresses.push_back(nd->address);
        }
        // Every node serves the same SM-DP+: it accepts any node's address,
        // and the activation codes name the first.
        for (auto& nd : nodes) {
            auto material = smdp::load_pki_material(dir / "pki").value();
            smdp::smdp_config config;
            config.addresses = addresses;
            config.credentials = std::move(material.credentials);
            config.trusted_cis = std::move(material.trusted_cis);
            config.crls = std::move(material.crls);
            config.metrics = nd->metrics;
            nd->service = std::move(smdp::create_smdp_service(std::move(config), *nd->db).value());
            nd->slot.store(nd->service.get());
        }
        smdp::operator_spec op;
        op.id = "op";
        op.display_name = "Operator";
        op.bearer_token = "0123456789abcdef0123456789abcdef";
        EXPECT_TRUE(nodes[0]->service->add_operator(op).has_value());
    }

    ~cluster() {
        for (auto& nd : nodes) {
            if (nd && nd->server) {
                nd->server->stop();
            }
        }
        std::error_code ec;
        fs::remove_all(dir, ec);
    }

    /// An order made on node `on` for a fresh profile; its activation code.
    std::string order(int on, const std::string& iccid) {
        rsp::profile_package_params params;
        params.iccid = asn1::iccid_value::parse(iccid).value();
        params.imsi = "001010000000023";
        params.profile_type = "test";
        auto der = rsp::make_profile_package(params).value();
        smdp::profile_package_info info;
        info.profile_name = "Cluster";
        auto& svc = *nodes[static_cast<std::size_t>(on)]->service;
        auto profile = svc.add_profile_package("op", der, info).value();
        smdp::admin_order_request req;
        req.operator_id = "op";
        req.iccid = profile.iccid;
        auto o = svc.admin_create_order(req).value();
        return rsp::format_activation_code(o.activation_code);
    }

    std::optional<store::order_record> find_order(int on, const std::string& iccid) {
        auto o = nodes[static_cast<std::size_t>(on)]->db->find_order_by_iccid(iccid);
        if (!o) {
            return std::nullopt;
        }
        return *o;
    }
};

/// A simulated eUICC with its ES10 client.
struct device {
    std::unique_ptr<euicc::euicc> chip;
    std::unique_ptr<apdu::card> card;
    std::unique_ptr<apdu::transport> link;
    std::unique_ptr<apdu::es10_client> es10;

    device(const fs::path& dir, const std::string& eid) {
        const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
        EXPECT_TRUE(pki::issue_euicc(dir / "pki", eid, crypto::curve::nist_p256, now).has_value());
        chip = std::move(
            euicc::create_euicc(
                euicc::load_euicc_from_pki(dir / "pki", crypto::curve::nist_p256, eid).value(),
                dir / ("euicc-" + eid + ".json"))
                .value());
        card = euicc::create_euicc_card(*chip);
        link = apdu::create_card_transport(*card);
        es10 = std::make_unique<apdu::es10_client>(*link);
    }
};

/// The load balancer in front of the nodes, as the LPA sees it: call i goes
/// to node (start + i) mod 3; a node that does not answer (transport error)
/// is skipped and the call goes to the next one, as a balancer's health
/// check would do. Records which node served each call.
class round_robin_es9p final : public lpa::es9p_client {
public:
    round_robin_es9p(std::vector<std::string> addresses, const fs::path& ci, int start = 0)
        : addresses_(std::move(addresses)), next_(start) {
        lpa::https_es9p_config hc;
        hc.trusted_ca_files = {ci};
        hc.request_timeout = 10s;
        inner_ = std::move(lpa::create_https_es9p_client(hc).value());
    }

    std::vector<int> served;

    lpa::es9p_result<rsp::initiate_authentication_response>
    initiate_authentication(std::string_view,
                            const rsp::initiate_authentication_request& r) override {
        return spread([&](std::string_view a) { return inner_->initiate_authentication(a, r); });
    }
    lpa::es9p_result<rsp::authenticate_client_response>
    authenticate_client(std::string_view, const rsp::authenticate_client_request& r) override {
        return spread([&](std::string_view a) { return inner_->authenticate_client(a, r); });
    }
    lpa::es9p_result<rsp::get_bound_profile_package_response>
    get_bound_profile_package(std::string_view,
                              const rsp::get_bound_profile_package_request& r) override {
        return spread([&](std::string_view a) { return inner_->get_bound_profile_package(a, r); });
    }
    lpa::es9p_result<void> handle_notification(std::string_view,
                                               const rsp::handle_notification_request& r) override {
        return spread([&](std::string_view a) { return inner_->handle_notification(a, r); });
    }
    lpa::es9p_result<void> cancel_session(std::string_view,
                                          const rsp::cancel_session_request& r) override {
        return spread([&](std::string_view a) { return inner_->cancel_session(a, r); });
    }

private:
    template <class F>
    auto spread(F&& call) -> decltype(call(std::string_view{})) {
        decltype(call(std::string_view{})) r = std::unexpected(lpa::es9p_error{});
        for (std::size_t tried = 0; tried < addresses_.size(); ++tried) {
            int i = next_++ % static_cast<int>(addresses_.size());
            r = call(addresses_[static_cast<std::size_t>(i)]);
            if (r || r.error().what != lpa::es9p_error::kind::transport) {
                served.push_back(i);
                return r;
            }
        }
        return r;
    }

    std::vector<std::string> addresses_;
    int next_;
    std::unique_ptr<lpa::es9p_client> inner_;
};

TEST(cluster, when_a_session_is_spread_over_three_nodes_then_the_download_completes) {
    cluster c;
    const std::string iccid = "8949449999999990031";
    const auto ac = c.order(0, iccid);
    device d(c.dir, eid_of(1));
    round_robin_es9p es9p(c.addresses, c.dir / "pki" / "nist" / "ci.der");
    lpa::lpa l(*d.es10, es9p);

    auto r = l.download_profile(lpa::download_request::from_activation_code(ac).value());

    ASSERT_TRUE(r.has_value()) << lpa::describe(r.error());
    EXPECT_TRUE(r->notification_sent);
    ASSERT_EQ(d.chip->profiles().size(), 1u);
    EXPECT_EQ(d.chip->profiles()[0].iccid, iccid);
    // initiateAuthentication, authenticateClient, getBoundProfilePackage and
    // the install notification: node 0, 1, 2, 0.
    ASSERT_GE(es9p.served.size(), 4u);
    EXPECT_EQ(es9p.served[0], 0);
    EXPECT_EQ(es9p.served[1], 1);
    EXPECT_EQ(es9p.served[2], 2);
    for (auto& nd : c.nodes) {
        EXPECT_GE(nd->calls.load(), 1);
    }
    auto o = c.find_order(2, iccid);
    ASSERT_TRUE(o.has_value());
    EXPECT_EQ(o->state, store::order_state::installed);
}

TEST(cluster, when_100_devices_race_for_one_matching_id_across_three_nodes_then_one_installs) {
    cluster c;
    const std::string iccid = "8949449999999990049";
    const auto ac = c.order(1, iccid);
    constexpr int devices = 100;
    std::vector<std::unique_ptr<device>> ds;
    for (int i = 0; i < devices; ++i) {
        ds.push_back(std::make_unique<device>(c.dir, eid_of(100 + i)));
    }
    std::atomic<int> installed{0};
    std::atomic<int> refused{0};
    std::barrier start(devices);
    std::vector<std::thread> threads;
    auto begin = std::chrono::steady_clock::now();
    for (int i = 0; i < devices; ++i) {
        threads.emplace_back([&, i] {
            // Each device starts on another node, so all three see the race.
            round_robin_es9p es9p(c.addresses, c.dir / "pki" / "nist" / "ci.der", i);
            lpa::lpa l(*ds[static_cast<std::size_t>(i)]->es10, es9p);
            auto req = lpa::download_request::from_activation_code(ac).value();
            start.arrive_and_wait();
            auto r = l.download_profile(req);
            if (r) {
                ++installed;
            } else {
                ++refused;
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - begin)
                  .count();
    std::printf("[ measure  ] 100 devices racing for one matching ID on 3 nodes: %lld ms\n",
                static_cast<long long>(ms));
    EXPECT_EQ(installed.load(), 1);
    EXPECT_EQ(refused.load(), devices - 1);
    int chips_with_profile = 0;
    for (const auto& d : ds) {
        chips_with_profile += d->chip->profiles().empty() ? 0 : 1;
    }
    EXPECT_EQ(chips_with_profile, 1);
    auto o = c.find_order(0, iccid);
    ASSERT_TRUE(o.has_value());
    EXPECT_EQ(o->state, store::order_state::installed);
}

TEST(cluster, when_a_node_is_killed_mid_session_then_the_device_finishes_on_another) {
    cluster c;
    const std::string iccid = "8949449999999990056";
    const auto ac = c.order(0, iccid);
    device d(c.dir, eid_of(2));
    round_robin_es9p es9p(c.addresses, c.dir / "pki" / "nist" / "ci.der");

    // Kill node 2 once the session is authenticated, just before
    // getBoundProfilePackage would go to it.
    struct killing_es9p final : lpa::es9p_client {
        round_robin_es9p& inner;
        node& victim;
        killing_es9p(round_robin_es9p& i, node& v) : inner(i), victim(v) {}
        lpa::es9p_result<rsp::initiate_authentication_response>
        initiate_authentication(std::string_view a,
                                const rsp::initiate_authentication_request& r) override {
            return inner.initiate_authentication(a, r);
        }
        lpa::es9p_result<rsp::authenticate_client_response>
        authenticate_client(std::string_view a,
                            const rsp::authenticate_client_request& r) override {
            auto out = inner.authenticate_client(a, r);
            victim.kill();
            return out;
        }
        lpa::es9p_result<rsp::get_bound_profile_package_response>
        get_bound_profile_package(std::string_view a,
                                  const rsp::get_bound_profile_package_request& r) override {
            return inner.get_bound_profile_package(a, r);
        }
        lpa::es9p_result<void>
        handle_notification(std::string_view a,
                            const rsp::handle_notification_request& r) override {
            return inner.handle_notification(a, r);
        }
        lpa::es9p_result<void> cancel_session(std::string_view a,
                                              const rsp::cancel_session_request& r) override {
            return inner.cancel_session(a, r);
        }
    } killer(es9p, *c.nodes[2]);
    lpa::lpa l(*d.es10, killer);

    auto r = l.download_profile(lpa::download_request::from_activation_code(ac).value());

    ASSERT_TRUE(r.has_value()) << lpa::describe(r.error());
    ASSERT_EQ(d.chip->profiles().size(), 1u);
    ASSERT_GE(es9p.served.size(), 3u);
    // getBoundProfilePackage was meant for node 2, which was down: node 0 served it.
    EXPECT_EQ(es9p.served[2], 0);
    auto o = c.find_order(1, iccid);
    ASSERT_TRUE(o.has_value());
    EXPECT_EQ(o->state, store::order_state::installed);
}

} // namespace
} // namespace esimguard
