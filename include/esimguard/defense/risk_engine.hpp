#pragma once
/// The risk engine (issue 4 §2): the server reports what happened (record),
/// and asks, before it does any expensive work, whether a request may go on
/// at all (precheck). Decisions name the rule that fired and its evidence.
///
/// Wiring (next step): each ES9+ handler calls precheck() with the source
/// address (and the EID / matching ID once parsed) before any signature is
/// verified or computed, and answers a refusal at once; each procedure calls
/// record() with what it found (unknown matching ID, bad signature, ...) and
/// carries out the returned actions: pause_order and lock_subscriber_line
/// through the store, alerts through the alert dispatcher, step-up through
/// the two-factor code. block_source is applied by the engine itself to its
/// blocklist before record() returns, so the next precheck already refuses.
///
/// Thread-safe: one engine serves every worker thread.

#include "esimguard/defense/blocklist.hpp"
#include "esimguard/defense/risk_counters.hpp"
#include "esimguard/defense/risk_rules.hpp"
#include "esimguard/defense/risk_types.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace esimguard::defense {

/// One occurrence reported by the server. Fields the procedure does not know
/// stay empty; rules on those dimensions then do not count the event.
struct risk_event {
    risk_event_kind kind = risk_event_kind::request;
    /// The peer address as the socket saw it (text, IPv4 or IPv6).
    std::string source_ip = {};
    std::optional<std::string> eid = std::nullopt;
    std::optional<std::string> matching_id = std::nullopt;
    std::optional<std::string> iccid = std::nullopt;
    std::optional<std::string> order_id = std::nullopt;
    std::optional<std::string> subscriber_id = std::nullopt;
    std::optional<std::string> operator_id = std::nullopt;
};

/// What the engine saw when a rule fired; what an alert carries.
struct risk_evidence {
    std::string rule;
    risk_dimension dimension = risk_dimension::source_ip;
    /// The counter key: the canonical address or network, EID, ICCID, ...
    /// A matching ID is masked (its first 4 characters and its length), since
    /// it is half of an activation code.
    std::string key;
    /// The windowed count that reached the threshold (1 for stolen_eid).
    std::uint64_t count = 0;
    std::uint64_t threshold = 0;
    std::chrono::seconds window{0};
    risk_time_point at = {};
    /// Context from the event: the address in the form blocked, the EID, ...
    std::string source_ip = {};
    std::optional<std::string> eid = std::nullopt;
    std::optional<std::string> iccid = std::nullopt;
    std::optional<std::string> order_id = std::nullopt;
    std::optional<std::string> subscriber_id = std::nullopt;
    std::optional<std::string> operator_id = std::nullopt;
};

/// Raise an alert (alerts.hpp delivers it).
struct risk_alert_action {
    risk_severity severity = risk_severity::warning;
    std::string rule;
    risk_evidence evidence;
};
/// Hold the order named by whichever of these is known.
struct risk_pause_order_action {
    std::string rule;
    std::optional<std::string> order_id;
    std::optional<std::string> iccid;
    std::optional<std::string> matching_id;
};
/// The engine already blocked `entry`; reported for audit and alerts.
struct risk_block_source_action {
    std::string rule;
    block_entry entry;
};
/// Freeze the subscriber's line.
struct risk_lock_line_action {
    std::string rule;
    std::optional<std::string> subscriber_id;
    std::optional<std::string> iccid;
};
/// Hold the download until the subscriber approves it.
struct risk_step_up_action {
    std::string rule;
    std::optional<std::string> subscriber_id;
    std::optional<std::string> order_id;
    std::optional<std::string> iccid;
};
/// Tell the subscriber what happened on their line.
struct risk_notify_subscriber_action {
    std::string rule;
    std::optional<std::string> subscriber_id;
    std::optional<std::string> iccid;
};

/// One thing the caller must do (or, for block_source, know was done).
using risk_action =
    std::variant<risk_alert_action, risk_pause_order_action, risk_block_source_action,
                 risk_lock_line_action, risk_step_up_action, risk_notify_subscriber_action>;

/// allow or refuse.
enum class risk_verdict : std::uint8_t { allow, refuse };

/// The answer of precheck() and record().
struct risk_decision {
    risk_verdict verdict = risk_verdict::allow;
    /// What to do; empty when nothing fired (and on a repeated refusal:
    /// actions are issued once, when the count reaches the threshold).
    std::vector<risk_action> actions = {};
    /// The rule behind the verdict (the most severe of those that fired).
    std::optional<std::string> rule = std::nullopt;
    std::optional<risk_evidence> evidence = std::nullopt;
    /// The counter backend failed (the verdict then follows fail_closed), or
    /// the blocklist store did not save a block (which still applies in memory).
    bool degraded = false;

    [[nodiscard]] bool allowed() const { return verdict == risk_verdict::allow; }
};

/// What precheck() looks at: what is known before any signature work.
struct risk_precheck_request {
    std::string source_ip;
    std::optional<std::string> eid = std::nullopt;
    std::optional<std::string> matching_id = std::nullopt;
};

/// Engine configuration; defaults are production values.
struct risk_engine_config {
    std::vector<risk_rule> rules = default_risk_rules();
    /// IPv6 sources are counted and blocked by network of this length, since
    /// one host usually holds a whole /64 and would otherwise rotate freely.
    /// 128 counts single addresses. 1..128.
    unsigned ipv6_prefix_length = 64;
    /// When a counter backend fails: false lets the event's request go on
    /// (blocklist and stolen list still apply), true refuses it.
    bool fail_closed = false;
};

/// The engine.
class risk_engine {
public:
    virtual ~risk_engine() = default;

    /// Cheap: blocklist and stolen list lookups only, no counter, no store
    /// call. Refuses a blocked address (or network), a blocked EID or EUM, a
    /// blocked matching ID, and an EID reported stolen (with a critical alert
    /// when a stolen_eid rule is configured).
    [[nodiscard]] virtual risk_decision precheck(const risk_precheck_request& request) const = 0;

    /// Counts the event under every rule of its kind and decides. Never fails:
    /// a backend error sets `degraded`.
    [[nodiscard]] virtual risk_decision record(const risk_event& event) = 0;

    /// The key a source address is counted and blocked under: the canonical
    /// IPv4 address, or the IPv6 network ("2001:db8:1:2::/64").
    [[nodiscard]] virtual std::string source_key(std::string_view source_ip) const = 0;

    /// Forgets the counts of one rule for one key, e.g. when the operator
    /// releases a paused order. False for an unknown rule.
    virtual bool reset(std::string_view rule, std::string_view key) = 0;
};

/// Builds an engine. `counters` is shared so that the server can read its
/// stats for metrics; `blocks` and `stolen` must outlive the engine. Fails on
/// an invalid rule set (validate_risk_rules) or prefix length.
[[nodiscard]] risk_result<std::unique_ptr<risk_engine>>
create_risk_engine(risk_engine_config config, std::shared_ptr<counter_backend> counters,
                   blocklist& blocks, stolen_devices& stolen, risk_clock clock);

} // namespace esimguard::defense
