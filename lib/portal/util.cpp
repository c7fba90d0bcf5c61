// Helpers of the portal's HTTP layer.

#include "util.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <strings.h>

#include <cctype>

namespace esimguard::portal::detail {

void add_security_headers(http::response& r) {
    // No inline script or style anywhere in web/: 'self' alone is enough,
    // and frame-ancestors/X-Frame-Options stop click-jacking of the approve
    // and freeze buttons.
    r.headers.push_back({"Content-Security-Policy",
                         "default-src 'self'; img-src 'self'; object-src 'none'; base-uri 'none'; "
                         "form-action 'self'; frame-ancestors 'none'"});
    r.headers.push_back({"X-Frame-Options", "DENY"});
    r.headers.push_back({"Referrer-Policy", "no-referrer"});
    r.headers.push_back({"X-Content-Type-Options", "nosniff"});
    r.headers.push_back({"Cache-Control", "no-store"});
}

http::response json_response(int status, const json& body) {
    auto r = http::response::with_body(status, body.dump(), "application/json");
    add_security_headers(r);
    return r;
}

http::response json_error(int status, std::string_view message,
                          const std::vector<std::string>& reasons) {
    json j{{"error", message}};
    if (!reasons.empty()) {
        j["reasons"] = reasons;
    }
    return json_response(status, j);
}

std::optional<std::string> find_cookie(const http::request& req, std::string_view name) {
    for (const auto& h : req.headers) {
        if (h.name.size() != 6 || strncasecmp(h.name.c_str(), "cookie", 6) != 0) {
            continue;
        }
        std::string_view v = h.value;
        while (!v.empty()) {
            auto semi = v.find(';');
            std::string_view part = v.substr(0, semi);
            v = semi == std::string_view::npos ? std::string_view() : v.substr(semi + 1);
            while (!part.empty() && part.front() == ' ') {
                part.remove_prefix(1);
            }
            auto eq = part.find('=');
            if (eq != std::string_view::npos && part.substr(0, eq) == name) {
                return std::string(part.substr(eq + 1));
            }
        }
    }
    return std::nullopt;
}

namespace {

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

std::string url_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '+') {
            out.push_back(' ');
        } else if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 &&
                   hex_value(s[i + 2]) >= 0) {
            out.push_back(static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
            i += 2;
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

} // namespace

std::map<std::string, std::string> parse_query(std::string_view target) {
    std::map<std::string, std::string> out;
    auto q = target.find('?');
    if (q == std::string_view::npos) {
        return out;
    }
    std::string_view rest = target.substr(q + 1);
    while (!rest.empty()) {
        auto amp = rest.find('&');
        std::string_view part = rest.substr(0, amp);
        rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
        auto eq = part.find('=');
        if (eq == std::string_view::npos) {
            out[url_decode(part)] = "";
        } else {
            out[url_decode(part.substr(0, eq))] = url_decode(part.substr(eq + 1));
        }
    }
    return out;
}

std::string time_text(store::time_point t) {
    return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}",
                       std::chrono::time_point_cast<std::chrono::seconds>(t));
}

} // namespace esimguard::portal::detail
