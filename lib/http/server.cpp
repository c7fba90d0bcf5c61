// The HTTPS server: one acceptor, one session per connection on its own
// strand, every phase of a connection under a deadline (handshake, headers,
// body, write, idle), so that no client can hold a thread or a slot forever.

#include "esimguard/http/server.hpp"

#include "tls.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <spdlog/logger.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <map>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace esimguard::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;
using clock_type = std::chrono::steady_clock;

namespace {

enum class refusal {
    connection_limit,
    tls_handshake,
    header_timeout,
    request_timeout,
    write_timeout,
    body_too_large,
    header_too_large,
    malformed,
};

std::string_view to_string(refusal r) {
    switch (r) {
    case refusal::connection_limit:
        return "connection_limit";
    case refusal::tls_handshake:
        return "tls_handshake";
    case refusal::header_timeout:
        return "header_timeout";
    case refusal::request_timeout:
        return "request_timeout";
    case refusal::write_timeout:
        return "write_timeout";
    case refusal::body_too_large:
        return "body_too_large";
    case refusal::header_too_large:
        return "header_too_large";
    case refusal::malformed:
        return "malformed";
    }
    return "unknown";
}

std::shared_ptr<spdlog::logger> http_logger() {
    if (auto l = spdlog::get("http")) {
        return l;
    }
    auto l = spdlog::default_logger()->clone("http");
    try {
        spdlog::register_logger(l);
    } catch (const spdlog::spdlog_ex&) {
        // Another thread registered it first: use theirs.
        if (auto existing = spdlog::get("http")) {
            return existing;
        }
    }
    return l;
}

// Methods are client-chosen text: bounded to a known set for metric labels.
std::string_view method_label(std::string_view m) {
    for (std::string_view known : {"GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"}) {
        if (m == known) {
            return known;
        }
    }
    return "other";
}

bool is_parse_error(const beast::error_code& ec) {
    return ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category();
}

} // namespace

// Everything sessions need; shared so that a session finishing after stop()
// (during io_context destruction) still finds it.
struct shared_state {
    server_config config;
    std::map<std::pair<std::string, std::string>, request_handler, std::less<>> routes;
    request_handler fallback;
    std::shared_ptr<spdlog::logger> log = http_logger();
    std::optional<ssl::context> tls;

    std::atomic<std::uint64_t> accepted{0}, open{0}, requests{0}, handler_exceptions{0},
        not_found{0}, idle_closed{0};
    std::array<std::atomic<std::uint64_t>, 8> refusals{};

    void refuse(refusal r, std::string_view peer, std::string_view detail) {
        refusals[static_cast<std::size_t>(r)].fetch_add(1, std::memory_order_relaxed);
        log->debug("refused {} from {}: {}", to_string(r), peer, detail);
        if (config.metrics) {
            config.metrics
                ->counter("esimguard_http_refusals_total",
                          "Connections or requests the HTTP server refused, by reason",
                          {{"reason", std::string(to_string(r))}})
                .inc();
        }
    }
};

namespace {

template <bool Tls>
class session : public std::enable_shared_from_this<session<Tls>> {
    using stream_type =
        std::conditional_t<Tls, beast::ssl_stream<beast::tcp_stream>, beast::tcp_stream>;

public:
    session(tcp::socket&& socket, std::shared_ptr<shared_state> state) requires(!Tls)
        : state_(std::move(state)), stream_(std::move(socket)) {
        init_peer();
    }
    session(tcp::socket&& socket, std::shared_ptr<shared_state> state) requires(Tls)
        : state_(std::move(state)), stream_(std::move(socket), *state_->tls) {
        init_peer();
    }
    ~session() { state_->open.fetch_sub(1, std::memory_order_relaxed); }

    void run() {
        net::dispatch(stream_.get_executor(), [self = this->shared_from_this()] { self->start(); });
    }

private:
    const server_config& cfg() const { return state_->config; }
    beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

    void init_peer() {
        beast::error_code ec;
        const auto ep = lowest().socket().remote_endpoint(ec);
        if (!ec) {
            peer_address_ = ep.address().to_string();
            peer_port_ = ep.port();
        }
        peer_ = fmt::format("{}:{}", peer_address_, peer_port_);
    }

