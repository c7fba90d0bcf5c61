// The synchronous client: each call starts asynchronous operations on the
// client's own io_context and runs it until they finish or the deadline
// passes, so that every step (resolve included) has a timeout.

#include "esimguard/http/client.hpp"

#include "tls.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <fmt/format.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <charconv>
#include <map>
#include <optional>

namespace esimguard::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;
using clock_type = std::chrono::steady_clock;

namespace {

struct parsed_url {
    bool tls = true;
    std::string host; // without brackets
    std::string port;
    std::string target;
};

result<parsed_url> parse_url(std::string_view url) {
    parsed_url u;
    if (url.starts_with("https://")) {
        url.remove_prefix(8);
    } else if (url.starts_with("http://")) {
        u.tls = false;
        url.remove_prefix(7);
    } else {
        return std::unexpected(error{errc::bad_url, "scheme must be http or https"});
    }
    const auto slash = url.find_first_of("/?");
    std::string_view authority = url.substr(0, slash);
    u.target = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
    if (u.target.front() == '?') {
        u.target.insert(0, "/");
    }
    if (authority.find('@') != std::string_view::npos) {
        return std::unexpected(error{errc::bad_url, "user info in URL is not supported"});
    }
    std::string_view port;
    if (authority.starts_with("[")) {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) {
            return std::unexpected(error{errc::bad_url, "unclosed IPv6 bracket"});
        }
        u.host = std::string(authority.substr(1, close - 1));
        const auto rest = authority.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') {
                return std::unexpected(error{errc::bad_url, "garbage after IPv6 address"});
            }
            port = rest.substr(1);
        }
    } else {
        const auto colon = authority.rfind(':');
        u.host = std::string(authority.substr(0, colon));
        if (colon != std::string_view::npos) {
            port = authority.substr(colon + 1);
        }
    }
    if (u.host.empty()) {
        return std::unexpected(error{errc::bad_url, "no host"});
    }
    if (port.empty()) {
        u.port = u.tls ? "443" : "80";
    } else {
        unsigned value = 0;
        const auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
        if (ec != std::errc{} || p != port.data() + port.size() || value == 0 || value > 65535) {
            return std::unexpected(error{errc::bad_url, "bad port"});
        }
        u.port = std::to_string(value);
    }
    return u;
}

bool is_ip_literal(const std::string& host) {
    beast::error_code ec;
    net::ip::make_address(host, ec);
    return !ec;
}

struct connection {
    std::optional<beast::tcp_stream> plain;
    std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
    beast::flat_buffer buffer;
    std::vector<bytes> peer_chain;

    beast::tcp_stream& lowest() { return secure ? beast::get_lowest_layer(*secure) : *plain; }
};

} // namespace

struct client::impl {
    client_config config;
    net::io_context ioc;
    ssl::context ctx{ssl::context::tls_client};
    std::map<std::string, std::unique_ptr<connection>> connections;

    // Runs the context until `done` is set or `deadline` passes; on timeout
    // `cancel` aborts the operation and the context runs until it has.
    template <typename Cancel>
    bool run_until(const std::optional<beast::error_code>& done, clock_type::time_point deadline,
                   Cancel&& cancel) {
        ioc.restart();
        while (!done && clock_type::now() < deadline) {
            if (ioc.run_one_until(deadline) == 0 && ioc.stopped()) {
                break;
            }
        }
        if (done) {
            return true;
        }
        cancel();
        ioc.restart();
        ioc.run();
        return false;
    }

