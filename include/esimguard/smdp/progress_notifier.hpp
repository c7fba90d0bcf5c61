#pragma once
/// Delivers the ES2+ handleDownloadProgressInfo calls that the procedures
/// queue in the store's outbox (SGP.22 §5.3.5) to each operator's URL, on a
/// background thread, with retries and exponential backoff. Devices never
/// wait for an operator: the procedures only enqueue.

#include "esimguard/http/client.hpp"
#include "esimguard/smdp/config.hpp"
#include "esimguard/store/store.hpp"

#include <chrono>
#include <cstddef>
#include <expected>
#include <functional>
#include <memory>
#include <string>

namespace esimguard::smdp {

/// Sends one body to one URL; success means the operator accepted it (2xx).
/// Injected in tests; the default posts with an http::client.
using progress_sender = std::function<std::expected<void, std::string>(const std::string& url,
                                                                       const std::string& body)>;

/// How the notifier works.
struct progress_notifier_config {
    /// Trust and timeouts of the outgoing HTTPS calls (default sender only).
    http::client_config client = {};
    /// Retry schedule of a failed delivery.
    store::retry_policy retry = {};
    /// How often the background thread looks for due messages.
    std::chrono::milliseconds poll_interval{1000};
    /// Messages claimed per round.
    std::size_t batch = 32;
    /// How long a claimed message stays hidden from other nodes' notifiers.
    std::chrono::seconds lease{60};
    /// Current time; null means the system clock.
    clock_function clock = nullptr;
    /// Replaces the HTTP client (tests).
    progress_sender sender = nullptr;
};

/// The background sender. start() once; stop() (or destruction) joins.
class progress_notifier {
public:
    virtual ~progress_notifier() = default;
    /// Starts the background thread. Idempotent.
    virtual void start() = 0;
    /// Stops and joins the thread; a round under way finishes first. Idempotent.
    virtual void stop() = 0;
    /// Runs one round on the caller's thread: claims due messages and tries
    /// each once. Returns how many were delivered.
    virtual std::size_t run_once() = 0;
};

/// `db` must outlive the notifier.
[[nodiscard]] std::unique_ptr<progress_notifier>
create_progress_notifier(progress_notifier_config config, store::store& db);

} // namespace esimguard::smdp
