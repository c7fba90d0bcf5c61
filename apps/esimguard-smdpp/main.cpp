// esimguard-smdpp: the SM-DP+ server program. It reads the config, opens the
// store, loads the PKI, and wires the smdp service into the HTTPS server
// (ES9+, ES2+, admin API, /healthz, /metrics), with the housekeeping thread
// and the operator progress notifier beside it. SIGINT/SIGTERM stop it cleanly.

#include "admin_api.hpp"
#include "config.hpp"

#include "esimguard/core/allocator.hpp"
#include "esimguard/crypto/hash.hpp"
#include "esimguard/crypto/random.hpp"
#include "esimguard/defense/alerts.hpp"
#include "esimguard/defense/audit_chain.hpp"
#include "esimguard/defense/audit_writer.hpp"
#include "esimguard/defense/blocklist.hpp"
#include "esimguard/defense/crl_refresh.hpp"
#include "esimguard/defense/one_time_code.hpp"
#include "esimguard/defense/persist.hpp"
#include "esimguard/defense/risk_counters.hpp"
#include "esimguard/defense/risk_engine.hpp"
#include "esimguard/defense/shared_counters.hpp"
#include "esimguard/defense/smtp.hpp"
#include "esimguard/defense/webhook.hpp"
#include "esimguard/http/client.hpp"
#include "esimguard/http/metrics.hpp"
#include "esimguard/http/server.hpp"
#include "esimguard/pki/crl_store.hpp"
#include "esimguard/portal/mount.hpp"
#include "esimguard/smdp/config.hpp"
#include "esimguard/smdp/progress_notifier.hpp"
#include "esimguard/smdp/routes.hpp"
#include "esimguard/smdp/service.hpp"
#include "esimguard/store/audit.hpp"
#include "esimguard/store/backend.hpp"
#include "esimguard/store/defense_store.hpp"
#include "esimguard/store/sqlite_store.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <sys/stat.h>

#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <functional>
#include <mutex>
#include <pthread.h>
#include <sstream>
#include <thread>

namespace esimguard::smdpp {

namespace {

// Every module logger shares the program's sink and level: a module that asks
// spdlog::get("smdp") finds this one instead of making its own stderr logger.
constexpr const char* module_loggers[] = {"smdpp", "admin", "smdp",  "http",   "store",
                                          "lpa",   "apdu",  "euicc", "defense"};

std::expected<void, std::string> setup_logging(const smdpp_config& c) {
    spdlog::sink_ptr sink;
    try {
        if (c.log_file.empty()) {
            sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
        } else {
            sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(c.log_file.string());
        }
    } catch (const spdlog::spdlog_ex& e) {
        return std::unexpected(fmt::format("cannot open log file: {}", e.what()));
    }
    const auto level = spdlog::level::from_str(c.log_level);
    for (const char* name : module_loggers) {
        spdlog::drop(name);
        auto l = std::make_shared<spdlog::logger>(name, sink);
        l->set_level(level);
        l->flush_on(spdlog::level::info);
        spdlog::register_logger(l);
    }
    spdlog::set_default_logger(spdlog::get("smdpp"));
    spdlog::set_level(level);
    return {};
}

// The admin token file holds one line; only its SHA-256 is kept.
std::expected<bytes, std::string> read_admin_token(const std::filesystem::path& file) {
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0) {
        return std::unexpected(fmt::format("cannot read admin token file {}", file.string()));
    }
    if ((st.st_mode & 077) != 0) {
        spdlog::warn("admin token file {} is readable by others: chmod 600 it", file.string());
    }
    std::ifstream in(file);
    std::string token;
    std::getline(in, token);
    while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) {
        token.pop_back();
    }
    if (token.size() < 16) {
        return std::unexpected(fmt::format(
            "admin token in {} is missing or shorter than 16 characters", file.string()));
    }
    return crypto::sha256(as_bytes(token));
}

