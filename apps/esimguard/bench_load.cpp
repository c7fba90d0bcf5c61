// `esimguard bench` load: one thread per simulated device. Each device owns
// an in-process eUICC (one certificate, reused for every download; the card
// is volatile and starts empty each time, so that installed profiles do not
// pile up and no card state file is timed as the server's work) and an LPA
// whose ES9+ client keeps its HTTPS connections alive. A timing decorator
// around that client measures each ES9+ call and spreads the calls of one
// session over the nodes, round robin.

#include "bench.hpp"

#include "esimguard/apdu/es10_client.hpp"
#include "esimguard/apdu/transports.hpp"
#include "esimguard/asn1/euicc_info.hpp"
#include "esimguard/crypto/random.hpp"
#include "esimguard/lpa/es9p_client.hpp"
#include "esimguard/lpa/lpa.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <condition_variable>
#include <fstream>
#include <sstream>
#include <sys/resource.h>
#include <thread>
#include <unistd.h>

namespace esimguard::app::bench {

std::string_view to_string(es9p_fn f) {
    switch (f) {
    case es9p_fn::initiate_authentication:
        return "initiateAuthentication";
    case es9p_fn::authenticate_client:
        return "authenticateClient";
    case es9p_fn::get_bound_profile_package:
        return "getBoundProfilePackage";
    case es9p_fn::handle_notification:
        return "handleNotification";
    case es9p_fn::cancel_session:
        return "cancelSession";
    }
    return "?";
}

std::uint32_t recorder::now_ms() const {
    return static_cast<std::uint32_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - start_).count());
}

namespace {
std::uint32_t saturate(std::chrono::microseconds d) {
    return static_cast<std::uint32_t>(
        std::clamp<std::int64_t>(d.count(), 0, std::numeric_limits<std::uint32_t>::max()));
}
} // namespace

void recorder::call(es9p_fn f, std::chrono::microseconds latency, bool ok) {
    const sample s{now_ms(), saturate(latency)};
    std::lock_guard lock(mutex_);
    data_.calls[static_cast<std::size_t>(f)].push_back(s);
    if (!ok) {
        ++data_.call_errors[static_cast<std::size_t>(f)];
    }
}

void recorder::download(std::chrono::microseconds latency, const std::string& error_key) {
    const sample s{now_ms(), saturate(latency)};
    std::lock_guard lock(mutex_);
    if (error_key.empty()) {
        data_.downloads.push_back(s);
        ++completed_;
    } else if (error_key == "cancelled") {
        ++data_.cancelled;
    } else {
        ++data_.errors[error_key];
        ++failed_;
    }
}

void recorder::restart(steady::time_point start) {
    std::lock_guard lock(mutex_);
    start_ = start;
    data_ = snapshot{};
    completed_ = 0;
    failed_ = 0;
}

recorder::snapshot recorder::take() const {
    std::lock_guard lock(mutex_);
    return data_;
}

double percentile(std::vector<std::uint32_t>& v, double p) {
    if (v.empty()) {
        return 0;
    }
    std::sort(v.begin(), v.end());
    auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
    rank = std::clamp<std::size_t>(rank, 1, v.size());
    return v[rank - 1];
}

std::optional<double> process_cpu_seconds(pid_t pid) {
    std::ifstream in(fmt::format("/proc/{}/stat", pid));
    std::string line;
    if (!std::getline(in, line)) {
        return std::nullopt;
    }
    // The command name (field 2) may hold spaces: fields are counted after its ')'.
    const auto close = line.rfind(')');
    if (close == std::string::npos) {
        return std::nullopt;
    }
    std::istringstream rest(line.substr(close + 2));
    std::string field;
    unsigned long long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
        if (i == 14) {
            utime = std::stoull(field);
        } else if (i == 15) {
            stime = std::stoull(field);
        }
    }
    return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

std::optional<long> process_rss_kib(pid_t pid) {
    std::ifstream in(fmt::format("/proc/{}/status", pid));
    std::string key;
    while (in >> key) {
        if (key == "VmRSS:") {
            long kib = 0;
            in >> kib;
            return kib;
        }
        in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
    }
    return std::nullopt;
}

