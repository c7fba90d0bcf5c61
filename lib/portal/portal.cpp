// The portal's request handling (issue 5): sessions and CSRF, roles, the
// JSON API for subscribers, operator staff and admins, and static files.

#include "esimguard/portal/portal.hpp"

#include "esimguard/core/bytes.hpp"
#include "esimguard/crypto/hash.hpp"
#include "esimguard/crypto/mac.hpp"
#include "esimguard/crypto/random.hpp"
#include "esimguard/defense/totp.hpp"
#include "esimguard/portal/password.hpp"
#include "esimguard/qr/qr.hpp"
#include "esimguard/rsp/activation_code.hpp"
#include "login_limiter.hpp"
#include "util.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>
#include <sstream>

namespace esimguard::portal {

using detail::json;
using detail::json_error;
using detail::json_response;

namespace {

constexpr std::size_t token_bytes = 32;

// Sign-in names: what a person types, safe to show and to log.
bool valid_name(std::string_view n) {
    if (n.size() < 3 || n.size() > 64) {
        return false;
    }
    return std::all_of(n.begin(), n.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '.' || c == '_' || c == '-' || c == '@';
    });
}

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

bool digits_only(std::string_view s, std::size_t min, std::size_t max) {
    return s.size() >= min && s.size() <= max &&
           std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

std::optional<std::string> str_field(const json& j, const char* key, std::size_t max = 256) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) {
        return std::nullopt;
    }
    auto s = it->get<std::string>();
    if (s.size() > max) {
        return std::nullopt;
    }
    return s;
}

std::expected<std::string, std::string> random_hex(crypto::random_source& random, std::size_t n) {
    auto b = random.generate(n);
    if (!b) {
        return std::unexpected("the random source failed");
    }
    return to_hex(*b);
}

std::string content_type_of(std::string_view name) {
    auto ends = [&](std::string_view ext) { return name.ends_with(ext); };
    if (ends(".html")) {
        return "text/html; charset=utf-8";
    }
    if (ends(".js")) {
        return "text/javascript; charset=utf-8";
    }
    if (ends(".css")) {
        return "text/css; charset=utf-8";
    }
    if (ends(".svg")) {
        return "image/svg+xml";
    }
    if (ends(".png")) {
        return "image/png";
    }
    return "application/octet-stream";
}

json line_json(const store::line_record& l) {
    json j{{"iccid", l.iccid},
           {"frozen", l.frozen},
           {"step_up_on_new_eid", l.step_up_on_new_eid},
           {"known_eids", l.known_eids},
           {"linked_at", detail::time_text(l.linked_at)}};
    if (l.frozen_reason) {
        j["frozen_reason"] = *l.frozen_reason;
    }
    if (l.frozen_at) {
        j["frozen_at"] = detail::time_text(*l.frozen_at);
    }
    return j;
}

json event_json(const store::audit_event& e) {
    json j{{"seq", e.seq},   {"at", detail::time_text(e.at)}, {"actor", e.actor},
           {"kind", e.kind}, {"outcome", e.outcome},          {"reason", e.reason}};
    j["eid"] = e.eid ? json(*e.eid) : json(nullptr);
    j["iccid"] = e.iccid ? json(*e.iccid) : json(nullptr);
    j["address"] = e.source_address ? json(*e.source_address) : json(nullptr);
    auto detail = json::parse(e.detail, nullptr, false);
    j["detail"] = detail.is_discarded() ? json::object() : detail;
    return j;
}

json alert_json(const store::alert_row& a) {
    json j{{"id", a.id},
           {"at", detail::time_text(a.at)},
           {"severity", a.severity},
           {"rule", a.rule},
           {"summary", a.summary},
           {"acknowledged", a.acknowledged_at.has_value()}};
    auto full = json::parse(a.json, nullptr, false);
    if (!full.is_discarded() && full.contains("evidence")) {
        j["evidence"] = full["evidence"];
    }
    if (a.iccid) {
        j["iccid"] = *a.iccid;
    }
    if (a.eid) {
        j["eid"] = *a.eid;
    }
    return j;
}

json approval_json(const store::approval_record& a) {
    return json{{"id", a.id},
                {"iccid", a.iccid},
                {"eid", a.eid},
                {"rule", a.rule},
                {"state", std::string(store::to_string(a.state))},
                {"created_at", detail::time_text(a.created_at)},
                {"expires_at", detail::time_text(a.expires_at)}};
}

// What the request was made as: the account behind a valid session.
struct caller {
    store::portal_account account;
    store::portal_session session;
    bytes token_sha256;
};

class portal_impl final : public portal {
public:
    portal_impl(portal_config config, portal_deps deps)
        : config_(std::move(config)), deps_(std::move(deps)),
          addresses_(config_.max_tracked_addresses, config_.max_failures_per_address,
                     config_.lockout) {
        if (deps_.metrics) {
            auto& m = *deps_.metrics;
            requests_ = &m.counter("portal_requests_total", "Portal requests answered");
            signin_ok_ = &m.counter("portal_signins_total", "Portal sign-ins", {{"outcome", "ok"}});
            signin_failed_ =
                &m.counter("portal_signins_total", "Portal sign-ins", {{"outcome", "failed"}});
            signin_limited_ = &m.counter("portal_signins_total", "Portal sign-ins",
                                         {{"outcome", "rate_limited"}});
            refused_ = &m.counter("portal_refused_total",
                                  "Portal requests refused (auth, CSRF, role, bad input)");
        }
    }

    const portal_config& config() const override { return config_; }

    http::response handle(const http::request& req) override {
        count(requests_);
        try {
            return dispatch(req);
        } catch (const std::exception& e) {
            spdlog::error("portal: {} {}: {}", req.method, req.path, e.what());
            return json_error(500, "internal error");
        }
    }

private:
    store::time_point now() const {
        return config_.clock ? config_.clock() : std::chrono::system_clock::now();
    }

    static void count(http::metric_counter* c) {
        if (c != nullptr) {
            c->inc();
        }
    }

    http::response refuse(int status, std::string_view message) {
        count(refused_);
        return json_error(status, message);
    }

    void audit(store::audit_kind kind, const std::string& actor, const http::request& req,
               std::string outcome, std::string reason, json detail = json::object(),
               std::optional<std::string> iccid = std::nullopt,
               std::optional<std::string> eid = std::nullopt) {
        if (deps_.audit == nullptr) {
            return;
        }
        defense::audit_entry e;
        e.kind = kind;
        e.actor = actor;
        e.source_address = req.peer_address;
        e.iccid = std::move(iccid);
        e.eid = std::move(eid);
        e.outcome = std::move(outcome);
        e.reason = std::move(reason);
        e.detail_json = detail.dump();
        if (auto r = deps_.audit->append(e); !r) {
            spdlog::error("portal: audit append failed: {}", r.error().message);
        }
    }

    static store::audit_kind kind_of(const store::portal_account& a) {
        return a.role == store::portal_role::subscriber ? store::audit_kind::subscriber_action
                                                        : store::audit_kind::admin_action;
    }

    static std::string actor_of(const store::portal_account& a) {
        switch (a.role) {
        case store::portal_role::subscriber:
            return "subscriber:" + a.subscriber_id.value_or(a.id);
        case store::portal_role::operator_staff:
            return "operator:" + a.operator_id.value_or("?") + ":" + a.name;
        case store::portal_role::admin:
            return "admin:" + a.name;
        }
        return "portal";
    }

    void audit_as(const caller& c, const http::request& req, std::string action,
                  std::string outcome = "ok", json detail = json::object(),
                  std::optional<std::string> iccid = std::nullopt,
                  std::optional<std::string> eid = std::nullopt) {
        detail["action"] = action;
        audit(kind_of(c.account), actor_of(c.account), req, std::move(outcome), "portal " + action,
              std::move(detail), std::move(iccid), std::move(eid));
    }

    // ---- routing ------------------------------------------------------------

