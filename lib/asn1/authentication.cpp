// Common mutual authentication, SGP.22 §3.1.2 and ES10b AuthenticateServer
// (SGP.22 §5.7.13): ServerSigned1, CtxParams1, AuthenticateServerRequest,
// EuiccSigned1 and AuthenticateServerResponse.
#include "esimguard/asn1/authentication.hpp"

#include "field_codec.hpp"

namespace esimguard::asn1 {

namespace {

using namespace detail;

// ServerSigned1 / EuiccSigned1 field tags (explicit in RSPDefinitions).
constexpr std::uint32_t tag_transaction_id = 0x80;
constexpr std::uint32_t tag_euicc_challenge = 0x81;
constexpr std::uint32_t tag_server_address = 0x83;
constexpr std::uint32_t tag_server_challenge = 0x84;

// CtxParams1 and below use AUTOMATIC TAGS: [0], [1], [2] by position.
constexpr std::uint32_t tag_ctx_common_authentication = 0xA0;
constexpr std::uint32_t tag_matching_id = 0x80;
constexpr std::uint32_t tag_device_info = 0xA1;
constexpr std::uint32_t tag_tac = 0x80;
constexpr std::uint32_t tag_device_capabilities = 0xA1;
constexpr std::uint32_t tag_imei = 0x82;
constexpr std::size_t device_capability_count = 9; // [0]..[8] in SGP.22 v2.1

// AuthenticateServerResponse CHOICE alternatives (automatic tags).
constexpr std::uint32_t tag_response_ok = 0xA0;
constexpr std::uint32_t tag_response_error = 0xA1;

using capability_field = std::optional<version_type> device_capabilities::*;
constexpr std::array<capability_field, device_capability_count> capability_fields = {
    &device_capabilities::gsm_supported_release,
    &device_capabilities::utran_supported_release,
    &device_capabilities::cdma2000onex_supported_release,
    &device_capabilities::cdma2000hrpd_supported_release,
    &device_capabilities::cdma2000ehrpd_supported_release,
    &device_capabilities::eutran_supported_release,
    &device_capabilities::contactless_supported_release,
    &device_capabilities::rsp_crl_supported_version,
    &device_capabilities::rsp_rpm_supported_version,
};

result<device_capabilities> read_device_capabilities(const reader& parent, const tlv& t) {
    auto r = parent.enter(t);
    if (!r) {
        return std::unexpected(r.error());
    }
    device_capabilities out;
    for (std::size_t i = 0; i < device_capability_count; ++i) {
        tlv f;
        ESIMGUARD_ASN1_ASSIGN(f, r->next_if(0x80 + static_cast<std::uint32_t>(i)));
        if (f.tag != 0) {
            ESIMGUARD_ASN1_ASSIGN(out.*capability_fields[i],
                                  fixed_octets<3>(f, "deviceCapabilities"));
        }
    }
    ESIMGUARD_ASN1_ASSIGN(out.extensions,
                          extensions(*r, {0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88},
                                     "deviceCapabilities"));
    return out;
}

void put_device_capabilities(writer& w, const device_capabilities& v) {
    w.begin(tag_device_capabilities);
    for (std::size_t i = 0; i < device_capability_count; ++i) {
        const auto& field = v.*capability_fields[i];
        if (field) {
            w.add(0x80 + static_cast<std::uint32_t>(i), *field);
        }
    }
    put_extensions(w, v.extensions);
    w.end();
}

result<device_info> read_device_info(const reader& parent, const tlv& t) {
    auto r = parent.enter(t);
    if (!r) {
        return std::unexpected(r.error());
    }
    device_info out;
    tlv f;
    ESIMGUARD_ASN1_ASSIGN(f, r->expect(tag_tac, "tac"));
    ESIMGUARD_ASN1_ASSIGN(out.tac, fixed_octets<4>(f, "tac"));
    ESIMGUARD_ASN1_ASSIGN(f, r->expect(tag_device_capabilities, "deviceCapabilities"));
    ESIMGUARD_ASN1_ASSIGN(out.capabilities, read_device_capabilities(*r, f));
    ESIMGUARD_ASN1_ASSIGN(f, r->next_if(tag_imei));
    if (f.tag != 0) {
        ESIMGUARD_ASN1_ASSIGN(out.imei, fixed_octets<8>(f, "imei"));
    }
    ESIMGUARD_ASN1_ASSIGN(
        out.extensions, extensions(*r, {tag_tac, tag_device_capabilities, tag_imei}, "deviceInfo"));
    return out;
}

result<ctx_params1> read_ctx_params1(const reader& parent, const tlv& t) {
    // The CHOICE has one alternative in SGP.22 v2; a later one (device
    // change, profile recovery) is not something this SM-DP+ can serve.
    if (t.tag != tag_ctx_common_authentication) {
        return fail(errc::unexpected_tag, t, "ctxParams1");
    }
    auto r = parent.enter(t);
    if (!r) {
        return std::unexpected(r.error());
    }
    ctx_params1 out;
    tlv f;
    ESIMGUARD_ASN1_ASSIGN(f, r->next_if(tag_matching_id));
    if (f.tag != 0) {
        ESIMGUARD_ASN1_ASSIGN(out.matching_id, utf8(f, matching_id_max, "matchingId"));
    }
    ESIMGUARD_ASN1_ASSIGN(f, r->expect(tag_device_info, "deviceInfo"));
    ESIMGUARD_ASN1_ASSIGN(out.device, read_device_info(*r, f));
    ESIMGUARD_ASN1_ASSIGN(out.extensions,
                          extensions(*r, {tag_matching_id, tag_device_info}, "ctxParams1"));
    return out;
}

void put_ctx_params1(writer& w, const ctx_params1& v) {
    w.begin(tag_ctx_common_authentication);
    if (v.matching_id) {
        w.add(tag_matching_id, as_bytes(*v.matching_id));
    }
    w.begin(tag_device_info);
    w.add(tag_tac, v.device.tac);
    put_device_capabilities(w, v.device.capabilities);
    if (v.device.imei) {
        w.add(tag_imei, *v.device.imei);
    }
    put_extensions(w, v.device.extensions);
    w.end();
    put_extensions(w, v.extensions);
    w.end();
}

result<server_signed1> read_server_signed1(const reader& parent, const tlv& t) {
    if (t.tag != tag_sequence) {
        return fail(errc::unexpected_tag, t, "serverSigned1");
    }
    auto r = parent.enter(t);
    if (!r) {
        return std::unexpected(r.error());
    }
    server_signed1 out;
    tlv f;
    ESIMGUARD_ASN1_ASSIGN(f, r->expect(tag_transaction_id, "transactionId"));
    ESIMGUARD_ASN1_ASSIGN(out.transaction_id, transaction_id_of(f));
    ESIMGUARD_ASN1_ASSIGN(f, r->expect(tag_euicc_challenge, "euiccChallenge"));
    ESIMGUARD_ASN1_ASSIGN(out.euicc_challenge, fixed_octets<16>(f, "euiccChallenge"));
    ESIMGUARD_ASN1_ASSIGN(f, r->expect(tag_server_address, "serverAddress"));
    ESIMGUARD_ASN1_ASSIGN(out.server_address, utf8(f, address_max, "serverAddress"));
    ESIMGUARD_ASN1_ASSIGN(f, r->expect(tag_server_challenge, "serverChallenge"));
    ESIMGUARD_ASN1_ASSIGN(out.server_challenge, fixed_octets<16>(f, "serverChallenge"));
    ESIMGUARD_ASN1_ASSIGN(out.extensions, extensions(*r,
                                                     {tag_transaction_id, tag_euicc_challenge,
                                                      tag_server_address, tag_server_challenge},
                                                     "serverSigned1"));
    out.raw = to_bytes(t.raw);
    return out;
}

void put_server_signed1(writer& w, const server_signed1& v) {
    w.begin(tag_sequence);
    w.add(tag_transaction_id, v.transaction_id);
    w.add(tag_euicc_challenge, v.euicc_challenge);
    w.add(tag_server_address, as_bytes(v.server_address));
    w.add(tag_server_challenge, v.server_challenge);
    put_extensions(w, v.extensions);
    w.end();
}

result<euicc_signed1> read_euicc_signed1(const reader& parent, const tlv& t) {
    if (t.tag != tag_sequence) {
        return fail(errc::unexpected_tag, t, "euiccSigned1");
    }
    auto r = parent.enter(t);
    if (!r) {
        return std::unexpected(r.error());
    }
    euicc_signed1 out;
    tlv f;
    ESIMGUARD_ASN1_ASSIGN(f, r->expect(tag_transaction_id, "transactionId"));
    ESIMGUARD_ASN1_ASSIGN(out.transaction_id, transaction_id_of(f));
    ESIMGUARD_ASN1_ASSIGN(f, r->expect(tag_server_address, "serverAddress"));
    ESIMGUARD_ASN1_ASSIGN(out.server_address, utf8(f, address_max, "serverAddress"));
    ESIMGUARD_ASN1_ASSIGN(f, r->expect(tag_server_challenge, "serverChallenge"));
    ESIMGUARD_ASN1_ASSIGN(out.server_challenge, fixed_octets<16>(f, "serverChallenge"));
    ESIMGUARD_ASN1_ASSIGN(f, r->expect(tag_euicc_info2, "euiccInfo2"));
    ESIMGUARD_ASN1_ASSIGN(out.info2, detail::decode_euicc_info2(*r, f));
    ESIMGUARD_ASN1_ASSIGN(f, r->expect(tag_ctx_common_authentication, "ctxParams1"));
    ESIMGUARD_ASN1_ASSIGN(out.ctx_params, read_ctx_params1(*r, f));
    ESIMGUARD_ASN1_ASSIGN(out.extensions,
                          extensions(*r,
                                     {tag_transaction_id, tag_server_address, tag_server_challenge,
                                      tag_euicc_info2, tag_ctx_common_authentication},
                                     "euiccSigned1"));
    out.raw = to_bytes(t.raw);
    return out;
}

void put_euicc_signed1(writer& w, const euicc_signed1& v) {
    w.begin(tag_sequence);
    w.add(tag_transaction_id, v.transaction_id);
    w.add(tag_server_address, as_bytes(v.server_address));
    w.add(tag_server_challenge, v.server_challenge);
    w.add_raw(encode(v.info2));
    put_ctx_params1(w, v.ctx_params);
    put_extensions(w, v.extensions);
    w.end();
}

result<authenticate_server_request> read_authenticate_server_request(const reader& parent,
                                                                     const tlv& t) {
    if (t.tag != tag_authenticate_server) {
        return fail(errc::unexpected_tag, t, "authenticateServerRequest");
    }
    auto r = parent.enter(t);
    if (!r) {
        return std::unexpected(r.error());
    }
    authenticate_server_request out;
    tlv f;
    ESIMGUARD_ASN1_ASSIGN(f, r->expect(tag_sequence, "serverSigned1"));
    ESIMGUARD_ASN1_ASSIGN(out.server_signed, read_server_signed1(*r, f));
    ESIMGUARD_ASN1_ASSIGN(out.server_signature1, signature(*r, "serverSignature1"));
    ESIMGUARD_ASN1_ASSIGN(f, r->expect(tag_octet_string, "euiccCiPKIdToBeUsed"));
    ESIMGUARD_ASN1_ASSIGN(out.euicc_ci_pkid_to_be_used, octets(f, 1, 64, "euiccCiPKIdToBeUsed"));
    ESIMGUARD_ASN1_ASSIGN(out.server_certificate, certificate(*r, "serverCertificate"));
    ESIMGUARD_ASN1_ASSIGN(f, r->expect(tag_ctx_common_authentication, "ctxParams1"));
    ESIMGUARD_ASN1_ASSIGN(out.ctx_params, read_ctx_params1(*r, f));
    // ctxParams1 (A0) is the only context-specific tag among the known fields.
    ESIMGUARD_ASN1_ASSIGN(out.extensions, extensions(*r, {tag_ctx_common_authentication},
                                                     "authenticateServerRequest"));
    return out;
}

result<authenticate_response_ok> read_response_ok(const reader& parent, const tlv& t) {
    auto r = parent.enter(t);
    if (!r) {
        return std::unexpected(r.error());
    }
    authenticate_response_ok out;
    tlv f;
    ESIMGUARD_ASN1_ASSIGN(f, r->expect(tag_sequence, "euiccSigned1"));
    ESIMGUARD_ASN1_ASSIGN(out.euicc_signed, read_euicc_signed1(*r, f));
    ESIMGUARD_ASN1_ASSIGN(out.euicc_signature1, signature(*r, "euiccSignature1"));
    ESIMGUARD_ASN1_ASSIGN(out.euicc_certificate, certificate(*r, "euiccCertificate"));
    ESIMGUARD_ASN1_ASSIGN(out.eum_certificate, certificate(*r, "eumCertificate"));
    ESIMGUARD_ASN1_ASSIGN(out.extensions, extensions(*r, {}, "authenticateResponseOk"));
    return out;
}

result<authenticate_response_error> read_response_error(const reader& parent, const tlv& t) {
    auto r = parent.enter(t);
    if (!r) {
        return std::unexpected(r.error());
    }
    authenticate_response_error out;
    tlv f;
    ESIMGUARD_ASN1_ASSIGN(f, r->expect(tag_transaction_id, "transactionId"));
    ESIMGUARD_ASN1_ASSIGN(out.transaction_id, transaction_id_of(f));
    ESIMGUARD_ASN1_ASSIGN(f, r->expect(tag_integer, "authenticateErrorCode"));
    std::uint32_t code = 0;
    ESIMGUARD_ASN1_ASSIGN(code, small_uint(f, "authenticateErrorCode"));
    out.code = static_cast<authenticate_error_code>(code);
    ESIMGUARD_ASN1_ASSIGN(out.extensions,
                          extensions(*r, {tag_transaction_id}, "authenticateResponseError"));
    return out;
}

result<authenticate_server_response> read_authenticate_server_response(const reader& parent,
                                                                       const tlv& t) {
    if (t.tag != tag_authenticate_server) {
        return fail(errc::unexpected_tag, t, "authenticateServerResponse");
    }
    auto r = parent.enter(t);
    if (!r) {
        return std::unexpected(r.error());
    }
    tlv alt;
    ESIMGUARD_ASN1_ASSIGN(alt, r->next());
    authenticate_server_response out;
    if (alt.tag == tag_response_ok) {
        ESIMGUARD_ASN1_ASSIGN(out, read_response_ok(*r, alt));
    } else if (alt.tag == tag_response_error) {
        ESIMGUARD_ASN1_ASSIGN(out, read_response_error(*r, alt));
    } else {
        return fail(errc::unexpected_tag, alt, "authenticateServerResponse");
    }
    // A CHOICE holds exactly one alternative.
    ESIMGUARD_ASN1_CHECK(r->finish());
    return out;
}

} // namespace

result<server_signed1> decode_server_signed1(byte_view data) {
    return decode_whole(data, read_server_signed1);
}

bytes encode(const server_signed1& v) {
    writer w;
    put_server_signed1(w, v);
    return std::move(w).finish();
}

result<ctx_params1> decode_ctx_params1(byte_view data) {
    return decode_whole(data, read_ctx_params1);
}

bytes encode(const ctx_params1& v) {
    writer w;
    put_ctx_params1(w, v);
    return std::move(w).finish();
}

result<authenticate_server_request> decode_authenticate_server_request(byte_view data) {
    return decode_whole(data, read_authenticate_server_request);
}

bytes encode(const authenticate_server_request& v) {
    writer w;
    w.begin(tag_authenticate_server);
    put_server_signed1(w, v.server_signed);
    w.add(tag_signature, v.server_signature1);
    w.add(tag_octet_string, v.euicc_ci_pkid_to_be_used);
    w.add_raw(v.server_certificate);
    put_ctx_params1(w, v.ctx_params);
    put_extensions(w, v.extensions);
    w.end();
    return std::move(w).finish();
}

result<euicc_signed1> decode_euicc_signed1(byte_view data) {
    return decode_whole(data, read_euicc_signed1);
}

bytes encode(const euicc_signed1& v) {
    writer w;
    put_euicc_signed1(w, v);
    return std::move(w).finish();
}

result<authenticate_server_response> decode_authenticate_server_response(byte_view data) {
    return decode_whole(data, read_authenticate_server_response);
}

bytes encode(const authenticate_server_response& v) {
    writer w;
    w.begin(tag_authenticate_server);
    if (const auto* ok = std::get_if<authenticate_response_ok>(&v)) {
        w.begin(tag_response_ok);
        put_euicc_signed1(w, ok->euicc_signed);
        w.add(tag_signature, ok->euicc_signature1);
        w.add_raw(ok->euicc_certificate);
        w.add_raw(ok->eum_certificate);
        put_extensions(w, ok->extensions);
        w.end();
    } else {
        const auto& err = std::get<authenticate_response_error>(v);
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
