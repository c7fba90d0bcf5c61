// The admin API: JSON in, smdp_service admin functions, JSON out. Logs name
// the endpoint, the operator and the order id, never a token, an activation
// code, a matching ID or a confirmation code.

#include "admin_api.hpp"

#include "esimguard/crypto/hash.hpp"
#include "esimguard/crypto/mac.hpp"
#include "esimguard/crypto/random.hpp"
#include "esimguard/defense/persist.hpp"
#include "esimguard/rsp/activation_code.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>
#include <map>
#include <string>
#include <string_view>

namespace esimguard::smdpp {

namespace {

using nlohmann::json;

std::shared_ptr<spdlog::logger> logger() {
    auto l = spdlog::get("admin");
    return l ? l : spdlog::default_logger();
}

http::response json_answer(int status, const json& body) {
    return http::response::with_body(status, body.dump(), "application/json");
}

http::response error_answer(int status, std::string_view code, std::string_view message) {
    return json_answer(status, json{{"error", {{"code", code}, {"message", message}}}});
}

// An SGP.22 refusal from the service, with the HTTP status a script can act on.
http::response status_answer(const rsp::status& s) {
    int http_status = 400;
    if (s.subject_code == "8.8" && s.reason_code == "3.1") {
        http_status = 500;
    } else if (s.reason_code == "3.3" || s.reason_code == "3.7") {
        http_status = 409;
    } else if (s.reason_code == "3.9") {
        http_status = 404;
    }
    return json_answer(http_status, json{{"error",
                                          {{"code", "refused"},
                                           {"subject_code", s.subject_code},
                                           {"reason_code", s.reason_code},
                                           {"message", s.message}}}});
}

std::string iso_time(store::time_point t) {
    const std::time_t secs = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

// Eight decimal digits, uniformly drawn: what a subscriber can type.
std::optional<std::string> generate_confirmation_code() {
    std::string code;
    while (code.size() < 8) {
        auto b = crypto::random_bytes(16);
        if (!b) {
            return std::nullopt;
        }
        for (auto v : *b) {
            // Rejecting 250..255 keeps every digit equally likely.
            if (v < 250 && code.size() < 8) {
                code.push_back(static_cast<char>('0' + v % 10));
            }
        }
    }
    return code;
}

std::optional<std::string> opt_string(const json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
        return std::nullopt;
    }
    if (!it->is_string()) {
        throw std::invalid_argument(fmt::format("'{}' must be a string", key));
    }
    return it->get<std::string>();
}

bool opt_bool(const json& j, const char* key, bool fallback) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
        return fallback;
    }
    if (!it->is_boolean()) {
        throw std::invalid_argument(fmt::format("'{}' must be true or false", key));
    }
    return it->get<bool>();
}

std::string required_string(const json& j, const char* key) {
    auto v = opt_string(j, key);
    if (!v || v->empty()) {
        throw std::invalid_argument(fmt::format("'{}' is required", key));
    }
    return *v;
}

// ---- input checks of the defence endpoints --------------------------------

bool all_digits(std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Free text an operator types (reasons): bounded, no control characters, so
// that it cannot forge log lines or bloat the audit trail.
std::string checked_text(std::optional<std::string> v, const char* key, std::size_t max = 512) {
    if (!v) {
        return {};
    }
    if (v->size() > max) {
        throw std::invalid_argument(fmt::format("'{}' is longer than {} bytes", key, max));
    }
    for (unsigned char c : *v) {
        if (c < 0x20 || c == 0x7f) {
            throw std::invalid_argument(fmt::format("'{}' must not hold control characters", key));
        }
    }
    return std::move(*v);
}

// Identifiers (subscriber, operator, alert ids): 1..64 of [A-Za-z0-9._@:-].
std::string checked_id(const std::string& v, const char* key) {
    if (v.empty() || v.size() > 64 || !std::all_of(v.begin(), v.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' ||
                   c == '@' || c == ':' || c == '-';
        })) {
        throw std::invalid_argument(
            fmt::format("'{}' must be 1 to 64 letters, digits or . _ @ : -", key));
    }
    return v;
}

std::string checked_iccid(const std::string& v) {
    if (v.size() < 18 || v.size() > 20 || !all_digits(v)) {
        throw std::invalid_argument("'iccid' must be 18 to 20 digits");
    }
    return v;
}

std::string checked_eid(const std::string& v) {
    if (v.size() != 32 || !all_digits(v)) {
        throw std::invalid_argument("'eid' must be 32 digits");
    }
    return v;
}

std::string checked_email(std::optional<std::string> v) {
    auto e = checked_text(std::move(v), "email", 254);
    if (!e.empty() && (e.find('@') == std::string::npos || e.find(' ') != std::string::npos ||
                       e.front() == '@' || e.back() == '@')) {
        throw std::invalid_argument("'email' must be an address like name@example.org");
    }
    return e;
}

