// A small SMTP client (RFC 5321) and RFC 5322 message rendering for alert
// mail. Plain POSIX sockets with poll(): every wait has a deadline, and the
// module needs no second I/O library for a dozen lines of dialogue.

#include "esimguard/defense/smtp.hpp"

#include "esimguard/core/bytes.hpp"
#include "esimguard/crypto/random.hpp"

#include "logger.hpp"
#include "mail_address.hpp"

#include <fmt/format.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

namespace esimguard::defense {

std::string_view to_string(smtp_errc e) {
    switch (e) {
    case smtp_errc::invalid_message:
        return "invalid message";
    case smtp_errc::bad_config:
        return "bad configuration";
    case smtp_errc::resolve:
        return "resolve";
    case smtp_errc::connect:
        return "connect";
    case smtp_errc::timeout:
        return "timeout";
    case smtp_errc::io:
        return "i/o";
    case smtp_errc::protocol:
        return "protocol";
    case smtp_errc::rejected:
        return "rejected";
    }
    return "unknown";
}

bool smtp_error::retryable() const {
    switch (code) {
    case smtp_errc::invalid_message:
    case smtp_errc::bad_config:
        return false;
    case smtp_errc::rejected:
        // RFC 5321 §4.2.1: 4yz is transient, 5yz permanent.
        return reply_code >= 400 && reply_code < 500;
    default:
        return true;
    }
}

namespace alerts_detail {

bool valid_mail_address(std::string_view a) {
    const auto at = a.rfind('@');
    if (a.empty() || a.size() > 254 || at == std::string_view::npos || at == 0 ||
        at + 1 == a.size()) {
        return false;
    }
    for (const char c : a) {
        const auto u = static_cast<unsigned char>(c);
        // Printable ASCII only, and none of the characters that delimit
        // addresses or comments in headers and SMTP commands: no quoting, no
        // display names, nothing a header parser could read differently.
        if (u <= 0x20 || u >= 0x7f ||
            std::string_view("<>,;:\"()[]\\").find(c) != std::string_view::npos) {
            return false;
        }
    }
    return true;
}

} // namespace alerts_detail

namespace {

using steady = std::chrono::steady_clock;

std::unexpected<smtp_error> fail(smtp_errc code, std::string detail, int reply = 0) {
    return std::unexpected(smtp_error{code, reply, std::move(detail)});
}

/// CR, LF, NUL or another control character (tab allowed) in a header field.
bool unsafe_header_text(std::string_view s) {
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 && c != '\t') || u == 0x7f) {
            return true;
        }
    }
    return false;
}

bool is_ascii(std::string_view s) {
    for (const char c : s) {
        if (static_cast<unsigned char>(c) >= 0x80) {
            return false;
        }
    }
    return true;
}

/// RFC 2047 B-encoding in words that each hold whole UTF-8 characters and
/// fit a folded header line.
std::string encode_subject(std::string_view s) {
    constexpr std::size_t max_raw = 45;
    std::string out;
    std::size_t i = 0;
    while (i < s.size()) {
        std::size_t n = std::min(max_raw, s.size() - i);
        // Never split a UTF-8 sequence: back up over continuation bytes.
        while (i + n < s.size() && n > 1 && (static_cast<unsigned char>(s[i + n]) & 0xC0) == 0x80) {
            --n;
        }
        if (!out.empty()) {
            out += "\r\n ";
        }
        out += "=?utf-8?B?" + to_base64(as_bytes(s.substr(i, n))) + "?=";
        i += n;
    }
    return out;
}

std::string rfc5322_date(std::chrono::system_clock::time_point t) {
    static constexpr const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                             "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const std::time_t tt = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    // Names spelled out here: strftime's %a/%b follow the locale.
    return fmt::format("{}, {:02} {} {:04} {:02}:{:02}:{:02} +0000", days[tm.tm_wday % 7],
                       tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                       tm.tm_sec);
}

/// Body text with every line ending as CRLF, NULs removed, lines over 998
/// octets split (RFC 5322 §2.1.1), ending with CRLF.
std::string normalise_body(std::string_view body) {
    std::string out;
    out.reserve(body.size() + body.size() / 32 + 2);
    std::size_t line_len = 0;
    for (std::size_t i = 0; i < body.size(); ++i) {
        const char c = body[i];
        if (c == '\r' || c == '\n') {
            if (c == '\r' && i + 1 < body.size() && body[i + 1] == '\n') {
                ++i;
            }
            out += "\r\n";
            line_len = 0;
            continue;
        }
        if (c == '\0') {
            continue;
        }
        if (line_len == 998) {
            out += "\r\n";
            line_len = 0;
        }
        out += c;
        ++line_len;
    }
    if (!out.ends_with("\r\n")) {
        out += "\r\n";
    }
    return out;
}