namespace {

// Times every ES9+ call and sends it to the next node; the SM-DP+ address in
// the request bodies (and so in the signed data) stays the activation code's.
class timed_es9p_client final : public lpa::es9p_client {
public:
    timed_es9p_client(std::unique_ptr<lpa::es9p_client> inner,
                      const std::vector<std::string>& nodes, recorder& rec, std::size_t first_node)
        : inner_(std::move(inner)), nodes_(nodes), rec_(rec), next_(first_node) {}

private:
    template <typename F>
    auto timed(es9p_fn f, F&& call) {
        const std::string& node = nodes_[next_++ % nodes_.size()];
        const auto t0 = steady::now();
        auto r = call(node);
        rec_.call(f, std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - t0),
                  r.has_value());
        return r;
    }

public:
    lpa::es9p_result<rsp::initiate_authentication_response>
    initiate_authentication(std::string_view,
                            const rsp::initiate_authentication_request& r) override {
        return timed(es9p_fn::initiate_authentication, [&](std::string_view node) {
            return inner_->initiate_authentication(node, r);
        });
    }
    lpa::es9p_result<rsp::authenticate_client_response>
    authenticate_client(std::string_view, const rsp::authenticate_client_request& r) override {
        return timed(es9p_fn::authenticate_client,
                     [&](std::string_view node) { return inner_->authenticate_client(node, r); });
    }
    lpa::es9p_result<rsp::get_bound_profile_package_response>
    get_bound_profile_package(std::string_view,
                              const rsp::get_bound_profile_package_request& r) override {
        return timed(es9p_fn::get_bound_profile_package, [&](std::string_view node) {
            return inner_->get_bound_profile_package(node, r);
        });
    }
    lpa::es9p_result<void> handle_notification(std::string_view,
                                               const rsp::handle_notification_request& r) override {
        return timed(es9p_fn::handle_notification,
                     [&](std::string_view node) { return inner_->handle_notification(node, r); });
    }
    lpa::es9p_result<void> cancel_session(std::string_view,
                                          const rsp::cancel_session_request& r) override {
        return timed(es9p_fn::cancel_session,
                     [&](std::string_view node) { return inner_->cancel_session(node, r); });
    }

private:
    std::unique_ptr<lpa::es9p_client> inner_;
    const std::vector<std::string>& nodes_;
    recorder& rec_;
    std::size_t next_;
};

std::string error_key(const lpa::error& e) {
    if (e.code == lpa::errc::declined && e.cancelled_with) {
        return "cancelled";
    }
    if (e.server_status) {
        return fmt::format("{}/{}", e.server_status->subject_code, e.server_status->reason_code);
    }
    return std::string(lpa::to_string(e.code));
}

step<std::unique_ptr<lpa::es9p_client>> make_client(const environment& env, recorder& rec,
                                                    std::size_t device) {
    lpa::https_es9p_config hc;
    // Every node serves the NIST DPtls chain (see `esimguard demo`).
    hc.trusted_ca_files = {env.pki_dir / "nist" / "ci.pem"};
    auto c = lpa::create_https_es9p_client(hc);
    if (!c) {
        return fail(fmt::format("ES9+ client: {}", c.error().detail));
    }
    return std::unique_ptr<lpa::es9p_client>(
        std::make_unique<timed_es9p_client>(std::move(*c), env.nodes, rec, device));
}

// Lowers the calling thread's priority to `nice` (Linux: per thread). The
// server is another process and keeps its own.
void lower_priority(int nice) {
    if (nice > 0) {
        (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), nice);
    }
}

// One download with a fresh card state; the key key of error_key() when it fails.
std::string one_download(const device_card& card, lpa::es9p_client& client, const work_order& order,
                         bool decline) {
    auto chip = euicc::create_euicc(card.config, {});
    if (!chip) {
        return "bench_card_setup";
    }
    auto c = euicc::create_euicc_card(**chip);
    auto link = apdu::create_card_transport(*c);
    apdu::es10_client es10(*link);
    if (!es10.open()) {
        return "bench_card_setup";
    }
    lpa::lpa assistant(es10, client);
    auto request = lpa::download_request::from_activation_code(order.activation_code);
    if (!request) {
        return "bench_bad_activation_code";
    }
    request->confirmation_code = order.confirmation_code;
    lpa::download_callbacks cb;
    if (decline) {
        cb.confirm_profile = [](const asn1::store_metadata_request&) { return false; };
    }
    auto r = assistant.download_profile(*request, cb);
    if (!r) {
        return error_key(r.error());
    }
    if (!r->notification_sent) {
        return r->notification_failure ? error_key(*r->notification_failure)
                                       : "notification_not_sent";
    }
    return {};
}