std::int64_t opt_int(const json& j, const char* key, std::int64_t fallback, std::int64_t lo,
                     std::int64_t hi) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
        return fallback;
    }
    if (!it->is_number_integer()) {
        throw std::invalid_argument(fmt::format("'{}' must be an integer", key));
    }
    auto v = it->get<std::int64_t>();
    if (v < lo || v > hi) {
        throw std::invalid_argument(fmt::format("'{}' must be between {} and {}", key, lo, hi));
    }
    return v;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

// The query string of `target` as a JSON object of strings (application/
// x-www-form-urlencoded), so that GET and DELETE parameters go through the
// same checks as bodies. A malformed escape is a bad request.
json query_params(std::string_view target) {
    json out = json::object();
    auto q = target.find('?');
    if (q == std::string_view::npos) {
        return out;
    }
    auto decode = [](std::string_view in) {
        std::string o;
        for (std::size_t i = 0; i < in.size(); ++i) {
            if (in[i] == '+') {
                o.push_back(' ');
            } else if (in[i] == '%') {
                int hi = i + 1 < in.size() ? hex_value(in[i + 1]) : -1;
                int lo = i + 2 < in.size() ? hex_value(in[i + 2]) : -1;
                if (hi < 0 || lo < 0) {
                    throw std::invalid_argument("malformed query string");
                }
                o.push_back(static_cast<char>(hi * 16 + lo));
                i += 2;
            } else {
                o.push_back(in[i]);
            }
        }
        return o;
    };
    std::string_view rest = target.substr(q + 1);
    while (!rest.empty()) {
        auto amp = rest.find('&');
        auto part = rest.substr(0, amp);
        rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
        if (part.empty()) {
            continue;
        }
        auto eq = part.find('=');
        auto k = decode(part.substr(0, eq));
        auto v = eq == std::string_view::npos ? std::string() : decode(part.substr(eq + 1));
        out[k] = v;
    }
    return out;
}

bool query_flag(const json& q, const char* key) {
    auto v = opt_string(q, key);
    if (!v) {
        return false;
    }
    if (*v == "true" || *v == "1" || v->empty()) {
        return true;
    }
    if (*v == "false" || *v == "0") {
        return false;
    }
    throw std::invalid_argument(fmt::format("'{}' must be true or false", key));
}

std::size_t query_limit(const json& q, std::size_t fallback, std::size_t max) {
    auto v = opt_string(q, "limit");
    if (!v) {
        return fallback;
    }
    if (!all_digits(*v) || v->size() > 6) {
        throw std::invalid_argument("'limit' must be a positive integer");
    }
    auto n = std::stoul(*v);
    if (n == 0 || n > max) {
        throw std::invalid_argument(fmt::format("'limit' must be between 1 and {}", max));
    }
    return n;
}

http::response unavailable_answer(std::string_view what) {
    return error_answer(503, "unavailable", fmt::format("{} is not enabled on this server", what));
}

http::response store_failure(std::string_view what, const store::error& e) {
    if (e.code == store::errc::not_found) {
        return error_answer(404, "not_found", fmt::format("no such {}", what));
    }
    if (e.code == store::errc::conflict) {
        return error_answer(409, "exists", fmt::format("this {} exists already", what));
    }
    if (e.code == store::errc::invalid_argument) {
        return error_answer(400, "bad_request", e.message);
    }
    logger()->error("admin: {} store call failed: {}", what, e.message);
    return error_answer(500, "internal", "the store failed");
}

json order_json(const store::order_record& o) {
    json j{{"order_id", o.order_id},
           {"iccid", o.iccid},
           {"operator", o.operator_id},
           {"profile_type", o.profile_type},
           {"state", store::to_string(o.state)},
           {"locked", o.locked},
           {"cc_required", o.cc_required},
           {"cc_failures", o.cc_failures},
           {"cc_failure_limit", o.cc_failure_limit},
           {"download_attempts", o.download_attempts},
           {"download_attempt_limit", o.download_attempt_limit},
           {"expires_at", iso_time(o.expires_at)},
           {"created_at", iso_time(o.created_at)},
           {"updated_at", iso_time(o.updated_at)}};
    j["eid"] = o.eid ? json(*o.eid) : json(nullptr);
    j["lock_reason"] = o.lock_reason ? json(*o.lock_reason) : json(nullptr);
    return j;
}

// Authenticates, parses the JSON body and turns bad input into 400s, so that
// each endpoint below handles only the happy path and service refusals.
class admin_call {
public:
    admin_call(admin_api_context& ctx, std::string endpoint)
        : ctx_(ctx), endpoint_(std::move(endpoint)) {}

