// `esimguard bench`: simulated devices doing complete SGP.22 downloads over
// real HTTPS against an SM-DP+ it starts (or one given by --url/--nodes),
// reporting throughput, latency per ES9+ function, errors by SGP.22 code and
// the server's CPU per download against the cost of the cryptography a
// download needs. The parts are in bench_*.cpp (see bench.hpp).

#include "bench.hpp"
#include "commands.hpp"
#include "esimguard/core/allocator.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <memory>

namespace esimguard::app {

namespace {

int run_bench(const bench::bench_args& a) {
    // The simulated devices are as allocation-heavy as the server, and share
    // its cores: tuned alike, they take less of the machine from it.
    tune_allocator_for_server();
    // The libraries' loggers would write a line per refused call: the
    // report counts them instead.
    spdlog::set_level(spdlog::level::off);
    for (const char* name : {"lpa", "apdu", "euicc", "http", "store", "smdp"}) {
        if (auto l = spdlog::get(name)) {
            l->set_level(spdlog::level::off);
        }
    }
    if (a.count && a.duration_s) {
        fmt::print(stderr, "esimguard bench: give --count or --duration, not both\n");
        return 2;
    }
    bench::bench_args args = a;
    if (!args.count && !args.duration_s && args.sessions == 0) {
        args.count = 200;
    }
    if (args.concurrency == 0 || args.concurrency > 4096) {
        fmt::print(stderr, "esimguard bench: --concurrency must be 1..4096\n");
        return 2;
    }
    std::error_code ec;
    const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    auto env = bench::set_up(args, self);
    if (!env) {
        fmt::print(stderr, "esimguard bench: {}\n", env.error().message);
        return 1;
    }
    int rc = 0;
    if (args.sessions > 0) {
        auto r = bench::run_sessions(args, *env);
        if (!r) {
            fmt::print(stderr, "esimguard bench: {}\n", r.error().message);
            rc = 1;
        } else if (!bench::report_sessions(args, *r) || r->failed > 0) {
            rc = 1;
        }
    } else {
        // Timed before the load, so that the devices' own work does not slow it.
        auto floor = bench::measure_crypto_floor(*env, args.floor_iterations);
        if (!floor) {
            fmt::print(stderr, "esimguard bench: crypto floor: {}\n", floor.error().message);
        }
        auto r = bench::run_load(args, *env);
        if (!r) {
            fmt::print(stderr, "esimguard bench: {}\n", r.error().message);
            rc = 1;
        } else {
            const bool written =
                bench::report(args, *env, *r, floor ? std::optional(*floor) : std::nullopt);
            std::size_t failed = 0;
            for (const auto& [k, n] : r->data.errors) {
                failed += n;
            }
            rc = written && failed == 0 && !r->data.downloads.empty() ? 0 : 1;
        }
    }
    bench::tear_down(*env);
    if (args.dir.empty() && !args.keep) {
        std::filesystem::remove_all(env->dir, ec);
    } else if (!args.quiet) {
        fmt::print(stderr, "bench: files kept in {}\n", env->dir.string());
    }
    return rc;
}

} // namespace

void register_bench_command(CLI::App& app) {
    auto a = std::make_shared<bench::bench_args>();
    auto* b = app.add_subcommand(
        "bench", "Load test: simulated devices doing complete downloads over HTTPS against an "
                 "SM-DP+ this command starts (or --url/--nodes)");
    b->add_option("-c,--concurrency", a->concurrency, "Simulated devices (one eUICC each)")
        ->capture_default_str();
    b->add_option("-d,--duration", a->duration_s, "Run this many seconds");
    b->add_option("-n,--count", a->count, "Run this many downloads (default 200)");
    b->add_option("--orders", a->orders,
                  "Orders made for a --duration run (default: 1000 per second)");
    b->add_option("--prefill", a->prefill,
                  "Extra released orders written into the store before the run");
    b->add_option("--cancel-every", a->cancel_every,
                  "Every k-th device declines the profile: the LPA sends cancelSession");
    b->add_option("--downloads-per-euicc", a->downloads_per_euicc,
                  "Downloads each eUICC of the pool does (the server's default rules refuse the "
                  "5th per EID in 24 h)")
        ->capture_default_str();
    b->add_option("--sessions", a->sessions,
                  "Only open this many RSP sessions (initiateAuthentication) and report the "
                  "server's memory and database growth per pending session");
    b->add_option("--url", a->url, "An SM-DP+ already running (https://host:port)");
    b->add_option("--nodes", a->nodes,
                  "Several nodes (URLs): the calls of each session are "
                  "spread over them")
        ->delimiter(',');
    b->add_option("--server-pid", a->server_pids,
                  "PIDs of the --url/--nodes server processes, for their CPU time")
        ->delimiter(',');
    b->add_option("--pki", a->pki, "The server's PKI directory (with --url/--nodes)");
    b->add_option("--admin-token-file", a->admin_token_file,
                  "The server's admin token (with --url/--nodes), to create orders");
    b->add_option("--dir", a->dir, "Work here and keep the files (default: a temp dir)");
    b->add_flag("--keep", a->keep, "Keep the temporary directory");
    b->add_option("--json", a->json_file, "Write the results as JSON here");
    b->add_option("--plot", a->plot_file, "Write an SVG of throughput and latency over time");
    b->add_option("--curve", a->curve, "nist or brainpool")->capture_default_str();
    b->add_option("--server-workers", a->server_workers,
                  "worker threads of the server it starts (0: its default, 16 per core)")
        ->capture_default_str();
    b->add_option("--device-nice", a->device_nice,
                  "Nice value of the simulated devices' threads (0: the server's priority); above "
                  "0 the devices run below the server, so that their cryptography, on the same "
                  "cores, cannot delay the answers being timed")
        ->check(CLI::Range(0, 19))
        ->capture_default_str();
    b->add_option("--floor-iterations", a->floor_iterations,
                  "Repetitions of the crypto-floor measurement")
        ->capture_default_str();
    b->add_flag("-q,--quiet", a->quiet, "No progress line");
    b->callback([a] { set_exit_code(run_bench(*a)); });
}

} // namespace esimguard::app
