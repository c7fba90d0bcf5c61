#pragma once
// Small helpers of the portal's HTTP layer: JSON answers with the security
// headers, cookies, query strings, random tokens.

#include "esimguard/http/message.hpp"
#include "esimguard/store/types.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace esimguard::portal::detail {

using json = nlohmann::json;

/// The name of the session cookie. __Host- makes browsers refuse it unless
/// Secure, Path=/ and no Domain: no subdomain can plant or read it.
inline constexpr std::string_view cookie_name = "__Host-esimguard";

/// Adds CSP, X-Frame-Options, Referrer-Policy, nosniff and no-store.
void add_security_headers(http::response& r);

/// A JSON answer with the security headers.
http::response json_response(int status, const json& body);
/// {"error": message} (and "reasons" when given).
http::response json_error(int status, std::string_view message,
                          const std::vector<std::string>& reasons = {});

/// The value of cookie `name` in the request's Cookie headers.
std::optional<std::string> find_cookie(const http::request& req, std::string_view name);

/// Decoded query parameters of `target` ("?a=1&b=x%20y"); later repeats win.
std::map<std::string, std::string> parse_query(std::string_view target);

/// Microseconds since the epoch as an RFC 3339 UTC text with seconds.
std::string time_text(store::time_point t);

} // namespace esimguard::portal::detail