    template <typename Body>
    http::response run(const http::request& req, bool parse_body, Body body) {
        http::response r = dispatch(req, parse_body, body);
        ctx_.metrics
            ->counter("admin_requests_total", "Admin API calls by endpoint and HTTP status",
                      {{"endpoint", endpoint_}, {"status", std::to_string(r.status)}})
            .inc();
        return r;
    }

private:
    template <typename Body>
    http::response dispatch(const http::request& req, bool parse_body, Body& body) {
        if (ctx_.token_sha256.empty()) {
            return error_answer(404, "disabled", "the admin API is not configured");
        }
        if (!authorised(req)) {
            logger()->warn("admin {}: refused an unauthenticated call from {}", endpoint_,
                           req.peer_address);
            auto r = error_answer(401, "unauthorized", "a valid admin bearer token is required");
            r.headers.push_back({"WWW-Authenticate", "Bearer"});
            return r;
        }
        smdp::smdp_service* service = ctx_.slot->service.load();
        if (service == nullptr) {
            return error_answer(503, "starting", "the server is starting");
        }
        json j = json::object();
        if (parse_body) {
            j = json::parse(req.body, nullptr, false);
            if (j.is_discarded() || !j.is_object()) {
                return error_answer(400, "bad_request", "the body must be a JSON object");
            }
        }
        try {
            return body(*service, j);
        } catch (const std::invalid_argument& e) {
            return error_answer(400, "bad_request", e.what());
        } catch (const json::exception& e) {
            return error_answer(400, "bad_request", e.what());
        }
    }

    bool authorised(const http::request& req) const {
        auto h = http::find_header(req.headers, "Authorization");
        constexpr std::string_view scheme = "Bearer ";
        if (!h || h->size() <= scheme.size() || h->substr(0, scheme.size()) != scheme) {
            return false;
        }
        const auto presented = crypto::sha256(as_bytes(h->substr(scheme.size())));
        return crypto::constant_time_equal(presented, ctx_.token_sha256);
    }

    admin_api_context& ctx_;
    std::string endpoint_;
};

http::response add_operator(smdp::smdp_service& service, store::store& db, const json& j) {
    smdp::operator_spec spec;
    spec.id = required_string(j, "id");
    // A distinct answer for "exists already", so that setup scripts can rerun.
    if (db.find_operator(spec.id)) {
        return error_answer(409, "exists", "an operator with this id exists already");
    }
    spec.display_name = opt_string(j, "display_name").value_or(spec.id);
    spec.bearer_token = opt_string(j, "es2_token").value_or("");
    spec.download_progress_url = opt_string(j, "download_progress_url");
    auto op = service.add_operator(spec);
    if (!op) {
        return status_answer(op.error());
    }
    logger()->info("admin: operator {} added", op->id);
    return json_answer(201, json{{"id", op->id}, {"display_name", op->display_name}});
}

http::response add_profile(smdp::smdp_service& service, const json& j) {
    const std::string op = required_string(j, "operator");
    auto der = from_base64(required_string(j, "package"));
    if (!der || der->empty()) {
        throw std::invalid_argument("'package' must be the base64 of a SAIP package (DER)");
    }
    smdp::profile_package_info info;
    info.service_provider_name =
        opt_string(j, "service_provider_name").value_or(info.service_provider_name);
    info.profile_name = opt_string(j, "profile_name").value_or("");
    info.profile_type = opt_string(j, "profile_type").value_or("");
    if (auto k = opt_string(j, "class")) {
        if (*k == "test") {
            info.klass = store::profile_class::test;
        } else if (*k == "provisioning") {
            info.klass = store::profile_class::provisioning;
        } else if (*k == "operational") {
            info.klass = store::profile_class::operational;
        } else {
            throw std::invalid_argument("'class' must be test, provisioning or operational");
        }
    }
    auto p = service.add_profile_package(op, *der, info);
    if (!p) {
        return status_answer(p.error());
    }
    logger()->info("admin: profile {} ({}) added for operator {}", p->iccid, p->profile_type, op);
    return json_answer(201, json{{"iccid", p->iccid},
                                 {"operator", p->operator_id},
                                 {"profile_type", p->profile_type},
                                 {"state", store::to_string(p->state)}});
}

http::response create_order(smdp::smdp_service& service, const json& j) {
    smdp::admin_order_request r;
    r.operator_id = required_string(j, "operator");
    r.iccid = opt_string(j, "iccid");
    r.profile_type = opt_string(j, "profile_type");
    r.eid = opt_string(j, "eid");
    r.matching_id = opt_string(j, "matching_id");
    r.confirmation_code = opt_string(j, "confirmation_code");
    r.release = opt_bool(j, "release", true);
    if (!r.iccid && !r.profile_type) {
        throw std::invalid_argument("'iccid' or 'profile_type' is required");
    }
    if (r.confirmation_code && r.confirmation_code->empty()) {
        r.confirmation_code.reset();
    }
    if (!r.confirmation_code && opt_bool(j, "confirmation_code_required", true)) {
        r.confirmation_code = generate_confirmation_code();
        if (!r.confirmation_code) {
            return error_answer(500, "internal", "no randomness for a confirmation code");
        }
    }
    auto o = service.admin_create_order(r);
    if (!o) {
        return status_answer(o.error());
    }
    logger()->info("admin: order {} created for operator {} (profile {}, confirmation code {})",
                   o->order.order_id, r.operator_id, o->order.iccid,
                   o->order.cc_required ? "required" : "not required");
    json out = order_json(o->order);
    out["activation_code"] = rsp::format_activation_code(o->activation_code);
    out["smdp_address"] = o->activation_code.smdp_address;
    out["matching_id"] = o->activation_code.matching_id;
    out["confirmation_code"] =
        o->order.cc_required && r.confirmation_code ? json(*r.confirmation_code) : json(nullptr);
    return json_answer(201, out);
}

