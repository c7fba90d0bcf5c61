// SGP.22 §5.6.2 ES9+.GetBoundProfilePackage: verify euiccSignature2 with the
// card pinned to the session, check the confirmation code (hashCc), agree
// session keys with a one-time key pair (ECKA + X9.63 KDF, §2.6.4.2) and
// build the bound profile package (§2.5.5): BF23 signed by DPpb,
// ConfigureISDP, StoreMetadata (MAC only) and the encrypted profile.

#include "../context.hpp"
#include "../defense.hpp"

#include "esimguard/asn1/bpp.hpp"
#include "esimguard/crypto/bsp.hpp"
#include "esimguard/crypto/ecdh.hpp"
#include "esimguard/crypto/ecdsa.hpp"
#include "esimguard/crypto/hash.hpp"
#include "esimguard/crypto/kdf.hpp"
#include "esimguard/crypto/mac.hpp"

#include <algorithm>
#include <array>

namespace esimguard::smdp::procedures {

namespace {

// bsp_session returns whole segments (tag ‖ L ‖ data ‖ MAC); the BPP type
// holds each segment's content, its codec writes tag and length again.
std::expected<bytes, rsp::status> segment_content(const bytes& segment) {
    auto t = asn1::decode_single(segment);
    if (!t) {
        return std::unexpected(detail::internal_error("segment encoding"));
    }
    return to_bytes(t->value);
}

std::expected<std::vector<bytes>, rsp::status>
contents(crypto::result<std::vector<bytes>> segments) {
    if (!segments) {
        return std::unexpected(detail::internal_error("BSP protection failed"));
    }
    std::vector<bytes> out;
    out.reserve(segments->size());
    for (const auto& s : *segments) {
        auto c = segment_content(s);
        if (!c) {
            return std::unexpected(c.error());
        }
        out.push_back(std::move(*c));
    }
    return out;
}

} // namespace

procedure_result<rsp::get_bound_profile_package_response>
get_bound_profile_package(const context& ctx, const rsp::get_bound_profile_package_request& r,
                          call_trace& trace) {
    using defense::risk_event_kind;
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
    const std::string prefix = detail::session_prefix(
        tid, session->eid ? std::optional<std::string_view>(*session->eid) : std::nullopt);
    trace.eid = session->eid;
    trace.order_id = session->order_id;
    if (session->state != store::session_state::authenticated || !session->euicc_certificate ||
        !session->eid || !session->order_id || !session->smdp_signature2) {
        // A second getBoundProfilePackage (the BPP was sent) or one on a
        // session that never authenticated: a replay.
        ctx.log->info("{} getBoundProfilePackage refused: session is {}", prefix,
                      store::to_string(session->state));
        detail::report(ctx, trace, risk_event_kind::replay);
        return std::unexpected(
            rsp::status::with_detail(rsp::codes::transaction_id_unknown, "session not ready"));
    }
    if (session->expires_at <= now) {
        (void)ctx.db.end_session(tid, "expired", now);
        return std::unexpected(rsp::status(rsp::codes::transaction_id_unknown));
    }
    if (auto refusal = detail::precheck(ctx, trace)) {
        (void)ctx.db.end_session(tid, "refused_by_defense", now);
        return std::unexpected(*refusal);
    }
    const std::string order_id = *session->order_id;
    auto end_with = [&](rsp::status s, std::string_view reason) {
        ctx.log->info("{} getBoundProfilePackage refused: {}", prefix, rsp::to_string(s));
        (void)ctx.db.end_session(tid, reason, now);
        ctx.count_download(fmt::format("failed_{}", reason));
        return std::unexpected(std::move(s));
    };

    const auto* ok = std::get_if<asn1::prepare_download_response_ok>(&r.prepare_download_response);
    if (!ok) {
        const auto& err =
            std::get<asn1::prepare_download_response_error>(r.prepare_download_response);
        return end_with(rsp::status::with_detail(
                            rsp::codes::euicc_signature_invalid,
                            fmt::format("the eUICC refused to prepare the download (error {})",
                                        static_cast<std::uint32_t>(err.code))),
                        "euicc_refused_download");
    }
    const auto& signed2 = ok->euicc_signed;
    if (signed2.transaction_id != r.transaction_id) {
        return end_with(rsp::status::with_detail(rsp::codes::transaction_id_unknown,
                                                 "signed transactionId differs"),
                        "transaction_id_mismatch");
    }
    // The card pinned at authenticateClient must be the one answering now.
    auto cert = crypto::certificate::from_der(*session->euicc_certificate);
    if (!cert) {
        return end_with(detail::internal_error("pinned certificate unreadable"), "internal_error");
    }
    const bytes signed_part =
        concat({signed2.raw, detail::signature_tlv(*session->smdp_signature2)});
    if (signed2.raw.empty() || !crypto::verify(cert->key(), signed_part, ok->euicc_signature2)) {
        // Another card (or a forger) answering in this session.
        detail::report(ctx, trace, risk_event_kind::replay);
        return end_with(rsp::status(rsp::codes::euicc_signature_invalid),
                        "euicc_signature_invalid");
    }

    auto order = ctx.db.find_order(order_id);
    if (!order) {
        return end_with(detail::internal_error("order not found"), "internal_error");
    }
    trace.iccid = order->iccid;
    trace.operator_id = order->operator_id;
    if (order->cc_required) {
        if (!signed2.hash) {
            return end_with(rsp::status(rsp::codes::confirmation_code_missing), "cc_missing");
        }
        if (!order->cc_sha256 || order->cc_sha256->size() != 32) {
            return end_with(detail::internal_error("confirmation code not stored"),
                            "internal_error");
        }
        // No per-session count is written: the first wrong code ends the
        // session (below), and the limit that matters is the order's
        // (record_cc_failure), so a successful check costs no commit.
        const bytes expected = crypto::sha256(concat({*order->cc_sha256, r.transaction_id}));
        if (!crypto::constant_time_equal(expected, *signed2.hash)) {
            // SGP.22 §3.1.3.2 / §5.6.2: an error answer to getBoundProfilePackage
            // terminates the RSP session. The session ends here, before the LPA's
            // CancelSession (lpac sends undefinedReason) can reach it: that call
            // then finds no live session (8.10.1 / 3.9) and cannot put the order
            // in error. The order stays `released` so the subscriber may try
            // again from a new session (a new authenticateClient, which counts a
            // download attempt; see download_order.cpp for why the attempt
            // limit never falls below the cc retry limit) until the cc retry
            // limit locks it.
            auto outcome = ctx.db.record_cc_failure(order_id, now);
            if (!outcome) {
                return end_with(detail::internal_error("order store unavailable"),
                                "internal_error");
            }
            detail::report(ctx, trace, risk_event_kind::cc_failure);
            if (outcome->locked) {
                detail::alert_subscriber(
                    ctx, trace, defense::alert_severity::warning, "cc_retries_exceeded",
                    fmt::format("Someone entered a wrong confirmation code {} times for the eSIM "
                                "profile of your line {}; its download is locked. If this was not "
                                "you, contact your operator.",
                                outcome->failures, order->iccid));
                ctx.add_event(order_id, "cc_refused",
                              fmt::format("wrong confirmation code ({} of {}): order locked, the "
                                          "subscriber can no longer download it",
                                          outcome->failures, outcome->limit));
                ctx.notify_operator(*order, notification_point::confirmation_failure,
                                    {rsp::execution_status::failed,
                                     rsp::status(rsp::codes::confirmation_code_retries_exceeded)},
                                    std::nullopt, session->eid);
                return end_with(rsp::status(rsp::codes::confirmation_code_retries_exceeded),
                                "cc_retries_exceeded");
            }
            ctx.add_event(order_id, "cc_refused",
                          fmt::format("wrong confirmation code ({} of {}): session ended, the "
                                      "order stays downloadable",
                                      outcome->failures, outcome->limit));
            ctx.log->info("{} wrong confirmation code ({} of {})", prefix, outcome->failures,
                          outcome->limit);
            return end_with(rsp::status(rsp::codes::confirmation_code_refused), "cc_refused");
        }
    }

    // The last decision before the profile leaves: rules on downloads per
    // EID and the stolen list (download_to_stolen_eid).
    if (auto refusal = detail::record(ctx, trace, risk_event_kind::download_started)) {
        ctx.add_event(order_id, "download_refused",
                      fmt::format("by the risk engine for eUICC {}", mask_eid(*session->eid)));
        return end_with(*refusal, "refused_by_defense");
    }

    // Why the claim below was refused; only to choose the answer, the
    // decision itself was atomic.
    auto refuse_unclaimed = [&]() -> std::unexpected<rsp::status> {
        auto now_session = ctx.db.find_session(tid);
        if (now_session && now_session->state != store::session_state::authenticated) {
            // Cancelled, expired or answered by a concurrent call (a retry)
            // meanwhile: the session is not this call's to end any more.
            ctx.log->info("{} getBoundProfilePackage refused: session is now {}", prefix,
                          store::to_string(now_session->state));
            ctx.count_download("failed_session_moved_on");
            return std::unexpected(
                rsp::status::with_detail(rsp::codes::transaction_id_unknown, "session moved on"));
        }
        auto current = ctx.db.find_order(order_id);
        if (current && current->state == store::order_state::released && current->locked) {
            ctx.add_event(order_id, "download_refused",
                          fmt::format("locked for eUICC {}", mask_eid(*session->eid)));
            return end_with(detail::locked_order_status(*current), "refused_locked");
        }
        if (current && current->state == store::order_state::released &&
            now >= current->expires_at) {
            const std::array live{store::order_state::released};
            (void)ctx.db.transition_order(order_id, live, store::order_state::expired, now);
            ctx.add_event(order_id, "download_refused",
                          fmt::format("expired for eUICC {}", mask_eid(*session->eid)));
            const rsp::status st(rsp::codes::download_order_expired);
            ctx.notify_operator(*current, notification_point::eligibility_and_retry_limit,
                                {rsp::execution_status::failed, st}, std::nullopt, session->eid);
            return end_with(st, "refused_expired");
        }
        return end_with(
            rsp::status::with_detail(rsp::codes::matching_id_refused, "order no longer available"),
            "order_unavailable");
    };
    // The order is not claimed yet (see the commit below): a build that
    // fails leaves it as it was, for a new session to try.
    auto build_failed = [&](rsp::status s) {
        ctx.add_event(order_id, "bpp_failed", s.message);
        return end_with(std::move(s), "bpp_build_failed");
    };
    if (order->state != store::order_state::released || order->locked || now >= order->expires_at) {
        // Taken by another session, paused or expired already: no BPP is
        // built for nothing (the commit below decides in any case).
        return refuse_unclaimed();
    }

    const auto* creds = ctx.credentials_for(session->ci_pkid);
    auto profile = ctx.db.find_profile(order->iccid);
    if (!creds || !profile) {
        return build_failed(detail::internal_error("credentials or profile missing"));
    }
    auto euicc_otpk =
        crypto::public_key::from_point(creds->dppb_certificate.key_curve(), signed2.euicc_otpk);
    if (!euicc_otpk) {
        return build_failed(rsp::status::with_detail(rsp::codes::invalid_format, "euiccOtpk"));
    }
    auto eid = asn1::eid_value::parse(*session->eid);
    if (!eid) {
        return build_failed(detail::internal_error("stored EID malformed"));
    }

    // One-time key pair otSK/otPK.DP.ECKA on the DPpb's curve.
    auto otsk = crypto::private_key::generate(creds->dppb_certificate.key_curve());
    if (!otsk) {
        return build_failed(detail::internal_error("key generation failed"));
    }
    // The one-time private key never leaves this call's memory: it is used
    // for one ECDH just below and destroyed. Only the public keys are
    // recorded, with the session's move to bpp_sent at the end.
    const bytes otpk = otsk->public_part().point();
    auto shared = crypto::ecdh(*otsk, *euicc_otpk);
    otsk = std::unexpected(crypto::error{crypto::errc::internal}); // destroys (wipes) the key
    if (!shared) {
        return build_failed(rsp::status::with_detail(rsp::codes::invalid_format, "euiccOtpk"));
    }
    auto keys = crypto::derive_bsp_session_keys(*shared, ctx.config.host_id, eid->value());
    crypto::secure_wipe(*shared);
    if (!keys) {
        return build_failed(detail::internal_error("key derivation failed"));
    }
    auto bsp = crypto::bsp_session::create(*keys);

    asn1::bound_profile_package bpp;
    auto& isc = bpp.initialise_secure_channel;
    isc.remote_op = asn1::remote_op_id::install_bound_profile_package;
    isc.transaction_id = r.transaction_id;
    isc.crt.host_id = ctx.config.host_id;
    isc.smdp_otpk = otpk;
    // smdpSign covers the request's fields ‖ 5F49 ‖ otPK.EUICC.ECKA (§5.5.1).
    auto isc_sig = creds->dppb_signer->sign(
        concat({asn1::encode_isc_signed_part(isc), asn1::encode(0x5F49, signed2.euicc_otpk)}));
    if (!isc_sig || isc_sig->size() != 64) {
        return build_failed(detail::internal_error("signing failed"));
    }
    std::copy_n(isc_sig->begin(), 64, isc.smdp_sign.begin());

    asn1::configure_isdp_request configure;
    if (ctx.config.smdp_oid) {
        if (auto oid = detail::encode_oid(*ctx.config.smdp_oid)) {
            configure.dp_proprietary = asn1::dp_proprietary_data{*oid, {}};
        }
    }
    auto metadata = detail::profile_metadata_for(ctx, *profile);
    if (!metadata) {
        return build_failed(metadata.error());
    }
    auto s87 = contents(bsp.wrap_encrypted_segments(0x87, asn1::encode(configure)));
    if (!s87) {
        return build_failed(s87.error());
    }
    auto s88 = contents(bsp.wrap_mac_only_segments(0x88, asn1::encode(*metadata)));
    if (!s88) {
        return build_failed(s88.error());
    }
    auto s86 = contents(bsp.wrap_encrypted_segments(0x86, profile->package));
    if (!s86) {
        return build_failed(s86.error());
    }
    bpp.first_sequence_of_87 = std::move(*s87);
    bpp.sequence_of_88 = std::move(*s88);
    bpp.sequence_of_86 = std::move(*s86);

    // One commit, before the BPP leaves: the order's claim (released →
    // downloaded; refused when another session took it, or when it was
    // locked or expired since this session's authenticateClient), the
    // session's guard (still this call's to answer: not cancelled, not
    // answered by a concurrent retry), the public keys and the history
    // line; both or neither. Two sessions of one matching ID may both build
    // a BPP (at most as many as the order's download attempts), but only
    // the one whose commit succeeds sends it.
    store::session_update done;
    done.state = store::session_state::bpp_sent;
    done.euicc_otpk = signed2.euicc_otpk;
    done.smdp_otpk = otpk;
    done.history = store::session_update::history_line{
        std::string(order_id), "bpp_sent", fmt::format("to eUICC {}", mask_eid(*session->eid))};
    if (auto claimed = ctx.db.claim_order_for_session(
            order_id, tid, store::session_state::authenticated, done, now);
        !claimed) {
        if (claimed.error().code != store::errc::state_mismatch &&
            claimed.error().code != store::errc::not_found) {
            return end_with(detail::internal_error("order store unavailable"), "internal_error");
        }
        return refuse_unclaimed();
    }
    ctx.notify_operator(*order, notification_point::bpp_download,
                        {rsp::execution_status::executed_success, std::nullopt}, std::nullopt,
                        session->eid);
    ctx.count_download("bpp_sent");
    ctx.log->info("{} bound profile package sent ({} profile segments)", prefix,
                  bpp.sequence_of_86.size());

    rsp::get_bound_profile_package_response out;
    out.transaction_id = r.transaction_id;
    out.bound_profile_package_der = asn1::encode(bpp);
    return out;
}

} // namespace esimguard::smdp::procedures
