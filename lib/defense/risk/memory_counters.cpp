// The in-memory counter backend: sliding windows of B buckets per
// (series, key), sharded by key, bounded by an LRU cap per dimension.
//
// Memory layout is chosen for the spray case (millions of one-off keys): one
// hash node per entry (key -> slot index), and the slot and its B counts in
// two flat vectors that never grow past the shard's cap. On eviction the
// least recently seen slot and its hash node are reused in place, so once a
// shard is full, a spray allocates nothing at all.

#include "esimguard/defense/risk_counters.hpp"

#include <algorithm>
#include <atomic>
#include <limits>
#include <mutex>
#include <unordered_map>
#include <vector>

#include <fmt/core.h>

namespace esimguard::defense {

std::string counter_series::name() const {
    std::string dim(to_string(dimension));
    if (distinct) {
        dim += '+';
        dim += to_string(*distinct);
    }
    return fmt::format("{}/{}/{}s", to_string(kind), dim, window.count());
}

namespace {

constexpr std::uint32_t npos = std::numeric_limits<std::uint32_t>::max();
// The series index is the first byte of every map key.
constexpr std::size_t max_series = 255;

struct slot {
    std::uint32_t prev = npos; // towards the most recently seen
    std::uint32_t next = npos; // towards the least recently seen
    std::int64_t last_bucket = 0;
    std::uint64_t total = 0;
    const std::string* key = nullptr; // the map node's key, stable until erased
};

struct shard {
    std::mutex mutex;
    std::unordered_map<std::string, std::uint32_t> index;
    std::vector<slot> slots;
    std::vector<std::uint32_t> counts; // slots.size() * buckets
    std::uint32_t head = npos;         // most recently seen
    std::uint32_t tail = npos;         // least recently seen: evicted first
    std::size_t cap = 1;
    std::uint64_t evictions = 0;

    void unlink(std::uint32_t i) {
        slot& s = slots[i];
        if (s.prev != npos) {
            slots[s.prev].next = s.next;
        } else {
            head = s.next;
        }
        if (s.next != npos) {
            slots[s.next].prev = s.prev;
        } else {
            tail = s.prev;
        }
        s.prev = s.next = npos;
    }

    void push_front(std::uint32_t i) {
        slot& s = slots[i];
        s.prev = npos;
        s.next = head;
        if (head != npos) {
            slots[head].prev = i;
        }
        head = i;
        if (tail == npos) {
            tail = i;
        }
    }
};

struct series_info {
    counter_series series;
    std::int64_t bucket_ms = 1;
};

std::int64_t bucket_of(risk_time_point now, std::int64_t bucket_ms) {
    const auto ms = std::chrono::floor<std::chrono::milliseconds>(now.time_since_epoch()).count();
    // Floor division, so that times before the epoch (only in odd tests)
    // still fall into consecutive buckets.
    std::int64_t q = ms / bucket_ms;
    if (ms % bucket_ms < 0) {
        --q;
    }
    return q;
}

class memory_counter_backend final : public counter_backend {
public:
    explicit memory_counter_backend(const memory_counter_config& config)
        : buckets_(std::clamp(config.buckets_per_window, 1u, 64u)),
          max_key_bytes_(std::max<std::size_t>(config.max_key_bytes, 8)) {
        for (std::size_t d = 0; d < risk_dimension_count; ++d) {
            std::size_t cap = config.max_keys_per_dimension;
            if (auto it = config.max_keys.find(static_cast<risk_dimension>(d));
                it != config.max_keys.end()) {
                cap = it->second;
            }
            cap = std::clamp<std::size_t>(cap, 1, npos - 1);
            // Never more shards than keys: the per-shard caps must add up to
            // no more than the dimension's cap.
            const std::size_t n =
                std::clamp<std::size_t>(config.shards, 1, std::min<std::size_t>(256, cap));
            auto& dim = dims_[d];
            dim.reserve(n);
            for (std::size_t i = 0; i < n; ++i) {
                auto s = std::make_unique<shard>();
                s->cap = cap / n;
                dim.push_back(std::move(s));
            }
        }
    }