http::response show_order(store::store& db, std::string_view id) {
    auto o = db.find_order(id);
    if (!o) {
        if (o.error().code == store::errc::not_found) {
            return error_answer(404, "not_found", "no such order");
        }
        logger()->error("admin: order lookup failed: {}", o.error().message);
        return error_answer(500, "internal", "the store failed");
    }
    auto events = db.list_order_events(id);
    if (!events) {
        logger()->error("admin: history lookup failed: {}", events.error().message);
        return error_answer(500, "internal", "the store failed");
    }
    json out = order_json(*o);
    json history = json::array();
    for (const auto& e : *events) {
        history.push_back(json{{"at", iso_time(e.at)}, {"name", e.name}, {"detail", e.detail}});
    }
    out["history"] = std::move(history);
    return json_answer(200, out);
}

// ---- the defences (issue 4) ------------------------------------------------

// Who acted, for the audit trail: "admin:<name>" when the caller names
// itself (X-Esimguard-Actor, e.g. the CLI passes the login name), else
// "admin:token". The one admin token cannot tell people apart; the name is
// a claim recorded next to the source address.
std::string actor_of(const http::request& req) {
    auto h = http::find_header(req.headers, "X-Esimguard-Actor");
    if (h && !h->empty() && h->size() <= 64 && std::all_of(h->begin(), h->end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' ||
                   c == '@' || c == '-';
        })) {
        return "admin:" + std::string(*h);
    }
    return "admin:token";
}

void audit_admin(admin_api_context& ctx, const http::request& req, std::string_view action,
                 std::string_view outcome, std::string reason, std::optional<std::string> eid,
                 std::optional<std::string> iccid, json detail = json::object()) {
    if (ctx.audit == nullptr) {
        return;
    }
    defense::audit_entry e;
    e.kind = store::audit_kind::admin_action;
    e.actor = actor_of(req);
    e.eid = std::move(eid);
    e.iccid = std::move(iccid);
    e.source_address = req.peer_address;
    e.outcome = std::string(outcome);
    e.reason = reason.empty() ? std::string(action) : fmt::format("{}: {}", action, reason);
    detail["action"] = action;
    e.detail_json = detail.dump();
    if (auto r = ctx.audit->append(e); !r) {
        logger()->error("admin: audit of {} failed: {}", action, r.error().message);
    }
}

json block_json(const defense::block_entry& b) {
    json j{{"kind", defense::to_string(b.kind)},
           {"value", b.value},
           {"reason", b.reason},
           {"created_at", iso_time(b.created)},
           {"created_by", b.created_by}};
    j["expires_at"] = b.expires ? json(iso_time(*b.expires)) : json(nullptr);
    return j;
}

json stolen_json(const defense::stolen_device& d) {
    return json{{"eid", d.eid},
                {"reason", d.reason},
                {"reported_at", iso_time(d.reported)},
                {"reported_by", d.reported_by}};
}

json alert_row_json(const store::alert_row& a) {
    auto body = json::parse(a.json, nullptr, false);
    json j{{"id", a.id},
           {"at", iso_time(a.at)},
           {"severity", a.severity},
           {"rule", a.rule},
           {"summary", a.summary},
           {"alert", body.is_discarded() ? json(nullptr) : body}};
    j["acknowledged_at"] = a.acknowledged_at ? json(iso_time(*a.acknowledged_at)) : json(nullptr);
    j["acknowledged_by"] = a.acknowledged_by ? json(*a.acknowledged_by) : json(nullptr);
    return j;
}

json line_json(const store::line_record& l) {
    json j{{"iccid", l.iccid},           {"subscriber", l.subscriber_id},
           {"frozen", l.frozen},         {"step_up_on_new_eid", l.step_up_on_new_eid},
           {"known_eids", l.known_eids}, {"linked_at", iso_time(l.linked_at)}};
    j["frozen_reason"] = l.frozen_reason ? json(*l.frozen_reason) : json(nullptr);
    j["frozen_at"] = l.frozen_at ? json(iso_time(*l.frozen_at)) : json(nullptr);
    return j;
}

json audit_event_json(const store::audit_event& e) {
    auto detail = json::parse(e.detail, nullptr, false);
    json j{{"seq", e.seq},          {"at", iso_time(e.at)}, {"actor", e.actor},
           {"kind", e.kind},        {"outcome", e.outcome}, {"reason", e.reason},
           {"hash", to_hex(e.hash)}};
    j["eid"] = e.eid ? json(*e.eid) : json(nullptr);
    j["iccid"] = e.iccid ? json(*e.iccid) : json(nullptr);
    j["source_address"] = e.source_address ? json(*e.source_address) : json(nullptr);
    j["detail"] = detail.is_discarded() ? json(e.detail) : detail;
    return j;
}

