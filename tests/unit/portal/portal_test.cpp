// The portal's JSON API driven through portal::handle(): accounts, sessions,
// CSRF, roles, TOTP, a subscriber's own records only, audit of every action.

#include "esimguard/portal/portal.hpp"

#include "esimguard/crypto/hash.hpp"
#include "esimguard/crypto/random.hpp"
#include "esimguard/defense/audit_chain.hpp"
#include "esimguard/defense/totp.hpp"
#include "esimguard/store/audit.hpp"
#include "esimguard/store/portal_store.hpp"
#include "unit/portal/fake_defense_store.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

namespace esimguard::portal {
namespace {

using nlohmann::json;
constexpr const char* strong = "correct-Horse-battery-7-staple";

struct reply {
    int status = 0;
    json body;
    http::response raw;
};

class portal_test : public ::testing::Test {
protected:
    void SetUp() override {
        store::sqlite_config sc;
        sc.path = ":memory:";
        accounts_ = std::move(*store::create_sqlite_portal_store(sc));
        auto log = store::create_sqlite_audit_log(sc);
        ASSERT_TRUE(log);
        defense::audit_chain_config ac;
        ac.clock = [this] { return now_; };
        audit_ = defense::audit_chain::create(std::move(*log), ac);
        random_ = crypto::create_system_random_source();
        web_ = std::filesystem::temp_directory_path() /
               ("portal-web-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::create_directories(web_);
        std::ofstream(web_ / "index.html") << "<!doctype html><title>portal</title>";
        std::ofstream(web_.parent_path() / "secret.txt") << "outside";

        portal_config pc;
        pc.web_root = web_;
        pc.clock = [this] { return now_; };
        pc.admin_token_sha256 =
            crypto::sha256(as_bytes(std::string_view("admin-token-0123456789")));
        portal_deps d;
        d.accounts = accounts_.get();
        d.defense = &defense_;
        d.audit = audit_.get();
        d.random = random_.get();
        d.hooks.approve = [this](std::string_view id, std::string_view sub, std::string_view code,
                                 std::string_view) -> portal_hooks::outcome {
            approved_.push_back(std::string(id) + " " + std::string(sub) + " " + std::string(code));
            return {};
        };
        auto p = create_portal(pc, d);
        ASSERT_TRUE(p) << p.error();
        portal_ = std::move(*p);
    }
    void TearDown() override { std::filesystem::remove_all(web_); }

    reply call(std::string method, std::string target, json body = nullptr,
               const std::string& cookie = "", const std::string& csrf = "",
               std::string peer = "192.0.2.10") {
        http::request r;
        r.method = std::move(method);
        r.target = target;
        r.path = target.substr(0, target.find('?'));
        if (!body.is_null()) {
            r.body = body.dump();
            r.headers.push_back({"Content-Type", "application/json"});
        }
        if (!cookie.empty()) {
            r.headers.push_back({"Cookie", "other=1; __Host-esimguard=" + cookie});
        }
        if (!csrf.empty()) {
            r.headers.push_back({"X-CSRF-Token", csrf});
        }
        r.peer_address = std::move(peer);
        r.tls = true;
        reply out;
        out.raw = portal_->handle(r);
        out.status = out.raw.status;
        out.body = json::parse(out.raw.body, nullptr, false);
        return out;
    }

    static std::string header(const http::response& r, std::string_view name) {
        auto h = http::find_header(r.headers, name);
        return h ? std::string(*h) : std::string();
    }

    static std::string cookie_of(const reply& r) {
        auto sc = header(r.raw, "Set-Cookie");
        auto eq = sc.find('=');
        auto semi = sc.find(';');
        return sc.substr(eq + 1, semi - eq - 1);
    }

    struct session {
        std::string cookie;
        std::string csrf;
        std::string subscriber_id;
    };

    session sign_up(const std::string& name) {
        auto r = call("POST", "/portal/api/signup", json{{"name", name}, {"password", strong}});
        EXPECT_EQ(r.status, 201) << r.raw.body;
        session s{cookie_of(r), r.body.value("csrf", ""), ""};
        auto a = accounts_->find_account_by_name(name);
        if (a && a->subscriber_id) {
            s.subscriber_id = *a->subscriber_id;
        }
        return s;
    }

    std::string code_at(const bytes& secret, store::time_point t) {
        auto step = defense::totp_time_step(std::chrono::time_point_cast<std::chrono::seconds>(t));
        return *defense::totp_code(secret, *step);
    }

    std::vector<store::audit_event> audit_events() {
        store::audit_query q;
        return *audit_->activation_records(q);
    }

    store::time_point now_ =
        std::chrono::sys_days(std::chrono::year(2026) / 3 / 1) + std::chrono::hours(9);
    std::unique_ptr<store::portal_store> accounts_;
    testing::fake_defense_store defense_;
    std::unique_ptr<defense::audit_chain> audit_;
    std::unique_ptr<crypto::random_source> random_;
    std::filesystem::path web_;
    std::unique_ptr<portal> portal_;
    std::vector<std::string> approved_;
};

TEST_F(portal_test, when_sign_up_uses_a_weak_password_then_it_is_refused_with_the_reasons) {
    auto r =
        call("POST", "/portal/api/signup", json{{"name", "alice"}, {"password", "password1234"}});
    EXPECT_EQ(r.status, 400);
    ASSERT_TRUE(r.body.contains("reasons"));
    EXPECT_NE(r.body["reasons"].dump().find("too easy to guess"), std::string::npos);
    EXPECT_TRUE(header(r.raw, "Set-Cookie").empty());
    EXPECT_FALSE(accounts_->find_account_by_name("alice"));
}

TEST_F(portal_test, when_sign_up_is_strong_then_account_subscriber_and_secure_cookie_are_made) {
    auto r = call("POST", "/portal/api/signup", json{{"name", "Alice"}, {"password", strong}});
    ASSERT_EQ(r.status, 201) << r.raw.body;
    auto sc = header(r.raw, "Set-Cookie");
    EXPECT_TRUE(sc.starts_with("__Host-esimguard="));
    for (const char* attr : {"Path=/", "Secure", "HttpOnly", "SameSite=Strict"}) {
        EXPECT_NE(sc.find(attr), std::string::npos) << attr;
    }
    EXPECT_EQ(cookie_of(r).size(), 64u);
    auto a = accounts_->find_account_by_name("alice");
    ASSERT_TRUE(a);
    EXPECT_TRUE(a->password_hash.starts_with("$argon2id$"));
    ASSERT_TRUE(a->subscriber_id);
    EXPECT_TRUE(defense_.subscribers.contains(*a->subscriber_id));
    // Only the token's hash is stored.
    auto stored = accounts_->find_session(crypto::sha256(*[&] {
        bytes b;
        auto t = cookie_of(r);
        for (std::size_t i = 0; i < t.size(); i += 2) {
            b.push_back(static_cast<std::uint8_t>(std::stoi(t.substr(i, 2), nullptr, 16)));
        }
        return std::optional(b);
    }()));
    EXPECT_TRUE(stored);
}

TEST_F(portal_test, when_any_answer_is_sent_then_it_carries_csp_frame_and_referrer_headers) {
    for (auto r : {call("GET", "/portal/"), call("GET", "/portal/api/me")}) {
        auto csp = header(r.raw, "Content-Security-Policy");
        EXPECT_NE(csp.find("default-src 'self'"), std::string::npos);
        EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos);
        EXPECT_EQ(header(r.raw, "X-Frame-Options"), "DENY");
        EXPECT_EQ(header(r.raw, "Referrer-Policy"), "no-referrer");
    }
}

TEST_F(portal_test, when_a_static_path_tries_to_leave_web_root_then_it_is_not_found) {
    EXPECT_EQ(call("GET", "/portal/").status, 200);
    EXPECT_EQ(call("GET", "/portal/../secret.txt").status, 404);
    EXPECT_EQ(call("GET", "/portal/%2e%2e/secret.txt").status, 404);
    EXPECT_EQ(call("GET", "/portal/.hidden").status, 404);
}

TEST_F(portal_test, when_no_session_cookie_then_api_answers_401) {
    EXPECT_EQ(call("GET", "/portal/api/me").status, 401);
    EXPECT_EQ(call("GET", "/portal/api/lines", nullptr, std::string(64, 'a')).status, 401);
    EXPECT_EQ(call("GET", "/portal/api/lines", nullptr, "zz").status, 401);
}

TEST_F(portal_test, when_a_post_lacks_the_csrf_token_then_it_is_refused) {
    auto s = sign_up("alice");
    EXPECT_EQ(call("POST", "/portal/api/totp/begin", json::object(), s.cookie).status, 403);
    EXPECT_EQ(call("POST", "/portal/api/totp/begin", json::object(), s.cookie, "wrong").status,
              403);
    EXPECT_EQ(call("POST", "/portal/api/totp/begin", json::object(), s.cookie, s.csrf).status, 200);
}

TEST_F(portal_test, when_session_is_idle_past_the_limit_then_it_has_expired) {
    auto s = sign_up("alice");
    now_ += std::chrono::minutes(14);
    EXPECT_EQ(call("GET", "/portal/api/me", nullptr, s.cookie).status, 200);
    now_ += std::chrono::minutes(14);
    EXPECT_EQ(call("GET", "/portal/api/me", nullptr, s.cookie).status, 200);
    now_ += std::chrono::minutes(16);
    EXPECT_EQ(call("GET", "/portal/api/me", nullptr, s.cookie).status, 401);
}

TEST_F(portal_test, when_session_passes_its_absolute_lifetime_then_it_expires_even_if_busy) {
    auto s = sign_up("alice");
    for (int i = 0; i < 12 * 6; ++i) {
        now_ += std::chrono::minutes(10);
        if (call("GET", "/portal/api/me", nullptr, s.cookie).status != 200) {
            EXPECT_GE(i, 12 * 6 - 2);
            return;
        }
    }
    now_ += std::chrono::minutes(10);
    EXPECT_EQ(call("GET", "/portal/api/me", nullptr, s.cookie).status, 401);
}

TEST_F(portal_test, when_signing_in_again_then_the_token_is_rotated_and_the_old_one_dies) {
    auto s = sign_up("alice");
    auto r = call("POST", "/portal/api/signin", json{{"name", "alice"}, {"password", strong}});
    ASSERT_EQ(r.status, 200);
    EXPECT_NE(cookie_of(r), s.cookie);
    EXPECT_EQ(call("GET", "/portal/api/me", nullptr, s.cookie).status, 401);
    EXPECT_EQ(call("GET", "/portal/api/me", nullptr, cookie_of(r)).status, 200);
}

TEST_F(portal_test, when_an_account_fails_too_often_then_even_the_right_password_waits) {
    sign_up("alice");
    for (int i = 0; i < 5; ++i) {
        EXPECT_EQ(call("POST", "/portal/api/signin",
                       json{{"name", "alice"}, {"password", "wrong-password-x"}}, "", "",
                       "192.0.2." + std::to_string(20 + i))
                      .status,
                  401);
    }
    EXPECT_EQ(
        call("POST", "/portal/api/signin", json{{"name", "alice"}, {"password", strong}}).status,
        429);
    now_ += std::chrono::minutes(16);
    EXPECT_EQ(
        call("POST", "/portal/api/signin", json{{"name", "alice"}, {"password", strong}}).status,
        200);
}

TEST_F(portal_test, when_one_address_fails_too_often_then_it_is_refused_for_every_account) {
    sign_up("alice");
    for (int i = 0; i < 20; ++i) {
        call("POST", "/portal/api/signin",
             json{{"name", "user" + std::to_string(i)}, {"password", "whatever-pass"}}, "", "",
             "198.51.100.7");
    }
    EXPECT_EQ(call("POST", "/portal/api/signin", json{{"name", "alice"}, {"password", strong}}, "",
                   "", "198.51.100.7")
                  .status,
              429);
    EXPECT_EQ(call("POST", "/portal/api/signin", json{{"name", "alice"}, {"password", strong}}, "",
                   "", "198.51.100.8")
                  .status,
              200);
}

TEST_F(portal_test,
       when_totp_is_enrolled_then_sign_in_needs_the_code_and_refuses_wrong_and_replayed) {
    auto s = sign_up("alice");
    auto b = call("POST", "/portal/api/totp/begin", json::object(), s.cookie, s.csrf);
    ASSERT_EQ(b.status, 200);
    EXPECT_TRUE(b.body["uri"].get<std::string>().starts_with("otpauth://totp/"));
    auto qr = call("GET", "/portal/api/totp/qr.png", nullptr, s.cookie);
    EXPECT_EQ(qr.status, 200);
    EXPECT_TRUE(qr.raw.body.starts_with("\x89PNG"));
    auto secret = *defense::base32_decode(b.body["secret"].get<std::string>());

    EXPECT_EQ(
        call("POST", "/portal/api/totp/confirm", json{{"code", "000000"}}, s.cookie, s.csrf).status,
        400);
    auto c = call("POST", "/portal/api/totp/confirm", json{{"code", code_at(secret, now_)}},
                  s.cookie, s.csrf);
    ASSERT_EQ(c.status, 200) << c.raw.body;
    ASSERT_EQ(c.body["recovery_codes"].size(), 10u);
    EXPECT_EQ(defense_.subscribers[s.subscriber_id].totp_secret, secret);

    auto no_code =
        call("POST", "/portal/api/signin", json{{"name", "alice"}, {"password", strong}});
    EXPECT_EQ(no_code.status, 401);
    EXPECT_TRUE(no_code.body.value("need_code", false));
    EXPECT_TRUE(header(no_code.raw, "Set-Cookie").empty());

    now_ += std::chrono::seconds(30);
    auto wrong_code = code_at(secret, now_) == "123456" ? "654321" : "123456";
    EXPECT_EQ(call("POST", "/portal/api/signin",
                   json{{"name", "alice"}, {"password", strong}, {"code", wrong_code}})
                  .status,
              401);
    auto good = code_at(secret, now_);
    EXPECT_EQ(call("POST", "/portal/api/signin",
                   json{{"name", "alice"}, {"password", strong}, {"code", good}})
                  .status,
              200);
    auto replay = call("POST", "/portal/api/signin",
                       json{{"name", "alice"}, {"password", strong}, {"code", good}});
    EXPECT_EQ(replay.status, 401);
    EXPECT_NE(replay.body["error"].get<std::string>().find("already used"), std::string::npos);
}

TEST_F(portal_test, when_a_recovery_code_is_used_then_it_works_once) {
    auto s = sign_up("alice");
    auto b = call("POST", "/portal/api/totp/begin", json::object(), s.cookie, s.csrf);
    auto secret = *defense::base32_decode(b.body["secret"].get<std::string>());
    auto c = call("POST", "/portal/api/totp/confirm", json{{"code", code_at(secret, now_)}},
                  s.cookie, s.csrf);
    auto rc = c.body["recovery_codes"][3].get<std::string>();
    json in{{"name", "alice"}, {"password", strong}, {"code", rc}};
    EXPECT_EQ(call("POST", "/portal/api/signin", in).status, 200);
    EXPECT_EQ(call("POST", "/portal/api/signin", in).status, 401);
}

TEST_F(portal_test, when_a_subscriber_asks_for_another_subscribers_line_then_it_is_not_found) {
    auto a = sign_up("alice");
    auto b = sign_up("bob-the-second");
    ASSERT_TRUE(defense_.link_line("8944000000000000011", a.subscriber_id, false, now_));
    ASSERT_TRUE(defense_.link_line("8944000000000000029", b.subscriber_id, false, now_));
    defense::audit_entry e;
    e.kind = store::audit_kind::es9p_call;
    e.actor = "lpa";
    e.iccid = "8944000000000000011";
    e.eid = "89049032123451234512345678901235";
    e.outcome = "ok";
    e.reason = "getBoundProfilePackage";
    ASSERT_TRUE(audit_->append(e));

    auto own =
        call("GET", "/portal/api/lines/records?iccid=8944000000000000011", nullptr, a.cookie);
    ASSERT_EQ(own.status, 200);
    EXPECT_EQ(own.body["records"].size(), 1u);
    EXPECT_EQ(own.body["records"][0]["eid"], "89049032123451234512345678901235");

    auto other =
        call("GET", "/portal/api/lines/records?iccid=8944000000000000011", nullptr, b.cookie);
    EXPECT_EQ(other.status, 404);
    EXPECT_EQ(
        call("GET", "/portal/api/lines/records?iccid=8944000000000000099", nullptr, b.cookie).body,
        other.body);
    EXPECT_EQ(call("POST", "/portal/api/lines/freeze", json{{"iccid", "8944000000000000011"}},
                   b.cookie, b.csrf)
                  .status,
              404);
    EXPECT_FALSE(defense_.lines["8944000000000000011"].frozen);
    auto lines = call("GET", "/portal/api/lines", nullptr, b.cookie);
    ASSERT_EQ(lines.body["lines"].size(), 1u);
    EXPECT_EQ(lines.body["lines"][0]["iccid"], "8944000000000000029");
}

TEST_F(portal_test,
       when_a_subscriber_freezes_their_line_then_the_store_has_it_frozen_and_audit_says_so) {
    auto a = sign_up("alice");
    ASSERT_TRUE(defense_.link_line("8944000000000000011", a.subscriber_id, false, now_));
    auto r =
        call("POST", "/portal/api/lines/freeze",
             json{{"iccid", "8944000000000000011"}, {"reason", "lost my phone"}}, a.cookie, a.csrf);
    ASSERT_EQ(r.status, 200);
    EXPECT_TRUE(defense_.lines["8944000000000000011"].frozen);
    EXPECT_EQ(defense_.lines["8944000000000000011"].frozen_reason, "lost my phone");
    auto events = audit_events();
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.back().kind, "subscriber_action");
    EXPECT_EQ(events.back().actor, "subscriber:" + a.subscriber_id);
    EXPECT_EQ(events.back().iccid, "8944000000000000011");
    EXPECT_NE(events.back().detail.find("freeze_line"), std::string::npos);
}

TEST_F(portal_test,
       when_a_subscriber_reports_a_device_that_never_held_their_line_then_it_is_refused) {
    auto a = sign_up("alice");
    ASSERT_TRUE(defense_.link_line("8944000000000000011", a.subscriber_id, false, now_));
    ASSERT_TRUE(defense_.add_known_eid("8944000000000000011", "89049032123451234512345678901235"));
    EXPECT_EQ(call("POST", "/portal/api/stolen", json{{"eid", "89049032123451234512345678909999"}},
                   a.cookie, a.csrf)
                  .status,
              404);
    EXPECT_TRUE(defense_.stolen.empty());
    EXPECT_EQ(call("POST", "/portal/api/stolen", json{{"eid", "89049032123451234512345678901235"}},
                   a.cookie, a.csrf)
                  .status,
              200);
    ASSERT_EQ(defense_.stolen.size(), 1u);
    ASSERT_EQ(defense_.alerts.size(), 1u);
    EXPECT_EQ(defense_.alerts[0].subscriber_id, a.subscriber_id);
    auto inbox = call("GET", "/portal/api/alerts", nullptr, a.cookie);
    EXPECT_EQ(inbox.body["alerts"].size(), 1u);
}

TEST_F(portal_test, when_a_subscriber_approves_another_subscribers_approval_then_it_is_not_found) {
    auto a = sign_up("alice");
    auto b = sign_up("bob-the-second");
    store::approval_record ap;
    ap.id = "ap1";
    ap.subscriber_id = a.subscriber_id;
    ap.iccid = "8944000000000000011";
    ap.eid = "89049032123451234512345678901235";
    ap.created_at = now_;
    ap.expires_at = now_ + std::chrono::minutes(10);
    ASSERT_TRUE(defense_.add_approval(ap));
    EXPECT_EQ(call("GET", "/portal/api/approvals", nullptr, b.cookie).body["approvals"].size(), 0u);
    EXPECT_EQ(call("POST", "/portal/api/approvals/approve", json{{"id", "ap1"}, {"code", "123456"}},
                   b.cookie, b.csrf)
                  .status,
              404);
    EXPECT_TRUE(approved_.empty());
    EXPECT_EQ(call("GET", "/portal/api/approvals", nullptr, a.cookie).body["approvals"].size(), 1u);
    EXPECT_EQ(call("POST", "/portal/api/approvals/approve", json{{"id", "ap1"}, {"code", "123456"}},
                   a.cookie, a.csrf)
                  .status,
              200);
    ASSERT_EQ(approved_.size(), 1u);
    EXPECT_EQ(approved_[0], "ap1 " + a.subscriber_id + " 123456");
}

TEST_F(portal_test, when_a_subscriber_calls_an_operator_route_then_it_is_forbidden) {
    auto a = sign_up("alice");
    EXPECT_EQ(call("GET", "/portal/api/op/orders", nullptr, a.cookie).status, 403);
    EXPECT_EQ(call("POST", "/portal/api/op/blocklist/add",
                   json{{"kind", "ip"}, {"value", "192.0.2.1"}}, a.cookie, a.csrf)
                  .status,
              403);
    EXPECT_TRUE(defense_.blocks.empty());
}

TEST_F(portal_test, when_sign_up_tries_to_make_an_operator_then_only_the_admin_token_can) {
    auto r = call("POST", "/portal/api/signup",
                  json{{"name", "eve"}, {"password", strong}, {"role", "operator"}});
    ASSERT_EQ(r.status, 201);
    EXPECT_EQ(accounts_->find_account_by_name("eve")->role, store::portal_role::subscriber);
    EXPECT_EQ(call("POST", "/portal/api/admin/accounts",
                   json{{"name", "op1"},
                        {"password", strong},
                        {"role", "operator"},
                        {"operator_id", "opA"}})
                  .status,
              401);

    http::request req;
    req.method = "POST";
    req.target = req.path = "/portal/api/admin/accounts";
    req.body =
        json{{"name", "op1"}, {"password", strong}, {"role", "operator"}, {"operator_id", "opA"}}
            .dump();
    req.headers.push_back({"Authorization", "Bearer admin-token-0123456789"});
    req.headers.push_back({"Content-Type", "application/json"});
    EXPECT_EQ(portal_->handle(req).status, 201);
    auto op = accounts_->find_account_by_name("op1");
    ASSERT_TRUE(op);
    EXPECT_EQ(op->role, store::portal_role::operator_staff);

    auto s = call("POST", "/portal/api/signin", json{{"name", "op1"}, {"password", strong}});
    ASSERT_EQ(s.status, 200);
    EXPECT_EQ(call("POST", "/portal/api/op/blocklist/add",
                   json{{"kind", "ip"}, {"value", "192.0.2.1"}, {"ttl_seconds", 600}}, cookie_of(s),
                   s.body["csrf"].get<std::string>())
                  .status,
              200);
    ASSERT_EQ(defense_.blocks.size(), 1u);
    EXPECT_EQ(defense_.blocks[0].expires, now_ + std::chrono::seconds(600));
    auto events = audit_events();
    EXPECT_EQ(events.back().kind, "admin_action");
    EXPECT_EQ(events.back().actor, "operator:opA:op1");
}

TEST_F(portal_test, when_a_request_body_is_not_json_then_it_is_a_400) {
    http::request req;
    req.method = "POST";
    req.target = req.path = "/portal/api/signin";
    req.body = "{not json";
    req.headers.push_back({"Content-Type", "application/json"});
    EXPECT_EQ(portal_->handle(req).status, 400);
}

TEST_F(portal_test, when_a_post_is_not_sent_as_json_then_it_is_refused_so_html_forms_cannot_post) {
    sign_up("alice");
    http::request req;
    req.method = "POST";
    req.target = req.path = "/portal/api/signin";
    req.body = json{{"name", "alice"}, {"password", strong}}.dump();
    req.headers.push_back({"Content-Type", "text/plain"});
    EXPECT_EQ(portal_->handle(req).status, 415);
    req.headers.back().value = "application/json";
    EXPECT_EQ(portal_->handle(req).status, 200);
}

TEST_F(portal_test, when_sign_up_gives_an_email_then_the_subscriber_is_mailed_there) {
    auto r = call("POST", "/portal/api/signup",
                  json{{"name", "carol"}, {"password", strong}, {"email", "carol@example.org"}});
    ASSERT_EQ(r.status, 201);
    auto a = accounts_->find_account_by_name("carol");
    ASSERT_TRUE(a && a->subscriber_id);
    EXPECT_EQ(defense_.subscribers[*a->subscriber_id].email, "carol@example.org");
    EXPECT_EQ(call("POST", "/portal/api/signup",
                   json{{"name", "dave"}, {"password", strong}, {"email", "dave\r\nBcc: x@y"}})
                  .status,
              400);
}

} // namespace
} // namespace esimguard::portal
