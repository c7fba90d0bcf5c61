// The alert dispatcher (issue 4 §2): one bounded queue and one worker thread
// per channel, so that a slow or dead receiver (a webhook timing out, a mail
// relay down) never delays the other channels, and a request thread raising
// an alert only ever takes a short lock.

#include "esimguard/defense/alerts.hpp"

#include "logger.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <random>
#include <thread>

namespace esimguard::defense {

namespace {

using steady = std::chrono::steady_clock;

struct queued_alert {
    std::shared_ptr<const alert> a;
    /// Raise order: "oldest" in the drop policy. A retry keeps its number.
    std::uint64_t seq = 0;
    unsigned attempts = 0;
    steady::time_point next_attempt;
};

struct lane_counters {
    std::atomic<std::uint64_t> sent{0}, failed{0}, retried{0}, dropped{0}, skipped{0};
};

/// Registry counters mirroring lane_counters (null without a registry).
struct lane_metrics {
    http::metric_counter* sent = nullptr;
    http::metric_counter* failed = nullptr;
    http::metric_counter* retried = nullptr;
    http::metric_counter* dropped = nullptr;
    http::metric_counter* skipped = nullptr;
};

void bump(std::atomic<std::uint64_t>& own, http::metric_counter* mirrored, std::uint64_t n = 1) {
    own.fetch_add(n, std::memory_order_relaxed);
    if (mirrored != nullptr) {
        mirrored->inc(n);
    }
}

struct lane {
    std::unique_ptr<alert_channel> channel;
    std::string name;
    std::mutex mutex;
    std::condition_variable wake;
    std::deque<queued_alert> queue;
    bool in_flight = false;
    bool stopping = false;
    steady::time_point drain_deadline{};
    lane_counters counters;
    lane_metrics metrics;
    std::thread worker;
};

} // namespace

struct alert_dispatcher::impl {
    alert_dispatcher_config config;
    std::vector<std::unique_ptr<lane>> lanes;
    std::atomic<std::uint64_t> next_seq{0};
    std::atomic<bool> stopped{false};
    std::mutex stop_mutex;

    std::mutex random_mutex;
    std::mt19937_64 engine{std::random_device{}()};

    // Lock order: idle_mutex, then a lane's mutex.
    std::mutex idle_mutex;
    std::condition_variable idle_changed;

    http::metric_counter* raised[3] = {nullptr, nullptr, nullptr};

    double random_unit() {
        if (config.random_unit) {
            return config.random_unit();
        }
        std::lock_guard lock(random_mutex);
        return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
    }

    /// The wait before attempt `attempts_done + 1`.
    steady::duration backoff(unsigned attempts_done) {
        const double base = static_cast<double>(config.initial_backoff.count()) *
                            std::pow(config.backoff_multiplier, attempts_done - 1);
        const double capped = std::min(base, static_cast<double>(config.max_backoff.count()));
        const double factor = 1.0 + config.jitter * (2.0 * random_unit() - 1.0);
        const double ms = std::max(0.0, capped * factor);
        return std::chrono::duration_cast<steady::duration>(
            std::chrono::duration<double, std::milli>(ms));
    }

    /// Adds `item` to a lane whose mutex is held, applying the drop policy
    /// when the queue is full.
    void enqueue_locked(lane& l, queued_alert item) {
        if (l.queue.size() >= std::max<std::size_t>(config.queue_capacity, 1)) {
            auto lower = [](const queued_alert& x, const queued_alert& y) {
                return std::pair(x.a->severity, x.seq) < std::pair(y.a->severity, y.seq);
            };
            const auto victim = std::min_element(l.queue.begin(), l.queue.end(), lower);
            const bool drop_new = lower(item, *victim);
            const auto& dropped = drop_new ? item : *victim;
            const auto n = l.counters.dropped.load(std::memory_order_relaxed);
            // A flood would otherwise flood the log too: the metric counts each one.
            if (n % 1000 == 0) {
                alerts_detail::logger()->warn("alert queue of channel {} full: dropped alert {} "
                                              "({}, rule {}); {} dropped so far",
                                              l.name, dropped.a->id, to_string(dropped.a->severity),
                                              dropped.a->rule, n + 1);
            }
            bump(l.counters.dropped, l.metrics.dropped);
            if (drop_new) {
                return;
            }
            l.queue.erase(victim);
        }
        l.queue.push_back(std::move(item));
    }

