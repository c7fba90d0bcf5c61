#pragma once
/// Alerts the defence engine raises (issue 4 §2, "Alert delivery") and the
/// dispatcher that fans them out to delivery channels: a signed webhook
/// (webhook.hpp), mail to the subscriber and to the operator (smtp.hpp) and
/// an inbox the portal shows.
///
/// Raising an alert never waits on delivery: the dispatcher queues it per
/// channel (bounded), and one worker thread per channel delivers it with
/// retries, exponential backoff and jitter. What happened to every alert is
/// counted per channel (sent, failed, retried, dropped, skipped), also as
/// Prometheus counters when a metrics registry is given.

#include "esimguard/http/metrics.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace esimguard::defense {

/// How urgent an alert is. Ordered: info < warning < critical. The queue-full
/// policy drops the lowest first.
enum class alert_severity : std::uint8_t { info = 0, warning = 1, critical = 2 };

/// "info", "warning" or "critical".
[[nodiscard]] std::string_view to_string(alert_severity s);
/// The inverse of to_string; nullopt for anything else.
[[nodiscard]] std::optional<alert_severity> parse_alert_severity(std::string_view text);

/// What the rule saw. Every field is optional; `details` carries rule-specific
/// extras (key, value) in order.
struct alert_evidence {
    /// Source address (text form) the requests came from.
    std::optional<std::string> ip = std::nullopt;
    /// The EID involved, in full. Mail and logs show it masked
    /// (alert_masked_eid); the webhook and the inbox carry it whole, since the
    /// operator's systems correlate on it.
    std::optional<std::string> eid = std::nullopt;
    std::optional<std::string> iccid = std::nullopt;
    /// How many events the rule counted within `window`.
    std::optional<std::uint64_t> count = std::nullopt;
    /// The sliding window the count covers.
    std::optional<std::chrono::seconds> window = std::nullopt;
    std::vector<std::pair<std::string, std::string>> details = {};
};

/// A person or organisation an alert concerns: who they are, and where mail
/// for them goes (empty: no mail).
struct alert_party {
    std::string id;
    std::string email = {};
};

/// One alert: what a rule decided is worth telling someone about.
struct alert {
    /// Unique; the dispatcher fills it (make_alert_id) when left empty.
    std::string id = {};
    /// When the rule fired (the caller's clock, so that tests can inject one).
    std::chrono::system_clock::time_point time = {};
    alert_severity severity = alert_severity::warning;
    /// The rule's configured name, e.g. "matching_id_guessing".
    std::string rule = {};
    /// One or a few sentences a person reads. May hold line breaks (mail body);
    /// it never goes into a mail header.
    std::string summary = {};
    alert_evidence evidence = {};
    /// The subscriber whose line is concerned, if known.
    std::optional<alert_party> subscriber = std::nullopt;
    /// The operator whose profile or order is concerned, if known.
    std::optional<alert_party> operator_party = std::nullopt;
};

/// A fresh random alert ID: 32 lower-case hex digits (16 bytes from the CSPRNG).
[[nodiscard]] std::string make_alert_id();

/// The EID as text channels show it: first 8 and last 4 digits
/// ("89049032…0123"); "***" when shorter than 12.
[[nodiscard]] std::string alert_masked_eid(std::string_view eid);

/// RFC 3339 UTC with seconds, e.g. "2024-05-01T12:00:00Z".
[[nodiscard]] std::string alert_time_text(std::chrono::system_clock::time_point t);

/// The JSON document the webhook posts (and the admin API will serve):
/// {"id","time","severity","rule","summary","evidence":{"ip","eid","iccid",
/// "count","window_seconds","details":{…}},"subscriber":{"id"},
/// "operator":{"id"}}. Absent optionals are left out; mail addresses are never
/// included (personal data the receiver does not need).
[[nodiscard]] std::string alert_to_json(const alert& a);
/// Parses alert_to_json's output (for receivers, tools and tests); the error
/// says which field is wrong. Times are read back with second precision.
[[nodiscard]] std::expected<alert, std::string> parse_alert_json(std::string_view json);

/// Where the engine sends alerts: implemented by alert_dispatcher, faked in
/// tests of the risk engine.
class alert_notifier {
public:
    virtual ~alert_notifier() = default;
    /// Takes the alert for delivery. Must return at once: it is called on
    /// request threads.
    virtual void on_alert(const alert& a) = 0;
};

/// Stored alerts the portal shows to subscribers and operators.
class alert_inbox {
public:
    virtual ~alert_inbox() = default;
    /// Stores one alert. Thread-safe.
    virtual void append(const alert& a) = 0;

    /// What recent() selects; every set field must match.
    struct query {
        std::optional<std::string> subscriber_id = std::nullopt;
        std::optional<std::string> operator_id = std::nullopt;
        std::optional<alert_severity> min_severity = std::nullopt;
        std::size_t limit = 100;
    };
    /// Matching alerts, newest (last appended) first, at most `q.limit`. Thread-safe.
    [[nodiscard]] virtual std::vector<alert> recent(const query& q) const = 0;
};

