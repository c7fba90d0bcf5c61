#pragma once
// The configuration of the esimguard-smdpp program: one TOML file
// (config/esimguard-smdpp.example.toml documents every key), with command-line
// flags overriding it. Only this program parses files; the libraries get the
// plain structs built from this one.

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

    // [store]
    std::filesystem::path database = "var/esimguard.db";
    std::size_t database_connections = 4;
    std::chrono::milliseconds database_busy_timeout{5'000};

    // [admin]
    /// File holding the admin API bearer token; empty disables the admin API.
    std::filesystem::path admin_token_file;

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