    void notify_idle() {
        std::lock_guard lock(idle_mutex);
        idle_changed.notify_all();
    }

    void handle_result(lane& l, queued_alert work, const delivery_result& r) {
        const alert& a = *work.a;
        const std::string id = alerts_detail::log_safe(a.id);
        switch (r.status) {
        case delivery_status::delivered:
            bump(l.counters.sent, l.metrics.sent);
            alerts_detail::logger()->debug("alert {} delivered on {}", id, l.name);
            return;
        case delivery_status::skipped:
            bump(l.counters.skipped, l.metrics.skipped);
            return;
        case delivery_status::permanent_failure:
            bump(l.counters.failed, l.metrics.failed);
            alerts_detail::logger()->error("alert {} ({}) not delivered on {}: {}", id,
                                           alerts_detail::log_safe(a.rule), l.name,
                                           alerts_detail::log_safe(r.detail));
            return;
        case delivery_status::retryable_failure:
            break;
        }
        ++work.attempts;
        if (work.attempts >= std::max(config.max_attempts, 1u)) {
            bump(l.counters.failed, l.metrics.failed);
            alerts_detail::logger()->error(
                "alert {} ({}) not delivered on {} after {} attempts: {}", id,
                alerts_detail::log_safe(a.rule), l.name, work.attempts,
                alerts_detail::log_safe(r.detail));
            return;
        }
        bump(l.counters.retried, l.metrics.retried);
        const auto wait = backoff(work.attempts);
        alerts_detail::logger()->warn(
            "alert {} delivery on {} failed (attempt {}): {}; retrying in {} ms", id, l.name,
            work.attempts, alerts_detail::log_safe(r.detail),
            std::chrono::duration_cast<std::chrono::milliseconds>(wait).count());
        work.next_attempt = steady::now() + wait;
        enqueue_locked(l, std::move(work));
    }

    void run(lane& l) {
        std::unique_lock lock(l.mutex);
        for (;;) {
            const auto now = steady::now();
            if (l.stopping && (l.queue.empty() || now >= l.drain_deadline)) {
                break;
            }
            if (l.queue.empty()) {
                l.wake.wait(lock);
                continue;
            }
            const auto next =
                std::min_element(l.queue.begin(), l.queue.end(), [](const auto& x, const auto& y) {
                    return x.next_attempt < y.next_attempt;
                });
            if (next->next_attempt > now) {
                auto until = next->next_attempt;
                if (l.stopping) {
                    until = std::min(until, l.drain_deadline);
                }
                l.wake.wait_until(lock, until);
                continue;
            }
            queued_alert work = std::move(*next);
            l.queue.erase(next);
            l.in_flight = true;
            lock.unlock();

            delivery_result r;
            try {
                r = l.channel->deliver(*work.a);
            } catch (const std::exception& e) {
                r = {delivery_status::permanent_failure, std::string("channel threw: ") + e.what()};
            } catch (...) {
                r = {delivery_status::permanent_failure, "channel threw"};
            }

            lock.lock();
            l.in_flight = false;
            handle_result(l, std::move(work), r);
            lock.unlock();
            notify_idle();
            lock.lock();
        }
        if (!l.queue.empty()) {
            alerts_detail::logger()->warn("alert channel {} stopped with {} alerts undelivered",
                                          l.name, l.queue.size());
            bump(l.counters.dropped, l.metrics.dropped, l.queue.size());
            l.queue.clear();
        }
        lock.unlock();
        notify_idle();
    }