    result<connection*> connect(const parsed_url& u, const std::string& key,
                                clock_type::time_point deadline) {
        const auto connect_deadline =
            std::min(deadline, clock_type::now() + config.connect_timeout);
        tcp::resolver resolver(ioc);
        std::optional<beast::error_code> done;
        tcp::resolver::results_type endpoints;
        resolver.async_resolve(u.host, u.port,
                               [&](beast::error_code ec, tcp::resolver::results_type r) {
                                   endpoints = std::move(r);
                                   done = ec;
                               });
        if (!run_until(done, connect_deadline, [&] { resolver.cancel(); })) {
            return std::unexpected(error{errc::timeout, "resolving " + u.host});
        }
        if (*done) {
            return std::unexpected(error{errc::resolve, u.host + ": " + done->message()});
        }

        auto c = std::make_unique<connection>();
        if (u.tls) {
            c->secure.emplace(ioc, ctx);
        } else {
            c->plain.emplace(ioc);
        }
        done.reset();
        if (config.local_address.empty()) {
            c->lowest().async_connect(
                endpoints, [&](beast::error_code ec, const tcp::endpoint&) { done = ec; });
        } else {
            // Connecting to a range reopens the socket per endpoint, which
            // drops the bind: bind once and connect to one endpoint of the
            // local address's family.
            beast::error_code ec;
            const auto local = net::ip::make_address(config.local_address, ec);
            if (ec) {
                return std::unexpected(error{errc::bad_config, "bad local address"});
            }
            std::optional<tcp::endpoint> target;
            for (const auto& e : endpoints) {
                if (e.endpoint().address().is_v4() == local.is_v4()) {
                    target = e.endpoint();
                    break;
                }
            }
            if (!target) {
                return std::unexpected(
                    error{errc::connect, key + ": no address of the local address's family"});
            }
            auto& socket = c->lowest().socket();
            socket.open(target->protocol(), ec);
            if (!ec) {
                socket.bind(tcp::endpoint(local, 0), ec);
            }
            if (ec) {
                return std::unexpected(
                    error{errc::connect,
                          fmt::format("binding {}: {}", config.local_address, ec.message())});
            }
            c->lowest().async_connect(*target, [&](beast::error_code e) { done = e; });
        }
        if (!run_until(done, connect_deadline, [&] { c->lowest().close(); })) {
            return std::unexpected(error{errc::timeout, "connecting to " + key});
        }
        if (*done) {
            return std::unexpected(error{errc::connect, key + ": " + done->message()});
        }
        c->lowest().socket().set_option(tcp::no_delay(true), *done);

        if (u.tls) {
            SSL* ssl_handle = c->secure->native_handle();
            const bool ip = is_ip_literal(u.host);
            // SNI carries names only (RFC 6066 §3), never addresses.
            if (!ip && SSL_set_tlsext_host_name(ssl_handle, u.host.c_str()) != 1) {
                return std::unexpected(error{errc::tls_handshake, detail::openssl_errors()});
            }
            if (!config.insecure) {
                X509_VERIFY_PARAM* param = SSL_get0_param(ssl_handle);
                X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
                const int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, u.host.c_str())
                                  : X509_VERIFY_PARAM_set1_host(param, u.host.c_str(), 0);
                if (ok != 1) {
                    return std::unexpected(error{errc::tls_handshake, detail::openssl_errors()});
                }
            }
            done.reset();
            c->secure->async_handshake(ssl::stream_base::client,
                                       [&](beast::error_code ec) { done = ec; });
            if (!run_until(done, connect_deadline, [&] { c->lowest().close(); })) {
                return std::unexpected(error{errc::timeout, "TLS handshake with " + key});
            }
            if (*done) {
                const long verify = SSL_get_verify_result(ssl_handle);
                if (!config.insecure && verify != X509_V_OK) {
                    return std::unexpected(
                        error{errc::tls_verify,
                              fmt::format("{}: {}", key, X509_verify_cert_error_string(verify))});
                }
                return std::unexpected(error{errc::tls_handshake, key + ": " + done->message()});
            }
            if (STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl_handle)) {
                for (int i = 0; i < sk_X509_num(chain); ++i) {
                    X509* x = sk_X509_value(chain, i);
                    const int n = i2d_X509(x, nullptr);
                    if (n > 0) {
                        bytes der(static_cast<std::size_t>(n));
                        unsigned char* p = der.data();
                        i2d_X509(x, &p);
                        c->peer_chain.push_back(std::move(der));
                    }
                }
            }
        }
        auto* raw = c.get();
        connections[key] = std::move(c);
        return raw;
    }

    // One exchange on `c`; `response_started` tells whether any response
    // byte arrived (a call that failed before may be retried).
    result<client_response> exchange(connection& c, bhttp::request<bhttp::string_body>& req,
                                     clock_type::time_point deadline, bool& response_started) {
        std::optional<beast::error_code> done;
        auto cancel = [&] { c.lowest().close(); };
        auto write_done = [&](beast::error_code ec, std::size_t) { done = ec; };
        if (c.secure) {
            bhttp::async_write(*c.secure, req, write_done);
        } else {
            bhttp::async_write(*c.plain, req, write_done);
        }
        if (!run_until(done, deadline, cancel)) {
            return std::unexpected(error{errc::timeout, "sending the request"});
        }
        if (*done) {
            return std::unexpected(error{errc::io, "sending: " + done->message()});
        }

        bhttp::response_parser<bhttp::string_body> parser;
        parser.body_limit(config.max_response_body_bytes);
        parser.header_limit(64 * 1024);
        if (req.method() == bhttp::verb::head) {
            parser.skip(true);
        }
        done.reset();
        auto read_done = [&](beast::error_code ec, std::size_t) { done = ec; };
        if (c.secure) {
            bhttp::async_read(*c.secure, c.buffer, parser, read_done);
        } else {
            bhttp::async_read(*c.plain, c.buffer, parser, read_done);
        }
        const bool finished = run_until(done, deadline, cancel);
        response_started = parser.got_some();
        if (!finished) {
            return std::unexpected(error{errc::timeout, "waiting for the response"});
        }
        if (*done) {
            if (*done == bhttp::error::body_limit) {
                return std::unexpected(error{errc::body_too_large, "response body over limit"});
            }
            if (done->category() == bhttp::make_error_code(bhttp::error::bad_target).category() &&
                *done != bhttp::error::end_of_stream && *done != bhttp::error::partial_message) {
                return std::unexpected(error{errc::protocol, done->message()});
            }
            return std::unexpected(error{errc::io, "reading: " + done->message()});
        }
        auto msg = parser.release();
        client_response out;
        out.status = static_cast<int>(msg.result_int());
        for (const auto& f : msg) {
            out.headers.push_back({std::string(f.name_string()), std::string(f.value())});
        }
        out.body = std::move(msg.body());
        out.peer_certificates = c.peer_chain;
        keep_alive = msg.keep_alive();
        return out;
    }

    bool keep_alive = false;
};

