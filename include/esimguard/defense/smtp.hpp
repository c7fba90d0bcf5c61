#pragma once
/// Alert mail: a small RFC 5321 SMTP client, RFC 5322 message rendering and
/// the mail alert channels (one to the subscriber, one to the operator).
///
/// The client speaks EHLO (HELO when EHLO is refused), optional AUTH PLAIN,
/// MAIL FROM, RCPT TO, DATA with dot-stuffing and QUIT, with a deadline on
/// connecting and on every reply. STARTTLS is not implemented yet: the
/// session is plain TCP, meant for a relay on the same host or network
/// (a local MTA that relays onward over TLS). For that reason AUTH is refused
/// unless the server is on loopback or allow_plain_auth is set.
///
/// Header injection is impossible by construction: a CR, LF or NUL in any
/// header field or address (from, to, subject, message ID) refuses the whole
/// message before a connection is opened.

#include "esimguard/defense/alerts.hpp"

#include <chrono>
#include <cstdint>
#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace esimguard::defense {

/// AUTH PLAIN credentials. The password is never logged.
struct smtp_credentials {
    std::string username;
    std::string password;
};

/// The mail server and the session's limits.
struct smtp_config {
    /// Host name or IP literal of the relay.
    std::string host = "127.0.0.1";
    std::uint16_t port = 25;
    /// The domain announced in EHLO/HELO.
    std::string helo_domain = "localhost";
    /// TCP connect (per resolved address).
    std::chrono::milliseconds connect_timeout{10'000};
    /// Waiting for any one reply (RFC 5321 §4.5.3.2 suggests minutes; alert
    /// mail would rather fail and retry).
    std::chrono::milliseconds reply_timeout{30'000};
    /// Optional AUTH PLAIN.
    std::optional<smtp_credentials> auth = std::nullopt;
    /// Allows AUTH over plain TCP to a non-loopback server (the password then
    /// crosses the network in clear: only on a trusted network).
    bool allow_plain_auth = false;
};

/// One text mail.
struct mail_message {
    /// Bare addresses (local@domain), no display names.
    std::string from;
    std::vector<std::string> to;
    /// UTF-8; non-ASCII text is sent RFC 2047-encoded.
    std::string subject;
    /// UTF-8 text; any line ending is sent as CRLF.
    std::string body;
    std::chrono::system_clock::time_point date = {};
    /// Without angle brackets; generated (random@helo-domain-like) when empty.
    std::string message_id = {};
};

/// Why a mail was not sent.
enum class smtp_errc : std::uint8_t {
    invalid_message, ///< CR/LF/NUL in a header field, a bad address, no recipient
    bad_config,      ///< AUTH refused over plain TCP, empty host
    resolve,         ///< the host did not resolve
    connect,         ///< refused or unreachable
    timeout,         ///< connect or a reply took too long
    io,              ///< the connection broke
    protocol,        ///< the server's reply is not SMTP
    rejected,        ///< the server answered 4xx/5xx (see reply_code)
};

[[nodiscard]] std::string_view to_string(smtp_errc e);

/// A failure, with the server's reply code when it rejected something.
struct smtp_error {
    smtp_errc code;
    int reply_code = 0;
    std::string detail = {};

    /// Whether trying again later may work: network trouble, timeouts and 4xx
    /// replies yes; refused input, configuration and 5xx replies no.
    [[nodiscard]] bool retryable() const;
};

/// The RFC 5322 text of `m` (headers Date, From, To, Subject, Message-ID,
/// MIME-Version, Content-Type, Content-Transfer-Encoding; CRLF line ends; body
/// lines longer than 998 octets split), not yet dot-stuffed. Refuses
/// (invalid_message) CR, LF or NUL in any header field or address, and
/// addresses that are not local@domain.
[[nodiscard]] std::expected<std::string, smtp_error> render_mail(const mail_message& m);

/// RFC 5321 §4.5.2 transparency: a "." is prepended to every line that starts
/// with one. `crlf_text` has CRLF line ends.
[[nodiscard]] std::string dot_stuff(std::string_view crlf_text);

/// Sends `m` in one SMTP session (blocking, bounded by the config's timeouts).
/// Every recipient must be accepted, or nothing is sent.
[[nodiscard]] std::expected<void, smtp_error> send_mail(const smtp_config& config,
                                                        const mail_message& m);

/// Whom a mail channel writes to.
enum class mail_audience : std::uint8_t {
    subscriber,     ///< the alert's subscriber address: skipped when it has none
    operator_staff, ///< the alert's operator address, else the configured fallback
};

/// One mail alert channel.
struct mail_channel_config {
    smtp_config smtp = {};
    /// The From address.
    std::string from = "esimguard@localhost";
    mail_audience audience = mail_audience::operator_staff;
    /// For operator_staff: where alerts without an operator address go (the
    /// security team). Empty: such alerts are skipped.
    std::string fallback_operator_address = {};
    /// Names the channel; default "mail_subscriber" or "mail_operator".
    std::string name = {};
};

/// The mail for `a` as `audience` reads it: the EID masked, subject
/// "[esimguard] <severity>: <rule>" for operators and "[esimguard] Security
/// alert on your mobile line" for subscribers. Errors as render_mail's.
[[nodiscard]] std::expected<mail_message, smtp_error>
alert_mail(const alert& a, mail_audience audience, std::string from, std::string to);

/// A mail channel. Errors (as text): a bad From or fallback address, an
/// empty host.
[[nodiscard]] std::expected<std::unique_ptr<alert_channel>, std::string>
create_mail_channel(mail_channel_config config);

} // namespace esimguard::defense