/// One SMTP connection; closes its socket when destroyed.
class smtp_connection {
public:
    explicit smtp_connection(const smtp_config& config) : config_(config) {}
    ~smtp_connection() {
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }
    smtp_connection(const smtp_connection&) = delete;
    smtp_connection& operator=(const smtp_connection&) = delete;

    std::expected<void, smtp_error> connect() {
        addrinfo hints{};
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        addrinfo* list = nullptr;
        const std::string port = std::to_string(config_.port);
        // getaddrinfo has no timeout; it runs on the channel's worker, never
        // on a request thread. A relay named by IP literal avoids it entirely.
        if (const int rc = ::getaddrinfo(config_.host.c_str(), port.c_str(), &hints, &list);
            rc != 0) {
            return fail(smtp_errc::resolve, fmt::format("{}: {}", config_.host, gai_strerror(rc)));
        }
        std::string last = "no address";
        for (addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
            auto r = connect_one(ai);
            if (r) {
                loopback_ = is_loopback(ai->ai_addr);
                ::freeaddrinfo(list);
                return {};
            }
            last = r.error().detail;
            if (r.error().code == smtp_errc::timeout) {
                ::freeaddrinfo(list);
                return r;
            }
        }
        ::freeaddrinfo(list);
        return fail(smtp_errc::connect, fmt::format("{}:{}: {}", config_.host, config_.port, last));
    }

    [[nodiscard]] bool loopback() const { return loopback_; }