bool write_port_file(const std::filesystem::path& file, std::uint16_t port) {
    const auto tmp = file.string() + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << port << "\n";
        if (!out) {
            return false;
        }
    }
    std::error_code ec;
    std::filesystem::rename(tmp, file, ec);
    return !ec;
}

http::response unavailable() {
    return http::response::with_body(503, "starting\n");
}

// Runs `task` every `interval` on its own thread until stopped: the list
// reload and the CRL refresh. The first run is after one interval.
class periodic_thread {
public:
    periodic_thread(std::function<void()> task, std::chrono::milliseconds interval)
        : thread_([this, task = std::move(task), interval] {
              std::unique_lock lock(mutex_);
              while (!cv_.wait_for(lock, interval, [this] { return stopping_; })) {
                  lock.unlock();
                  task();
                  lock.lock();
              }
          }) {}
    ~periodic_thread() { stop(); }
    void stop() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        cv_.notify_all();
        if (thread_.joinable()) {
            thread_.join();
        }
    }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    bool stopping_ = false;
    std::thread thread_;
};

// Reloads the blocklist and the stolen list from the store. The lists stay in
// memory because every ES9+ call reads them before any signature work; a
// block made by another node (PostgreSQL) or by `esimguard block --db`
// reaches this server at the next reload. Expired blocks are dropped too.
std::function<void()> list_reloader(defense::blocklist& blocks, defense::stolen_devices& stolen) {
    auto failing = std::make_shared<bool>(false);
    return [&blocks, &stolen, failing] {
        auto b = blocks.load();
        auto s = stolen.load();
        // Logged once per outage: the lists keep their last contents.
        if ((!b || !s) && !*failing) {
            spdlog::warn("cannot reload the blocklist/stolen list: {}",
                         !b ? b.error().message : s.error().message);
        }
        *failing = !b || !s;
        (void)blocks.purge_expired();
    };
}

// Fetches the configured CRL distribution points, stores what a CA of the PKI
// directory signed, and swaps the whole current set into the service. A
// failing URL keeps the last good CRL of its CA in force.
std::function<void()> crl_refresher(smdp::smdp_service& service, std::filesystem::path pki_dir,
                                    std::vector<std::string> urls,
                                    std::shared_ptr<http::client> client,
                                    http::metrics_registry& metrics) {
    auto& failures = metrics.counter("smdpp_crl_refresh_failures_total",
                                     "CRL distribution points that could not be fetched or "
                                     "whose CRL was refused");
    auto& stored = metrics.counter("smdpp_crl_refresh_stored_total",
                                   "CRLs fetched, validated and stored by the refresh");
    return [&service, pki_dir = std::move(pki_dir), urls = std::move(urls),
            client = std::move(client), &failures, &stored] {
        const auto now =
            std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
        auto r = defense::refresh_crls(pki_dir, urls, *client, now);
        failures.inc(r.failed);
        stored.inc(r.stored);
        for (const auto& e : r.errors) {
            spdlog::warn("CRL refresh: {}", e);
        }
        if (!r.load_error.empty()) {
            spdlog::error("CRL refresh: stored CRLs unreadable, keeping the previous set: {}",
                          r.load_error);
            return;
        }
        spdlog::info("CRL refresh: {} fetched, {} stored, {} failed; {} CRL(s) in force", r.fetched,
                     r.stored, r.failed, r.crls.size());
        service.set_crls(std::move(r.crls));
    };
}

class housekeeping_thread {
public:
    housekeeping_thread(smdp::smdp_service& service, std::chrono::seconds interval,
                        http::metrics_registry& metrics)
        : thread_([this, &service, interval, &metrics] {
              auto& runs = metrics.counter("smdpp_housekeeping_runs_total",
                                           "Expiry sweeps run by the housekeeping thread");
              auto& expired =
                  metrics.counter("smdpp_housekeeping_expired_total",
                                  "Sessions and orders expired by the housekeeping thread");
              std::unique_lock lock(mutex_);
              while (!stopping_) {
                  if (cv_.wait_for(lock, interval, [this] { return stopping_; })) {
                      break;
                  }
                  lock.unlock();
                  const std::size_t n = service.run_housekeeping();
                  runs.inc();
                  expired.inc(n);
                  if (n > 0) {
                      spdlog::info("housekeeping: {} sessions/orders expired", n);
                  }
                  lock.lock();
              }
          }) {}
    ~housekeeping_thread() { stop(); }
    void stop() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        cv_.notify_all();
        if (thread_.joinable()) {
            thread_.join();
        }
    }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    bool stopping_ = false;
    std::thread thread_;
};

