// SGP.22 §5.6.4 ES9+.HandleNotification: the eUICC's signed report of an
// installation (ProfileInstallationResult, §5.5.4) or of a later enable,
// disable or delete (OtherSignedNotification, §3.5). Only a notification
// whose signature verifies under the card bound to the order changes state.

#include "../context.hpp"
#include "../defense.hpp"

#include "esimguard/crypto/ecdsa.hpp"

#include <array>
#include <optional>
#include <utility>

namespace esimguard::smdp::procedures {

namespace {

procedure_result<notification_outcome>
installation_result(const context& ctx, const asn1::profile_installation_result& pir,
                    const bytes& der, call_trace& trace) {
    const auto& data = pir.data;
    const std::string tid = to_hex_upper(data.transaction_id);
    auto session = ctx.db.find_session(tid);
    if (!session || !session->euicc_certificate || !session->order_id) {
        ctx.log->info("{} installation result for an unknown session ignored",
                      detail::session_prefix(tid, {}));
        return notification_outcome::ignored;
    }
    const auto prefix = detail::session_prefix(tid, *session->eid);
    trace.eid = session->eid;
    trace.order_id = session->order_id;
    if (auto refusal = detail::precheck(ctx, trace)) {
        return std::unexpected(*refusal);
    }
    // The card pinned at authenticateClient must be the one reporting.
    auto cert = crypto::certificate::from_der(*session->euicc_certificate);
    if (!cert || pir.data_raw.empty() ||
        !crypto::verify(cert->key(), pir.data_raw, pir.euicc_sign_pir)) {
        ctx.log->warn("{} installation result with an invalid signature refused", prefix);
        detail::report(ctx, trace, defense::risk_event_kind::replay);
        return std::unexpected(rsp::status(rsp::codes::euicc_signature_invalid));
    }
    // Only the session that received the BPP may report its installation:
    // several sessions can be bound to one order (a matching ID without EID),
    // and a card whose session did not take the current download must not
    // move it to installed or error. That session is in bpp_sent; or it was
    // ended by expiry after the order was claimed (smdp_otpk is written only
    // in the claim's commit, with bpp_sent), and the LPA relays the pending
    // result later. An
    // order a session took leaves `downloaded` only through that session
    // (cancel ends it with another reason), so no other session can hold it.
    const bool took_order = session->state == store::session_state::bpp_sent ||
                            (session->state == store::session_state::ended &&
                             session->end_reason == "expired" && session->smdp_otpk.has_value());
    if (!took_order) {
        ctx.log->warn("{} installation result from a session that did not receive the BPP ({}, "
                      "{}); ignored",
                      prefix, store::to_string(session->state), session->end_reason.value_or("-"));
        return notification_outcome::ignored;
    }
    auto order = ctx.db.find_order(*session->order_id);
    if (!order) {
        return std::unexpected(detail::internal_error("order not found"));
    }
    trace.iccid = order->iccid;
    trace.operator_id = order->operator_id;
    const auto now = ctx.now();
    if (data.notification.iccid && data.notification.iccid->to_string() != order->iccid) {
        ctx.log->warn("{} installation result names another ICCID; ignored", prefix);
        return notification_outcome::ignored;
    }
    const std::array from{store::order_state::downloaded};
    if (const auto* err = std::get_if<asn1::install_error_result>(&data.final_result)) {
        const auto reason = static_cast<unsigned>(err->reason);
        const auto step = static_cast<unsigned>(err->bpp_command);
        const std::string end_reason = fmt::format("install_failed:{}", reason);
        if (!ctx.db.transition_order_ending_session(
                order->order_id, from, store::order_state::error, tid, end_reason, now)) {
            // The order moved on meanwhile; the session ends all the same.
            (void)ctx.db.end_session(tid, end_reason, now);
        }
        ctx.add_event(order->order_id, "install_failed",
                      fmt::format("eUICC error reason {} at BPP step {}", reason, step));
        ctx.notify_operator(*order, notification_point::bpp_installation,
                            {rsp::execution_status::failed, std::nullopt}, der, *session->eid);
        ctx.count_download("install_failed");
        ctx.log->info("{} installation failed on the eUICC: reason {} step {}", prefix, reason,
                      step);
        return notification_outcome::install_failure;
    }
    // The order's move and the session's end in one commit.
    auto moved = ctx.db.transition_order_ending_session(
        order->order_id, from, store::order_state::installed, tid, "completed", now);
    if (!moved) {
        // A repeated notification (the LPA retries until it gets a 2xx).
        ctx.log->info("{} installation result repeated; order already {}", prefix,
                      store::to_string(order->state));
        return notification_outcome::ignored;
    }
    ctx.notify_operator(*order, notification_point::bpp_installation,
                        {rsp::execution_status::executed_success, std::nullopt}, der,
                        *session->eid);
    ctx.count_download("installed");
    detail::remember_eid(ctx, order->iccid, *session->eid);
    ctx.log->info("{} profile installed", prefix);
    return notification_outcome::install_success;
}

procedure_result<notification_outcome> other_notification(const context& ctx,
                                                          const asn1::other_signed_notification& n,
                                                          const bytes& der, call_trace& trace) {
    const auto& meta = n.tbs_other_notification;
    auto euicc_cert = crypto::certificate::from_der(n.euicc_certificate);
    auto eum = crypto::certificate::from_der(n.eum_certificate);
    if (!euicc_cert || !eum) {
        detail::report(ctx, trace, defense::risk_event_kind::bad_chain);
        return std::unexpected(rsp::status(rsp::codes::euicc_certificate_invalid));
    }
    // The EID is the certificate's claim until chain and signature verify: a
    // listed EID is refused at once, but a refusal's alerts (a stolen device)
    // wait for the proof that the sender holds the card, as in
    // authenticateClient.
    trace.eid = euicc_cert->subject_serial_number();
    auto early = detail::precheck_deferred(ctx, trace);
    if (early && !early->has_actions()) {
        detail::settle_refusal(ctx, trace, *early, std::nullopt);
        return std::unexpected(early->status);
    }
    const std::vector<crypto::certificate> intermediates{*eum};
    const auto now = ctx.now();
    const auto at = std::chrono::time_point_cast<std::chrono::seconds>(now);
    std::optional<std::pair<defense::risk_event_kind, rsp::status>> unproven;
    if (auto v = crypto::validate_chain(*euicc_cert, intermediates, ctx.anchors, *ctx.crls(), at,
                                        crypto::cert_role::euicc);
        !v) {
        unproven.emplace(defense::risk_event_kind::bad_chain,
                         rsp::status::with_detail(rsp::codes::euicc_certificate_invalid,
                                                  crypto::to_string(v.error().code)));
    } else if (n.tbs_raw.empty() ||
               !crypto::verify(euicc_cert->key(), n.tbs_raw, n.euicc_notification_signature)) {
        unproven.emplace(defense::risk_event_kind::bad_signature,
                         rsp::status(rsp::codes::euicc_signature_invalid));
    }
    if (early) {
        detail::settle_refusal(ctx, trace, *early, !unproven);
    }
    if (unproven) {
        detail::report(ctx, trace, unproven->first);
    }
    if (early) {
        return std::unexpected(early->status);
    }
    if (unproven) {
        return std::unexpected(unproven->second);
    }
    const auto eid = euicc_cert->subject_serial_number();
    if (!meta.iccid || !eid) {
        return notification_outcome::ignored;
    }
    auto order = ctx.db.find_order_by_iccid(meta.iccid->to_string());
    if (!order) {
        return notification_outcome::ignored;
    }
    trace.iccid = order->iccid;
    trace.order_id = order->order_id;
    trace.operator_id = order->operator_id;
    const auto prefix = detail::session_prefix("-", *eid);
    // The card must be the one the profile went to: the order's EID, or the
    // EID pinned in the session that delivered it (found through the history).
    if (order->eid && *order->eid != *eid) {
        ctx.log->warn("{} notification for a profile of another eUICC ignored", prefix);
        return notification_outcome::ignored;
    }
    if (!order->eid) {
        auto events = ctx.db.list_order_events(order->order_id);
        const std::string needle = fmt::format("to eUICC {}", mask_eid(*eid));
        bool delivered_here = false;
        if (events) {
            for (const auto& e : *events) {
                delivered_here = delivered_here || (e.name == "bpp_sent" && e.detail == needle);
            }
        }
        if (!delivered_here) {
            ctx.log->warn("{} notification for a profile sent to another eUICC ignored", prefix);
            return notification_outcome::ignored;
        }
    }

    const auto& op = meta.profile_management_operation;
    store::order_state to{};
    notification_point point{};
    notification_outcome outcome{};
    if (op.test(asn1::notification_enable)) {
        to = store::order_state::enabled;
        point = notification_point::profile_enabled;
        outcome = notification_outcome::profile_enabled;
    } else if (op.test(asn1::notification_disable)) {
        to = store::order_state::disabled;
        point = notification_point::profile_disabled;
        outcome = notification_outcome::profile_disabled;
    } else if (op.test(asn1::notification_delete)) {
        to = store::order_state::deleted;
        point = notification_point::profile_deleted;
        outcome = notification_outcome::profile_deleted;
    } else {
        return notification_outcome::ignored;
    }
    // A delete notification may arrive before the install result was relayed.
    const std::array from{store::order_state::downloaded, store::order_state::installed,
                          store::order_state::enabled, store::order_state::disabled};
    auto moved = ctx.db.transition_order(order->order_id, from, to, now);
    if (!moved) {
        ctx.log->info("{} notification does not apply to an order in state {}", prefix,
                      store::to_string(order->state));
        return notification_outcome::ignored;
    }
    ctx.notify_operator(*order, point, {rsp::execution_status::executed_success, std::nullopt}, der,
                        *eid);
    ctx.log->info("{} order {} now {}", prefix, order->order_id, store::to_string(to));
    return outcome;
}

} // namespace

procedure_result<notification_outcome>
handle_notification(const context& ctx, const rsp::handle_notification_request& r,
                    call_trace& trace) {
    if (const auto* pir = std::get_if<asn1::profile_installation_result>(&r.pending_notification)) {
        return installation_result(ctx, *pir, r.pending_notification_der, trace);
    }
    return other_notification(ctx,
                              std::get<asn1::other_signed_notification>(r.pending_notification),
                              r.pending_notification_der, trace);
}

} // namespace esimguard::smdp::procedures