client::client(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
client::client(client&&) noexcept = default;
client& client::operator=(client&&) noexcept = default;
client::~client() = default;

result<client> client::create(client_config config) {
    auto p = std::make_unique<impl>();
    p->config = std::move(config);
    auto& ctx = p->ctx;
    if (auto r = detail::apply_protocol_policy(ctx); !r) {
        return std::unexpected(r.error());
    }
    const auto& cfg = p->config;
    if (cfg.insecure) {
        ctx.set_verify_mode(ssl::verify_none);
    } else {
        ctx.set_verify_mode(ssl::verify_peer);
        if (cfg.trusted_ca_pem.empty() && cfg.trusted_ca_der.empty() &&
            cfg.trusted_ca_files.empty()) {
            beast::error_code ec;
            ctx.set_default_verify_paths(ec);
            if (ec) {
                return std::unexpected(error{errc::bad_config, "no system trust store"});
            }
        }
        for (const auto& pem : cfg.trusted_ca_pem) {
            if (auto r = detail::add_trusted_pem(ctx, pem); !r) {
                return std::unexpected(r.error());
            }
        }
        for (const auto& der : cfg.trusted_ca_der) {
            if (auto r = detail::add_trusted_der(ctx, der); !r) {
                return std::unexpected(r.error());
            }
        }
        for (const auto& file : cfg.trusted_ca_files) {
            if (auto r = detail::add_trusted_file(ctx, file); !r) {
                return std::unexpected(r.error());
            }
        }
    }
    if (!cfg.client_certificate_chain_file.empty()) {
        if (auto r = detail::use_chain_and_key(ctx, cfg.client_certificate_chain_file,
                                               cfg.client_private_key_file);
            !r) {
            return std::unexpected(r.error());
        }
    }
    return client(std::move(p));
}

result<client_response> client::request(std::string_view method, std::string_view url,
                                        std::string body, const header_list& headers) {
    auto& im = *impl_;
    const auto deadline = clock_type::now() + im.config.request_timeout;
    auto u = parse_url(url);
    if (!u) {
        return std::unexpected(u.error());
    }
    const auto verb = bhttp::string_to_verb(method);
    if (verb == bhttp::verb::unknown) {
        return std::unexpected(error{errc::bad_url, "unknown method " + std::string(method)});
    }

    bhttp::request<bhttp::string_body> req{verb, u->target, 11};
    // Host carries brackets for IPv6 and the port when not the default.
    const bool v6 = u->host.find(':') != std::string::npos;
    const std::string host_field =
        (v6 ? "[" + u->host + "]" : u->host) +
        ((u->tls && u->port == "443") || (!u->tls && u->port == "80") ? std::string()
                                                                      : ":" + u->port);
    req.set(bhttp::field::host, host_field);
    if (!find_header(headers, "User-Agent")) {
        req.set(bhttp::field::user_agent, im.config.user_agent);
    }
    for (const auto& h : headers) {
        req.insert(h.name, h.value);
    }
    req.body() = std::move(body);
    req.keep_alive(true);
    req.prepare_payload();

    // Connection key and the name errors use: scheme, host and port once.
    const std::string key = fmt::format("{}://{}:{}", u->tls ? "https" : "http",
                                        v6 ? "[" + u->host + "]" : u->host, u->port);
    for (int attempt = 0; attempt < 2; ++attempt) {
        connection* c = nullptr;
        bool reused = false;
        if (auto it = im.connections.find(key);
            it != im.connections.end() && it->second->lowest().socket().is_open()) {
            c = it->second.get();
            reused = true;
        } else {
            im.connections.erase(key);
            auto made = im.connect(*u, key, deadline);
            if (!made) {
                return std::unexpected(made.error());
            }
            c = *made;
        }
        bool response_started = false;
        auto out = im.exchange(*c, req, deadline, response_started);
        if (!out || !im.keep_alive) {
            im.connections.erase(key);
        }
        // A kept-alive connection that the server closed while idle fails
        // before any response byte: retry once on a new connection, as
        // HTTP/1.1 clients commonly do (RFC 9112 §9.3.1 on retrying).
        if (!out && reused && !response_started && out.error().code == errc::io) {
            continue;
        }
        if (out) {
            out->reused_connection = reused;
        }
        return out;
    }
    return std::unexpected(error{errc::io, "connection closed twice"});
}

void client::close_connections() {
    impl_->connections.clear();
}

} // namespace esimguard::http
