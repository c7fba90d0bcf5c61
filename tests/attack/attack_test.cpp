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

    std::optional<rsp::initiate_authentication_request> initiate;
    std::optional<rsp::authenticate_client_request> authenticate;
    std::optional<rsp::get_bound_profile_package_request> get_bpp;

    lpa::es9p_result<rsp::initiate_authentication_response>
    initiate_authentication(std::string_view a,
                            const rsp::initiate_authentication_request& r) override {
        initiate = r;
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
    /// Risk counter keys tracked per dimension at most.
    int max_keys_per_dimension = 100000;
    /// Forged chains from one address before it is blocked.
    int forged_threshold = 3;
    /// Unknown matching IDs from one address before it is blocked.
    int guessing_threshold = 4;
    /// Appended to the config file as is.
    std::string extra_toml = {};
};

class attack_test : public ::testing::Test {
protected:
    static constexpr std::string_view webhook_secret = "attack-test-webhook-secret-0123456789";
    static constexpr std::string_view operator_id = "op-attack";
    static constexpr std::string_view security_team = "security@operator.test";

    void SetUp() override {
        static std::atomic<int> n{0};
        dir_ = fs::temp_directory_path() /
               fmt::format("esimguard-attack-{}-{}", ::getpid(), n.fetch_add(1));
        fs::remove_all(dir_);
        fs::create_directories(dir_);
        ASSERT_FALSE(shared_pki::get().forged.euicc_der.empty());
        admin_token_ = "attack-admin-token-" + to_hex(bytes(12, 0x5a));
        write_text(dir_ / "admin.token", admin_token_ + "\n", fs::perms(0600));
        write_text(dir_ / "webhook.secret", std::string(webhook_secret) + "\n", fs::perms(0600));
        smtp_ = std::make_unique<test::smtp_sink>();
        ASSERT_TRUE(smtp_->running());
        const auto curve = shared_pki::get().curve_dir();
        webhook_ = std::make_unique<test::webhook_sink>(
            test::webhook_sink::options{.secret = std::string(webhook_secret),
                                        .certificate_chain_file = curve / "dptls-chain.pem",
                                        .private_key_file = curve / "dptls.key.pem"});
        ASSERT_TRUE(webhook_->running());
    }

    void TearDown() override {
        if (server_.pid() > 0) {
            const int status = server_.stop();
            EXPECT_EQ(status, 0) << "server exit status; log:\n" << tail(server_log(), 40);
            // §5: after every attack the audit chain still verifies.
            auto v = audit_verify();
            EXPECT_EQ(v.exit_code, 0) << v.output;
            EXPECT_NE(v.output.find("audit chain OK"), std::string::npos) << v.output;
        }
        // Whatever the attack, the server's log holds none of the secrets.
        const std::string log = server_log() + read_text(dir_ / "server.out");
        secrets_.push_back(admin_token_);
        secrets_.emplace_back(webhook_secret);
        for (const auto& secret : secrets_) {
            EXPECT_EQ(log.find(secret), std::string::npos) << "a secret is in the server log";
        }
        if (HasFailure()) {
            std::cerr << "---- server log (tail) ----\n" << tail(server_log(), 60) << "\n";
        }
        if (std::getenv("ESIMGUARD_ATTACK_KEEP") != nullptr) {
            std::cerr << "kept " << dir_ << "\n";
            return;
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

[defense]
max_keys_per_dimension = {cap}

# Low thresholds so that each attack is stopped within a few requests.
[[defense.rules]]
name = "forged_device_chain"
kind = "bad_chain"
dimension = "source_ip"
threshold = {forged}
window_s = 600
actions = ["alert", "block_source"]
severity = "critical"
block_ttl_s = 3600

[[defense.rules]]
name = "matching_id_guessing"
kind = "unknown_matching_id"
dimension = "source_ip"
threshold = {guesses}
window_s = 600
actions = ["alert", "block_source"]
severity = "warning"
block_ttl_s = 3600

[[defense.rules]]
name = "cc_brute_force"
kind = "cc_failure"
dimension = "iccid"
threshold = {cc}
window_s = 86400
actions = ["alert", "pause_order", "notify_subscriber"]
severity = "warning"

[[defense.rules]]
name = "download_to_stolen_eid"
kind = "download_started"
dimension = "eid"
match = "stolen_eid"
threshold = 1
window_s = 1
actions = ["alert"]
severity = "critical"

# As in the defaults: one replay from an address is alerted at once.
[[defense.rules]]
name = "replayed_session"
kind = "replay"
dimension = "source_ip"
threshold = 1
window_s = 3600
actions = ["alert"]
refuse = false
severity = "critical"

# Counts every ES9+ call per address (never reached here): what a spray of
# addresses fills.
[[defense.rules]]
name = "request_flood"
kind = "request"
dimension = "source_ip"
threshold = 1000000
window_s = 600
actions = ["alert"]
severity = "info"

[alerts]
max_attempts = 4
initial_backoff_ms = 50

[alerts.webhook]
url = "{webhook}"
secret_file = "{secret}"
trusted_ca_files = ["{ca}"]

[alerts.smtp]
host = "127.0.0.1"
port = {smtp}
from = "esimguard@smdp.test"
operator_to = "{security}"

[audit]
head_file = "{head}"
{extra}
)",
            fmt::arg("port_file", (dir_ / "port").string()), fmt::arg("workers", o.worker_threads),
            fmt::arg("pki", pki.dir.string()), fmt::arg("attempts", o.download_attempt_limit),
            fmt::arg("cc", o.cc_retry_limit), fmt::arg("db", (dir_ / "esimguard.db").string()),
            fmt::arg("token", (dir_ / "admin.token").string()),
            fmt::arg("log", (dir_ / "server.log").string()),
            fmt::arg("cap", o.max_keys_per_dimension), fmt::arg("forged", o.forged_threshold),
            fmt::arg("guesses", o.guessing_threshold), fmt::arg("webhook", webhook_->url()),
            fmt::arg("secret", (dir_ / "webhook.secret").string()),
            fmt::arg("ca", (pki.curve_dir() / "ci.pem").string()), fmt::arg("smtp", smtp_->port()),
            fmt::arg("security", security_team), fmt::arg("head", (dir_ / "audit-head").string()),
            fmt::arg("extra", o.extra_toml));
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