    http::response dispatch(const http::request& req) {
        std::string_view path = req.path;
        if (!path.starts_with(config_.prefix)) {
            return refuse(404, "not found");
        }
        path.remove_prefix(config_.prefix.size());
        if (path.empty()) {
            http::response r = http::response::with_body(302, "");
            r.headers.push_back({"Location", config_.prefix + "/"});
            detail::add_security_headers(r);
            return r;
        }
        if (path.starts_with("/api/")) {
            return api(req, path.substr(5));
        }
        if (req.method != "GET" && req.method != "HEAD") {
            return refuse(405, "method not allowed");
        }
        return static_file(path == "/" ? std::string_view("/index.html") : path);
    }

    http::response static_file(std::string_view path) {
        // One level of plain names only: no '..', no hidden files, no
        // sub-directories, so a request can never leave web_root.
        std::string_view name = path.substr(1);
        bool ok = !name.empty() && name.size() <= 64 && name.front() != '.' &&
                  std::all_of(name.begin(), name.end(),
                              [](unsigned char c) {
                                  return std::isalnum(c) || c == '-' || c == '_' || c == '.';
                              }) &&
                  name.find("..") == std::string_view::npos;
        if (!ok) {
            return refuse(404, "not found");
        }
        std::ifstream in(config_.web_root / std::string(name), std::ios::binary);
        if (!in) {
            return refuse(404, "not found");
        }
        std::ostringstream body;
        body << in.rdbuf();
        auto r = http::response::with_body(200, body.str(), content_type_of(name));
        detail::add_security_headers(r);
        return r;
    }

    http::response api(const http::request& req, std::string_view route) {
        const bool post = req.method == "POST";
        const bool get = req.method == "GET";
        if (!post && !get) {
            return refuse(405, "method not allowed");
        }
        json body = json::object();
        if (post) {
            // An HTML form can post text/plain that parses as JSON, but not
            // application/json without a CORS preflight this server never
            // grants: requiring it stops cross-site posts, sign-in included.
            auto type = http::find_header(req.headers, "Content-Type");
            if (!type || !type->starts_with("application/json")) {
                return refuse(415, "send JSON (Content-Type: application/json)");
            }
            if (!req.body.empty()) {
                body = json::parse(req.body, nullptr, false);
                if (body.is_discarded() || !body.is_object()) {
                    return refuse(400, "the request body is not a JSON object");
                }
            }
        }
        // Routes that need no session.
        if (post && route == "signup") {
            return sign_up(req, body);
        }
        if (post && route == "signin") {
            return sign_in(req, body);
        }
        if (post && route == "admin/accounts") {
            return admin_create_account(req, body);
        }

        auto c = authenticate(req);
        if (!c) {
            return c.error();
        }
        if (post) {
            auto sent = http::find_header(req.headers, "X-CSRF-Token");
            if (!sent ||
                !crypto::constant_time_equal(as_bytes(*sent), as_bytes(c->session.csrf_token))) {
                return refuse(403, "missing or wrong CSRF token");
            }
        }
        const auto q = detail::parse_query(req.target);

        if (get && route == "me") {
            return me(*c);
        }
        if (post && route == "signout") {
            return sign_out(req, *c);
        }
        if (post && route == "totp/begin") {
            return totp_begin(req, *c);
        }
        if (get && route == "totp/qr.png") {
            return totp_qr(*c);
        }
        if (post && route == "totp/confirm") {
            return totp_confirm(req, *c, body);
        }

        if (route.starts_with("op/")) {
            if (c->account.role == store::portal_role::subscriber) {
                return refuse(403, "this needs an operator account");
            }
            return operator_api(req, *c, route.substr(3), body, q);
        }
        if (c->account.role != store::portal_role::subscriber || !c->account.subscriber_id) {
            return refuse(403, "this needs a subscriber account");
        }
        const std::string& sub = *c->account.subscriber_id;
        if (get && route == "lines") {
            return lines(sub);
        }
        if (get && route == "lines/records") {
            return line_records(sub, q);
        }
        if (post && (route == "lines/freeze" || route == "lines/unfreeze")) {
            return freeze(req, *c, sub, body, route == "lines/freeze");
        }
        if (post && route == "lines/step-up") {
            return step_up(req, *c, sub, body);
        }
        if (get && route == "approvals") {
            return approvals(sub);
        }
        if (post && (route == "approvals/approve" || route == "approvals/refuse")) {
            return decide(req, *c, sub, body, route == "approvals/approve");
        }
        if (get && route == "alerts") {
            store::alert_query aq;
            aq.subscriber_id = sub;
            return alerts(aq);
        }
        if (post && route == "alerts/ack") {
            return acknowledge(req, *c, body, sub, std::nullopt);
        }
        if (post && route == "stolen") {
            return report_stolen(req, *c, sub, body);
        }
        if (get && route == "orders/paused") {
            return paused_orders(sub);
        }
        if (post && route == "orders/release") {
            return release_order(req, *c, sub, body);
        }
        return refuse(404, "not found");
    }

    // ---- sessions -----------------------------------------------------------

    std::expected<caller, http::response> authenticate(const http::request& req) {
        auto token = detail::find_cookie(req, detail::cookie_name);
        auto raw = token ? from_hex(*token) : std::nullopt;
        if (!raw || raw->size() != token_bytes) {
            return std::unexpected(refuse(401, "please sign in"));
        }
        caller c;
        c.token_sha256 = crypto::sha256(*raw);
        auto s = deps_.accounts->find_session(c.token_sha256);
        if (!s) {
            return std::unexpected(refuse(401, "please sign in"));
        }
        const auto t = now();
        if (t >= s->expires_at || t - s->last_seen_at >= config_.session_idle) {
            (void)deps_.accounts->remove_session(c.token_sha256);
            return std::unexpected(refuse(401, "your session has expired: please sign in again"));
        }
        auto a = deps_.accounts->find_account(s->account_id);
        if (!a) {
            return std::unexpected(refuse(401, "please sign in"));
        }
        (void)deps_.accounts->touch_session(c.token_sha256, t);
        c.session = std::move(*s);
        c.account = std::move(*a);
        return c;
    }

    static std::optional<bytes> from_hex(std::string_view h) {
        if (h.size() % 2 != 0 || h.size() > 128) {
            return std::nullopt;
        }
        bytes out;
        for (std::size_t i = 0; i < h.size(); i += 2) {
            int v = 0;
            for (int k = 0; k < 2; ++k) {
                char ch = h[i + static_cast<std::size_t>(k)];
                int d = (ch >= '0' && ch <= '9')   ? ch - '0'
                        : (ch >= 'a' && ch <= 'f') ? ch - 'a' + 10
                                                   : -1;
                if (d < 0) {
                    return std::nullopt;
                }
                v = v * 16 + d;
            }
            out.push_back(static_cast<std::uint8_t>(v));
        }
        return out;
    }

    // A new session for `a`: any earlier session of the account ends (the
    // token is rotated at every sign-in, so a planted or stolen cookie dies).
    std::expected<http::response, http::response> open_session(const store::portal_account& a) {
        auto token = deps_.random->generate(token_bytes);
        auto csrf = random_hex(*deps_.random, token_bytes);
        if (!token || !csrf) {
            return std::unexpected(json_error(503, "the random source failed"));
        }
        (void)deps_.accounts->remove_sessions_of(a.id);
        const auto t = now();
        store::portal_session s;
        s.token_sha256 = crypto::sha256(*token);
        s.account_id = a.id;
        s.csrf_token = *csrf;
        s.created_at = t;
        s.last_seen_at = t;
        s.expires_at = t + config_.session_absolute;
        if (auto r = deps_.accounts->add_session(s); !r) {
            return std::unexpected(json_error(503, "the session could not be stored"));
        }
        (void)deps_.accounts->purge_sessions(t);
        auto r = json_response(200, account_json(a, s.csrf_token));
        r.headers.push_back(
            {"Set-Cookie",
             fmt::format("{}={}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age={}",
                         detail::cookie_name, to_hex(*token), config_.session_absolute.count())});
        return r;
    }

    json account_json(const store::portal_account& a, const std::string& csrf) {
        json j{{"name", a.name},
               {"role", std::string(store::to_string(a.role))},
               {"csrf", csrf},
               {"totp_enrolled", a.totp_secret.has_value()}};
        if (a.totp_secret) {
            auto left = deps_.accounts->recovery_codes_left(a.id);
            j["recovery_codes_left"] = left ? *left : 0;
        }
        return j;
    }

