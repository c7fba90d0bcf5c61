// Attack tests (issue 4 §5): each test is a real attacker against the real
// esimguard-smdpp binary over HTTPS on loopback. The fixture starts the server
// per test with its own temp dir, SQLite database, audit head file and a TOML
// config with low thresholds; an SMTP sink (python3-aiosmtpd) and a webhook
// sink receive the alerts. Each test asserts on what the attacker got (SGP.22
// status codes, HTTP statuses), what the audit trail says, which alert went
// out (a webhook with a valid HMAC and a mail) and what /metrics counts; after
// each, `esimguard audit verify` must pass.

#include "fakes/smtp_sink.hpp"
#include "fakes/webhook_sink.hpp"
#include "harness.hpp"

#include "esimguard/core/bytes.hpp"

#include <atomic>

namespace esimguard::attack {
namespace {

const http::header_list es9p_headers{{"Content-Type", "application/json"},
                                     {"X-Admin-Protocol", "gsma/rsp/v2.2.2"},
                                     {"User-Agent", "gsma-rsp-lpad"}};

/// Wraps the LPA's real ES9+ client and keeps the requests it sent, so that an
/// attacker can replay them byte for byte.
class recording_es9p final : public lpa::es9p_client {
public:
    explicit recording_es9p(std::unique_ptr<lpa::es9p_client> inner) : inner_(std::move(inner)) {}

    std::optional<rsp::authenticate_client_request> authenticate;
    std::optional<rsp::get_bound_profile_package_request> get_bpp;

    lpa::es9p_result<rsp::initiate_authentication_response>
    initiate_authentication(std::string_view a,
                            const rsp::initiate_authentication_request& r) override {
        return inner_->initiate_authentication(a, r);
    }
    lpa::es9p_result<rsp::authenticate_client_response>
    authenticate_client(std::string_view a, const rsp::authenticate_client_request& r) override {
        authenticate = r;
        return inner_->authenticate_client(a, r);
    }
    lpa::es9p_result<rsp::get_bound_profile_package_response>
    get_bound_profile_package(std::string_view a,
                              const rsp::get_bound_profile_package_request& r) override {
        get_bpp = r;
        return inner_->get_bound_profile_package(a, r);
    }
    lpa::es9p_result<void> handle_notification(std::string_view a,
                                               const rsp::handle_notification_request& r) override {
        return inner_->handle_notification(a, r);
    }
    lpa::es9p_result<void> cancel_session(std::string_view a,
                                          const rsp::cancel_session_request& r) override {
        return inner_->cancel_session(a, r);
    }

private:
    std::unique_ptr<lpa::es9p_client> inner_;
};

/// Asserts an LPA operation was refused by the SM-DP+ with this code.
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
    return ::testing::AssertionSuccess();
}

/// Server settings a test may change before start_server().
struct server_options {
    int cc_retry_limit = 3;
    int download_attempt_limit = 3;
    unsigned worker_threads = 2;
    /// Appended to the config file as is.
    std::string extra_toml = {};
};

class attack_test : public ::testing::Test {
protected:
    static constexpr std::string_view webhook_secret = "attack-test-webhook-secret-0123456789";
    static constexpr std::string_view operator_id = "op-attack";

    void SetUp() override {
        static std::atomic<int> n{0};
        dir_ = fs::temp_directory_path() /
               fmt::format("esimguard-attack-{}-{}", ::getpid(), n.fetch_add(1));
        fs::remove_all(dir_);
        fs::create_directories(dir_);
        ASSERT_FALSE(shared_pki::get().forged.euicc_der.empty());
        admin_token_ = "attack-admin-token-" + to_hex(bytes(12, 0x5a));
        write_text(dir_ / "admin.token", admin_token_ + "\n", fs::perms(0600));
    }

    void TearDown() override {
        if (server_.pid() > 0) {
            const int status = server_.stop();
            EXPECT_EQ(status, 0) << "server exit status; log:\n" << tail(server_log(), 40);
        }
        if (HasFailure()) {
            std::cerr << "---- server log (tail) ----\n" << tail(server_log(), 60) << "\n";
        }
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }

    static std::string tail(const std::string& text, std::size_t lines) {
        std::vector<std::string> all;
        std::istringstream in(text);
        for (std::string l; std::getline(in, l);) {
            all.push_back(std::move(l));
        }
        std::string out;
        for (std::size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i) {
            out += all[i] + "\n";
        }
        return out;
    }

    std::string server_log() const { return read_text(dir_ / "server.log"); }

    std::string config_text(const server_options& o) const {
        const auto& pki = shared_pki::get();
        return fmt::format(
            R"([server]
listen_address = "127.0.0.1"
port = 0
port_file = "{port_file}"
worker_threads = {workers}

[smdp]
pki_dir = "{pki}"
download_attempt_limit = {attempts}
cc_retry_limit = {cc}

[store]
path = "{db}"

[admin]
token_file = "{token}"

[housekeeping]
interval_seconds = 3600

[notifier]
poll_interval_ms = 200

[log]
level = "debug"
file = "{log}"
{extra}
)",
            fmt::arg("port_file", (dir_ / "port").string()), fmt::arg("workers", o.worker_threads),
            fmt::arg("pki", pki.dir.string()), fmt::arg("attempts", o.download_attempt_limit),
            fmt::arg("cc", o.cc_retry_limit), fmt::arg("db", (dir_ / "esimguard.db").string()),
            fmt::arg("token", (dir_ / "admin.token").string()),
            fmt::arg("log", (dir_ / "server.log").string()), fmt::arg("extra", o.extra_toml));
    }

    /// Writes the config, starts esimguard-smdpp and registers the operator.
    void start_server(const server_options& o = {}) {
        write_text(dir_ / "smdpp.toml", config_text(o));
        std::string error;
        ASSERT_TRUE(server_.start(ESIMGUARD_SMDPP_BIN, dir_ / "smdpp.toml", dir_ / "port",
                                  dir_ / "server.out", error))
            << error;
        address_ = fmt::format("localhost:{}", server_.port());
        http::client_config cc;
        cc.trusted_ca_files = {shared_pki::get().curve_dir() / "ci.der"};
        auto client = http::client::create(cc);
        ASSERT_TRUE(client.has_value());
        admin_client_ = std::make_unique<http::client>(std::move(*client));
        auto op = admin("POST", "/admin/operators",
                        json{{"id", operator_id},
                             {"display_name", "Attack test operator"},
                             {"es2_token", "attack-es2-token-0123456789abcdef"}});
        ASSERT_EQ(op.status, 201) << op.body;
    }