    /// `esimguard audit verify` on this test's database and head file.
    command_result audit_verify() {
        return run_command({ESIMGUARD_CLI_BIN, "audit", "verify", "--db",
                            (dir_ / "esimguard.db").string(), "--head-file",
                            (dir_ / "audit-head").string()},
                           dir_ / "audit-verify.out");
    }

    /// `esimguard audit show --json` for one key ("--ip", "--eid", "--iccid").
    json audit_show(std::string_view key, const std::string& value) {
        auto r = run_command({ESIMGUARD_CLI_BIN, "audit", "show", "--db",
                              (dir_ / "esimguard.db").string(), "--head-file",
                              (dir_ / "audit-head").string(), std::string(key), value, "--json"},
                             dir_ / "audit-show.out");
        EXPECT_EQ(r.exit_code, 0) << r.output;
        auto j = json::parse(r.output, nullptr, false);
        return j.is_array() ? j : json::array();
    }

    /// Waits (bounded: the server writes its audit trail in batches) until the
    /// audit records of `key`/`value` hold one with this outcome and a reason
    /// containing `reason`; that record, or null.
    json wait_for_audit(std::string_view key, const std::string& value, std::string_view outcome,
                        std::string_view reason) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{10};
        json last;
        do {
            last = audit_show(key, value);
            for (const auto& e : last) {
                if (e.value("outcome", "") == outcome &&
                    e.value("reason", "").find(reason) != std::string::npos) {
                    return e;
                }
            }
            std::this_thread::sleep_for(std::chrono::milliseconds{50});
        } while (std::chrono::steady_clock::now() < deadline);
        ADD_FAILURE() << "no audit record " << outcome << " / " << reason << " for " << key << " "
                      << value << "; records:\n"
                      << last.dump(1);
        return json();
    }

    /// Asserts that the alert of `rule` went out: a webhook delivery with a
    /// valid HMAC, and a mail to `mail_to` (the security team by default).
    /// Returns the alert as the webhook delivered it.
    std::optional<defense::alert> expect_alert(std::string_view rule, std::string_view severity,
                                               std::string_view mail_to = security_team,
                                               std::string_view mail_subject_part = {}) {
        auto d = webhook_->wait_for_rule(rule);
        if (!d) {
            ADD_FAILURE() << "no webhook delivery for " << rule << "; got "
                          << webhook_->deliveries().size() << " deliveries";
            return std::nullopt;
        }
        EXPECT_TRUE(d->signature_ok) << "webhook HMAC does not verify: " << d->signature;
        EXPECT_EQ(defense::to_string(d->alert->severity), severity);
        const std::string subject_part =
            mail_subject_part.empty() ? std::string(rule) : std::string(mail_subject_part);
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{15};
        bool mailed = false;
        std::vector<std::string> mails;
        while (!mailed && std::chrono::steady_clock::now() < deadline) {
            mails = smtp_->messages();
            for (const auto& m : mails) {
                mailed = mailed || (m.find(std::string(mail_to)) != std::string::npos &&
                                    m.find(subject_part) != std::string::npos);
            }
            if (!mailed) {
                std::this_thread::sleep_for(std::chrono::milliseconds{20});
            }
        }
        EXPECT_TRUE(mailed) << "no mail to " << mail_to << " about " << subject_part << " among "
                            << mails.size() << " mails";
        return d->alert;
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
        auto out = json::parse(o.body, nullptr, false);
        secrets_.push_back(out.value("matching_id", std::string("?")));
        if (cc) {
            secrets_.push_back(*cc);
        }
        return out;
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
    /// it accepts the genuine server and names the real CI to it). With
    /// `claims_real_ci` its EUM certificate names the real CI's key too.
    std::unique_ptr<device> forged_device(bool claims_real_ci = false) {
        const auto& pki = shared_pki::get();
        euicc::euicc_config c;
        c.eid = forged_eid;
        c.private_key_pem = pki.forged.euicc_key_pem;
        c.euicc_certificate_der = pki.forged.euicc_der;
        c.eum_certificate_der =
            claims_real_ci ? pki.forged.eum_claiming_real_ci_der : pki.forged.eum_der;
        c.trusted_ci_certificates_der = {read_bytes(pki.curve_dir() / "ci.der")};
        return std::make_unique<device>(std::move(c),
                                        dir_ / (claims_real_ci ? "impostor.json" : "forged.json"));
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
    std::unique_ptr<test::smtp_sink> smtp_;
    std::unique_ptr<test::webhook_sink> webhook_;
    std::string admin_token_;
    /// Matching IDs, confirmation codes: never to appear in the server's log.
    std::vector<std::string> secrets_;
    smdpp_process server_;
    std::string address_;
    std::unique_ptr<http::client> admin_client_;
};

// ---- 1. the forged device ---------------------------------------------------

TEST_F(attack_test, a_forged_device_is_refused_then_its_address_blocked_and_an_alert_delivered) {
    start_server({.forged_threshold = 3});
    auto o = order("8949449999999941010");
    auto attacker = forged_device();
    auto impostor = forged_device(true);
    ASSERT_TRUE(attacker && attacker->chip && impostor && impostor->chip);
    const std::string from = "127.0.0.2";

    // Below the threshold: refused on the chain, each time after the full
    // exchange. An EUM naming a CI key the server does not have: 8.11.1/3.9.
    auto first = download(*attacker, ac(o), std::nullopt, from);
    EXPECT_TRUE(refused_with(first, "8.11.1", "3.9"));
    // An EUM naming the real CI's key, with a signature the CI never made:
    // the EUM certificate is invalid, 8.1.2/6.1.
    auto second = download(*impostor, ac(o), std::nullopt, from);
    EXPECT_TRUE(refused_with(second, "8.1.2", "6.1"));
    // The third forged chain fires the rule: refused on the chain as before,
    // and the address blocked.
    auto third = download(*attacker, ac(o), std::nullopt, from);
    EXPECT_TRUE(refused_with(third, "8.11.1", "3.9"));
    // The next request is refused at once, at initiateAuthentication, before
    // the server signs anything.
    auto es9p = es9p_from(from);
    auto next = download(*attacker, ac(o), std::nullopt, from, es9p.get());
    EXPECT_TRUE(refused_with(next, "1.1", "1.2"));
    EXPECT_FALSE(es9p->authenticate.has_value()) << "a blocked address reached authenticateClient";

    // The genuine subscriber, elsewhere, is not affected.
    auto victim = genuine_device(victim_eid);
    auto ok = download(*victim, ac(o), std::nullopt, "127.0.0.3");
    ASSERT_TRUE(ok.has_value()) << lpa::describe(ok.error());
    EXPECT_TRUE(attacker->chip->profiles().empty());
    EXPECT_TRUE(impostor->chip->profiles().empty());

    const auto alert = expect_alert("forged_device_chain", "critical");
    ASSERT_TRUE(alert.has_value());
    EXPECT_EQ(alert->evidence.ip, from);
    EXPECT_EQ(alert->evidence.count, 3u);
    const auto blocked = wait_for_audit("--ip", from, "blocked", "forged_device_chain");
    EXPECT_EQ(blocked.value("what", ""), "decision block_source");
    wait_for_audit("--ip", from, "refused", "8.11.1/3.9");
    wait_for_audit("--ip", from, "refused", "8.1.2/6.1");
    wait_for_audit("--ip", from, "blocked", "1.1/1.2");
    auto list = admin("GET", "/admin/blocklist");
    EXPECT_NE(list.body.find(from), std::string::npos) << list.body;

    const auto m = metrics();
    EXPECT_GE(metric_value(m, "smdp_defense_actions_total", {"action=\"block_source\""}), 1);
    EXPECT_GE(metric_value(m, "smdp_defense_refusals_total"), 1);
    EXPECT_GE(metric_value(m, "esimguard_alerts_sent_total"), 2); // webhook + operator mail
}

// ---- 2. matching-ID guessing --------------------------------------------------

TEST_F(attack_test, matching_id_guessing_blocks_the_address_and_other_addresses_download) {
    start_server({.guessing_threshold = 4});
    auto o = order("8949449999999942018");
    auto guesser = genuine_device(attacker_eid);
    const std::string from = "127.0.0.4";
    for (int i = 0; i < 3; ++i) {
        auto r = download(*guesser, fmt::format("LPA:1${}$GUESS-{:04}", address_, i), std::nullopt,
                          from);
        EXPECT_TRUE(refused_with(r, "8.2.6", "3.8")) << i;
    }
    // The fourth fires the rule: still answered as an unknown matching ID.
    auto fourth =
        download(*guesser, fmt::format("LPA:1${}$GUESS-0004", address_), std::nullopt, from);
    EXPECT_TRUE(refused_with(fourth, "8.2.6", "3.8"));
    // Blocked now, even with the right matching ID.
    auto right = download(*guesser, ac(o), std::nullopt, from);
    EXPECT_TRUE(refused_with(right, "1.1", "1.2"));

    // Legitimate users from other addresses are unaffected.
    auto victim = genuine_device(victim_eid);
    auto ok = download(*victim, ac(o), std::nullopt, "127.0.0.5");
    ASSERT_TRUE(ok.has_value()) << lpa::describe(ok.error());
    EXPECT_EQ(show_order(o)["state"], "installed");
    auto o2 = order("8949449999999942026");
    auto bystander = genuine_device(bystander_eid);
    auto ok2 = download(*bystander, ac(o2), std::nullopt, "127.0.1.6");
    ASSERT_TRUE(ok2.has_value()) << lpa::describe(ok2.error());

    const auto alert = expect_alert("matching_id_guessing", "warning");
    ASSERT_TRUE(alert.has_value());
    EXPECT_EQ(alert->evidence.ip, from);
    wait_for_audit("--ip", from, "blocked", "matching_id_guessing");
    wait_for_audit("--ip", "127.0.0.5", "ok", "");
    const auto m = metrics();
    EXPECT_GE(metric_value(m, "smdp_defense_actions_total", {"action=\"block_source\""}), 1);
    EXPECT_GE(metric_value(m, "smdp_defense_refusals_total"), 2);
}

// ---- 3. confirmation-code brute force -----------------------------------------

TEST_F(attack_test, confirmation_code_brute_force_locks_the_order_and_mails_the_subscriber) {
    start_server({.cc_retry_limit = 3});
    const std::string iccid = "8949449999999943016";
    auto o = order(iccid, "27182818");
    auto sub = admin("POST", "/admin/subscribers",
                     json{{"id", "sub-ada"},
                          {"display_name", "Ada"},
                          {"email", "ada@subscriber.test"},
                          {"operator", operator_id}});
    ASSERT_EQ(sub.status, 201) << sub.body;
    auto line = admin("POST", "/admin/lines", json{{"iccid", iccid}, {"subscriber", "sub-ada"}});
    ASSERT_EQ(line.status, 201) << line.body;

    auto thief = genuine_device(attacker_eid);
    const std::string from = "127.0.0.7";
    for (int i = 0; i < 2; ++i) {
        auto r = download(*thief, ac(o), fmt::format("{:08}", i), from);
        EXPECT_TRUE(refused_with(r, "8.2.7", "3.8")) << i;
    }
    // The third reaches the retry limit: SGP.22 §5.6.2 "retries exceeded".
    auto third = download(*thief, ac(o), "00000002", from);
    EXPECT_TRUE(refused_with(third, "8.2.7", "6.4"));
    // Locked: even the right code no longer downloads, and authenticateClient
    // says why.
    auto right = download(*thief, ac(o), "27182818", from);
    EXPECT_TRUE(refused_with(right, "8.2.7", "6.4"));
    EXPECT_TRUE(thief->chip->profiles().empty());
    const auto shown = show_order(o);
    EXPECT_EQ(shown["locked"], true);
    EXPECT_EQ(shown["cc_failures"], 3);

    const auto alert = expect_alert("cc_brute_force", "warning");
    ASSERT_TRUE(alert.has_value());
    EXPECT_EQ(alert->evidence.iccid, iccid);
    // The subscriber is told, by mail to their own address.
    (void)expect_alert("cc_brute_force", "warning", "ada@subscriber.test",
                       "Security alert on your mobile line");
    wait_for_audit("--iccid", iccid, "refused", "8.2.7/3.8");
    wait_for_audit("--iccid", iccid, "paused", "cc_brute_force");
    const auto m = metrics();
    EXPECT_GE(metric_value(m, "smdp_defense_actions_total", {"action=\"pause_order\""}), 1);
    EXPECT_GE(metric_value(m, "smdp_defense_actions_total", {"action=\"notify_subscriber\""}), 1);
}

// ---- 4. replays ----------------------------------------------------------------

TEST_F(attack_test, a_replayed_authenticate_client_and_get_bound_profile_package_are_refused) {
    start_server();
    auto o = order("8949449999999944014");
    auto victim = genuine_device(victim_eid);
    auto es9p = es9p_from("127.0.0.8");
    auto ok = download(*victim, ac(o), std::nullopt, "127.0.0.8", es9p.get());
    ASSERT_TRUE(ok.has_value()) << lpa::describe(ok.error());
    ASSERT_TRUE(es9p->authenticate && es9p->get_bpp);

    // The attacker captured both requests (e.g. on a compromised LPA) and
    // sends them again, byte for byte, from elsewhere.
    const std::string from = "127.0.0.9";
    auto replay = es9p_from(from);
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
    EXPECT_EQ(victim->chip->profiles().size(), 1u);

    const auto records = audit_show("--ip", from);
    wait_for_audit("--ip", from, "refused", "8.10.1/3.9");
    int refused = 0;
    for (const auto& e : audit_show("--ip", from)) {
        refused += e.value("outcome", "") == "refused" ? 1 : 0;
    }
    EXPECT_EQ(refused, 2) << records.dump(1);

    // The first replay raised the alert, naming the address, the card whose
    // session was replayed and the function; the second, within the window,
    // raised none.
    const auto alert = expect_alert("replayed_session", "critical");
    ASSERT_TRUE(alert.has_value());
    EXPECT_EQ(alert->evidence.ip, from);
    EXPECT_EQ(alert->evidence.eid, victim_eid);
    const auto& details = alert->evidence.details;
    EXPECT_NE(std::find(details.begin(), details.end(),
                        std::pair<std::string, std::string>{"function", "authenticateClient"}),
              details.end());
    EXPECT_EQ(webhook_->deliveries().size(), 1u);
    wait_for_audit("--ip", from, "sent", "replayed_session");
    const auto m = metrics();
    EXPECT_EQ(metric_value(m, "smdp_risk_events_total", {"kind=\"replay\""}), 2);
    EXPECT_GE(metric_value(m, "smdp_defense_actions_total", {"action=\"alert\""}), 1);
    EXPECT_GE(metric_value(m, "esimguard_alerts_raised_total", {"severity=\"critical\""}), 1);
    EXPECT_GE(metric_value(m, "esimguard_alerts_sent_total"), 2); // webhook + operator mail
}

// ---- 5. a stolen device --------------------------------------------------------

TEST_F(attack_test, a_download_to_an_eid_reported_stolen_is_refused_and_alerted) {
    start_server();
    auto reported = admin("POST", "/admin/stolen",
                          json{{"eid", stolen_eid}, {"reason", "reported by the subscriber"}});
    ASSERT_TRUE(reported.status == 200 || reported.status == 201) << reported.body;
    auto o = order("8949449999999945011");
    auto phone = genuine_device(stolen_eid);

    auto r = download(*phone, ac(o), std::nullopt, "127.0.0.10");

    EXPECT_TRUE(refused_with(r, "8.1.1", "3.8"));
    EXPECT_TRUE(phone->chip->profiles().empty());
    EXPECT_EQ(show_order(o)["state"], "released");
    const auto alert = expect_alert("download_to_stolen_eid", "critical");
    ASSERT_TRUE(alert.has_value());
    EXPECT_EQ(alert->evidence.eid, stolen_eid);
    wait_for_audit("--eid", stolen_eid, "blocked", "8.1.1/3.8");
    EXPECT_GE(metric_value(metrics(), "smdp_defense_refusals_total"), 1);

    // The same order still downloads to the subscriber's new phone.
    auto fresh = genuine_device(victim_eid);
    auto ok = download(*fresh, ac(o), std::nullopt, "127.0.0.10");
    ASSERT_TRUE(ok.has_value()) << lpa::describe(ok.error());
}

// ---- 6. an address spray -----------------------------------------------------

/// The i-th spray address: 127.20.0.1, 127.20.0.2, ... (never .0 or .255).
std::string spray_address(int i) {
    return fmt::format("127.{}.{}.{}", 20 + i / (254 * 256), (i / 254) % 256, i % 254 + 1);
}

/// Sends `body` as initiateAuthentication once from each address of
/// [first, last), over `threads` clients; returns how many were answered 200.
int spray(const std::string& address, const std::string& body, int first, int last, int threads) {
    std::atomic<int> next{first};
    std::atomic<int> answered{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&] {
            for (int i = next++; i < last; i = next++) {
                http::client_config cc;
                // The attacker does not care whom it talks to.
                cc.insecure = true;
                cc.local_address = spray_address(i);
                auto c = http::client::create(cc);
                if (!c) {
                    continue;
                }
                auto r = c->post(
                    fmt::format("https://{}/gsma/rsp2/es9plus/initiateAuthentication", address),
                    body, es9p_headers);
                if (r && r->status == 200) {
                    ++answered;
                }
            }
        });
    }
    for (auto& t : pool) {
        t.join();
    }
    return answered.load();
}