// Prints a progress line to stderr once per second until stopped, and a
// last one when stopped (so that even a run shorter than a second shows one).
class progress_line {
public:
    progress_line(const recorder& rec, bool quiet, std::optional<std::size_t> target,
                  std::string_view what = "downloads")
        : rec_(rec) {
        if (quiet) {
            return;
        }
        thread_ = std::thread([this, target, what] {
            std::size_t last = 0;
            std::unique_lock lock(mutex_);
            bool stopping = false;
            while (!stopping) {
                stopping = cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stop_; });
                const std::size_t done = rec_.completed();
                const double t =
                    std::chrono::duration<double>(steady::now() - rec_.start()).count();
                fmt::print(stderr,
                           "bench: {:6.1f} s  {:7} {}{}  {:6} /s now  {:7.1f} /s avg  {} errors\n",
                           t, done, what, target ? fmt::format(" of {}", *target) : std::string(),
                           done - last, t > 0 ? static_cast<double>(done) / t : 0.0, rec_.failed());
                last = done;
            }
        });
    }
    ~progress_line() {
        {
            std::lock_guard lock(mutex_);
            stop_ = true;
        }
        cv_.notify_all();
        if (thread_.joinable()) {
            thread_.join();
        }
    }

private:
    const recorder& rec_;
    std::mutex mutex_;
    std::condition_variable cv_;
    bool stop_ = false;
    std::thread thread_;
};

double own_cpu_seconds() {
    rusage u{};
    ::getrusage(RUSAGE_SELF, &u);
    auto secs = [](const timeval& t) {
        return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
    };
    return secs(u.ru_utime) + secs(u.ru_stime);
}

double server_cpu(const environment& env, bool& ok) {
    double sum = 0;
    ok = !env.server_pids.empty();
    for (pid_t p : env.server_pids) {
        auto s = process_cpu_seconds(p);
        if (!s) {
            ok = false;
            return 0;
        }
        sum += *s;
    }
    return sum;
}

} // namespace

step<run_result> run_load(const bench_args& a, environment& env) {
    if (env.orders.empty()) {
        return fail("no orders to download");
    }
    const std::size_t devices = env.devices;
    recorder rec(steady::now());
    std::vector<std::unique_ptr<lpa::es9p_client>> clients;
    for (std::size_t d = 0; d < devices; ++d) {
        auto c = make_client(env, rec, d);
        if (!c) {
            return std::unexpected(c.error());
        }
        clients.push_back(std::move(*c));
    }

    std::atomic<std::size_t> next{0};
    std::atomic<bool> stop{false};
    const std::size_t limit = env.orders.size();
    const auto deadline =
        a.duration_s
            ? std::optional(steady::now() + std::chrono::duration_cast<steady::duration>(
                                                std::chrono::duration<double>(*a.duration_s)))
            : std::nullopt;

    bool cpu_ok = false;
    const double cpu0 = server_cpu(env, cpu_ok);
    std::optional<long> rss0;
    if (env.server_pids.size() == 1) {
        rss0 = process_rss_kib(env.server_pids.front());
    }
    // The recorder's clock starts with the devices, not with client setup.
    const double own0 = own_cpu_seconds();
    const auto t0 = steady::now();
    rec.restart(t0);
    {
        progress_line progress(rec, a.quiet, a.count);
        std::vector<std::thread> threads;
        for (std::size_t d = 0; d < devices; ++d) {
            threads.emplace_back([&, d] {
                lower_priority(a.device_nice);
                while (!stop.load(std::memory_order_relaxed)) {
                    const std::size_t i = next.fetch_add(1);
                    if (i >= limit) {
                        break;
                    }
                    const bool decline = a.cancel_every > 0 && (i + 1) % a.cancel_every == 0;
                    const auto s = steady::now();
                    const std::string err =
                        one_download(env.cards[(i / env.downloads_per_card) % env.cards.size()],
                                     *clients[d], env.orders[i], decline);
                    const auto e = steady::now();
                    rec.download(std::chrono::duration_cast<std::chrono::microseconds>(e - s), err);
                    if (deadline && e >= *deadline) {
                        stop = true;
                    }
                }
            });
        }
        for (auto& t : threads) {
            t.join();
        }
    }
    run_result out;
    out.wall_s = std::chrono::duration<double>(steady::now() - t0).count();
    out.devices_cpu_s = own_cpu_seconds() - own0;
    bool cpu_ok2 = false;
    const double cpu1 = server_cpu(env, cpu_ok2);
    if (cpu_ok && cpu_ok2) {
        out.server_cpu_s = cpu1 - cpu0;
    }
    if (rss0) {
        out.server_rss_before_kib = rss0;
        out.server_rss_after_kib = process_rss_kib(env.server_pids.front());
    }
    out.data = rec.take();
    if (a.duration_s && next.load() >= limit && !a.quiet) {
        fmt::print(stderr,
                   "bench: all {} orders were used before the duration ended; "
                   "give more with --orders\n",
                   limit);
    }
    return out;
}

