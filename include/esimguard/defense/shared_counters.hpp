#pragma once
/// The risk engine's counters kept in the shared database (issue 6), so that
/// every server node counts every node's events: a counter_backend over
/// store::shared_counter_store (the PostgreSQL risk_counts table). The window
/// arithmetic is the in-memory backend's (B buckets of window/B), so a rule
/// behaves the same on one node and on many.

#include "esimguard/defense/risk_counters.hpp"
#include "esimguard/store/counter_store.hpp"

#include <chrono>
#include <cstddef>
#include <memory>

namespace esimguard::defense {

/// Limits of the shared backend.
struct shared_counter_config {
    /// Buckets per window (B), 1..64; the same meaning as in memory_counter_config.
    unsigned buckets_per_window = 10;
    /// Rows kept per series at most: the sweep deletes the oldest buckets
    /// beyond this, so a spray of new keys cannot grow the table without bound.
    std::size_t max_rows_per_series = 1'000'000;
    /// How often (by the callers' clock) a series is swept of buckets that
    /// left its window; the sweep runs inside an add() of that series.
    std::chrono::seconds sweep_interval{60};
    /// Keys longer than this are replaced by a 64-bit hash of themselves
    /// (the same on every node), as in the in-memory backend.
    std::size_t max_key_bytes = 64;
};

/// A counter_backend over `table`. add() and count() are one database round
/// trip each; a database error becomes risk_errc::unavailable, so the engine
/// applies its fail-open/fail-closed policy. stats() reports the keys seen at
/// the last sweep of each series, and as evictions the bucket rows sweeps deleted.
[[nodiscard]] std::unique_ptr<counter_backend>
create_shared_counter_backend(std::unique_ptr<store::shared_counter_store> table,
                              const shared_counter_config& config = {});

} // namespace esimguard::defense
