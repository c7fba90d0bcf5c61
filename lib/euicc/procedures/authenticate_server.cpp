// ES10b.AuthenticateServer (SGP.22 §5.7.13): the eUICC checks the SM-DP+
// (CERT.DPauth chain to a CI it trusts, serverSignature1 over serverSigned1,
// its own challenge echoed back) and answers with euiccSigned1 signed by
// SK.EUICC.ECDSA, or an AuthenticateErrorCode.

#include "context.hpp"

#include "esimguard/asn1/authentication.hpp"
#include "esimguard/crypto/ecdsa.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace esimguard::euicc::detail {
namespace {

using code = asn1::authenticate_error_code;

bytes refuse(context& ctx, bytes transaction_id, code c) {
    spdlog::info("euicc: AuthenticateServer refused with code {}", static_cast<unsigned>(c));
    // A refusal ends the session: a new challenge is needed to try again.
    ctx.end_session();
    asn1::authenticate_response_error e;
    e.transaction_id = std::move(transaction_id);
    e.code = c;
    return asn1::encode(asn1::authenticate_server_response{std::move(e)});
}

code chain_refusal(crypto::chain_errc e) {
    switch (e) {
    case crypto::chain_errc::wrong_policy:
        return code::invalid_oid;
    case crypto::chain_errc::mixed_curves:
        return code::unsupported_curve;
    case crypto::chain_errc::wrong_issuer:
        return code::ci_pk_unknown;
    default:
        return code::invalid_certificate;
    }
}

bool plausible_address(std::string_view a) {
    return !a.empty() && a.size() <= asn1::address_max && std::ranges::all_of(a, [](char ch) {
        return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
               ch == '.' || ch == '-' || ch == ':';
    });
}

} // namespace

bytes authenticate_server(context& ctx, byte_view request) {
    auto req = asn1::decode_authenticate_server_request(request);
    if (!req) {
        return refuse(ctx, {}, code::undefined_error);
    }
    const auto& signed1 = req->server_signed;
    const bytes& txid = signed1.transaction_id;

    // The CI the SM-DP+ says it chains to must be one this eUICC trusts.
    const crypto::certificate* ci = nullptr;
    const auto ids = ctx.ci_key_ids();
    for (std::size_t i = 0; i < ids.size(); ++i) {
        if (ids[i] == req->euicc_ci_pkid_to_be_used) {
            ci = &ctx.cis[i];
        }
    }
    if (!ci) {
        return refuse(ctx, txid, code::ci_pk_unknown);
    }
    auto dpauth = crypto::certificate::from_der(req->server_certificate);
    if (!dpauth) {
        return refuse(ctx, txid,
                      dpauth.error().code == crypto::errc::unsupported_curve
                          ? code::unsupported_curve
                          : code::invalid_certificate);
    }
    const std::vector<crypto::certificate> anchors{*ci};
    auto chain =
        crypto::validate_chain(*dpauth, {}, anchors, {}, ctx.now(), crypto::cert_role::dp_auth);
    if (!chain) {
        spdlog::info("euicc: DPauth chain refused: {} ({})", crypto::to_string(chain.error().code),
                     chain.error().detail);
        return refuse(ctx, txid, chain_refusal(chain.error().code));
    }
    if (!crypto::verify(dpauth->key(), signed1.raw, req->server_signature1)) {
        return refuse(ctx, txid, code::invalid_signature);
    }
    if (!ctx.session.euicc_challenge) {
        return refuse(ctx, txid, code::no_session_context);
    }
    if (*ctx.session.euicc_challenge != signed1.euicc_challenge) {
        return refuse(ctx, txid, code::euicc_challenge_mismatch);
    }
    if (!plausible_address(signed1.server_address)) {
        return refuse(ctx, txid, code::undefined_error);
    }

    asn1::euicc_signed1 es;
    es.transaction_id = txid;
    es.server_address = signed1.server_address;
    es.server_challenge = signed1.server_challenge;
    es.info2 = ctx.info2();
    es.ctx_params = req->ctx_params;
    const bytes es_der = asn1::encode(es);
    auto sig = ctx.sign(es_der);
    if (!sig) {
        return refuse(ctx, txid, code::undefined_error);
    }

    // The challenge is single-use: a replayed serverSigned1 must fail.
    ctx.end_session();
    ctx.session.authenticated = true;
    ctx.session.transaction_id = txid;
    ctx.session.server_address = signed1.server_address;
    ctx.session.ci = *ci;
    ctx.session.smdp_oid = registered_id(req->server_certificate).value_or(bytes{});
    ctx.session.euicc_signature1 = *sig;

    asn1::authenticate_response_ok ok;
    ok.euicc_signed = std::move(es);
    ok.euicc_signature1 = *sig;
    ok.euicc_certificate = ctx.euicc_cert.der();
    ok.eum_certificate = ctx.eum_cert.der();
    return asn1::encode(asn1::authenticate_server_response{std::move(ok)});
}

} // namespace esimguard::euicc::detail
