// The portal's JSON API driven through portal::handle(): accounts, sessions,
// CSRF, roles, TOTP, a subscriber's own records only, operator staff kept to
// their own operator, a subscriber's release of a paused order, audit of
// every action.

#include "esimguard/portal/portal.hpp"

#include "esimguard/crypto/hash.hpp"
#include "esimguard/crypto/random.hpp"
#include "esimguard/defense/audit_chain.hpp"
#include "esimguard/defense/totp.hpp"
#include "esimguard/store/audit.hpp"
#include "esimguard/store/portal_store.hpp"
#include "esimguard/store/sqlite_store.hpp"
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
        main_ = std::move(*store::create_sqlite_store(sc));
        for (const char* op : {"opA", "opB"}) {
            store::operator_record o;
            o.id = op;
            o.display_name = op;
            o.token_sha256_hex = std::string(64, op[2] == 'A' ? 'a' : 'b');
            o.created_at = now_;
            ASSERT_TRUE(main_->add_operator(o));
        }
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
        d.main_store = main_.get();
        d.audit = audit_.get();
        d.random = random_.get();
        d.hooks.approve = [this](std::string_view id, std::string_view sub, std::string_view code,
                                 std::string_view) -> portal_hooks::outcome {
            approved_.push_back(std::string(id) + " " + std::string(sub) + " " + std::string(code));
            return {};
        };
        d.hooks.reset_risk = [this](std::string_view rule, std::string_view key) {
            risk_resets_.push_back(std::string(rule) + " " + std::string(key));
            return true;
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

    // An account made the way the admin route makes it, then signed in.
    session staff(const std::string& name, std::optional<std::string> operator_id,
                  store::portal_role role = store::portal_role::operator_staff) {
        auto a = create_account(*accounts_, &defense_, *random_, name, strong, role, std::nullopt,
                                std::move(operator_id), now_);
        EXPECT_TRUE(a) << a.error();
        auto r = call("POST", "/portal/api/signin", json{{"name", name}, {"password", strong}});
        EXPECT_EQ(r.status, 200) << r.raw.body;
        return {cookie_of(r), r.body.value("csrf", ""), ""};
    }

    void add_profile(const std::string& operator_id, const std::string& iccid) {
        store::profile_record p;
        p.iccid = iccid;
        p.operator_id = operator_id;
        p.profile_type = "gold";
        p.package = {0x30, 0x03, 0x02, 0x01, 0x01};
        auto r = main_->add_profile(p, now_);
        ASSERT_TRUE(r) << r.error().message;
    }

    // A released order of a new profile, bound to `eid`.
    store::order_record released_order(const std::string& operator_id, const std::string& iccid,
                                       const std::string& eid) {
        add_profile(operator_id, iccid);
        store::order_request req;
        req.order_id = "order-" + iccid;
        req.operator_id = operator_id;
        req.iccid = iccid;
        req.eid = eid;
        req.expires_at = now_ + std::chrono::hours(24);
        EXPECT_TRUE(main_->create_order(req, now_));
        store::confirm_request c;
        c.order_id = req.order_id;
        c.matching_id = "MID-" + iccid;
        c.release = true;
        auto o = main_->confirm_order(c, now_);
        EXPECT_TRUE(o) << o.error().message;
        return o.value_or(store::order_record{});
    }

    void append_download(const std::string& iccid, const std::string& eid,
                         const std::string& address) {
        defense::audit_entry e;
        e.kind = store::audit_kind::es9p_call;
        e.actor = "lpa";
        e.iccid = iccid;
        e.eid = eid;
        e.source_address = address;
        e.outcome = "ok";
        e.reason = "getBoundProfilePackage";
        ASSERT_TRUE(audit_->append(e));
    }

    std::string enrol_totp(const session& s, bytes& secret) {
        auto b = call("POST", "/portal/api/totp/begin", json::object(), s.cookie, s.csrf);
        secret = *defense::base32_decode(b.body["secret"].get<std::string>());
        auto c = call("POST", "/portal/api/totp/confirm", json{{"code", code_at(secret, now_)}},
                      s.cookie, s.csrf);
        EXPECT_EQ(c.status, 200) << c.raw.body;
        return code_at(secret, now_);
    }

    store::time_point now_ =
        std::chrono::sys_days(std::chrono::year(2026) / 3 / 1) + std::chrono::hours(9);
    std::unique_ptr<store::portal_store> accounts_;
    testing::fake_defense_store defense_;
    std::unique_ptr<defense::audit_chain> audit_;
    std::unique_ptr<crypto::random_source> random_;
    std::unique_ptr<store::store> main_;
    std::filesystem::path web_;
    std::unique_ptr<portal> portal_;
    std::vector<std::string> approved_;
    std::vector<std::string> risk_resets_;
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

// ---- operator isolation -------------------------------------------------

constexpr const char* iccid_a = "8944000000000000011";
constexpr const char* iccid_b = "8944000000000000029";
constexpr const char* eid_a = "89049032123451234512345678901235";
constexpr const char* eid_b = "89049032123451234512345678909965";

TEST_F(portal_test, when_operator_b_searches_the_audit_trail_then_no_event_of_operator_a_is_shown) {
    add_profile("opA", iccid_a);
    add_profile("opB", iccid_b);
    append_download(iccid_a, eid_a, "203.0.113.5");
    append_download(iccid_b, eid_b, "203.0.113.5");
    auto b = staff("desk-b", "opB");

    auto by_iccid =
        call("GET", std::string("/portal/api/op/audit?iccid=") + iccid_a, nullptr, b.cookie);
    EXPECT_EQ(by_iccid.status, 404);
    EXPECT_EQ(by_iccid.raw.body.find(eid_a), std::string::npos);
    auto by_eid = call("GET", std::string("/portal/api/op/audit?eid=") + eid_a, nullptr, b.cookie);
    ASSERT_EQ(by_eid.status, 200);
    EXPECT_EQ(by_eid.body["records"].size(), 0u);
    // An address both operators' devices used: only B's own event.
    auto by_ip = call("GET", "/portal/api/op/audit?ip=203.0.113.5", nullptr, b.cookie);
    ASSERT_EQ(by_ip.status, 200);
    ASSERT_EQ(by_ip.body["records"].size(), 1u);
    EXPECT_EQ(by_ip.body["records"][0]["iccid"], iccid_b);
}

TEST_F(portal_test, when_operator_staff_search_an_eid_then_events_naming_no_profile_are_left_out) {
    add_profile("opB", iccid_b);
    append_download(iccid_b, eid_b, "203.0.113.5");
    defense::audit_entry e;
    e.kind = store::audit_kind::es9p_call;
    e.actor = "lpa";
    e.eid = eid_b;
    e.outcome = "refused";
    e.reason = "initiateAuthentication";
    ASSERT_TRUE(audit_->append(e));
    auto b = staff("desk-b", "opB");
    auto r = call("GET", std::string("/portal/api/op/audit?eid=") + eid_b, nullptr, b.cookie);
    ASSERT_EQ(r.status, 200);
    ASSERT_EQ(r.body["records"].size(), 1u);
    EXPECT_EQ(r.body["records"][0]["iccid"], iccid_b);

    auto admin = staff("root-admin", std::nullopt, store::portal_role::admin);
    auto all = call("GET", std::string("/portal/api/op/audit?eid=") + eid_b, nullptr, admin.cookie);
    EXPECT_EQ(all.body["records"].size(), 2u);
}

TEST_F(portal_test, when_operator_b_lists_subscribers_then_only_those_on_its_own_lines_appear) {
    add_profile("opA", iccid_a);
    add_profile("opB", iccid_b);
    auto alice = sign_up("alice");
    auto carol = sign_up("carol");
    ASSERT_TRUE(defense_.link_line(iccid_a, alice.subscriber_id, false, now_));
    // Carol has a line with each operator.
    ASSERT_TRUE(defense_.link_line("8944000000000000037", carol.subscriber_id, false, now_));
    add_profile("opA", "8944000000000000037");
    ASSERT_TRUE(defense_.link_line(iccid_b, carol.subscriber_id, false, now_));
    auto b = staff("desk-b", "opB");

    auto r = call("GET", "/portal/api/op/subscribers", nullptr, b.cookie);
    ASSERT_EQ(r.status, 200);
    ASSERT_EQ(r.body["subscribers"].size(), 1u);
    EXPECT_EQ(r.body["subscribers"][0]["account"], "carol");
    ASSERT_EQ(r.body["subscribers"][0]["lines"].size(), 1u);
    EXPECT_EQ(r.body["subscribers"][0]["lines"][0]["iccid"], iccid_b);
    EXPECT_EQ(r.raw.body.find("alice"), std::string::npos);

    auto admin = staff("root-admin", std::nullopt, store::portal_role::admin);
    auto all = call("GET", "/portal/api/op/subscribers", nullptr, admin.cookie);
    EXPECT_EQ(all.body["subscribers"].size(), 2u);
}

TEST_F(portal_test, when_operator_b_reads_the_stats_then_operator_a_downloads_are_not_counted) {
    add_profile("opA", iccid_a);
    add_profile("opB", iccid_b);
    append_download(iccid_a, eid_a, "203.0.113.5");
    append_download(iccid_a, eid_a, "203.0.113.5");
    append_download(iccid_b, eid_b, "203.0.113.6");
    auto total = [&](const session& s) {
        auto r = call("GET", "/portal/api/op/stats", nullptr, s.cookie);
        EXPECT_EQ(r.status, 200);
        int n = 0;
        for (const auto& v : r.body["downloads"]) {
            n += v.get<int>();
        }
        return n;
    };
    EXPECT_EQ(total(staff("desk-b", "opB")), 1);
    EXPECT_EQ(total(staff("desk-a", "opA")), 2);
    EXPECT_EQ(total(staff("root-admin", std::nullopt, store::portal_role::admin)), 3);
}

TEST_F(portal_test,
       when_operator_b_acknowledges_an_alert_not_about_its_lines_then_it_is_not_found) {
    add_profile("opA", iccid_a);
    add_profile("opB", iccid_b);
    auto alert = [&](std::string id, std::optional<std::string> op,
                     std::optional<std::string> iccid) {
        store::alert_row a;
        a.id = std::move(id);
        a.at = now_;
        a.severity = "warning";
        a.rule = "velocity";
        a.summary = "s";
        a.json = "{}";
        a.operator_id = std::move(op);
        a.iccid = std::move(iccid);
        ASSERT_TRUE(defense_.add_alert(a));
    };
    alert("of-a", "opA", iccid_a);
    alert("platform", std::nullopt, std::nullopt);
    alert("b-tag-on-a-line", "opB", iccid_a);
    alert("of-b", "opB", iccid_b);
    auto b = staff("desk-b", "opB");
    std::map<std::string, bool> may;
    auto listed = call("GET", "/portal/api/op/alerts", nullptr, b.cookie);
    for (const auto& a : listed.body["alerts"]) {
        may[a["id"].get<std::string>()] = a["can_acknowledge"].get<bool>();
    }
    EXPECT_EQ(may, (std::map<std::string, bool>{
                       {"platform", false}, {"b-tag-on-a-line", false}, {"of-b", true}}));
    for (const char* id : {"of-a", "platform", "b-tag-on-a-line", "nonexistent"}) {
        auto r = call("POST", "/portal/api/op/alerts/ack", json{{"id", id}}, b.cookie, b.csrf);
        EXPECT_EQ(r.status, 404) << id;
    }
    for (const auto& a : defense_.alerts) {
        EXPECT_FALSE(a.acknowledged_at) << a.id;
    }
    EXPECT_EQ(
        call("POST", "/portal/api/op/alerts/ack", json{{"id", "of-b"}}, b.cookie, b.csrf).status,
        200);
    auto admin = staff("root-admin", std::nullopt, store::portal_role::admin);
    EXPECT_EQ(call("POST", "/portal/api/op/alerts/ack", json{{"id", "platform"}}, admin.cookie,
                   admin.csrf)
                  .status,
              200);
}

TEST_F(portal_test, when_the_inventory_is_unavailable_then_operator_staff_cannot_link_a_line) {
    sign_up("alice");
    auto b = staff("desk-b", "opB");
    portal_deps d;
    d.accounts = accounts_.get();
    d.defense = &defense_;
    d.audit = audit_.get();
    d.random = random_.get();
    auto without_inventory = create_portal(portal_->config(), d);
    ASSERT_TRUE(without_inventory);
    portal_ = std::move(*without_inventory);
    EXPECT_EQ(call("POST", "/portal/api/op/lines", json{{"iccid", iccid_a}, {"account", "alice"}},
                   b.cookie, b.csrf)
                  .status,
              503);
    EXPECT_FALSE(defense_.find_line(iccid_a));
}

// ---- a subscriber releases a paused order --------------------------------

TEST_F(portal_test,
       when_a_subscriber_releases_a_risk_paused_order_on_their_line_then_it_is_lifted) {
    auto a = sign_up("alice");
    auto o = released_order("opA", iccid_a, eid_a);
    ASSERT_TRUE(defense_.link_line(iccid_a, a.subscriber_id, false, now_));
    ASSERT_TRUE(main_->lock_order(o.order_id, "risk:download_velocity", now_));

    auto paused = call("GET", "/portal/api/orders/paused", nullptr, a.cookie);
    ASSERT_EQ(paused.status, 200);
    ASSERT_EQ(paused.body["orders"].size(), 1u);
    EXPECT_EQ(paused.body["orders"][0]["order_id"], o.order_id);
    EXPECT_TRUE(paused.body["orders"][0]["releasable"].get<bool>());

    auto r = call("POST", "/portal/api/orders/release", json{{"order_id", o.order_id}}, a.cookie,
                  a.csrf);
    ASSERT_EQ(r.status, 200) << r.raw.body;
    EXPECT_FALSE(main_->find_order(o.order_id)->locked);
    EXPECT_EQ(risk_resets_, (std::vector<std::string>{"download_velocity " + o.order_id,
                                                      std::string("download_velocity ") + iccid_a,
                                                      std::string("download_velocity ") + eid_a}));
    auto events = audit_events();
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.back().kind, "subscriber_action");
    EXPECT_EQ(events.back().actor, "subscriber:" + a.subscriber_id);
    EXPECT_EQ(events.back().iccid, iccid_a);
    EXPECT_NE(events.back().detail.find("release_order"), std::string::npos);
    EXPECT_EQ(call("GET", "/portal/api/orders/paused", nullptr, a.cookie).body["orders"].size(),
              0u);
}