    risk_result<std::uint64_t> add(const counter_series& series, std::string_view key,
                                   std::uint32_t amount, risk_time_point now) override {
        auto idx = series_index(series);
        if (!idx) {
            return std::unexpected(idx.error());
        }
        const series_info& info = series_[*idx];
        const std::int64_t b = bucket_of(now, info.bucket_ms);
        std::string k = map_key(*idx, key);
        shard& sh = pick(series.dimension, k);

        std::lock_guard lock(sh.mutex);
        std::uint32_t i;
        if (auto it = sh.index.find(k); it != sh.index.end()) {
            i = it->second;
            sh.unlink(i);
        } else {
            i = insert(sh, std::move(k), b);
        }
        sh.push_front(i);
        slot& s = sh.slots[i];
        advance(sh, i, b);
        std::uint32_t& c = sh.counts[i * buckets_ + bucket_pos(s.last_bucket)];
        c = static_cast<std::uint32_t>(std::min<std::uint64_t>(
            std::uint64_t{c} + amount, std::numeric_limits<std::uint32_t>::max()));
        s.total += amount;
        return s.total;
    }

    risk_result<std::uint64_t> count(const counter_series& series, std::string_view key,
                                     risk_time_point now) override {
        auto idx = find_series(series);
        if (!idx) {
            return 0;
        }
        const std::int64_t b = bucket_of(now, series_[*idx].bucket_ms);
        const std::string k = map_key(*idx, key);
        shard& sh = pick(series.dimension, k);

        std::lock_guard lock(sh.mutex);
        auto it = sh.index.find(k);
        if (it == sh.index.end()) {
            return 0;
        }
        const slot& s = sh.slots[it->second];
        if (b <= s.last_bucket) {
            return s.total;
        }
        const std::int64_t gap = b - s.last_bucket;
        if (gap >= static_cast<std::int64_t>(buckets_)) {
            return 0;
        }
        // The buckets that would be reused between the last add and now no
        // longer count.
        std::uint64_t total = s.total;
        for (std::int64_t j = 1; j <= gap; ++j) {
            total -= sh.counts[it->second * buckets_ + bucket_pos(s.last_bucket + j)];
        }
        return total;
    }

    void reset(const counter_series& series, std::string_view key) override {
        auto idx = find_series(series);
        if (!idx) {
            return;
        }
        const std::string k = map_key(*idx, key);
        shard& sh = pick(series.dimension, k);
        std::lock_guard lock(sh.mutex);
        auto it = sh.index.find(k);
        if (it == sh.index.end()) {
            return;
        }
        const std::uint32_t i = it->second;
        sh.unlink(i);
        sh.index.erase(it);
        // Keep the slots dense: the last slot moves into the hole.
        const auto last = static_cast<std::uint32_t>(sh.slots.size() - 1);
        if (i != last) {
            const bool was_head = sh.head == last;
            const bool was_tail = sh.tail == last;
            sh.slots[i] = sh.slots[last];
            std::copy_n(sh.counts.begin() + last * buckets_, buckets_,
                        sh.counts.begin() + i * buckets_);
            slot& moved = sh.slots[i];
            if (moved.prev != npos) {
                sh.slots[moved.prev].next = i;
            }
            if (moved.next != npos) {
                sh.slots[moved.next].prev = i;
            }
            if (was_head) {
                sh.head = i;
            }
            if (was_tail) {
                sh.tail = i;
            }
            sh.index.find(*moved.key)->second = i;
        }
        sh.slots.pop_back();
        sh.counts.resize(sh.slots.size() * buckets_);
    }

    counter_stats stats() const override {
        counter_stats st;
        for (std::size_t d = 0; d < risk_dimension_count; ++d) {
            for (const auto& sh : dims_[d]) {
                std::lock_guard lock(sh->mutex);
                st.tracked_keys[d] += sh->index.size();
                st.evictions[d] += sh->evictions;
            }
        }
        return st;
    }

private:
    std::size_t bucket_pos(std::int64_t bucket) const {
        const auto n = static_cast<std::int64_t>(buckets_);
        return static_cast<std::size_t>(((bucket % n) + n) % n);
    }

    // Zeroes the buckets that fell out of the window since the slot's last add.
    void advance(shard& sh, std::uint32_t i, std::int64_t b) {
        slot& s = sh.slots[i];
        // A clock that went back (or another node's time) counts into the
        // current bucket rather than rewriting history.
        if (b <= s.last_bucket) {
            return;
        }
        auto* counts = sh.counts.data() + std::size_t{i} * buckets_;
        const std::int64_t gap = b - s.last_bucket;
        if (gap >= static_cast<std::int64_t>(buckets_)) {
            std::fill_n(counts, buckets_, 0u);
            s.total = 0;
        } else {
            for (std::int64_t j = 1; j <= gap; ++j) {
                std::uint32_t& c = counts[bucket_pos(s.last_bucket + j)];
                s.total -= c;
                c = 0;
            }
        }
        s.last_bucket = b;
    }