    http::response me(const caller& c) {
        return json_response(200, account_json(c.account, c.session.csrf_token));
    }

    http::response sign_out(const http::request& req, const caller& c) {
        (void)deps_.accounts->remove_session(c.token_sha256);
        audit_as(c, req, "sign_out");
        auto r = json_response(200, json{{"signed_out", true}});
        r.headers.push_back({"Set-Cookie", fmt::format("{}=; Path=/; Secure; HttpOnly; "
                                                       "SameSite=Strict; Max-Age=0",
                                                       detail::cookie_name)});
        return r;
    }

    // ---- accounts -----------------------------------------------------------

    http::response sign_up(const http::request& req, const json& body) {
        if (!config_.allow_sign_up) {
            return refuse(403, "sign-up is closed: ask your operator for an account");
        }
        auto name = str_field(body, "name", 64);
        auto password = str_field(body, "password", 1024);
        if (!name || !password) {
            return refuse(400, "a name and a password are needed");
        }
        auto email = str_field(body, "email", 254).value_or("");
        if (!email.empty() && (email.find('@') == std::string::npos ||
                               std::any_of(email.begin(), email.end(), [](unsigned char ch) {
                                   return ch <= ' ' || ch == 0x7f || ch == '<' || ch == '>';
                               }))) {
            return refuse(400, "this e-mail address is not valid");
        }
        auto a = create_account(*deps_.accounts, deps_.defense, *deps_.random, lower(*name),
                                *password, store::portal_role::subscriber, std::nullopt,
                                std::nullopt, now(), email);
        if (!a) {
            auto v = check_password(lower(*name), *password);
            audit(store::audit_kind::subscriber_action, "portal", req, "refused", "portal sign_up",
                  json{{"action", "sign_up"}, {"name", lower(*name)}});
            count(refused_);
            return json_error(400, a.error(), v.reasons);
        }
        audit(store::audit_kind::subscriber_action, actor_of(*a), req, "ok", "portal sign_up",
              json{{"action", "sign_up"}, {"name", a->name}});
        auto s = open_session(*a);
        if (!s) {
            return s.error();
        }
        s->status = 201;
        return *s;
    }

    http::response sign_in(const http::request& req, const json& body) {
        auto name = str_field(body, "name", 64);
        auto password = str_field(body, "password", 1024);
        auto code = str_field(body, "code", 64);
        if (!name || !password) {
            return refuse(400, "a name and a password are needed");
        }
        const std::string n = lower(*name);
        const auto t = now();
        const std::string addr_key = req.peer_address;
        if (addresses_.blocked(addr_key, t)) {
            count(signin_limited_);
            audit(store::audit_kind::subscriber_action, "portal", req, "blocked",
                  "portal_login_failure", json{{"action", "sign_in"}, {"limit", "address"}});
            return json_error(429, "too many failed sign-ins from your address: try again later");
        }
        auto a = deps_.accounts->find_account_by_name(n);
        if (!a) {
            // Same work as for a real account, so timing tells nothing.
            (void)verify_password(dummy_password_hash(), *password);
            return failed_sign_in(req, std::nullopt, n);
        }
        if (a->failed_attempts >= config_.max_failures_per_account && a->last_failure_at &&
            t - *a->last_failure_at < config_.lockout) {
            count(signin_limited_);
            audit(kind_of(*a), actor_of(*a), req, "blocked", "portal_login_failure",
                  json{{"action", "sign_in"}, {"limit", "account"}});
            return json_error(429, "too many failed sign-ins for this account: try again later");
        }
        if (!verify_password(a->password_hash, *password)) {
            return failed_sign_in(req, *a, n);
        }
        if (a->totp_secret) {
            if (!code || code->empty()) {
                return json_response(401, json{{"error", "enter the code from your authenticator "
                                                         "app or a recovery code"},
                                               {"need_code", true}});
            }
            auto ok = check_second_factor(*a, *code);
            if (!ok) {
                return failed_sign_in(req, *a, n, ok.error());
            }
        }
        (void)deps_.accounts->reset_failures(a->id);
        count(signin_ok_);
        audit(kind_of(*a), actor_of(*a), req, "ok", "portal sign_in",
              json{{"action", "sign_in"}, {"second_factor", a->totp_secret.has_value()}});
        auto s = open_session(*a);
        return s ? *s : s.error();
    }

    http::response failed_sign_in(const http::request& req,
                                  const std::optional<store::portal_account>& a,
                                  const std::string& name,
                                  std::string message = "wrong name or password") {
        const auto t = now();
        addresses_.failure(req.peer_address, t);
        if (a) {
            (void)deps_.accounts->record_failure(a->id, t);
        }
        count(signin_failed_);
        audit(a ? kind_of(*a) : store::audit_kind::subscriber_action, a ? actor_of(*a) : "portal",
              req, "refused", "portal_login_failure", json{{"action", "sign_in"}, {"name", name}});
        json j{{"error", message}};
        if (a && a->totp_secret && message != "wrong name or password") {
            j["need_code"] = true;
        }
        return json_response(401, j);
    }

    // TOTP, or one of the recovery codes (letters and digits, any case).
    std::expected<void, std::string> check_second_factor(const store::portal_account& a,
                                                         std::string_view code) {
        if (digits_only(code, 6, 6)) {
            auto v = defense::verify_totp(*a.totp_secret, code,
                                          std::chrono::time_point_cast<std::chrono::seconds>(now()),
                                          a.totp_last_step);
            if (!v) {
                return std::unexpected("the code could not be checked");
            }
            if (v->outcome == defense::totp_outcome::replayed) {
                return std::unexpected("this code was already used: wait for the next one");
            }
            if (v->outcome != defense::totp_outcome::accepted) {
                return std::unexpected("wrong code");
            }
            if (!deps_.accounts->advance_totp_step(a.id, a.totp_last_step, *v->time_step)) {
                return std::unexpected("this code was already used: wait for the next one");
            }
            return {};
        }
        std::string norm;
        for (char ch : code) {
            if (std::isalnum(static_cast<unsigned char>(ch))) {
                norm.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
            }
        }
        if (norm.size() != 10) {
            return std::unexpected("wrong code");
        }
        auto used = deps_.accounts->use_recovery_code(a.id, crypto::sha256(as_bytes(norm)), now());
        if (!used || !*used) {
            return std::unexpected("wrong code");
        }
        return {};
    }

    http::response admin_create_account(const http::request& req, const json& body) {
        auto auth = http::find_header(req.headers, "Authorization");
        if (config_.admin_token_sha256.empty() || !auth || !auth->starts_with("Bearer ")) {
            return refuse(401, "the admin bearer token is needed");
        }
        auto given = crypto::sha256(as_bytes(auth->substr(7)));
        if (!crypto::constant_time_equal(given, config_.admin_token_sha256)) {
            return refuse(401, "the admin bearer token is needed");
        }
        auto name = str_field(body, "name", 64);
        auto password = str_field(body, "password", 1024);
        auto role = str_field(body, "role", 16);
        const auto parsed = role ? store::portal_role_from_string(*role) : std::nullopt;
        if (!name || !password || !parsed) {
            return refuse(400, "name, password and role (subscriber, operator, admin) are needed");
        }
        const store::portal_role r = parsed.value_or(store::portal_role::subscriber);
        auto op = str_field(body, "operator_id", 64);
        if (r == store::portal_role::operator_staff && !op) {
            return refuse(400, "an operator account needs operator_id");
        }
        auto a = create_account(*deps_.accounts, deps_.defense, *deps_.random, lower(*name),
                                *password, r, str_field(body, "subscriber_id", 64), op, now());
        if (!a) {
            return json_error(400, a.error(), check_password(lower(*name), *password).reasons);
        }
        audit(store::audit_kind::admin_action, "admin:token", req, "ok", "portal create_account",
              json{{"action", "create_account"}, {"name", a->name}, {"role", *role}});
        return json_response(201, json{{"id", a->id}, {"name", a->name}, {"role", *role}});
    }

    // ---- TOTP enrolment -----------------------------------------------------

