// ES10b PrepareDownload, SGP.22 §5.7.5 (and §3.1.3 for its place in the
// download): SmdpSigned2, PrepareDownloadRequest, EUICCSigned2 and
// PrepareDownloadResponse.
#include "esimguard/asn1/download.hpp"

#include "field_codec.hpp"

namespace esimguard::asn1 {

namespace {

using namespace detail;

constexpr std::uint32_t tag_transaction_id = 0x80;
constexpr std::uint32_t tag_response_ok = 0xA0;
constexpr std::uint32_t tag_response_error = 0xA1;

result<smdp_signed2> read_smdp_signed2(const reader& parent, const tlv& t) {
    if (t.tag != tag_sequence) {
        return fail(errc::unexpected_tag, t, "smdpSigned2");
    }
    auto r = parent.enter(t);
    if (!r) {
        return std::unexpected(r.error());
    }
    smdp_signed2 out;
    tlv f;
    ESIMGUARD_ASN1_ASSIGN(f, r->expect(tag_transaction_id, "transactionId"));
    ESIMGUARD_ASN1_ASSIGN(out.transaction_id, transaction_id_of(f));
    ESIMGUARD_ASN1_ASSIGN(f, r->expect(tag_boolean, "ccRequiredFlag"));
    ESIMGUARD_ASN1_ASSIGN(out.cc_required, decode_bool(f));
    ESIMGUARD_ASN1_ASSIGN(f, r->next_if(tag_euicc_otpk));
    if (f.tag != 0) {
        ESIMGUARD_ASN1_ASSIGN(out.bpp_euicc_otpk, octets(f, 1, otpk_max, "bppEuiccOtpk"));
    }
    ESIMGUARD_ASN1_ASSIGN(out.extensions, extensions(*r, {tag_transaction_id}, "smdpSigned2"));
    out.raw = to_bytes(t.raw);
    return out;
}

void put_smdp_signed2(writer& w, const smdp_signed2& v) {
    w.begin(tag_sequence);
    w.add(tag_transaction_id, v.transaction_id);
    w.add_bool(tag_boolean, v.cc_required);
    if (v.bpp_euicc_otpk) {
        w.add(tag_euicc_otpk, *v.bpp_euicc_otpk);
    }
    put_extensions(w, v.extensions);
    w.end();
}

result<prepare_download_request> read_prepare_download_request(const reader& parent, const tlv& t) {
    if (t.tag != tag_prepare_download) {
        return fail(errc::unexpected_tag, t, "prepareDownloadRequest");
    }
    auto r = parent.enter(t);
    if (!r) {
        return std::unexpected(r.error());
    }
    prepare_download_request out;
    tlv f;
    ESIMGUARD_ASN1_ASSIGN(f, r->expect(tag_sequence, "smdpSigned2"));
    ESIMGUARD_ASN1_ASSIGN(out.smdp_signed, read_smdp_signed2(*r, f));
    ESIMGUARD_ASN1_ASSIGN(out.smdp_signature2, signature(*r, "smdpSignature2"));
    ESIMGUARD_ASN1_ASSIGN(f, r->next_if(tag_octet_string));
    if (f.tag != 0) {
        ESIMGUARD_ASN1_ASSIGN(out.hash, fixed_octets<32>(f, "hashCc"));
    }
    ESIMGUARD_ASN1_ASSIGN(out.smdp_certificate, certificate(*r, "smdpCertificate"));
    ESIMGUARD_ASN1_ASSIGN(out.extensions, extensions(*r, {}, "prepareDownloadRequest"));
    return out;
}

result<euicc_signed2> read_euicc_signed2(const reader& parent, const tlv& t) {
    if (t.tag != tag_sequence) {
        return fail(errc::unexpected_tag, t, "euiccSigned2");
    }
    auto r = parent.enter(t);
    if (!r) {
        return std::unexpected(r.error());
    }
    euicc_signed2 out;
    tlv f;
    ESIMGUARD_ASN1_ASSIGN(f, r->expect(tag_transaction_id, "transactionId"));
    ESIMGUARD_ASN1_ASSIGN(out.transaction_id, transaction_id_of(f));
    ESIMGUARD_ASN1_ASSIGN(f, r->expect(tag_euicc_otpk, "euiccOtpk"));
    ESIMGUARD_ASN1_ASSIGN(out.euicc_otpk, octets(f, 1, otpk_max, "euiccOtpk"));
    ESIMGUARD_ASN1_ASSIGN(f, r->next_if(tag_octet_string));
    if (f.tag != 0) {
        ESIMGUARD_ASN1_ASSIGN(out.hash, fixed_octets<32>(f, "hashCc"));
    }
    ESIMGUARD_ASN1_ASSIGN(out.extensions, extensions(*r, {tag_transaction_id}, "euiccSigned2"));
    out.raw = to_bytes(t.raw);
    return out;
}

void put_euicc_signed2(writer& w, const euicc_signed2& v) {
    w.begin(tag_sequence);
    w.add(tag_transaction_id, v.transaction_id);
    w.add(tag_euicc_otpk, v.euicc_otpk);
    if (v.hash) {
        w.add(tag_octet_string, *v.hash);
    }
    put_extensions(w, v.extensions);
    w.end();
}

result<prepare_download_response_ok> read_response_ok(const reader& parent, const tlv& t) {
    auto r = parent.enter(t);
    if (!r) {
        return std::unexpected(r.error());
    }
    prepare_download_response_ok out;
    tlv f;
    ESIMGUARD_ASN1_ASSIGN(f, r->expect(tag_sequence, "euiccSigned2"));
    ESIMGUARD_ASN1_ASSIGN(out.euicc_signed, read_euicc_signed2(*r, f));
    ESIMGUARD_ASN1_ASSIGN(out.euicc_signature2, signature(*r, "euiccSignature2"));
    ESIMGUARD_ASN1_ASSIGN(out.extensions, extensions(*r, {}, "downloadResponseOk"));
    return out;
}

result<prepare_download_response_error> read_response_error(const reader& parent, const tlv& t) {
    auto r = parent.enter(t);
    if (!r) {
        return std::unexpected(r.error());
    }
    prepare_download_response_error out;
    tlv f;
    ESIMGUARD_ASN1_ASSIGN(f, r->expect(tag_transaction_id, "transactionId"));
    ESIMGUARD_ASN1_ASSIGN(out.transaction_id, transaction_id_of(f));
    ESIMGUARD_ASN1_ASSIGN(f, r->expect(tag_integer, "downloadErrorCode"));
    std::uint32_t code = 0;
    ESIMGUARD_ASN1_ASSIGN(code, small_uint(f, "downloadErrorCode"));
    out.code = static_cast<download_error_code>(code);
    ESIMGUARD_ASN1_ASSIGN(out.extensions,
                          extensions(*r, {tag_transaction_id}, "downloadResponseError"));
    return out;
}

result<prepare_download_response> read_prepare_download_response(const reader& parent,
                                                                 const tlv& t) {
    if (t.tag != tag_prepare_download) {
        return fail(errc::unexpected_tag, t, "prepareDownloadResponse");
    }
    auto r = parent.enter(t);
    if (!r) {
        return std::unexpected(r.error());
    }
    tlv alt;
    ESIMGUARD_ASN1_ASSIGN(alt, r->next());
    prepare_download_response out;
    if (alt.tag == tag_response_ok) {
        ESIMGUARD_ASN1_ASSIGN(out, read_response_ok(*r, alt));
    } else if (alt.tag == tag_response_error) {
        ESIMGUARD_ASN1_ASSIGN(out, read_response_error(*r, alt));
    } else {
        return fail(errc::unexpected_tag, alt, "prepareDownloadResponse");
    }
    // A CHOICE holds exactly one alternative.
    ESIMGUARD_ASN1_CHECK(r->finish());
    return out;
}

} // namespace

result<smdp_signed2> decode_smdp_signed2(byte_view data) {
    return decode_whole(data, read_smdp_signed2);
}

bytes encode(const smdp_signed2& v) {
    writer w;
    put_smdp_signed2(w, v);
    return std::move(w).finish();
}

result<prepare_download_request> decode_prepare_download_request(byte_view data) {
    return decode_whole(data, read_prepare_download_request);
}

bytes encode(const prepare_download_request& v) {
    writer w;
    w.begin(tag_prepare_download);
    put_smdp_signed2(w, v.smdp_signed);
    w.add(tag_signature, v.smdp_signature2);
    if (v.hash) {
        w.add(tag_octet_string, *v.hash);
    }
    w.add_raw(v.smdp_certificate);
    put_extensions(w, v.extensions);
    w.end();
    return std::move(w).finish();
}

result<euicc_signed2> decode_euicc_signed2(byte_view data) {
    return decode_whole(data, read_euicc_signed2);
}

bytes encode(const euicc_signed2& v) {
    writer w;
    put_euicc_signed2(w, v);
    return std::move(w).finish();
}

result<prepare_download_response> decode_prepare_download_response(byte_view data) {
    return decode_whole(data, read_prepare_download_response);
}

bytes encode(const prepare_download_response& v) {
    writer w;
    w.begin(tag_prepare_download);
    if (const auto* ok = std::get_if<prepare_download_response_ok>(&v)) {
        w.begin(tag_response_ok);
        put_euicc_signed2(w, ok->euicc_signed);
        w.add(tag_signature, ok->euicc_signature2);
        put_extensions(w, ok->extensions);
        w.end();
    } else {
        const auto& err = std::get<prepare_download_response_error>(v);
        w.begin(tag_response_error);
        w.add(tag_transaction_id, err.transaction_id);
        w.add_uint(tag_integer, static_cast<std::uint32_t>(err.code));
        put_extensions(w, err.extensions);
        w.end();
    }
    w.end();
    return std::move(w).finish();
}

} // namespace esimguard::asn1