step<sessions_result> run_sessions(const bench_args& a, environment& env) {
    sessions_result out;
    if (env.server_pids.size() != 1) {
        return fail("--sessions measures the server it starts (or one --server-pid)");
    }
    const pid_t pid = env.server_pids.front();
    // EUICCInfo1 from a real simulated card, so that the server picks a CI.
    auto chip = euicc::create_euicc(env.cards.front().config, {});
    if (!chip) {
        return fail("cannot create the eUICC for the sessions test");
    }
    const bytes info1 = (*chip)->handle_es10(asn1::encode_get_euicc_info1_request());
    auto decoded = asn1::decode_euicc_info1(info1);
    if (!decoded) {
        return fail("the simulated eUICC's EUICCInfo1 does not decode");
    }
    auto db_bytes = [&] {
        std::uintmax_t n = 0;
        std::error_code ec;
        for (const char* suffix : {"", "-wal", "-shm"}) {
            auto s = fs::file_size(env.database.string() + suffix, ec);
            if (!ec) {
                n += s;
            }
        }
        return n;
    };
    out.rss_before_kib = process_rss_kib(pid).value_or(0);
    out.db_bytes_before = db_bytes();
    recorder rec(steady::now());
    std::atomic<std::size_t> next{0};
    std::atomic<std::size_t> failed{0};
    const auto t0 = steady::now();
    {
        progress_line progress(rec, a.quiet, a.sessions, "sessions");
        std::vector<std::thread> threads;
        for (std::size_t d = 0; d < env.devices; ++d) {
            threads.emplace_back([&, d] {
                auto c = make_client(env, rec, d);
                if (!c) {
                    failed += 1;
                    return;
                }
                while (next.fetch_add(1) < a.sessions) {
                    rsp::initiate_authentication_request req;
                    req.smdp_address = env.nodes.front();
                    auto ch = crypto::random_bytes(16);
                    if (ch) {
                        std::copy(ch->begin(), ch->end(), req.euicc_challenge.begin());
                    }
                    req.euicc_info1_der = info1;
                    req.euicc_info1 = *decoded;
                    const auto s = steady::now();
                    auto r = (*c)->initiate_authentication(env.nodes.front(), req);
                    rec.download(
                        std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - s),
                        r ? std::string() : std::string("initiate_failed"));
                    if (!r) {
                        failed += 1;
                    }
                }
            });
        }
        for (auto& t : threads) {
            t.join();
        }
    }
    out.wall_s = std::chrono::duration<double>(steady::now() - t0).count();
    out.failed = failed.load();
    out.opened = a.sessions - std::min(out.failed, a.sessions);
    out.rss_after_kib = process_rss_kib(pid).value_or(0);
    out.db_bytes_after = db_bytes();
    return out;
}

} // namespace esimguard::app::bench
