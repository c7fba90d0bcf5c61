// TOML (toml++) and flags (CLI11) → smdpp_config. Every key the file may hold
// is listed here once; anything else is refused, so that a misspelt limit
// never leaves the server running with a default the operator did not want.

#include "config.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>

#include "esimguard/core/bytes.hpp"

#include <charconv>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <tuple>

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
                                                   "housekeeping", "notifier", "log",   "portal"};
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
    smdp.strings("crl_urls", c.crl_urls);
    smdp.duration("crl_refresh_seconds", c.crl_refresh_interval, 60, 7 * 24 * 3600);
    smdp.duration("list_reload_seconds", c.list_reload_interval, 1, 3600);
    smdp.check_unknown();

    auto store = section("store");
    store.path("path", c.database);
    store.integer("connections", c.database_connections, 1, 256);
    store.duration("busy_timeout_ms", c.database_busy_timeout, 0, max_ms);
    store.string("backend", c.store_backend);
    store.string("url", c.database_url);
    store.string("schema", c.database_schema);
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

// ---- the defence sections (issue 4) ------------------------------------------

// Read apart from read_tables so that each has one place; they may hold
// nested tables ([alerts.webhook]) and arrays of tables ([[defense.rules]],
// [[euicc_policy]]).
constexpr const char* defense_sections[] = {"defense", "alerts", "audit", "euicc_policy"};

// A copy of `t` without `keys`, for a section_reader that must not see the
// nested tables read elsewhere.
toml::table without(const toml::table* t, std::initializer_list<const char*> keys) {
    toml::table out = t != nullptr ? *t : toml::table{};
    for (const char* k : keys) {
        out.erase(k);
    }
    return out;
}

std::optional<asn1::version_type> parse_version(std::string_view text) {
    asn1::version_type v{};
    std::size_t part = 0;
    std::size_t pos = 0;
    while (part < 3) {
        const auto dot = text.find('.', pos);
        const auto piece = text.substr(pos, dot == std::string_view::npos ? text.npos : dot - pos);
        unsigned n = 0;
        auto [p, ec] = std::from_chars(piece.data(), piece.data() + piece.size(), n);
        if (piece.empty() || ec != std::errc{} || p != piece.data() + piece.size() || n > 255) {
            return std::nullopt;
        }
        v[part++] = static_cast<std::uint8_t>(n);
        if (dot == std::string_view::npos) {
            break;
        }
        pos = dot + 1;
    }
    if (part != 3 || text.find('.', pos) != std::string_view::npos) {
        return std::nullopt;
    }
    return v;
}