/// An inbox in memory holding the last `capacity` alerts (older ones go
/// first). Lost on restart: the store-backed inbox comes with the portal.
[[nodiscard]] std::unique_ptr<alert_inbox> create_memory_alert_inbox(std::size_t capacity = 10'000);

/// What one delivery attempt came to.
enum class delivery_status : std::uint8_t {
    delivered,         ///< the receiver took it
    skipped,           ///< nothing to do for this alert (e.g. no subscriber address)
    retryable_failure, ///< may work later (network, timeout, 5xx, SMTP 4xx)
    permanent_failure, ///< will never work (refused input, 4xx, SMTP 5xx): not retried
};

/// The outcome of alert_channel::deliver, with a detail for the log (which must
/// never hold a secret).
struct delivery_result {
    delivery_status status = delivery_status::delivered;
    std::string detail = {};
};

/// One way of telling someone about an alert. deliver() is called from one
/// worker thread of the dispatcher at a time, so an implementation may keep
/// unsynchronised state (a connection). It may block, but must bound every
/// wait by a timeout: shutdown waits for the attempt in flight.
class alert_channel {
public:
    virtual ~alert_channel() = default;
    /// Names the channel in counters, metrics labels and logs, e.g. "webhook".
    [[nodiscard]] virtual std::string_view name() const = 0;
    /// One delivery attempt.
    [[nodiscard]] virtual delivery_result deliver(const alert& a) = 0;
};

/// A channel that appends to `inbox` (always "delivered").
[[nodiscard]] std::unique_ptr<alert_channel>
create_inbox_channel(std::shared_ptr<alert_inbox> inbox, std::string name = "inbox");

/// Queueing, retry and metrics settings of a dispatcher.
struct alert_dispatcher_config {
    /// Alerts waiting per channel (retries included). When full, the oldest
    /// of the lowest-severity alerts (the new one included) is dropped and counted.
    std::size_t queue_capacity = 1024;
    /// Attempts per alert and channel, the first included; then it is failed.
    unsigned max_attempts = 6;
    /// Wait before the first retry; each further retry multiplies it by
    /// `backoff_multiplier`, up to `max_backoff`.
    std::chrono::milliseconds initial_backoff{1'000};
    std::chrono::milliseconds max_backoff{5 * 60'000};
    double backoff_multiplier = 2.0;
    /// Each wait is scaled by a uniform factor in [1 - jitter, 1 + jitter], so
    /// that many alerts failing together do not retry together.
    double jitter = 0.2;
    /// Uniform numbers in [0, 1) for the jitter; default: a seeded std::mt19937_64.
    std::function<double()> random_unit = nullptr;
    /// Where the counters go as esimguard_alerts_*_total{channel=…} and
    /// esimguard_alerts_raised_total{severity=…}, if anywhere.
    std::shared_ptr<http::metrics_registry> metrics = nullptr;
};

/// A point-in-time copy of one channel's counters.
struct alert_channel_counters {
    std::uint64_t sent = 0;    ///< delivered
    std::uint64_t failed = 0;  ///< given up: permanent failure or attempts exhausted
    std::uint64_t retried = 0; ///< attempts scheduled again after a retryable failure
    std::uint64_t dropped = 0; ///< pushed out of a full queue, or left queued at stop
    std::uint64_t skipped = 0; ///< nothing to deliver for the alert
    std::uint64_t queued = 0;  ///< waiting now (in backoff included, in flight excluded)
};

/// Fans alerts out to channels asynchronously. Thread-safe. Destruction stops
/// it without draining (stop(0)).
class alert_dispatcher final : public alert_notifier {
public:
    /// Starts one worker thread per channel. Channel names must be unique
    /// (a duplicate is a programming error: it aborts).
    alert_dispatcher(alert_dispatcher_config config,
                     std::vector<std::unique_ptr<alert_channel>> channels);
    ~alert_dispatcher() override;
    alert_dispatcher(const alert_dispatcher&) = delete;
    alert_dispatcher& operator=(const alert_dispatcher&) = delete;

    /// Queues `a` on every channel and returns: it takes a short lock per
    /// channel and never waits on delivery. Fills an empty ID. After stop(),
    /// the alert is counted dropped.
    void on_alert(const alert& a) override;

    /// The counters of channel `name`; nullopt for an unknown name.
    [[nodiscard]] std::optional<alert_channel_counters> counters(std::string_view name) const;
    /// Channel names in construction order.
    [[nodiscard]] std::vector<std::string> channel_names() const;

    /// Waits until every queue is empty and no attempt is in flight, or until
    /// `timeout` passes; true when idle.
    bool wait_until_idle(std::chrono::milliseconds timeout);

    /// Stops taking alerts, gives the queues up to `drain` to empty (retries
    /// included), then counts what is left as dropped and joins the workers.
    /// An attempt in flight always finishes first (channels bound it by their
    /// timeouts). Idempotent.
    void stop(std::chrono::milliseconds drain = std::chrono::milliseconds{0});

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

} // namespace esimguard::defense