// Parameters of a call: the JSON body, completed by the query string (GET
// and DELETE carry them there).
json params_of(const http::request& req, const json& body) {
    json p = body.is_object() ? body : json::object();
    // A named object: items() of a temporary would dangle inside the loop.
    const json query = query_params(req.target);
    for (const auto& [k, v] : query.items()) {
        if (!p.contains(k)) {
            p[k] = v;
        }
    }
    return p;
}

defense::block_kind block_kind_of(const json& p) {
    auto k = required_string(p, "kind");
    auto kind = defense::parse_block_kind(k);
    if (!kind) {
        throw std::invalid_argument("'kind' must be ip, ip_prefix, eid, eum or matching_id");
    }
    return *kind;
}

http::response list_blocks(admin_api_context& ctx) {
    if (ctx.blocks == nullptr) {
        return unavailable_answer("the blocklist");
    }
    json out = json::array();
    for (const auto& b : ctx.blocks->list()) {
        out.push_back(block_json(b));
    }
    return json_answer(200, json{{"entries", out}});
}

http::response add_block(admin_api_context& ctx, const http::request& req, const json& p) {
    if (ctx.blocks == nullptr) {
        return unavailable_answer("the blocklist");
    }
    defense::block_entry b;
    b.kind = block_kind_of(p);
    b.value = required_string(p, "value");
    b.reason = checked_text(opt_string(p, "reason"), "reason");
    b.created = std::chrono::system_clock::now();
    // Ten years at most: "forever" is no ttl_s.
    auto ttl = opt_int(p, "ttl_s", 0, 1, 10LL * 365 * 24 * 3600);
    if (ttl > 0) {
        b.expires = b.created + std::chrono::seconds(ttl);
    }
    b.created_by = actor_of(req);
    auto added = ctx.blocks->add(b);
    if (!added) {
        if (added.error().code == defense::risk_errc::invalid_argument) {
            return error_answer(400, "bad_request", added.error().message);
        }
        // The entry applies in memory; only persisting it failed.
        logger()->error("admin: blocklist entry applied but not stored: {}", added.error().message);
        audit_admin(ctx, req, "block_add", "error", "not stored", std::nullopt, std::nullopt,
                    json{{"kind", defense::to_string(b.kind)}});
        return error_answer(500, "not_stored",
                            "the entry applies now but could not be stored; retry");
    }
    std::optional<std::string> eid;
    if (added->kind == defense::block_kind::eid) {
        eid = added->value;
    }
    // A matching ID is a secret of its order: its value stays out of the
    // audit detail and the logs.
    json detail{{"kind", defense::to_string(added->kind)}, {"ttl_s", ttl}};
    if (added->kind != defense::block_kind::matching_id) {
        detail["value"] = added->value;
    }
    audit_admin(ctx, req, "block_add", "ok", added->reason, eid, std::nullopt, detail);
    logger()->info("admin: blocklist entry of kind {} added", defense::to_string(added->kind));
    auto answer = block_json(*added);
    return json_answer(201, answer);
}

http::response remove_block(admin_api_context& ctx, const http::request& req, const json& p) {
    if (ctx.blocks == nullptr) {
        return unavailable_answer("the blocklist");
    }
    auto kind = block_kind_of(p);
    auto value = required_string(p, "value");
    auto r = ctx.blocks->remove(kind, value);
    if (!r) {
        if (r.error().code == defense::risk_errc::invalid_argument) {
            return error_answer(400, "bad_request", r.error().message);
        }
        logger()->error("admin: blocklist removal not stored: {}", r.error().message);
        return error_answer(500, "not_stored", "removed now but the store failed; retry");
    }
    if (!*r) {
        return error_answer(404, "not_found", "no such blocklist entry");
    }
    json detail{{"kind", defense::to_string(kind)}};
    if (kind != defense::block_kind::matching_id) {
        detail["value"] = value;
    }
    audit_admin(ctx, req, "block_remove", "ok", "", std::nullopt, std::nullopt, detail);
    return json_answer(200, json{{"removed", true}});
}

http::response list_stolen(admin_api_context& ctx) {
    if (ctx.stolen == nullptr) {
        return unavailable_answer("the stolen device list");
    }
    json out = json::array();
    for (const auto& d : ctx.stolen->list()) {
        out.push_back(stolen_json(d));
    }
    return json_answer(200, json{{"devices", out}});
}

