#pragma once
/// Bucketed event counts kept in the database, so that every server node
/// sees the others' events (an attacker who spreads guesses over the nodes
/// behind a load balancer is still counted once). defense::counter_backend
/// has an implementation over this interface (esimguard/defense/shared_counters.hpp);
/// the store knows nothing of rules or windows, only of rows
/// risk_counts(series, key, bucket, n).

#include "esimguard/store/types.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace esimguard::store {

/// The shared counter table. Thread-safe; every call is one transaction.
class shared_counter_store {
public:
    virtual ~shared_counter_store() = default;

    /// Adds `amount` to (series, key, bucket) — an atomic upsert, so
    /// concurrent nodes never lose an increment — and returns the sum of
    /// that key's buckets in [first_bucket, bucket], this addition included.
    [[nodiscard]] virtual result<std::uint64_t> add(std::string_view series, std::string_view key,
                                                    std::int64_t bucket, std::uint32_t amount,
                                                    std::int64_t first_bucket) = 0;

    /// The sum of (series, key)'s buckets in [first_bucket, last_bucket].
    [[nodiscard]] virtual result<std::uint64_t> sum(std::string_view series, std::string_view key,
                                                    std::int64_t first_bucket,
                                                    std::int64_t last_bucket) = 0;

    /// Deletes every bucket of (series, key).
    [[nodiscard]] virtual result<void> reset(std::string_view series, std::string_view key) = 0;

    /// Deletes the buckets of `series` older than `first_bucket` (they no
    /// longer count), then, if more than `max_rows` rows of `series` remain,
    /// those of the oldest buckets beyond that bound (a spray of new keys
    /// then costs counts, not unbounded rows). Returns the rows deleted.
    [[nodiscard]] virtual result<std::size_t>
    sweep(std::string_view series, std::int64_t first_bucket, std::size_t max_rows) = 0;

    /// Distinct keys with at least one bucket in `series` (for metrics).
    [[nodiscard]] virtual result<std::size_t> keys(std::string_view series) = 0;
};

} // namespace esimguard::store
