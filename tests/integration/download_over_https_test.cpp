// Profile download over real HTTPS on loopback (issue 3, §5 Tests): the real
// esimguard http::server with the SM-DP+ routes, a temp test PKI and a temp
// SQLite store, the real LPA library and the real simulated eUICC behind the
// in-process card transport. Every case runs on both curves: TLS stays on the
// NIST DPtls chain (OpenSSL 3.0 has no TLS 1.3 signature scheme for brainpool
// keys), while the ES9+ credentials (DPauth, DPpb) and the eUICC follow the
// curve under test.
//
// Covered: whole downloads with and without a confirmation code, installed
// then enabled; every ES9+ refusal of PROTOCOL-NOTES.md a client can provoke,
// with its subject/reason code and a message; cancelSession (postponed,
// endUserRejection); notifications moving the order; a matching ID used twice;
// a bound profile package altered in transit.

#include "esimguard/apdu/es10_client.hpp"
#include "esimguard/apdu/transports.hpp"
#include "esimguard/asn1/bpp.hpp"
#include "esimguard/asn1/download.hpp"
#include "esimguard/asn1/iccid.hpp"
#include "esimguard/crypto/keys.hpp"
#include "esimguard/crypto/random.hpp"
#include "esimguard/crypto/x509.hpp"
#include "esimguard/euicc/euicc.hpp"
#include "esimguard/http/client.hpp"
#include "esimguard/http/metrics.hpp"
#include "esimguard/http/server.hpp"
#include "esimguard/lpa/es9p_client.hpp"
#include "esimguard/lpa/lpa.hpp"
#include "esimguard/pki/eid.hpp"
#include "esimguard/pki/test_pki.hpp"
#include "esimguard/rsp/activation_code.hpp"
#include "esimguard/rsp/es9p.hpp"
#include "esimguard/rsp/saip.hpp"
#include "esimguard/smdp/config.hpp"
#include "esimguard/smdp/routes.hpp"
#include "esimguard/smdp/service.hpp"
#include "esimguard/store/postgres_store.hpp"
#include "esimguard/store/sqlite_store.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <unistd.h>

