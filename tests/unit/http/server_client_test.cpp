// The HTTPS server and client over real sockets on 127.0.0.1: keep-alive,
// certificate and host name verification, TLS version floor, full chain, and
// the refusals a hostile client meets (size, time, connection count, syntax).

#include "esimguard/http/client.hpp"
#include "esimguard/http/server.hpp"

#include "test_support.hpp"

#include <gtest/gtest.h>

#include <fmt/format.h>

namespace esimguard::http {
namespace {

using namespace std::chrono_literals;
using test::eventually;
using test::raw_socket;

response echo(const request& r) {
    return response::with_body(200, r.body, "application/json");
}

class http_test : public ::testing::Test {
protected:
    test::temp_dir dir;
    test::test_pki pki{dir.path()};
    test::server_identity localhost = pki.issue_server("localhost");

    server_config tls_config(const test::server_identity& id) {
        server_config c;
        c.certificate_chain_file = id.chain_file;
        c.private_key_file = id.key_file;
        c.worker_threads = 2;
        return c;
    }

    std::unique_ptr<server> start(server_config c) {
        auto s = std::make_unique<server>(std::move(c));
        s->add_route("POST", "/echo", echo);
        s->add_route("GET", "/hello",
                     [](const request&) { return response::with_body(200, "hello"); });
        s->add_route("GET", "/throw",
                     [](const request&) -> response { throw std::runtime_error("handler bug"); });
        auto r = s->start();
        EXPECT_TRUE(r.has_value()) << r.error().detail;
        EXPECT_NE(s->port(), 0);
        return s;
    }

    client trusting_client(client_config c = {}) {
        c.trusted_ca_files = {pki.root_pem_file()};
        auto made = client::create(std::move(c));
        EXPECT_TRUE(made.has_value()) << made.error().detail;
        return std::move(*made);
    }

    static std::string url(const server& s, std::string_view path, std::string host = "localhost",
                           std::string scheme = "https") {
        return fmt::format("{}://{}:{}{}", scheme, host, s.port(), path);
    }
};

TEST_F(http_test, two_posts_from_one_client_share_one_kept_alive_connection) {
    auto s = start(tls_config(localhost));
    auto c = trusting_client();

    auto first = c.post(url(*s, "/echo"), R"({"a":1})", {{"Content-Type", "application/json"}});
    ASSERT_TRUE(first.has_value()) << first.error().detail;
    EXPECT_EQ(first->status, 200);
    EXPECT_EQ(first->body, R"({"a":1})");
    EXPECT_FALSE(first->reused_connection);

    auto second = c.post(url(*s, "/echo"), "second");
    ASSERT_TRUE(second.has_value()) << second.error().detail;
    EXPECT_EQ(second->body, "second");
    EXPECT_TRUE(second->reused_connection);

    const auto n = s->counters();
    EXPECT_EQ(n.connections_accepted, 1U);
    EXPECT_EQ(n.requests, 2U);
}

TEST_F(http_test, server_presents_leaf_and_intermediate) {
    auto s = start(tls_config(localhost));
    auto c = trusting_client();
    auto r = c.get(url(*s, "/hello"));
    ASSERT_TRUE(r.has_value()) << r.error().detail;
    ASSERT_EQ(r->peer_certificates.size(), 2U);
    EXPECT_EQ(r->peer_certificates[0], localhost.leaf.der());
    EXPECT_EQ(r->peer_certificates[1], localhost.intermediate.der());
}

TEST_F(http_test, client_refuses_server_whose_chain_is_signed_by_another_ca) {
    auto s = start(tls_config(localhost));
    test::temp_dir other_dir;
    test::test_pki other(other_dir.path(), "other");
    client_config cc;
    cc.trusted_ca_pem = {other.root().pem()};
    auto c = client::create(cc);
    ASSERT_TRUE(c.has_value());

    auto r = c->get(url(*s, "/hello"));
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, errc::tls_verify) << r.error().detail;
    EXPECT_TRUE(eventually([&] { return s->counters().tls_handshake_failures == 1; }));
    EXPECT_EQ(s->counters().requests, 0U);
}

TEST_F(http_test, client_refuses_certificate_for_another_host_name) {
    auto wrong_name = pki.issue_server("smdp.example.com");
    auto s = start(tls_config(wrong_name));
    auto c = trusting_client();

    auto r = c.get(url(*s, "/hello", "localhost"));
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, errc::tls_verify) << r.error().detail;
}

