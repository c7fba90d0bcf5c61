// HTTP glue: transport → rsp packer → procedures → HTTP answer. Nothing a
// client sends may turn into a 500: every path ends in an SGP.22 status.

#include "context.hpp"

#include "esimguard/smdp/routes.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <type_traits>

namespace esimguard::smdp {

namespace {

constexpr std::string_view json_type = "application/json";

http::response json_response(int status, std::string body) {
    http::response r = http::response::with_body(status, std::move(body), std::string(json_type));
    r.headers.push_back({"X-Admin-Protocol", std::string(rsp::admin_protocol_value)});
    return r;
}

http::response failed(const rsp::status& s) {
    return json_response(200, rsp::failed_response_json(s));
}

std::shared_ptr<spdlog::logger> logger() {
    auto l = spdlog::get("smdp");
    return l ? l : spdlog::default_logger();
}

// Counts and times one call, whatever its outcome.
class call_meter {
public:
    call_meter(http::metrics_registry& m, std::string_view interface, std::string_view function)
        : metrics_(m), interface_(interface), function_(function),
          start_(std::chrono::steady_clock::now()) {}
    ~call_meter() {
        const std::chrono::duration<double> d = std::chrono::steady_clock::now() - start_;
        metrics_
            .histogram("smdp_request_seconds", "Time to answer an ES9+/ES2+ call",
                       http::default_latency_buckets(),
                       {{"interface", interface_}, {"function", function_}})
            .observe(d.count());
        metrics_
            .counter("smdp_requests_total", "ES9+/ES2+ calls by function and result",
                     {{"interface", interface_}, {"function", function_}, {"result", result_}})
            .inc();
    }
    void success() { result_ = "success"; }
    void refused(const rsp::status& s) { result_ = s.subject_code + "/" + s.reason_code; }
    void result(std::string r) { result_ = std::move(r); }

private:
    http::metrics_registry& metrics_;
    std::string interface_;
    std::string function_;
    std::string result_ = "error";
    std::chrono::steady_clock::time_point start_;
};

std::optional<rsp::status> header_refusal(const http::request& req) {
    const auto ct = http::find_header(req.headers, "Content-Type");
    const auto ap = http::find_header(req.headers, "X-Admin-Protocol");
    if (auto ok = rsp::check_request_headers(ct.value_or(""), ap.value_or("")); !ok) {
        return ok.error();
    }
    if (req.body.size() > rsp::max_body_size) {
        return rsp::status::with_detail(rsp::codes::invalid_format, "body too large");
    }
    return std::nullopt;
}

// Parses with `parse`, runs `call`, writes with `write`; refusals at any step
// become a Failed answer.
template <typename Parse, typename Call, typename Write>
http::response run(call_meter& meter, std::string_view body, Parse parse, Call call, Write write) {
    auto request = parse(body);
    if (!request) {
        meter.refused(request.error());
        logger()->debug("malformed request refused: {}", rsp::to_string(request.error()));
        return failed(request.error());
    }
    auto answer = call(*request);
    if (!answer) {
        meter.refused(answer.error());
        return failed(answer.error());
    }
    meter.success();
    if constexpr (std::is_void_v<typename decltype(answer)::value_type>) {
        return write();
    } else {
        return write(*answer);
    }
}

http::response es9p(smdp_service& svc, std::string_view function, const http::request& req,
                    call_meter& meter) {
    if (auto refusal = header_refusal(req)) {
        meter.refused(*refusal);
        return failed(*refusal);
    }
    const client_info client{req.peer_address};
    if (function == "initiateAuthentication") {
        return run(
            meter, req.body, rsp::parse_initiate_authentication_request,
            [&](const auto& r) { return svc.initiate_authentication(r, client); },
            [](const auto& a) { return json_response(200, rsp::to_json(a)); });
    }
    if (function == "authenticateClient") {
        return run(
            meter, req.body, rsp::parse_authenticate_client_request,
            [&](const auto& r) { return svc.authenticate_client(r, client); },
            [](const auto& a) { return json_response(200, rsp::to_json(a)); });
    }
    if (function == "getBoundProfilePackage") {
        return run(
            meter, req.body, rsp::parse_get_bound_profile_package_request,
            [&](const auto& r) { return svc.get_bound_profile_package(r, client); },
            [](const auto& a) { return json_response(200, rsp::to_json(a)); });
    }
    if (function == "cancelSession") {
        return run(
            meter, req.body, rsp::parse_cancel_session_request,
            [&](const auto& r) { return svc.cancel_session(r, client); },
            [] { return json_response(200, rsp::success_response_json()); });
    }
    if (function == "handleNotification") {
        auto request = rsp::parse_handle_notification_request(req.body);
        if (!request) {
            meter.refused(request.error());
            return failed(request.error());
        }
        auto outcome = svc.handle_notification(*request, client);
        // The LPA deletes a notification once it gets a 2xx; a refused one
        // must not be retried forever, so it is answered 204 as well.
        if (outcome) {
            meter.result(std::string(to_string(*outcome)));
        } else {
            meter.refused(outcome.error());
        }
        http::response r;
        r.status = 204;
        r.headers.push_back({"X-Admin-Protocol", std::string(rsp::admin_protocol_value)});
        return r;
    }
    meter.result("not_found");
    return http::response::with_body(404, "not found");
}

// esimguard's extension of confirmOrder: the operator opts one order out of
// the confirmation code. The SGP.22 packer ignores the member; a body it
// accepted is valid JSON, and anything but a literal true means "no".
confirm_order_options confirm_order_options_of(std::string_view body) {
    confirm_order_options o;
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_object()) {
        auto it = j.find("esimguardConfirmationCodeOptional");
        o.confirmation_code_optional = it != j.end() && it->is_boolean() && it->get<bool>();
    }
    return o;
}

std::optional<std::string_view> bearer_token(const http::request& req) {
    auto h = http::find_header(req.headers, "Authorization");
    if (!h || h->size() < 7) {
        return std::nullopt;
    }
    const auto scheme = h->substr(0, 7);
    std::string lower(scheme);
    for (auto& c : lower) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    if (lower != "bearer ") {
        return std::nullopt;
    }
    auto token = h->substr(7);
    while (!token.empty() && token.front() == ' ') {
        token.remove_prefix(1);
    }
    return token;
}

http::response es2p(smdp_service& svc, std::string_view function, const http::request& req,
                    call_meter& meter) {
    const bool known = std::find(std::begin(es2p_functions), std::end(es2p_functions), function) !=
                       std::end(es2p_functions);
    if (!known) {
        meter.result("not_found");
        return http::response::with_body(404, "not found");
    }
    std::optional<byte_view> cert;
    if (req.client_certificate_der) {
        cert = byte_view(*req.client_certificate_der);
    }
    auto op = svc.authenticate_operator(bearer_token(req), cert, client_info{req.peer_address});
    if (!op) {
        meter.result("unauthorized");
        logger()->info("ES2+ {} from {} refused: no valid operator credentials", function,
                       req.peer_address);
        auto r = http::response::with_body(401, "operator authentication required");
        r.headers.push_back({"WWW-Authenticate", "Bearer"});
        return r;
    }
    if (auto refusal = header_refusal(req)) {
        meter.refused(*refusal);
        return failed(*refusal);
    }
    if (function == "downloadOrder") {
        return run(
            meter, req.body, rsp::parse_download_order_request,
            [&](const auto& r) { return svc.download_order(*op, r); },
            [](const auto& a) { return json_response(200, rsp::to_json(a)); });
    }
    if (function == "confirmOrder") {
        return run(
            meter, req.body, rsp::parse_confirm_order_request,
            [&](const auto& r) {
                return svc.confirm_order(*op, r, confirm_order_options_of(req.body));
            },
            [](const auto& a) { return json_response(200, rsp::to_json(a)); });
    }
    if (function == "cancelOrder") {
        return run(
            meter, req.body, rsp::parse_cancel_order_request,
            [&](const auto& r) { return svc.cancel_order(*op, r); },
            [] { return json_response(200, rsp::success_response_json()); });
    }
    return run(
        meter, req.body, rsp::parse_release_profile_request,
        [&](const auto& r) { return svc.release_profile(*op, r); },
        [] { return json_response(200, rsp::success_response_json()); });
}

template <typename Handler>
http::response guarded(smdp_service& svc, std::string_view interface, std::string_view function,
                       const http::request& req, Handler handler) {
    call_meter meter(svc.metrics(), interface, function);
    try {
        return handler(svc, function, req, meter);
    } catch (const std::exception& e) {
        // A bug, not bad input: still the device gets an SGP.22 answer.
        logger()->error("{} {}: unexpected exception: {}", interface, function, e.what());
    } catch (...) {
        logger()->error("{} {}: unexpected exception", interface, function);
    }
    meter.result("internal_error");
    return failed(detail::internal_error("unexpected failure"));
}

} // namespace

http::response handle_es9p_request(smdp_service& service, std::string_view function,
                                   const http::request& req) {
    return guarded(service, "es9p", function, req, es9p);
}

http::response handle_es2p_request(smdp_service& service, std::string_view function,
                                   const http::request& req) {
    return guarded(service, "es2p", function, req, es2p);
}

void register_es9p_routes(http::server& server, smdp_service& service) {
    for (auto f : es9p_functions) {
        server.add_route("POST", std::string(rsp::es9p_path_prefix) + std::string(f),
                         [&service, f](const http::request& req) {
                             return handle_es9p_request(service, f, req);
                         });
    }
}

void register_es2p_routes(http::server& server, smdp_service& service) {
    for (auto f : es2p_functions) {
        server.add_route("POST", std::string(rsp::es2p_path_prefix) + std::string(f),
                         [&service, f](const http::request& req) {
                             return handle_es2p_request(service, f, req);
                         });
    }
}

} // namespace esimguard::smdp
