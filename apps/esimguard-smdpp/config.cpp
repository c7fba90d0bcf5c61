// TOML (toml++) and flags (CLI11) → smdpp_config. Every key the file may hold
// is listed here once; anything else is refused, so that a misspelt limit
// never leaves the server running with a default the operator did not want.

#include "config.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <functional>
#include <limits>
#include <map>
#include <set>

namespace esimguard::smdpp {

namespace {

using namespace std::chrono;

// Reads one section's keys with type and range checks, and remembers which
// keys it consumed so that the rest can be reported as unknown.
class section_reader {
public:
    section_reader(const toml::table* table, std::string name)
        : table_(table), name_(std::move(name)) {}

    [[nodiscard]] const std::string& error() const { return error_; }
    [[nodiscard]] bool ok() const { return error_.empty(); }

    void string(std::string_view key, std::string& out) {
        const toml::node* n = take(key);
        if (n == nullptr) {
            return;
        }
        if (auto v = n->value<std::string>()) {
            out = *v;
        } else {
            fail(key, "a string");
        }
    }
    void path(std::string_view key, std::filesystem::path& out) {
        std::string s = out.string();
        string(key, s);
        out = s;
    }
    void optional_string(std::string_view key, std::optional<std::string>& out) {
        std::string s = out.value_or("");
        string(key, s);
        out = s.empty() ? std::nullopt : std::optional<std::string>(s);
    }
    void boolean(std::string_view key, bool& out) {
        const toml::node* n = take(key);
        if (n == nullptr) {
            return;
        }
        if (auto v = n->value<bool>()) {
            out = *v;
        } else {
            fail(key, "true or false");
        }
    }
    template <typename T>
    void integer(std::string_view key, T& out, std::int64_t min, std::int64_t max) {
        const toml::node* n = take(key);
        if (n == nullptr) {
            return;
        }
        auto v = n->is_integer() ? n->value<std::int64_t>() : std::nullopt;
        if (!v || *v < min || *v > max) {
            fail(key, fmt::format("an integer from {} to {}", min, max));
            return;
        }
        out = static_cast<T>(*v);
    }
    template <typename Duration>
    void duration(std::string_view key, Duration& out, std::int64_t min, std::int64_t max) {
        std::int64_t v = out.count();
        integer(key, v, min, max);
        out = Duration(v);
    }
    void strings(std::string_view key, std::vector<std::string>& out) {
        const toml::node* n = take(key);
        if (n == nullptr) {
            return;
        }
        const toml::array* a = n->as_array();
        if (a == nullptr) {
            fail(key, "an array of strings");
            return;
        }
        std::vector<std::string> values;
        for (const auto& e : *a) {
            auto s = e.value<std::string>();
            if (!s) {
                fail(key, "an array of strings");
                return;
            }
            values.push_back(*s);
        }
        out = std::move(values);
    }
    void paths(std::string_view key, std::vector<std::filesystem::path>& out) {
        std::vector<std::string> s;
        strings(key, s);
        if (ok() && !s.empty()) {
            out.assign(s.begin(), s.end());
        }
    }

    // Keys present in the table but read by nobody.
    void check_unknown() {
        if (table_ == nullptr || !ok()) {
            return;
        }
        for (const auto& [k, v] : *table_) {
            if (!seen_.contains(std::string(k.str()))) {
                error_ = fmt::format("unknown key [{}] {}", name_, k.str());
                return;
            }
        }
    }

private:
    const toml::node* take(std::string_view key) {
        if (table_ == nullptr || !ok()) {
            return nullptr;
        }
        seen_.insert(std::string(key));
        return table_->get(key);
    }
    void fail(std::string_view key, std::string_view what) {
        if (ok()) {
            error_ = fmt::format("[{}] {} must be {}", name_, key, what);
        }
    }