    bool all_idle() {
        for (auto& l : lanes) {
            std::lock_guard lock(l->mutex);
            if (!l->queue.empty() || l->in_flight) {
                return false;
            }
        }
        return true;
    }
};

alert_dispatcher::alert_dispatcher(alert_dispatcher_config config,
                                   std::vector<std::unique_ptr<alert_channel>> channels)
    : impl_(std::make_unique<impl>()) {
    impl_->config = std::move(config);
    auto* registry = impl_->config.metrics.get();
    if (registry != nullptr) {
        for (auto s : {alert_severity::info, alert_severity::warning, alert_severity::critical}) {
            impl_->raised[static_cast<int>(s)] =
                &registry->counter("esimguard_alerts_raised_total", "Alerts raised, by severity.",
                                   {{"severity", std::string(to_string(s))}});
        }
    }
    for (auto& c : channels) {
        auto l = std::make_unique<lane>();
        l->name = std::string(c->name());
        for (const auto& other : impl_->lanes) {
            if (other->name == l->name) {
                alerts_detail::logger()->critical("two alert channels named {}", l->name);
                std::abort();
            }
        }
        l->channel = std::move(c);
        if (registry != nullptr) {
            const http::metric_labels labels{{"channel", l->name}};
            l->metrics.sent = &registry->counter("esimguard_alerts_sent_total",
                                                 "Alerts delivered, by channel.", labels);
            l->metrics.failed = &registry->counter(
                "esimguard_alerts_failed_total",
                "Alerts given up on (permanent failure or attempts exhausted), by channel.",
                labels);
            l->metrics.retried =
                &registry->counter("esimguard_alerts_retried_total",
                                   "Alert delivery retries scheduled, by channel.", labels);
            l->metrics.dropped = &registry->counter(
                "esimguard_alerts_dropped_total",
                "Alerts dropped from a full queue or left at shutdown, by channel.", labels);
            l->metrics.skipped = &registry->counter(
                "esimguard_alerts_skipped_total",
                "Alerts a channel had nothing to deliver for (no address), by channel.", labels);
        }
        impl_->lanes.push_back(std::move(l));
    }
    // Threads start only once every lane exists: they never see the vector change.
    for (auto& l : impl_->lanes) {
        l->worker = std::thread([this, lp = l.get()] { impl_->run(*lp); });
    }
}

alert_dispatcher::~alert_dispatcher() {
    stop();
}

void alert_dispatcher::on_alert(const alert& a) {
    auto shared = std::make_shared<alert>(a);
    if (shared->id.empty()) {
        shared->id = make_alert_id();
    }
    if (auto* c = impl_->raised[static_cast<int>(a.severity) % 3]; c != nullptr) {
        c->inc();
    }
    const auto seq = impl_->next_seq.fetch_add(1, std::memory_order_relaxed);
    std::shared_ptr<const alert> frozen = std::move(shared);
    for (auto& l : impl_->lanes) {
        {
            std::lock_guard lock(l->mutex);
            if (l->stopping) {
                bump(l->counters.dropped, l->metrics.dropped);
                continue;
            }
            impl_->enqueue_locked(*l, queued_alert{frozen, seq, 0, steady::now()});
        }
        l->wake.notify_one();
    }
}

std::optional<alert_channel_counters> alert_dispatcher::counters(std::string_view name) const {
    for (const auto& l : impl_->lanes) {
        if (l->name != name) {
            continue;
        }
        alert_channel_counters c;
        c.sent = l->counters.sent.load();
        c.failed = l->counters.failed.load();
        c.retried = l->counters.retried.load();
        c.dropped = l->counters.dropped.load();
        c.skipped = l->counters.skipped.load();
        std::lock_guard lock(l->mutex);
        c.queued = l->queue.size();
        return c;
    }
    return std::nullopt;
}

std::vector<std::string> alert_dispatcher::channel_names() const {
    std::vector<std::string> names;
    for (const auto& l : impl_->lanes) {
        names.push_back(l->name);
    }
    return names;
}

bool alert_dispatcher::wait_until_idle(std::chrono::milliseconds timeout) {
    const auto deadline = steady::now() + timeout;
    std::unique_lock lock(impl_->idle_mutex);
    while (!impl_->all_idle()) {
        if (impl_->idle_changed.wait_until(lock, deadline) == std::cv_status::timeout) {
            return impl_->all_idle();
        }
    }
    return true;
}

void alert_dispatcher::stop(std::chrono::milliseconds drain) {
    std::lock_guard stop_lock(impl_->stop_mutex);
    if (impl_->stopped.exchange(true)) {
        return;
    }
    const auto deadline = steady::now() + drain;
    for (auto& l : impl_->lanes) {
        {
            std::lock_guard lock(l->mutex);
            l->stopping = true;
            l->drain_deadline = deadline;
        }
        l->wake.notify_all();
    }
    for (auto& l : impl_->lanes) {
        if (l->worker.joinable()) {
            l->worker.join();
        }
    }
}

} // namespace esimguard::defense
