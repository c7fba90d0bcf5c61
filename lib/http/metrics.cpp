#include "esimguard/http/metrics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace esimguard::http {

namespace {

bool valid_name(std::string_view s, bool allow_colon) {
    if (s.empty()) {
        return false;
    }
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                           (allow_colon && c == ':');
        const bool digit = c >= '0' && c <= '9';
        if (!alpha && !(digit && i > 0)) {
            return false;
        }
    }
    return true;
}

[[noreturn]] void misuse(std::string_view what, std::string_view name) {
    // A metric declared wrongly is a bug in our code, found at the first use.
    std::fprintf(stderr, "metrics_registry: %.*s: %.*s\n", static_cast<int>(what.size()),
                 what.data(), static_cast<int>(name.size()), name.data());
    std::abort();
}

metric_labels normalised(const metric_labels& labels) {
    metric_labels l = labels;
    std::sort(l.begin(), l.end());
    for (const auto& [k, v] : l) {
        if (!valid_name(k, false) || k.starts_with("__") || k == "le") {
            misuse("invalid label name", k);
        }
    }
    return l;
}

// Label values are arbitrary text: escape as the 0.0.4 format requires.
std::string escape_value(std::string_view v) {
    std::string out;
    out.reserve(v.size());
    for (char c : v) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '"') {
            out += "\\\"";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

std::string escape_help(std::string_view v) {
    std::string out;
    for (char c : v) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

std::string format_number(double v) {
    if (std::isinf(v)) {
        return v > 0 ? "+Inf" : "-Inf";
    }
    if (std::isnan(v)) {
        return "NaN";
    }
    return fmt::format("{}", v);
}

// {a="x",b="y"} with an optional extra label (le) last; empty when no labels.
std::string label_text(const metric_labels& labels, std::string_view extra_name = {},
                       std::string_view extra_value = {}) {
    if (labels.empty() && extra_name.empty()) {
        return {};
    }
    std::string out = "{";
    bool first = true;
    for (const auto& [k, v] : labels) {
        out += fmt::format("{}{}=\"{}\"", first ? "" : ",", k, escape_value(v));
        first = false;
    }
    if (!extra_name.empty()) {
        out += fmt::format("{}{}=\"{}\"", first ? "" : ",", extra_name, extra_value);
    }
    out += "}";
    return out;
}

} // namespace

metric_histogram::metric_histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)),
      buckets_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1)) {
    if (!std::is_sorted(bounds_.begin(), bounds_.end()) ||
        std::adjacent_find(bounds_.begin(), bounds_.end()) != bounds_.end()) {
        misuse("histogram bounds not strictly ascending", "");
    }
}

void metric_histogram::observe(double v) {
    const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), v);
    buckets_[static_cast<std::size_t>(it - bounds_.begin())].fetch_add(1,
                                                                       std::memory_order_relaxed);
    sum_.fetch_add(v, std::memory_order_relaxed);
    count_.fetch_add(1, std::memory_order_relaxed);
}

std::uint64_t metric_histogram::bucket_count(std::size_t i) const {
    return i <= bounds_.size() ? buckets_[i].load(std::memory_order_relaxed) : 0;
}

std::vector<double> default_latency_buckets() {
    return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

metrics_registry::family& metrics_registry::family_of(std::string_view name, std::string_view help,
                                                      kind type,
                                                      const std::vector<double>& bounds) {
    auto it = families_.find(name);
    if (it == families_.end()) {
        if (!valid_name(name, true)) {
            misuse("invalid metric name", name);
        }
        it = families_.emplace(std::string(name), family{type, std::string(help), bounds, {}, {}})
                 .first;
    }
    if (it->second.type != type) {
        misuse("metric registered with two types", name);
    }
    if (type == kind::histogram && it->second.bounds != bounds) {
        misuse("histogram registered with two bucket layouts", name);
    }
    return it->second;
}

metric_counter& metrics_registry::counter(std::string_view name, std::string_view help,
                                          const metric_labels& labels) {
    auto key = normalised(labels);
    std::lock_guard lock(mutex_);
    auto& f = family_of(name, help, kind::counter, {});
    auto& slot = f.counters[std::move(key)];
    if (!slot) {
        slot = std::make_unique<metric_counter>();
    }
    return *slot;
}

metric_histogram& metrics_registry::histogram(std::string_view name, std::string_view help,
                                              const std::vector<double>& upper_bounds,
                                              const metric_labels& labels) {
    auto key = normalised(labels);
    std::lock_guard lock(mutex_);
    auto& f = family_of(name, help, kind::histogram, upper_bounds);
    auto& slot = f.histograms[std::move(key)];
    if (!slot) {
        slot = std::make_unique<metric_histogram>(upper_bounds);
    }
    return *slot;
}

std::string metrics_registry::render() const {
    std::lock_guard lock(mutex_);
    std::string out;
    for (const auto& [name, f] : families_) {
        out += fmt::format("# HELP {} {}\n", name, escape_help(f.help));
        if (f.type == kind::counter) {
            out += fmt::format("# TYPE {} counter\n", name);
            for (const auto& [labels, c] : f.counters) {
                out += fmt::format("{}{} {}\n", name, label_text(labels), c->value());
            }
            continue;
        }
        out += fmt::format("# TYPE {} histogram\n", name);
        for (const auto& [labels, h] : f.histograms) {
            // Buckets are cumulative in the exposition format.
            std::uint64_t cumulative = 0;
            for (std::size_t i = 0; i <= f.bounds.size(); ++i) {
                cumulative += h->bucket_count(i);
                const std::string le =
                    i < f.bounds.size() ? format_number(f.bounds[i]) : std::string("+Inf");
                out +=
                    fmt::format("{}_bucket{} {}\n", name, label_text(labels, "le", le), cumulative);
            }
            out += fmt::format("{}_sum{} {}\n", name, label_text(labels), format_number(h->sum()));
            // _count from the same snapshot as the buckets, so that they agree.
            out += fmt::format("{}_count{} {}\n", name, label_text(labels), cumulative);
        }
    }
    return out;
}

} // namespace esimguard::http
