#pragma once
/// An HTTP/1.1 server over TLS 1.2/1.3 (Boost.Beast on OpenSSL) for the
/// SM-DP+ interfaces (ES9+, ES2+, admin, metrics). It faces hostile clients:
/// every limit below is enforced per connection on asynchronous I/O, so that
/// a slow or stalling client never holds up another, and every refusal is
/// counted and logged once at debug level (spdlog logger "http").

#include "esimguard/http/message.hpp"
#include "esimguard/http/metrics.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

namespace esimguard::http {

/// What the server listens on and the limits it enforces.
struct server_config {
    /// IPv4 or IPv6 literal to bind.
    std::string bind_address = "127.0.0.1";
    /// 0 picks an ephemeral port; server::port() tells which.
    std::uint16_t port = 0;

    /// Serve plain HTTP instead of TLS. Only for running behind a
    /// TLS-terminating proxy (or tests of that setup); must be asked for.
    bool plain_http = false;
    /// PEM file: the leaf certificate then its intermediates, all served.
    std::filesystem::path certificate_chain_file;
    /// PEM file: the leaf's private key (PKCS#8 or SEC1).
    std::filesystem::path private_key_file;
    /// Optional mTLS: when set, clients are asked for a certificate issued by
    /// a CA in this PEM file. Presenting none is allowed; presenting one that
    /// does not verify fails the handshake.
    std::filesystem::path client_ca_file;

    /// I/O threads; handlers run on them. 0 means default_worker_threads().
    unsigned worker_threads = 0;
    /// Largest request body accepted; a larger one is answered 413.
    std::size_t max_body_bytes = 1024 * 1024;
    /// Largest request line + headers; larger is answered 431.
    std::size_t max_header_bytes = 16 * 1024;
    /// Open connections at most; more are closed on accept.
    std::size_t max_connections = 1024;

    /// From accept to a finished TLS handshake.
    std::chrono::milliseconds handshake_timeout{10'000};
    /// From the first byte of a request (or the handshake, for the first
    /// request) to the end of its headers: cuts slowloris clients.
    std::chrono::milliseconds header_timeout{10'000};
    /// From the first byte of a request to the end of its body.
    std::chrono::milliseconds request_timeout{30'000};
    /// Writing one response; cuts clients that stop reading.
    std::chrono::milliseconds write_timeout{30'000};
    /// How long a keep-alive connection may sit between requests.
    std::chrono::milliseconds idle_timeout{60'000};

    /// Where request counts and latencies go, if anywhere. Shared so that the
    /// application can serve it on /metrics next to its own metrics.
    std::shared_ptr<metrics_registry> metrics = nullptr;
};

/// The worker threads a server_config with worker_threads = 0 gets: 16 per
/// hardware core, between 8 and 128. Handlers block on the store (an fsync of
/// SQLite, a PostgreSQL round trip), so threads that wait leave the cores to
/// others, and the SQLite group commit batches only what waits at once: on
/// this project's 2-core machine 32 threads did 1.9x the downloads per second
/// of 2 with the database on disk, and the same on tmpfs (docs/PERFORMANCE.md).
[[nodiscard]] unsigned default_worker_threads();

/// A point-in-time copy of the server's counters.
struct server_counters {
    std::uint64_t connections_accepted = 0; ///< connections served (not refused)
    std::uint64_t connections_open = 0;     ///< open now
    std::uint64_t requests = 0;             ///< requests answered by a handler
    std::uint64_t handler_exceptions = 0;   ///< handlers that threw (answered 500)
    std::uint64_t not_found = 0;            ///< no route (answered 404 by default)
    std::uint64_t idle_closed = 0;          ///< keep-alive connections closed when idle
    // Refusals: input from outside that the server declined.
    std::uint64_t refused_connection_limit = 0; ///< closed on accept: too many open
    std::uint64_t tls_handshake_failures = 0;   ///< handshake failed or timed out
    std::uint64_t header_timeouts = 0;          ///< headers not complete in time
    std::uint64_t request_timeouts = 0;         ///< body not complete in time
    std::uint64_t write_timeouts = 0;           ///< client did not read the response
    std::uint64_t body_too_large = 0;           ///< answered 413
    std::uint64_t header_too_large = 0;         ///< answered 431
    std::uint64_t malformed_requests = 0;       ///< answered 400
};

/// Answers one request. Called on an I/O thread: it should not block for
/// long, and should not throw (if it does, the client gets 500 and the
/// server carries on).
using request_handler = std::function<response(const request&)>;

/// The HTTPS server. Configure routes, then start(); stop() or destruction
/// closes the listener and every connection and joins the threads.
class server {
public:
    explicit server(server_config config);
    ~server();
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    /// Routes `method` + exact `path` (no query) to `handler`. Only before start().
    void add_route(std::string method, std::string path, request_handler handler);
    /// Answers requests no route matches (default: 404 "not found").
    /// Only before start().
    void set_fallback(request_handler handler);

    /// Loads the TLS material, binds, listens and starts the threads.
    /// Fails with bad_config (certificate, key, client CA) or bind.
    [[nodiscard]] result<void> start();
    /// Closes the listener and all connections and joins the threads. Idempotent.
    void stop();

    /// The bound port (the ephemeral one when configured with 0); 0 before start().
    [[nodiscard]] std::uint16_t port() const;
    [[nodiscard]] server_counters counters() const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

/// A handler that serves `registry` in the Prometheus text format.
[[nodiscard]] request_handler metrics_handler(std::shared_ptr<const metrics_registry> registry);

} // namespace esimguard::http