    http::response totp_begin(const http::request& req, const caller& c) {
        if (c.account.totp_secret) {
            return refuse(409, "two-factor sign-in is already on");
        }
        auto secret = defense::generate_totp_secret(*deps_.random);
        if (!secret) {
            return json_error(503, "the random source failed");
        }
        if (auto r = deps_.accounts->set_pending_totp(c.account.id, *secret); !r) {
            return json_error(503, "could not store the secret");
        }
        auto uri = defense::totp_provisioning_uri(config_.totp_issuer, c.account.name, *secret);
        if (!uri) {
            return json_error(500, "could not make the provisioning URI");
        }
        audit_as(c, req, "totp_begin");
        return json_response(200, json{{"secret", defense::base32_encode(*secret, false)},
                                       {"uri", *uri},
                                       {"qr", config_.prefix + "/api/totp/qr.png"}});
    }

    http::response totp_qr(const caller& c) {
        if (!c.account.totp_pending_secret) {
            return refuse(404, "no enrolment in progress");
        }
        auto uri = defense::totp_provisioning_uri(config_.totp_issuer, c.account.name,
                                                  *c.account.totp_pending_secret);
        if (!uri) {
            return json_error(500, "could not make the provisioning URI");
        }
        return png(*uri);
    }

    static http::response png(std::string_view text) {
        qr::png_options o;
        o.module_pixels = 6;
        auto img = qr::render_png(text, o);
        if (!img) {
            return json_error(500, "could not draw the QR code");
        }
        auto r = http::response::with_body(200, std::string(img->begin(), img->end()), "image/png");
        detail::add_security_headers(r);
        return r;
    }

    http::response totp_confirm(const http::request& req, const caller& c, const json& body) {
        auto code = str_field(body, "code", 16);
        if (!c.account.totp_pending_secret) {
            return refuse(409, "start the enrolment first");
        }
        if (!code) {
            return refuse(400, "enter the code your app shows");
        }
        auto v = defense::verify_totp(*c.account.totp_pending_secret, *code,
                                      std::chrono::time_point_cast<std::chrono::seconds>(now()),
                                      std::nullopt);
        if (!v || v->outcome != defense::totp_outcome::accepted) {
            audit_as(c, req, "totp_confirm", "refused");
            return refuse(400, "wrong code: check the time on your phone and try again");
        }
        // Recovery codes: 10 characters of an alphabet without look-alikes,
        // 50 bits each; shown once, stored as SHA-256 only.
        static constexpr std::string_view alphabet = "abcdefghjkmnpqrstuvwxyz23456789";
        std::vector<std::string> codes;
        std::vector<bytes> hashes;
        for (int i = 0; i < config_.recovery_codes; ++i) {
            auto rnd = deps_.random->generate(10);
            if (!rnd) {
                return json_error(503, "the random source failed");
            }
            std::string code_text;
            for (auto b : *rnd) {
                code_text.push_back(alphabet[b % alphabet.size()]);
            }
            hashes.push_back(crypto::sha256(as_bytes(code_text)));
            codes.push_back(code_text.substr(0, 5) + "-" + code_text.substr(5));
        }
        if (auto r = deps_.accounts->enrol_totp(c.account.id, *c.account.totp_pending_secret,
                                                *v->time_step, hashes);
            !r) {
            return json_error(503, "could not store the enrolment");
        }
        // Step-up approvals check the subscriber's TOTP in the defense store.
        if (c.account.subscriber_id && deps_.defense) {
            (void)deps_.defense->set_totp_secret(*c.account.subscriber_id,
                                                 *c.account.totp_pending_secret);
        }
        audit_as(c, req, "totp_enrol");
        return json_response(200, json{{"enrolled", true}, {"recovery_codes", codes}});
    }

    // ---- subscriber ---------------------------------------------------------

    // The line if it is this subscriber's; otherwise the same answer as for
    // an ICCID that does not exist, so nothing is learnt about others.
    std::optional<store::line_record> own_line(const std::string& sub, std::string_view iccid) {
        if (!digits_only(iccid, 18, 20)) {
            return std::nullopt;
        }
        auto l = deps_.defense->find_line(iccid);
        if (!l || l->subscriber_id != sub) {
            return std::nullopt;
        }
        return *l;
    }

    http::response lines(const std::string& sub) {
        auto ls = deps_.defense->list_lines(sub);
        if (!ls) {
            return json_error(503, "lines unavailable");
        }
        json out = json::array();
        for (const auto& l : *ls) {
            out.push_back(line_json(l));
        }
        return json_response(200, json{{"lines", out}});
    }

    http::response line_records(const std::string& sub,
                                const std::map<std::string, std::string>& q) {
        auto it = q.find("iccid");
        auto line = it == q.end() ? std::nullopt : own_line(sub, it->second);
        if (!line) {
            return refuse(404, "no such line");
        }
        if (deps_.audit == nullptr) {
            return json_error(503, "activation records unavailable");
        }
        store::audit_query aq;
        aq.iccid = line->iccid;
        aq.limit = 500;
        auto events = deps_.audit->activation_records(aq);
        if (!events) {
            return json_error(503, "activation records unavailable");
        }
        json out = json::array();
        for (const auto& e : *events) {
            out.push_back(event_json(e));
        }
        return json_response(200, json{{"line", line_json(*line)}, {"records", out}});
    }

    http::response freeze(const http::request& req, const caller& c, const std::string& sub,
                          const json& body, bool on) {
        auto iccid = str_field(body, "iccid", 20);
        auto line = iccid ? own_line(sub, *iccid) : std::nullopt;
        if (!line) {
            return refuse(404, "no such line");
        }
        std::optional<std::string> reason;
        if (on) {
            reason = str_field(body, "reason", 200).value_or("");
            if (reason->empty()) {
                reason = "frozen by the subscriber";
            }
        }
        auto r = deps_.defense->set_line_frozen(line->iccid, reason, now());
        if (!r) {
            return json_error(503, "the line could not be changed");
        }
        audit_as(c, req, on ? "freeze_line" : "unfreeze_line", "ok",
                 on ? json{{"reason", *reason}} : json::object(), line->iccid);
        return json_response(200, json{{"line", line_json(*r)}});
    }

    http::response step_up(const http::request& req, const caller& c, const std::string& sub,
                           const json& body) {
        auto iccid = str_field(body, "iccid", 20);
        auto line = iccid ? own_line(sub, *iccid) : std::nullopt;
        auto on = body.find("on");
        if (!line || on == body.end() || !on->is_boolean()) {
            return refuse(404, "no such line");
        }
        auto r = deps_.defense->set_step_up_on_new_eid(line->iccid, on->get<bool>());
        if (!r) {
            return json_error(503, "the line could not be changed");
        }
        audit_as(c, req, "step_up_on_new_eid", "ok", json{{"on", on->get<bool>()}}, line->iccid);
        return json_response(200, json{{"line", line_json(*r)}});
    }

    http::response approvals(const std::string& sub) {
        auto as = deps_.defense->list_approvals(sub, true);
        if (!as) {
            return json_error(503, "approvals unavailable");
        }
        json out = json::array();
        for (const auto& a : *as) {
            if (a.state == store::approval_state::pending && a.expires_at > now()) {
                out.push_back(approval_json(a));
            }
        }
        return json_response(200, json{{"approvals", out}});
    }

    http::response decide(const http::request& req, const caller& c, const std::string& sub,
                          const json& body, bool approve) {
        auto id = str_field(body, "id", 80);
        if (!id) {
            return refuse(404, "no such approval");
        }
        auto a = deps_.defense->find_approval(*id);
        if (!a || a->subscriber_id != sub) {
            return refuse(404, "no such approval");
        }
        const std::string actor = actor_of(c.account);
        portal_hooks::outcome r;
        if (approve) {
            auto code = str_field(body, "code", 32);
            if (!code || code->empty()) {
                return refuse(400, "enter the code from your authenticator app or the one sent "
                                   "to you");
            }
            if (!deps_.hooks.approve) {
                return json_error(501, "approvals are not available on this server");
            }
            r = deps_.hooks.approve(*id, sub, *code, actor);
        } else {
            if (!deps_.hooks.refuse) {
                return json_error(501, "approvals are not available on this server");
            }
            r = deps_.hooks.refuse(*id, sub, actor);
        }
        audit_as(c, req, approve ? "approve_download" : "refuse_download", r ? "ok" : "refused",
                 json{{"approval", *id}}, a->iccid, a->eid);
        if (!r) {
            return refuse(400, r.error());
        }
        return json_response(200, json{{"done", true}});
    }