    void start() {
        if constexpr (Tls) {
            lowest().expires_after(cfg().handshake_timeout);
            stream_.async_handshake(ssl::stream_base::server,
                                    [self = this->shared_from_this()](beast::error_code ec) {
                                        self->on_handshake(ec);
                                    });
        } else {
            read_next();
        }
    }

    void on_handshake(beast::error_code ec) {
        if (ec) {
            state_->refuse(refusal::tls_handshake, peer_,
                           ec == beast::error::timeout ? std::string("timeout") : ec.message());
            close_now();
            return;
        }
        if constexpr (Tls) {
            if (X509* cert = SSL_get0_peer_certificate(stream_.native_handle())) {
                const int n = i2d_X509(cert, nullptr);
                if (n > 0) {
                    bytes der(static_cast<std::size_t>(n));
                    unsigned char* p = der.data();
                    i2d_X509(cert, &p);
                    client_cert_ = std::move(der);
                }
            }
        }
        read_next();
    }

    void read_next() {
        parser_.emplace();
        parser_->body_limit(cfg().max_body_bytes);
        parser_->header_limit(static_cast<std::uint32_t>(cfg().max_header_bytes));
        if (first_request_ || buffer_.size() > 0) {
            // The first request follows the handshake at once; pipelined
            // bytes are already here: no idle phase in either case.
            first_request_ = false;
            read_header();
            return;
        }
        // Idle phase: wait for the first byte of the next request.
        lowest().expires_after(cfg().idle_timeout);
        stream_.async_read_some(buffer_.prepare(4096), [self = this->shared_from_this()](
                                                           beast::error_code ec, std::size_t n) {
            self->on_first_bytes(ec, n);
        });
    }

    void on_first_bytes(beast::error_code ec, std::size_t n) {
        if (ec) {
            if (ec == beast::error::timeout) {
                state_->idle_closed.fetch_add(1, std::memory_order_relaxed);
            }
            close_now();
            return;
        }
        buffer_.commit(n);
        read_header();
    }

    void read_header() {
        request_start_ = clock_type::now();
        lowest().expires_after(cfg().header_timeout);
        bhttp::async_read_header(stream_, buffer_, *parser_,
                                 [self = this->shared_from_this()](
                                     beast::error_code ec, std::size_t) { self->on_header(ec); });
    }

    // Maps a read error to a refusal and answer; false when the connection
    // simply ended (peer closed, reset) and there is no one to answer.
    void on_read_error(beast::error_code ec, refusal timeout_kind) {
        if (ec == beast::error::timeout) {
            state_->refuse(timeout_kind, peer_, "timeout");
            close_now();
        } else if (ec == bhttp::error::body_limit) {
            state_->refuse(refusal::body_too_large, peer_, "body over limit");
            send_error(413, "request body too large");
        } else if (ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow) {
            state_->refuse(refusal::header_too_large, peer_, "header over limit");
            send_error(431, "request header too large");
        } else if (is_parse_error(ec) && ec != bhttp::error::end_of_stream &&
                   ec != bhttp::error::partial_message) {
            state_->refuse(refusal::malformed, peer_, ec.message());
            send_error(400, "malformed request");
        } else {
            close_now();
        }
    }

    void on_header(beast::error_code ec) {
        if (ec) {
            on_read_error(ec, refusal::header_timeout);
            return;
        }
        lowest().expires_at(request_start_ + cfg().request_timeout);
        const auto& req = parser_->get();
        const auto expect = req[bhttp::field::expect];
        if (beast::iequals(expect, "100-continue") && !parser_->is_done()) {
            // Clients such as curl wait for this before sending a body.
            static constexpr std::string_view interim = "HTTP/1.1 100 Continue\r\n\r\n";
            net::async_write(stream_, net::buffer(interim.data(), interim.size()),
                             [self = this->shared_from_this()](beast::error_code wec, std::size_t) {
                                 if (wec) {
                                     self->close_now();
                                     return;
                                 }
                                 self->read_body();
                             });
            return;
        }
        read_body();
    }

    void read_body() {
        bhttp::async_read(stream_, buffer_, *parser_,
                          [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                              self->on_body(ec);
                          });
    }