http::response add_stolen(admin_api_context& ctx, const http::request& req, const json& p) {
    if (ctx.stolen == nullptr) {
        return unavailable_answer("the stolen device list");
    }
    defense::stolen_device d;
    d.eid = checked_eid(required_string(p, "eid"));
    d.reason = checked_text(opt_string(p, "reason"), "reason");
    d.reported = std::chrono::system_clock::now();
    d.reported_by = actor_of(req);
    if (auto r = ctx.stolen->add(d); !r) {
        if (r.error().code == defense::risk_errc::invalid_argument) {
            return error_answer(400, "bad_request", r.error().message);
        }
        logger()->error("admin: stolen report applied but not stored: {}", r.error().message);
        return error_answer(500, "not_stored",
                            "the report applies now but could not be stored; retry");
    }
    audit_admin(ctx, req, "stolen_add", "ok", d.reason, d.eid, std::nullopt);
    return json_answer(201, stolen_json(d));
}

http::response remove_stolen(admin_api_context& ctx, const http::request& req, const json& p) {
    if (ctx.stolen == nullptr) {
        return unavailable_answer("the stolen device list");
    }
    auto eid = checked_eid(required_string(p, "eid"));
    auto r = ctx.stolen->remove(eid);
    if (!r) {
        logger()->error("admin: stolen removal not stored: {}", r.error().message);
        return error_answer(500, "not_stored", "removed now but the store failed; retry");
    }
    if (!*r) {
        return error_answer(404, "not_found", "this EID is not reported stolen");
    }
    audit_admin(ctx, req, "stolen_remove", "ok", "", eid, std::nullopt);
    return json_answer(200, json{{"removed", true}});
}

