// ProfileInstallationResult (SGP.22 §5.5.4, RSPDefinitions ProfileInstallationResult).

#include "esimguard/asn1/install_result.hpp"

#include "message_parts2.hpp"

namespace esimguard::asn1 {

using codec2::fail;

namespace {

constexpr std::size_t aid_min = 5;
constexpr std::size_t aid_max = 16;
// simaResponse holds EUICCResponse structures of a whole profile: bounded
// only by the enclosing buffer.
constexpr std::size_t sima_response_max = 65535;

result<install_success_result> success_body(reader r) {
    install_success_result s;
    ESIMGUARD_M2_TRY(aid, r.expect(codec2::tag_aid, "aid"));
    ESIMGUARD_M2_TRY(aid_v, codec2::octets(aid, aid_min, aid_max, "aid"));
    s.aid = std::move(aid_v);
    ESIMGUARD_M2_TRY(sima, r.expect(codec2::tag_octet_string, "simaResponse"));
    ESIMGUARD_M2_TRY(sima_v, codec2::octets(sima, 0, sima_response_max, "simaResponse"));
    s.sima_response = std::move(sima_v);
    ESIMGUARD_M2_TRY(ext, codec2::extensions(r, {}, "successResult"));
    s.extensions = std::move(ext);
    return s;
}

result<install_error_result> error_body(reader r) {
    install_error_result e;
    ESIMGUARD_M2_TRY(cmd, r.expect(0x80, "bppCommandId"));
    ESIMGUARD_M2_TRY(cmd_v, codec2::uint_max(cmd, 0xff, "bppCommandId"));
    e.bpp_command = static_cast<bpp_command_id>(cmd_v);
    ESIMGUARD_M2_TRY(reason, r.expect(0x81, "errorReason"));
    ESIMGUARD_M2_TRY(reason_v, codec2::uint_max(reason, 0xff, "errorReason"));
    e.reason = static_cast<install_error_reason>(reason_v);
    ESIMGUARD_M2_TRY(sima, r.next_if(0x82));
    if (sima.tag != 0) {
        ESIMGUARD_M2_TRY(sima_v, codec2::octets(sima, 0, sima_response_max, "simaResponse"));
        e.sima_response = std::move(sima_v);
    }
    ESIMGUARD_M2_TRY(ext, codec2::extensions(r, {0x80, 0x81, 0x82}, "errorResult"));
    e.extensions = std::move(ext);
    return e;
}

result<profile_installation_result_data> data_body(reader r) {
    profile_installation_result_data d;
    ESIMGUARD_M2_TRY(tx, r.expect(0x80, "transactionId"));
    ESIMGUARD_M2_TRY(tx_v, codec2::octets(tx, codec2::transaction_id_min,
                                          codec2::transaction_id_max, "transactionId"));
    d.transaction_id = std::move(tx_v);
    ESIMGUARD_M2_TRY(nm, r.expect(0xBF2F, "notificationMetadata"));
    ESIMGUARD_M2_TRY(nm_v, detail2::notification_metadata_of(r, nm));
    d.notification = std::move(nm_v);
    ESIMGUARD_M2_TRY(oid, r.next_if(codec2::tag_oid));
    if (oid.tag != 0) {
        ESIMGUARD_M2_TRY(oid_v, codec2::object_identifier(oid, "smdpOid"));
        d.smdp_oid = std::move(oid_v);
    }
    ESIMGUARD_M2_TRY(fr, r.expect(0xA2, "finalResult"));
    ESIMGUARD_M2_TRY(fr_r, codec2::enter(r, fr, "finalResult"));
    ESIMGUARD_M2_TRY(choice, fr_r.next());
    ESIMGUARD_M2_CHECK(fr_r.finish());
    if (choice.tag == 0xA0) {
        ESIMGUARD_M2_TRY(cr, codec2::enter(fr_r, choice, "successResult"));
        ESIMGUARD_M2_TRY(s, success_body(cr));
        d.final_result = std::move(s);
    } else if (choice.tag == 0xA1) {
        ESIMGUARD_M2_TRY(cr, codec2::enter(fr_r, choice, "errorResult"));
        ESIMGUARD_M2_TRY(e, error_body(cr));
        d.final_result = std::move(e);
    } else {
        return fail(errc::unexpected_tag, choice, "finalResult");
    }
    ESIMGUARD_M2_TRY(ext,
                     codec2::extensions(r, {0x80, 0xBF2F, 0xA2}, "profileInstallationResultData"));
    d.extensions = std::move(ext);
    return d;
}

void put_data(writer& w, const profile_installation_result_data& d) {
    w.begin(0xBF27);
    w.add(0x80, d.transaction_id);
    detail2::put(w, d.notification);
    if (d.smdp_oid) {
        w.add(codec2::tag_oid, *d.smdp_oid);
    }
    w.begin(0xA2);
    if (const auto* s = std::get_if<install_success_result>(&d.final_result)) {
        w.begin(0xA0);
        w.add(codec2::tag_aid, s->aid);
        w.add(codec2::tag_octet_string, s->sima_response);
        codec2::put_extensions(w, s->extensions);
        w.end();
    } else {
        const auto& e = std::get<install_error_result>(d.final_result);
        w.begin(0xA1);
        w.add_uint(0x80, static_cast<std::uint64_t>(e.bpp_command));
        w.add_uint(0x81, static_cast<std::uint64_t>(e.reason));
        if (e.sima_response) {
            w.add(0x82, *e.sima_response);
        }
        codec2::put_extensions(w, e.extensions);
        w.end();
    }
    w.end();
    codec2::put_extensions(w, d.extensions);
    w.end();
}

result<profile_installation_result> pir_body(reader r) {
    profile_installation_result p;
    ESIMGUARD_M2_TRY(data, r.expect(0xBF27, "profileInstallationResultData"));
    ESIMGUARD_M2_TRY(dr, codec2::enter(r, data, "profileInstallationResultData"));
    ESIMGUARD_M2_TRY(d, data_body(dr));
    p.data = std::move(d);
    p.data_raw = to_bytes(data.raw);
    ESIMGUARD_M2_TRY(sig, r.expect(codec2::tag_signature, "euiccSignPIR"));
    ESIMGUARD_M2_TRY(sig_v, codec2::fixed<64>(sig, "euiccSignPIR"));
    p.euicc_sign_pir = sig_v;
    ESIMGUARD_M2_TRY(ext, codec2::extensions(r, {0xBF27}, "profileInstallationResult"));
    p.extensions = std::move(ext);
    return p;
}

} // namespace

namespace detail2 {

result<profile_installation_result> profile_installation_result_of(const reader& parent,
                                                                   const tlv& t) {
    ESIMGUARD_M2_TRY(r, codec2::enter(parent, t, "profileInstallationResult"));
    return pir_body(r);
}

void put(writer& w, const profile_installation_result& p) {
    w.begin(0xBF37);
    put_data(w, p.data);
    w.add(codec2::tag_signature, p.euicc_sign_pir);
    codec2::put_extensions(w, p.extensions);
    w.end();
}

} // namespace detail2

result<profile_installation_result> decode_profile_installation_result(byte_view der) {
    ESIMGUARD_M2_TRY(o, codec2::open_top(der, 0xBF37, "profileInstallationResult"));
    return pir_body(o.r);
}

bytes encode(const profile_installation_result& p) {
    writer w;
    detail2::put(w, p);
    return std::move(w).finish();
}

result<profile_installation_result_data> decode_profile_installation_result_data(byte_view der) {
    ESIMGUARD_M2_TRY(o, codec2::open_top(der, 0xBF27, "profileInstallationResultData"));
    return data_body(o.r);
}

bytes encode(const profile_installation_result_data& d) {
    writer w;
    put_data(w, d);
    return std::move(w).finish();
}

} // namespace esimguard::asn1