    /// One admin API call with the bearer token, from 127.0.0.1.
    http::client_response admin(std::string_view method, std::string_view path,
                                const std::optional<json>& body = std::nullopt) {
        http::header_list h{{"Authorization", "Bearer " + admin_token_}};
        if (body) {
            h.push_back({"Content-Type", "application/json"});
        }
        auto r = admin_client_->request(method, fmt::format("https://{}{}", address_, path),
                                        body ? body->dump() : std::string(), h);
        EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().detail);
        return r.value_or(http::client_response{});
    }

    std::string metrics() {
        auto r = admin_client_->get(fmt::format("https://{}/metrics", address_));
        EXPECT_TRUE(r.has_value() && r->status == 200);
        return r ? r->body : std::string();
    }

    /// A profile for `iccid`, then an order for it; the order's JSON (with the
    /// activation code and the confirmation code).
    json order(const std::string& iccid, std::optional<std::string> cc = std::nullopt,
               std::optional<std::string> eid = std::nullopt) {
        rsp::profile_package_params params;
        params.iccid = asn1::iccid_value::parse(iccid).value();
        params.imsi = "001010000004321";
        params.profile_type = "attack";
        const auto der = rsp::make_profile_package(params).value();
        auto p = admin("POST", "/admin/profiles",
                       json{{"operator", operator_id},
                            {"package", to_base64(der)},
                            {"profile_name", "Attack test"}});
        EXPECT_EQ(p.status, 201) << p.body;
        json req{{"operator", operator_id}, {"iccid", iccid}};
        if (cc) {
            req["confirmation_code"] = *cc;
        } else {
            req["confirmation_code_required"] = false;
        }
        if (eid) {
            req["eid"] = *eid;
        }
        auto o = admin("POST", "/admin/orders", req);
        EXPECT_EQ(o.status, 201) << o.body;
        return json::parse(o.body, nullptr, false);
    }

    static std::string ac(const json& o) { return o.value("activation_code", std::string()); }

    json show_order(const json& o) {
        auto r = admin("GET", "/admin/orders/" + o.value("order_id", std::string()));
        EXPECT_EQ(r.status, 200) << r.body;
        return json::parse(r.body, nullptr, false);
    }

    /// A genuine device from the test PKI, its state in this test's dir.
    std::unique_ptr<device> genuine_device(const std::string& eid) {
        auto config =
            euicc::load_euicc_from_pki(shared_pki::get().dir, crypto::curve::nist_p256, eid);
        EXPECT_TRUE(config.has_value()) << (config ? "" : config.error().detail);
        if (!config) {
            return nullptr;
        }
        return std::make_unique<device>(std::move(*config), dir_ / (eid + ".json"));
    }

    /// The attacker's device: the forged chain, trusting the real CI (so that
    /// it accepts the genuine server and names the real CI to it).
    std::unique_ptr<device> forged_device() {
        const auto& pki = shared_pki::get();
        euicc::euicc_config c;
        c.eid = forged_eid;
        c.private_key_pem = pki.forged.euicc_key_pem;
        c.euicc_certificate_der = pki.forged.euicc_der;
        c.eum_certificate_der = pki.forged.eum_der;
        c.trusted_ci_certificates_der = {read_bytes(pki.curve_dir() / "ci.der")};
        return std::make_unique<device>(std::move(c), dir_ / "forged.json");
    }

    /// An ES9+ client of the LPA library connecting from `source`.
    std::unique_ptr<recording_es9p> es9p_from(const std::string& source) {
        lpa::https_es9p_config ec;
        ec.trusted_ca_files = {shared_pki::get().curve_dir() / "ci.der"};
        ec.local_address = source;
        ec.request_timeout = std::chrono::seconds{20};
        auto c = lpa::create_https_es9p_client(ec);
        EXPECT_TRUE(c.has_value());
        return std::make_unique<recording_es9p>(c ? std::move(*c) : nullptr);
    }

    /// One whole download by `d` from `source` with the activation code.
    lpa::result<lpa::download_result> download(device& d, const std::string& activation_code,
                                               std::optional<std::string> cc,
                                               const std::string& source,
                                               recording_es9p* es9p = nullptr) {
        std::unique_ptr<recording_es9p> own;
        if (es9p == nullptr) {
            own = es9p_from(source);
            es9p = own.get();
        }
        lpa::lpa assistant(*d.es10, *es9p);
        auto req = lpa::download_request::from_activation_code(activation_code);
        EXPECT_TRUE(req.has_value());
        req->confirmation_code = std::move(cc);
        return assistant.download_profile(*req);
    }

    /// A raw ES9+ POST from `source`, as an attacker sends it.
    http::client_response es9p_post(std::string_view function, const std::string& body,
                                    const std::string& source) {
        http::client_config cc;
        cc.trusted_ca_files = {shared_pki::get().curve_dir() / "ci.der"};
        cc.local_address = source;
        auto client = http::client::create(cc);
        EXPECT_TRUE(client.has_value());
        auto r = client->post(fmt::format("https://{}/gsma/rsp2/es9plus/{}", address_, function),
                              body, es9p_headers);
        EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().detail);
        return r.value_or(http::client_response{});
    }

    /// The statusCodeData of a Failed ES9+ answer.
    static std::optional<rsp::status> failure_of(const http::client_response& r) {
        auto parsed = rsp::parse_header_only_response(r.body);
        if (parsed || !parsed.error().reported_by_peer) {
            return std::nullopt;
        }
        return parsed.error().detail;
    }

    fs::path dir_;
    std::string admin_token_;
    smdpp_process server_;
    std::string address_;
    std::unique_ptr<http::client> admin_client_;
};

