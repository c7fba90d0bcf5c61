// ES10b CancelSession, SGP.22 §5.7.14: CancelSessionRequest,
// EuiccCancelSessionSigned and CancelSessionResponse.
#include "esimguard/asn1/cancel_session.hpp"

#include "field_codec.hpp"

namespace esimguard::asn1 {

namespace {

using namespace detail;

// These SEQUENCEs have no tagged field, so AUTOMATIC TAGS numbers them.
constexpr std::uint32_t tag_request_transaction_id = 0x80;
constexpr std::uint32_t tag_request_reason = 0x81;
constexpr std::uint32_t tag_signed_transaction_id = 0x80;
constexpr std::uint32_t tag_signed_smdp_oid = 0x81;
constexpr std::uint32_t tag_signed_reason = 0x82;
constexpr std::uint32_t tag_response_ok = 0xA0;
constexpr std::uint32_t tag_response_error = 0x81;

result<cancel_session_reason> reason_of(const tlv& t) {
    auto v = small_uint(t, "reason");
    if (!v) {
        return std::unexpected(v.error());
    }
    return static_cast<cancel_session_reason>(*v);
}

result<cancel_session_request> read_request(const reader& parent, const tlv& t) {
    if (t.tag != tag_cancel_session) {
        return fail(errc::unexpected_tag, t, "cancelSessionRequest");
    }
    auto r = parent.enter(t);
    if (!r) {
        return std::unexpected(r.error());
    }
    cancel_session_request out;
    tlv f;
    ESIMGUARD_ASN1_ASSIGN(f, r->expect(tag_request_transaction_id, "transactionId"));
    ESIMGUARD_ASN1_ASSIGN(out.transaction_id, transaction_id_of(f));
    ESIMGUARD_ASN1_ASSIGN(f, r->expect(tag_request_reason, "reason"));
    ESIMGUARD_ASN1_ASSIGN(out.reason, reason_of(f));
    ESIMGUARD_ASN1_ASSIGN(
        out.extensions,
        extensions(*r, {tag_request_transaction_id, tag_request_reason}, "cancelSessionRequest"));
    return out;
}

result<euicc_cancel_session_signed> read_signed(const reader& parent, const tlv& t) {
    if (t.tag != tag_sequence) {
        return fail(errc::unexpected_tag, t, "euiccCancelSessionSigned");
    }
    auto r = parent.enter(t);
    if (!r) {
        return std::unexpected(r.error());
    }
    euicc_cancel_session_signed out;
    tlv f;
    ESIMGUARD_ASN1_ASSIGN(f, r->expect(tag_signed_transaction_id, "transactionId"));
    ESIMGUARD_ASN1_ASSIGN(out.transaction_id, transaction_id_of(f));
    ESIMGUARD_ASN1_ASSIGN(f, r->expect(tag_signed_smdp_oid, "smdpOid"));
    ESIMGUARD_ASN1_ASSIGN(out.smdp_oid, object_identifier(f, "smdpOid"));
    ESIMGUARD_ASN1_ASSIGN(f, r->expect(tag_signed_reason, "reason"));
    ESIMGUARD_ASN1_ASSIGN(out.reason, reason_of(f));
    ESIMGUARD_ASN1_ASSIGN(
        out.extensions,
        extensions(*r, {tag_signed_transaction_id, tag_signed_smdp_oid, tag_signed_reason},
                   "euiccCancelSessionSigned"));
    out.raw = to_bytes(t.raw);
    return out;
}

void put_signed(writer& w, const euicc_cancel_session_signed& v) {
    w.begin(tag_sequence);
    w.add(tag_signed_transaction_id, v.transaction_id);
    w.add(tag_signed_smdp_oid, v.smdp_oid);
    w.add_uint(tag_signed_reason, static_cast<std::uint32_t>(v.reason));
    put_extensions(w, v.extensions);
    w.end();
}

result<cancel_session_response_ok> read_response_ok(const reader& parent, const tlv& t) {
    auto r = parent.enter(t);
    if (!r) {
        return std::unexpected(r.error());
    }
    cancel_session_response_ok out;
    tlv f;
    ESIMGUARD_ASN1_ASSIGN(f, r->expect(tag_sequence, "euiccCancelSessionSigned"));
    ESIMGUARD_ASN1_ASSIGN(out.cancel_signed, read_signed(*r, f));
    ESIMGUARD_ASN1_ASSIGN(out.euicc_cancel_session_signature,
                          signature(*r, "euiccCancelSessionSignature"));
    ESIMGUARD_ASN1_ASSIGN(out.extensions, extensions(*r, {}, "cancelSessionResponseOk"));
    return out;
}

result<cancel_session_response> read_response(const reader& parent, const tlv& t) {
    if (t.tag != tag_cancel_session) {
        return fail(errc::unexpected_tag, t, "cancelSessionResponse");
    }
    auto r = parent.enter(t);
    if (!r) {
        return std::unexpected(r.error());
    }
    tlv alt;
    ESIMGUARD_ASN1_ASSIGN(alt, r->next());
    cancel_session_response out;
    if (alt.tag == tag_response_ok) {
        ESIMGUARD_ASN1_ASSIGN(out, read_response_ok(*r, alt));
    } else if (alt.tag == tag_response_error) {
        std::uint32_t code = 0;
        ESIMGUARD_ASN1_ASSIGN(code, small_uint(alt, "cancelSessionResponseError"));
        out = static_cast<cancel_session_error_code>(code);
    } else {
        return fail(errc::unexpected_tag, alt, "cancelSessionResponse");
    }
    // A CHOICE holds exactly one alternative.
    ESIMGUARD_ASN1_CHECK(r->finish());
    return out;
}

} // namespace

result<cancel_session_request> decode_cancel_session_request(byte_view data) {
    return decode_whole(data, read_request);
}

bytes encode(const cancel_session_request& v) {
    writer w;
    w.begin(tag_cancel_session);
    w.add(tag_request_transaction_id, v.transaction_id);
    w.add_uint(tag_request_reason, static_cast<std::uint32_t>(v.reason));
    put_extensions(w, v.extensions);
    w.end();
    return std::move(w).finish();
}

result<euicc_cancel_session_signed> decode_euicc_cancel_session_signed(byte_view data) {
    return decode_whole(data, read_signed);
}

bytes encode(const euicc_cancel_session_signed& v) {
    writer w;
    put_signed(w, v);
    return std::move(w).finish();
}

result<cancel_session_response> decode_cancel_session_response(byte_view data) {
    return decode_whole(data, read_response);
}

bytes encode(const cancel_session_response& v) {
    writer w;
    w.begin(tag_cancel_session);
    if (const auto* ok = std::get_if<cancel_session_response_ok>(&v)) {
        w.begin(tag_response_ok);
        put_signed(w, ok->cancel_signed);
        w.add(tag_signature, ok->euicc_cancel_session_signature);
        put_extensions(w, ok->extensions);
        w.end();
    } else {
        w.add_uint(tag_response_error,
                   static_cast<std::uint32_t>(std::get<cancel_session_error_code>(v)));
    }
    w.end();
    return std::move(w).finish();
}

} // namespace esimguard::asn1