TEST_F(http_test, client_refuses_ip_address_not_in_certificate) {
    auto s = start(tls_config(localhost));
    auto c = trusting_client();
    auto r = c.get(url(*s, "/hello", "127.0.0.1"));
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, errc::tls_verify) << r.error().detail;
}

TEST_F(http_test, insecure_client_connects_to_untrusted_server) {
    auto s = start(tls_config(localhost));
    client_config cc;
    cc.insecure = true;
    auto c = client::create(cc);
    ASSERT_TRUE(c.has_value());
    auto r = c->get(url(*s, "/hello", "127.0.0.1"));
    ASSERT_TRUE(r.has_value()) << r.error().detail;
    EXPECT_EQ(r->body, "hello");
}

TEST_F(http_test, tls_1_1_client_is_refused_and_tls_1_2_accepted) {
    auto s = start(tls_config(localhost));
    // SECLEVEL=0 lets OpenSSL 3's client offer TLS 1.1 at all: the refusal
    // must come from the server.
    const auto base = fmt::format("openssl s_client -connect 127.0.0.1:{} -servername localhost "
                                  "-cipher DEFAULT@SECLEVEL=0 </dev/null",
                                  s->port());
    const auto [old_status, old_out] = test::run_command(base + " -tls1_1");
    EXPECT_NE(old_status, 0) << old_out;
    EXPECT_EQ(old_out.find("New, TLSv1"), std::string::npos) << old_out;
    EXPECT_TRUE(eventually([&] { return s->counters().tls_handshake_failures == 1; }));

    const auto [new_status, new_out] = test::run_command(base + " -tls1_2");
    EXPECT_EQ(new_status, 0) << new_out;
    EXPECT_NE(new_out.find("New, TLSv1.2"), std::string::npos) << new_out;
}

TEST_F(http_test, tls_1_2_without_ecdhe_is_refused) {
    auto s = start(tls_config(localhost));
    const auto [status, out] = test::run_command(
        fmt::format("openssl s_client -connect 127.0.0.1:{} -tls1_2 -cipher AES128-GCM-SHA256 "
                    "</dev/null",
                    s->port()));
    EXPECT_NE(status, 0) << out;
    EXPECT_TRUE(eventually([&] { return s->counters().tls_handshake_failures == 1; }));
}

TEST_F(http_test, body_over_one_mebibyte_is_answered_413_and_counted) {
    auto s = start(tls_config(localhost));
    auto c = trusting_client();

    auto at_limit = c.post(url(*s, "/echo"), std::string(1024 * 1024, 'a'));
    ASSERT_TRUE(at_limit.has_value()) << at_limit.error().detail;
    EXPECT_EQ(at_limit->status, 200);

    auto over = c.post(url(*s, "/echo"), std::string(1024 * 1024 + 1, 'a'));
    ASSERT_TRUE(over.has_value()) << over.error().detail;
    EXPECT_EQ(over->status, 413);
    EXPECT_EQ(s->counters().body_too_large, 1U);
}

