#pragma once
/// Sliding-window event counters of the risk engine, and the backend
/// interface through which several server nodes add up their counts.
///
/// A counter is identified by a series (what is counted, by which dimension,
/// over which window) and a key (the dimension's value: an address, an EID,
/// ...). A window of length W is split into B buckets of W/B each; a count is
/// the sum of the last B buckets, the current one included. So the window is
/// approximately sliding: an event stops counting between W - W/B and W after
/// it happened. Adding and reading are O(B) at worst and O(1) typically.
///
/// ## A shared backend (PostgreSQL, later)
///
/// Nodes that share a store must see each other's events, otherwise an
/// attacker spreads guesses over the nodes behind a load balancer. A shared
/// implementation keeps one row per bucket:
///
///     risk_counts(series TEXT, key TEXT, bucket BIGINT, n BIGINT,
///                 PRIMARY KEY (series, key, bucket))
///
/// where `series` is counter_series::name() and `bucket` is
/// floor(now / (window / buckets)). add() is one statement:
///
///     INSERT ... VALUES (...) ON CONFLICT (series, key, bucket)
///       DO UPDATE SET n = risk_counts.n + EXCLUDED.n;
///     SELECT sum(n) FROM risk_counts
///       WHERE series = $1 AND key = $2 AND bucket > $current - buckets;
///
/// (in one transaction, or as a CTE), so concurrent nodes never lose an
/// increment and each sees a total that includes its own event. Old buckets
/// are deleted by a periodic sweep; the bound on memory becomes a bound on
/// rows, enforced by that sweep (oldest `bucket` first). A shared backend
/// should sit behind a small local cache only for reads that may be stale
/// (precheck never reads counters, so none are needed on the hot path).
/// When the store is unreachable, add() returns risk_errc::unavailable and the
/// engine applies its fail-open/fail-closed policy.

#include "esimguard/defense/risk_types.hpp"

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace esimguard::defense {

/// What one family of counters counts. Rules with equal series share counters.
struct counter_series {
    risk_event_kind kind = risk_event_kind::request;
    /// The dimension whose value is the key; the per-dimension key cap applies.
    risk_dimension dimension = risk_dimension::source_ip;
    /// Window length; at least one second.
    std::chrono::seconds window{600};
    /// Set for the helper series of a distinct count (see risk_rule::distinct):
    /// the key is then the pair (dimension value, distinct value).
    std::optional<risk_dimension> distinct = std::nullopt;

    /// A stable text name, e.g. "unknown_matching_id/source_ip/600s" or
    /// "profile_tried_by_eid/iccid+eid/86400s"; what a shared backend stores.
    [[nodiscard]] std::string name() const;
    friend bool operator==(const counter_series&, const counter_series&) = default;
};

/// How many keys a backend tracks and what it has thrown away, for metrics.
/// A rising eviction count means a spray (or a cap set too small).
struct counter_stats {
    std::array<std::size_t, risk_dimension_count> tracked_keys{};
    std::array<std::uint64_t, risk_dimension_count> evictions{};
    [[nodiscard]] std::size_t tracked(risk_dimension d) const {
        return tracked_keys[static_cast<std::size_t>(d)];
    }
    [[nodiscard]] std::uint64_t evicted(risk_dimension d) const {
        return evictions[static_cast<std::size_t>(d)];
    }
};

/// Where counts live. Implementations are thread-safe: server worker threads
/// call them at once. Every call takes `now` from the caller's clock.
class counter_backend {
public:
    virtual ~counter_backend() = default;

    /// Adds `amount` events to (series, key) at `now` and returns the windowed
    /// total including them, as seen after the addition (on a shared backend:
    /// including other nodes' events). Fails only on a shared backend
    /// (unavailable) or when the implementation's series limit is hit (capacity).
    [[nodiscard]] virtual risk_result<std::uint64_t> add(const counter_series& series,
                                                         std::string_view key, std::uint32_t amount,
                                                         risk_time_point now) = 0;

    /// The windowed total of (series, key) at `now`, without adding and
    /// without making the key more recently seen. Unknown keys count 0.
    [[nodiscard]] virtual risk_result<std::uint64_t>
    count(const counter_series& series, std::string_view key, risk_time_point now) = 0;

    /// Forgets (series, key), e.g. when an operator releases a paused order
    /// and wants its count to start again.
    virtual void reset(const counter_series& series, std::string_view key) = 0;

    /// Current key counts and evictions per dimension.
    [[nodiscard]] virtual counter_stats stats() const = 0;
};

/// Limits of the in-memory backend. Memory is bounded by the key caps: each
/// tracked (series, key) costs about 150 bytes with B = 10 and a key of up to
/// 14 characters (slot 32 + counts 4·B + hash node 64 + bucket pointer ~8;
/// measured 156 B with glibc, 145 B under ASan), plus the key's own
/// allocation beyond that (at most max_key_bytes + 2, rounded up by malloc);
/// risk_counters_test's spray test measures it.
struct memory_counter_config {
    /// Tracked (series, key) entries per dimension, across all its series.
    /// When full, the least recently seen entry of that dimension's shard is
    /// evicted, so a spray of new keys cannot grow memory: it only evicts.
    std::size_t max_keys_per_dimension = 100'000;
    /// Per-dimension overrides of max_keys_per_dimension.
    std::map<risk_dimension, std::size_t> max_keys = {};
    /// Buckets per window (B). More buckets slide more smoothly and cost 4
    /// bytes each per entry. 1..64.
    unsigned buckets_per_window = 10;
    /// Mutex shards per dimension; each holds cap / shards entries and evicts
    /// its own least recently seen one, so LRU order is exact within a shard
    /// and approximate across shards. 1..256.
    unsigned shards = 16;
    /// Keys longer than this are replaced by a 64-bit hash of themselves.
    /// Legitimate keys (addresses, EIDs, ICCIDs, matching IDs) are shorter, so
    /// only garbage gets folded; it bounds what an attacker's 10 KB "matching
    /// ID" costs to keep.
    std::size_t max_key_bytes = 64;
};

/// The in-memory backend: per-process counts, sharded mutexes, LRU eviction
/// at the per-dimension caps. Invalid config (0 buckets, 0 shards, ...) is
/// clamped into range rather than refused, since there is nothing else to run.
[[nodiscard]] std::unique_ptr<counter_backend>
create_memory_counter_backend(const memory_counter_config& config = {});

} // namespace esimguard::defense
