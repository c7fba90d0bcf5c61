// Alert mail against a real SMTP server (python3-aiosmtpd, started on a free
// loopback port by tests/fakes/smtp_sink.hpp), plus a silent TCP listener
// that plays a dead or hung mail server.

#include "esimguard/defense/smtp.hpp"

#include "fakes/smtp_sink.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <future>
#include <sstream>

namespace esimguard::defense {
namespace {

using namespace std::chrono_literals;

template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > deadline) {
            return false;
        }
        std::this_thread::sleep_for(1ms);
    }
    return true;
}

/// A TCP listener on loopback that never says a word: the kernel completes
/// connections into its backlog, and accept_one() takes one so that the test
/// knows an attempt is in flight.
class silent_listener {
public:
    silent_listener() {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
        EXPECT_EQ(::listen(fd_, 8), 0);
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
        port_ = ntohs(a.sin_port);
    }
    ~silent_listener() { close_all(); }

    [[nodiscard]] std::uint16_t port() const { return port_; }

    /// Accepts one connection within `timeout`; false if none came.
    bool accept_one(std::chrono::milliseconds timeout = 10s) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) {
            return false;
        }
        const int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) {
            return false;
        }
        accepted_.push_back(c);
        return true;
    }

    /// Closes the accepted connections and the listener: the server is dead.
    void close_all() {
        for (int c : accepted_) {
            ::close(c);
        }
        accepted_.clear();
        if (fd_ >= 0) {
            ::close(fd_);
            fd_ = -1;
        }
    }

private:
    int fd_ = -1;
    std::uint16_t port_ = 0;
    std::vector<int> accepted_;
};

alert make_alert() {
    alert a;
    a.id = "0a1e7000000000000000000000000042";
    a.time = std::chrono::system_clock::from_time_t(1'714'564'800);
    a.severity = alert_severity::critical;
    a.rule = "cc_brute_force";
    a.summary = "Three wrong confirmation codes for your profile.\n"
                ".leading dot line\n"
                ".\n"
                "after the lone dot";
    a.evidence.ip = "203.0.113.9";
    a.evidence.eid = "89049032123451234512345678901235";
    a.evidence.iccid = "8944500000000000001";
    a.evidence.count = 3;
    a.evidence.window = 86400s;
    a.subscriber = alert_party{"sub-1", "alice@example.com"};
    a.operator_party = alert_party{"op-1", "soc@operator.example"};
    return a;
}

smtp_config sink_config(std::uint16_t port) {
    smtp_config c;
    c.host = "127.0.0.1";
    c.port = port;
    c.connect_timeout = 5s;
    c.reply_timeout = 10s;
    return c;
}

std::unique_ptr<alert_channel> mail_to(mail_audience audience, const smtp_config& smtp) {
    mail_channel_config c;
    c.smtp = smtp;
    c.from = "alerts@esimguard.example";
    c.audience = audience;
    auto ch = create_mail_channel(c);
    EXPECT_TRUE(ch.has_value()) << (ch ? "" : ch.error());
    return ch ? std::move(*ch) : nullptr;
}

alert_dispatcher_config fast_retries() {
    alert_dispatcher_config c;
    c.initial_backoff = 1ms;
    c.max_backoff = 5ms;
    c.max_attempts = 3;
    return c;
}

/// The message's lines without line-end characters.
std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);) {
        if (!l.empty() && l.back() == '\r') {
            l.pop_back();
        }
        out.push_back(l);
    }
    return out;
}

bool has_line(const std::vector<std::string>& lines, std::string_view l) {
    return std::find(lines.begin(), lines.end(), l) != lines.end();
}

const std::string* message_to(const std::vector<std::string>& messages, std::string_view rcpt) {
    for (const auto& m : messages) {
        if (has_line(lines_of(m), "X-RcptTo: " + std::string(rcpt))) {
            return &m;
        }
    }
    return nullptr;
}

