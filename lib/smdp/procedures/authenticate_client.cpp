// SGP.22 §5.6.3 ES9+.AuthenticateClient: authenticate the eUICC (chain
// CI → EUM → eUICC, euiccSignature1 over the received euiccSigned1, the
// session's serverChallenge), decide whether it may download the order of
// its matching ID, pin the card to the session, and answer with the profile
// metadata and smdpSigned2 signed by DPpb.

#include "../context.hpp"
#include "../defense.hpp"

#include "esimguard/crypto/ecdsa.hpp"

#include <algorithm>

namespace esimguard::smdp::procedures {

namespace {

rsp::status chain_refusal(const crypto::chain_error& e) {
    const bool expired = e.code == crypto::chain_errc::expired;
    if (e.depth == 0) {
        return rsp::status::with_detail(expired ? rsp::codes::euicc_certificate_expired
                                                : rsp::codes::euicc_certificate_invalid,
                                        crypto::to_string(e.code));
    }
    return rsp::status::with_detail(expired ? rsp::codes::eum_certificate_expired
                                            : rsp::codes::eum_certificate_invalid,
                                    crypto::to_string(e.code));
}

rsp::status download_refusal_status(store::download_refusal r, const store::order_record* o) {
    using store::download_refusal;
    switch (r) {
    case download_refusal::unknown_matching_id:
        return rsp::codes::matching_id_refused;
    case download_refusal::not_released:
        return rsp::codes::profile_not_released;
    case download_refusal::expired:
        return rsp::codes::download_order_expired;
    case download_refusal::attempts_exceeded:
        return rsp::codes::download_retries_exceeded;
    case download_refusal::eid_mismatch:
        return rsp::codes::eid_refused;
    case download_refusal::already_downloaded:
        return rsp::status::with_detail(rsp::codes::matching_id_refused, "already used");
    case download_refusal::cancelled:
        return rsp::status::with_detail(rsp::codes::matching_id_refused, "order cancelled");
    case download_refusal::locked:
        if (o) {
            return detail::locked_order_status(*o);
        }
        return rsp::status::with_detail(rsp::codes::profile_not_released, "order paused");
    }
    return rsp::codes::matching_id_refused;
}

// Why a card did not prove it holds the key of its certificate.
struct possession_failure {
    rsp::status status;
    std::string_view reason;
    defense::risk_event_kind event;
};

// The eUICC authentication of SGP.22 §5.6.3: the chain CI → EUM → eUICC
// ends at the CI the session named, euiccSignature1 verifies over the
// received euiccSigned1, and that was signed for this session's challenge.
std::optional<possession_failure>
verify_possession(const context& ctx, const store::session_record& session,
                  const asn1::authenticate_response_ok& ok, const crypto::certificate& eum,
                  const crypto::certificate& euicc_cert, store::time_point now) {
    using defense::risk_event_kind;
    if (eum.authority_key_id() != std::optional<bytes>(session.ci_pkid)) {
        return possession_failure{rsp::status(rsp::codes::ci_public_key_unknown), "ci_mismatch",
                                  risk_event_kind::bad_chain};
    }
    const std::vector<crypto::certificate> intermediates{eum};
    const auto at = std::chrono::time_point_cast<std::chrono::seconds>(now);
    if (auto v = crypto::validate_chain(euicc_cert, intermediates, ctx.anchors, *ctx.crls(), at,
                                        crypto::cert_role::euicc);
        !v) {
        return possession_failure{chain_refusal(v.error()), "euicc_chain_refused",
                                  risk_event_kind::bad_chain};
    }
    const auto& signed1 = ok.euicc_signed;
    if (signed1.raw.empty() ||
        !crypto::verify(euicc_cert.key(), signed1.raw, ok.euicc_signature1)) {
        return possession_failure{rsp::status(rsp::codes::euicc_signature_invalid),
                                  "euicc_signature_invalid", risk_event_kind::bad_signature};
    }
    if (!std::equal(signed1.server_challenge.begin(), signed1.server_challenge.end(),
                    session.server_challenge.begin(), session.server_challenge.end())) {
        // Signed for another session's challenge: a replayed euiccSigned1.
        return possession_failure{rsp::status::with_detail(rsp::codes::euicc_signature_invalid,
                                                           "server challenge mismatch"),
                                  "server_challenge_mismatch", risk_event_kind::replay};
    }
    return std::nullopt;
}

} // namespace

procedure_result<rsp::authenticate_client_response>
authenticate_client(const context& ctx, const rsp::authenticate_client_request& r,
                    call_trace& trace) {
    using defense::risk_event_kind;
    const auto& client = trace.client;
    const std::string tid = to_hex_upper(r.transaction_id);
    auto session = ctx.db.find_session(tid);
    if (!session) {
        if (session.error().code == store::errc::not_found) {
            detail::report(ctx, trace, risk_event_kind::replay);
            return std::unexpected(rsp::status(rsp::codes::transaction_id_unknown));
        }
        return std::unexpected(detail::internal_error("session store unavailable"));
    }
    const auto now = ctx.now();
    auto log_prefix = detail::session_prefix(tid, {});
    if (session->state != store::session_state::initiated) {
        // A second authenticateClient (a replay, or another card reusing the
        // transaction) never rebinds a session.
        ctx.log->warn("{} authenticateClient refused: session is {}", log_prefix,
                      store::to_string(session->state));
        trace.eid = session->eid;
        detail::report(ctx, trace, risk_event_kind::replay);
        return std::unexpected(
            rsp::status::with_detail(rsp::codes::transaction_id_unknown, "session not open"));
    }
    if (session->expires_at <= now) {
        (void)ctx.db.end_session(tid, "expired", now);
        return std::unexpected(rsp::status(rsp::codes::transaction_id_unknown));
    }
    auto fail = [&](rsp::status s, std::string_view reason) {
        ctx.log->info("{} authenticateClient refused: {}", log_prefix, rsp::to_string(s));
        (void)ctx.db.end_session(tid, reason, now);
        return std::unexpected(std::move(s));
    };

    const auto* ok = std::get_if<asn1::authenticate_response_ok>(&r.authenticate_server_response);
    if (!ok) {
        const auto& err =
            std::get<asn1::authenticate_response_error>(r.authenticate_server_response);
        return fail(rsp::status::with_detail(rsp::codes::euicc_signature_invalid,
                                             fmt::format("the eUICC refused the server (error {})",
                                                         static_cast<std::uint32_t>(err.code))),
                    "euicc_refused_server");
    }
    const auto& signed1 = ok->euicc_signed;
    if (signed1.transaction_id != r.transaction_id) {
        detail::report(ctx, trace, risk_event_kind::replay);
        return fail(rsp::status::with_detail(rsp::codes::transaction_id_unknown,
                                             "signed transactionId differs"),
                    "transaction_id_mismatch");
    }

    auto eum = crypto::certificate::from_der(ok->eum_certificate);
    if (!eum) {
        detail::report(ctx, trace, risk_event_kind::bad_chain);
        return fail(rsp::status::with_detail(rsp::codes::eum_certificate_invalid, "unreadable"),
                    "eum_certificate_invalid");
    }
    auto euicc_cert = crypto::certificate::from_der(ok->euicc_certificate);
    if (!euicc_cert) {
        detail::report(ctx, trace, risk_event_kind::bad_chain);
        return fail(rsp::status::with_detail(rsp::codes::euicc_certificate_invalid, "unreadable"),
                    "euicc_certificate_invalid");
    }
    // Decisions before expensive work: the EID the certificate claims and
    // the matching ID are checked against the blocklist and the stolen list
    // before any chain or signature is verified. A claimed EID is not yet
    // proven, but a refusal on it costs an honest card nothing it could have.
    // Its actions (the critical stolen-device alert and mails) name the
    // EID's owner, so they wait until the caller proves it holds the card:
    // anyone can present a stolen card's public certificate. Only refusals
    // with actions pay for that verification.
    trace.eid = euicc_cert->subject_serial_number();
    if (const auto& m = signed1.ctx_params.matching_id; m && !m->empty()) {
        trace.matching_id = *m;
    }
    auto early = detail::precheck_deferred(ctx, trace);
    if (early && !early->has_actions()) {
        detail::settle_refusal(ctx, trace, *early, std::nullopt);
        return fail(early->status, "refused_by_defense");
    }
    const auto unproven = verify_possession(ctx, *session, *ok, *eum, *euicc_cert, now);
    if (early) {
        detail::settle_refusal(ctx, trace, *early, !unproven);
        if (unproven) {
            // Not the card: a forgery naming it, counted as such against the
            // source address (the same answer, so nothing is learnt).
            detail::report(ctx, trace, unproven->event);
        }
        return fail(early->status, "refused_by_defense");
    }
    if (unproven) {
        detail::report(ctx, trace, unproven->event);
        return fail(unproven->status, unproven->reason);
    }
    const auto eid = euicc_cert->subject_serial_number();
    if (!eid) {
        return fail(rsp::status::with_detail(rsp::codes::euicc_certificate_invalid, "no EID"),
                    "euicc_certificate_invalid");
    }
    log_prefix = detail::session_prefix(tid, *eid);

    // The eUICC policy list: cards known to be vulnerable are refused once
    // their identity is proven (chain and signature above).
    if (const auto* deny =
            detail::euicc_policy_match(ctx, *eid, eum->subject_key_id(), signed1.info2)) {
        const std::string why = detail::policy_refusal_text(*deny, signed1.info2);
        trace.refused_by = "euicc_policy:" + deny->name;
        ctx.metrics
            ->counter("smdp_defense_refusals_total",
                      "ES9+/ES2+ calls refused by a defence, by rule", {{"rule", "euicc_policy"}})
            .inc();
        detail::audit(ctx, {.kind = store::audit_kind::decision,
                            .actor = "engine",
                            .eid = *eid,
                            .iccid = std::nullopt,
                            .source_address = client.address.empty()
                                                  ? std::nullopt
                                                  : std::optional<std::string>(client.address),
                            .outcome = "refused",
                            .reason = "euicc_policy:" + deny->name,
                            .detail_json = fmt::format(R"({{"matched":"{}"}})", why)});
        const std::string message = fmt::format(
            "This eUICC is refused by the SM-DP+'s eUICC policy '{}' ({}); update the device or "
            "contact your operator",
            deny->name, why);
        // EID range → EID refused; EUM → EUM refused; EUICCInfo2 → eUICC unsupported.
        const bool by_info2 =
            deny->firmware_below || deny->svn_below || deny->profile_version_below;
        const bool by_eum = deny->eum_key_id || deny->eid_prefix;
        if (by_info2) {
            return fail(rsp::status("8.1", "3.1", message), "euicc_policy");
        }
        if (by_eum) {
            return fail(rsp::status("8.1.2", "3.8", message), "euicc_policy");
        }
        return fail(rsp::status("8.1.1", "3.8", message), "euicc_policy");
    }

    const auto& mid = signed1.ctx_params.matching_id;
    if (!mid || mid->empty()) {
        // No default-SM-DP+ or SM-DS event lookup: an activation code is required.
        ctx.count_download("refused_matching_id");
        return fail(rsp::status::with_detail(rsp::codes::matching_id_refused, "none given"),
                    "no_matching_id");
    }
    // What the defences need to know before an attempt is counted: the
    // order behind the matching ID, its line (frozen? step-up?), and the
    // rules on this EID trying this profile.
    const auto& defs = ctx.config.defenses;
    if (defs.risk != nullptr || defs.store != nullptr) {
        if (auto known = ctx.db.find_order_by_matching_id(*mid)) {
            trace.order_id = known->order_id;
            trace.iccid = known->iccid;
            trace.operator_id = known->operator_id;
            if (auto refusal = detail::record(ctx, trace, risk_event_kind::profile_tried_by_eid)) {
                return fail(*refusal, "refused_by_defense");
            }
            if (auto refusal = detail::check_line(ctx, trace, std::nullopt)) {
                return fail(*refusal, "refused_by_defense");
            }
        }
    }
    auto decision = ctx.db.begin_download(*mid, *eid, now);
    if (!decision) {
        ctx.log->error("{} begin_download failed: {}", log_prefix, decision.error().message);
        return fail(detail::internal_error("order store unavailable"), "internal_error");
    }
    if (!decision->granted()) {
        const auto refusal = *decision->refusal;
        const store::order_record* order = decision->order ? &*decision->order : nullptr;
        ctx.count_download(fmt::format("refused_{}", store::to_string(refusal)));
        if (refusal == store::download_refusal::unknown_matching_id) {
            detail::report(ctx, trace, risk_event_kind::unknown_matching_id);
        }
        if (order) {
            ctx.add_event(
                order->order_id, "download_refused",
                fmt::format("{} for eUICC {}", store::to_string(refusal), mask_eid(*eid)));
            if (refusal == store::download_refusal::expired ||
                refusal == store::download_refusal::attempts_exceeded) {
                auto st = download_refusal_status(refusal, order);
                ctx.notify_operator(*order, notification_point::eligibility_and_retry_limit,
                                    {rsp::execution_status::failed, st}, std::nullopt, *eid);
            }
        }
        return fail(download_refusal_status(refusal, order),
                    fmt::format("refused_{}", store::to_string(refusal)));
    }
    const auto& order = *decision->order;
    trace.order_id = order.order_id;
    trace.iccid = order.iccid;
    trace.operator_id = order.operator_id;

    auto profile = ctx.db.find_profile(order.iccid);
    if (!profile) {
        return fail(detail::internal_error("profile not found"), "internal_error");
    }
    auto metadata = detail::profile_metadata_for(ctx, *profile);
    if (!metadata) {
        return fail(metadata.error(), "internal_error");
    }
    const auto* creds = ctx.credentials_for(session->ci_pkid);
    if (!creds) {
        return fail(rsp::status(rsp::codes::smdp_certificate_unavailable), "no_credentials");
    }

    asn1::smdp_signed2 signed2;
    signed2.transaction_id = r.transaction_id;
    signed2.cc_required = order.cc_required;
    const bytes signed2_der = asn1::encode(signed2);
    // SGP.22 §5.6.3: smdpSignature2 covers smdpSigned2 ‖ euiccSignature1 as a
    // complete 5F37 TLV, which binds the answer to this card's authentication.
    auto sig = creds->dppb_signer->sign(
        concat({signed2_der, detail::signature_tlv(ok->euicc_signature1)}));
    if (!sig || sig->size() != 64) {
        return fail(detail::internal_error("signing failed"), "internal_error");
    }

    store::session_update u;
    u.state = store::session_state::authenticated;
    u.euicc_certificate = ok->euicc_certificate;
    u.eid = *eid;
    u.order_id = order.order_id;
    u.smdp_signed2 = signed2_der;
    u.smdp_signature2 = *sig;
    u.history = store::session_update::history_line{
        order.order_id, "authenticated",
        fmt::format("eUICC {} from {}", mask_eid(*eid),
                    client.address.empty() ? "-" : client.address)};
    if (auto up = ctx.db.update_session(tid, store::session_state::initiated, u, now); !up) {
        ctx.log->warn("{} session moved on meanwhile: {}", log_prefix, up.error().message);
        return std::unexpected(
            rsp::status::with_detail(rsp::codes::transaction_id_unknown, "session not open"));
    }

    rsp::authenticate_client_response out;
    out.transaction_id = r.transaction_id;
    out.profile_metadata = *metadata;
    out.profile_metadata_der = asn1::encode(*metadata);
    out.smdp_signed2 = signed2;
    out.smdp_signed2_der = signed2_der;
    std::copy_n(sig->begin(), 64, out.smdp_signature2.begin());
    out.smdp_certificate = creds->dppb_certificate.der();
    ctx.log->info("{} eUICC authenticated for order {} (cc {})", log_prefix, order.order_id,
                  order.cc_required ? "required" : "not required");
    return out;
}

} // namespace esimguard::smdp::procedures
