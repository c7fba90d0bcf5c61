// ES10b.CancelSession (SGP.22 §5.7.14): the eUICC signs
// euiccCancelSessionSigned { transactionId, smdpOid, reason } for the
// SM-DP+, then forgets the session.

#include "context.hpp"

#include "esimguard/asn1/cancel_session.hpp"

namespace esimguard::euicc::detail {

bytes cancel_session(context& ctx, byte_view request) {
    auto req = asn1::decode_cancel_session_request(request);
    if (!req) {
        return asn1::encode(
            asn1::cancel_session_response{asn1::cancel_session_error_code::undefined_error});
    }
    if (!ctx.session.authenticated || req->transaction_id != ctx.session.transaction_id) {
        return asn1::encode(
            asn1::cancel_session_response{asn1::cancel_session_error_code::invalid_transaction_id});
    }
    asn1::euicc_cancel_session_signed s;
    s.transaction_id = req->transaction_id;
    s.smdp_oid = ctx.session.smdp_oid;
    s.reason = req->reason;
    const bytes der = asn1::encode(s);
    auto sig = ctx.sign(der);
    if (!sig) {
        return asn1::encode(
            asn1::cancel_session_response{asn1::cancel_session_error_code::undefined_error});
    }
    ctx.end_session();
    asn1::cancel_session_response_ok ok;
    ok.cancel_signed = std::move(s);
    ok.euicc_cancel_session_signature = *sig;
    return asn1::encode(asn1::cancel_session_response{std::move(ok)});
}

} // namespace esimguard::euicc::detail
