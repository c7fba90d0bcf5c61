// The audit group-commit writer: a bounded queue, one thread that appends
// everything queued as one batch, and flush() tickets so that a caller can
// wait for durability of what it submitted.

#include "esimguard/defense/audit_writer.hpp"

#include "alerts/logger.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

namespace esimguard::defense {

struct audit_writer::impl {
    audit_chain& chain;
    audit_writer_config config;

    mutable std::mutex m;
    std::condition_variable work_cv; // the writer waits for entries or stop
    std::condition_variable room_cv; // submitters wait for room
    std::condition_variable done_cv; // flush() waits for progress
    std::deque<audit_entry> queue;
    bool stopping = false;
    unsigned flushers = 0; // callers inside flush()
    // Tickets: the n-th accepted entry gets n; `finished` is the highest
    // ticket written or failed for good (batches finish in ticket order).
    std::uint64_t next_ticket = 0;
    std::uint64_t finished = 0;
    std::optional<audit_error> pending_error;
    audit_writer_counters c;

    http::metric_counter* m_submitted = nullptr;
    http::metric_counter* m_written = nullptr;
    http::metric_counter* m_failed = nullptr;
    http::metric_counter* m_batches = nullptr;
    http::metric_counter* m_blocked = nullptr;

    std::thread thread;
    std::mutex stop_m; // two stop() calls must not both join

    impl(audit_chain& ch, audit_writer_config cfg) : chain(ch), config(std::move(cfg)) {
        config.queue_capacity = std::max<std::size_t>(config.queue_capacity, 1);
        config.max_batch = std::max<std::size_t>(config.max_batch, 1);
        config.max_attempts = std::max(config.max_attempts, 1u);
        if (!config.clock) {
            config.clock = [] { return std::chrono::system_clock::now(); };
        }
        if (config.metrics) {
            auto& r = *config.metrics;
            m_submitted = &r.counter("esimguard_audit_submitted_total", "Audit events submitted");
            m_written = &r.counter("esimguard_audit_written_total",
                                   "Audit events durable in the hash chain");
            m_failed = &r.counter("esimguard_audit_failed_total",
                                  "Audit events that could not be written after retries");
            m_batches = &r.counter("esimguard_audit_batches_total",
                                   "Audit group commits (one transaction each)");
            m_blocked = &r.counter("esimguard_audit_blocked_total",
                                   "Audit submits that waited for room in a full queue");
        }
        thread = std::thread([this] { run(); });
    }

    static void inc(http::metric_counter* m, std::uint64_t n = 1) {
        if (m != nullptr) {
            m->inc(n);
        }
    }

    void run() {
        std::vector<audit_entry> batch;
        for (;;) {
            {
                std::unique_lock lk(m);
                work_cv.wait(lk, [&] { return stopping || !queue.empty(); });
                if (queue.empty()) {
                    return; // stopping and drained
                }
                // Linger for more: every batch costs a commit and a head-file
                // fsync, and under load events arrive a few at a time. No
                // request waits for this, only flush().
                if (config.linger.count() > 0) {
                    work_cv.wait_for(lk, config.linger, [&] {
                        return stopping || flushers > 0 || queue.size() >= config.max_batch;
                    });
                }
                auto n = std::min(queue.size(), config.max_batch);
                batch.clear();
                batch.reserve(n);
                for (std::size_t i = 0; i < n; ++i) {
                    batch.push_back(std::move(queue.front()));
                    queue.pop_front();
                }
            }
            room_cv.notify_all();
            write(batch);
        }
    }

    void write(const std::vector<audit_entry>& batch) {
        auto backoff = config.retry_backoff;
        audit_result<std::vector<store::audit_event>> r;
        for (unsigned attempt = 1;; ++attempt) {
            r = chain.append_batch(batch);
            // Only a store failure left nothing written: a head-file failure
            // means the events ARE in the chain, and an invalid entry would
            // fail again (submit() checks, so that is a bug).
            if (r || r.error().code != audit_errc::store_failure ||
                attempt >= config.max_attempts) {
                break;
            }
            std::this_thread::sleep_for(backoff);
            backoff *= 2;
        }
        std::lock_guard lk(m);
        const auto n = static_cast<std::uint64_t>(batch.size());
        if (r) {
            c.written += n;
            ++c.batches;
            inc(m_written, n);
            inc(m_batches);
        } else if (r.error().code == audit_errc::head_file_failure) {
            c.written += n;
            ++c.batches;
            inc(m_written, n);
            inc(m_batches);
            pending_error = r.error();
            alerts_detail::logger()->error("audit: {}", r.error().message);
        } else {
            c.failed += n;
            inc(m_failed, n);
            pending_error = r.error();
            alerts_detail::logger()->error("audit: {} events not written: {}", n,
                                           r.error().message);
        }
        finished += n;
        done_cv.notify_all();
    }
};

audit_writer::audit_writer(audit_chain& chain, audit_writer_config config)
    : impl_(std::make_unique<impl>(chain, std::move(config))) {}

audit_writer::~audit_writer() {
    stop();
}

audit_result<std::uint64_t> audit_writer::submit(audit_entry entry) {
    auto& d = *impl_;
    if (auto ok = audit_chain::check(entry); !ok) {
        std::lock_guard lk(d.m);
        ++d.c.refused;
        return std::unexpected(ok.error());
    }
    std::unique_lock lk(d.m);
    if (d.queue.size() >= d.config.queue_capacity && !d.stopping) {
        ++d.c.blocked;
        impl::inc(d.m_blocked);
        d.room_cv.wait(lk, [&] { return d.stopping || d.queue.size() < d.config.queue_capacity; });
    }
    if (d.stopping) {
        ++d.c.refused;
        return std::unexpected(
            audit_error{audit_errc::invalid_argument, "audit writer is stopped"});
    }
    // Stamped under the queue lock: the queue's order is the chain's order,
    // so times follow seq as they do for direct appends.
    if (!entry.at) {
        entry.at = d.config.clock();
    }
    d.queue.push_back(std::move(entry));
    auto ticket = ++d.next_ticket;
    ++d.c.submitted;
    impl::inc(d.m_submitted);
    // The writer waits for a first entry, then lingers for a full batch:
    // only those two moments need waking it.
    const bool wake = d.queue.size() == 1 || d.queue.size() >= d.config.max_batch;
    lk.unlock();
    if (wake) {
        d.work_cv.notify_one();
    }
    return ticket;
}

audit_result<void> audit_writer::flush() {
    auto& d = *impl_;
    std::unique_lock lk(d.m);
    auto target = d.next_ticket;
    // A caller waiting for durability ends the writer's linger.
    ++d.flushers;
    d.work_cv.notify_one();
    d.done_cv.wait(lk, [&] { return d.finished >= target; });
    --d.flushers;
    if (d.pending_error) {
        auto e = std::move(*d.pending_error);
        d.pending_error.reset();
        return std::unexpected(std::move(e));
    }
    return {};
}

void audit_writer::stop() {
    auto& d = *impl_;
    std::lock_guard once(d.stop_m);
    {
        std::lock_guard lk(d.m);
        d.stopping = true;
    }
    d.work_cv.notify_all();
    d.room_cv.notify_all();
    if (d.thread.joinable()) {
        d.thread.join();
    }
}

audit_writer_counters audit_writer::counters() const {
    std::lock_guard lk(impl_->m);
    auto c = impl_->c;
    c.queued = impl_->queue.size();
    return c;
}

} // namespace esimguard::defense
