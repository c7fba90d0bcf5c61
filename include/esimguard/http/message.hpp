#pragma once
/// HTTP messages and errors shared by the server and the client. No Beast,
/// Asio or OpenSSL type appears in the http module's public headers, so that
/// users compile without them (and quickly).

#include "esimguard/core/bytes.hpp"

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace esimguard::http {

/// One header line. Names compare case-insensitively (RFC 9110 §5.1).
struct header_field {
    std::string name;
    std::string value;
};

/// Header lines in the order received (or to be sent); repeated names allowed.
using header_list = std::vector<header_field>;

/// The value of the first header named `name` (case-insensitive), if any.
/// The view borrows from `headers`.
[[nodiscard]] std::optional<std::string_view> find_header(const header_list& headers,
                                                          std::string_view name);

/// A request as a handler sees it: complete, body included, within the limits
/// the server enforces (size, time).
struct request {
    /// As sent, e.g. "POST"; upper case by convention but not normalised.
    std::string method;
    /// Origin-form target as sent: path and query, e.g. "/a/b?x=1".
    std::string target;
    /// The path part of `target` (before '?'), which routing matches.
    std::string path;
    header_list headers;
    std::string body;
    /// The TCP peer: an IP address in text form and a port. Behind a proxy
    /// this is the proxy; whether to trust X-Forwarded-For is the caller's call.
    std::string peer_address;
    std::uint16_t peer_port = 0;
    /// Whether the request came over TLS.
    bool tls = false;
    /// The client certificate (DER) when the client presented one that
    /// verified against the server's client CA (optional mTLS).
    std::optional<bytes> client_certificate_der;
};

/// A response a handler returns. Content-Length is set by the server; a
/// handler sets Content-Type itself.
struct response {
    int status = 200;
    header_list headers;
    std::string body;

    /// A response with a body and its Content-Type.
    [[nodiscard]] static response with_body(int status, std::string body,
                                            std::string content_type = "text/plain");
};

/// Why a client call (or server start) failed.
enum class errc {
    bad_config,     ///< an unusable option: unreadable certificate or key, bad CA bytes
    bad_url,        ///< a URL the client cannot use (scheme, host, port)
    bind,           ///< the server could not listen on the address
    resolve,        ///< the host name did not resolve
    connect,        ///< TCP connection refused or unreachable
    tls_handshake,  ///< TLS failed for another reason than verification
    tls_verify,     ///< the server's chain or host name did not verify
    timeout,        ///< a deadline passed (connect, or the whole request)
    protocol,       ///< the peer sent something that is not valid HTTP/1.1
    body_too_large, ///< the response body exceeded the configured limit
    io,             ///< the connection failed mid-request (reset, closed)
};

std::string_view to_string(errc e);

/// A failure with a short human-readable detail.
struct error {
    errc code;
    std::string detail = {};
};

template <typename T>
using result = std::expected<T, error>;

} // namespace esimguard::http