TEST_F(http_test, stalled_header_is_cut_after_header_timeout_while_others_are_served) {
    auto cfg = tls_config(localhost);
    cfg.plain_http = true;
    cfg.header_timeout = 1s;
    auto s = start(cfg);

    raw_socket slow(s->port());
    ASSERT_TRUE(slow.connected());
    const auto stalled_at = std::chrono::steady_clock::now();
    ASSERT_TRUE(slow.send("GET /hello HTTP/1.1\r\nHost: x\r\nX-Half: "));

    auto c = trusting_client();
    for (int i = 0; i < 3; ++i) {
        auto r = c.get(url(*s, "/hello", "127.0.0.1", "http"));
        ASSERT_TRUE(r.has_value()) << r.error().detail;
        EXPECT_EQ(r->status, 200);
    }

    bool closed = false;
    const auto answer = slow.read_until_closed(&closed);
    const auto waited = std::chrono::steady_clock::now() - stalled_at;
    EXPECT_TRUE(closed);
    EXPECT_EQ(answer, "");
    EXPECT_GE(waited, 900ms);
    EXPECT_LT(waited, 5s);
    // The timer closes the socket before the read completes and is counted.
    EXPECT_TRUE(eventually([&] { return s->counters().header_timeouts == 1; }));
}

TEST_F(http_test, tls_client_that_never_sends_a_request_is_cut_after_header_timeout) {
    auto cfg = tls_config(localhost);
    cfg.header_timeout = 1s;
    auto s = start(cfg);
    // s_client completes the handshake, then sends nothing (-ign_eof keeps
    // the connection after stdin ends) until the server closes it.
    const auto started = std::chrono::steady_clock::now();
    const auto [status, out] = test::run_command(fmt::format(
        "timeout 10 openssl s_client -connect 127.0.0.1:{} -ign_eof </dev/null", s->port()));
    const auto took = std::chrono::steady_clock::now() - started;
    EXPECT_NE(status, 124) << "s_client was not disconnected: " << out;
    EXPECT_LT(took, 5s);
    EXPECT_EQ(s->counters().tls_handshake_failures, 0U) << out;
    EXPECT_TRUE(eventually([&] { return s->counters().header_timeouts == 1; })) << out;
}

TEST_F(http_test, connections_over_the_limit_are_closed_and_counted) {
    auto cfg = tls_config(localhost);
    cfg.plain_http = true;
    cfg.max_connections = 2;
    auto s = start(cfg);

    raw_socket a(s->port()), b(s->port());
    ASSERT_TRUE(a.connected() && b.connected());
    ASSERT_TRUE(eventually([&] { return s->counters().connections_open == 2; }));

    raw_socket third(s->port());
    bool closed = false;
    EXPECT_EQ(third.read_until_closed(&closed), "");
    EXPECT_TRUE(closed);
    EXPECT_EQ(s->counters().refused_connection_limit, 1U);

    a.close();
    ASSERT_TRUE(eventually([&] { return s->counters().connections_open == 1; }));
    auto c = trusting_client();
    auto r = c.get(url(*s, "/hello", "127.0.0.1", "http"));
    ASSERT_TRUE(r.has_value()) << r.error().detail;
    EXPECT_EQ(r->status, 200);
}

