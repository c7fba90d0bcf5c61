#pragma once
/// A small thread-safe metrics registry rendered in the Prometheus text
/// exposition format (version 0.0.4), for the /metrics endpoint of each
/// server. Counters and fixed-bucket histograms, both with labels.

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace esimguard::http {

/// Label name/value pairs of one series, e.g. {{"route", "/x"}, {"status", "200"}}.
/// Order does not matter: series are keyed by the sorted set.
using metric_labels = std::vector<std::pair<std::string, std::string>>;

/// A monotonically increasing count. Thread-safe, lock-free.
class metric_counter {
public:
    void inc(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
    [[nodiscard]] std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::uint64_t> value_{0};
};

/// A distribution over fixed upper bounds (Prometheus "le" buckets).
/// Thread-safe, lock-free.
class metric_histogram {
public:
    /// `upper_bounds` ascending, without +Inf (always added).
    explicit metric_histogram(std::vector<double> upper_bounds);
    void observe(double v);
    [[nodiscard]] const std::vector<double>& upper_bounds() const { return bounds_; }
    /// Non-cumulative count of bucket i (the last is +Inf).
    [[nodiscard]] std::uint64_t bucket_count(std::size_t i) const;
    [[nodiscard]] std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }
    [[nodiscard]] double sum() const { return sum_.load(std::memory_order_relaxed); }

private:
    std::vector<double> bounds_;
    std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;
    std::atomic<std::uint64_t> count_{0};
    std::atomic<double> sum_{0.0};
};

/// Default latency buckets in seconds (5 ms … 10 s).
std::vector<double> default_latency_buckets();

/// Named metric families. Lookups take a mutex: callers on hot paths keep the
/// returned reference, which stays valid for the registry's lifetime.
/// Registering one name as two types, an invalid metric or label name, or one
/// histogram name with other buckets is a programming error: it aborts.
class metrics_registry {
public:
    /// The Content-Type of render()'s output.
    static constexpr std::string_view content_type = "text/plain; version=0.0.4; charset=utf-8";

    /// The counter of family `name` with these labels, created on first use.
    /// `help` is taken from the first call for the family.
    metric_counter& counter(std::string_view name, std::string_view help,
                            const metric_labels& labels = {});
    /// The histogram of family `name` with these labels, created on first use.
    metric_histogram& histogram(std::string_view name, std::string_view help,
                                const std::vector<double>& upper_bounds,
                                const metric_labels& labels = {});

    /// Every family in the text format: # HELP, # TYPE, then one line per
    /// series (histograms: _bucket{le=…} cumulative, _sum, _count).
    [[nodiscard]] std::string render() const;

private:
    enum class kind { counter, histogram };
    struct family {
        kind type;
        std::string help;
        std::vector<double> bounds;
        std::map<metric_labels, std::unique_ptr<metric_counter>> counters;
        std::map<metric_labels, std::unique_ptr<metric_histogram>> histograms;
    };
    family& family_of(std::string_view name, std::string_view help, kind type,
                      const std::vector<double>& bounds);

    mutable std::mutex mutex_;
    std::map<std::string, family, std::less<>> families_;
};

} // namespace esimguard::http