    void on_body(beast::error_code ec) {
        if (ec) {
            on_read_error(ec, refusal::request_timeout);
            return;
        }
        auto msg = parser_->release();
        request req;
        req.method = std::string(msg.method_string());
        req.target = std::string(msg.target());
        req.path = req.target.substr(0, req.target.find('?'));
        for (const auto& f : msg) {
            req.headers.push_back({std::string(f.name_string()), std::string(f.value())});
        }
        req.body = std::move(msg.body());
        req.peer_address = peer_address_;
        req.peer_port = peer_port_;
        req.tls = Tls;
        req.client_certificate_der = client_cert_;

        const bool keep_alive = msg.keep_alive();
        const int version = msg.version();
        auto [res, route_label] = dispatch(req);
        state_->requests.fetch_add(1, std::memory_order_relaxed);
        if (auto& m = cfg().metrics) {
            const double seconds =
                std::chrono::duration<double>(clock_type::now() - request_start_).count();
            m->counter("esimguard_http_requests_total", "HTTP requests answered",
                       {{"method", std::string(method_label(req.method))},
                        {"route", route_label},
                        {"status", std::to_string(res.status)}})
                .inc();
            m->histogram("esimguard_http_request_duration_seconds",
                         "From the first request byte to the handler's answer",
                         default_latency_buckets(), {{"route", route_label}})
                .observe(seconds);
        }
        send(std::move(res), !keep_alive, version);
    }

    // The handler's answer and the route label for metrics (bounded: the
    // route's path, or "unmatched" for client-chosen paths).
    std::pair<response, std::string> dispatch(const request& req) {
        const request_handler* h = nullptr;
        std::string label = "unmatched";
        if (auto it = state_->routes.find(std::pair{req.method, req.path});
            it != state_->routes.end()) {
            h = &it->second;
            label = req.path;
        } else {
            state_->not_found.fetch_add(1, std::memory_order_relaxed);
            h = &state_->fallback;
        }
        try {
            return {(*h)(req), std::move(label)};
        } catch (const std::exception& e) {
            state_->handler_exceptions.fetch_add(1, std::memory_order_relaxed);
            state_->log->error("handler for {} {} threw: {}", req.method, req.path, e.what());
        } catch (...) {
            state_->handler_exceptions.fetch_add(1, std::memory_order_relaxed);
            state_->log->error("handler for {} {} threw a non-exception", req.method, req.path);
        }
        return {response::with_body(500, "internal error\n"), std::move(label)};
    }

    void send_error(int status, std::string_view text) {
        drain_after_write_ = true;
        send(response::with_body(status, std::string(text) + "\n"), true, 11);
    }

    void send(response r, bool close_after, int version) {
        res_.emplace();
        res_->version(version == 10 ? 10 : 11);
        res_->result(static_cast<unsigned>(r.status));
        for (auto& h : r.headers) {
            res_->insert(h.name, h.value);
        }
        res_->body() = std::move(r.body);
        res_->keep_alive(!close_after);
        res_->prepare_payload();
        close_after_ = close_after;
        lowest().expires_after(cfg().write_timeout);
        bhttp::async_write(stream_, *res_,
                           [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                               self->on_write(ec);
                           });
    }

    void on_write(beast::error_code ec) {
        if (ec) {
            if (ec == beast::error::timeout) {
                state_->refuse(refusal::write_timeout, peer_, "client does not read");
            }
            close_now();
            return;
        }
        res_.reset();
        if (drain_after_write_) {
            if constexpr (!Tls) {
                // FIN now tells the client the answer is complete.
                beast::error_code ignored;
                lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
            }
            drain_deadline_ = clock_type::now() + drain_time;
            drain();
            return;
        }
        if (close_after_) {
            close_gracefully();
            return;
        }
        read_next();
    }

    // After an error answer the client may still be sending the request we
    // refused: closing with unread data would make the kernel send a reset,
    // which can destroy our answer in the client's buffers before it reads
    // it. So read and discard for a bounded time and size, then close.
    void drain() {
        lowest().expires_at(drain_deadline_);
        stream_.async_read_some(net::buffer(scratch_), [self = this->shared_from_this()](
                                                           beast::error_code ec, std::size_t n) {
            self->drained_ += n;
            if (ec || self->drained_ > self->cfg().max_body_bytes + drain_extra_bytes) {
                self->close_now();
                return;
            }
            self->drain();
        });
    }