    http::response alerts(const store::alert_query& aq,
                          const std::optional<std::string>& operator_scope = std::nullopt) {
        auto rows = deps_.defense->list_alerts(aq);
        if (!rows) {
            return json_error(503, "alerts unavailable");
        }
        json out = json::array();
        std::map<std::string, bool> seen;
        for (const auto& a : *rows) {
            // Operator staff see their operator's alerts and the platform's
            // (an attack from an address concerns no operator yet).
            if (operator_scope && a.operator_id && *a.operator_id != *operator_scope) {
                continue;
            }
            json j = alert_json(a);
            if (operator_scope) {
                // What acknowledge() accepts from them.
                j["can_acknowledge"] = a.operator_id == *operator_scope &&
                                       (!a.iccid || profile_of(*operator_scope, *a.iccid, seen));
            }
            out.push_back(j);
        }
        return json_response(200, json{{"alerts", out}});
    }

    // A subscriber acknowledges alerts about themselves; operator staff only
    // alerts raised for their operator (an order or line of theirs) and, when
    // the alert names an ICCID, only if it is one of their profiles. Platform
    // alerts that name no operator (an attack from an address) are for admins
    // to acknowledge: one operator's staff must not hide them from the others.
    http::response acknowledge(const http::request& req, const caller& c, const json& body,
                               const std::optional<std::string>& sub,
                               const std::optional<std::string>& operator_scope) {
        auto id = str_field(body, "id", 80);
        if (!id) {
            return refuse(404, "no such alert");
        }
        if (operator_scope) {
            store::alert_query aq;
            aq.operator_id = *operator_scope;
            aq.limit = 1000;
            auto rows = deps_.defense->list_alerts(aq);
            std::map<std::string, bool> seen;
            if (!rows || std::none_of(rows->begin(), rows->end(), [&](const store::alert_row& a) {
                    return a.id == *id && a.operator_id == *operator_scope &&
                           (!a.iccid || profile_of(*operator_scope, *a.iccid, seen));
                })) {
                return refuse(404, "no such alert");
            }
        }
        if (sub) {
            store::alert_query aq;
            aq.subscriber_id = *sub;
            aq.limit = 1000;
            auto rows = deps_.defense->list_alerts(aq);
            if (!rows || std::none_of(rows->begin(), rows->end(),
                                      [&](const store::alert_row& a) { return a.id == *id; })) {
                return refuse(404, "no such alert");
            }
        }
        auto r = deps_.defense->acknowledge_alert(*id, actor_of(c.account), now());
        if (!r) {
            return refuse(404, "no such alert");
        }
        audit_as(c, req, "acknowledge_alert", "ok", json{{"alert", *id}});
        return json_response(200, json{{"alert", alert_json(*r)}});
    }

    // The current order of one of the subscriber's lines (the newest for its
    // ICCID: an older order of a recycled ICCID was someone else's).
    std::optional<store::order_record> own_order_of_line(const std::string& sub,
                                                         std::string_view order_id) {
        if (deps_.main_store == nullptr || order_id.empty() || order_id.size() > 80) {
            return std::nullopt;
        }
        auto o = deps_.main_store->find_order(order_id);
        if (!o || !own_line(sub, o->iccid)) {
            return std::nullopt;
        }
        auto newest = deps_.main_store->find_order_by_iccid(o->iccid);
        if (!newest || newest->order_id != o->order_id) {
            return std::nullopt;
        }
        return *o;
    }

    // Paused by the risk engine ("risk:<rule>"), which the issue lets the
    // subscriber lift. Other locks stay with the operator: confirmation-code
    // retries exceeded (lifting it would reopen the guessing it stopped) and a
    // refused step-up.
    static std::optional<std::string> pausing_rule(const store::order_record& o) {
        if (!o.locked || !o.lock_reason || !o.lock_reason->starts_with("risk:")) {
            return std::nullopt;
        }
        std::string_view r = *o.lock_reason;
        r.remove_prefix(5);
        return std::string(r.substr(0, r.find_first_of(" :")));
    }

    http::response paused_orders(const std::string& sub) {
        if (deps_.main_store == nullptr) {
            return json_error(503, "orders unavailable");
        }
        auto ls = deps_.defense->list_lines(sub);
        if (!ls) {
            return json_error(503, "lines unavailable");
        }
        json out = json::array();
        for (const auto& l : *ls) {
            auto o = deps_.main_store->find_order_by_iccid(l.iccid);
            if (!o || !o->locked) {
                continue;
            }
            json j{{"order_id", o->order_id},
                   {"iccid", o->iccid},
                   {"state", std::string(store::to_string(o->state))},
                   {"paused_at", detail::time_text(o->updated_at)},
                   {"releasable", pausing_rule(*o).has_value()}};
            j["eid"] = o->eid ? json(*o->eid) : json(nullptr);
            if (auto rule = pausing_rule(*o)) {
                j["rule"] = *rule;
            }
            out.push_back(j);
        }
        return json_response(200, json{{"orders", out}});
    }

    // The subscriber lifts a risk pause on their own line's order, as the admin
    // API's POST /admin/orders/<id>/release does: unlock, then forget what the
    // pausing rule counted for the order, the ICCID and the EID. With TOTP
    // enrolled the release needs a current code (a stolen session alone must
    // not let a download through); wrong codes count as failed sign-ins, so
    // guessing locks the account like guessing a password does.
    http::response release_order(const http::request& req, const caller& c, const std::string& sub,
                                 const json& body) {
        if (deps_.main_store == nullptr) {
            return json_error(503, "orders unavailable");
        }
        auto id = str_field(body, "order_id", 80);
        auto o = id ? own_order_of_line(sub, *id) : std::nullopt;
        if (!o) {
            return refuse(404, "no such order");
        }
        if (!o->locked) {
            return refuse(409, "this order is not paused");
        }
        auto rule = pausing_rule(*o);
        if (!rule) {
            return refuse(409, "this order was stopped for another reason: ask your operator");
        }
        if (c.account.totp_secret) {
            const auto t = now();
            if (c.account.failed_attempts >= config_.max_failures_per_account &&
                c.account.last_failure_at && t - *c.account.last_failure_at < config_.lockout) {
                audit_as(c, req, "release_order", "blocked", json{{"order", o->order_id}}, o->iccid,
                         o->eid);
                return refuse(429, "too many wrong codes: try again later");
            }
            auto code = str_field(body, "code", 16);
            if (!code || !digits_only(*code, 6, 6)) {
                return refuse(400, "enter the 6-digit code from your authenticator app");
            }
            if (auto ok = check_second_factor(c.account, *code); !ok) {
                (void)deps_.accounts->record_failure(c.account.id, t);
                audit_as(c, req, "release_order", "refused", json{{"order", o->order_id}}, o->iccid,
                         o->eid);
                return refuse(400, ok.error());
            }
            (void)deps_.accounts->reset_failures(c.account.id);
        }
        // Not a compare-and-set on the lock reason (the store has none): the
        // lock checked above could only have changed if someone else released
        // the order and it was locked again in between.
        auto u = deps_.main_store->unlock_order(o->order_id, now());
        if (!u) {
            return json_error(503, "the order could not be released");
        }
        json reset = json::array();
        if (deps_.hooks.reset_risk) {
            std::vector<std::string> keys{o->order_id, o->iccid};
            if (o->eid) {
                keys.push_back(*o->eid);
            }
            bool any = false;
            for (const auto& k : keys) {
                any = deps_.hooks.reset_risk(*rule, k) || any;
            }
            if (any) {
                reset.push_back(*rule);
            }
        }
        audit_as(
            c, req, "release_order", "ok",
            json{{"order", o->order_id}, {"lock_reason", *o->lock_reason}, {"risk_reset", reset}},
            o->iccid, o->eid);
        return json_response(200, json{{"order", order_json(*u)}, {"risk_reset", reset}});
    }

