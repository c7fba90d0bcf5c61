#include "esimguard/http/message.hpp"

#include <algorithm>
#include <cctype>

namespace esimguard::http {

namespace {
bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}
} // namespace

std::optional<std::string_view> find_header(const header_list& headers, std::string_view name) {
    for (const auto& h : headers) {
        if (iequals(h.name, name)) {
            return std::string_view(h.value);
        }
    }
    return std::nullopt;
}

response response::with_body(int status, std::string body, std::string content_type) {
    response r;
    r.status = status;
    r.headers.push_back({"Content-Type", std::move(content_type)});
    r.body = std::move(body);
    return r;
}

std::string_view to_string(errc e) {
    switch (e) {
    case errc::bad_config:
        return "bad_config";
    case errc::bad_url:
        return "bad_url";
    case errc::bind:
        return "bind";
    case errc::resolve:
        return "resolve";
    case errc::connect:
        return "connect";
    case errc::tls_handshake:
        return "tls_handshake";
    case errc::tls_verify:
        return "tls_verify";
    case errc::timeout:
        return "timeout";
    case errc::protocol:
        return "protocol";
    case errc::body_too_large:
        return "body_too_large";
    case errc::io:
        return "io";
    }
    return "unknown";
}

} // namespace esimguard::http