TEST_F(attack_test, an_address_spray_keeps_the_counters_and_memory_under_the_cap) {
    // 16 shards of 64 entries each: a full dimension holds exactly the cap.
    constexpr int cap = 1024;
    constexpr int warm_up = 2000;
    constexpr int total = 12000;
    constexpr int series = 12;
    // Twelve request-rate series per address, so that what the cap saves is
    // far above the noise: uncapped, 10,000 more addresses would hold 120,000
    // more (series, key) entries (~150 B each, ~17 MiB).
    std::string rules;
    for (int i = 0; i < series; ++i) {
        rules += fmt::format("[[defense.rules]]\nname = \"request_rate_{}\"\nkind = "
                             "\"request\"\ndimension = \"source_ip\"\nthreshold = "
                             "1000000\nwindow_s = {}\nactions = [\"alert\"]\nseverity = "
                             "\"info\"\n\n",
                             i, 3600 + i);
    }
    // A rule the spray's victims show: the probe_limit-th request from one
    // address within two hours is refused. Whether a count survived the spray
    // is then visible from outside.
    constexpr int probe_limit = 8;
    rules += fmt::format("[[defense.rules]]\nname = \"request_probe\"\nkind = "
                         "\"request\"\ndimension = \"source_ip\"\nthreshold = {}\n"
                         "window_s = 7200\nactions = [\"alert\"]\nseverity = \"info\"\n\n",
                         probe_limit);
    start_server({.max_keys_per_dimension = cap, .extra_toml = rules});
    // One genuine initiateAuthentication, captured, is the spray's payload.
    auto o = order("8949449999999946019");
    auto victim = genuine_device(victim_eid);
    auto es9p = es9p_from("127.0.0.12");
    auto ok = download(*victim, ac(o), std::nullopt, "127.0.0.12", es9p.get());
    ASSERT_TRUE(ok.has_value()) << lpa::describe(ok.error());
    ASSERT_TRUE(es9p->initiate.has_value());
    const std::string body = rsp::to_json(*es9p->initiate);
    // Whether initiateAuthentication from `source` is answered with a session.
    const auto served = [&](const std::string& source) {
        const auto r = es9p_post("initiateAuthentication", body, source);
        return r.status == 200 && rsp::parse_initiate_authentication_response(r.body).has_value();
    };
    // An address one request short of the probe rule, before the spray.
    const std::string evicted_address = "127.0.0.14";
    for (int i = 1; i < probe_limit; ++i) {
        ASSERT_TRUE(served(evicted_address)) << i;
    }

    const auto t0 = std::chrono::steady_clock::now();
    const int first = spray(address_, body, 0, warm_up, 4);
    const long rss_before = server_.rss_kib();
    const int second = spray(address_, body, warm_up, total, 4);
    const long rss_after = server_.rss_kib();
    const auto seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    const auto m = metrics();
    const double tracked =
        metric_value(m, "esimguard_risk_tracked_keys", {"dimension=\"source_ip\""});
    const double evicted =
        metric_value(m, "esimguard_risk_evictions_total", {"dimension=\"source_ip\""});
    std::printf("spray: %d distinct addresses in %.1f s (%d answered); server VmRSS %ld KiB after "
                "%d addresses, %ld KiB after %d (+%ld KiB); source_ip keys tracked %.0f (cap %d), "
                "evicted %.0f\n",
                total, seconds, first + second, rss_before, warm_up, rss_after, total,
                rss_after - rss_before, tracked, cap, evicted);

    EXPECT_EQ(first + second, total) << "every sprayed request is answered";
    // Full, and no fuller.
    EXPECT_EQ(tracked, cap);
    // Each address is a new key of every request series (twelve, the flood
    // rule's, the probe's): all but the last `cap` entries were evicted.
    EXPECT_GE(evicted, (series + 2) * total - cap);
    // The count of the address seen before the spray was evicted with it: its
    // next request is its first again, and is served.
    EXPECT_TRUE(served(evicted_address))
        << "the count of an address seen before the spray survived it";
    // The control: the probe rule does refuse an address that reaches it.
    const std::string fresh_address = "127.0.0.15";
    for (int i = 1; i < probe_limit; ++i) {
        EXPECT_TRUE(served(fresh_address)) << i;
    }
    const auto refused = failure_of(es9p_post("initiateAuthentication", body, fresh_address));
    ASSERT_TRUE(refused.has_value()) << "the probe rule did not fire";
    EXPECT_EQ(refused->subject_code, "1.1");
    EXPECT_EQ(refused->reason_code, "1.2");
    // With the cap the server's memory stays flat but for noise (TLS
    // buffers, allocator, SQLite cache; about 2 MiB measured).
    EXPECT_LT(rss_after - rss_before, 8 * 1024) << "KiB";
    EXPECT_GT(rss_before, 0);
}