    const toml::table* table_;
    std::string name_;
    std::set<std::string> seen_;
    std::string error_;
};

constexpr std::int64_t max_ms = 24LL * 3600 * 1000;
constexpr std::int64_t max_s = 10LL * 365 * 24 * 3600;

std::expected<void, std::string> read_tables(const toml::table& root, smdpp_config& c) {
    static const std::set<std::string> sections = {"server",       "smdp",     "store", "admin",
                                                   "housekeeping", "notifier", "log",
                                                   "portal"};
    for (const auto& [k, v] : root) {
        if (!sections.contains(std::string(k.str())) || !v.is_table()) {
            return std::unexpected(fmt::format("unknown key or section: {}", k.str()));
        }
    }
    auto section = [&](const char* name) { return section_reader(root[name].as_table(), name); };

    auto server = section("server");
    server.string("listen_address", c.listen_address);
    server.integer("port", c.port, 0, 65535);
    server.path("port_file", c.port_file);
    server.path("tls_certificate_chain", c.tls_certificate_chain);
    server.path("tls_private_key", c.tls_private_key);
    server.integer("worker_threads", c.worker_threads, 0, 1024);
    server.integer("max_body_bytes", c.max_body_bytes, 1024, 64LL * 1024 * 1024);
    server.integer("max_header_bytes", c.max_header_bytes, 1024, 1024 * 1024);
    server.integer("max_connections", c.max_connections, 1, 1'000'000);
    server.duration("handshake_timeout_ms", c.handshake_timeout, 1, max_ms);
    server.duration("header_timeout_ms", c.header_timeout, 1, max_ms);
    server.duration("request_timeout_ms", c.request_timeout, 1, max_ms);
    server.duration("write_timeout_ms", c.write_timeout, 1, max_ms);
    server.duration("idle_timeout_ms", c.idle_timeout, 1, max_ms);
    server.check_unknown();

    auto smdp = section("smdp");
    smdp.strings("addresses", c.addresses);
    smdp.path("pki_dir", c.pki_dir);
    smdp.optional_string("smdp_oid", c.smdp_oid);
    smdp.duration("session_ttl_seconds", c.session_ttl, 1, max_s);
    smdp.duration("order_ttl_seconds", c.order_ttl, 1, max_s);
    smdp.integer("download_attempt_limit", c.download_attempt_limit, 1, 1000);
    smdp.integer("cc_retry_limit", c.cc_retry_limit, 1, 1000);
    smdp.check_unknown();

    auto store = section("store");
    store.path("path", c.database);
    store.integer("connections", c.database_connections, 1, 256);
    store.duration("busy_timeout_ms", c.database_busy_timeout, 0, max_ms);
    store.check_unknown();

    auto admin = section("admin");
    admin.path("token_file", c.admin_token_file);
    admin.check_unknown();

    auto hk = section("housekeeping");
    hk.duration("interval_seconds", c.housekeeping_interval, 1, 24 * 3600);
    hk.check_unknown();

    auto notifier = section("notifier");
    notifier.duration("poll_interval_ms", c.notifier_poll_interval, 10, max_ms);
    notifier.paths("trusted_ca_files", c.operator_ca_files);
    notifier.check_unknown();

    auto portal = section("portal");
    portal.path("web_root", c.portal_web_root);
    portal.check_unknown();

    auto log = section("log");
    log.string("level", c.log_level);
    log.path("file", c.log_file);
    log.check_unknown();

    for (const auto* r : {&server, &smdp, &store, &admin, &hk, &notifier, &portal, &log}) {
        if (!r->ok()) {
            return std::unexpected(r->error());
        }
    }
    return {};
}

bool valid_log_level(std::string_view l) {
    static const std::set<std::string_view> levels = {"trace", "debug",    "info", "warn",
                                                      "error", "critical", "off"};
    return levels.contains(l);
}

} // namespace

void add_config_flags(CLI::App& app, config_overrides& o) {
    app.add_option("-c,--config", o.config_file, "TOML configuration file")
        ->check(CLI::ExistingFile);
    app.add_option("--listen", o.listen_address, "IP address to listen on");
    app.add_option("--port", o.port, "TCP port (0: any free port; see --port-file)");
    app.add_option("--port-file", o.port_file, "Write the bound port to this file");
    app.add_option("--tls-chain", o.tls_certificate_chain, "PEM chain served over TLS");
    app.add_option("--tls-key", o.tls_private_key, "PEM private key of the TLS chain's leaf");
    app.add_option("--pki", o.pki_dir, "PKI directory (DPauth/DPpb/DPtls per curve)");
    app.add_option("--address", o.addresses, "SM-DP+ address served (repeatable)");
    app.add_option("--db", o.database, "SQLite database file");
    app.add_option("--workers", o.worker_threads, "I/O worker threads (0: one per core)");
    app.add_option("--max-body", o.max_body_bytes, "Largest request body in bytes");
    app.add_option("--max-connections", o.max_connections, "Open connections at most");
    app.add_option("--session-ttl", o.session_ttl_seconds, "RSP session lifetime in seconds");
    app.add_option("--order-ttl", o.order_ttl_seconds, "Order time to live in seconds");
    app.add_option("--download-attempts", o.download_attempt_limit,
                   "Download attempts allowed per order");
    app.add_option("--cc-retries", o.cc_retry_limit, "Wrong confirmation codes allowed per order");
    app.add_option("--admin-token-file", o.admin_token_file,
                   "File holding the admin API bearer token");
    app.add_option("--housekeeping-interval", o.housekeeping_interval_seconds,
                   "Seconds between expiry sweeps");
    app.add_option("--log-level", o.log_level, "trace|debug|info|warn|error|critical|off");
    app.add_option("--log-file", o.log_file, "Write logs to this file instead of stderr");
}

std::expected<smdpp_config, std::string> load_config_file(const std::filesystem::path& file) {
    smdpp_config c;
    try {
        const toml::table root = toml::parse_file(file.string());
        if (auto r = read_tables(root, c); !r) {
            return std::unexpected(fmt::format("{}: {}", file.string(), r.error()));
        }
    } catch (const toml::parse_error& e) {
        return std::unexpected(fmt::format("{}:{}:{}: {}", file.string(), e.source().begin.line,
                                           e.source().begin.column, e.description()));
    }
    return c;
}

std::expected<void, std::string> apply_overrides(const config_overrides& o, smdpp_config& c) {
    if (o.listen_address)
        c.listen_address = *o.listen_address;
    if (o.port)
        c.port = *o.port;
    if (o.port_file)
        c.port_file = *o.port_file;
    if (o.tls_certificate_chain)
        c.tls_certificate_chain = *o.tls_certificate_chain;
    if (o.tls_private_key)
        c.tls_private_key = *o.tls_private_key;
    if (o.pki_dir)
        c.pki_dir = *o.pki_dir;
    if (!o.addresses.empty())
        c.addresses = o.addresses;
    if (o.database)
        c.database = *o.database;
    if (o.worker_threads)
        c.worker_threads = *o.worker_threads;
    if (o.max_body_bytes)
        c.max_body_bytes = *o.max_body_bytes;
    if (o.max_connections)
        c.max_connections = *o.max_connections;
    if (o.session_ttl_seconds)
        c.session_ttl = std::chrono::seconds(*o.session_ttl_seconds);
    if (o.order_ttl_seconds)
        c.order_ttl = std::chrono::seconds(*o.order_ttl_seconds);
    if (o.download_attempt_limit)
        c.download_attempt_limit = *o.download_attempt_limit;
    if (o.cc_retry_limit)
        c.cc_retry_limit = *o.cc_retry_limit;
    if (o.admin_token_file)
        c.admin_token_file = *o.admin_token_file;
    if (o.housekeeping_interval_seconds)
        c.housekeeping_interval = std::chrono::seconds(*o.housekeeping_interval_seconds);
    if (o.log_level)
        c.log_level = *o.log_level;
    if (o.log_file)
        c.log_file = *o.log_file;

    if (c.tls_certificate_chain.empty()) {
        c.tls_certificate_chain = c.pki_dir / "nist" / "dptls-chain.pem";
    }
    if (c.tls_private_key.empty()) {
        c.tls_private_key = c.pki_dir / "nist" / "dptls.key.pem";
    }
    if (!valid_log_level(c.log_level)) {
        return std::unexpected(fmt::format("unknown log level '{}'", c.log_level));
    }
    if (c.session_ttl.count() <= 0 || c.order_ttl.count() <= 0 ||
        c.housekeeping_interval.count() <= 0) {
        return std::unexpected("TTLs and the housekeeping interval must be positive");
    }
    if (c.download_attempt_limit < 1 || c.cc_retry_limit < 1) {
        return std::unexpected("download attempt and confirmation code limits must be at least 1");
    }
    if (c.max_body_bytes < 1024 || c.max_connections < 1) {
        return std::unexpected(
            "max_body_bytes must be at least 1024 and max_connections at least 1");
    }
    for (const auto& a : c.addresses) {
        if (a.empty() || a.find_first_of("/$ ") != std::string::npos) {
            return std::unexpected(fmt::format("SM-DP+ address '{}' is not a host[:port]", a));
        }
    }
    return {};
}

} // namespace esimguard::smdpp