// ---- the defences (issue 4) ---------------------------------------------------

// Stands in for the code mailer when no SMTP relay is configured: a step-up
// code that cannot be mailed is dropped (never logged); approval then takes
// TOTP or an admin.
class unsent_code_notifier final : public defense::alert_notifier {
public:
    void on_alert(const defense::alert& a) override {
        spdlog::warn("step-up code for subscriber {} not sent: no [alerts.smtp] host configured",
                     a.subscriber ? a.subscriber->id : "-");
    }
};

// Everything the defences are made of. Built before the service that borrows
// it and destroyed after it (the service is declared later in run()).
struct defense_wiring {
    std::unique_ptr<store::defense_store> store;
    std::unique_ptr<defense::audit_chain> chain;
    std::unique_ptr<defense::audit_writer> writer;
    std::unique_ptr<defense::blocklist_store> block_store;
    std::unique_ptr<defense::blocklist> blocks;
    std::unique_ptr<defense::stolen_devices_store> stolen_store;
    std::unique_ptr<defense::stolen_devices> stolen;
    std::shared_ptr<defense::counter_backend> counters;
    std::unique_ptr<defense::risk_engine> risk;
    std::unique_ptr<defense::alert_dispatcher> alerts;
    std::unique_ptr<defense::alert_notifier> code_sender;
    std::unique_ptr<crypto::random_source> random;
    std::unique_ptr<defense::one_time_code_issuer> codes;

    smdp::smdp_defenses for_service(const smdpp_config& c) const {
        smdp::smdp_defenses d;
        d.risk = risk.get();
        d.blocks = blocks.get();
        d.stolen = stolen.get();
        d.alerts = alerts.get();
        d.code_sender = code_sender.get();
        d.store = store.get();
        d.codes = codes.get();
        d.audit = [w = writer.get()](const defense::audit_entry& e) {
            if (auto r = w->submit(e); !r) {
                spdlog::error("audit event not queued: {}", r.error().message);
            }
        };
        d.euicc_policy = c.euicc_policy;
        d.settings.require_confirmation_code = c.require_confirmation_code;
        return d;
    }

    // After the server stopped: deliver what is queued, write every audit event.
    void stop() {
        alerts->stop(std::chrono::seconds(2));
        if (auto* d = dynamic_cast<defense::alert_dispatcher*>(code_sender.get())) {
            d->stop(std::chrono::seconds(2));
        }
        writer->stop();
    }

    // Gauges the registry cannot hold (it has counters and histograms only):
    // tracked risk keys per dimension, evictions, list sizes.
    std::string metrics_text() const {
        const auto s = counters->stats();
        std::string out =
            "# HELP esimguard_risk_tracked_keys Risk counter keys tracked now, per dimension\n"
            "# TYPE esimguard_risk_tracked_keys gauge\n";
        for (std::size_t i = 0; i < defense::risk_dimension_count; ++i) {
            out += fmt::format("esimguard_risk_tracked_keys{{dimension=\"{}\"}} {}\n",
                               defense::to_string(static_cast<defense::risk_dimension>(i)),
                               s.tracked_keys[i]);
        }
        out += "# HELP esimguard_risk_evictions_total Risk counter keys evicted at the cap "
               "(a rising count means a spray)\n"
               "# TYPE esimguard_risk_evictions_total counter\n";
        for (std::size_t i = 0; i < defense::risk_dimension_count; ++i) {
            out += fmt::format("esimguard_risk_evictions_total{{dimension=\"{}\"}} {}\n",
                               defense::to_string(static_cast<defense::risk_dimension>(i)),
                               s.evictions[i]);
        }
        out += fmt::format("# HELP esimguard_blocklist_entries Unexpired blocklist entries\n"
                           "# TYPE esimguard_blocklist_entries gauge\n"
                           "esimguard_blocklist_entries {}\n"
                           "# HELP esimguard_stolen_devices Devices reported stolen\n"
                           "# TYPE esimguard_stolen_devices gauge\n"
                           "esimguard_stolen_devices {}\n",
                           blocks->list().size(), stolen->list().size());
        return out;
    }
};

