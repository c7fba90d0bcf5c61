// The SM-DP+ side of the defences (issue 4 §1–4): prechecks before any
// signature work, risk events and the actions their decisions ask for,
// frozen lines and step-up approvals, the eUICC policy list and the audit
// events of every call.
//
// A precheck on a claim not yet proven (the EID of an eUICC certificate at
// authenticateClient) refuses at once but defers its actions
// (precheck_deferred / settle_refusal): the stolen-EID alert names a victim,
// so it is raised only when the caller proves it holds the card; otherwise
// the request is a forgery, reported as bad_chain / bad_signature / replay
// against its address. The audit says whether possession was proven.
//
// Status codes chosen for defence refusals:
//
//   blocked source address / too many suspicious requests from it
//       1.1 / 1.2   Function Requester, Not Allowed (Authorisation): SGP.22
//                   §5.2.6 has no code for an address; the requester is who
//                   is refused.
//   blocked EID, a rule on the EID, an EID reported stolen
//       8.1.1 / 3.8 EID Refused: the code AuthenticateClient uses for an EID
//                   that may not have this profile.
//   blocked EUM range
//       8.1.2 / 3.8 EUM certificate, Refused.
//   blocked matching ID
//       8.2.6 / 3.8 Matching ID Refused.
//   eUICC policy: EID range → 8.1.1 / 3.8; EUM → 8.1.2 / 3.8; EUICCInfo2
//       fields (firmware, SVN, profile version) → 8.1 / 3.1 eUICC,
//       Unsupported. The message names the policy entry.
//   frozen line, step-up approval pending or refused, order paused by a rule
//       8.2 / 1.2   Profile, Not Allowed (Authorisation): the code for a
//                   profile its owner has not released; the message tells
//                   the user which case it is and what to do. (8.2.7 would
//                   make LPAs ask for a confirmation code again.)

#include "defense.hpp"

#include "esimguard/defense/totp.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace esimguard::smdp::detail {