    void close_gracefully() {
        if constexpr (Tls) {
            // close_notify, bounded: a hostile peer may never answer it.
            lowest().expires_after(std::min(cfg().write_timeout, std::chrono::milliseconds(2000)));
            stream_.async_shutdown(
                [self = this->shared_from_this()](beast::error_code) { self->close_now(); });
        } else {
            beast::error_code ignored;
            lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
            close_now();
        }
    }

    void close_now() {
        beast::error_code ignored;
        lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
        lowest().close();
    }

    std::shared_ptr<shared_state> state_;
    stream_type stream_;
    beast::flat_buffer buffer_;
    std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
    std::optional<bhttp::response<bhttp::string_body>> res_;
    std::string peer_address_;
    std::uint16_t peer_port_ = 0;
    std::string peer_;
    std::optional<bytes> client_cert_;
    clock_type::time_point request_start_;
    bool first_request_ = true;
    bool close_after_ = false;
    bool drain_after_write_ = false;
    clock_type::time_point drain_deadline_;
    std::size_t drained_ = 0;
    std::array<char, 4096> scratch_{};

    static constexpr auto drain_time = std::chrono::milliseconds(2000);
    static constexpr std::size_t drain_extra_bytes = 64 * 1024;
};

} // namespace

struct server::impl {
    std::shared_ptr<shared_state> state = std::make_shared<shared_state>();
    std::unique_ptr<net::io_context> ioc;
    std::optional<tcp::acceptor> acceptor;
    std::optional<net::steady_timer> backoff;
    std::vector<std::thread> threads;
    std::atomic<std::uint16_t> port{0};
    bool started = false;

    void do_accept() {
        acceptor->async_accept(
            net::make_strand(*ioc),
            [this](beast::error_code ec, tcp::socket socket) { on_accept(ec, std::move(socket)); });
    }

    void on_accept(beast::error_code ec, tcp::socket socket) {
        if (ec == net::error::operation_aborted || !acceptor->is_open()) {
            return;
        }
        if (ec) {
            // E.g. EMFILE: retrying at once would spin; the backlog waits.
            state->log->warn("accept failed: {}", ec.message());
            backoff->expires_after(std::chrono::milliseconds(50));
            backoff->async_wait([this](beast::error_code wec) {
                if (!wec) {
                    do_accept();
                }
            });
            return;
        }
        auto& st = *state;
        if (st.open.load(std::memory_order_relaxed) >= st.config.max_connections) {
            beast::error_code ignored;
            const auto ep = socket.remote_endpoint(ignored);
            st.refuse(refusal::connection_limit, ignored ? "?" : ep.address().to_string(),
                      "too many open connections");
            socket.close(ignored);
        } else {
            st.open.fetch_add(1, std::memory_order_relaxed);
            st.accepted.fetch_add(1, std::memory_order_relaxed);
            beast::error_code ignored;
            socket.set_option(tcp::no_delay(true), ignored);
            if (st.config.plain_http) {
                std::make_shared<session<false>>(std::move(socket), state)->run();
            } else {
                std::make_shared<session<true>>(std::move(socket), state)->run();
            }
        }
        do_accept();
    }
};

server::server(server_config config) : impl_(std::make_unique<impl>()) {
    impl_->state->config = std::move(config);
    impl_->state->fallback = [](const request&) { return response::with_body(404, "not found\n"); };
}

server::~server() {
    stop();
}

void server::add_route(std::string method, std::string path, request_handler handler) {
    impl_->state->routes[{std::move(method), std::move(path)}] = std::move(handler);
}

void server::set_fallback(request_handler handler) {
    impl_->state->fallback = std::move(handler);
}

