// Bound profile package structure and its plaintext commands
// (SGP.22 §2.5.5, §5.5.1 InitialiseSecureChannel, §5.5.2 ConfigureISDP,
// §5.5.5 ReplaceSessionKeys), after RSPDefinitions.

#include "esimguard/asn1/bpp.hpp"

#include "message_parts2.hpp"

namespace esimguard::asn1 {

using codec2::fail;

namespace {

constexpr std::size_t host_id_max = 16;
// An uncompressed point on a 256-bit curve is 65 bytes; leave room for
// larger curves but not for absurd sizes.
constexpr std::size_t otpk_max = 255;
constexpr std::size_t session_key_size = 16;

result<std::uint8_t> octet1(reader& r, std::uint32_t tag, std::string_view field) {
    ESIMGUARD_M2_TRY(t, r.expect(tag, field));
    ESIMGUARD_M2_TRY(v, codec2::fixed<1>(t, field));
    return v[0];
}

result<initialise_secure_channel_request> isc_body(reader r, byte_view content) {
    initialise_secure_channel_request m;
    ESIMGUARD_M2_TRY(op, r.expect(0x82, "remoteOpId"));
    // installBoundProfilePackage is the only operation SGP.22 defines.
    ESIMGUARD_M2_TRY(op_v, codec2::uint_max(op, 0xff, "remoteOpId"));
    if (op_v != 1) {
        return fail(errc::invalid_value, op, "remoteOpId");
    }
    m.remote_op = remote_op_id::install_bound_profile_package;
    ESIMGUARD_M2_TRY(tx, r.expect(0x80, "transactionId"));
    ESIMGUARD_M2_TRY(tx_v, codec2::octets(tx, codec2::transaction_id_min,
                                          codec2::transaction_id_max, "transactionId"));
    m.transaction_id = std::move(tx_v);
    ESIMGUARD_M2_TRY(crt, r.expect(0xA6, "controlRefTemplate"));
    ESIMGUARD_M2_TRY(cr, codec2::enter(r, crt, "controlRefTemplate"));
    ESIMGUARD_M2_TRY(kt, octet1(cr, 0x80, "keyType"));
    m.crt.key_type = kt;
    ESIMGUARD_M2_TRY(kl, octet1(cr, 0x81, "keyLen"));
    m.crt.key_len = kl;
    ESIMGUARD_M2_TRY(host, cr.expect(0x84, "hostId"));
    ESIMGUARD_M2_TRY(host_v, codec2::octets(host, 1, host_id_max, "hostId"));
    m.crt.host_id = std::move(host_v);
    ESIMGUARD_M2_TRY(crt_ext, codec2::extensions(cr, {0x80, 0x81, 0x84}, "controlRefTemplate"));
    m.crt.extensions = std::move(crt_ext);
    ESIMGUARD_M2_TRY(otpk, r.expect(codec2::tag_otpk, "smdpOtpk"));
    ESIMGUARD_M2_TRY(otpk_v, codec2::octets(otpk, 1, otpk_max, "smdpOtpk"));
    m.smdp_otpk = std::move(otpk_v);
    // The signed fields are contiguous from the start of the content to the
    // end of smdpOtpk: keep exactly those bytes.
    const auto signed_len =
        static_cast<std::size_t>(otpk.raw.data() + otpk.raw.size() - content.data());
    m.signed_raw = to_bytes(content.first(signed_len));
    ESIMGUARD_M2_TRY(sig, r.expect(codec2::tag_signature, "smdpSign"));
    ESIMGUARD_M2_TRY(sig_v, codec2::fixed<64>(sig, "smdpSign"));
    m.smdp_sign = sig_v;
    ESIMGUARD_M2_TRY(ext,
                     codec2::extensions(r, {0x80, 0x82, 0xA6}, "initialiseSecureChannelRequest"));
    m.extensions = std::move(ext);
    return m;
}

void put_isc_signed_part(writer& w, const initialise_secure_channel_request& m) {
    w.add_uint(0x82, static_cast<std::uint64_t>(m.remote_op));
    w.add(0x80, m.transaction_id);
    w.begin(0xA6);
    w.add(0x80, byte_view(&m.crt.key_type, 1));
    w.add(0x81, byte_view(&m.crt.key_len, 1));
    w.add(0x84, m.crt.host_id);
    codec2::put_extensions(w, m.crt.extensions);
    w.end();
    w.add(codec2::tag_otpk, m.smdp_otpk);
}

void put_isc(writer& w, const initialise_secure_channel_request& m) {
    w.begin(0xBF23);
    put_isc_signed_part(w, m);
    w.add(codec2::tag_signature, m.smdp_sign);
    codec2::put_extensions(w, m.extensions);
    w.end();
}

// SEQUENCE OF [n] OCTET STRING: each element tagged `tag`, at least one.
result<std::vector<bytes>> segments(const reader& parent, const tlv& t, std::uint32_t tag,
                                    std::string_view field) {
    ESIMGUARD_M2_TRY(r, codec2::enter(parent, t, field));
    if (r.at_end()) {
        return fail(errc::missing_field, t, field);
    }
    std::vector<bytes> out;
    while (!r.at_end()) {
        ESIMGUARD_M2_TRY(seg, r.expect(tag, field));
        ESIMGUARD_M2_CHECK(codec2::primitive(seg, field));
        out.push_back(to_bytes(seg.value));
    }
    return out;
}

void put_segments(writer& w, std::uint32_t outer, std::uint32_t tag,
                  const std::vector<bytes>& segs) {
    w.begin(outer);
    for (const auto& s : segs) {
        w.add(tag, s);
    }
    w.end();
}

result<bytes> session_key(reader& r, std::uint32_t tag, std::string_view field) {
    ESIMGUARD_M2_TRY(t, r.expect(tag, field));
    return codec2::octets(t, session_key_size, session_key_size, field);
}

// The tag and length octets of a TLV: its raw bytes without the content.
byte_view header_of(const tlv& t) {
    return t.raw.first(t.raw.size() - t.value.size());
}

} // namespace

result<initialise_secure_channel_request> decode_initialise_secure_channel_request(byte_view der) {
    ESIMGUARD_M2_TRY(o, codec2::open_top(der, 0xBF23, "initialiseSecureChannelRequest"));
    return isc_body(o.r, o.t.value);
}

bytes encode(const initialise_secure_channel_request& m) {
    writer w;
    put_isc(w, m);
    return std::move(w).finish();
}

bytes encode_isc_signed_part(const initialise_secure_channel_request& m) {
    writer w;
    put_isc_signed_part(w, m);
    return std::move(w).finish();
}

result<configure_isdp_request> decode_configure_isdp_request(byte_view der) {
    ESIMGUARD_M2_TRY(o, codec2::open_top(der, 0xBF24, "configureISDPRequest"));
    configure_isdp_request m;
    ESIMGUARD_M2_TRY(dp, o.r.next_if(0xB8));
    if (dp.tag != 0) {
        ESIMGUARD_M2_TRY(dp_v, detail2::dp_proprietary_data_of(o.r, dp));
        m.dp_proprietary = std::move(dp_v);
    }
    ESIMGUARD_M2_TRY(ext, codec2::extensions(o.r, {0xB8}, "configureISDPRequest"));
    m.extensions = std::move(ext);
    return m;
}

bytes encode(const configure_isdp_request& m) {
    writer w;
    w.begin(0xBF24);
    if (m.dp_proprietary) {
        detail2::put(w, *m.dp_proprietary);
    }
    codec2::put_extensions(w, m.extensions);
    w.end();
    return std::move(w).finish();
}

result<replace_session_keys_request> decode_replace_session_keys_request(byte_view der) {
    ESIMGUARD_M2_TRY(o, codec2::open_top(der, 0xBF26, "replaceSessionKeysRequest"));
    replace_session_keys_request m;
    ESIMGUARD_M2_TRY(mac, session_key(o.r, 0x80, "initialMacChainingValue"));
    m.initial_mac_chaining_value = std::move(mac);
    ESIMGUARD_M2_TRY(enc, session_key(o.r, 0x81, "ppkEnc"));
    m.ppk_enc = std::move(enc);
    ESIMGUARD_M2_TRY(cmac, session_key(o.r, 0x82, "ppkCmac"));
    m.ppk_cmac = std::move(cmac);
    ESIMGUARD_M2_TRY(ext, codec2::extensions(o.r, {0x80, 0x81, 0x82}, "replaceSessionKeysRequest"));
    m.extensions = std::move(ext);
    return m;
}

bytes encode(const replace_session_keys_request& m) {
    writer w;
    w.begin(0xBF26);
    w.add(0x80, m.initial_mac_chaining_value);
    w.add(0x81, m.ppk_enc);
    w.add(0x82, m.ppk_cmac);
    codec2::put_extensions(w, m.extensions);
    w.end();
    return std::move(w).finish();
}

result<bound_profile_package> decode_bound_profile_package(byte_view der) {
    ESIMGUARD_M2_TRY(o, codec2::open_top(der, 0xBF36, "boundProfilePackage"));
    bound_profile_package m;
    ESIMGUARD_M2_TRY(isc, o.r.expect(0xBF23, "initialiseSecureChannelRequest"));
    ESIMGUARD_M2_TRY(isc_r, codec2::enter(o.r, isc, "initialiseSecureChannelRequest"));
    ESIMGUARD_M2_TRY(isc_v, isc_body(isc_r, isc.value));
    m.initialise_secure_channel = std::move(isc_v);
    ESIMGUARD_M2_TRY(a0, o.r.expect(0xA0, "firstSequenceOf87"));
    ESIMGUARD_M2_TRY(a0_v, segments(o.r, a0, 0x87, "firstSequenceOf87"));
    m.first_sequence_of_87 = std::move(a0_v);
    ESIMGUARD_M2_TRY(a1, o.r.expect(0xA1, "sequenceOf88"));
    ESIMGUARD_M2_TRY(a1_v, segments(o.r, a1, 0x88, "sequenceOf88"));
    m.sequence_of_88 = std::move(a1_v);
    ESIMGUARD_M2_TRY(a2, o.r.next_if(0xA2));
    if (a2.tag != 0) {
        ESIMGUARD_M2_TRY(a2_v, segments(o.r, a2, 0x87, "secondSequenceOf87"));
        m.second_sequence_of_87 = std::move(a2_v);
    }
    ESIMGUARD_M2_TRY(a3, o.r.expect(0xA3, "sequenceOf86"));
    ESIMGUARD_M2_TRY(a3_v, segments(o.r, a3, 0x86, "sequenceOf86"));
    m.sequence_of_86 = std::move(a3_v);
    ESIMGUARD_M2_TRY(
        ext, codec2::extensions(o.r, {0xBF23, 0xA0, 0xA1, 0xA2, 0xA3}, "boundProfilePackage"));
    m.extensions = std::move(ext);
    return m;
}

bytes encode(const bound_profile_package& m) {
    writer w;
    w.begin(0xBF36);
    put_isc(w, m.initialise_secure_channel);
    put_segments(w, 0xA0, 0x87, m.first_sequence_of_87);
    put_segments(w, 0xA1, 0x88, m.sequence_of_88);
    if (m.second_sequence_of_87) {
        put_segments(w, 0xA2, 0x87, *m.second_sequence_of_87);
    }
    put_segments(w, 0xA3, 0x86, m.sequence_of_86);
    codec2::put_extensions(w, m.extensions);
    w.end();
    return std::move(w).finish();
}

result<std::vector<bytes>> split_bound_profile_package(byte_view der) {
    // Decoding first means every rule is checked before any piece goes out.
    ESIMGUARD_M2_CHECK(decode_bound_profile_package(der));
    ESIMGUARD_M2_TRY(o, codec2::open_top(der, 0xBF36, "boundProfilePackage"));
    std::vector<bytes> pieces;
    ESIMGUARD_M2_TRY(isc, o.r.next());
    pieces.push_back(concat({header_of(o.t), isc.raw}));
    ESIMGUARD_M2_TRY(a0, o.r.next());
    pieces.push_back(to_bytes(a0.raw));
    ESIMGUARD_M2_TRY(a1, o.r.next());
    pieces.push_back(to_bytes(header_of(a1)));
    ESIMGUARD_M2_TRY(r88, o.r.enter(a1));
    while (!r88.at_end()) {
        ESIMGUARD_M2_TRY(seg, r88.next());
        pieces.push_back(to_bytes(seg.raw));
    }
    ESIMGUARD_M2_TRY(next, o.r.next());
    if (next.tag == 0xA2) {
        pieces.push_back(to_bytes(next.raw));
        ESIMGUARD_M2_TRY(after, o.r.next());
        next = after;
    }
    pieces.push_back(to_bytes(header_of(next)));
    ESIMGUARD_M2_TRY(r86, o.r.enter(next));
    while (!r86.at_end()) {
        ESIMGUARD_M2_TRY(seg, r86.next());
        pieces.push_back(to_bytes(seg.raw));
    }
    return pieces;
}

} // namespace esimguard::asn1