    // EIDs that held one of the subscriber's lines: a subscriber may report
    // their own devices only, never block someone else's.
    std::set<std::string> own_eids(const std::string& sub) {
        std::set<std::string> eids;
        auto ls = deps_.defense->list_lines(sub);
        if (!ls) {
            return eids;
        }
        for (const auto& l : *ls) {
            eids.insert(l.known_eids.begin(), l.known_eids.end());
            if (deps_.audit != nullptr) {
                store::audit_query aq;
                aq.iccid = l.iccid;
                if (auto ev = deps_.audit->activation_records(aq)) {
                    for (const auto& e : *ev) {
                        if (e.eid) {
                            eids.insert(*e.eid);
                        }
                    }
                }
            }
        }
        return eids;
    }

    http::response report_stolen(const http::request& req, const caller& c, const std::string& sub,
                                 const json& body) {
        auto eid = str_field(body, "eid", 32);
        if (!eid || !digits_only(*eid, 32, 32)) {
            return refuse(400, "an EID is 32 digits");
        }
        if (!own_eids(sub).contains(*eid)) {
            return refuse(404, "this device never held one of your lines");
        }
        std::string reason = str_field(body, "reason", 200).value_or("");
        if (reason.empty()) {
            reason = "reported stolen by the subscriber";
        }
        auto r = stolen(*eid, reason, actor_of(c.account), sub);
        audit_as(c, req, "report_stolen", r ? "ok" : "error", json{{"reason", reason}},
                 std::nullopt, *eid);
        if (!r) {
            return json_error(503, r.error());
        }
        return json_response(200, json{{"reported", true}});
    }

    portal_hooks::outcome stolen(const std::string& eid, const std::string& reason,
                                 const std::string& actor, std::optional<std::string> sub) {
        if (deps_.hooks.report_stolen) {
            return deps_.hooks.report_stolen(eid, reason, actor, sub);
        }
        store::stolen_row row{eid, reason, now(), actor};
        if (!deps_.defense->save_stolen(row)) {
            return std::unexpected("the report could not be stored");
        }
        auto id = random_hex(*deps_.random, 16);
        store::alert_row a;
        a.id = id ? *id : eid;
        a.at = now();
        a.severity = "critical";
        a.rule = "stolen_device_reported";
        a.summary = "A device was reported stolen; downloads to it are refused from now on.";
        a.json = json{{"id", a.id},
                      {"rule", a.rule},
                      {"severity", a.severity},
                      {"summary", a.summary},
                      {"evidence", {{"eid", eid}, {"details", {{"reported_by", actor}}}}}}
                     .dump();
        a.subscriber_id = std::move(sub);
        a.eid = eid;
        (void)deps_.defense->add_alert(a);
        return {};
    }

    // ---- operator -----------------------------------------------------------

    http::response operator_api(const http::request& req, const caller& c, std::string_view route,
                                const json& body, const std::map<std::string, std::string>& q) {
        const bool post = req.method == "POST";
        const bool admin = c.account.role == store::portal_role::admin;
        const std::optional<std::string> scope = admin ? std::nullopt : c.account.operator_id;
        if (!admin && !scope) {
            return refuse(403, "this account is linked to no operator");
        }
        if (post && route == "orders") {
            return create_order(req, c, body, scope);
        }
        if (!post && route == "orders") {
            return orders(q, scope);
        }
        if (!post && route == "orders/qr.png") {
            return order_qr(q, scope);
        }
        if (!post && route == "profiles") {
            return profiles(scope);
        }
        if (!post && route == "alerts") {
            store::alert_query aq;
            aq.limit = 200;
            return alerts(aq, scope);
        }
        if (post && route == "alerts/ack") {
            return acknowledge(req, c, body, std::nullopt, scope);
        }
        if (!post && route == "blocklist") {
            return blocklist();
        }
        if (post && route == "blocklist/add") {
            return block_add(req, c, body);
        }
        if (post && route == "blocklist/remove") {
            return block_remove(req, c, body);
        }
        if (!post && route == "audit") {
            return audit_search(q, scope);
        }
        if (!post && route == "stats") {
            return stats(scope);
        }
        if (!post && route == "subscribers") {
            return subscribers(scope);
        }
        if (post && route == "lines") {
            return link_line(req, c, body, scope);
        }
        if (post && route == "stolen") {
            auto eid = str_field(body, "eid", 32);
            if (!eid || !digits_only(*eid, 32, 32)) {
                return refuse(400, "an EID is 32 digits");
            }
            std::string reason = str_field(body, "reason", 200).value_or("reported stolen");
            auto r = stolen(*eid, reason, actor_of(c.account), std::nullopt);
            audit_as(c, req, "report_stolen", r ? "ok" : "error", json{{"reason", reason}},
                     std::nullopt, *eid);
            return r ? json_response(200, json{{"reported", true}}) : json_error(503, r.error());
        }
        return refuse(404, "not found");
    }

    http::response create_order(const http::request& req, const caller& c, const json& body,
                                const std::optional<std::string>& scope) {
        auto* svc = deps_.service ? deps_.service() : nullptr;
        if (svc == nullptr) {
            return json_error(503, "the SM-DP+ service is not running");
        }
        smdp::admin_order_request r;
        auto op = scope ? scope : str_field(body, "operator_id", 64);
        if (!op) {
            return refuse(400, "operator_id is needed");
        }
        r.operator_id = *op;
        auto iccid = str_field(body, "iccid", 20);
        if (iccid && !iccid->empty()) {
            if (!digits_only(*iccid, 18, 20)) {
                return refuse(400, "an ICCID is 18 to 20 digits");
            }
            r.iccid = *iccid;
        }
        auto type = str_field(body, "profile_type", 64);
        if (type && !type->empty()) {
            r.profile_type = *type;
        }
        if (!r.iccid && !r.profile_type && deps_.main_store != nullptr) {
            // Neither given: the first available profile of the inventory.
            store::list_filter f;
            f.operator_id = r.operator_id;
            f.state = store::profile_state::available;
            f.limit = 1;
            auto ps = deps_.main_store->list_profiles(f);
            if (!ps || ps->empty()) {
                return refuse(409, "no profile is available: add profiles to the inventory");
            }
            r.iccid = ps->front().iccid;
        }
        auto eid = str_field(body, "eid", 32);
        if (eid && !eid->empty()) {
            if (!digits_only(*eid, 32, 32)) {
                return refuse(400, "an EID is 32 digits");
            }
            r.eid = *eid;
        }
        const bool want_cc =
            !(body.contains("confirmation_code") && body["confirmation_code"].is_boolean() &&
              !body["confirmation_code"].get<bool>());
        std::string cc;
        if (want_cc) {
            auto rnd = deps_.random->generate(8);
            if (!rnd) {
                return json_error(503, "the random source failed");
            }
            for (auto b : *rnd) {
                cc.push_back(static_cast<char>('0' + b % 10));
            }
            r.confirmation_code = cc;
        }
        auto o = svc->admin_create_order(r);
        if (!o) {
            audit_as(c, req, "create_order", "refused", json{{"status", o.error().message}},
                     r.iccid);
            return refuse(400, o.error().message);
        }
        const std::string ac = to_text(o->activation_code);
        audit_as(c, req, "create_order", "ok", json{{"order", o->order.order_id}}, o->order.iccid,
                 r.eid);
        json j{{"order_id", o->order.order_id},
               {"iccid", o->order.iccid},
               {"state", std::string(store::to_string(o->order.state))},
               {"activation_code", ac},
               {"qr", config_.prefix + "/api/op/orders/qr.png?id=" + o->order.order_id}};
        if (want_cc) {
            // Shown once to the staff member, who hands it to the subscriber
            // by another channel; only its hash is stored.
            j["confirmation_code"] = cc;
        }
        return json_response(201, j);
    }

    static std::string to_text(const rsp::activation_code& a) {
        std::string s = "LPA:1$" + a.smdp_address + "$" + a.matching_id;
        if (a.smdp_oid || a.confirmation_code_required) {
            s += "$" + a.smdp_oid.value_or("");
        }
        if (a.confirmation_code_required) {
            s += "$1";
        }
        return s;
    }