// ---- 1. the forged device ---------------------------------------------------

TEST_F(attack_test, a_forged_device_chain_is_refused_with_the_ci_key_unknown_code) {
    start_server();
    auto o = order("8949449999999941010");
    auto attacker = forged_device();
    ASSERT_TRUE(attacker && attacker->chip);

    auto r = download(*attacker, ac(o), std::nullopt, "127.0.0.2");

    EXPECT_TRUE(refused_with(r, "8.11.1", "3.9"));
    EXPECT_EQ(show_order(o)["state"], "released");
    EXPECT_TRUE(attacker->chip->profiles().empty());
}

// ---- 2. matching-ID guessing --------------------------------------------------

TEST_F(attack_test, a_legitimate_user_from_another_address_downloads_while_ids_are_guessed) {
    start_server();
    auto o = order("8949449999999942018");
    auto guesser = genuine_device(attacker_eid);
    for (int i = 0; i < 3; ++i) {
        auto r = download(*guesser, fmt::format("LPA:1${}$GUESS-{:04}", address_, i), std::nullopt,
                          "127.0.0.2");
        EXPECT_TRUE(refused_with(r, "8.2.6", "3.8")) << i;
    }
    auto victim = genuine_device(victim_eid);
    auto ok = download(*victim, ac(o), std::nullopt, "127.0.0.3");
    ASSERT_TRUE(ok.has_value()) << lpa::describe(ok.error());
    EXPECT_EQ(show_order(o)["state"], "installed");
}

// ---- 3. confirmation-code brute force -----------------------------------------

TEST_F(attack_test, confirmation_code_brute_force_locks_the_order) {
    start_server({.cc_retry_limit = 3});
    auto o = order("8949449999999943016", "27182818");
    auto thief = genuine_device(attacker_eid);
    for (int i = 0; i < 2; ++i) {
        auto r = download(*thief, ac(o), fmt::format("{:08}", i), "127.0.0.4");
        EXPECT_TRUE(refused_with(r, "8.2.7", "3.8")) << i;
    }
    auto third = download(*thief, ac(o), "00000002", "127.0.0.4");
    EXPECT_TRUE(refused_with(third, "8.2.7", "6.4"));
    // Locked: even the right code no longer downloads.
    auto right = download(*thief, ac(o), "27182818", "127.0.0.4");
    EXPECT_FALSE(right.has_value());
    const auto shown = show_order(o);
    EXPECT_EQ(shown["locked"], true);
    EXPECT_EQ(shown["cc_failures"], 3);
}

// ---- 4. replays ----------------------------------------------------------------

TEST_F(attack_test, a_replayed_authenticate_client_and_get_bound_profile_package_are_refused) {
    start_server();
    auto o = order("8949449999999944014");
    auto victim = genuine_device(victim_eid);
    auto es9p = es9p_from("127.0.0.5");
    auto ok = download(*victim, ac(o), std::nullopt, "127.0.0.5", es9p.get());
    ASSERT_TRUE(ok.has_value()) << lpa::describe(ok.error());
    ASSERT_TRUE(es9p->authenticate && es9p->get_bpp);

    // The attacker captured both requests (e.g. on a compromised LPA) and
    // sends them again, from elsewhere.
    auto replay = es9p_from("127.0.0.6");
    auto a = replay->authenticate_client(address_, *es9p->authenticate);
    ASSERT_FALSE(a.has_value());
    ASSERT_EQ(a.error().what, lpa::es9p_error::kind::refused);
    EXPECT_EQ(a.error().status->subject_code, "8.10.1");
    EXPECT_EQ(a.error().status->reason_code, "3.9");

    auto b = replay->get_bound_profile_package(address_, *es9p->get_bpp);
    ASSERT_FALSE(b.has_value());
    ASSERT_EQ(b.error().what, lpa::es9p_error::kind::refused);
    EXPECT_EQ(b.error().status->subject_code, "8.10.1");
    EXPECT_EQ(b.error().status->reason_code, "3.9");
    EXPECT_EQ(show_order(o)["state"], "installed");
}

} // namespace
} // namespace esimguard::attack
