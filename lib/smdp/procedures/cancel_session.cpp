// SGP.22 §5.6.5 ES9+.CancelSession: the eUICC's signed request to end an RSP
// session. Postponed and timed-out downloads stay available for a retry;
// every other reason ends the order in error (§3.1.3.4 / §3.1.3.5).

#include "../context.hpp"
#include "../defense.hpp"

#include "esimguard/crypto/ecdsa.hpp"

#include <array>

namespace esimguard::smdp::procedures {

namespace {

std::string_view reason_name(asn1::cancel_session_reason r) {
    switch (r) {
    case asn1::cancel_session_reason::end_user_rejection:
        return "end_user_rejection";
    case asn1::cancel_session_reason::postponed:
        return "postponed";
    case asn1::cancel_session_reason::timeout:
        return "timeout";
    case asn1::cancel_session_reason::ppr_not_allowed:
        return "ppr_not_allowed";
    case asn1::cancel_session_reason::metadata_mismatch:
        return "metadata_mismatch";
    case asn1::cancel_session_reason::load_bpp_execution_error:
        return "load_bpp_execution_error";
    case asn1::cancel_session_reason::undefined_reason:
        return "undefined_reason";
    }
    return "other";
}

} // namespace

procedure_result<void> cancel_session(const context& ctx, const rsp::cancel_session_request& r,
                                      call_trace& trace) {
    const std::string tid = to_hex_upper(r.transaction_id);
    auto session = ctx.db.find_session(tid);
    if (!session) {
        if (session.error().code == store::errc::not_found) {
            detail::report(ctx, trace, defense::risk_event_kind::replay);
            return std::unexpected(rsp::status(rsp::codes::transaction_id_unknown));
        }
        return std::unexpected(detail::internal_error("session store unavailable"));
    }
    trace.eid = session->eid;
    trace.order_id = session->order_id;
    if (session->state == store::session_state::ended) {
        // Not a replay: LPAs cancel a session the SM-DP+ already ended after
        // a refusal (lpac does after a wrong confirmation code).
        return std::unexpected(
            rsp::status::with_detail(rsp::codes::transaction_id_unknown, "session ended"));
    }
    if (auto refusal = detail::precheck(ctx, trace)) {
        return std::unexpected(*refusal);
    }
    const auto prefix = detail::session_prefix(
        tid, session->eid ? std::optional<std::string_view>(*session->eid) : std::nullopt);
    const auto now = ctx.now();

    const auto* ok = std::get_if<asn1::cancel_session_response_ok>(&r.cancel_session_response);
    if (!ok) {
        // An unsigned answer can only end a session no card is bound to yet.
        if (session->euicc_certificate) {
            return std::unexpected(rsp::status::with_detail(rsp::codes::euicc_signature_invalid,
                                                            "cancellation not signed"));
        }
        (void)ctx.db.end_session(tid, "cancelled", now);
        ctx.log->info("{} session cancelled before authentication", prefix);
        return {};
    }
    const auto& signed_part = ok->cancel_signed;
    if (signed_part.transaction_id != r.transaction_id) {
        return std::unexpected(rsp::status::with_detail(rsp::codes::transaction_id_unknown,
                                                        "signed transactionId differs"));
    }
    if (ctx.config.smdp_oid) {
        const auto oid = detail::encode_oid(*ctx.config.smdp_oid);
        if (oid && *oid != signed_part.smdp_oid) {
            return std::unexpected(rsp::status("8.8", "3.10", "The SM-DP+ OID is invalid"));
        }
    }
    if (session->euicc_certificate) {
        auto cert = crypto::certificate::from_der(*session->euicc_certificate);
        if (!cert || signed_part.raw.empty() ||
            !crypto::verify(cert->key(), signed_part.raw, ok->euicc_cancel_session_signature)) {
            // Pinned at authenticateClient: only that card may cancel its session.
            ctx.log->warn("{} cancelSession with an invalid signature refused", prefix);
            detail::report(ctx, trace, defense::risk_event_kind::replay);
            return std::unexpected(rsp::status(rsp::codes::euicc_signature_invalid));
        }
    }
    // Before authenticateClient there is no card to check against and no order
    // bound: ending the session is all there is to do.

    const auto reason = signed_part.reason;
    // The session ends in the state read above, so that what follows (did it
    // take the order?) is decided on the state it ended in: a
    // getBoundProfilePackage committing bpp_sent meanwhile is seen, and the
    // order it took is not left in `downloaded`. When it moved on, it is
    // read again once.
    for (int attempt = 0;; ++attempt) {
        store::session_update end;
        end.state = store::session_state::ended;
        end.end_reason = fmt::format("cancelled:{}", reason_name(reason));
        auto ended = ctx.db.update_session(tid, session->state, end, now);
        if (ended) {
            if (session->smdp_otsk) {
                // A row written by an older version may hold a one-time key.
                (void)ctx.db.clear_session_secret(tid, now);
            }
            break;
        }
        if (ended.error().code != store::errc::state_mismatch || attempt > 0) {
            return std::unexpected(detail::internal_error("session store unavailable"));
        }
        session = ctx.db.find_session(tid);
        if (!session) {
            return std::unexpected(detail::internal_error("session store unavailable"));
        }
        if (session->state == store::session_state::ended) {
            return std::unexpected(
                rsp::status::with_detail(rsp::codes::transaction_id_unknown, "session ended"));
        }
    }
    if (session->order_id) {
        auto order = ctx.db.find_order(*session->order_id);
        if (order) {
            const bool retry_allowed = reason == asn1::cancel_session_reason::postponed ||
                                       reason == asn1::cancel_session_reason::timeout;
            // Several sessions may be bound to one order (a matching ID without
            // an EID, used by several cards); only the session whose
            // getBoundProfilePackage took the order (released → downloaded,
            // then bpp_sent) may move it out of `downloaded`. Otherwise card A
            // could re-release the order card B just received and download a
            // second copy of the profile.
            const bool took_order = session->state == store::session_state::bpp_sent;
            if (took_order && retry_allowed) {
                // A BPP that was sent but not installed may be fetched again.
                const std::array from{store::order_state::downloaded};
                (void)ctx.db.transition_order(order->order_id, from, store::order_state::released,
                                              now);
            } else if (took_order) {
                const std::array from{store::order_state::downloaded};
                (void)ctx.db.transition_order(order->order_id, from, store::order_state::error,
                                              now);
            } else if (!retry_allowed) {
                // An authenticated session that got no BPP: SGP.22 §5.6.5 ends
                // the order in error for a rejection, which a card holding the
                // matching ID could also reach by downloading it. It can only
                // do so while the order is still `released`: an order another
                // session took is left alone.
                const std::array from{store::order_state::released};
                (void)ctx.db.transition_order(order->order_id, from, store::order_state::error,
                                              now);
            }
            if (!took_order && order->state != store::order_state::released) {
                ctx.add_event(order->order_id, "session_cancelled",
                              fmt::format("by the eUICC: {}; a session that did not take the "
                                          "order, which stays {}",
                                          reason_name(reason), store::to_string(order->state)));
                ctx.log->warn("{} cancelSession from a session that did not take the order "
                              "(order {}): order unchanged",
                              prefix, store::to_string(order->state));
                ctx.count_download(fmt::format("cancelled_{}", reason_name(reason)));
                return {};
            }
            ctx.add_event(order->order_id, "session_cancelled",
                          fmt::format("by the eUICC: {}", reason_name(reason)));
            ctx.notify_operator(*order, notification_point::session_cancelled,
                                {rsp::execution_status::failed, std::nullopt},
                                r.cancel_session_response_der, session->eid);
        }
        ctx.count_download(fmt::format("cancelled_{}", reason_name(reason)));
    }
    ctx.log->info("{} session cancelled: {}", prefix, reason_name(reason));
    return {};
}

} // namespace esimguard::smdp::procedures