namespace {

using nlohmann::json;

const smdp_defenses& defs(const context& ctx) {
    return ctx.config.defenses;
}

void count_refusal(const context& ctx, std::string_view rule) {
    ctx.metrics
        ->counter("smdp_defense_refusals_total", "ES9+/ES2+ calls refused by a defence, by rule",
                  {{"rule", std::string(rule)}})
        .inc();
}

void count_action(const context& ctx, std::string_view action) {
    ctx.metrics
        ->counter("smdp_defense_actions_total",
                  "Actions carried out for risk decisions (alert, pause_order, ...)",
                  {{"action", std::string(action)}})
        .inc();
}

defense::alert_severity to_alert_severity(defense::risk_severity s) {
    switch (s) {
    case defense::risk_severity::info:
        return defense::alert_severity::info;
    case defense::risk_severity::warning:
        return defense::alert_severity::warning;
    case defense::risk_severity::critical:
        return defense::alert_severity::critical;
    }
    return defense::alert_severity::warning;
}

std::optional<defense::alert_party> subscriber_party(const context& ctx,
                                                     const std::optional<std::string>& id) {
    if (!id || id->empty()) {
        return std::nullopt;
    }
    defense::alert_party p{*id};
    if (auto* ds = defs(ctx).store) {
        if (auto s = ds->find_subscriber(*id)) {
            p.email = s->email;
        }
    }
    return p;
}

std::optional<defense::alert_party> operator_party(const std::optional<std::string>& id) {
    if (!id || id->empty()) {
        return std::nullopt;
    }
    return defense::alert_party{*id};
}

// Sends `a` to `to` (the dispatcher) and audits it; the audit never carries
// the summary of a code alert (`audit_summary` replaces it).
void send_alert(const context& ctx, defense::alert_notifier* to, defense::alert a,
                const call_trace& trace, std::string_view audit_summary) {
    if (to == nullptr) {
        return;
    }
    if (a.id.empty()) {
        a.id = defense::make_alert_id();
    }
    to->on_alert(a);
    count_action(ctx, "alert");
    json d = {{"alert_id", a.id},
              {"severity", std::string(defense::to_string(a.severity))},
              {"summary", std::string(audit_summary)}};
    if (a.subscriber) {
        d["subscriber"] = a.subscriber->id;
    }
    if (a.operator_party) {
        d["operator"] = a.operator_party->id;
    }
    audit(ctx, {.kind = store::audit_kind::alert,
                .actor = "engine",
                .eid = a.evidence.eid,
                .iccid = a.evidence.iccid,
                .source_address = trace.client.address.empty()
                                      ? std::nullopt
                                      : std::optional<std::string>(trace.client.address),
                .outcome = "sent",
                .reason = a.rule,
                .detail_json = d.dump()});
}

defense::alert_evidence evidence_of(const defense::risk_evidence& e) {
    defense::alert_evidence out;
    if (!e.source_ip.empty()) {
        out.ip = e.source_ip;
    }
    out.eid = e.eid;
    out.iccid = e.iccid;
    out.count = e.count;
    out.window = e.window;
    out.details.emplace_back("dimension", std::string(defense::to_string(e.dimension)));
    out.details.emplace_back("key", e.key);
    out.details.emplace_back("threshold", std::to_string(e.threshold));
    if (e.order_id) {
        out.details.emplace_back("order", *e.order_id);
    }
    return out;
}

void audit_decision(const context& ctx, const call_trace& trace, std::string outcome,
                    std::string rule, json detail) {
    audit(ctx, {.kind = store::audit_kind::decision,
                .actor = "engine",
                .eid = trace.eid,
                .iccid = trace.iccid,
                .source_address = trace.client.address.empty()
                                      ? std::nullopt
                                      : std::optional<std::string>(trace.client.address),
                .outcome = std::move(outcome),
                .reason = std::move(rule),
                .detail_json = detail.dump()});
}

rsp::status stolen_status() {
    return rsp::status("8.1.1", "3.8",
                       "This device (EID) has been reported lost or stolen and may not download "
                       "profiles; contact your operator");
}

bool reported_stolen(const context& ctx, const std::optional<std::string>& eid) {
    return eid && defs(ctx).stolen != nullptr && defs(ctx).stolen->contains(*eid);
}

// The answer to a call a defence refused (see the table at the top).
rsp::status refusal_status(const context& ctx, const call_trace& trace,
                           const defense::risk_decision& d) {
    const std::string rule = d.rule.value_or("risk");
    if (rule == "blocklist:ip" || rule == "blocklist:ip_prefix") {
        return rsp::status("1.1", "1.2",
                           "Requests from your network address are blocked for a while after "
                           "suspicious activity; try again later or contact your operator");
    }
    if (rule == "blocklist:eid") {
        return rsp::status("8.1.1", "3.8",
                           "This device (EID) is blocked by the SM-DP+; contact your operator");
    }
    if (rule == "blocklist:eum") {
        return rsp::status("8.1.2", "3.8",
                           "Devices of this eUICC manufacturer (EUM) range are blocked by the "
                           "SM-DP+; contact your operator");
    }
    if (rule == "blocklist:matching_id") {
        return rsp::status::with_detail(rsp::codes::matching_id_refused, "blocked");
    }
    if (reported_stolen(ctx, trace.eid)) {
        return stolen_status();
    }
    const auto dim = d.evidence ? d.evidence->dimension : defense::risk_dimension::source_ip;
    if (dim == defense::risk_dimension::source_ip) {
        return rsp::status("1.1", "1.2",
                           "Too many suspicious requests from your network address; try again "
                           "later or contact your operator");
    }
    if (dim == defense::risk_dimension::eid) {
        return rsp::status("8.1.1", "3.8",
                           "This device made too many download requests; it is held for a "
                           "security review, contact your operator");
    }
    return rsp::status("8.2", "1.2",
                       "The download is paused for a security review; contact your operator");
}

std::optional<std::string> order_for(const context& ctx, const call_trace& trace,
                                     const defense::risk_pause_order_action& a) {
    if (a.order_id) {
        return a.order_id;
    }
    if (trace.order_id) {
        return trace.order_id;
    }
    if (a.iccid) {
        if (auto o = ctx.db.find_order_by_iccid(*a.iccid)) {
            return o->order_id;
        }
    }
    if (a.matching_id) {
        if (auto o = ctx.db.find_order_by_matching_id(*a.matching_id)) {
            return o->order_id;
        }
    }
    return std::nullopt;
}

// Carries out a decision's actions. Returns the status to answer when a
// step-up was asked for (the caller refuses with it unless already approved).
std::optional<rsp::status> apply(const context& ctx, call_trace& trace,
                                 const defense::risk_decision& d) {
    const auto& ds = defs(ctx);
    std::optional<rsp::status> step_up;
    const bool has_alert = std::any_of(d.actions.begin(), d.actions.end(), [](const auto& a) {
        return std::holds_alternative<defense::risk_alert_action>(a);
    });
    for (const auto& action : d.actions) {
        if (const auto* a = std::get_if<defense::risk_alert_action>(&action)) {
            defense::alert al;
            al.time = ctx.now();
            al.severity = to_alert_severity(a->severity);
            al.rule = a->rule;
            al.summary = fmt::format(
                "Rule {} fired: {} events counted for {} {} within {} s (threshold {}).", a->rule,
                a->evidence.count, defense::to_string(a->evidence.dimension), a->evidence.key,
                a->evidence.window.count(), a->evidence.threshold);
            al.evidence = evidence_of(a->evidence);
            if (!trace.function.empty()) {
                al.evidence.details.emplace_back("function", std::string(trace.function));
            }
            al.subscriber = subscriber_party(
                ctx, a->evidence.subscriber_id ? a->evidence.subscriber_id : trace.subscriber_id);
            al.operator_party = operator_party(a->evidence.operator_id ? a->evidence.operator_id
                                                                       : trace.operator_id);
            send_alert(ctx, ds.alerts, al, trace, al.summary);
        } else if (const auto* p = std::get_if<defense::risk_pause_order_action>(&action)) {
            auto id = order_for(ctx, trace, *p);
            json detail = {{"action", "pause_order"}};
            if (id) {
                detail["order"] = *id;
                auto locked = ctx.db.lock_order(*id, "risk:" + p->rule, ctx.now());
                if (locked) {
                    ctx.add_event(*id, "paused", fmt::format("by risk rule {}", p->rule));
                } else {
                    ctx.log->warn("order {}: pause for rule {} failed: {}", *id, p->rule,
                                  locked.error().message);
                    detail["error"] = locked.error().message;
                }
            }
            count_action(ctx, "pause_order");
            audit_decision(ctx, trace, "paused", p->rule, std::move(detail));
        } else if (const auto* b = std::get_if<defense::risk_block_source_action>(&action)) {
            json detail = {{"action", "block_source"},
                           {"kind", std::string(defense::to_string(b->entry.kind))},
                           {"value", b->entry.value}};
            if (b->entry.expires) {
                detail["expires"] = iso8601(*b->entry.expires);
            }
            count_action(ctx, "block_source");
            audit_decision(ctx, trace, "blocked", b->rule, detail);
            ctx.log->warn("risk rule {} blocked {} {}", b->rule, defense::to_string(b->entry.kind),
                          b->entry.value);
            if (!has_alert) {
                defense::alert al;
                al.time = ctx.now();
                al.severity = defense::alert_severity::warning;
                al.rule = b->rule;
                al.summary = fmt::format("Rule {} blocked {} until {}.", b->rule, b->entry.value,
                                         b->entry.expires ? iso8601(*b->entry.expires) : "-");
                al.evidence.ip = b->entry.value;
                send_alert(ctx, ds.alerts, al, trace, al.summary);
            }
        } else if (const auto* l = std::get_if<defense::risk_lock_line_action>(&action)) {
            const auto iccid = l->iccid ? l->iccid : trace.iccid;
            json detail = {{"action", "lock_subscriber_line"}};
            if (ds.store != nullptr && iccid) {
                auto frozen = ds.store->set_line_frozen(*iccid, "risk:" + l->rule, ctx.now());
                if (!frozen) {
                    detail["error"] = frozen.error().message;
                }
            }
            count_action(ctx, "lock_subscriber_line");
            audit_decision(ctx, trace, "line_frozen", l->rule, std::move(detail));
        } else if (const auto* s = std::get_if<defense::risk_step_up_action>(&action)) {
            count_action(ctx, "require_step_up");
            step_up = check_line(ctx, trace, s->rule);
        } else if (const auto* n = std::get_if<defense::risk_notify_subscriber_action>(&action)) {
            count_action(ctx, "notify_subscriber");
            alert_subscriber(ctx, trace, defense::alert_severity::warning, n->rule,
                             "Suspicious activity was seen on your mobile line (rule " + n->rule +
                                 "); downloads of its eSIM profile are held. If this was not "
                                 "you, contact your operator.");
        }
    }
    return step_up;
}

defense::risk_event event_of(const call_trace& trace, defense::risk_event_kind kind) {
    return {.kind = kind,
            .source_ip = trace.client.address,
            .eid = trace.eid,
            .matching_id = trace.matching_id,
            .iccid = trace.iccid,
            .order_id = trace.order_id,
            .subscriber_id = trace.subscriber_id,
            .operator_id = trace.operator_id};
}

bool below(const asn1::version_type& v, const asn1::version_type& limit) {
    return std::lexicographical_compare(v.begin(), v.end(), limit.begin(), limit.end());
}

std::string version_text(const asn1::version_type& v) {
    return fmt::format("{}.{}.{}", v[0], v[1], v[2]);
}

bool digits(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string purpose_of(const store::approval_record& a) {
    return fmt::format("step-up:{}:{}:{}", a.id, a.order_id, a.eid);
}

defense::one_time_code_record code_record(const store::approval_record& a) {
    return {.salt = a.code_salt,
            .mac = a.code_mac,
            .issued_at = a.created_at,
            .expires_at = a.expires_at,
            .attempts = a.code_attempts,
            .max_attempts = a.code_max_attempts,
            .used = a.code_used};
}

// Creates the approval for (order, eid) and sends its code to the subscriber.
std::optional<rsp::status> create_approval(const context& ctx, call_trace& trace,
                                           const std::string& rule) {
    auto& ds = *defs(ctx).store;
    auto id = ctx.random_bytes(16);
    if (!id) {
        return id.error();
    }
    const auto now = ctx.now();
    store::approval_record a;
    a.id = "apr-" + to_hex(*id);
    a.order_id = *trace.order_id;
    a.iccid = *trace.iccid;
    a.subscriber_id = trace.subscriber_id.value_or("");
    a.eid = *trace.eid;
    a.rule = rule;
    a.state = store::approval_state::pending;
    a.created_at = now;
    // Without an issuer only TOTP (or an admin) can approve; the approval
    // still expires like a code would.
    a.expires_at = now + std::chrono::minutes(10);
    std::optional<std::string> code;
    if (auto* issuer = defs(ctx).codes) {
        auto issued = issuer->issue(purpose_of(a), now);
        if (!issued) {
            ctx.log->error("step-up code not issued: {}", issued.error().message);
            return internal_error("step-up code");
        }
        a.code_salt = issued->record.salt;
        a.code_mac = issued->record.mac;
        a.code_attempts = issued->record.attempts;
        a.code_max_attempts = issued->record.max_attempts;
        a.code_used = false;
        a.created_at = issued->record.issued_at;
        a.expires_at = issued->record.expires_at;
        code = std::move(issued->code);
    }
    if (auto added = ds.add_approval(a); !added) {
        ctx.log->error("step-up approval not stored: {}", added.error().message);
        return internal_error("approval store");
    }
    audit_decision(ctx, trace, "step_up_required", rule,
                   {{"approval", a.id}, {"order", a.order_id}, {"code_sent", code.has_value()}});
    if (code && !a.subscriber_id.empty()) {
        defense::alert al;
        al.time = now;
        al.severity = defense::alert_severity::info;
        al.rule = "step_up_code";
        al.summary = fmt::format(
            "A device (EID {}) asked to download the eSIM profile of your line {}. If this is "
            "your device, approve the download with the code {} (valid until {}); if it is "
            "not, refuse it in the portal and contact your operator.",
            defense::alert_masked_eid(a.eid), a.iccid, *code, iso8601(a.expires_at));
        al.evidence.eid = a.eid;
        al.evidence.iccid = a.iccid;
        al.evidence.details.emplace_back("approval", a.id);
        al.subscriber = subscriber_party(ctx, a.subscriber_id);
        auto* to = defs(ctx).code_sender ? defs(ctx).code_sender : defs(ctx).alerts;
        send_alert(ctx, to, std::move(al), trace, "step-up code sent to the subscriber");
        std::fill(code->begin(), code->end(), '\0');
    }
    count_refusal(ctx, "step_up");
    trace.refused_by = rule;
    return step_up_pending_status();
}

} // namespace

rsp::status step_up_pending_status() {
    return rsp::status("8.2", "1.2",
                       "The download waits for the line owner's approval: approve it with the "
                       "code sent to you, or in the portal, then try again");
}

rsp::status line_frozen_status() {
    return rsp::status("8.2", "1.2",
                       "This line is frozen by its subscriber: no download or transfer until "
                       "the subscriber unfreezes it in the portal");
}

void audit(const context& ctx, defense::audit_entry entry) {
    if (const auto& sink = defs(ctx).audit) {
        sink(entry);
    }
}

void audit_call(const context& ctx, const call_trace& trace, store::audit_kind kind,
                std::string actor, const rsp::status* refusal, std::string_view ok_reason) {
    if (!defs(ctx).audit) {
        return;
    }
    std::string outcome = "ok";
    std::string reason(ok_reason);
    json detail = {{"function", std::string(trace.function)}};
    if (refusal != nullptr) {
        reason = fmt::format("{}/{}", refusal->subject_code, refusal->reason_code);
        detail["message"] = refusal->message;
        if (trace.refused_by) {
            outcome = "blocked";
            detail["rule"] = *trace.refused_by;
            reason += " " + *trace.refused_by;
        } else if (refusal->subject_code == "8.8" && refusal->reason_code == "3.1") {
            outcome = "error";
        } else {
            outcome = "refused";
        }
    }
    if (trace.order_id) {
        detail["order"] = *trace.order_id;
    }
    audit(ctx, {.kind = kind,
                .actor = std::move(actor),
                .eid = trace.eid,
                .iccid = trace.iccid,
                .source_address = trace.client.address.empty()
                                      ? std::nullopt
                                      : std::optional<std::string>(trace.client.address),
                .outcome = std::move(outcome),
                .reason = std::move(reason),
                .detail_json = detail.dump()});
}

namespace {

// What the engine (or, without one, the lists) decides before any work.
defense::risk_decision precheck_decision(const context& ctx, const call_trace& trace) {
    const auto& ds = defs(ctx);
    defense::risk_decision d;
    if (ds.risk != nullptr) {
        return ds.risk->precheck({trace.client.address, trace.eid, trace.matching_id});
    }
    // Without an engine the lists still apply, as the engine would apply them.
    if (ds.blocks != nullptr) {
        std::optional<defense::block_entry> e = ds.blocks->match_ip(trace.client.address);
        if (!e && trace.eid) {
            e = ds.blocks->match_eid(*trace.eid);
        }
        if (!e && trace.matching_id) {
            e = ds.blocks->match_matching_id(*trace.matching_id);
        }
        if (e) {
            d.verdict = defense::risk_verdict::refuse;
            d.rule = fmt::format("blocklist:{}", defense::to_string(e->kind));
        }
    }
    if (d.allowed() && reported_stolen(ctx, trace.eid)) {
        d.verdict = defense::risk_verdict::refuse;
        d.rule = "stolen_eid";
    }
    return d;
}

} // namespace

std::optional<deferred_refusal> precheck_deferred(const context& ctx, call_trace& trace) {
    auto d = precheck_decision(ctx, trace);
    if (d.allowed()) {
        return std::nullopt;
    }
    const std::string rule = d.rule.value_or("risk");
    trace.refused_by = rule;
    count_refusal(ctx, rule);
    auto status = refusal_status(ctx, trace, d);
    return deferred_refusal{std::move(status), std::move(d)};
}

namespace {

// Carries out (when `act`) and audits a precheck refusal. `proven` is set
// for a deferred refusal: whether the caller proved it holds the card.
void finish_refusal(const context& ctx, call_trace& trace, const defense::risk_decision& d,
                    bool act, std::optional<bool> proven) {
    const std::string rule = d.rule.value_or("risk");
    if (act) {
        (void)apply(ctx, trace, d);
    }
    if (!d.actions.empty()) {
        // A plain blocklist hit is audited once, as the call's own event
        // (outcome "blocked", the rule in its reason): a flood from a blocked
        // address must not write two events per request.
        json detail = {{"function", std::string(trace.function)}};
        if (proven) {
            detail["possession_proven"] = *proven;
        }
        audit_decision(ctx, trace, "refused", rule, std::move(detail));
    }
    ctx.log->info("{} {} refused by {}{}", session_prefix("-", trace.eid), trace.function, rule,
                  !proven   ? ""
                  : *proven ? " (card possession proven)"
                            : " (card possession NOT proven: no alert)");
}

} // namespace

void settle_refusal(const context& ctx, call_trace& trace, const deferred_refusal& r,
                    std::optional<bool> possession_proven) {
    finish_refusal(ctx, trace, r.decision, possession_proven.value_or(false), possession_proven);
}

std::optional<rsp::status> precheck(const context& ctx, call_trace& trace) {
    auto r = precheck_deferred(ctx, trace);
    if (!r) {
        return std::nullopt;
    }
    finish_refusal(ctx, trace, r->decision, true, std::nullopt);
    return std::move(r->status);
}

void find_subscriber(const context& ctx, call_trace& trace) {
    auto* ds = defs(ctx).store;
    if (ds == nullptr || trace.subscriber_looked_up || !trace.iccid) {
        return;
    }
    trace.subscriber_looked_up = true;
    if (auto line = ds->find_line(*trace.iccid)) {
        trace.subscriber_id = line->subscriber_id;
    }
}

std::optional<rsp::status> record(const context& ctx, call_trace& trace,
                                  defense::risk_event_kind kind) {
    // Every call is a request event, counted already by smdp_requests_total;
    // the others (replays, bad chains, ...) are what operators watch.
    if (kind != defense::risk_event_kind::request) {
        ctx.metrics
            ->counter("smdp_risk_events_total",
                      "Events reported to the risk engine (replay, bad_chain, ...), by kind",
                      {{"kind", std::string(defense::to_string(kind))}})
            .inc();
    }
    auto* engine = defs(ctx).risk;
    if (engine == nullptr) {
        return std::nullopt;
    }
    find_subscriber(ctx, trace);
    const auto d = engine->record(event_of(trace, kind));
    if (d.degraded) {
        ctx.log->warn("risk engine degraded while recording {}", defense::to_string(kind));
    }
    auto step_up = apply(ctx, trace, d);
    if (!d.allowed()) {
        const std::string rule = d.rule.value_or("risk");
        trace.refused_by = rule;
        count_refusal(ctx, rule);
        audit_decision(ctx, trace, "refused", rule,
                       {{"function", std::string(trace.function)},
                        {"event", std::string(defense::to_string(kind))}});
        return refusal_status(ctx, trace, d);
    }
    return step_up;
}

void report(const context& ctx, call_trace& trace, defense::risk_event_kind kind) {
    (void)record(ctx, trace, kind);
}

void alert_subscriber(const context& ctx, call_trace& trace, defense::alert_severity severity,
                      std::string rule, std::string summary) {
    find_subscriber(ctx, trace);
    defense::alert al;
    al.time = ctx.now();
    al.severity = severity;
    al.rule = std::move(rule);
    al.summary = std::move(summary);
    al.evidence.eid = trace.eid;
    al.evidence.iccid = trace.iccid;
    if (!trace.client.address.empty()) {
        al.evidence.ip = trace.client.address;
    }
    al.subscriber = subscriber_party(ctx, trace.subscriber_id);
    al.operator_party = operator_party(trace.operator_id);
    const std::string audit_summary = al.summary;
    send_alert(ctx, defs(ctx).alerts, std::move(al), trace, audit_summary);
}

const euicc_policy_entry* euicc_policy_match(const context& ctx, std::string_view eid,
                                             const std::optional<bytes>& eum_key_id,
                                             const asn1::euicc_info2& info2) {
    for (const auto& e : defs(ctx).euicc_policy) {
        bool any = false;
        bool all = true;
        auto check = [&](bool applies, bool matches) {
            if (applies) {
                any = true;
                all = all && matches;
            }
        };
        check(e.eum_key_id.has_value(), eum_key_id && e.eum_key_id == eum_key_id);
        check(e.eid_prefix.has_value(), e.eid_prefix && eid.starts_with(*e.eid_prefix));
        // Equal-length digit strings compare as numbers.
        check(e.eid_from.has_value(), e.eid_from && eid.size() == e.eid_from->size() &&
                                          eid >= std::string_view(*e.eid_from));
        check(e.eid_to.has_value(),
              e.eid_to && eid.size() == e.eid_to->size() && eid <= std::string_view(*e.eid_to));
        check(e.firmware_below.has_value(),
              e.firmware_below && below(info2.euicc_firmware_ver, *e.firmware_below));
        check(e.svn_below.has_value(), e.svn_below && below(info2.svn, *e.svn_below));
        check(e.profile_version_below.has_value(),
              e.profile_version_below && below(info2.profile_version, *e.profile_version_below));
        if (any && all) {
            return &e;
        }
    }
    return nullptr;
}

std::optional<rsp::status> check_line(const context& ctx, call_trace& trace,
                                      std::optional<std::string> step_up_rule) {
    auto* ds = defs(ctx).store;
    if (ds == nullptr || !trace.iccid || !trace.eid || !trace.order_id) {
        return std::nullopt;
    }
    auto line = ds->find_line(*trace.iccid);
    if (!line && line.error().code != store::errc::not_found) {
        // A frozen line must stay frozen while its store is unreachable.
        ctx.log->error("line lookup failed: {}", line.error().message);
        return internal_error("defence store unavailable");
    }
    trace.subscriber_looked_up = true;
    bool new_eid = false;
    if (line) {
        trace.subscriber_id = line->subscriber_id;
        if (line->frozen) {
            trace.refused_by = "line_frozen";
            count_refusal(ctx, "line_frozen");
            audit_decision(ctx, trace, "refused", "line_frozen",
                           {{"function", std::string(trace.function)},
                            {"frozen_reason", line->frozen_reason.value_or("")}});
            return line_frozen_status();
        }
        new_eid = line->step_up_on_new_eid &&
                  std::find(line->known_eids.begin(), line->known_eids.end(), *trace.eid) ==
                      line->known_eids.end();
    }
    // An approval asked for earlier (by a rule that fires once, at its
    // threshold) holds the download until it is decided, whatever asks now.
    auto existing = ds->find_approval_for(*trace.order_id, *trace.eid);
    if (!existing && existing.error().code != store::errc::not_found) {
        ctx.log->error("approval lookup failed: {}", existing.error().message);
        return internal_error("defence store unavailable");
    }
    if (!new_eid && !step_up_rule && !existing) {
        return std::nullopt;
    }
    const std::string rule =
        step_up_rule.value_or(existing ? existing->rule : std::string("step_up_on_new_eid"));
    if (existing) {
        switch (existing->state) {
        case store::approval_state::approved:
            return std::nullopt;
        case store::approval_state::refused:
            trace.refused_by = "step_up_refused";
            count_refusal(ctx, "step_up_refused");
            return rsp::status("8.2", "1.2",
                               "The line owner refused this download to this device; contact "
                               "your operator");
        case store::approval_state::pending:
            if (existing->expires_at > ctx.now()) {
                // One code per wait: a device retrying must not make the
                // subscriber's mailbox fill with codes.
                trace.refused_by = rule;
                count_refusal(ctx, "step_up");
                return step_up_pending_status();
            }
            break;
        case store::approval_state::expired:
            break;
        }
    }
    return create_approval(ctx, trace, rule);
}

void remember_eid(const context& ctx, std::string_view iccid, std::string_view eid) {
    auto* ds = defs(ctx).store;
    if (ds == nullptr) {
        return;
    }
    if (auto r = ds->add_known_eid(iccid, eid); !r && r.error().code != store::errc::not_found) {
        ctx.log->warn("known EID not remembered: {}", r.error().message);
    }
}

std::expected<store::approval_record, step_up_error>
approve_step_up(const context& ctx, std::string_view approval_id, std::string_view code,
                step_up_factor factor, std::string_view actor) {
    using k = step_up_error::kind;
    auto* ds = defs(ctx).store;
    if (ds == nullptr) {
        return std::unexpected(step_up_error{k::unavailable, "step-up is not configured", 0});
    }
    auto a = ds->find_approval(approval_id);
    if (!a) {
        if (a.error().code == store::errc::not_found) {
            return std::unexpected(step_up_error{k::not_found, "no such approval", 0});
        }
        return std::unexpected(step_up_error{k::unavailable, "defence store unavailable", 0});
    }
    call_trace trace{.client = {}, .function = "approve_step_up"};
    trace.eid = a->eid;
    trace.iccid = a->iccid;
    trace.order_id = a->order_id;
    const auto now = ctx.now();
    auto audit_try = [&](std::string outcome, std::string reason) {
        audit(ctx, {.kind = actor.starts_with("subscriber:") ? store::audit_kind::subscriber_action
                                                             : store::audit_kind::admin_action,
                    .actor = std::string(actor),
                    .eid = a->eid,
                    .iccid = a->iccid,
                    .source_address = std::nullopt,
                    .outcome = std::move(outcome),
                    .reason = std::move(reason),
                    .detail_json =
                        json{{"action", "approve_step_up"},
                             {"approval", a->id},
                             {"factor", factor == step_up_factor::totp ? "totp" : "one_time_code"}}
                            .dump()});
    };
    if (a->state != store::approval_state::pending) {
        audit_try("refused", "not_pending");
        return std::unexpected(step_up_error{
            k::not_pending, fmt::format("the approval is {}", store::to_string(a->state)), 0});
    }
    if (a->expires_at <= now) {
        auto next = *a;
        next.state = store::approval_state::expired;
        (void)ds->update_approval(*a, next);
        audit_try("refused", "expired");
        return std::unexpected(step_up_error{k::expired, "the approval has expired", 0});
    }
    auto next = *a;
    if (factor == step_up_factor::one_time_code) {
        auto* issuer = defs(ctx).codes;
        if (issuer == nullptr || a->code_mac.empty()) {
            return std::unexpected(
                step_up_error{k::no_factor, "no one-time code was issued for this approval", 0});
        }
        auto check = issuer->verify(code_record(*a), purpose_of(*a), code, now);
        if (!check) {
            return std::unexpected(step_up_error{k::unavailable, "code check failed", 0});
        }
        next.code_attempts = check->record.attempts;
        next.code_used = check->record.used;
        switch (check->outcome) {
        case defense::one_time_code_outcome::accepted:
            break;
        case defense::one_time_code_outcome::wrong: {
            if (auto w = ds->update_approval(*a, next); !w) {
                return std::unexpected(step_up_error{k::conflict, "try again", 0});
            }
            audit_try("refused", "wrong_code");
            return std::unexpected(
                step_up_error{check->attempts_left > 0 ? k::wrong_code : k::locked,
                              "the code is wrong", check->attempts_left});
        }
        case defense::one_time_code_outcome::expired:
            audit_try("refused", "expired");
            return std::unexpected(step_up_error{k::expired, "the code has expired", 0});
        case defense::one_time_code_outcome::used:
            audit_try("refused", "code_used");
            return std::unexpected(step_up_error{k::replayed, "the code was already used", 0});
        case defense::one_time_code_outcome::locked:
            audit_try("refused", "locked");
            return std::unexpected(step_up_error{k::locked, "too many wrong codes", 0});
        }
    } else {
        auto sub = ds->find_subscriber(a->subscriber_id);
        if (!sub || !sub->totp_secret) {
            return std::unexpected(
                step_up_error{k::no_factor, "the subscriber has not enrolled TOTP", 0});
        }
        const auto secs = std::chrono::time_point_cast<std::chrono::seconds>(now);
        auto v = defense::verify_totp(*sub->totp_secret, code, secs, sub->totp_last_step);
        if (!v) {
            return std::unexpected(step_up_error{k::unavailable, "TOTP check failed", 0});
        }
        if (v->outcome == defense::totp_outcome::replayed) {
            audit_try("refused", "totp_replayed");
            return std::unexpected(step_up_error{k::replayed, "this code was already used", 0});
        }
        if (v->outcome != defense::totp_outcome::accepted || !v->time_step) {
            audit_try("refused", "wrong_code");
            return std::unexpected(step_up_error{k::wrong_code, "the code is wrong", 0});
        }
        // The step is spent before the approval is honoured: a second request
        // with the same code loses this compare-and-set.
        if (auto adv = ds->advance_totp_step(sub->id, sub->totp_last_step, *v->time_step); !adv) {
            audit_try("refused", "totp_replayed");
            return std::unexpected(step_up_error{k::replayed, "this code was already used", 0});
        }
    }
    next.state = store::approval_state::approved;
    next.decided_at = now;
    next.decided_by = std::string(actor);
    auto written = ds->update_approval(*a, next);
    if (!written) {
        return std::unexpected(step_up_error{k::conflict, "the approval changed; try again", 0});
    }
    audit_try("approved", a->rule);
    ctx.add_event(a->order_id, "step_up_approved",
                  fmt::format("for eUICC {} by {}", mask_eid(a->eid), actor));
    return *written;
}

std::expected<store::approval_record, step_up_error>
refuse_step_up(const context& ctx, std::string_view approval_id, std::string_view actor) {
    using k = step_up_error::kind;
    auto* ds = defs(ctx).store;
    if (ds == nullptr) {
        return std::unexpected(step_up_error{k::unavailable, "step-up is not configured", 0});
    }
    auto a = ds->find_approval(approval_id);
    if (!a) {
        return std::unexpected(a.error().code == store::errc::not_found
                                   ? step_up_error{k::not_found, "no such approval", 0}
                                   : step_up_error{k::unavailable, "defence store unavailable", 0});
    }
    if (a->state != store::approval_state::pending) {
        return std::unexpected(step_up_error{
            k::not_pending, fmt::format("the approval is {}", store::to_string(a->state)), 0});
    }
    const auto now = ctx.now();
    auto next = *a;
    next.state = store::approval_state::refused;
    next.decided_at = now;
    next.decided_by = std::string(actor);
    auto written = ds->update_approval(*a, next);
    if (!written) {
        return std::unexpected(step_up_error{k::conflict, "the approval changed; try again", 0});
    }
    (void)ctx.db.lock_order(a->order_id, "step_up_refused", now);
    ctx.add_event(a->order_id, "step_up_refused",
                  fmt::format("for eUICC {} by {}", mask_eid(a->eid), actor));
    call_trace trace{.client = {}, .function = "refuse_step_up"};
    trace.eid = a->eid;
    trace.iccid = a->iccid;
    trace.order_id = a->order_id;
    trace.subscriber_id = a->subscriber_id;
    trace.subscriber_looked_up = true;
    if (auto o = ctx.db.find_order(a->order_id)) {
        trace.operator_id = o->operator_id;
    }
    audit(ctx, {.kind = actor.starts_with("subscriber:") ? store::audit_kind::subscriber_action
                                                         : store::audit_kind::admin_action,
                .actor = std::string(actor),
                .eid = a->eid,
                .iccid = a->iccid,
                .source_address = std::nullopt,
                .outcome = "refused",
                .reason = "step_up_refused",
                .detail_json = json{{"action", "refuse_step_up"}, {"approval", a->id}}.dump()});
    defense::alert al;
    al.time = now;
    al.severity = defense::alert_severity::warning;
    al.rule = "step_up_refused";
    al.summary = fmt::format("The subscriber refused a download of {} to eUICC {}; the order is "
                             "paused until the operator releases it.",
                             a->iccid, defense::alert_masked_eid(a->eid));
    al.evidence.eid = a->eid;
    al.evidence.iccid = a->iccid;
    al.subscriber = subscriber_party(ctx, trace.subscriber_id);
    al.operator_party = operator_party(trace.operator_id);
    const std::string s = al.summary;
    send_alert(ctx, defs(ctx).alerts, std::move(al), trace, s);
    return *written;
}

std::expected<void, std::string> check_policy_entries(const std::vector<euicc_policy_entry>& es) {
    for (const auto& e : es) {
        auto bad = [&](std::string_view why) {
            return std::unexpected(fmt::format("eUICC policy entry '{}': {}", e.name, why));
        };
        if (e.name.empty()) {
            return bad("has no name");
        }
        if (!e.eum_key_id && !e.eid_prefix && !e.eid_from && !e.eid_to && !e.firmware_below &&
            !e.svn_below && !e.profile_version_below) {
            return bad("matches nothing: give eum_key_id, eid_prefix, eid_from/eid_to or a "
                       "version bound");
        }
        if (e.eid_prefix &&
            (e.eid_prefix->empty() || e.eid_prefix->size() > 32 || !digits(*e.eid_prefix))) {
            return bad("eid_prefix must be 1 to 32 digits");
        }
        for (const auto* b : {&e.eid_from, &e.eid_to}) {
            if (*b && (b->value().size() != 32 || !digits(**b))) {
                return bad("eid_from and eid_to must be 32 digits");
            }
        }
        if (e.eid_from && e.eid_to && *e.eid_from > *e.eid_to) {
            return bad("eid_from is above eid_to");
        }
        if (e.eum_key_id && e.eum_key_id->empty()) {
            return bad("eum_key_id is empty");
        }
    }
    return {};
}

std::string policy_refusal_text(const euicc_policy_entry& e, const asn1::euicc_info2& info2) {
    std::vector<std::string> why;
    if (e.firmware_below) {
        why.push_back(fmt::format("firmware {} below {}", version_text(info2.euicc_firmware_ver),
                                  version_text(*e.firmware_below)));
    }
    if (e.svn_below) {
        why.push_back(fmt::format("SGP.22 version {} below {}", version_text(info2.svn),
                                  version_text(*e.svn_below)));
    }
    if (e.profile_version_below) {
        why.push_back(fmt::format("profile package version {} below {}",
                                  version_text(info2.profile_version),
                                  version_text(*e.profile_version_below)));
    }
    if (e.eum_key_id || e.eid_prefix) {
        why.emplace_back("eUICC manufacturer");
    }
    if (e.eid_from || e.eid_to) {
        why.emplace_back("EID range");
    }
    return fmt::format("{}", fmt::join(why, ", "));
}

} // namespace esimguard::smdp::detail

namespace esimguard::smdp {

std::expected<void, std::string>
validate_euicc_policy(const std::vector<euicc_policy_entry>& entries) {
    return detail::check_policy_entries(entries);
}

std::string_view to_string(step_up_error::kind k) {
    using enum step_up_error::kind;
    switch (k) {
    case not_found:
        return "not_found";
    case not_pending:
        return "not_pending";
    case expired:
        return "expired";
    case wrong_code:
        return "wrong_code";
    case locked:
        return "locked";
    case replayed:
        return "replayed";
    case no_factor:
        return "no_factor";
    case conflict:
        return "conflict";
    case unavailable:
        return "unavailable";
    }
    return "unknown";
}

} // namespace esimguard::smdp