    /// Sends `text` (which must end in CRLF) within the reply timeout.
    std::expected<void, smtp_error> send(std::string_view text) {
        const auto deadline = steady::now() + config_.reply_timeout;
        while (!text.empty()) {
            auto ready = wait(POLLOUT, deadline);
            if (!ready) {
                return std::unexpected(ready.error());
            }
            const ssize_t n = ::send(fd_, text.data(), text.size(), MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                    continue;
                }
                return fail(smtp_errc::io, fmt::format("send: {}", std::strerror(errno)));
            }
            text.remove_prefix(static_cast<std::size_t>(n));
        }
        return {};
    }

    struct reply {
        int code = 0;
        std::vector<std::string> lines; ///< text after "ddd-" / "ddd "
    };

    /// One reply, multi-line ones included (RFC 5321 §4.2.1).
    std::expected<reply, smtp_error> read_reply() {
        const auto deadline = steady::now() + config_.reply_timeout;
        reply r;
        for (;;) {
            auto line = read_line(deadline);
            if (!line) {
                return std::unexpected(line.error());
            }
            const std::string& l = *line;
            if (l.size() < 3 || !std::isdigit(static_cast<unsigned char>(l[0])) ||
                !std::isdigit(static_cast<unsigned char>(l[1])) ||
                !std::isdigit(static_cast<unsigned char>(l[2])) ||
                (l.size() > 3 && l[3] != ' ' && l[3] != '-')) {
                return fail(smtp_errc::protocol, "reply is not SMTP");
            }
            const int code = (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0');
            if (r.code != 0 && code != r.code) {
                return fail(smtp_errc::protocol, "reply code changed within a multi-line reply");
            }
            r.code = code;
            r.lines.push_back(l.size() > 4 ? l.substr(4) : std::string());
            if (r.lines.size() > 100) {
                return fail(smtp_errc::protocol, "reply too long");
            }
            if (l.size() == 3 || l[3] == ' ') {
                return r;
            }
        }
    }

    /// Sends a command (without CRLF) and reads the reply; a code outside
    /// [expect_min, expect_max] is a `rejected` error naming `what`.
    std::expected<reply, smtp_error> command(std::string_view line, std::string_view what,
                                             int expect_min, int expect_max) {
        auto s = send(std::string(line) + "\r\n");
        if (!s) {
            return std::unexpected(s.error());
        }
        return expect(what, expect_min, expect_max);
    }

    std::expected<reply, smtp_error> expect(std::string_view what, int expect_min, int expect_max) {
        auto r = read_reply();
        if (!r) {
            return r;
        }
        if (r->code < expect_min || r->code > expect_max) {
            // The server's text can echo what we sent (an address); it holds
            // no secret, since AUTH's reply is checked without detail.
            return fail(smtp_errc::rejected,
                        fmt::format("{} refused: {} {}", what, r->code,
                                    r->lines.empty() ? std::string() : r->lines.front()),
                        r->code);
        }
        return r;
    }

private:
    static bool is_loopback(const sockaddr* sa) {
        if (sa->sa_family == AF_INET) {
            const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
            return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
        }
        if (sa->sa_family == AF_INET6) {
            const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
            return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
        }
        return false;
    }

    std::expected<void, smtp_error> connect_one(const addrinfo* ai) {
        const int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                                ai->ai_protocol);
        if (fd < 0) {
            return fail(smtp_errc::connect, std::strerror(errno));
        }
        if (fd_ >= 0) {
            ::close(fd_);
        }
        fd_ = fd;
        if (::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            if (errno != EINPROGRESS) {
                return fail(smtp_errc::connect, std::strerror(errno));
            }
            auto w = wait(POLLOUT, steady::now() + config_.connect_timeout);
            if (!w) {
                return w;
            }
            int err = 0;
            socklen_t len = sizeof err;
            if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
                return fail(smtp_errc::connect, std::strerror(err != 0 ? err : errno));
            }
        }
        return {};
    }

    std::expected<void, smtp_error> wait(short events, steady::time_point deadline) {
        for (;;) {
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
            if (left.count() <= 0) {
                return fail(smtp_errc::timeout, "no answer in time");
            }
            pollfd p{fd_, events, 0};
            const int rc =
                ::poll(&p, 1, static_cast<int>(std::min<std::int64_t>(left.count(), 60'000)));
            if (rc < 0) {
                if (errno == EINTR) {
                    continue;
                }
                return fail(smtp_errc::io, fmt::format("poll: {}", std::strerror(errno)));
            }
            if (rc > 0) {
                return {};
            }
        }
    }

    std::expected<std::string, smtp_error> read_line(steady::time_point deadline) {
        for (;;) {
            if (const auto eol = buffer_.find("\r\n"); eol != std::string::npos) {
                std::string line = buffer_.substr(0, eol);
                buffer_.erase(0, eol + 2);
                return line;
            }
            // RFC 5321 §4.5.3.1.5: reply lines are at most 512 octets.
            if (buffer_.size() > 2048) {
                return fail(smtp_errc::protocol, "reply line too long");
            }
            auto ready = wait(POLLIN, deadline);
            if (!ready) {
                return std::unexpected(ready.error());
            }
            char chunk[1024];
            const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
            if (n == 0) {
                return fail(smtp_errc::io, "server closed the connection");
            }
            if (n < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                    continue;
                }
                return fail(smtp_errc::io, fmt::format("recv: {}", std::strerror(errno)));
            }
            buffer_.append(chunk, static_cast<std::size_t>(n));
        }
    }

    const smtp_config& config_;
    int fd_ = -1;
    bool loopback_ = false;
    std::string buffer_;
};

/// The EHLO keywords (upper case), e.g. "AUTH PLAIN LOGIN", "8BITMIME".
bool offers(const std::vector<std::string>& ehlo_lines, std::string_view keyword,
            std::string_view param = {}) {
    // The first line is the server's greeting, not an extension.
    for (std::size_t i = 1; i < ehlo_lines.size(); ++i) {
        std::string upper = ehlo_lines[i];
        for (auto& c : upper) {
            c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        }
        if (upper == keyword || upper.starts_with(std::string(keyword) + " ")) {
            if (param.empty()) {
                return true;
            }
            const std::string padded = " " + upper + " ";
            if (padded.find(" " + std::string(param) + " ") != std::string::npos) {
                return true;
            }
        }
    }
    return false;
}

} // namespace

std::expected<std::string, smtp_error> render_mail(const mail_message& m) {
    if (unsafe_header_text(m.from) || !alerts_detail::valid_mail_address(m.from)) {
        return fail(smtp_errc::invalid_message, "From is not a plain address");
    }
    if (m.to.empty()) {
        return fail(smtp_errc::invalid_message, "no recipient");
    }
    for (const auto& t : m.to) {
        if (unsafe_header_text(t) || !alerts_detail::valid_mail_address(t)) {
            return fail(smtp_errc::invalid_message, "a recipient is not a plain address");
        }
    }
    if (unsafe_header_text(m.subject)) {
        return fail(smtp_errc::invalid_message, "control character (CR, LF, NUL…) in Subject");
    }
    std::string message_id = m.message_id;
    if (message_id.empty()) {
        auto rnd = crypto::random_bytes(16);
        if (!rnd) {
            return fail(smtp_errc::invalid_message, "no random bytes for a Message-ID");
        }
        message_id = to_hex(*rnd) + m.from.substr(m.from.rfind('@'));
    } else if (unsafe_header_text(message_id) || !alerts_detail::valid_mail_address(message_id)) {
        return fail(smtp_errc::invalid_message, "Message-ID is not id@domain");
    }

    std::string to_line;
    for (const auto& t : m.to) {
        to_line += (to_line.empty() ? "" : ", ") + t;
    }
    const bool plain_subject = is_ascii(m.subject) && m.subject.size() <= 900;
    const std::string body = normalise_body(m.body);
    std::string out;
    out += "Date: " + rfc5322_date(m.date) + "\r\n";
    out += "From: " + m.from + "\r\n";
    out += "To: " + to_line + "\r\n";
    out += "Subject: " + (plain_subject ? m.subject : encode_subject(m.subject)) + "\r\n";
    out += "Message-ID: <" + message_id + ">\r\n";
    out += "MIME-Version: 1.0\r\n";
    out += "Content-Type: text/plain; charset=utf-8\r\n";
    out += std::string("Content-Transfer-Encoding: ") + (is_ascii(body) ? "7bit" : "8bit") + "\r\n";
    out += "\r\n";
    out += body;
    return out;
}