http::response list_alerts(admin_api_context& ctx, const json& p) {
    if (ctx.defenses == nullptr) {
        return unavailable_answer("the alerts inbox");
    }
    store::alert_query q;
    if (auto v = opt_string(p, "subscriber")) {
        q.subscriber_id = checked_id(*v, "subscriber");
    }
    if (auto v = opt_string(p, "operator")) {
        q.operator_id = checked_id(*v, "operator");
    }
    if (auto v = opt_string(p, "iccid")) {
        q.iccid = checked_iccid(*v);
    }
    if (auto v = opt_string(p, "severity")) {
        if (!defense::parse_alert_severity(*v)) {
            throw std::invalid_argument("'severity' must be info, warning or critical");
        }
        q.severity = *v;
    }
    q.unacknowledged_only = query_flag(p, "unacknowledged");
    q.limit = query_limit(p, 200, 10'000);
    auto rows = ctx.defenses->list_alerts(q);
    if (!rows) {
        return store_failure("alert", rows.error());
    }
    json out = json::array();
    for (const auto& a : *rows) {
        out.push_back(alert_row_json(a));
    }
    return json_answer(200, json{{"alerts", out}});
}

http::response ack_alert(admin_api_context& ctx, const http::request& req, const std::string& id) {
    if (ctx.defenses == nullptr) {
        return unavailable_answer("the alerts inbox");
    }
    auto a = ctx.defenses->acknowledge_alert(checked_id(id, "alert id"), actor_of(req),
                                             std::chrono::system_clock::now());
    if (!a) {
        return store_failure("alert", a.error());
    }
    audit_admin(ctx, req, "alert_ack", "ok", "", a->eid, a->iccid, json{{"alert", a->id}});
    return json_answer(200, alert_row_json(*a));
}

http::response add_subscriber(admin_api_context& ctx, const http::request& req, const json& p) {
    if (ctx.defenses == nullptr) {
        return unavailable_answer("the subscriber store");
    }
    store::subscriber_record s;
    s.id = checked_id(required_string(p, "id"), "id");
    s.display_name = checked_text(opt_string(p, "display_name"), "display_name", 200);
    s.email = checked_email(opt_string(p, "email"));
    if (auto op = opt_string(p, "operator")) {
        s.operator_id = checked_id(*op, "operator");
    }
    s.created_at = std::chrono::system_clock::now();
    if (auto r = ctx.defenses->add_subscriber(s); !r) {
        return store_failure("subscriber", r.error());
    }
    audit_admin(ctx, req, "subscriber_add", "ok", "", std::nullopt, std::nullopt,
                json{{"subscriber", s.id}});
    json out{{"id", s.id}, {"display_name", s.display_name}, {"email", s.email}};
    out["operator"] = s.operator_id ? json(*s.operator_id) : json(nullptr);
    return json_answer(201, out);
}

http::response link_line(admin_api_context& ctx, const http::request& req, const json& p) {
    if (ctx.defenses == nullptr) {
        return unavailable_answer("the subscriber store");
    }
    auto iccid = checked_iccid(required_string(p, "iccid"));
    auto sub = checked_id(required_string(p, "subscriber"), "subscriber");
    bool step_up = opt_bool(p, "step_up_on_new_eid", false);
    auto l = ctx.defenses->link_line(iccid, sub, step_up, std::chrono::system_clock::now());
    if (!l) {
        return store_failure("subscriber", l.error());
    }
    audit_admin(ctx, req, "line_link", "ok", "", std::nullopt, iccid,
                json{{"subscriber", sub}, {"step_up_on_new_eid", step_up}});
    return json_answer(201, line_json(*l));
}

http::response freeze_line(admin_api_context& ctx, const http::request& req,
                           const std::string& iccid_in, bool freeze, const json& p) {
    if (ctx.defenses == nullptr) {
        return unavailable_answer("the subscriber store");
    }
    auto iccid = checked_iccid(iccid_in);
    std::optional<std::string> reason;
    if (freeze) {
        reason = checked_text(opt_string(p, "reason"), "reason");
        if (reason->empty()) {
            reason = "frozen by an administrator";
        }
    }
    auto l = ctx.defenses->set_line_frozen(iccid, reason, std::chrono::system_clock::now());
    if (!l) {
        return store_failure("line", l.error());
    }
    audit_admin(ctx, req, freeze ? "line_freeze" : "line_thaw", "ok", reason.value_or(""),
                std::nullopt, iccid);
    return json_answer(200, line_json(*l));
}

http::response release_order(admin_api_context& ctx, const http::request& req,
                             const std::string& id, const json& p) {
    auto before = ctx.db->find_order(id);
    if (!before) {
        return store_failure("order", before.error());
    }
    auto o = ctx.db->unlock_order(id, std::chrono::system_clock::now());
    if (!o) {
        return store_failure("order", o.error());
    }
    // Forget what the pausing rule counted for this order, so that the next
    // attempt is not paused again at once. The rule is named by the body or
    // by the lock reason ("risk:<rule>" or the rule itself).
    std::vector<std::string> reset;
    if (ctx.risk != nullptr) {
        std::optional<std::string> rule = opt_string(p, "rule");
        if (!rule && before->lock_reason) {
            std::string_view r = *before->lock_reason;
            if (r.starts_with("risk:")) {
                r.remove_prefix(5);
            }
            rule = std::string(r.substr(0, r.find_first_of(" :")));
        }
        if (rule) {
            std::vector<std::string> keys{before->order_id, before->iccid};
            if (before->eid) {
                keys.push_back(*before->eid);
            }
            for (const auto& k : keys) {
                if (ctx.risk->reset(*rule, k) &&
                    std::find(reset.begin(), reset.end(), *rule) == reset.end()) {
                    reset.push_back(*rule);
                }
            }
        }
    }
    audit_admin(ctx, req, "order_release", "ok",
                before->lock_reason ? *before->lock_reason : std::string("not locked"), before->eid,
                before->iccid, json{{"order", id}, {"risk_reset", reset}});
    json out = order_json(*o);
    out["risk_reset"] = reset;
    return json_answer(200, out);
}

http::response show_audit(admin_api_context& ctx, const json& p) {
    if (ctx.audit == nullptr) {
        return unavailable_answer("the audit trail");
    }
    store::audit_query q;
    if (auto v = opt_string(p, "iccid")) {
        q.iccid = checked_iccid(*v);
    }
    if (auto v = opt_string(p, "eid")) {
        q.eid = checked_eid(*v);
    }
    if (auto v = opt_string(p, "ip")) {
        q.source_address = checked_text(*v, "ip", 64);
    }
    if (!q.iccid && !q.eid && !q.source_address) {
        throw std::invalid_argument("one of 'iccid', 'eid' or 'ip' is required");
    }
    q.limit = query_limit(p, 1000, 100'000);
    auto events = ctx.audit->activation_records(q);
    if (!events) {
        logger()->error("admin: audit query failed: {}", events.error().message);
        return error_answer(500, "internal", "the audit trail could not be read");
    }
    json out = json::array();
    for (const auto& e : *events) {
        out.push_back(audit_event_json(e));
    }
    return json_answer(200, json{{"events", out}});
}

http::response verify_audit(admin_api_context& ctx) {
    if (ctx.audit == nullptr) {
        return unavailable_answer("the audit trail");
    }
    auto v = ctx.audit->verify();
    if (!v) {
        logger()->error("admin: audit verify failed: {}", v.error().message);
        return error_answer(500, "internal", "the audit trail could not be read");
    }
    json out{{"ok", v->ok},
             {"kind", defense::to_string(v->kind)},
             {"seq", v->seq},
             {"events_checked", v->events_checked},
             {"message", v->message}};
    // 200 either way: the call worked; "ok" says whether the chain holds.
    return json_answer(200, out);
}

// The admin paths with an id inside them, which exact-path routes cannot
// hold: /admin/orders/<id>, /admin/orders/<id>/release,
// /admin/alerts/<id>/ack, /admin/lines/<iccid>/freeze|thaw.
struct id_path {
    std::string collection;
    std::string id;
    std::string action;
};

std::optional<id_path> split_id_path(std::string_view path) {
    constexpr std::string_view admin = "/admin/";
    if (!path.starts_with(admin)) {
        return std::nullopt;
    }
    path.remove_prefix(admin.size());
    std::vector<std::string> parts;
    while (!path.empty()) {
        auto slash = path.find('/');
        parts.emplace_back(path.substr(0, slash));
        path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash + 1);
    }
    if (parts.size() < 2 || parts.size() > 3 || parts[1].empty()) {
        return std::nullopt;
    }
    return id_path{parts[0], parts[1], parts.size() == 3 ? parts[2] : std::string()};
}

} // namespace