    // A new entry: a fresh slot while under the cap, else the least recently
    // seen one with its hash node reused.
    std::uint32_t insert(shard& sh, std::string k, std::int64_t b) {
        std::uint32_t i;
        if (sh.slots.size() < sh.cap) {
            if (sh.slots.size() == sh.slots.capacity()) {
                // Grow by doubling but never past the cap, so a full shard
                // holds no slack.
                const std::size_t want =
                    std::min(sh.cap, std::max<std::size_t>(16, sh.slots.size() * 2));
                sh.slots.reserve(want);
                sh.counts.reserve(want * buckets_);
            }
            i = static_cast<std::uint32_t>(sh.slots.size());
            sh.slots.emplace_back();
            sh.counts.resize(sh.counts.size() + buckets_);
            auto [it, inserted] = sh.index.emplace(std::move(k), i);
            sh.slots[i].key = &it->first;
        } else {
            i = sh.tail;
            sh.unlink(i);
            auto node = sh.index.extract(sh.index.find(*sh.slots[i].key));
            node.key() = std::move(k);
            node.mapped() = i;
            auto r = sh.index.insert(std::move(node));
            sh.slots[i].key = &r.position->first;
            ++sh.evictions;
        }
        slot& s = sh.slots[i];
        s.last_bucket = b;
        s.total = 0;
        std::fill_n(sh.counts.begin() + std::size_t{i} * buckets_, buckets_, 0u);
        return i;
    }

    std::string map_key(std::size_t series, std::string_view key) const {
        std::string k;
        if (key.size() <= max_key_bytes_) {
            k.reserve(1 + key.size());
            k.push_back(static_cast<char>(series));
            k.append(key);
        } else {
            k = fmt::format("{}#{:016x}:{}", static_cast<char>(series),
                            std::hash<std::string_view>{}(key), key.size());
        }
        return k;
    }

    shard& pick(risk_dimension d, const std::string& k) {
        auto& dim = dims_[static_cast<std::size_t>(d)];
        // Mixed so that the shard does not correlate with the map's own bucket choice.
        const std::uint64_t h = std::hash<std::string>{}(k)*0x9E3779B97F4A7C15ull;
        return *dim[(h >> 32) % dim.size()];
    }

    std::optional<std::size_t> find_series(const counter_series& series) const {
        const std::size_t n = series_count_.load(std::memory_order_acquire);
        for (std::size_t i = 0; i < n; ++i) {
            if (series_[i].series == series) {
                return i;
            }
        }
        return std::nullopt;
    }

    // Series are few (one per rule at most) and never removed, so readers
    // scan a published prefix without a lock; only a new series takes one.
    risk_result<std::size_t> series_index(const counter_series& series) {
        if (auto i = find_series(series)) {
            return *i;
        }
        std::lock_guard lock(series_mutex_);
        if (auto i = find_series(series)) {
            return *i;
        }
        const std::size_t n = series_count_.load(std::memory_order_relaxed);
        if (n == max_series) {
            return std::unexpected(
                risk_error{risk_errc::capacity, "more than 255 counter series in one backend"});
        }
        const auto window_ms = std::chrono::duration_cast<std::chrono::milliseconds>(series.window);
        series_[n].series = series;
        series_[n].bucket_ms = std::max<std::int64_t>(1, window_ms.count() / buckets_);
        series_count_.store(n + 1, std::memory_order_release);
        return n;
    }

    const unsigned buckets_;
    const std::size_t max_key_bytes_;
    std::array<std::vector<std::unique_ptr<shard>>, risk_dimension_count> dims_;
    std::array<series_info, max_series> series_{};
    std::atomic<std::size_t> series_count_{0};
    std::mutex series_mutex_;
};

} // namespace

std::unique_ptr<counter_backend>
create_memory_counter_backend(const memory_counter_config& config) {
    return std::make_unique<memory_counter_backend>(config);
}

} // namespace esimguard::defense