namespace esimguard {
namespace {

namespace fs = std::filesystem;

std::string read_text(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

bytes read_bytes(const fs::path& p) {
    const std::string s = read_text(p);
    return bytes(s.begin(), s.end());
}

std::string eid_for(int serial) {
    return pki::eid_with_check_digits(fmt::format("{}{:022}", pki::test_eid_prefix, serial))
        .value();
}

/// The device under test, a second device, and a device of a foreign PKI.
const std::string device_eid = eid_for(1);
const std::string other_eid = eid_for(2);
const std::string foreign_eid = eid_for(3);

/// One test PKI (both curves) and one foreign PKI for the whole program:
/// generating them is the slow part.
struct shared_pki {
    fs::path root;
    fs::path dir;
    fs::path foreign_dir;

    static shared_pki& get() {
        static shared_pki p;
        return p;
    }

private:
    shared_pki() {
        root = fs::temp_directory_path() / fmt::format("esimguard-integ-pki-{}", ::getpid());
        fs::remove_all(root);
        dir = root / "pki";
        foreign_dir = root / "foreign";
        const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
        for (const auto& d : {dir, foreign_dir}) {
            pki::test_pki_options o;
            o.dir = d;
            o.curves = pki::curve_set::both;
            o.host = "localhost";
            o.now = now;
            auto made = pki::init_test_pki(o);
            EXPECT_TRUE(made.has_value()) << (made ? "" : made.error().detail);
        }
        for (auto c : {crypto::curve::nist_p256, crypto::curve::brainpool_p256r1}) {
            EXPECT_TRUE(pki::issue_euicc(dir, device_eid, c, now).has_value());
            EXPECT_TRUE(pki::issue_euicc(dir, other_eid, c, now).has_value());
            EXPECT_TRUE(pki::issue_euicc(foreign_dir, foreign_eid, c, now).has_value());
        }
    }
    ~shared_pki() {
        std::error_code ec;
        fs::remove_all(root, ec);
    }
};

/// Wraps the LPA's real ES9+ client: records what the SM-DP+ answered and
/// lets a test alter requests and responses in transit.
class intercepting_es9p final : public lpa::es9p_client {
public:
    explicit intercepting_es9p(lpa::es9p_client& inner) : inner_(inner) {}

    std::function<void(rsp::initiate_authentication_request&)> on_initiate;
    std::function<void(rsp::authenticate_client_request&)> on_authenticate;
    std::function<void(rsp::get_bound_profile_package_request&)> on_get_bpp;
    std::function<void(rsp::get_bound_profile_package_response&)> on_bpp;

    std::optional<rsp::initiate_authentication_response> last_initiate;
    std::optional<rsp::authenticate_client_response> last_authenticate;
    std::vector<lpa::es9p_result<void>> cancel_results;
    int notifications_sent = 0;

    lpa::es9p_result<rsp::initiate_authentication_response>
    initiate_authentication(std::string_view address,
                            const rsp::initiate_authentication_request& request) override {
        auto r = request;
        if (on_initiate) {
            on_initiate(r);
        }
        auto out = inner_.initiate_authentication(address, r);
        if (out) {
            last_initiate = *out;
        }
        return out;
    }
    lpa::es9p_result<rsp::authenticate_client_response>
    authenticate_client(std::string_view address,
                        const rsp::authenticate_client_request& request) override {
        auto r = request;
        if (on_authenticate) {
            on_authenticate(r);
        }
        auto out = inner_.authenticate_client(address, r);
        if (out) {
            last_authenticate = *out;
        }
        return out;
    }
    lpa::es9p_result<rsp::get_bound_profile_package_response>
    get_bound_profile_package(std::string_view address,
                              const rsp::get_bound_profile_package_request& request) override {
        auto r = request;
        if (on_get_bpp) {
            on_get_bpp(r);
        }
        auto out = inner_.get_bound_profile_package(address, r);
        if (out && on_bpp) {
            on_bpp(*out);
        }
        return out;
    }
    lpa::es9p_result<void> handle_notification(std::string_view address,
                                               const rsp::handle_notification_request& r) override {
        auto out = inner_.handle_notification(address, r);
        if (out) {
            ++notifications_sent;
        }
        return out;
    }
    lpa::es9p_result<void> cancel_session(std::string_view address,
                                          const rsp::cancel_session_request& r) override {
        auto out = inner_.cancel_session(address, r);
        cancel_results.push_back(out);
        return out;
    }

private:
    lpa::es9p_client& inner_;
};

/// A simulated eUICC in this process, reached through the APDU card transport.
struct device {
    std::unique_ptr<euicc::euicc> chip;
    std::unique_ptr<apdu::card> card;
    std::unique_ptr<apdu::transport> link;
    std::unique_ptr<apdu::es10_client> es10;

    device(euicc::euicc_config config, const fs::path& state) {
        auto made = euicc::create_euicc(std::move(config), state);
        if (!made) {
            ADD_FAILURE() << "create_euicc: " << made.error().detail;
            return;
        }
        chip = std::move(*made);
        card = euicc::create_euicc_card(*chip);
        link = apdu::create_card_transport(*card);
        es10 = std::make_unique<apdu::es10_client>(*link);
    }
};

/// Asserts that an LPA operation was refused by the SM-DP+ with this code and a message.
template <typename T>
::testing::AssertionResult refused_with(const lpa::result<T>& r, std::string_view subject,
                                        std::string_view reason) {
    if (r) {
        return ::testing::AssertionFailure() << "succeeded; expected " << subject << "/" << reason;
    }
    const auto& s = r.error().server_status;
    if (r.error().code != lpa::errc::server_refused || !s) {
        return ::testing::AssertionFailure()
               << "not an SM-DP+ refusal: " << lpa::describe(r.error());
    }
    if (s->subject_code != subject || s->reason_code != reason) {
        return ::testing::AssertionFailure()
               << "refused with " << s->subject_code << "/" << s->reason_code << " (" << s->message
               << "); expected " << subject << "/" << reason;
    }
    if (s->message.empty()) {
        return ::testing::AssertionFailure() << "refused without a message";
    }
    return ::testing::AssertionSuccess();
}

/// What an order asks for besides its profile.
struct order_options {
    std::optional<std::string> confirmation_code;
    std::optional<std::string> eid;
    bool release = true;
};

std::string curve_name(const ::testing::TestParamInfo<crypto::curve>& info) {
    return std::string(pki::curve_dir_name(info.param));
}

/// Per test: a temp dir, an SQLite store, the SM-DP+ on 127.0.0.1:<ephemeral>
/// with an injected clock, an operator, and the device's eUICC.
class download_over_https : public ::testing::TestWithParam<crypto::curve> {
protected:
    void SetUp() override {
        static std::atomic<int> n{0};
        dir_ = fs::temp_directory_path() /
               fmt::format("esimguard-integ-dl-{}-{}", ::getpid(), n.fetch_add(1));
        fs::remove_all(dir_);
        fs::create_directories(dir_);
        const auto& shared = shared_pki::get();

#ifdef ESIMGUARD_INTEGRATION_POSTGRES
        // integration_download_pg: the same downloads on PostgreSQL (run under
        // scripts/pg-test-server), each test in a schema named after its dir.
        const char* url = std::getenv("ESIMGUARD_TEST_PG_URL");
        ASSERT_TRUE(url != nullptr && *url) << "run under scripts/pg-test-server run -- <test>";
        store::postgres_config pc;
        pc.url = url;
        pc.schema = dir_.filename().string();
        std::replace(pc.schema.begin(), pc.schema.end(), '-', '_');
        auto opened = store::create_postgres_store(pc);
#else
        store::sqlite_config sc;
        sc.path = (dir_ / "esimguard.db").string();
        auto opened = store::create_sqlite_store(sc);
#endif
        ASSERT_TRUE(opened.has_value()) << opened.error().message;
        db_ = std::move(*opened);

        const fs::path tls_dir = shared.dir / "nist";
        http::server_config hc;
        hc.bind_address = "127.0.0.1";
        hc.port = 0;
        hc.certificate_chain_file = tls_dir / "dptls-chain.pem";
        hc.private_key_file = tls_dir / "dptls.key.pem";
        hc.worker_threads = 2;
        hc.metrics = metrics_;
        server_ = std::make_unique<http::server>(hc);
        for (std::string_view fn : smdp::es9p_functions) {
            server_->add_route("POST", fmt::format("/gsma/rsp2/es9plus/{}", fn),
                               [this, fn](const http::request& req) {
                                   auto* svc = slot_.load();
                                   return svc ? smdp::handle_es9p_request(*svc, fn, req)
                                              : http::response::with_body(503, "starting\n");
                               });
        }
        auto started = server_->start();
        ASSERT_TRUE(started.has_value()) << started.error().detail;
        address_ = fmt::format("localhost:{}", server_->port());

        auto material = smdp::load_pki_material(shared.dir);
        ASSERT_TRUE(material.has_value()) << material.error();
        smdp::smdp_config config;
        config.addresses = {address_};
        config.credentials = std::move(material->credentials);
        config.trusted_cis = std::move(material->trusted_cis);
        config.crls = std::move(material->crls);
        config.metrics = metrics_;
        config.clock = [this] { return now_.load(); };
        auto svc = smdp::create_smdp_service(std::move(config), *db_);
        ASSERT_TRUE(svc.has_value()) << svc.error();
        service_ = std::move(*svc);
        slot_.store(service_.get());

        smdp::operator_spec op;
        op.id = "op";
        op.display_name = "Operator";
        op.bearer_token = "0123456789abcdef0123456789abcdef";
        ASSERT_TRUE(service_->add_operator(op).has_value());

        lpa::https_es9p_config ec;
        ec.trusted_ca_files = {tls_dir / "ci.der"};
        auto client = lpa::create_https_es9p_client(ec);
        ASSERT_TRUE(client.has_value()) << client.error().detail;
        https_ = std::move(*client);
        es9p_ = std::make_unique<intercepting_es9p>(*https_);

        dev_ = make_device(shared.dir, device_eid, "device.json");
        ASSERT_TRUE(dev_ && dev_->chip);
    }

    void TearDown() override {
        dev_.reset();
        if (server_) {
            server_->stop();
        }
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }

    crypto::curve curve() const {
        return GetParam();
    }

    std::unique_ptr<device> make_device(const fs::path& pki_dir, const std::string& eid,
                                        const std::string& state) {
        auto config = euicc::load_euicc_from_pki(pki_dir, curve(), eid);
        EXPECT_TRUE(config.has_value()) << (config ? "" : config.error().detail);
        if (!config) {
            return nullptr;
        }
        return make_device(std::move(*config), state);
    }
    std::unique_ptr<device> make_device(euicc::euicc_config config, const std::string& state) {
        return std::make_unique<device>(std::move(config), dir_ / state);
    }

    /// An order for a fresh profile with this ICCID.
    smdp::admin_order order(const std::string& iccid, order_options o = {}) {
        rsp::profile_package_params params;
        params.iccid = asn1::iccid_value::parse(iccid).value();
        params.imsi = "001010000000023";
        params.profile_type = "test";
        auto der = rsp::make_profile_package(params).value();
        smdp::profile_package_info info;
        info.service_provider_name = "esimguard";
        info.profile_name = "Integration";
        auto profile = service_->add_profile_package("op", der, info);
        EXPECT_TRUE(profile.has_value());
        smdp::admin_order_request req;
        req.operator_id = "op";
        req.iccid = iccid;
        req.confirmation_code = o.confirmation_code;
        req.eid = o.eid;
        req.release = o.release;
        auto made = service_->admin_create_order(req);
        EXPECT_TRUE(made.has_value()) << (made ? "" : rsp::to_string(made.error()));
        return made.value();
    }

    /// One download through the LPA of `d` (the test's device by default).
    lpa::result<lpa::download_result> download(const smdp::admin_order& o,
                                               std::optional<std::string> code = std::nullopt,
                                               const lpa::download_callbacks& callbacks = {},
                                               device* d = nullptr) {
        device& target = d ? *d : *dev_;
        lpa::lpa assistant(*target.es10, *es9p_);
        auto req = lpa::download_request::from_activation_code(
                       rsp::format_activation_code(o.activation_code))
                       .value();
        req.confirmation_code = std::move(code);
        return assistant.download_profile(req, callbacks);
    }

    store::order_record order_record(const smdp::admin_order& o) {
        auto r = db_->find_order(o.order.order_id);
        EXPECT_TRUE(r.has_value());
        return r.value_or(store::order_record{});
    }

    bool history_has(const smdp::admin_order& o, std::string_view event) {
        auto events = db_->list_order_events(o.order.order_id);
        if (!events) {
            return false;
        }
        for (const auto& e : *events) {
            if (e.name == event) {
                return true;
            }
        }
        return false;
    }

    /// One raw ES9+ POST, as a client that sets its own headers sends it.
    http::client_response raw_post(std::string_view function, std::string body,
                                   const http::header_list& headers) {
        http::client_config cc;
        cc.trusted_ca_files = {shared_pki::get().dir / "nist" / "ci.der"};
        auto client = http::client::create(cc);
        EXPECT_TRUE(client.has_value());
        auto r = client->post(fmt::format("https://{}/gsma/rsp2/es9plus/{}", address_, function),
                              std::move(body), headers);
        EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().detail);
        return r.value_or(http::client_response{});
    }

    /// The statusCodeData of a Failed answer to a raw POST.
    static std::optional<rsp::status> failure_of(const http::client_response& r) {
        auto parsed = rsp::parse_header_only_response(r.body);
        if (parsed || !parsed.error().reported_by_peer) {
            return std::nullopt;
        }
        return parsed.error().detail;
    }

    /// Installs `o` on the device and checks the order is `installed`.
    void install(const smdp::admin_order& o, std::optional<std::string> code = std::nullopt) {
        auto r = download(o, code);
        ASSERT_TRUE(r.has_value()) << lpa::describe(r.error());
        ASSERT_TRUE(r->notification_sent);
        ASSERT_EQ(order_record(o).state, store::order_state::installed);
    }

    /// Enables the profile and delivers its notification; the order follows.
    void enable_and_notify(const std::string& iccid) {
        lpa::lpa assistant(*dev_->es10, *es9p_);
        auto enabled = assistant.enable_profile(lpa::parse_profile_ref(iccid).value());
        ASSERT_TRUE(enabled.has_value()) << lpa::describe(enabled.error());
        auto sent = assistant.process_notifications();
        ASSERT_TRUE(sent.has_value()) << lpa::describe(sent.error());
        ASSERT_EQ(sent->size(), 1u);
        EXPECT_TRUE((*sent)[0].sent);
        EXPECT_TRUE((*sent)[0].removed);
    }

    /// The whole path with or without a confirmation code.
    void download_install_and_enable(const std::optional<std::string>& code) {
        const std::string iccid = "8949449999999990031";
        auto o = order(iccid, {.confirmation_code = code, .eid = {}, .release = true});
        EXPECT_EQ(o.activation_code.confirmation_code_required, code.has_value());

        auto r = download(o, code);

        ASSERT_TRUE(r.has_value()) << lpa::describe(r.error());
        EXPECT_TRUE(r->notification_sent);
        ASSERT_EQ(dev_->chip->profiles().size(), 1u);
        EXPECT_EQ(dev_->chip->profiles()[0].iccid, iccid);
        EXPECT_FALSE(dev_->chip->profiles()[0].enabled);
        EXPECT_TRUE(dev_->chip->notifications().empty());
        EXPECT_EQ(order_record(o).state, store::order_state::installed);
        // The ES9+ signing credentials follow the eUICC's curve, not TLS's.
        ASSERT_TRUE(es9p_->last_initiate && es9p_->last_authenticate);
        EXPECT_EQ(crypto::certificate::from_der(es9p_->last_initiate->server_certificate)
                      .value()
                      .key_curve(),
                  curve());
        EXPECT_EQ(crypto::certificate::from_der(es9p_->last_authenticate->smdp_certificate)
                      .value()
                      .key_curve(),
                  curve());

        enable_and_notify(iccid);
        EXPECT_TRUE(dev_->chip->profiles()[0].enabled);
        EXPECT_EQ(order_record(o).state, store::order_state::enabled);
    }

    fs::path dir_;
    std::unique_ptr<store::store> db_;
    std::shared_ptr<http::metrics_registry> metrics_ = std::make_shared<http::metrics_registry>();
    std::unique_ptr<http::server> server_;
    std::atomic<smdp::smdp_service*> slot_{nullptr};
    std::unique_ptr<smdp::smdp_service> service_;
    std::atomic<store::time_point> now_{std::chrono::system_clock::now()};
    std::string address_;
    std::unique_ptr<lpa::es9p_client> https_;
    std::unique_ptr<intercepting_es9p> es9p_;
    std::unique_ptr<device> dev_;
};

const http::header_list es9p_headers{{"Content-Type", "application/json"},
                                     {"X-Admin-Protocol", "gsma/rsp/v2.2.2"},
                                     {"User-Agent", "gsma-rsp-lpad"}};

// --- whole downloads -----------------------------------------------------------

TEST_P(
    download_over_https,
    when_the_order_has_no_confirmation_code_then_the_profile_installs_and_enable_moves_the_order_to_enabled) {
    download_install_and_enable(std::nullopt);
}

TEST_P(
    download_over_https,
    when_the_order_has_a_confirmation_code_then_the_right_code_installs_and_enable_moves_the_order_to_enabled) {
    download_install_and_enable("31415926");
}

TEST_P(download_over_https,
       when_the_profile_is_disabled_and_deleted_then_each_notification_moves_the_order) {
    const std::string iccid = "8949449999999990049";
    auto o = order(iccid);
    install(o);
    enable_and_notify(iccid);
    ASSERT_EQ(order_record(o).state, store::order_state::enabled);
    lpa::lpa assistant(*dev_->es10, *es9p_);
    const auto ref = lpa::parse_profile_ref(iccid).value();

    ASSERT_TRUE(assistant.disable_profile(ref).has_value());
    auto sent = assistant.process_notifications();
    ASSERT_TRUE(sent.has_value());
    ASSERT_EQ(sent->size(), 1u);
    EXPECT_TRUE((*sent)[0].sent);
    EXPECT_EQ(order_record(o).state, store::order_state::disabled);

    ASSERT_TRUE(assistant.delete_profile(ref).has_value());
    sent = assistant.process_notifications();
    ASSERT_TRUE(sent.has_value());
    ASSERT_EQ(sent->size(), 1u);
    EXPECT_TRUE((*sent)[0].sent);
    EXPECT_EQ(order_record(o).state, store::order_state::deleted);
    EXPECT_TRUE(dev_->chip->profiles().empty());
}

// --- refusals of the HTTP binding (raw posts) ----------------------------------

TEST_P(download_over_https, when_the_content_type_is_not_json_then_1_2_1_2_1_is_answered) {
    auto r = raw_post("initiateAuthentication", fmt::format(R"({{"smdpAddress":"{}"}})", address_),
                      {{"Content-Type", "text/plain"},
                       {"X-Admin-Protocol", "gsma/rsp/v2.2.2"},
                       {"User-Agent", "gsma-rsp-lpad"}});
    EXPECT_EQ(r.status, 200);
    auto s = failure_of(r);
    ASSERT_TRUE(s.has_value()) << r.body;
    EXPECT_EQ(s->subject_code, "1.2.1");
    EXPECT_EQ(s->reason_code, "2.1");
    EXPECT_FALSE(s->message.empty());
}

TEST_P(download_over_https, when_the_admin_protocol_is_unsupported_then_1_2_2_2_1_is_answered) {
    auto r = raw_post("initiateAuthentication", fmt::format(R"({{"smdpAddress":"{}"}})", address_),
                      {{"Content-Type", "application/json"},
                       {"X-Admin-Protocol", "gsma/rsp/v1.0.0"},
                       {"User-Agent", "gsma-rsp-lpad"}});
    EXPECT_EQ(r.status, 200);
    auto s = failure_of(r);
    ASSERT_TRUE(s.has_value()) << r.body;
    EXPECT_EQ(s->subject_code, "1.2.2");
    EXPECT_EQ(s->reason_code, "2.1");
    EXPECT_FALSE(s->message.empty());
}

TEST_P(download_over_https, when_a_mandatory_field_is_missing_then_1_3_1_2_2_is_answered) {
    auto r = raw_post("initiateAuthentication", fmt::format(R"({{"smdpAddress":"{}"}})", address_),
                      es9p_headers);
    EXPECT_EQ(r.status, 200);
    auto s = failure_of(r);
    ASSERT_TRUE(s.has_value()) << r.body;
    EXPECT_EQ(s->subject_code, "1.3.1");
    EXPECT_EQ(s->reason_code, "2.2");
    EXPECT_FALSE(s->message.empty());
}

// --- refusals of initiateAuthentication and authenticateClient -------------------

TEST_P(download_over_https, when_the_smdp_address_is_wrong_then_8_8_1_3_8_is_answered) {
    auto o = order("8949449999999990056");
    es9p_->on_initiate = [](rsp::initiate_authentication_request& r) {
        r.smdp_address = "other-smdp.example.com";
    };
    EXPECT_TRUE(refused_with(download(o), "8.8.1", "3.8"));
    EXPECT_EQ(order_record(o).download_attempts, 0);
}

TEST_P(download_over_https, when_the_transaction_id_is_unknown_then_8_10_1_3_9_is_answered) {
    auto o = order("8949449999999990064");
    es9p_->on_authenticate = [](rsp::authenticate_client_request& r) {
        r.transaction_id = crypto::random_bytes(16).value();
    };
    EXPECT_TRUE(refused_with(download(o), "8.10.1", "3.9"));
    EXPECT_EQ(order_record(o).state, store::order_state::released);
}

TEST_P(download_over_https, when_the_matching_id_is_unknown_then_8_2_6_3_8_is_answered) {
    lpa::lpa assistant(*dev_->es10, *es9p_);
    lpa::download_request req;
    req.smdp_address = address_;
    req.matching_id = "NO-SUCH-MATCHING-ID";
    EXPECT_TRUE(refused_with(assistant.download_profile(req), "8.2.6", "3.8"));
}

TEST_P(download_over_https, when_the_order_is_bound_to_another_eid_then_8_1_1_3_8_is_answered) {
    auto o = order("8949449999999990072", {.confirmation_code = {}, .eid = other_eid});
    EXPECT_TRUE(refused_with(download(o), "8.1.1", "3.8"));
    EXPECT_EQ(order_record(o).download_attempts, 0);

    // The eUICC it is bound to gets it.
    auto other = make_device(shared_pki::get().dir, other_eid, "other.json");
    ASSERT_TRUE(other && other->chip);
    auto r = download(o, std::nullopt, {}, other.get());
    EXPECT_TRUE(r.has_value()) << lpa::describe(r.error());
}

TEST_P(download_over_https, when_the_order_has_expired_then_8_8_5_4_10_is_answered) {
    auto o = order("8949449999999990080");
    now_ = now_.load() + std::chrono::hours(24 * 31);
    EXPECT_TRUE(refused_with(download(o), "8.8.5", "4.10"));
    EXPECT_EQ(order_record(o).state, store::order_state::expired);
}

TEST_P(download_over_https, when_download_attempts_are_used_up_then_8_8_5_6_4_is_answered) {
    // Postponing (no code at hand) keeps the order but uses an attempt.
    auto o = order("8949449999999990098", {.confirmation_code = "2468"});
    const int limit = order_record(o).download_attempt_limit;
    ASSERT_GE(limit, 1);
    for (int i = 0; i < limit; ++i) {
        auto r = download(o);
        ASSERT_FALSE(r.has_value()) << "attempt " << i;
        EXPECT_EQ(r.error().cancelled_with, std::optional(asn1::cancel_session_reason::postponed));
    }
    EXPECT_TRUE(refused_with(download(o, "2468"), "8.8.5", "6.4"));
    EXPECT_TRUE(dev_->chip->profiles().empty());
}

TEST_P(download_over_https, when_the_order_is_not_released_then_8_2_1_2_is_answered) {
    auto o = order("8949449999999990106", {.confirmation_code = {}, .eid = {}, .release = false});
    EXPECT_TRUE(refused_with(download(o), "8.2", "1.2"));
}

TEST_P(download_over_https, when_the_euicc_trusts_no_ci_of_the_smdp_then_8_8_2_3_1_is_answered) {
    auto o = order("8949449999999990114");
    // A card of another PKI lists only its own CI.
    auto foreign = make_device(shared_pki::get().foreign_dir, foreign_eid, "foreign.json");
    ASSERT_TRUE(foreign && foreign->chip);
    EXPECT_TRUE(refused_with(download(o, std::nullopt, {}, foreign.get()), "8.8.2", "3.1"));
}

TEST_P(download_over_https,
       when_the_euicc_certificate_is_not_from_the_eum_it_presents_then_8_1_3_6_1_is_answered) {
    auto o = order("8949449999999990122");
    const auto& shared = shared_pki::get();
    const fs::path ours = shared.dir / pki::curve_dir_name(curve());
    // A card whose certificate and key come from another PKI, presenting our
    // EUM and trusting our CI: the SM-DP+ accepts the CI, not the chain.
    auto config = euicc::load_euicc_from_pki(shared.foreign_dir, curve(), foreign_eid).value();
    config.eum_certificate_der = read_bytes(ours / "eum.der");
    config.trusted_ci_certificates_der = {read_bytes(ours / "ci.der")};
    auto forged = make_device(std::move(config), "forged.json");
    ASSERT_TRUE(forged && forged->chip);

    auto r = download(o, std::nullopt, {}, forged.get());

    EXPECT_TRUE(refused_with(r, "8.1.3", "6.1") || refused_with(r, "8.1.2", "6.1"))
        << (r ? "succeeded" : lpa::describe(r.error()));
    EXPECT_EQ(order_record(o).state, store::order_state::released);
}

// --- confirmation code ---------------------------------------------------------

TEST_P(
    download_over_https,
    when_the_card_sends_no_confirmation_code_for_an_order_that_needs_one_then_8_2_7_2_2_is_answered) {
    // A conforming eUICC refuses PrepareDownload without hashCc when the
    // SM-DP+ asked for one; a card that does not is played here by re-signing
    // euiccSigned2 without hashCc with the test eUICC's own key.
    auto o = order("8949449999999990130", {.confirmation_code = "2468"});
    const auto key_pem = read_text(shared_pki::get().dir / pki::curve_dir_name(curve()) / "euicc" /
                                   (device_eid + ".key.pem"));
    auto signer = crypto::create_software_signer(crypto::private_key::from_pem(key_pem).value());
    es9p_->on_get_bpp = [&](rsp::get_bound_profile_package_request& r) {
        auto* ok = std::get_if<asn1::prepare_download_response_ok>(&r.prepare_download_response);
        ASSERT_TRUE(ok != nullptr);
        ASSERT_TRUE(ok->euicc_signed.hash.has_value()) << "the LPA sent a code";
        asn1::euicc_signed2 s;
        s.transaction_id = ok->euicc_signed.transaction_id;
        s.euicc_otpk = ok->euicc_signed.euicc_otpk;
        const bytes der = asn1::encode(s);
        const auto& sig2 = es9p_->last_authenticate->smdp_signature2;
        const bytes sig2_tlv = concat({bytes{0x5F, 0x37, 0x40}, bytes(sig2.begin(), sig2.end())});
        auto sig = signer->sign(concat({der, sig2_tlv})).value();
        asn1::prepare_download_response_ok changed;
        changed.euicc_signed = asn1::decode_euicc_signed2(der).value();
        std::copy_n(sig.begin(), 64, changed.euicc_signature2.begin());
        r.prepare_download_response = asn1::prepare_download_response{changed};
        r.prepare_download_response_der = asn1::encode(r.prepare_download_response);
    };

    EXPECT_TRUE(refused_with(download(o, "2468"), "8.2.7", "2.2"));
    EXPECT_EQ(order_record(o).state, store::order_state::released);
}

TEST_P(
    download_over_https,
    when_the_confirmation_code_is_wrong_then_8_2_7_3_8_is_answered_and_the_order_stays_downloadable) {
    auto o = order("8949449999999990148", {.confirmation_code = "2468"});

    auto wrong = download(o, "1111");

    EXPECT_TRUE(refused_with(wrong, "8.2.7", "3.8"));
    // The SM-DP+ ended the session with its answer: the LPA's cancelSession
    // that follows finds none and cannot touch the order.
    ASSERT_EQ(es9p_->cancel_results.size(), 1u);
    ASSERT_FALSE(es9p_->cancel_results[0].has_value());
    ASSERT_TRUE(es9p_->cancel_results[0].error().status.has_value());
    EXPECT_TRUE(es9p_->cancel_results[0].error().status->is(rsp::codes::transaction_id_unknown));
    EXPECT_EQ(order_record(o).state, store::order_state::released);
    EXPECT_EQ(order_record(o).cc_failures, 1);

    install(o, "2468");
}

TEST_P(download_over_https,
       when_the_confirmation_code_is_wrong_twice_then_the_right_code_still_installs) {
    auto o = order("8949449999999990155", {.confirmation_code = "2468"});
    EXPECT_TRUE(refused_with(download(o, "1111"), "8.2.7", "3.8"));
    EXPECT_TRUE(refused_with(download(o, "2222"), "8.2.7", "3.8"));

    install(o, "2468");
    EXPECT_EQ(dev_->chip->profiles().size(), 1u);
    EXPECT_EQ(order_record(o).cc_failures, 2);
}

TEST_P(
    download_over_https,
    when_the_confirmation_code_is_wrong_three_times_then_8_2_7_6_4_locks_the_order_and_the_right_code_is_refused) {
    auto o = order("8949449999999990163", {.confirmation_code = "2468"});
    EXPECT_TRUE(refused_with(download(o, "1111"), "8.2.7", "3.8"));
    EXPECT_TRUE(refused_with(download(o, "2222"), "8.2.7", "3.8"));
    EXPECT_TRUE(refused_with(download(o, "3333"), "8.2.7", "6.4"));
    EXPECT_TRUE(order_record(o).locked);
    EXPECT_TRUE(history_has(o, "locked"));

    EXPECT_TRUE(refused_with(download(o, "2468"), "8.2.7", "6.4"));
    EXPECT_TRUE(dev_->chip->profiles().empty());
}

// --- cancelSession -------------------------------------------------------------

TEST_P(download_over_https, when_the_download_is_postponed_then_the_order_stays_downloadable) {
    auto o = order("8949449999999990171", {.confirmation_code = "2468"});

    auto postponed = download(o); // no code at hand and no prompt: postponed

    ASSERT_FALSE(postponed.has_value());
    EXPECT_EQ(postponed.error().cancelled_with,
              std::optional(asn1::cancel_session_reason::postponed));
    ASSERT_EQ(es9p_->cancel_results.size(), 1u);
    EXPECT_TRUE(es9p_->cancel_results[0].has_value()) << "the SM-DP+ accepted the cancellation";
    EXPECT_EQ(order_record(o).state, store::order_state::released);
    EXPECT_TRUE(history_has(o, "session_cancelled"));

    install(o, "2468");
}

TEST_P(download_over_https,
       when_the_user_rejects_the_profile_then_the_order_is_no_longer_downloadable) {
    auto o = order("8949449999999990189");
    lpa::download_callbacks reject;
    reject.confirm_profile = [](const asn1::store_metadata_request&) { return false; };

    auto rejected = download(o, std::nullopt, reject);

    ASSERT_FALSE(rejected.has_value());
    EXPECT_EQ(rejected.error().cancelled_with,
              std::optional(asn1::cancel_session_reason::end_user_rejection));
    ASSERT_EQ(es9p_->cancel_results.size(), 1u);
    EXPECT_TRUE(es9p_->cancel_results[0].has_value());
    EXPECT_EQ(order_record(o).state, store::order_state::error);
    EXPECT_TRUE(refused_with(download(o), "8.2", "1.2"));
    EXPECT_TRUE(dev_->chip->profiles().empty());
}

// --- after a download ------------------------------------------------------------

TEST_P(download_over_https, when_a_matching_id_was_used_then_a_second_download_is_refused) {
    auto o = order("8949449999999990197");
    install(o);
    auto other = make_device(shared_pki::get().dir, other_eid, "other.json");
    ASSERT_TRUE(other && other->chip);

    EXPECT_TRUE(refused_with(download(o, std::nullopt, {}, other.get()), "8.2.6", "3.8"));
    EXPECT_TRUE(other->chip->profiles().empty());
    EXPECT_EQ(order_record(o).state, store::order_state::installed);
}

TEST_P(
    download_over_https,
    when_one_byte_of_the_bpp_is_altered_in_transit_then_the_euicc_refuses_it_and_the_order_is_in_error) {
    auto o = order("8949449999999990205");
    bool altered = false;
    es9p_->on_bpp = [&](rsp::get_bound_profile_package_response& r) {
        auto bpp = asn1::decode_bound_profile_package(r.bound_profile_package_der);
        ASSERT_TRUE(bpp.has_value());
        ASSERT_FALSE(bpp->sequence_of_86.empty());
        auto& segment = bpp->sequence_of_86.front();
        ASSERT_FALSE(segment.empty());
        segment[segment.size() / 2] ^= 0x01; // inside the A3 / 86 ciphertext
        r.bound_profile_package_der = asn1::encode(*bpp);
        altered = true;
    };

    auto r = download(o);

    ASSERT_TRUE(altered);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, lpa::errc::install_failed) << lpa::describe(r.error());
    EXPECT_TRUE(dev_->chip->profiles().empty());
    EXPECT_EQ(es9p_->notifications_sent, 1) << "the ProfileInstallationResult reached the SM-DP+";
    EXPECT_TRUE(dev_->chip->notifications().empty());
    EXPECT_EQ(order_record(o).state, store::order_state::error);
    EXPECT_TRUE(history_has(o, "install_failed"));
}

INSTANTIATE_TEST_SUITE_P(curves, download_over_https,
                         ::testing::Values(crypto::curve::nist_p256,
                                           crypto::curve::brainpool_p256r1),
                         curve_name);

} // namespace
} // namespace esimguard