std::expected<std::string, std::string> read_first_line(const std::filesystem::path& file,
                                                        std::string_view what) {
    std::ifstream in(file);
    std::string line;
    if (!in || !std::getline(in, line)) {
        return std::unexpected(fmt::format("cannot read the {} file {}", what, file.string()));
    }
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) {
        line.pop_back();
    }
    if (line.empty()) {
        return std::unexpected(fmt::format("the {} file {} is empty", what, file.string()));
    }
    return line;
}

// The step-up code key: read, or made once (32 random bytes, mode 0600), so
// that codes survive a restart and every node sharing the file agrees.
std::expected<bytes, std::string> one_time_code_key(const std::filesystem::path& file,
                                                    crypto::random_source& random) {
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) {
        auto key = random.generate(32);
        if (!key) {
            return std::unexpected("no randomness for the one-time code key");
        }
        const auto tmp = file.string() + ".tmp";
        {
            std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
            ::chmod(tmp.c_str(), 0600);
            out.write(reinterpret_cast<const char*>(key->data()),
                      static_cast<std::streamsize>(key->size()));
            if (!out) {
                return std::unexpected(fmt::format("cannot write {}", tmp));
            }
        }
        std::filesystem::rename(tmp, file, ec);
        if (ec) {
            return std::unexpected(fmt::format("cannot create {}", file.string()));
        }
    }
    std::ifstream in(file, std::ios::binary);
    bytes key((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (key.size() < 32) {
        return std::unexpected(
            fmt::format("the one-time code key {} is shorter than 32 bytes", file.string()));
    }
    return key;
}

std::expected<std::unique_ptr<defense_wiring>, std::string>
build_defenses(const smdpp_config& c, store::backend& b,
               const std::shared_ptr<http::metrics_registry>& metrics) {
    auto w = std::make_unique<defense_wiring>();
    w->store = std::move(b.defense);
    defense::audit_chain_config ac;
    ac.head_file = c.audit_head_file.empty()
                       ? std::filesystem::path(c.database.string() + ".audit-head")
                       : c.audit_head_file;
    w->chain = defense::audit_chain::create(std::move(b.audit), ac);
    defense::audit_writer_config wc;
    wc.metrics = metrics;
    w->writer = std::make_unique<defense::audit_writer>(*w->chain, wc);

    const defense::risk_clock clock = [] { return std::chrono::system_clock::now(); };
    w->block_store = defense::create_persistent_blocklist_store(*w->store);
    w->blocks = std::make_unique<defense::blocklist>(clock, w->block_store.get());
    if (auto n = w->blocks->load(); !n) {
        return std::unexpected(fmt::format("blocklist: {}", n.error().message));
    }
    w->stolen_store = defense::create_persistent_stolen_devices_store(*w->store);
    w->stolen = std::make_unique<defense::stolen_devices>(w->stolen_store.get());
    if (auto n = w->stolen->load(); !n) {
        return std::unexpected(fmt::format("stolen devices: {}", n.error().message));
    }
    if (b.counters) {
        // Several nodes: count every node's events in the shared table.
        defense::shared_counter_config sc;
        sc.max_rows_per_series = c.risk_max_keys_per_dimension * 10;
        w->counters = defense::create_shared_counter_backend(std::move(b.counters), sc);
    } else {
        defense::memory_counter_config mc;
        mc.max_keys_per_dimension = c.risk_max_keys_per_dimension;
        w->counters = defense::create_memory_counter_backend(mc);
    }
    defense::risk_engine_config rc;
    rc.rules = c.risk_rules.value_or(defense::default_risk_rules());
    rc.ipv6_prefix_length = c.risk_ipv6_prefix_length;
    rc.fail_closed = c.risk_fail_closed;
    auto engine = defense::create_risk_engine(rc, w->counters, *w->blocks, *w->stolen, clock);
    if (!engine) {
        return std::unexpected(fmt::format("risk engine: {}", engine.error().message));
    }
    w->risk = std::move(*engine);

    std::vector<std::unique_ptr<defense::alert_channel>> channels;
    channels.push_back(defense::create_persistent_inbox_channel(*w->store));
    if (!c.webhook_url.empty()) {
        auto secret = read_first_line(c.webhook_secret_file, "webhook secret");
        if (!secret) {
            return std::unexpected(secret.error());
        }
        defense::webhook_config hc;
        hc.url = c.webhook_url;
        hc.secret = std::move(*secret);
        hc.client.trusted_ca_files = c.webhook_ca_files;
        hc.allow_plain_http = c.webhook_allow_plain_http;
        auto ch = defense::create_webhook_channel(std::move(hc));
        if (!ch) {
            return std::unexpected(fmt::format("[alerts.webhook] {}", ch.error()));
        }
        channels.push_back(std::move(*ch));
    }
    auto mail = [&](defense::mail_audience audience, std::string name)
        -> std::expected<std::unique_ptr<defense::alert_channel>, std::string> {
        defense::mail_channel_config m;
        m.smtp.host = c.smtp_host;
        m.smtp.port = c.smtp_port;
        m.from = c.smtp_from;
        m.audience = audience;
        m.fallback_operator_address = c.smtp_operator_to;
        m.name = std::move(name);
        auto ch = defense::create_mail_channel(std::move(m));
        if (!ch) {
            return std::unexpected(fmt::format("[alerts.smtp] {}", ch.error()));
        }
        return std::move(*ch);
    };
    std::unique_ptr<defense::alert_channel> code_mail;
    if (!c.smtp_host.empty()) {
        for (auto [audience, name] :
             {std::pair{defense::mail_audience::subscriber, "mail_subscriber"},
              std::pair{defense::mail_audience::operator_staff, "mail_operator"}}) {
            auto ch = mail(audience, name);
            if (!ch) {
                return std::unexpected(ch.error());
            }
            channels.push_back(std::move(*ch));
        }
        auto ch = mail(defense::mail_audience::subscriber, "mail_step_up_code");
        if (!ch) {
            return std::unexpected(ch.error());
        }
        code_mail = std::move(*ch);
    }
    defense::alert_dispatcher_config dc;
    dc.queue_capacity = c.alert_queue_capacity;
    dc.max_attempts = c.alert_max_attempts;
    dc.initial_backoff = c.alert_initial_backoff;
    dc.metrics = metrics;
    w->alerts = std::make_unique<defense::alert_dispatcher>(dc, std::move(channels));
    if (code_mail) {
        // Codes go to the subscriber's mailbox only: not to the webhook, the
        // inbox or the operator (see smdp_defenses::code_sender).
        defense::alert_dispatcher_config cc = dc;
        cc.metrics = nullptr;
        std::vector<std::unique_ptr<defense::alert_channel>> one;
        one.push_back(std::move(code_mail));
        w->code_sender = std::make_unique<defense::alert_dispatcher>(cc, std::move(one));
    } else {
        w->code_sender = std::make_unique<unsent_code_notifier>();
    }

    w->random = crypto::create_system_random_source();
    const auto key_file = c.one_time_code_key_file.empty()
                              ? std::filesystem::path(c.database.string() + ".otc-key")
                              : c.one_time_code_key_file;
    auto key = one_time_code_key(key_file, *w->random);
    if (!key) {
        return std::unexpected(key.error());
    }
    defense::one_time_code_config oc;
    oc.digits = c.step_up_code_digits;
    oc.lifetime = c.step_up_code_lifetime;
    oc.max_attempts = c.step_up_code_max_attempts;
    auto issuer = defense::one_time_code_issuer::create(std::move(*key), oc, *w->random);
    if (!issuer) {
        return std::unexpected(fmt::format("one-time codes: {}", issuer.error().message));
    }
    w->codes = std::move(*issuer);
    return w;
}

int run(const smdpp_config& c) {
    if (auto l = setup_logging(c); !l) {
        fmt::print(stderr, "esimguard-smdpp: {}\n", l.error());
        return 2;
    }
    auto log = spdlog::get("smdpp");

    bytes admin_token_sha256;
    if (!c.admin_token_file.empty()) {
        auto t = read_admin_token(c.admin_token_file);
        if (!t) {
            log->critical("{}", t.error());
            return 2;
        }
        admin_token_sha256 = std::move(*t);
    } else {
        log->warn("no admin token file configured: the admin API is disabled");
    }

    auto pki = smdp::load_pki_material(c.pki_dir);
    if (!pki) {
        log->critical("PKI in {}: {}", c.pki_dir.string(), pki.error());
        return 2;
    }
    // CRLs added with `esimguard pki crl add` (or fetched by an earlier
    // refresh). One that no longer verifies stops the start: running as if
    // nothing were revoked would be worse than not running.
    if (auto stored = pki::load_stored_crls(c.pki_dir); !stored) {
        log->critical("stored CRLs in {}: {}", c.pki_dir.string(), stored.error().detail);
        return 2;
    } else {
        log->info("{} stored CRL(s) loaded from {}", stored->size(), c.pki_dir.string());
        pki->crls.insert(pki->crls.end(), std::make_move_iterator(stored->begin()),
                         std::make_move_iterator(stored->end()));
    }

    store::sqlite_config sc;
    sc.path = c.database.string();
    sc.connections = c.database_connections;
    sc.busy_timeout = c.database_busy_timeout;
    if (c.database.has_parent_path()) {
        std::error_code ec;
        std::filesystem::create_directories(c.database.parent_path(), ec);
    }
    // Every store (main, audit, defence, shared counters) from one backend:
    // the SQLite file, or the PostgreSQL database several nodes share.
    store::backend_config bc;
    bc.kind =
        c.store_backend == "postgres" ? store::backend_kind::postgres : store::backend_kind::sqlite;
    bc.sqlite = sc;
    bc.postgres.url = c.database_url;
    bc.postgres.schema = c.database_schema;
    bc.postgres.connections = c.database_connections;
    const std::string database_name =
        bc.kind == store::backend_kind::postgres ? "postgres" : sc.path;
    auto backend = store::open_backend(bc);
    if (!backend) {
        log->critical("database {}: {} ({})", database_name, backend.error().message,
                      store::to_string(backend.error().code));
        return 2;
    }
    auto db = std::move(backend->main);
    store::store& store_ref = *db;

    auto metrics = std::make_shared<http::metrics_registry>();
    auto defenses = build_defenses(c, *backend, metrics);
    if (!defenses) {
        log->critical("{}", defenses.error());
        return 2;
    }
    const defense_wiring& wiring = **defenses;
    http::server_config hc;
    hc.bind_address = c.listen_address;
    hc.port = c.port;
    hc.certificate_chain_file = c.tls_certificate_chain;
    hc.private_key_file = c.tls_private_key;
    hc.worker_threads = c.worker_threads;
    hc.max_body_bytes = c.max_body_bytes;
    hc.max_header_bytes = c.max_header_bytes;
    hc.max_connections = c.max_connections;
    hc.handshake_timeout = c.handshake_timeout;
    hc.header_timeout = c.header_timeout;
    hc.request_timeout = c.request_timeout;
    hc.write_timeout = c.write_timeout;
    hc.idle_timeout = c.idle_timeout;
    hc.metrics = metrics;
    http::server server(hc);

    service_slot slot;
    server.add_route("GET", "/healthz", [&slot, &store_ref](const http::request&) {
        if (slot.service.load() == nullptr) {
            return unavailable();
        }
        // A lookup that reaches the database: not_found means it answered.
        auto probe = store_ref.find_operator("-healthz-");
        if (!probe && probe.error().code != store::errc::not_found) {
            return http::response::with_body(503, "store unavailable\n");
        }
        return http::response::with_body(200, "ok\n");
    });
    server.add_route("GET", "/metrics",
                     [base = http::metrics_handler(metrics), &wiring](const http::request& req) {
                         auto r = base(req);
                         if (r.status == 200) {
                             r.body += wiring.metrics_text();
                         }
                         return r;
                     });
    for (std::string_view fn : smdp::es9p_functions) {
        server.add_route("POST", fmt::format("/gsma/rsp2/es9plus/{}", fn),
                         [&slot, fn](const http::request& req) {
                             auto* s = slot.service.load();
                             return s ? smdp::handle_es9p_request(*s, fn, req) : unavailable();
                         });
    }
    for (std::string_view fn : smdp::es2p_functions) {
        server.add_route("POST", fmt::format("/gsma/rsp2/es2plus/{}", fn),
                         [&slot, fn](const http::request& req) {
                             auto* s = slot.service.load();
                             return s ? smdp::handle_es2p_request(*s, fn, req) : unavailable();
                         });
    }
    auto admin = std::make_shared<admin_api_context>();
    admin->slot = &slot;
    admin->db = &store_ref;
    admin->token_sha256 = admin_token_sha256;
    admin->metrics = metrics;
    admin->blocks = wiring.blocks.get();
    admin->stolen = wiring.stolen.get();
    admin->defenses = wiring.store.get();
    admin->audit = wiring.chain.get();
    admin->risk = wiring.risk.get();
    admin->alerts = wiring.alerts.get();
    auto admin_lookup = register_admin_routes(server, admin);

    // The subscriber and operator portal (issue 5) under /portal.
    portal::mount_options po;
    po.config.web_root = c.portal_web_root;
    po.config.admin_token_sha256 = admin_token_sha256;
    po.database_path = sc.path;
    po.audit_head_file = c.database.string() + ".audit-head";
    po.main_store = &store_ref;
    po.service = [&slot] { return slot.service.load(); };
    po.metrics = metrics;
    // The same defences as the SM-DP+ service: one audit chain (one head
    // file), and blocks/stolen reports that the risk engine sees at once.
    po.defense = wiring.store.get();
    po.audit = wiring.chain.get();
    po.blocks = wiring.blocks.get();
    po.stolen = wiring.stolen.get();
    po.alerts = wiring.alerts.get();
    po.risk = wiring.risk.get();
    auto mounted_portal = portal::mount(std::move(po));
    if (!mounted_portal) {
        log->critical("portal: {}", mounted_portal.error());
        return 2;
    }
    std::shared_ptr<portal::mounted_portal> the_portal = std::move(*mounted_portal);
    server.set_fallback([admin_lookup, the_portal](const http::request& req) {
        if (std::string_view(req.path).starts_with("/admin/")) {
            return admin_lookup(req);
        }
        if (std::string_view(req.path).starts_with(the_portal->prefix())) {
            return the_portal->handle(req);
        }
        return http::response::with_body(404, "not found\n");
    });

    // Signals are taken by sigwait below: block them before any thread starts
    // so that every thread inherits the mask.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    if (auto started = server.start(); !started) {
        log->critical("cannot start the HTTPS server on {}:{}: {} ({})", c.listen_address, c.port,
                      started.error().detail, http::to_string(started.error().code));
        return 2;
    }
    const std::uint16_t port = server.port();

    smdp::smdp_config svc;
    svc.addresses = c.addresses;
    if (svc.addresses.empty()) {
        svc.addresses.push_back(fmt::format("localhost:{}", port));
    }
    svc.credentials = std::move(pki->credentials);
    svc.trusted_cis = std::move(pki->trusted_cis);
    svc.crls = std::move(pki->crls);
    svc.session_ttl = c.session_ttl;
    svc.default_order_ttl = c.order_ttl;
    svc.download_attempt_limit = c.download_attempt_limit;
    svc.cc_retry_limit = c.cc_retry_limit;
    svc.smdp_oid = c.smdp_oid;
    svc.metrics = metrics;
    svc.defenses = wiring.for_service(c);
    auto service = smdp::create_smdp_service(std::move(svc), store_ref);
    if (!service) {
        log->critical("cannot start the SM-DP+ service: {}", service.error());
        server.stop();
        return 2;
    }
    slot.service.store(service->get());

    smdp::progress_notifier_config nc;
    nc.poll_interval = c.notifier_poll_interval;
    nc.client.trusted_ca_files = c.operator_ca_files;
    auto notifier = smdp::create_progress_notifier(nc, store_ref);
    notifier->start();
    housekeeping_thread housekeeping(**service, c.housekeeping_interval, *metrics);
    // On PostgreSQL other nodes block and report too: reload often.
    periodic_thread list_reload(
        list_reloader(*wiring.blocks, *wiring.stolen),
        bc.kind == store::backend_kind::postgres
            ? std::chrono::seconds(2)
            : std::chrono::duration_cast<std::chrono::seconds>(c.list_reload_interval));
    std::optional<periodic_thread> crl_refresh;
    if (!c.crl_urls.empty()) {
        http::client_config cc;
        cc.trusted_ca_files = c.operator_ca_files;
        auto client = http::client::create(cc);
        if (!client) {
            log->critical("CRL refresh: cannot make an HTTP client: {}", client.error().detail);
            server.stop();
            return 2;
        }
        auto refresh = crl_refresher(**service, c.pki_dir, c.crl_urls,
                                     std::make_shared<http::client>(std::move(*client)), *metrics);
        refresh(); // at start, so a revocation published while we were down applies now
        crl_refresh.emplace(std::move(refresh), c.crl_refresh_interval);
    }

    if (!c.port_file.empty() && !write_port_file(c.port_file, port)) {
        log->error("cannot write the port file {}", c.port_file.string());
    }
    log->info("esimguard-smdpp listening on https://{}:{} as SM-DP+ {} (database {}, {} CI "
              "credential(s))",
              c.listen_address, port, fmt::join((*service)->config().addresses, ", "),
              database_name, (*service)->config().credentials.size());

    int sig = 0;
    sigwait(&signals, &sig);
    log->info("signal {} received: stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");

    housekeeping.stop();
    list_reload.stop();
    if (crl_refresh) {
        crl_refresh->stop();
    }
    notifier->stop();
    server.stop();
    (*defenses)->stop();
    slot.service.store(nullptr);
    log->info("stopped");
    spdlog::shutdown();
    return 0;
}

} // namespace

} // namespace esimguard::smdpp

int main(int argc, char** argv) {
    using namespace esimguard::smdpp;
    esimguard::tune_allocator_for_server();
    CLI::App app{"esimguard-smdpp: the esimguard SGP.22 SM-DP+ server"};
    app.set_version_flag("--version", "esimguard-smdpp 0.1.0");
    config_overrides overrides;
    add_config_flags(app, overrides);
    CLI11_PARSE(app, argc, argv);

    smdpp_config config;
    if (!overrides.config_file.empty()) {
        auto loaded = load_config_file(overrides.config_file);
        if (!loaded) {
            fmt::print(stderr, "esimguard-smdpp: {}\n", loaded.error());
            return 2;
        }
        config = std::move(*loaded);
    }
    if (auto ok = apply_overrides(overrides, config); !ok) {
        fmt::print(stderr, "esimguard-smdpp: {}\n", ok.error());
        return 2;
    }
    return run(config);
}
