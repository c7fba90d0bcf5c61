#pragma once
// `esimguard bench`: the load generator's parts. bench_command.cpp wires them:
// bench_setup.cpp makes the PKI, the orders and the server; bench_load.cpp
// runs the simulated devices; bench_floor.cpp times the server-side
// cryptography of one download; bench_report.cpp prints and writes results.

#include "esimguard/crypto/keys.hpp"
#include "esimguard/euicc/euicc.hpp"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace esimguard::app::bench {

namespace fs = std::filesystem;
using steady = std::chrono::steady_clock;

/// Everything the command line sets.
struct bench_args {
    std::size_t concurrency = 8;
    std::optional<double> duration_s;
    std::optional<std::size_t> count;
    /// Orders made for a --duration run (0: 1000 per second of duration).
    std::size_t orders = 0;
    std::size_t prefill = 0;
    /// Every k-th download declines the profile, so that the LPA sends cancelSession.
    std::size_t cancel_every = 0;
    /// Downloads per eUICC of the pool (the default rules refuse the 5th per EID a day).
    std::size_t downloads_per_euicc = 4;
    /// initiateAuthentication only, this many sessions left open; memory per session.
    std::size_t sessions = 0;
    std::string url;
    std::vector<std::string> nodes;
    std::vector<int> server_pids;
    std::string pki;
    std::string admin_token_file;
    std::string dir;
    bool keep = false;
    std::string json_file;
    std::string plot_file;
    std::string curve = "nist";
    unsigned server_workers = 0;
    /// Nice value of the device threads (the server keeps its own), to keep
    /// the simulated devices' cryptography from stretching the answers they
    /// time; 0 by default (measured: no difference once the server commits
    /// 6 times per download, see docs/PERFORMANCE.md).
    int device_nice = 0;
    std::size_t floor_iterations = 200;
    bool quiet = false;
};

/// A failure of one bench step: what to tell the user.
struct failure {
    std::string message;
};
template <typename T>
using step = std::expected<T, failure>;
inline std::unexpected<failure> fail(std::string message) {
    return std::unexpected(failure{std::move(message)});
}

/// The five ES9+ functions (SGP.22 §5.6), in the order of a download.
enum class es9p_fn : std::uint8_t {
    initiate_authentication,
    authenticate_client,
    get_bound_profile_package,
    handle_notification,
    cancel_session,
};
inline constexpr std::size_t es9p_fn_count = 5;
std::string_view to_string(es9p_fn f);

/// An order a device downloads: its activation code and confirmation code.
struct work_order {
    std::string activation_code;
    std::string confirmation_code;
};

/// One eUICC of the pool: its config, made once (key and certificate
/// handling are not part of what is measured).
struct device_card {
    euicc::euicc_config config;
};

/// Thread-safe sink of what the devices measured; times are relative to start.
class recorder {
public:
    explicit recorder(steady::time_point start) : start_(start) {}

    void call(es9p_fn f, std::chrono::microseconds latency, bool ok);
    /// One download's end. `error_key` empty when it completed; "cancelled"
    /// when the device declined on purpose; else the SGP.22 code or the kind.
    void download(std::chrono::microseconds latency, const std::string& error_key);

    struct sample {
        std::uint32_t end_ms;     ///< since start
        std::uint32_t latency_us; ///< saturates at ~71 minutes
    };
    struct snapshot {
        std::vector<sample> calls[es9p_fn_count];
        std::size_t call_errors[es9p_fn_count] = {};
        std::vector<sample> downloads; ///< completed ones
        std::size_t cancelled = 0;
        std::map<std::string, std::size_t> errors;
    };
    [[nodiscard]] snapshot take() const;
    /// Forgets everything and counts time from `start`.
    void restart(steady::time_point start);
    [[nodiscard]] std::size_t completed() const { return completed_.load(); }
    [[nodiscard]] std::size_t failed() const { return failed_.load(); }
    [[nodiscard]] steady::time_point start() const { return start_; }

private:
    std::uint32_t now_ms() const;