result<void> server::start() {
    auto& im = *impl_;
    auto& st = *im.state;
    if (im.started) {
        return std::unexpected(error{errc::bad_config, "server already started"});
    }
    if (!st.config.plain_http) {
        st.tls.emplace(ssl::context::tls_server);
        if (auto r = detail::apply_protocol_policy(*st.tls); !r) {
            return r;
        }
        if (auto r = detail::use_chain_and_key(*st.tls, st.config.certificate_chain_file,
                                               st.config.private_key_file);
            !r) {
            return r;
        }
        if (!st.config.client_ca_file.empty()) {
            if (auto r = detail::add_trusted_file(*st.tls, st.config.client_ca_file); !r) {
                return r;
            }
            if (STACK_OF(X509_NAME)* names =
                    SSL_load_client_CA_file(st.config.client_ca_file.c_str())) {
                SSL_CTX_set_client_CA_list(st.tls->native_handle(), names);
            }
            // Request, do not require: no fail_if_no_peer_cert.
            st.tls->set_verify_mode(ssl::verify_peer);
        }
    }

    beast::error_code ec;
    const auto address = net::ip::make_address(st.config.bind_address, ec);
    if (ec) {
        return std::unexpected(
            error{errc::bad_config, "bad bind address " + st.config.bind_address});
    }
    im.ioc = std::make_unique<net::io_context>();
    im.acceptor.emplace(net::make_strand(*im.ioc));
    im.backoff.emplace(im.acceptor->get_executor());
    const tcp::endpoint ep{address, st.config.port};
    im.acceptor->open(ep.protocol(), ec);
    if (!ec) {
        im.acceptor->set_option(net::socket_base::reuse_address(true), ec);
    }
    if (!ec) {
        im.acceptor->bind(ep, ec);
    }
    if (!ec) {
        im.acceptor->listen(net::socket_base::max_listen_connections, ec);
    }
    if (ec) {
        im.acceptor.reset();
        im.backoff.reset();
        im.ioc.reset();
        return std::unexpected(error{errc::bind, fmt::format("{}:{}: {}", st.config.bind_address,
                                                             st.config.port, ec.message())});
    }
    im.port = im.acceptor->local_endpoint().port();
    im.started = true;
    net::dispatch(im.acceptor->get_executor(), [&im] { im.do_accept(); });

    unsigned n = st.config.worker_threads;
    if (n == 0) {
        n = default_worker_threads();
    }
    for (unsigned i = 0; i < n; ++i) {
        im.threads.emplace_back([&im] { im.ioc->run(); });
    }
    st.log->info("listening on {}:{} ({}, {} threads)", st.config.bind_address, im.port.load(),
                 st.config.plain_http ? "plain HTTP" : "TLS", n);
    return {};
}

void server::stop() {
    auto& im = *impl_;
    if (!im.started) {
        return;
    }
    im.started = false;
    // Stopping the context abandons every pending operation; destroying it
    // below destroys their handlers, which own the sessions and so close
    // every connection.
    net::dispatch(im.acceptor->get_executor(), [&im] {
        beast::error_code ignored;
        im.acceptor->close(ignored);
        im.backoff->cancel();
    });
    im.ioc->stop();
    for (auto& t : im.threads) {
        t.join();
    }
    im.threads.clear();
    im.backoff.reset();
    im.acceptor.reset();
    im.ioc.reset();
    im.port = 0;
}

std::uint16_t server::port() const {
    return impl_->port.load();
}

server_counters server::counters() const {
    const auto& st = *impl_->state;
    auto r = [&](refusal x) {
        return st.refusals[static_cast<std::size_t>(x)].load(std::memory_order_relaxed);
    };
    return server_counters{
        .connections_accepted = st.accepted.load(),
        .connections_open = st.open.load(),
        .requests = st.requests.load(),
        .handler_exceptions = st.handler_exceptions.load(),
        .not_found = st.not_found.load(),
        .idle_closed = st.idle_closed.load(),
        .refused_connection_limit = r(refusal::connection_limit),
        .tls_handshake_failures = r(refusal::tls_handshake),
        .header_timeouts = r(refusal::header_timeout),
        .request_timeouts = r(refusal::request_timeout),
        .write_timeouts = r(refusal::write_timeout),
        .body_too_large = r(refusal::body_too_large),
        .header_too_large = r(refusal::header_too_large),
        .malformed_requests = r(refusal::malformed),
    };
}

request_handler metrics_handler(std::shared_ptr<const metrics_registry> registry) {
    return [registry = std::move(registry)](const request&) {
        return response::with_body(200, registry->render(),
                                   std::string(metrics_registry::content_type));
    };
}

unsigned default_worker_threads() {
    const unsigned cores = std::max(1U, std::thread::hardware_concurrency());
    return std::clamp(16U * cores, 8U, 128U);
}

} // namespace esimguard::http