TEST(alerts_smtp, when_an_alert_is_mailed_then_subscriber_and_operator_receive_it_intact) {
    test::smtp_sink sink;
    ASSERT_TRUE(sink.running());
    std::vector<std::unique_ptr<alert_channel>> channels;
    channels.push_back(mail_to(mail_audience::subscriber, sink_config(sink.port())));
    channels.push_back(mail_to(mail_audience::operator_staff, sink_config(sink.port())));
    alert_dispatcher d(fast_retries(), std::move(channels));

    d.on_alert(make_alert());
    const auto messages = sink.wait_for_messages(2);
    ASSERT_EQ(messages.size(), 2u) << sink.log();
    // The sink has a message once DATA ends; the channel counts it sent
    // only after the server's reply to it, a moment later.
    EXPECT_TRUE(eventually([&] {
        return d.counters("mail_subscriber")->sent == 1 && d.counters("mail_operator")->sent == 1;
    })) << "sent: "
        << d.counters("mail_subscriber")->sent << " and " << d.counters("mail_operator")->sent;

    const auto* to_sub = message_to(messages, "alice@example.com");
    ASSERT_NE(to_sub, nullptr);
    const auto sub = lines_of(*to_sub);
    EXPECT_TRUE(has_line(sub, "Subject: [esimguard] Security alert on your mobile line"));
    EXPECT_TRUE(has_line(sub, "To: alice@example.com"));
    EXPECT_TRUE(has_line(sub, "From: alerts@esimguard.example"));
    EXPECT_TRUE(has_line(sub, "Date: Wed, 01 May 2024 12:00:00 +0000"));
    EXPECT_TRUE(std::any_of(sub.begin(), sub.end(),
                            [](const auto& l) { return l.starts_with("Message-ID: <"); }));
    // Dot-stuffed on the wire, un-stuffed by the server: the lines are as written,
    // and the lone dot did not end the message early.
    EXPECT_TRUE(has_line(sub, ".leading dot line")) << *to_sub;
    EXPECT_TRUE(has_line(sub, "."));
    EXPECT_TRUE(has_line(sub, "after the lone dot"));
    EXPECT_TRUE(has_line(sub, "Reference: 0a1e7000000000000000000000000042"));
    EXPECT_EQ(to_sub->find("89049032123451234512345678901235"), std::string::npos)
        << "the full EID is in a mail";

    const auto* to_op = message_to(messages, "soc@operator.example");
    ASSERT_NE(to_op, nullptr);
    const auto op = lines_of(*to_op);
    EXPECT_TRUE(has_line(op, "Subject: [esimguard] critical: cc_brute_force"));
    EXPECT_TRUE(has_line(op, "after the lone dot"));
    EXPECT_TRUE(has_line(op, "  Source address: 203.0.113.9"));
    EXPECT_TRUE(has_line(op, "  Count:          3 within 86400 s"));
    EXPECT_EQ(to_op->find("89049032123451234512345678901235"), std::string::npos)
        << "the full EID is in a mail";
}

TEST(alerts_smtp, when_the_alert_has_no_subscriber_address_then_the_subscriber_mail_is_skipped) {
    test::smtp_sink sink;
    ASSERT_TRUE(sink.running());
    std::vector<std::unique_ptr<alert_channel>> channels;
    channels.push_back(mail_to(mail_audience::subscriber, sink_config(sink.port())));
    alert_dispatcher d(fast_retries(), std::move(channels));

    auto a = make_alert();
    a.subscriber->email.clear();
    d.on_alert(a);
    ASSERT_TRUE(eventually([&] { return d.counters("mail_subscriber")->skipped == 1; }));
    EXPECT_EQ(d.counters("mail_subscriber")->sent, 0u);
}

TEST(alerts_smtp, a_header_field_with_cr_or_lf_is_refused) {
    mail_message m;
    m.from = "alerts@esimguard.example";
    m.to = {"alice@example.com"};
    m.subject = "fine";
    m.body = "body";
    ASSERT_TRUE(render_mail(m).has_value());

    auto bad = m;
    bad.subject = "hello\r\nBcc: evil@attacker.example";
    ASSERT_FALSE(render_mail(bad).has_value());
    EXPECT_EQ(render_mail(bad).error().code, smtp_errc::invalid_message);
    bad.subject = "hello\nBcc: evil@attacker.example";
    EXPECT_FALSE(render_mail(bad).has_value());
    bad = m;
    bad.to = {"alice@example.com\r\nBcc: evil@attacker.example"};
    EXPECT_FALSE(render_mail(bad).has_value());
    bad = m;
    bad.to = {"alice@example.com>\r\nRCPT TO:<evil@attacker.example"};
    EXPECT_FALSE(render_mail(bad).has_value());
    bad = m;
    bad.from = "alerts@esimguard.example\nX-Evil: 1";
    EXPECT_FALSE(render_mail(bad).has_value());
    bad = m;
    bad.message_id = "id@x\r\nBcc: evil@attacker.example";
    EXPECT_FALSE(render_mail(bad).has_value());
    bad = m;
    bad.to = {};
    EXPECT_FALSE(render_mail(bad).has_value());
    EXPECT_FALSE(smtp_error{smtp_errc::invalid_message}.retryable());
}

TEST(alerts_smtp, an_alert_whose_fields_would_inject_headers_is_never_sent) {
    test::smtp_sink sink;
    ASSERT_TRUE(sink.running());
    std::vector<std::unique_ptr<alert_channel>> channels;
    channels.push_back(mail_to(mail_audience::operator_staff, sink_config(sink.port())));
    channels.push_back(mail_to(mail_audience::subscriber, sink_config(sink.port())));
    alert_dispatcher d(fast_retries(), std::move(channels));

    auto evil = make_alert();
    evil.rule = "cc_brute_force\r\nBcc: evil@attacker.example";
    evil.subscriber->email = "alice@example.com\r\nBcc: evil@attacker.example";
    d.on_alert(evil);
    ASSERT_TRUE(eventually([&] {
        return d.counters("mail_operator")->failed == 1 &&
               d.counters("mail_subscriber")->failed == 1;
    }));
    EXPECT_EQ(d.counters("mail_operator")->retried, 0u);

    // A clean alert afterwards arrives alone: the refused ones never reached the server.
    auto clean = make_alert();
    clean.subscriber.reset();
    d.on_alert(clean);
    ASSERT_TRUE(eventually([&] { return d.counters("mail_operator")->sent == 1; }));
    const auto messages = sink.messages();
    ASSERT_EQ(messages.size(), 1u);
    EXPECT_EQ(messages[0].find("attacker"), std::string::npos);
}

