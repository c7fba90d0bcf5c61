#pragma once
// The configuration of the esimguard-smdpp program: one TOML file
// (config/esimguard-smdpp.example.toml documents every key), with command-line
// flags overriding it. Only this program parses files; the libraries get the
// plain structs built from this one.

#include "esimguard/defense/risk_rules.hpp"
#include "esimguard/smdp/defenses.hpp"

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace esimguard::smdpp {

/// Everything the server program is configured with. Defaults are the values
/// an operator gets with an empty file. Relative paths are taken from the
/// working directory.
struct smdpp_config {
    // [server]
    std::string listen_address = "127.0.0.1";
    /// 0 lets the kernel pick a port (see port_file).
    std::uint16_t port = 8443;
    /// When set, the bound port is written here once the server listens.
    std::filesystem::path port_file;
    /// PEM chain served by TLS; empty means <pki_dir>/nist/dptls-chain.pem.
    std::filesystem::path tls_certificate_chain;
    /// PEM key of the chain's leaf; empty means <pki_dir>/nist/dptls.key.pem.
    std::filesystem::path tls_private_key;
    unsigned worker_threads = 0;
    std::size_t max_body_bytes = 1024 * 1024;
    std::size_t max_header_bytes = 16 * 1024;
    std::size_t max_connections = 1024;
    std::chrono::milliseconds handshake_timeout{10'000};
    std::chrono::milliseconds header_timeout{10'000};
    std::chrono::milliseconds request_timeout{30'000};
    std::chrono::milliseconds write_timeout{30'000};
    std::chrono::milliseconds idle_timeout{60'000};

    // [smdp]
    /// SM-DP+ addresses served; empty means "localhost:<bound port>".
    std::vector<std::string> addresses;
    std::filesystem::path pki_dir = "var/pki";
    std::optional<std::string> smdp_oid;
    std::chrono::seconds session_ttl{600};
    std::chrono::seconds order_ttl{30 * 24 * 3600};
    int download_attempt_limit = 3;
    int cc_retry_limit = 3;
    /// CRL distribution points fetched every crl_refresh_interval; each CRL
    /// must be signed by a CA of pki_dir (pki::add_crl).
    std::vector<std::string> crl_urls;
    std::chrono::seconds crl_refresh_interval{3600};
    /// How often the blocklist and stolen list are reloaded from the store,
    /// so that CLI changes made on the database (and other nodes' changes on
    /// PostgreSQL, every 2 s there) reach this server.
    std::chrono::seconds list_reload_interval{30};

    // [store]
    std::filesystem::path database = "var/esimguard.db";
    std::size_t database_connections = 4;
    std::chrono::milliseconds database_busy_timeout{5'000};
    /// [store] backend: "sqlite" (the file `database`, one node) or "postgres"
    /// (`database_url`, shared by several nodes; issue 6).
    std::string store_backend = "sqlite";
    /// [store] url: the PostgreSQL database (libpq URI) when backend is postgres.
    std::string database_url;
    /// [store] schema: a PostgreSQL schema to keep the tables in; empty: the default.
    std::string database_schema;

    // [admin]
    /// File holding the admin API bearer token; empty disables the admin API.
    std::filesystem::path admin_token_file;

    // [defense] (issue 4): the risk engine, two factors, eUICC policy
    /// The risk rules; nullopt (no [[defense.rules]] in the file) means
    /// defense::default_risk_rules(). An empty list turns the rules off.
    std::optional<std::vector<defense::risk_rule>> risk_rules;
    /// Tracked keys per dimension (source_ip, eid, ...) at most; the least
    /// recently seen go first, so an address spray cannot grow memory.
    std::size_t risk_max_keys_per_dimension = 100'000;
    /// IPv6 sources are counted and blocked by network of this length.
    unsigned risk_ipv6_prefix_length = 64;
    /// When the counter backend fails: refuse (true) or let the request go on.
    bool risk_fail_closed = false;
    /// ES2+ confirmOrder without a confirmation code is refused unless the
    /// order opts out (esimguardConfirmationCodeOptional).
    bool require_confirmation_code = true;
    /// Server key of step-up one-time codes (at least 32 bytes); created with
    /// 32 random bytes (mode 0600) when missing. Empty: <database>.otc-key.
    std::filesystem::path one_time_code_key_file;
    int step_up_code_digits = 8;
    std::chrono::seconds step_up_code_lifetime{600};
    int step_up_code_max_attempts = 5;
    /// [[euicc_policy]]: cards refused at authenticateClient.
    std::vector<smdp::euicc_policy_entry> euicc_policy;

    // [alerts] (issue 4): every alert also goes to the inbox in the database.
    /// [alerts] queue_capacity: alerts waiting per channel.
    std::size_t alert_queue_capacity = 1024;
    /// [alerts] max_attempts and initial_backoff_ms of each delivery.
    unsigned alert_max_attempts = 6;
    std::chrono::milliseconds alert_initial_backoff{1'000};
    /// [alerts.webhook]: empty url means no webhook.
    std::string webhook_url;
    /// File holding the HMAC secret (one line); required with a url.
    std::filesystem::path webhook_secret_file;
    std::vector<std::filesystem::path> webhook_ca_files;
    bool webhook_allow_plain_http = false;
    /// [alerts.smtp]: empty host means no mail (step-up codes then cannot be
    /// sent: approval by TOTP or admin only).
    std::string smtp_host;
    std::uint16_t smtp_port = 25;
    std::string smtp_from = "esimguard@localhost";
    /// Where operator alerts go (the security team).
    std::string smtp_operator_to;

    // [audit]
    /// The audit chain's head file outside the database. Empty:
    /// <database>.audit-head.
    std::filesystem::path audit_head_file;

    // [housekeeping]
    std::chrono::seconds housekeeping_interval{60};

    // [notifier]
    std::chrono::milliseconds notifier_poll_interval{1'000};
    /// CAs trusted for operators' handleDownloadProgressInfo URLs; empty
    /// means the system trust store.
    std::vector<std::filesystem::path> operator_ca_files;

    // [portal]
    /// The portal's static files (web/); empty means the source tree's web/.
    std::filesystem::path portal_web_root;

    // [log]
    /// trace, debug, info, warn, error, critical or off.
    std::string log_level = "info";
    /// Empty means standard error.
    std::filesystem::path log_file;
};

/// Flags that override the file; each is set only when given.
struct config_overrides {
    std::string config_file;
    std::optional<std::string> listen_address;
    std::optional<std::uint16_t> port;
    std::optional<std::string> port_file;
    std::optional<std::string> tls_certificate_chain;
    std::optional<std::string> tls_private_key;
    std::optional<std::string> pki_dir;
    std::vector<std::string> addresses;
    std::optional<std::string> database;
    std::optional<std::string> store_backend;
    std::optional<std::string> database_url;
    std::optional<unsigned> worker_threads;
    std::optional<std::size_t> max_body_bytes;
    std::optional<std::size_t> max_connections;
    std::optional<std::int64_t> session_ttl_seconds;
    std::optional<std::int64_t> order_ttl_seconds;
    std::optional<int> download_attempt_limit;
    std::optional<int> cc_retry_limit;
    std::optional<std::string> admin_token_file;
    std::optional<std::int64_t> housekeeping_interval_seconds;
    std::optional<std::string> log_level;
    std::optional<std::string> log_file;
};

/// Declares --config and every overriding flag on `app`, bound to `out`.
void add_config_flags(CLI::App& app, config_overrides& out);

/// Reads a TOML file over the defaults. Unknown keys, wrong types and values
/// out of range are errors naming the key, so that a typo never passes silently.
[[nodiscard]] std::expected<smdpp_config, std::string>
load_config_file(const std::filesystem::path& file);

/// Applies the flags that were given, fills defaults that depend on other
/// keys (TLS files from the PKI directory) and checks the result.
[[nodiscard]] std::expected<void, std::string> apply_overrides(const config_overrides& o,
                                                               smdpp_config& config);

} // namespace esimguard::smdpp
