// Sliding-window counters over the shared risk_counts table (design in
// risk_counters.hpp): each add() is one atomic upsert-and-sum in the
// database, so nodes behind a load balancer add up each other's events.

#include "esimguard/defense/shared_counters.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>

namespace esimguard::defense {

namespace {

std::int64_t bucket_of(risk_time_point now, std::int64_t bucket_ms) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    // Floor division, so that times before the epoch (tests) still fall into
    // consecutive buckets.
    std::int64_t q = ms / bucket_ms;
    if (ms % bucket_ms < 0) {
        --q;
    }
    return q;
}

/// FNV-1a: stable across builds and nodes, unlike std::hash.
std::uint64_t fnv1a(std::string_view s) {
    std::uint64_t h = 1469598103934665603ULL;
    for (unsigned char c : s) {
        h ^= c;
        h *= 1099511628211ULL;
    }
    return h;
}

class shared_counter_backend final : public counter_backend {
public:
    shared_counter_backend(std::unique_ptr<store::shared_counter_store> table,
                           const shared_counter_config& config)
        : table_(std::move(table)), config_(config),
          buckets_(std::clamp(config.buckets_per_window, 1u, 64u)) {}

    risk_result<std::uint64_t> add(const counter_series& series, std::string_view key,
                                   std::uint32_t amount, risk_time_point now) override {
        auto& info = series_info(series);
        const std::int64_t b = bucket_of(now, info.bucket_ms);
        const std::int64_t first = b - static_cast<std::int64_t>(buckets_) + 1;
        auto k = stored_key(key);
        auto n = table_->add(info.name, k, b, amount, first);
        if (!n) {
            return std::unexpected(unavailable(n.error()));
        }
        maybe_sweep(info, first, now);
        return *n;
    }

    risk_result<std::uint64_t> count(const counter_series& series, std::string_view key,
                                     risk_time_point now) override {
        auto& info = series_info(series);
        const std::int64_t b = bucket_of(now, info.bucket_ms);
        auto n =
            table_->sum(info.name, stored_key(key), b - static_cast<std::int64_t>(buckets_) + 1, b);
        if (!n) {
            return std::unexpected(unavailable(n.error()));
        }
        return *n;
    }

    void reset(const counter_series& series, std::string_view key) override {
        // Best effort by the interface (void): a failed reset leaves a count
        // that the window forgets by itself.
        (void)table_->reset(series.name(), stored_key(key));
    }

    counter_stats stats() const override {
        std::lock_guard lock(m_);
        counter_stats s;
        for (const auto& [name, info] : series_) {
            auto d = static_cast<std::size_t>(info.dimension);
            s.tracked_keys[d] += info.keys_at_sweep;
            s.evictions[d] += info.evicted;
        }
        return s;
    }

private:
    struct info_t {
        std::string name;
        risk_dimension dimension = risk_dimension::source_ip;
        std::int64_t bucket_ms = 1;
        risk_time_point last_sweep{};
        bool swept = false;
        std::size_t keys_at_sweep = 0;
        std::uint64_t evicted = 0;
    };

    info_t& series_info(const counter_series& series) {
        auto name = series.name();
        std::lock_guard lock(m_);
        auto it = series_.find(name);
        if (it == series_.end()) {
            info_t i;
            i.name = name;
            i.dimension = series.dimension;
            auto window_ms = std::chrono::duration_cast<std::chrono::milliseconds>(series.window);
            i.bucket_ms = std::max<std::int64_t>(1, window_ms.count() / buckets_);
            it = series_.emplace(name, std::move(i)).first;
        }
        // std::map nodes are stable; entries are never erased.
        return it->second;
    }

    void maybe_sweep(info_t& info, std::int64_t first_bucket, risk_time_point now) {
        {
            std::lock_guard lock(m_);
            if (info.swept && now - info.last_sweep < config_.sweep_interval) {
                return;
            }
            // Claimed by this caller; concurrent adds of the series skip it.
            info.swept = true;
            info.last_sweep = now;
        }
        auto deleted = table_->sweep(info.name, first_bucket, config_.max_rows_per_series);
        auto keys = table_->keys(info.name);
        std::lock_guard lock(m_);
        if (deleted) {
            info.evicted += *deleted;
        }
        if (keys) {
            info.keys_at_sweep = *keys;
        }
    }

    std::string stored_key(std::string_view key) const {
        if (key.size() <= config_.max_key_bytes) {
            return std::string(key);
        }
        return fmt::format("#{:016x}", fnv1a(key));
    }

    static risk_error unavailable(const store::error& e) {
        return {risk_errc::unavailable, "shared counters: " + e.message};
    }

    std::unique_ptr<store::shared_counter_store> table_;
    shared_counter_config config_;
    unsigned buckets_;
    mutable std::mutex m_;
    std::map<std::string, info_t, std::less<>> series_;
};

} // namespace

std::unique_ptr<counter_backend>
create_shared_counter_backend(std::unique_ptr<store::shared_counter_store> table,
                              const shared_counter_config& config) {
    return std::make_unique<shared_counter_backend>(std::move(table), config);
}

} // namespace esimguard::defense
