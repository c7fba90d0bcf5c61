// `esimguard demo`: the whole chain on one machine, in one process. In a
// temporary directory it generates a test PKI, starts the SM-DP+ (smdp
// service on the HTTPS server, SQLite store) on a free port, stocks a profile,
// orders it with a confirmation code, prints the activation code and writes
// its QR image; then a simulated eUICC, driven by the LPA library over real
// HTTPS on loopback, downloads, installs and enables the profile and sends
// its notifications. It ends with the order's history.
//
// The user-facing output (stdout) shows the activation and confirmation codes
// on purpose; logs (stderr or --log-file) never do.

#include "commands.hpp"

#include "esimguard/apdu/es10_client.hpp"
#include "esimguard/apdu/transports.hpp"
#include "esimguard/asn1/iccid.hpp"
#include "esimguard/crypto/random.hpp"
#include "esimguard/euicc/euicc.hpp"
#include "esimguard/http/metrics.hpp"
#include "esimguard/http/server.hpp"
#include "esimguard/lpa/es9p_client.hpp"
#include "esimguard/lpa/lpa.hpp"
#include "esimguard/pki/eid.hpp"
#include "esimguard/pki/test_pki.hpp"
#include "esimguard/qr/qr.hpp"
#include "esimguard/rsp/activation_code.hpp"
#include "esimguard/rsp/saip.hpp"
#include "esimguard/smdp/config.hpp"
#include "esimguard/smdp/routes.hpp"
#include "esimguard/smdp/service.hpp"
#include "esimguard/store/sqlite_store.hpp"

#include <fmt/format.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace esimguard::app {

namespace {

namespace fs = std::filesystem;

struct demo_args {
    std::string dir;
    bool keep = false;
    std::string curve = "nist";
    std::string qr;
    std::string log_level = "warn";
    std::string log_file;
    std::string eid = "890490320000000000000000000012";
};

// A failure of one demo step: what to tell the user.
struct demo_failure {
    std::string message;
};

template <typename T>
using step = std::expected<T, demo_failure>;

std::unexpected<demo_failure> fail(std::string message) {
    return std::unexpected(demo_failure{std::move(message)});
}

constexpr const char* module_loggers[] = {"esimguard", "smdp", "http", "store",
                                          "lpa",       "apdu", "euicc"};

bool setup_logging(const demo_args& a) {
    spdlog::sink_ptr sink;
    try {
        if (a.log_file.empty()) {
            sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
        } else {
            sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(a.log_file, true);
        }
    } catch (const spdlog::spdlog_ex& e) {
        fmt::print(stderr, "esimguard demo: cannot open the log file: {}\n", e.what());
        return false;
    }
    const auto level = spdlog::level::from_str(a.log_level);
    for (const char* name : module_loggers) {
        spdlog::drop(name);
        auto l = std::make_shared<spdlog::logger>(name, sink);
        l->set_level(level);
        l->flush_on(spdlog::level::trace);
        spdlog::register_logger(l);
    }
    spdlog::set_default_logger(spdlog::get("esimguard"));
    spdlog::set_level(level);
    return true;
}

std::optional<std::string> random_digits(std::size_t n) {
    std::string out;
    while (out.size() < n) {
        auto b = crypto::random_bytes(32);
        if (!b) {
            return std::nullopt;
        }
        for (auto v : *b) {
            // Rejecting 250..255 keeps every digit equally likely.
            if (v < 250 && out.size() < n) {
                out.push_back(static_cast<char>('0' + v % 10));
            }
        }
    }
    return out;
}

std::string local_time(store::time_point t) {
    const std::time_t secs = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%H:%M:%SZ", &tm);
    return buf;
}

// The SM-DP+ side of the demo: store, service and HTTPS server.
struct demo_server {
    std::unique_ptr<store::store> db;
    std::shared_ptr<http::metrics_registry> metrics = std::make_shared<http::metrics_registry>();
    std::unique_ptr<http::server> server;
    // Routes exist before the service does: its address names the bound port.
    std::atomic<smdp::smdp_service*> slot{nullptr};
    std::unique_ptr<smdp::smdp_service> service;
    std::string address;