TEST_F(portal_test,
       when_a_subscriber_releases_another_subscribers_paused_order_then_it_is_not_found) {
    auto a = sign_up("alice");
    auto b = sign_up("bob-the-second");
    auto o = released_order("opA", iccid_a, eid_a);
    ASSERT_TRUE(defense_.link_line(iccid_a, a.subscriber_id, false, now_));
    ASSERT_TRUE(main_->lock_order(o.order_id, "risk:download_velocity", now_));

    EXPECT_EQ(call("GET", "/portal/api/orders/paused", nullptr, b.cookie).body["orders"].size(),
              0u);
    auto r = call("POST", "/portal/api/orders/release", json{{"order_id", o.order_id}}, b.cookie,
                  b.csrf);
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(call("POST", "/portal/api/orders/release", json{{"order_id", "no-such-order"}},
                   b.cookie, b.csrf)
                  .body,
              r.body);
    EXPECT_TRUE(main_->find_order(o.order_id)->locked);
    EXPECT_TRUE(risk_resets_.empty());
    // The owner can.
    EXPECT_EQ(
        call("POST", "/portal/api/orders/release", json{{"order_id", o.order_id}}, a.cookie, a.csrf)
            .status,
        200);
}

TEST_F(portal_test, when_a_release_lacks_the_csrf_token_then_the_order_stays_paused) {
    auto a = sign_up("alice");
    auto o = released_order("opA", iccid_a, eid_a);
    ASSERT_TRUE(defense_.link_line(iccid_a, a.subscriber_id, false, now_));
    ASSERT_TRUE(main_->lock_order(o.order_id, "risk:download_velocity", now_));
    EXPECT_EQ(
        call("POST", "/portal/api/orders/release", json{{"order_id", o.order_id}}, a.cookie).status,
        403);
    EXPECT_EQ(call("POST", "/portal/api/orders/release", json{{"order_id", o.order_id}}, a.cookie,
                   "wrong")
                  .status,
              403);
    EXPECT_TRUE(main_->find_order(o.order_id)->locked);
    EXPECT_EQ(
        call("POST", "/portal/api/orders/release", json{{"order_id", o.order_id}}, a.cookie, a.csrf)
            .status,
        200);
}