std::string dot_stuff(std::string_view crlf_text) {
    std::string out;
    out.reserve(crlf_text.size() + 16);
    bool line_start = true;
    for (std::size_t i = 0; i < crlf_text.size(); ++i) {
        const char c = crlf_text[i];
        if (line_start && c == '.') {
            out += '.';
        }
        out += c;
        line_start = c == '\n' && i > 0 && crlf_text[i - 1] == '\r';
    }
    return out;
}

std::expected<void, smtp_error> send_mail(const smtp_config& config, const mail_message& m) {
    // Everything that can be refused is refused before a connection exists.
    auto text = render_mail(m);
    if (!text) {
        return std::unexpected(text.error());
    }
    if (config.host.empty()) {
        return fail(smtp_errc::bad_config, "no SMTP host");
    }
    if (unsafe_header_text(config.helo_domain) || config.helo_domain.empty()) {
        return fail(smtp_errc::bad_config, "bad HELO domain");
    }

    smtp_connection c(config);
    if (auto r = c.connect(); !r) {
        return r;
    }
    if (auto r = c.expect("greeting", 220, 220); !r) {
        return std::unexpected(r.error());
    }
    auto ehlo = c.command("EHLO " + config.helo_domain, "EHLO", 250, 250);
    std::vector<std::string> extensions;
    if (ehlo) {
        extensions = ehlo->lines;
    } else if (ehlo.error().code == smtp_errc::rejected && ehlo.error().reply_code >= 500) {
        // A server without ESMTP: plain HELO, no extensions.
        if (auto r = c.command("HELO " + config.helo_domain, "HELO", 250, 250); !r) {
            return std::unexpected(r.error());
        }
    } else {
        return std::unexpected(ehlo.error());
    }

    if (config.auth) {
        if (!c.loopback() && !config.allow_plain_auth) {
            (void)c.command("QUIT", "QUIT", 221, 221);
            return fail(smtp_errc::bad_config,
                        "AUTH over plain TCP to a non-loopback server is not allowed (no STARTTLS "
                        "yet); set allow_plain_auth only on a trusted network");
        }
        if (!offers(extensions, "AUTH", "PLAIN")) {
            (void)c.command("QUIT", "QUIT", 221, 221);
            return fail(smtp_errc::bad_config, "server offers no AUTH PLAIN");
        }
        std::string token;
        token.push_back('\0');
        token += config.auth->username;
        token.push_back('\0');
        token += config.auth->password;
        std::string line = "AUTH PLAIN " + to_base64(as_bytes(token));
        std::fill(token.begin(), token.end(), '\0');
        auto r = c.command(line, "AUTH", 235, 235);
        std::fill(line.begin(), line.end(), '\0');
        if (!r) {
            return std::unexpected(r.error());
        }
    }

    const bool eight_bit = !is_ascii(*text) && offers(extensions, "8BITMIME");
    if (auto r = c.command("MAIL FROM:<" + m.from + ">" + (eight_bit ? " BODY=8BITMIME" : ""),
                           "MAIL FROM", 250, 250);
        !r) {
        return std::unexpected(r.error());
    }
    for (const auto& t : m.to) {
        if (auto r = c.command("RCPT TO:<" + t + ">", "RCPT TO", 250, 251); !r) {
            return std::unexpected(r.error());
        }
    }
    if (auto r = c.command("DATA", "DATA", 354, 354); !r) {
        return std::unexpected(r.error());
    }
    if (auto r = c.send(dot_stuff(*text) + ".\r\n"); !r) {
        return r;
    }
    if (auto r = c.expect("message", 250, 250); !r) {
        return std::unexpected(r.error());
    }
    // The mail is accepted; a QUIT that goes wrong changes nothing.
    (void)c.command("QUIT", "QUIT", 221, 221);
    return {};
}

} // namespace esimguard::defense
