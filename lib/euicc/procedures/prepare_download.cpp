// ES10b.PrepareDownload (SGP.22 §5.7.5): the eUICC checks CERT.DPpb (same CI
// as the DPauth of this session) and smdpSignature2, computed by the SM-DP+
// over smdpSigned2 ‖ 5F37 40 ‖ euiccSignature1; it then generates its
// one-time ECKA key pair and signs euiccSigned2 ‖ 5F37 40 ‖ smdpSignature2.

#include "context.hpp"

#include "esimguard/asn1/download.hpp"
#include "esimguard/crypto/ecdsa.hpp"

#include <spdlog/spdlog.h>

namespace esimguard::euicc::detail {
namespace {

using code = asn1::download_error_code;

bytes refuse(context& ctx, bytes transaction_id, code c) {
    spdlog::info("euicc: PrepareDownload refused with code {}", static_cast<unsigned>(c));
    ctx.end_session();
    asn1::prepare_download_response_error e;
    e.transaction_id = std::move(transaction_id);
    e.code = c;
    return asn1::encode(asn1::prepare_download_response{std::move(e)});
}

const bytes signature_tag = {0x5F, 0x37, 0x40};

} // namespace

bytes prepare_download(context& ctx, byte_view request) {
    auto req = asn1::decode_prepare_download_request(request);
    if (!req) {
        return refuse(ctx, ctx.session.transaction_id, code::undefined_error);
    }
    const bytes& txid = req->smdp_signed.transaction_id;
    if (!ctx.session.authenticated || !ctx.session.ci) {
        return refuse(ctx, txid, code::no_session_context);
    }
    auto dppb = crypto::certificate::from_der(req->smdp_certificate);
    if (!dppb) {
        return refuse(ctx, txid,
                      dppb.error().code == crypto::errc::unsupported_curve
                          ? code::unsupported_curve
                          : code::invalid_certificate);
    }
    const std::vector<crypto::certificate> anchors{*ctx.session.ci};
    if (auto chain =
            crypto::validate_chain(*dppb, {}, anchors, {}, ctx.now(), crypto::cert_role::dp_pb);
        !chain) {
        spdlog::info("euicc: DPpb chain refused: {} ({})", crypto::to_string(chain.error().code),
                     chain.error().detail);
        return refuse(ctx, txid,
                      chain.error().code == crypto::chain_errc::mixed_curves
                          ? code::unsupported_curve
                          : code::invalid_certificate);
    }
    const bytes signed_part =
        concat({req->smdp_signed.raw, signature_tag, ctx.session.euicc_signature1});
    if (!crypto::verify(dppb->key(), signed_part, req->smdp_signature2)) {
        return refuse(ctx, txid, code::invalid_signature);
    }
    if (txid != ctx.session.transaction_id) {
        return refuse(ctx, txid, code::invalid_transaction_id);
    }
    if (req->smdp_signed.cc_required && !req->hash) {
        return refuse(ctx, txid, code::undefined_error);
    }

    // A retry that names the one-time key already bound keeps it (SGP.22
    // §3.1.3.2); otherwise a fresh pair on the DPpb's curve.
    const bool reuse = req->smdp_signed.bpp_euicc_otpk && ctx.session.otsk &&
                       *req->smdp_signed.bpp_euicc_otpk == ctx.session.euicc_otpk;
    if (!reuse) {
        auto otsk = crypto::private_key::generate(dppb->key_curve());
        if (!otsk) {
            return refuse(ctx, txid, code::undefined_error);
        }
        ctx.session.euicc_otpk = otsk->public_part().point();
        ctx.session.otsk = std::move(*otsk);
    }

    asn1::euicc_signed2 es;
    es.transaction_id = txid;
    es.euicc_otpk = ctx.session.euicc_otpk;
    es.hash = req->hash;
    const bytes es_der = asn1::encode(es);
    auto sig = ctx.sign(concat({es_der, signature_tag, req->smdp_signature2}));
    if (!sig) {
        return refuse(ctx, txid, code::undefined_error);
    }
    ctx.session.prepared = true;
    ctx.session.dppb = std::move(*dppb);
    ctx.session.bpp = bpp_progress{};

    asn1::prepare_download_response_ok ok;
    ok.euicc_signed = std::move(es);
    ok.euicc_signature2 = *sig;
    return asn1::encode(asn1::prepare_download_response{std::move(ok)});
}

} // namespace esimguard::euicc::detail
