// esimguard-smdpp: the SM-DP+ server program. It reads the config, opens the
// store, loads the PKI, and wires the smdp service into the HTTPS server
// (ES9+, ES2+, admin API, /healthz, /metrics), with the housekeeping thread
// and the operator progress notifier beside it. SIGINT/SIGTERM stop it cleanly.

#include "admin_api.hpp"
#include "config.hpp"

#include "esimguard/crypto/hash.hpp"
#include "esimguard/http/metrics.hpp"
#include "esimguard/http/server.hpp"
#include "esimguard/portal/mount.hpp"
#include "esimguard/smdp/config.hpp"
#include "esimguard/smdp/progress_notifier.hpp"
#include "esimguard/smdp/routes.hpp"
#include "esimguard/smdp/service.hpp"
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
#include <mutex>
#include <pthread.h>
#include <sstream>
#include <thread>

namespace esimguard::smdpp {

namespace {

// Every module logger shares the program's sink and level: a module that asks
// spdlog::get("smdp") finds this one instead of making its own stderr logger.
constexpr const char* module_loggers[] = {"smdpp", "admin", "smdp", "http",
                                          "store", "lpa",   "apdu", "euicc"};

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

// Runs the service's expiry sweep every `interval` until stopped.
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

    store::sqlite_config sc;
    sc.path = c.database.string();
    sc.connections = c.database_connections;
    sc.busy_timeout = c.database_busy_timeout;
    if (c.database.has_parent_path()) {
        std::error_code ec;
        std::filesystem::create_directories(c.database.parent_path(), ec);
    }
    auto db = store::create_sqlite_store(sc);
    if (!db) {
        log->critical("database {}: {} ({})", sc.path, db.error().message,
                      store::to_string(db.error().code));
        return 2;
    }
    store::store& store_ref = **db;

    auto metrics = std::make_shared<http::metrics_registry>();
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
    server.add_route("GET", "/metrics", http::metrics_handler(metrics));
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

    if (!c.port_file.empty() && !write_port_file(c.port_file, port)) {
        log->error("cannot write the port file {}", c.port_file.string());
    }
    log->info("esimguard-smdpp listening on https://{}:{} as SM-DP+ {} (database {}, {} CI "
              "credential(s))",
              c.listen_address, port, fmt::join((*service)->config().addresses, ", "), sc.path,
              (*service)->config().credentials.size());

    int sig = 0;
    sigwait(&signals, &sig);
    log->info("signal {} received: stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");

    housekeeping.stop();
    notifier->stop();
    server.stop();
    slot.service.store(nullptr);
    log->info("stopped");
    spdlog::shutdown();
    return 0;
}

} // namespace

} // namespace esimguard::smdpp

int main(int argc, char** argv) {
    using namespace esimguard::smdpp;
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
