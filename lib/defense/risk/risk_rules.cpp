// Default risk rules and rule-set validation (issue 4 §2).

#include "esimguard/defense/risk_rules.hpp"

#include <algorithm>
#include <set>

#include <fmt/core.h>

namespace esimguard::defense {

namespace {
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using enum risk_action_kind;
} // namespace

std::vector<risk_rule> default_risk_rules() {
    std::vector<risk_rule> rules;
    // A guesser walks the matching ID space from one address; legitimate
    // users mistype a handful at most.
    rules.push_back({.name = "matching_id_guessing",
                     .kind = risk_event_kind::unknown_matching_id,
                     .dimension = risk_dimension::source_ip,
                     .threshold = 20,
                     .window = minutes(10),
                     .actions = {alert, block_source},
                     .severity = risk_severity::warning,
                     .block_ttl = hours(1)});
    // A genuine eUICC never produces a bad signature or chain; a few allow for
    // a misconfigured test card before the address is shut out.
    rules.push_back({.name = "forged_device_signature",
                     .kind = risk_event_kind::bad_signature,
                     .dimension = risk_dimension::source_ip,
                     .threshold = 5,
                     .window = hours(1),
                     .actions = {alert, block_source},
                     .severity = risk_severity::critical,
                     .block_ttl = hours(24)});
    rules.push_back({.name = "forged_device_chain",
                     .kind = risk_event_kind::bad_chain,
                     .dimension = risk_dimension::source_ip,
                     .threshold = 5,
                     .window = hours(1),
                     .actions = {alert, block_source},
                     .severity = risk_severity::critical,
                     .block_ttl = hours(24)});
    // Counted per profile, not per order or address, so that neither a new
    // order for the same profile nor a new address resets the attacker's tries.
    rules.push_back({.name = "cc_brute_force",
                     .kind = risk_event_kind::cc_failure,
                     .dimension = risk_dimension::iccid,
                     .threshold = 3,
                     .window = hours(24),
                     .actions = {alert, pause_order, notify_subscriber},
                     .severity = risk_severity::warning});
    // One address trying codes across many profiles.
    rules.push_back({.name = "cc_spray_from_address",
                     .kind = risk_event_kind::cc_failure,
                     .dimension = risk_dimension::source_ip,
                     .threshold = 10,
                     .window = hours(1),
                     .actions = {alert, block_source},
                     .severity = risk_severity::warning,
                     .block_ttl = hours(1)});
    // A phone installs a few travel or work profiles a day, not five.
    rules.push_back({.name = "eid_pulling_profiles",
                     .kind = risk_event_kind::download_started,
                     .dimension = risk_dimension::eid,
                     .threshold = 5,
                     .window = hours(24),
                     .actions = {alert, pause_order},
                     .severity = risk_severity::warning});
    // The owner's old and new phone make two; a third device on the same
    // profile is someone else holding the activation code (SIM swap).
    rules.push_back({.name = "profile_tried_by_many_eids",
                     .kind = risk_event_kind::profile_tried_by_eid,
                     .dimension = risk_dimension::iccid,
                     .distinct = risk_dimension::eid,
                     .threshold = 3,
                     .window = hours(24),
                     .actions = {alert, pause_order, notify_subscriber},
                     .severity = risk_severity::critical});
    // A replayed call (a second authenticateClient or getBoundProfilePackage
    // in a session, a call into a session that does not exist, another card
    // signing in a pinned session) is someone holding captured messages, or
    // at most an LPA retrying a call whose answer it lost: told at once. The
    // procedure refuses the call itself (8.10.1 / 3.9, 8.1 / 6.1), so this
    // rule refuses nothing and the audit keeps the procedure's answer.
    rules.push_back({.name = "replayed_session",
                     .kind = risk_event_kind::replay,
                     .dimension = risk_dimension::source_ip,
                     .threshold = 1,
                     .window = hours(1),
                     .actions = {alert},
                     .refuse = false,
                     .severity = risk_severity::critical});
    // An address that keeps replaying is shut out, for an hour only: a
    // carrier NAT may hide honest devices behind it.
    rules.push_back({.name = "replays_from_address",
                     .kind = risk_event_kind::replay,
                     .dimension = risk_dimension::source_ip,
                     .threshold = 5,
                     .window = hours(1),
                     .actions = {alert, block_source},
                     .severity = risk_severity::critical,
                     .block_ttl = hours(1)});
    rules.push_back({.name = "download_to_stolen_eid",
                     .kind = risk_event_kind::download_started,
                     .dimension = risk_dimension::eid,
                     .match = risk_match::stolen_eid,
                     .threshold = 1,
                     .window = seconds(1),
                     .actions = {alert},
                     .severity = risk_severity::critical});
    return rules;
}

risk_result<void> validate_risk_rules(const std::vector<risk_rule>& rules) {
    std::set<std::string, std::less<>> names;
    for (const auto& r : rules) {
        auto bad = [&](std::string_view why) {
            return std::unexpected(risk_error{risk_errc::invalid_argument,
                                              fmt::format("risk rule '{}': {}", r.name, why)});
        };
        if (r.name.empty()) {
            return bad("has no name");
        }
        if (!names.insert(r.name).second) {
            return bad("name used twice");
        }
        if (r.threshold < 1) {
            return bad("threshold must be at least 1");
        }
        if (r.window < seconds(1)) {
            return bad("window must be at least 1 s");
        }
        if (r.distinct && *r.distinct == r.dimension) {
            return bad("distinct must differ from dimension");
        }
        if (r.match == risk_match::stolen_eid && r.distinct) {
            return bad("a stolen_eid rule counts nothing distinct");
        }
        const bool blocks = std::ranges::find(r.actions, block_source) != r.actions.end();
        if (blocks && r.block_ttl < seconds(1)) {
            return bad("block_ttl must be at least 1 s");
        }
    }
    return {};
}

} // namespace esimguard::defense
