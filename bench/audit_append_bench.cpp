// Audit appends per second on the real disk: one audit_chain::append per
// event (a commit and a head-file replacement each) against the group-commit
// audit_writer (one of each per batch), with several submitting threads as
// the server's workers would be.
//
//   build/bench/bench_audit [--benchmark_filter=...]
//   ESIMGUARD_BENCH_DIR=/some/disk  (default: the system temp directory)

#include "esimguard/defense/audit_writer.hpp"

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include <unistd.h>

namespace {

using namespace esimguard;

std::filesystem::path fresh_dir() {
    static std::atomic<int> n{0};
    const char* base = std::getenv("ESIMGUARD_BENCH_DIR");
    auto d = std::filesystem::path(base ? base : std::filesystem::temp_directory_path().string()) /
             ("esimguard-bench-audit-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
    std::filesystem::remove_all(d);
    std::filesystem::create_directories(d);
    return d;
}

std::unique_ptr<defense::audit_chain> open_chain(const std::filesystem::path& d) {
    auto log = store::create_sqlite_audit_log({(d / "audit.db").string()});
    if (!log) {
        std::abort();
    }
    defense::audit_chain_config cfg;
    cfg.head_file = d / "audit.head";
    return defense::audit_chain::create(std::move(*log), cfg);
}

defense::audit_entry entry(std::int64_t i) {
    defense::audit_entry e;
    e.kind = store::audit_kind::es9p_call;
    e.actor = "lpa";
    e.eid = "89049032123451234512345678901235";
    e.iccid = "89440000000000010001";
    e.source_address = "192.0.2.1";
    e.outcome = "ok";
    e.reason = "authenticateClient";
    e.detail_json = R"({"transaction_id":"0123456789ABCDEF","n":)" + std::to_string(i) + "}";
    return e;
}

void bm_append_one_by_one(benchmark::State& state) {
    auto d = fresh_dir();
    auto chain = open_chain(d);
    std::int64_t i = 0;
    for (auto _ : state) {
        if (!chain->append(entry(i++))) {
            state.SkipWithError("append failed");
            break;
        }
    }
    state.SetItemsProcessed(i);
    chain.reset();
    std::filesystem::remove_all(d);
}
BENCHMARK(bm_append_one_by_one)->Unit(benchmark::kMillisecond)->UseRealTime();

// Each iteration: `threads` submitters push `per_thread` events, then flush.
void bm_group_commit(benchmark::State& state) {
    const auto threads = static_cast<int>(state.range(0));
    constexpr int per_thread = 2000;
    auto d = fresh_dir();
    auto chain = open_chain(d);
    std::int64_t total = 0;
    {
        defense::audit_writer w(*chain);
        for (auto _ : state) {
            std::vector<std::thread> ts;
            for (int t = 0; t < threads; ++t) {
                ts.emplace_back([&, t] {
                    for (int i = 0; i < per_thread; ++i) {
                        (void)w.submit(entry(t * per_thread + i));
                    }
                });
            }
            for (auto& t : ts) {
                t.join();
            }
            if (!w.flush()) {
                state.SkipWithError("flush failed");
                break;
            }
            total += threads * per_thread;
        }
        state.counters["batches"] = static_cast<double>(w.counters().batches);
    }
    state.SetItemsProcessed(total);
    auto v = chain->verify();
    if (!v || !v->ok) {
        state.SkipWithError("chain does not verify");
    }
    chain.reset();
    std::filesystem::remove_all(d);
}
BENCHMARK(bm_group_commit)->Arg(1)->Arg(8)->Unit(benchmark::kMillisecond)->UseRealTime();

} // namespace

BENCHMARK_MAIN();