std::expected<defense::risk_rule, std::string> read_rule(const toml::table& t,
                                                         const std::string& where) {
    defense::risk_rule r;
    std::string kind, dimension, distinct, match = "count", severity = "warning";
    std::vector<std::string> actions = {"alert"};
    std::int64_t window = 600, block_ttl = 3600;
    section_reader s(&t, where);
    s.string("name", r.name);
    s.string("kind", kind);
    s.string("dimension", dimension);
    s.string("distinct", distinct);
    s.string("match", match);
    s.integer("threshold", r.threshold, 1, 1'000'000'000);
    s.integer("window_s", window, 1, max_s);
    s.strings("actions", actions);
    s.boolean("refuse", r.refuse);
    s.string("severity", severity);
    s.integer("block_ttl_s", block_ttl, 1, max_s);
    s.check_unknown();
    if (!s.ok()) {
        return std::unexpected(s.error());
    }
    auto bad = [&](std::string_view key, std::string_view value) {
        return std::unexpected(fmt::format("[{}] {}: unknown value '{}'", where, key, value));
    };
    auto k = defense::parse_risk_event_kind(kind);
    if (!k) {
        return bad("kind", kind);
    }
    r.kind = *k;
    auto d = defense::parse_risk_dimension(dimension);
    if (!d) {
        return bad("dimension", dimension);
    }
    r.dimension = *d;
    if (!distinct.empty()) {
        auto dd = defense::parse_risk_dimension(distinct);
        if (!dd) {
            return bad("distinct", distinct);
        }
        r.distinct = *dd;
    }
    if (match == "stolen_eid") {
        r.match = defense::risk_match::stolen_eid;
    } else if (match != "count") {
        return bad("match", match);
    }
    auto sev = defense::parse_risk_severity(severity);
    if (!sev) {
        return bad("severity", severity);
    }
    r.severity = *sev;
    r.actions.clear();
    for (const auto& a : actions) {
        auto ak = defense::parse_risk_action_kind(a);
        if (!ak) {
            return bad("actions", a);
        }
        r.actions.push_back(*ak);
    }
    r.window = std::chrono::seconds(window);
    r.block_ttl = std::chrono::seconds(block_ttl);
    return r;
}

std::expected<smdp::euicc_policy_entry, std::string> read_policy(const toml::table& t,
                                                                 const std::string& where) {
    smdp::euicc_policy_entry e;
    std::string eum, fw, svn, pv;
    section_reader s(&t, where);
    s.string("name", e.name);
    s.string("reason", e.reason);
    s.string("eum_key_id", eum);
    s.optional_string("eid_prefix", e.eid_prefix);
    s.optional_string("eid_from", e.eid_from);
    s.optional_string("eid_to", e.eid_to);
    s.string("firmware_below", fw);
    s.string("svn_below", svn);
    s.string("profile_version_below", pv);
    s.check_unknown();
    if (!s.ok()) {
        return std::unexpected(s.error());
    }
    if (!eum.empty()) {
        e.eum_key_id = from_hex(eum);
        if (!e.eum_key_id) {
            return std::unexpected(fmt::format("[{}] eum_key_id must be hex", where));
        }
    }
    for (auto [text, out, key] :
         {std::tuple{&fw, &e.firmware_below, "firmware_below"},
          std::tuple{&svn, &e.svn_below, "svn_below"},
          std::tuple{&pv, &e.profile_version_below, "profile_version_below"}}) {
        if (text->empty()) {
            continue;
        }
        *out = parse_version(*text);
        if (!*out) {
            return std::unexpected(
                fmt::format("[{}] {} must be a version like \"1.2.0\"", where, key));
        }
    }
    return e;
}

std::expected<void, std::string> read_defense_tables(const toml::table& root, smdpp_config& c) {
    const toml::table* def = root["defense"].as_table();
    if (root.contains("defense") && def == nullptr) {
        return std::unexpected("[defense] must be a table");
    }
    const toml::table def_rest = without(def, {"rules"});
    section_reader d(&def_rest, "defense");
    d.integer("max_keys_per_dimension", c.risk_max_keys_per_dimension, 16, 100'000'000);
    d.integer("ipv6_prefix_length", c.risk_ipv6_prefix_length, 1, 128);
    d.boolean("fail_closed", c.risk_fail_closed);
    d.boolean("require_confirmation_code", c.require_confirmation_code);
    d.path("one_time_code_key_file", c.one_time_code_key_file);
    d.integer("step_up_code_digits", c.step_up_code_digits, 6, 12);
    d.duration("step_up_code_lifetime_seconds", c.step_up_code_lifetime, 30, 3600);
    d.integer("step_up_code_max_attempts", c.step_up_code_max_attempts, 1, 10);
    d.check_unknown();
    if (!d.ok()) {
        return std::unexpected(d.error());
    }
    if (def != nullptr && def->contains("rules")) {
        const toml::array* rules = (*def)["rules"].as_array();
        if (rules == nullptr) {
            return std::unexpected(
                "[defense] rules must be an array of tables ([[defense.rules]])");
        }
        std::vector<defense::risk_rule> out;
        for (std::size_t i = 0; i < rules->size(); ++i) {
            const toml::table* t = (*rules)[i].as_table();
            const std::string where = fmt::format("defense.rules[{}]", i);
            if (t == nullptr) {
                return std::unexpected(fmt::format("[{}] must be a table", where));
            }
            auto r = read_rule(*t, where);
            if (!r) {
                return std::unexpected(r.error());
            }
            out.push_back(std::move(*r));
        }
        if (auto v = defense::validate_risk_rules(out); !v) {
            return std::unexpected(fmt::format("[defense] {}", v.error().message));
        }
        c.risk_rules = std::move(out);
    }

    const toml::table* alerts = root["alerts"].as_table();
    const toml::table alerts_rest = without(alerts, {"webhook", "smtp"});
    section_reader a(&alerts_rest, "alerts");
    a.integer("queue_capacity", c.alert_queue_capacity, 1, 1'000'000);
    a.integer("max_attempts", c.alert_max_attempts, 1, 100);
    a.duration("initial_backoff_ms", c.alert_initial_backoff, 1, max_ms);
    a.check_unknown();
    const toml::table* webhook = alerts != nullptr ? (*alerts)["webhook"].as_table() : nullptr;
    section_reader w(webhook, "alerts.webhook");
    w.string("url", c.webhook_url);
    w.path("secret_file", c.webhook_secret_file);
    w.paths("trusted_ca_files", c.webhook_ca_files);
    w.boolean("allow_plain_http", c.webhook_allow_plain_http);
    w.check_unknown();
    const toml::table* smtp = alerts != nullptr ? (*alerts)["smtp"].as_table() : nullptr;
    section_reader m(smtp, "alerts.smtp");
    m.string("host", c.smtp_host);
    m.integer("port", c.smtp_port, 1, 65535);
    m.string("from", c.smtp_from);
    m.string("operator_to", c.smtp_operator_to);
    m.check_unknown();
    section_reader au(root["audit"].as_table(), "audit");
    au.path("head_file", c.audit_head_file);
    au.check_unknown();
    for (const auto* r : {&a, &w, &m, &au}) {
        if (!r->ok()) {
            return std::unexpected(r->error());
        }
    }
    if (!c.webhook_url.empty() && c.webhook_secret_file.empty()) {
        return std::unexpected("[alerts.webhook] a url needs a secret_file");
    }

    if (root.contains("euicc_policy")) {
        const toml::array* entries = root["euicc_policy"].as_array();
        if (entries == nullptr) {
            return std::unexpected("euicc_policy must be an array of tables ([[euicc_policy]])");
        }
        for (std::size_t i = 0; i < entries->size(); ++i) {
            const toml::table* t = (*entries)[i].as_table();
            const std::string where = fmt::format("euicc_policy[{}]", i);
            if (t == nullptr) {
                return std::unexpected(fmt::format("[{}] must be a table", where));
            }
            auto e = read_policy(*t, where);
            if (!e) {
                return std::unexpected(e.error());
            }
            c.euicc_policy.push_back(std::move(*e));
        }
        if (auto v = smdp::validate_euicc_policy(c.euicc_policy); !v) {
            return std::unexpected(v.error());
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
    app.add_option("--store-backend", o.store_backend, "sqlite (--db) or postgres (--store-url)");
    app.add_option("--store-url", o.database_url, "PostgreSQL URI when the backend is postgres");
    app.add_option("--workers", o.worker_threads, "worker threads (0: 16 per core, 8 to 128)");
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
        const toml::table parsed = toml::parse_file(file.string());
        toml::table root = parsed;
        for (const char* k : defense_sections) {
            root.erase(k);
        }
        if (auto r = read_tables(root, c); !r) {
            return std::unexpected(fmt::format("{}: {}", file.string(), r.error()));
        }
        if (auto r = read_defense_tables(parsed, c); !r) {
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
    if (o.store_backend)
        c.store_backend = *o.store_backend;
    if (o.database_url)
        c.database_url = *o.database_url;
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
    if (c.store_backend != "sqlite" && c.store_backend != "postgres") {
        return std::unexpected(
            fmt::format("[store] backend '{}': use sqlite or postgres", c.store_backend));
    }
    if (c.store_backend == "postgres" && c.database_url.empty()) {
        return std::unexpected("[store] backend postgres needs url (or --store-url)");
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