TEST(
    alerts_smtp,
    when_the_mail_server_hangs_then_dies_then_the_caller_is_not_held_and_the_alert_fails_after_retries) {
    silent_listener server;
    auto smtp = sink_config(server.port());
    smtp.reply_timeout = 60s; // only the server's death ends the first attempt
    std::vector<std::unique_ptr<alert_channel>> channels;
    channels.push_back(mail_to(mail_audience::operator_staff, smtp));
    alert_dispatcher d(fast_retries(), std::move(channels));

    auto raised = std::async(std::launch::async, [&] { d.on_alert(make_alert()); });
    ASSERT_EQ(raised.wait_for(10s), std::future_status::ready)
        << "on_alert waited on the mail server";
    ASSERT_TRUE(server.accept_one()) << "no delivery attempt reached the server";
    // The attempt is in flight and cannot have finished: the server has said nothing.
    auto c = *d.counters("mail_operator");
    EXPECT_EQ(c.sent + c.failed + c.retried, 0u);

    server.close_all();
    ASSERT_TRUE(eventually([&] { return d.counters("mail_operator")->failed == 1; }));
    c = *d.counters("mail_operator");
    EXPECT_EQ(c.retried, 2u); // three attempts: the hung one, two refused connections
    EXPECT_EQ(c.sent, 0u);
}

TEST(alerts_smtp, a_silent_server_times_out) {
    silent_listener server;
    auto smtp = sink_config(server.port());
    smtp.reply_timeout = 100ms;
    mail_message m;
    m.from = "alerts@esimguard.example";
    m.to = {"soc@operator.example"};
    m.subject = "s";
    m.body = "b";
    auto r = send_mail(smtp, m);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, smtp_errc::timeout);
    EXPECT_TRUE(r.error().retryable());
}

TEST(alerts_smtp, send_mail_to_the_real_server_delivers_to_every_recipient) {
    test::smtp_sink sink;
    ASSERT_TRUE(sink.running());
    mail_message m;
    m.from = "alerts@esimguard.example";
    m.to = {"a@example.com", "b@example.com"};
    m.subject = "Grüße – non-ASCII subject";
    m.body = "x\n..two dots\nend";
    auto r = send_mail(sink_config(sink.port()), m);
    ASSERT_TRUE(r.has_value()) << r.error().detail;
    const auto messages = sink.wait_for_messages(1);
    ASSERT_EQ(messages.size(), 1u);
    const auto lines = lines_of(messages[0]);
    EXPECT_TRUE(has_line(lines, "X-RcptTo: a@example.com, b@example.com")) << messages[0];
    EXPECT_TRUE(has_line(lines, "..two dots"));
    EXPECT_TRUE(has_line(lines, "end"));
    EXPECT_NE(messages[0].find("Subject: =?utf-8?B?"), std::string::npos);
}

TEST(alerts_smtp, dot_stuffing_doubles_leading_dots_only) {
    EXPECT_EQ(dot_stuff(".a\r\nb.\r\n.\r\n..c\r\n"), "..a\r\nb.\r\n..\r\n...c\r\n");
    EXPECT_EQ(dot_stuff("a\r\n"), "a\r\n");
    // A dot after a bare LF is not at a line start on the wire (render_mail
    // never leaves one, but dot_stuff must not mistake it).
    EXPECT_EQ(dot_stuff("a\n.b\r\n"), "a\n.b\r\n");
}

TEST(alerts_smtp, only_transient_failures_are_retried) {
    EXPECT_TRUE((smtp_error{smtp_errc::rejected, 451}).retryable());
    EXPECT_FALSE((smtp_error{smtp_errc::rejected, 550}).retryable());
    EXPECT_TRUE((smtp_error{smtp_errc::connect}).retryable());
    EXPECT_FALSE((smtp_error{smtp_errc::bad_config}).retryable());
}

TEST(alerts_smtp, bad_channel_configuration_is_refused) {
    mail_channel_config c;
    c.from = "not an address";
    EXPECT_FALSE(create_mail_channel(c).has_value());
    c.from = "alerts@esimguard.example";
    c.fallback_operator_address = "soc@x\r\nBcc: y@z";
    EXPECT_FALSE(create_mail_channel(c).has_value());
    c.fallback_operator_address = "soc@operator.example";
    auto ok = create_mail_channel(c);
    ASSERT_TRUE(ok.has_value());
    EXPECT_EQ((*ok)->name(), "mail_operator");
}

} // namespace
} // namespace esimguard::defense