// ---- 7. the audit chain ---------------------------------------------------------

TEST_F(attack_test, when_one_audit_event_is_edited_in_the_database_then_verify_names_its_seq) {
    start_server();
    auto o = order("8949449999999947017");
    auto victim = genuine_device(victim_eid);
    auto ok = download(*victim, ac(o), std::nullopt, "127.0.0.13");
    ASSERT_TRUE(ok.has_value()) << lpa::describe(ok.error());
    const auto call = wait_for_audit("--ip", "127.0.0.13", "ok", "");
    ASSERT_TRUE(call.is_object());
    ASSERT_EQ(server_.stop(), 0);
    auto clean = audit_verify();
    ASSERT_EQ(clean.exit_code, 0) << clean.output;

    // Someone with write access to the database hides the address of one
    // call (the append-only trigger is no obstacle to them).
    const auto seq = call["seq"].get<std::int64_t>();
    auto edit =
        run_command({"sqlite3", (dir_ / "esimguard.db").string(),
                     fmt::format("DROP TRIGGER audit_events_no_update; UPDATE audit_events SET "
                                 "source_address = '198.51.100.7' WHERE seq = {};",
                                 seq)},
                    dir_ / "sqlite3.out");
    ASSERT_EQ(edit.exit_code, 0) << edit.output;

    auto v = audit_verify();
    EXPECT_EQ(v.exit_code, 1) << v.output;
    EXPECT_NE(v.output.find(fmt::format("audit chain BROKEN at event {} ", seq)), std::string::npos)
        << v.output;
    EXPECT_NE(v.output.find("edited"), std::string::npos) << v.output;
}

} // namespace
} // namespace esimguard::attack