TEST_F(http_test, malformed_request_is_answered_400_and_counted) {
    auto cfg = tls_config(localhost);
    cfg.plain_http = true;
    auto s = start(cfg);
    raw_socket sock(s->port());
    ASSERT_TRUE(sock.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 12abc\r\n\r\n"));
    const auto answer = sock.read_until_closed();
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 400")) << answer;
    EXPECT_EQ(s->counters().malformed_requests, 1U);
    EXPECT_EQ(s->counters().requests, 0U);
}

TEST_F(http_test, oversized_header_is_answered_431_and_counted) {
    auto cfg = tls_config(localhost);
    cfg.plain_http = true;
    cfg.max_header_bytes = 1024;
    auto s = start(cfg);
    raw_socket sock(s->port());
    ASSERT_TRUE(sock.send("GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(2048, 'b') +
                          "\r\n\r\n"));
    const auto answer = sock.read_until_closed();
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 431")) << answer;
    EXPECT_EQ(s->counters().header_too_large, 1U);
}

TEST_F(http_test, throwing_handler_gives_500_and_server_keeps_serving) {
    auto s = start(tls_config(localhost));
    auto c = trusting_client();
    auto bad = c.get(url(*s, "/throw"));
    ASSERT_TRUE(bad.has_value()) << bad.error().detail;
    EXPECT_EQ(bad->status, 500);
    auto good = c.get(url(*s, "/hello"));
    ASSERT_TRUE(good.has_value()) << good.error().detail;
    EXPECT_EQ(good->status, 200);
    EXPECT_EQ(s->counters().handler_exceptions, 1U);
}

TEST_F(http_test, unknown_path_or_method_is_404) {
    auto s = start(tls_config(localhost));
    auto c = trusting_client();
    auto path = c.get(url(*s, "/nope"));
    auto method = c.get(url(*s, "/echo"));
    ASSERT_TRUE(path.has_value() && method.has_value());
    EXPECT_EQ(path->status, 404);
    EXPECT_EQ(method->status, 404);
    EXPECT_EQ(s->counters().not_found, 2U);
}

TEST_F(http_test, server_metrics_count_requests_by_route_and_status) {
    auto cfg = tls_config(localhost);
    cfg.metrics = std::make_shared<metrics_registry>();
    auto s = std::make_unique<server>(cfg);
    s->add_route("GET", "/metrics", metrics_handler(cfg.metrics));
    s->add_route("GET", "/hello", [](const request&) { return response::with_body(200, "hi"); });
    ASSERT_TRUE(s->start().has_value());
    auto c = trusting_client();
    ASSERT_TRUE(c.get(url(*s, "/hello")).has_value());
    ASSERT_TRUE(c.get(url(*s, "/who/knows")).has_value());
    auto m = c.get(url(*s, "/metrics"));
    ASSERT_TRUE(m.has_value());
    EXPECT_EQ(find_header(m->headers, "content-type"), metrics_registry::content_type);
    EXPECT_NE(m->body.find("esimguard_http_requests_total{method=\"GET\",route=\"/hello\","
                           "status=\"200\"} 1\n"),
              std::string::npos)
        << m->body;
    EXPECT_NE(m->body.find("route=\"unmatched\",status=\"404\"} 1\n"), std::string::npos)
        << m->body;
    EXPECT_NE(m->body.find("esimguard_http_request_duration_seconds_count{route=\"/hello\"} 1\n"),
              std::string::npos)
        << m->body;
}

TEST_F(http_test, client_reports_connect_error_when_nothing_listens) {
    auto s = start(tls_config(localhost));
    const auto dead_url = url(*s, "/hello");
    s->stop();
    auto c = trusting_client();
    auto r = c.get(dead_url);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, errc::connect) << r.error().detail;
}

TEST_F(http_test, client_times_out_on_a_server_that_never_answers_the_handshake) {
    // A listening socket that nobody serves: TCP connects, TLS never starts.
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(::listen(fd, 4), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);

    client_config cc;
    cc.connect_timeout = 300ms;
    auto c = trusting_client(cc);
    const auto started = std::chrono::steady_clock::now();
    auto r = c.get(fmt::format("https://localhost:{}/", ntohs(addr.sin_port)));
    const auto took = std::chrono::steady_clock::now() - started;
    ::close(fd);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, errc::timeout) << r.error().detail;
    EXPECT_LT(took, 3s);
}

TEST_F(http_test, stop_closes_open_connections_and_joins) {
    auto cfg = tls_config(localhost);
    cfg.plain_http = true;
    auto s = start(cfg);
    raw_socket idle(s->port());
    ASSERT_TRUE(eventually([&] { return s->counters().connections_open == 1; }));
    s->stop();
    bool closed = false;
    idle.read_until_closed(&closed);
    EXPECT_TRUE(closed);
    EXPECT_EQ(s->counters().connections_open, 0U);
}

TEST_F(http_test, start_fails_with_bad_config_on_missing_certificate) {
    auto cfg = tls_config(localhost);
    cfg.certificate_chain_file = dir.path() / "absent.pem";
    server s(cfg);
    auto r = s.start();
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, errc::bad_config);
}

} // namespace
} // namespace esimguard::http