    ~demo_server() {
        if (server) {
            server->stop();
        }
    }
};

step<void> start_server(demo_server& s, const fs::path& dir) {
    store::sqlite_config sc;
    sc.path = (dir / "esimguard.db").string();
    auto db = store::create_sqlite_store(sc);
    if (!db) {
        return fail(fmt::format("cannot open the database: {}", db.error().message));
    }
    s.db = std::move(*db);

    // TLS always uses the NIST DPtls chain: OpenSSL 3.0 offers no TLS 1.3
    // signature scheme for brainpool keys, and real SM-DP+s serve P-256 DPtls
    // certificates whichever CI the eUICC uses for ES9+ signatures.
    const fs::path curve_dir = dir / "pki" / "nist";
    http::server_config hc;
    hc.bind_address = "127.0.0.1";
    hc.port = 0;
    hc.certificate_chain_file = curve_dir / "dptls-chain.pem";
    hc.private_key_file = curve_dir / "dptls.key.pem";
    hc.worker_threads = 2;
    hc.metrics = s.metrics;
    s.server = std::make_unique<http::server>(hc);
    for (std::string_view fn : smdp::es9p_functions) {
        s.server->add_route("POST", fmt::format("/gsma/rsp2/es9plus/{}", fn),
                            [&s, fn](const http::request& req) {
                                auto* svc = s.slot.load();
                                return svc ? smdp::handle_es9p_request(*svc, fn, req)
                                           : http::response::with_body(503, "starting\n");
                            });
    }
    if (auto started = s.server->start(); !started) {
        return fail(fmt::format("cannot start the HTTPS server: {}", started.error().detail));
    }
    s.address = fmt::format("localhost:{}", s.server->port());

    auto material = smdp::load_pki_material(dir / "pki");
    if (!material) {
        return fail(fmt::format("cannot load the PKI: {}", material.error()));
    }
    smdp::smdp_config config;
    config.addresses = {s.address};
    config.credentials = std::move(material->credentials);
    config.trusted_cis = std::move(material->trusted_cis);
    config.crls = std::move(material->crls);
    config.metrics = s.metrics;
    auto service = smdp::create_smdp_service(std::move(config), *s.db);
    if (!service) {
        return fail(fmt::format("cannot start the SM-DP+ service: {}", service.error()));
    }
    s.service = std::move(*service);
    s.slot.store(s.service.get());
    return {};
}

struct demo_order {
    std::string order_id;
    std::string iccid;
    std::string activation_code;
    std::string confirmation_code;
};

step<demo_order> make_order(demo_server& s) {
    smdp::operator_spec op;
    op.id = "demo-operator";
    op.display_name = "Demo Operator";
    auto token = random_digits(32);
    if (!token) {
        return fail("no randomness");
    }
    op.bearer_token = *token;
    if (auto r = s.service->add_operator(op); !r) {
        return fail(fmt::format("cannot add the operator: {}", rsp::to_string(r.error())));
    }

    auto iccid = asn1::iccid_value::parse("8949449999999990023");
    if (!iccid) {
        return fail("bad demo ICCID");
    }
    rsp::profile_package_params params;
    params.iccid = *iccid;
    params.imsi = "001010000000023";
    params.profile_type = "esimguard-demo";
    auto der = rsp::make_profile_package(params);
    if (!der) {
        return fail(fmt::format("cannot build the profile package: {}", der.error().message));
    }
    smdp::profile_package_info info;
    info.service_provider_name = "esimguard demo";
    info.profile_name = "Demo profile";
    auto profile = s.service->add_profile_package(op.id, *der, info);
    if (!profile) {
        return fail(fmt::format("cannot store the profile: {}", rsp::to_string(profile.error())));
    }

    auto cc = random_digits(8);
    if (!cc) {
        return fail("no randomness");
    }
    smdp::admin_order_request req;
    req.operator_id = op.id;
    req.iccid = profile->iccid;
    req.confirmation_code = *cc;
    auto order = s.service->admin_create_order(req);
    if (!order) {
        return fail(fmt::format("cannot create the order: {}", rsp::to_string(order.error())));
    }
    return demo_order{order->order.order_id, order->order.iccid,
                      rsp::format_activation_code(order->activation_code), *cc};
}

// The device side: a simulated eUICC in this process, driven by the LPA.
step<void> run_device(const fs::path& dir, crypto::curve curve, const std::string& eid,
                      const demo_order& order) {
    auto cfg = euicc::load_euicc_from_pki(dir / "pki", curve, eid);
    if (!cfg) {
        return fail(fmt::format("cannot load the eUICC: {}", cfg.error().detail));
    }
    auto chip = euicc::create_euicc(std::move(*cfg), dir / "euicc-state.json");
    if (!chip) {
        return fail(fmt::format("cannot create the eUICC: {}", chip.error().detail));
    }
    auto card = euicc::create_euicc_card(**chip);
    auto link = apdu::create_card_transport(*card);
    apdu::es10_client es10(*link);
    if (auto opened = es10.open(); !opened) {
        return fail(fmt::format("cannot open the ES10 channel: {}", opened.error().detail));
    }

    lpa::https_es9p_config hc;
    // The TLS chain is the NIST one (see start_server).
    hc.trusted_ca_files = {dir / "pki" / "nist" / "ci.pem"};
    auto server = lpa::create_https_es9p_client(hc);
    if (!server) {
        return fail(fmt::format("cannot set up the ES9+ client: {}", server.error().detail));
    }
    lpa::lpa assistant(es10, **server);

    auto request = lpa::download_request::from_activation_code(order.activation_code);
    if (!request) {
        return fail(lpa::describe(request.error()));
    }
    request->confirmation_code = order.confirmation_code;
    lpa::download_callbacks callbacks;
    int last_percent = -1;
    callbacks.progress = [&last_percent](std::size_t done, std::size_t total) {
        const int percent = total == 0 ? 100 : static_cast<int>(done * 100 / total);
        if (percent / 25 != last_percent / 25 || done == total) {
            fmt::print("  loading the bound profile package: {:3}% ({} of {} bytes)\n", percent,
                       done, total);
            last_percent = percent;
        }
    };
    fmt::print("\n[device] downloading with the LPA (EID {})\n", eid);
    auto downloaded = assistant.download_profile(*request, callbacks);
    if (!downloaded) {
        return fail(fmt::format("download failed: {}", lpa::describe(downloaded.error())));
    }
    fmt::print("[device] installed '{}' (ICCID {}); installation result {}\n",
               downloaded->metadata.profile_name, order.iccid,
               downloaded->notification_sent ? "sent to the SM-DP+" : "still pending");

    auto ref = lpa::parse_profile_ref(order.iccid);
    if (!ref) {
        return fail(lpa::describe(ref.error()));
    }
    if (auto enabled = assistant.enable_profile(*ref); !enabled) {
        return fail(fmt::format("enable failed: {}", lpa::describe(enabled.error())));
    }
    fmt::print("[device] enabled the profile\n");

    auto sent = assistant.process_notifications();
    if (!sent) {
        return fail(fmt::format("notifications failed: {}", lpa::describe(sent.error())));
    }
    for (const auto& n : *sent) {
        if (!n.sent) {
            return fail(fmt::format("notification {} to {} was not accepted: {}", n.seq_number,
                                    n.address,
                                    n.failure ? lpa::describe(*n.failure) : "no reason"));
        }
        fmt::print("[device] notification {} sent to {}{}\n", n.seq_number, n.address,
                   n.removed ? " and removed from the card" : "");
    }
    auto profiles = assistant.list_profiles();
    if (!profiles) {
        return fail(fmt::format("cannot list profiles: {}", lpa::describe(profiles.error())));
    }
    fmt::print("[device] the card holds {} profile(s)\n", profiles->size());
    es10.close();
    return {};
}

int run_demo(const demo_args& a) {
    if (!setup_logging(a)) {
        return 2;
    }
    auto curve = pki::parse_curve(a.curve);
    if (!curve) {
        fmt::print(stderr, "esimguard demo: --curve must be nist or brainpool\n");
        return 2;
    }
    auto eid = pki::eid_with_check_digits(a.eid);
    if (!eid) {
        fmt::print(stderr, "esimguard demo: --eid-prefix must be 30 digits\n");
        return 2;
    }

    fs::path dir;
    bool remove_dir = false;
    std::error_code ec;
    if (a.dir.empty()) {
        std::string tmpl = (fs::temp_directory_path() / "esimguard-demo-XXXXXX").string();
        if (::mkdtemp(tmpl.data()) == nullptr) {
            fmt::print(stderr, "esimguard demo: cannot create a temporary directory\n");
            return 1;
        }
        dir = tmpl;
        remove_dir = !a.keep;
    } else {
        dir = a.dir;
        fs::create_directories(dir, ec);
    }

    auto run = [&]() -> step<void> {
        const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
        fmt::print("[pki] generating a test PKI ({}) in {}\n", a.curve, (dir / "pki").string());
        pki::test_pki_options po;
        po.dir = dir / "pki";
        // brainpool needs the NIST PKI too, for the TLS listener.
        po.curves =
            *curve == crypto::curve::nist_p256 ? pki::curve_set::nist : pki::curve_set::both;
        po.host = "localhost";
        po.now = now;
        po.overwrite = true;
        if (auto r = pki::init_test_pki(po); !r) {
            return fail(fmt::format("PKI generation failed: {}", r.error().detail));
        }
        if (auto r = pki::issue_euicc(po.dir, *eid, *curve, now); !r) {
            return fail(fmt::format("eUICC certificate failed: {}", r.error().detail));
        }

        demo_server s;
        if (auto r = start_server(s, dir); !r) {
            return std::unexpected(r.error());
        }
        fmt::print("[smdp] SM-DP+ listening on https://{}\n", s.address);

        auto order = make_order(s);
        if (!order) {
            return std::unexpected(order.error());
        }
        const fs::path qr = a.qr.empty() ? dir / "activation-code.png" : fs::path(a.qr);
        if (auto w = qr::write_png(order->activation_code, qr); !w) {
            return fail(fmt::format("cannot write the QR image: {}", w.error()));
        }
        fmt::print("[operator] order {} for profile {}\n", order->order_id, order->iccid);
        fmt::print("  activation code:   {}\n", order->activation_code);
        fmt::print("  confirmation code: {}\n", order->confirmation_code);
        fmt::print("  QR image:          {}\n", qr.string());

        if (auto r = run_device(dir, *curve, *eid, *order); !r) {
            return std::unexpected(r.error());
        }

        auto final_order = s.db->find_order(order->order_id);
        auto events = s.db->list_order_events(order->order_id);
        if (!final_order || !events) {
            return fail("cannot read the order back from the store");
        }
        fmt::print("\n[smdp] history of order {}:\n", order->order_id);
        for (const auto& e : *events) {
            fmt::print("  {}  {:<20} {}\n", local_time(e.at), e.name, e.detail);
        }
        fmt::print("[smdp] order state: {}\n", store::to_string(final_order->state));
        if (final_order->state != store::order_state::enabled) {
            return fail(fmt::format("the order ended in state {}, not enabled",
                                    store::to_string(final_order->state)));
        }
        return {};
    };
    auto result = run();
    spdlog::default_logger()->flush();
    if (remove_dir) {
        fs::remove_all(dir, ec);
    } else {
        fmt::print("\nfiles kept in {}\n", dir.string());
    }
    if (!result) {
        fmt::print(stderr, "esimguard demo: FAILED: {}\n", result.error().message);
        return 1;
    }
    fmt::print("\ndemo complete: the profile is installed and enabled\n");
    return 0;
}

} // namespace

void register_demo_command(CLI::App& app) {
    auto a = std::make_shared<demo_args>();
    auto* demo = app.add_subcommand(
        "demo", "Run the whole chain in one process: PKI, SM-DP+, order, eUICC and LPA");
    demo->add_option("--dir", a->dir, "Work here and keep the files (default: a temp dir)");
    demo->add_flag("--keep", a->keep, "Keep the temporary directory");
    demo->add_option("--curve", a->curve, "nist or brainpool")->capture_default_str();
    demo->add_option("--qr", a->qr, "Write the QR image here (default: DIR/activation-code.png)");
    demo->add_option("--eid-prefix", a->eid, "First 30 digits of the simulated eUICC's EID")
        ->capture_default_str();
    demo->add_option("--log-level", a->log_level, "trace|debug|info|warn|error|off")
        ->capture_default_str();
    demo->add_option("--log-file", a->log_file, "Write logs here instead of stderr");
    demo->callback([a] { set_exit_code(run_demo(*a)); });
}

} // namespace esimguard::app
