#pragma once
/// Group commit for the audit chain (issue 4 §4 at the ES9+ rate). One
/// audit_chain::append costs a SQLite commit and a head-file replacement
/// (several fsyncs, ~18 ms on a disk); 2000 ES9+ calls/s cannot each wait
/// for that. The writer queues entries and one background thread appends
/// whatever has queued as ONE batch: one transaction, one head-file move,
/// whatever the batch size. The chain stays linear (one writer thread, and
/// the chain's own lock against other appenders).
///
/// Nothing is dropped: submit() blocks while the queue is full (and counts
/// it), so back-pressure reaches the request threads instead of losing
/// events. A batch the store refuses is retried; one that fails for good is
/// counted and logged, and reported by the next flush().

#include "esimguard/defense/audit_chain.hpp"
#include "esimguard/http/metrics.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

namespace esimguard::defense {

/// Settings of an audit_writer.
struct audit_writer_config {
    /// Entries waiting at most; submit() blocks beyond.
    std::size_t queue_capacity = 65'536;
    /// Entries per transaction at most.
    std::size_t max_batch = 4'096;
    /// How long the writer waits after the first entry of a batch for more
    /// to join it (one commit and one head-file fsync per batch); a full
    /// batch or stop() ends the wait. flush() may wait this much longer.
    std::chrono::milliseconds linger{5};
    /// Store failures (database busy, disk full) a batch is retried after,
    /// with `retry_backoff` doubling in between, before its entries are
    /// counted failed.
    unsigned max_attempts = 5;
    std::chrono::milliseconds retry_backoff{50};
    /// Where esimguard_audit_{submitted,written,failed,batches,blocked}_total
    /// go, if anywhere.
    std::shared_ptr<http::metrics_registry> metrics = nullptr;
    /// Stamps entries that come without a time when they are submitted (in
    /// submission order, so times follow seq); system_clock when unset.
    std::function<store::time_point()> clock = nullptr;
};

/// A point-in-time copy of the writer's counters.
struct audit_writer_counters {
    std::uint64_t submitted = 0; ///< accepted by submit()
    std::uint64_t written = 0;   ///< durable in the chain (head file moved)
    std::uint64_t failed = 0;    ///< given up on after the retries
    std::uint64_t batches = 0;   ///< transactions committed
    std::uint64_t blocked = 0;   ///< submit() calls that waited for room
    std::uint64_t refused = 0;   ///< submit() calls refused (invalid entry, stopped)
    std::size_t queued = 0;      ///< waiting now
};

/// The group-commit writer. Thread-safe.
class audit_writer {
public:
    /// Starts the writer thread; `chain` must outlive it.
    audit_writer(audit_chain& chain, audit_writer_config config = {});
    /// stop(): drains what was submitted.
    ~audit_writer();
    audit_writer(const audit_writer&) = delete;
    audit_writer& operator=(const audit_writer&) = delete;

    /// Queues one entry; returns once it is queued (blocking while the queue
    /// is full). Checks the entry first (audit_chain::check) so that one bad
    /// entry never fails a batch of good ones: invalid_argument then, and
    /// also after stop(). The returned number orders it for flush().
    [[nodiscard]] audit_result<std::uint64_t> submit(audit_entry entry);

    /// Waits until every entry submitted before the call is written or has
    /// failed for good. An error (store_failure or head_file_failure) when
    /// any of them failed since the previous flush().
    [[nodiscard]] audit_result<void> flush();

    /// Stops taking entries, writes everything queued, joins the thread.
    /// Idempotent.
    void stop();

    [[nodiscard]] audit_writer_counters counters() const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

} // namespace esimguard::defense
