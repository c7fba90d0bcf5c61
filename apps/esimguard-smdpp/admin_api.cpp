// The admin API: JSON in, smdp_service admin functions, JSON out. Logs name
// the endpoint, the operator and the order id, never a token, an activation
// code, a matching ID or a confirmation code.

#include "admin_api.hpp"

#include "esimguard/crypto/hash.hpp"
#include "esimguard/crypto/mac.hpp"
#include "esimguard/crypto/random.hpp"
#include "esimguard/rsp/activation_code.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <ctime>
#include <string>
#include <string_view>

namespace esimguard::smdpp {

namespace {

using nlohmann::json;

constexpr std::string_view orders_prefix = "/admin/orders/";

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
    return [ctx](const http::request& req) -> http::response {
        const std::string_view path = req.path;
        if (req.method != "GET" || !path.starts_with(orders_prefix) ||
            path.size() == orders_prefix.size() ||
            path.find('/', orders_prefix.size()) != std::string_view::npos) {
            return error_answer(404, "not_found", "not found");
        }
        const std::string id(path.substr(orders_prefix.size()));
        return admin_call(*ctx, "order").run(req, false, [&](smdp::smdp_service&, const json&) {
            return show_order(*ctx->db, id);
        });
    };
}

} // namespace esimguard::smdpp