    std::optional<store::order_record> own_order(std::string_view id,
                                                 const std::optional<std::string>& scope) {
        if (deps_.main_store == nullptr || id.empty() || id.size() > 80) {
            return std::nullopt;
        }
        auto o = deps_.main_store->find_order(id);
        if (!o || (scope && o->operator_id != *scope)) {
            return std::nullopt;
        }
        return *o;
    }

    http::response order_qr(const std::map<std::string, std::string>& q,
                            const std::optional<std::string>& scope) {
        auto it = q.find("id");
        auto o = it == q.end() ? std::nullopt : own_order(it->second, scope);
        auto* svc = deps_.service ? deps_.service() : nullptr;
        if (!o || !o->matching_id || svc == nullptr || svc->config().addresses.empty()) {
            return refuse(404, "no such order");
        }
        rsp::activation_code ac;
        ac.smdp_address = svc->config().addresses.front();
        ac.matching_id = *o->matching_id;
        ac.confirmation_code_required = o->cc_required;
        return png(to_text(ac));
    }

    static json order_json(const store::order_record& o) {
        json j{{"order_id", o.order_id},
               {"iccid", o.iccid},
               {"operator_id", o.operator_id},
               {"profile_type", o.profile_type},
               {"state", std::string(store::to_string(o.state))},
               {"locked", o.locked},
               {"cc_required", o.cc_required},
               {"download_attempts", o.download_attempts},
               {"created_at", detail::time_text(o.created_at)},
               {"updated_at", detail::time_text(o.updated_at)}};
        j["eid"] = o.eid ? json(*o.eid) : json(nullptr);
        if (o.lock_reason) {
            j["lock_reason"] = *o.lock_reason;
        }
        return j;
    }

    http::response orders(const std::map<std::string, std::string>& q,
                          const std::optional<std::string>& scope) {
        if (deps_.main_store == nullptr) {
            return json_error(503, "orders unavailable");
        }
        store::list_filter f;
        f.operator_id = scope;
        if (auto it = q.find("state"); it != q.end() && !it->second.empty()) {
            f.state = store::profile_state_from_string(it->second);
            if (!f.state) {
                return refuse(400, "unknown state");
            }
        }
        f.limit = 500;
        auto os = deps_.main_store->list_orders(f);
        if (!os) {
            return json_error(503, "orders unavailable");
        }
        json out = json::array();
        std::map<std::string, int> by_state;
        for (const auto& o : *os) {
            out.push_back(order_json(o));
            ++by_state[std::string(store::to_string(o.state))];
        }
        return json_response(200, json{{"orders", out}, {"by_state", by_state}});
    }

    http::response profiles(const std::optional<std::string>& scope) {
        if (deps_.main_store == nullptr) {
            return json_error(503, "profiles unavailable");
        }
        store::list_filter f;
        f.operator_id = scope;
        f.limit = 1000;
        auto ps = deps_.main_store->list_profiles(f);
        if (!ps) {
            return json_error(503, "profiles unavailable");
        }
        json out = json::array();
        std::map<std::string, int> by_state;
        for (const auto& p : *ps) {
            out.push_back(json{{"iccid", p.iccid},
                               {"operator_id", p.operator_id},
                               {"profile_type", p.profile_type},
                               {"state", std::string(store::to_string(p.state))}});
            ++by_state[std::string(store::to_string(p.state))];
        }
        return json_response(200, json{{"profiles", out}, {"by_state", by_state}});
    }

    http::response blocklist() {
        auto rows = deps_.defense->load_blocklist();
        if (!rows) {
            return json_error(503, "blocklist unavailable");
        }
        json out = json::array();
        const auto t = now();
        for (const auto& b : *rows) {
            if (b.expires && *b.expires <= t) {
                continue;
            }
            json j{{"kind", b.kind},
                   {"value", b.value},
                   {"reason", b.reason},
                   {"created", detail::time_text(b.created)},
                   {"created_by", b.created_by}};
            j["expires"] = b.expires ? json(detail::time_text(*b.expires)) : json(nullptr);
            out.push_back(j);
        }
        return json_response(200, json{{"entries", out}});
    }

    http::response block_add(const http::request& req, const caller& c, const json& body) {
        static const std::set<std::string> kinds{"ip", "ip_prefix", "eid", "eum", "matching_id"};
        auto kind = str_field(body, "kind", 16);
        auto value = str_field(body, "value", 64);
        if (!kind || !kinds.contains(*kind) || !value || value->empty()) {
            return refuse(400, "kind (ip, ip_prefix, eid, eum, matching_id) and value are needed");
        }
        store::blocklist_row row;
        row.kind = *kind;
        row.value = *value;
        row.reason = str_field(body, "reason", 200).value_or("blocked by an operator");
        row.created = now();
        row.created_by = actor_of(c.account);
        if (auto ttl = body.find("ttl_seconds"); ttl != body.end() && ttl->is_number_integer()) {
            auto s = ttl->get<std::int64_t>();
            if (s <= 0 || s > 10LL * 365 * 24 * 3600) {
                return refuse(400, "ttl_seconds must be positive and at most ten years");
            }
            row.expires = row.created + std::chrono::seconds(s);
        }
        portal_hooks::outcome r;
        if (deps_.hooks.add_block) {
            r = deps_.hooks.add_block(row);
        } else if (!deps_.defense->save_block(row)) {
            r = std::unexpected("the entry could not be stored");
        }
        audit_as(c, req, "block_add", r ? "ok" : "refused",
                 json{{"kind", row.kind}, {"value", row.value}});
        if (!r) {
            return refuse(400, r.error());
        }
        return json_response(200, json{{"added", true}});
    }

    http::response block_remove(const http::request& req, const caller& c, const json& body) {
        auto kind = str_field(body, "kind", 16);
        auto value = str_field(body, "value", 64);
        if (!kind || !value) {
            return refuse(400, "kind and value are needed");
        }
        portal_hooks::outcome r;
        if (deps_.hooks.remove_block) {
            r = deps_.hooks.remove_block(*kind, *value, actor_of(c.account));
        } else if (!deps_.defense->remove_block(*kind, *value)) {
            r = std::unexpected("no such entry");
        }
        audit_as(c, req, "block_remove", r ? "ok" : "refused",
                 json{{"kind", *kind}, {"value", *value}});
        if (!r) {
            return refuse(404, r.error());
        }
        return json_response(200, json{{"removed", true}});
    }

    // Whether `iccid` is a profile of operator `scope`; `seen` remembers the
    // answers for the rest of one request, where one ICCID comes back often.
    bool profile_of(const std::string& scope, const std::string& iccid,
                    std::map<std::string, bool>& seen) {
        if (auto it = seen.find(iccid); it != seen.end()) {
            return it->second;
        }
        bool mine = false;
        if (deps_.main_store != nullptr) {
            auto p = deps_.main_store->find_profile(iccid);
            mine = p && p->operator_id == scope;
        }
        seen.emplace(iccid, mine);
        return mine;
    }

    // Operator staff see an event only when its ICCID is one of their
    // operator's profiles. Events without an ICCID (an initiateAuthentication,
    // a refusal before any profile was known, a blocked address) are for
    // admins only, even when the EID or address searched for also appears on
    // the operator's own records: a device or an address can serve several
    // operators' customers, so neither proves whose event it is.
    http::response audit_search(const std::map<std::string, std::string>& q,
                                const std::optional<std::string>& scope) {
        if (deps_.audit == nullptr || (scope && deps_.main_store == nullptr)) {
            return json_error(503, "audit unavailable");
        }
        store::audit_query aq;
        auto pick = [&](const char* k) -> std::optional<std::string> {
            auto it = q.find(k);
            if (it == q.end() || it->second.empty()) {
                return std::nullopt;
            }
            return it->second;
        };
        aq.iccid = pick("iccid");
        aq.eid = pick("eid");
        aq.source_address = pick("ip");
        if (!aq.iccid && !aq.eid && !aq.source_address) {
            return refuse(400, "search by iccid, eid or ip");
        }
        std::map<std::string, bool> seen;
        if (scope && aq.iccid && !profile_of(*scope, *aq.iccid, seen)) {
            return refuse(404, "no such profile");
        }
        constexpr std::size_t shown = 500;
        // Staff's answers are filtered after the query: read more so that
        // other operators' events do not crowd out their own.
        aq.limit = scope ? 10 * shown : shown;
        auto events = deps_.audit->activation_records(aq);
        if (!events) {
            return json_error(503, "audit unavailable");
        }
        json out = json::array();
        for (const auto& e : *events) {
            if (scope && (!e.iccid || !profile_of(*scope, *e.iccid, seen))) {
                continue;
            }
            out.push_back(event_json(e));
            if (out.size() == shown) {
                break;
            }
        }
        return json_response(200, json{{"records", out}});
    }