TEST_F(
    portal_test,
    when_an_order_is_locked_for_confirmation_code_guessing_then_the_subscriber_cannot_release_it) {
    auto a = sign_up("alice");
    auto o = released_order("opA", iccid_a, eid_a);
    ASSERT_TRUE(defense_.link_line(iccid_a, a.subscriber_id, false, now_));
    ASSERT_TRUE(main_->lock_order(o.order_id, "cc_retries_exceeded", now_));
    EXPECT_EQ(
        call("POST", "/portal/api/orders/release", json{{"order_id", o.order_id}}, a.cookie, a.csrf)
            .status,
        409);
    EXPECT_TRUE(main_->find_order(o.order_id)->locked);
}

TEST_F(portal_test, when_the_subscriber_has_totp_then_a_release_needs_a_right_code) {
    auto a = sign_up("alice");
    bytes secret;
    enrol_totp(a, secret);
    auto o = released_order("opA", iccid_a, eid_a);
    ASSERT_TRUE(defense_.link_line(iccid_a, a.subscriber_id, false, now_));
    ASSERT_TRUE(main_->lock_order(o.order_id, "risk:download_velocity", now_));
    now_ += std::chrono::seconds(30);
    const auto right = code_at(secret, now_);
    const auto wrong = right == "123456" ? "654321" : "123456";
    EXPECT_EQ(
        call("POST", "/portal/api/orders/release", json{{"order_id", o.order_id}}, a.cookie, a.csrf)
            .status,
        400);
    EXPECT_EQ(call("POST", "/portal/api/orders/release",
                   json{{"order_id", o.order_id}, {"code", wrong}}, a.cookie, a.csrf)
                  .status,
              400);
    EXPECT_TRUE(main_->find_order(o.order_id)->locked);
    EXPECT_EQ(call("POST", "/portal/api/orders/release",
                   json{{"order_id", o.order_id}, {"code", right}}, a.cookie, a.csrf)
                  .status,
              200);
    EXPECT_FALSE(main_->find_order(o.order_id)->locked);
}

TEST_F(portal_test, when_release_codes_are_guessed_too_often_then_even_the_right_code_waits) {
    auto a = sign_up("alice");
    bytes secret;
    enrol_totp(a, secret);
    auto o = released_order("opA", iccid_a, eid_a);
    ASSERT_TRUE(defense_.link_line(iccid_a, a.subscriber_id, false, now_));
    ASSERT_TRUE(main_->lock_order(o.order_id, "risk:download_velocity", now_));
    now_ += std::chrono::seconds(30);
    const auto right = code_at(secret, now_);
    for (int i = 0; i < 5; ++i) {
        auto guess = std::to_string((std::stoi(right) + 500'000 + i) % 1'000'000);
        guess.insert(0, 6 - guess.size(), '0');
        EXPECT_EQ(call("POST", "/portal/api/orders/release",
                       json{{"order_id", o.order_id}, {"code", guess}}, a.cookie, a.csrf)
                      .status,
                  400);
    }
    EXPECT_EQ(call("POST", "/portal/api/orders/release",
                   json{{"order_id", o.order_id}, {"code", right}}, a.cookie, a.csrf)
                  .status,
              429);
    EXPECT_TRUE(main_->find_order(o.order_id)->locked);
}

} // namespace
} // namespace esimguard::portal