http::request_handler register_admin_routes(http::server& server,
                                            std::shared_ptr<admin_api_context> ctx) {
    server.add_route("POST", "/admin/operators", [ctx](const http::request& req) {
        return admin_call(*ctx, "operators")
            .run(req, true, [&](smdp::smdp_service& s, const json& j) {
                return add_operator(s, *ctx->db, j);
            });
    });
    server.add_route("POST", "/admin/profiles", [ctx](const http::request& req) {
        return admin_call(*ctx, "profiles").run(req, true, add_profile);
    });
    server.add_route("POST", "/admin/orders", [ctx](const http::request& req) {
        return admin_call(*ctx, "orders").run(req, true, create_order);
    });
    server.add_route("GET", "/admin/blocklist", [ctx](const http::request& req) {
        return admin_call(*ctx, "blocklist").run(req, false, [&](smdp::smdp_service&, const json&) {
            return list_blocks(*ctx);
        });
    });
    server.add_route("POST", "/admin/blocklist", [ctx](const http::request& req) {
        return admin_call(*ctx, "blocklist")
            .run(req, true,
                 [&](smdp::smdp_service&, const json& j) { return add_block(*ctx, req, j); });
    });
    server.add_route("DELETE", "/admin/blocklist", [ctx](const http::request& req) {
        return admin_call(*ctx, "blocklist")
            .run(req, !req.body.empty(), [&](smdp::smdp_service&, const json& j) {
                return remove_block(*ctx, req, params_of(req, j));
            });
    });
    server.add_route("GET", "/admin/stolen", [ctx](const http::request& req) {
        return admin_call(*ctx, "stolen").run(req, false, [&](smdp::smdp_service&, const json&) {
            return list_stolen(*ctx);
        });
    });
    server.add_route("POST", "/admin/stolen", [ctx](const http::request& req) {
        return admin_call(*ctx, "stolen").run(req, true, [&](smdp::smdp_service&, const json& j) {
            return add_stolen(*ctx, req, j);
        });
    });
    server.add_route("DELETE", "/admin/stolen", [ctx](const http::request& req) {
        return admin_call(*ctx, "stolen")
            .run(req, !req.body.empty(), [&](smdp::smdp_service&, const json& j) {
                return remove_stolen(*ctx, req, params_of(req, j));
            });
    });
    server.add_route("GET", "/admin/alerts", [ctx](const http::request& req) {
        return admin_call(*ctx, "alerts").run(req, false, [&](smdp::smdp_service&, const json& j) {
            return list_alerts(*ctx, params_of(req, j));
        });
    });
    server.add_route("POST", "/admin/subscribers", [ctx](const http::request& req) {
        return admin_call(*ctx, "subscribers")
            .run(req, true,
                 [&](smdp::smdp_service&, const json& j) { return add_subscriber(*ctx, req, j); });
    });
    server.add_route("POST", "/admin/lines", [ctx](const http::request& req) {
        return admin_call(*ctx, "lines").run(req, true, [&](smdp::smdp_service&, const json& j) {
            return link_line(*ctx, req, j);
        });
    });
    server.add_route("GET", "/admin/audit", [ctx](const http::request& req) {
        return admin_call(*ctx, "audit").run(req, false, [&](smdp::smdp_service&, const json& j) {
            return show_audit(*ctx, params_of(req, j));
        });
    });
    server.add_route("GET", "/admin/audit/verify", [ctx](const http::request& req) {
        return admin_call(*ctx, "audit_verify")
            .run(req, false, [&](smdp::smdp_service&, const json&) { return verify_audit(*ctx); });
    });
    return [ctx](const http::request& req) -> http::response {
        auto p = split_id_path(req.path);
        if (!p) {
            return error_answer(404, "not_found", "not found");
        }
        const bool post = req.method == "POST";
        if (p->collection == "orders" && p->action.empty() && req.method == "GET") {
            return admin_call(*ctx, "order").run(req, false, [&](smdp::smdp_service&, const json&) {
                return show_order(*ctx->db, p->id);
            });
        }
        if (p->collection == "orders" && p->action == "release" && post) {
            return admin_call(*ctx, "order_release")
                .run(req, !req.body.empty(), [&](smdp::smdp_service&, const json& j) {
                    return release_order(*ctx, req, p->id, j);
                });
        }
        if (p->collection == "alerts" && p->action == "ack" && post) {
            return admin_call(*ctx, "alert_ack")
                .run(req, false,
                     [&](smdp::smdp_service&, const json&) { return ack_alert(*ctx, req, p->id); });
        }
        if (p->collection == "lines" && (p->action == "freeze" || p->action == "thaw") && post) {
            return admin_call(*ctx, "line_" + p->action)
                .run(req, !req.body.empty(), [&](smdp::smdp_service&, const json& j) {
                    return freeze_line(*ctx, req, p->id, p->action == "freeze", j);
                });
        }
        return error_answer(404, "not_found", "not found");
    };
}

} // namespace esimguard::smdpp