    // Downloads and blocked attempts per minute over the last 30 minutes,
    // from the audit trail (so every node's events count). Operator staff
    // count only events on their operator's profiles (the rule of
    // audit_search): a blocked attempt that named no profile is the platform's.
    http::response stats(const std::optional<std::string>& scope) {
        if (deps_.audit == nullptr || (scope && deps_.main_store == nullptr)) {
            return json_error(503, "audit unavailable");
        }
        const auto t = std::chrono::time_point_cast<std::chrono::minutes>(now());
        constexpr int minutes = 30;
        store::audit_query aq;
        aq.from = t - std::chrono::minutes(minutes - 1);
        aq.limit = 100'000;
        auto events = deps_.audit->activation_records(aq);
        if (!events) {
            return json_error(503, "audit unavailable");
        }
        std::vector<int> downloads(minutes, 0);
        std::vector<int> blocked(minutes, 0);
        std::map<std::string, bool> seen;
        for (const auto& e : *events) {
            auto m = std::chrono::duration_cast<std::chrono::minutes>(e.at - *aq.from).count();
            if (m < 0 || m >= minutes) {
                continue;
            }
            if (scope && (!e.iccid || !profile_of(*scope, *e.iccid, seen))) {
                continue;
            }
            const bool es9 = e.kind == "es9p_call";
            const bool bpp = e.reason.find("getBoundProfilePackage") != std::string::npos ||
                             e.detail.find("getBoundProfilePackage") != std::string::npos;
            if (es9 && bpp && e.outcome == "ok") {
                ++downloads[static_cast<std::size_t>(m)];
            } else if (e.outcome == "blocked" ||
                       (es9 && e.outcome == "refused" &&
                        e.detail.find("cancelSession") == std::string::npos)) {
                // The LPA's cancelSession after a refusal is the same attempt.
                ++blocked[static_cast<std::size_t>(m)];
            }
        }
        return json_response(200, json{{"start", detail::time_text(*aq.from)},
                                       {"minutes", minutes},
                                       {"downloads", downloads},
                                       {"blocked", blocked}});
    }

    // Operator staff see a subscriber only through a line that is one of
    // their operator's profiles, and only those lines: who else serves the
    // same person is not theirs to know.
    http::response subscribers(const std::optional<std::string>& scope) {
        if (scope && deps_.main_store == nullptr) {
            return json_error(503, "subscribers unavailable");
        }
        auto accounts = deps_.accounts->list_accounts();
        if (!accounts) {
            return json_error(503, "accounts unavailable");
        }
        json out = json::array();
        std::map<std::string, bool> seen;
        for (const auto& a : *accounts) {
            if (a.role != store::portal_role::subscriber || !a.subscriber_id) {
                continue;
            }
            json lines = json::array();
            if (auto ls = deps_.defense->list_lines(*a.subscriber_id)) {
                for (const auto& l : *ls) {
                    if (!scope || profile_of(*scope, l.iccid, seen)) {
                        lines.push_back(line_json(l));
                    }
                }
            }
            if (scope && lines.empty()) {
                continue;
            }
            out.push_back(json{{"account", a.name},
                               {"subscriber_id", *a.subscriber_id},
                               {"totp_enrolled", a.totp_secret.has_value()},
                               {"lines", lines}});
        }
        return json_response(200, json{{"subscribers", out}});
    }

    http::response link_line(const http::request& req, const caller& c, const json& body,
                             const std::optional<std::string>& scope) {
        auto iccid = str_field(body, "iccid", 20);
        auto account = str_field(body, "account", 64);
        if (!iccid || !digits_only(*iccid, 18, 20) || !account) {
            return refuse(400, "an ICCID (18 to 20 digits) and a subscriber account are needed");
        }
        auto a = deps_.accounts->find_account_by_name(lower(*account));
        if (!a || a->role != store::portal_role::subscriber || !a->subscriber_id) {
            return refuse(404, "no such subscriber account");
        }
        if (deps_.main_store != nullptr) {
            auto p = deps_.main_store->find_profile(*iccid);
            if (!p || (scope && p->operator_id != *scope)) {
                return refuse(404, "no such profile");
            }
        } else if (scope) {
            // Without the inventory, staff could link another operator's line.
            return json_error(503, "profiles unavailable");
        }
        bool step = body.contains("step_up_on_new_eid") &&
                    body["step_up_on_new_eid"].is_boolean() &&
                    body["step_up_on_new_eid"].get<bool>();
        auto l = deps_.defense->link_line(*iccid, *a->subscriber_id, step, now());
        if (!l) {
            return json_error(503, "the line could not be linked");
        }
        audit_as(c, req, "link_line", "ok", json{{"account", a->name}}, *iccid);
        return json_response(200, json{{"line", line_json(*l)}});
    }

    portal_config config_;
    portal_deps deps_;
    detail::login_limiter addresses_;
    http::metric_counter* requests_ = nullptr;
    http::metric_counter* signin_ok_ = nullptr;
    http::metric_counter* signin_failed_ = nullptr;
    http::metric_counter* signin_limited_ = nullptr;
    http::metric_counter* refused_ = nullptr;
};

} // namespace

std::expected<store::portal_account, std::string>
create_account(store::portal_store& accounts, store::defense_store* defense,
               crypto::random_source& random, std::string_view name, std::string_view password,
               store::portal_role role, std::optional<std::string> subscriber_id,
               std::optional<std::string> operator_id, store::time_point now,
               std::string_view email) {
    if (!valid_name(name)) {
        return std::unexpected("a name is 3 to 64 letters, digits or . _ - @");
    }
    auto v = check_password(name, password);
    if (!v.acceptable) {
        return std::unexpected("this password is refused");
    }
    if (auto existing = accounts.find_account_by_name(name); existing) {
        return std::unexpected("this name is taken");
    }
    auto hash = hash_password(password);
    if (!hash) {
        return std::unexpected(hash.error());
    }
    auto id = random_hex(random, 16);
    if (!id) {
        return std::unexpected(id.error());
    }
    store::portal_account a;
    a.id = *id;
    a.name = std::string(name);
    a.role = role;
    a.operator_id = std::move(operator_id);
    a.password_hash = std::move(*hash);
    a.created_at = now;
    if (role == store::portal_role::subscriber) {
        if (!subscriber_id) {
            if (defense == nullptr) {
                return std::unexpected("subscribers need the defense store");
            }
            store::subscriber_record s;
            s.id = "sub-" + id->substr(0, 16);
            s.display_name = std::string(name);
            s.email = std::string(email);
            s.created_at = now;
            if (auto r = defense->add_subscriber(s); !r) {
                return std::unexpected("the subscriber could not be created");
            }
            subscriber_id = s.id;
        }
        a.subscriber_id = std::move(subscriber_id);
    }
    if (auto r = accounts.add_account(a); !r) {
        return std::unexpected(r.error().code == store::errc::conflict ? "this name is taken"
                                                                       : "the account could not "
                                                                         "be stored");
    }
    return a;
}

std::expected<std::unique_ptr<portal>, std::string> create_portal(portal_config config,
                                                                  portal_deps deps) {
    if (deps.accounts == nullptr || deps.defense == nullptr || deps.random == nullptr) {
        return std::unexpected("the portal needs its account store, the defense store and a "
                               "random source");
    }
    if (config.prefix.empty() || config.prefix.front() != '/' || config.prefix.back() == '/') {
        return std::unexpected("the portal prefix must start with '/' and not end with one");
    }
    return std::make_unique<portal_impl>(std::move(config), std::move(deps));
}

} // namespace esimguard::portal
