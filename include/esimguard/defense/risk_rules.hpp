#pragma once
/// Rules of the risk engine: what to count, the threshold at which a rule
/// fires, and what happens then. Rules come from config (`apps/` parse them;
/// the text names are the to_string() forms); default_risk_rules() is what a
/// server runs when its config says nothing.

#include "esimguard/defense/risk_types.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace esimguard::defense {

/// What a fired rule asks for.
enum class risk_action_kind : std::uint8_t {
    alert,                ///< tell security staff (severity, rule, evidence)
    pause_order,          ///< hold the order until the operator or subscriber releases it
    block_source,         ///< block the source address (IPv6: its network) for block_ttl
    lock_subscriber_line, ///< freeze changes to the subscriber's line
    require_step_up,      ///< the download waits for the subscriber's approval (issue 4 §3)
    notify_subscriber,    ///< tell the subscriber (mail) what happened on their line
};

/// "alert", "pause_order", "block_source", "lock_subscriber_line",
/// "require_step_up" or "notify_subscriber".
[[nodiscard]] std::string_view to_string(risk_action_kind k);
/// The inverse of to_string; nullopt for anything else.
[[nodiscard]] std::optional<risk_action_kind> parse_risk_action_kind(std::string_view text);

/// How a rule decides to fire.
enum class risk_match : std::uint8_t {
    /// The windowed count of `kind` events per `dimension` key (or of distinct
    /// `distinct` values per key) reaches `threshold`.
    count,
    /// The event's EID is on the stolen device list (threshold and window unused).
    stolen_eid,
};

/// One rule.
struct risk_rule {
    /// Unique; appears in decisions, alerts, audit events and block reasons.
    std::string name;
    risk_event_kind kind = risk_event_kind::request;
    /// Whose count: the event's value of this dimension is the counter key.
    /// Events without a value for it are not counted by this rule.
    risk_dimension dimension = risk_dimension::source_ip;
    /// When set, counts distinct values of this dimension per key instead of
    /// events (e.g. distinct EIDs per ICCID); a value seen again within the
    /// window does not count twice.
    std::optional<risk_dimension> distinct = std::nullopt;
    risk_match match = risk_match::count;
    /// The rule fires on the event that brings the count to this value
    /// (>= 1): threshold 20 lets 19 events pass and acts on the 20th.
    std::uint64_t threshold = 1;
    /// The sliding window; at least one second.
    std::chrono::seconds window{600};
    std::vector<risk_action_kind> actions = {risk_action_kind::alert};
    /// Whether the event's request is refused from the threshold on (while
    /// the count stays at or above it).
    bool refuse = true;
    risk_severity severity = risk_severity::warning;
    /// How long block_source blocks.
    std::chrono::seconds block_ttl{3600};
};

/// The defaults, each stopping one attack of PRODUCT.md (counts, fires at,
/// does):
///
/// - matching_id_guessing: unknown_matching_id per source_ip, 20 / 10 min;
///   block 1 h, alert warning.
/// - forged_device_signature: bad_signature per source_ip, 5 / 1 h; block
///   24 h, alert critical.
/// - forged_device_chain: bad_chain per source_ip, 5 / 1 h; block 24 h,
///   alert critical.
/// - cc_brute_force: cc_failure per iccid, 3 / 24 h; pause order, alert
///   warning, tell the subscriber.
/// - cc_spray_from_address: cc_failure per source_ip, 10 / 1 h; block 1 h,
///   alert warning.
/// - eid_pulling_profiles: download_started per eid, 5 / 24 h; pause order,
///   alert warning.
/// - profile_tried_by_many_eids: distinct eid per iccid (tried), 3 / 24 h;
///   pause order, alert critical, tell the subscriber.
/// - replayed_session: replay per source_ip, 1 / 1 h; alert critical, refuses
///   nothing (the procedure refuses the replayed call itself).
/// - replays_from_address: replay per source_ip, 5 / 1 h; block 1 h, alert
///   critical.
/// - download_to_stolen_eid: download_started to a stolen EID, every one;
///   refuse, alert critical.
///
/// Each but replayed_session refuses the request that reaches its threshold
/// and those after it within the window. Rules on the same kind, dimension
/// and window share one counter, to which an event adds once.
[[nodiscard]] std::vector<risk_rule> default_risk_rules();

/// Checks a rule set: names non-empty and unique, threshold >= 1, window
/// >= 1 s, distinct different from dimension, block_ttl >= 1 s when
/// block_source is asked for. The error names the first bad rule.
[[nodiscard]] risk_result<void> validate_risk_rules(const std::vector<risk_rule>& rules);

} // namespace esimguard::defense
