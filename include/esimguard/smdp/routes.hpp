#pragma once
/// HTTP glue: ES9+ and ES2+ requests → rsp packer → smdp_service → HTTP
/// answers, so that the server program only wires. Header checks
/// (Content-Type, X-Admin-Protocol) as rsp::check_request_headers; SGP.22
/// failures are HTTP 200 with status "Failed"; handleNotification is 204;
/// malformed input never gets a 500. Each call is counted and timed in the
/// service's metrics registry (smdp_requests_total, smdp_request_seconds).

#include "esimguard/http/message.hpp"
#include "esimguard/http/server.hpp"
#include "esimguard/smdp/service.hpp"

#include <string_view>

namespace esimguard::smdp {

/// The ES9+ functions served, as they appear in the URL.
inline constexpr std::string_view es9p_functions[] = {
    "initiateAuthentication", "authenticateClient", "getBoundProfilePackage", "handleNotification",
    "cancelSession"};
/// The ES2+ functions served.
inline constexpr std::string_view es2p_functions[] = {"downloadOrder", "confirmOrder",
                                                      "cancelOrder", "releaseProfile"};

/// Answers one ES9+ call to `function` (e.g. "authenticateClient"). An
/// unknown function is 404. For tests and custom routing; register_es9p_routes
/// uses it.
[[nodiscard]] http::response handle_es9p_request(smdp_service& service, std::string_view function,
                                                 const http::request& req);
/// Answers one ES2+ call. The operator authenticates with
/// "Authorization: Bearer <token>" or a verified TLS client certificate; else 401.
[[nodiscard]] http::response handle_es2p_request(smdp_service& service, std::string_view function,
                                                 const http::request& req);

/// Adds POST /gsma/rsp2/es9plus/<function> for each ES9+ function. Call before
/// server.start(); `service` must outlive the server.
void register_es9p_routes(http::server& server, smdp_service& service);
/// Adds POST /gsma/rsp2/es2plus/<function> for each ES2+ function.
void register_es2p_routes(http::server& server, smdp_service& service);

} // namespace esimguard::smdp