    steady::time_point start_;
    mutable std::mutex mutex_;
    snapshot data_;
    std::atomic<std::size_t> completed_{0};
    std::atomic<std::size_t> failed_{0};
};

/// What the setup made: where the devices go and what they download.
struct environment {
    fs::path dir;
    fs::path pki_dir;
    crypto::curve curve = crypto::curve::nist_p256;
    /// host:port of every node the calls are spread over.
    std::vector<std::string> nodes;
    std::vector<work_order> orders;
    /// The eUICC pool; download i uses card i / downloads_per_card.
    std::vector<device_card> cards;
    std::size_t downloads_per_card = 4;
    /// Simulated devices (threads), each with a volatile card, new for each download.
    std::size_t devices = 1;
    /// Server processes whose CPU time is charged to the run.
    std::vector<pid_t> server_pids;
    /// The child we started (stopped at the end), if any.
    std::optional<pid_t> child;
    fs::path database;
    std::size_t package_bytes = 0;
    std::string first_eid;
};

/// PKI, eUICCs, orders (direct SQLite inserts) and a spawned server, or
/// orders through the admin API of the server(s) named by --url/--nodes.
[[nodiscard]] step<environment> set_up(const bench_args& a, const fs::path& self_exe);
/// Stops the child server (SIGTERM, then waits).
void tear_down(environment& env);

/// The time the server-side cryptography of one download takes in this
/// process with the keys of `env`'s PKI, microseconds, by kind of work.
struct crypto_floor {
    double sign_us = 0;   ///< serverSignature1, smdpSignature2, InitialiseSecureChannel
    double verify_us = 0; ///< eUICC chain (with CRL), euiccSignature1/2, the PIR signature
    double keygen_us = 0; ///< otSK.DP.ECKA
    double ecdh_us = 0;   ///< ECKA + X9.63 KDF
    double bsp_us = 0;    ///< BF36: ConfigureISDP, StoreMetadata, the profile segments; hashCc
    double total_us = 0;
    std::size_t iterations = 0;
};
[[nodiscard]] step<crypto_floor> measure_crypto_floor(const environment& env,
                                                      std::size_t iterations);

/// What one load run produced.
struct run_result {
    recorder::snapshot data;
    double wall_s = 0;
    std::optional<double> server_cpu_s;
    /// CPU time of this process (the simulated devices) over the run.
    double devices_cpu_s = 0;
    std::optional<long> server_rss_before_kib;
    std::optional<long> server_rss_after_kib;
};

/// Runs the devices until --count downloads or --duration passed.
[[nodiscard]] step<run_result> run_load(const bench_args& a, environment& env);
/// Opens `a.sessions` RSP sessions (initiateAuthentication only) and measures
/// the server's RSS and database growth per session.
struct sessions_result {
    std::size_t opened = 0;
    std::size_t failed = 0;
    double wall_s = 0;
    long rss_before_kib = 0;
    long rss_after_kib = 0;
    std::uintmax_t db_bytes_before = 0;
    std::uintmax_t db_bytes_after = 0;
};
[[nodiscard]] step<sessions_result> run_sessions(const bench_args& a, environment& env);

/// utime+stime of a process in seconds, from /proc/<pid>/stat.
[[nodiscard]] std::optional<double> process_cpu_seconds(pid_t pid);
/// VmRSS of a process in KiB, from /proc/<pid>/status.
[[nodiscard]] std::optional<long> process_rss_kib(pid_t pid);

/// Prints the table; writes --json and --plot when asked. false when a file
/// could not be written.
bool report(const bench_args& a, const environment& env, const run_result& r,
            const std::optional<crypto_floor>& floor);
bool report_sessions(const bench_args& a, const sessions_result& r);

/// The SVG of throughput and latency per second of the run.
[[nodiscard]] std::string render_plot(const recorder::snapshot& s, double wall_s);

/// The p-th percentile (0..100) of `v` (sorted in place), nearest rank; 0 when empty.
double percentile(std::vector<std::uint32_t>& v, double p);

} // namespace esimguard::app::bench
