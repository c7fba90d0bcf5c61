#pragma once
// Private to lib/smdp: how the procedures use the defences of
// smdp_config::defenses (defenses.hpp). Every function here is a no-op, or
// answers "allowed", when the collaborator it needs is not configured.

#include "context.hpp"

#include "esimguard/defense/risk_engine.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace esimguard::smdp::detail {

/// Asks the risk engine (or, without one, the blocklist and stolen list)
/// whether the call may go on, with what the trace knows so far (source
/// address, EID, matching ID). A refusal is counted
/// (smdp_defense_refusals_total{rule}), its decision audited, its actions
/// carried out, and the SGP.22 status to answer returned. Cheap: no counter,
/// no store call, no signature.
[[nodiscard]] std::optional<rsp::status> precheck(const context& ctx, call_trace& trace);

/// A precheck refusal whose actions have not been carried out yet.
struct deferred_refusal {
    rsp::status status;
    defense::risk_decision decision;
    /// True when the decision asks for actions (a stolen-EID alert): they
    /// wait for settle_refusal().
    [[nodiscard]] bool has_actions() const { return !decision.actions.empty(); }
};

/// precheck() for a claim not yet proven (the EID of an eUICC certificate
/// whose chain and signature are still unchecked): the refusal is counted
/// and its status returned, but its actions wait, so that presenting a
/// stolen card's public certificate cannot raise alerts about it.
[[nodiscard]] std::optional<deferred_refusal> precheck_deferred(const context& ctx,
                                                                call_trace& trace);

/// Finishes a deferred refusal: audits one that has actions (outcome
/// refused, reason the rule, whether possession was proven) and carries out
/// its actions only when the caller proved it holds the card. nullopt: not
/// checked (a refusal without actions needs no proof).
void settle_refusal(const context& ctx, call_trace& trace, const deferred_refusal& r,
                    std::optional<bool> possession_proven);

/// Reports one event of `kind` with what the trace knows (counted in
/// smdp_risk_events_total{kind}, request events aside), carries out the
/// decision's actions (alert, pause order, freeze line, step-up, notify the
/// subscriber; blocks were applied by the engine; an alert's evidence names
/// the ES9+/ES2+ function) and returns the status to answer when the engine
/// refuses the call.
[[nodiscard]] std::optional<rsp::status> record(const context& ctx, call_trace& trace,
                                                defense::risk_event_kind kind);
/// record() for events whose call is refused anyway (a bad signature, an
/// unknown matching ID): the engine's verdict does not change the answer.
void report(const context& ctx, call_trace& trace, defense::risk_event_kind kind);

/// Looks up (once per call) the subscriber of the trace's ICCID.
void find_subscriber(const context& ctx, call_trace& trace);

/// Appends one audit event; nothing when no audit sink is configured.
void audit(const context& ctx, defense::audit_entry entry);

/// The audit event of a finished ES9+/ES2+ call: outcome ok / refused /
/// error / blocked, reason the SGP.22 status (or the refusing rule).
void audit_call(const context& ctx, const call_trace& trace, store::audit_kind kind,
                std::string actor, const rsp::status* refusal, std::string_view ok_reason = "");

/// Sends an alert about the trace's line to the subscriber (and whoever else
/// the dispatcher delivers to), audited as kind alert.
void alert_subscriber(const context& ctx, call_trace& trace, defense::alert_severity severity,
                      std::string rule, std::string summary);

/// The eUICC policy entry that refuses this card, if any.
[[nodiscard]] const euicc_policy_entry* euicc_policy_match(const context& ctx, std::string_view eid,
                                                           const std::optional<bytes>& eum_key_id,
                                                           const asn1::euicc_info2& info2);

/// Line checks at authenticateClient, once the card is authenticated and its
/// order known (trace has eid, iccid, order_id): a frozen line refuses; a
/// line with step_up_on_new_eid and an EID not among its known EIDs, or
/// `step_up_rule`, requires an approval for (order, EID), which is created
/// (and its code sent to the subscriber) when there is none. Returns the
/// refusal, or nullopt when the download may go on.
[[nodiscard]] std::optional<rsp::status> check_line(const context& ctx, call_trace& trace,
                                                    std::optional<std::string> step_up_rule);

/// After a successful installation: the EID joins the line's known EIDs.
void remember_eid(const context& ctx, std::string_view iccid, std::string_view eid);

/// A text naming what the policy entry matched (versions compared), for
/// the refusal message and the audit trail.
[[nodiscard]] std::string policy_refusal_text(const euicc_policy_entry& e,
                                              const asn1::euicc_info2& info2);
[[nodiscard]] std::expected<void, std::string>
check_policy_entries(const std::vector<euicc_policy_entry>& entries);

/// smdp_service::approve_step_up / refuse_step_up.
[[nodiscard]] std::expected<store::approval_record, step_up_error>
approve_step_up(const context& ctx, std::string_view approval_id, std::string_view code,
                step_up_factor factor, std::string_view actor);
[[nodiscard]] std::expected<store::approval_record, step_up_error>
refuse_step_up(const context& ctx, std::string_view approval_id, std::string_view actor);

/// The SGP.22 status for a refused step-up wait (8.2 / 1.2 with a message).
[[nodiscard]] rsp::status step_up_pending_status();
/// The SGP.22 status for a line frozen by its subscriber (8.2 / 1.2).
[[nodiscard]] rsp::status line_frozen_status();

} // namespace esimguard::smdp::detail
