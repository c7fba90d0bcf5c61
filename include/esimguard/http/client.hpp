#pragma once
/// A synchronous HTTP/1.1 client over TLS (Boost.Beast on OpenSSL) for the
/// LPA (ES9+) and load generators. It keeps one connection per host:port
/// alive between calls and verifies the server's chain and host name.

#include "esimguard/core/bytes.hpp"
#include "esimguard/http/message.hpp"

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace esimguard::http {

/// Trust, limits and identity of a client.
struct client_config {
    /// Trusted CA certificates: PEM texts (each may hold several), DER
    /// certificates, and files (PEM or DER). When all three are empty the
    /// system's default trust store is used.
    std::vector<std::string> trusted_ca_pem = {};
    std::vector<bytes> trusted_ca_der = {};
    std::vector<std::filesystem::path> trusted_ca_files = {};
    /// Skip chain and host name verification. For test servers only; the
    /// caller must warn the user when it sets this.
    bool insecure = false;

    /// Resolve + TCP connect + TLS handshake, within the request timeout.
    std::chrono::milliseconds connect_timeout{10'000};
    /// The whole call, from resolve to the last body byte.
    std::chrono::milliseconds request_timeout{30'000};
    /// Largest response body accepted (a bound profile package is far below).
    std::size_t max_response_body_bytes = 8 * 1024 * 1024;

    /// Optional client certificate (mTLS): PEM chain file and key file.
    std::filesystem::path client_certificate_chain_file = {};
    std::filesystem::path client_private_key_file = {};

    /// Sent as User-Agent unless the call's headers carry one.
    std::string user_agent = "esimguard";

    /// Source IP address (literal) to bind before connecting; empty lets the
    /// kernel choose. Only server addresses of the same family are tried. For
    /// hosts with several addresses, and for tests that play clients from
    /// distinct addresses on loopback (127.0.0.0/8).
    std::string local_address = {};
};

/// What came back, and over which connection.
struct client_response {
    int status = 0;
    header_list headers;
    std::string body;
    /// Whether the call reused a kept-alive connection.
    bool reused_connection = false;
    /// The chain the server presented (DER, leaf first); empty over plain HTTP.
    std::vector<bytes> peer_certificates;
};

/// One client: not thread-safe; use one per thread (each owns its I/O context
/// and connections).
class client {
public:
    /// Loads the CAs and the client certificate; fails with bad_config.
    [[nodiscard]] static result<client> create(client_config config);

    client(client&&) noexcept;
    client& operator=(client&&) noexcept;
    ~client();

    /// `url` is http(s)://host[:port]/path?query; IPv6 hosts in brackets.
    /// Errors: bad_url, resolve, connect, tls_verify, tls_handshake, timeout,
    /// protocol, body_too_large, io. A call on a kept-alive connection that the
    /// server closed meanwhile is retried once on a new connection.
    [[nodiscard]] result<client_response> request(std::string_view method, std::string_view url,
                                                  std::string body = {},
                                                  const header_list& headers = {});
    [[nodiscard]] result<client_response> post(std::string_view url, std::string body,
                                               const header_list& headers = {}) {
        return request("POST", url, std::move(body), headers);
    }
    [[nodiscard]] result<client_response> get(std::string_view url,
                                              const header_list& headers = {}) {
        return request("GET", url, {}, headers);
    }

    /// Closes every kept-alive connection.
    void close_connections();

private:
    struct impl;
    explicit client(std::unique_ptr<impl> p);
    std::unique_ptr<impl> impl_;
};

} // namespace esimguard::http
