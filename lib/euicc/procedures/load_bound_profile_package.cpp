// ES10b.LoadBoundProfilePackage (SGP.22 §5.7.6, ES8+ §5.5): the BPP arrives
// in the pieces the LPA cuts it into (asn1::split_bound_profile_package):
// BF36 header + BF23 InitialiseSecureChannel, A0 ConfigureISDP, A1 header
// then each 88 StoreMetadata segment, A2 ReplaceSessionKeys (optional), A3
// header then each 86 profile segment. Intermediate pieces are answered with
// no data; the last one, or the first failure, with a signed
// ProfileInstallationResult (BF37) that is also kept as a pending
// notification. A failure abandons the whole package and the session.

#include "context.hpp"

#include "esimguard/asn1/bpp.hpp"
#include "esimguard/asn1/install_result.hpp"
#include "esimguard/crypto/ecdh.hpp"
#include "esimguard/crypto/ecdsa.hpp"
#include "esimguard/crypto/hash.hpp"
#include "esimguard/crypto/kdf.hpp"
#include "esimguard/crypto/mac.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace esimguard::euicc::detail {
namespace {

using cmd = asn1::bpp_command_id;
using reason = asn1::install_error_reason;

/// Profiles larger than this are refused as if memory ran out.
constexpr std::size_t max_profile_size = 4 * 1024 * 1024;

/// EUICCResponse { peStatus { PEStatus { status 0 (ok) } } }: the simaResponse
/// of a package whose elements were all accepted.
const bytes sima_ok = {0x30, 0x07, 0xA0, 0x05, 0x30, 0x03, 0x80, 0x01, 0x00};

bytes installation_result(
    context& ctx, bytes transaction_id,
    std::variant<asn1::install_success_result, asn1::install_error_result> res) {
    auto& s = ctx.session;
    asn1::profile_installation_result_data d;
    d.transaction_id = std::move(transaction_id);
    d.notification.seq_number = ctx.state.next_seq_number++;
    d.notification.profile_management_operation =
        asn1::bit_string::from_bits({asn1::notification_install});
    d.notification.notification_address = s.server_address;
    if (s.bpp.metadata) {
        d.notification.iccid = s.bpp.metadata->iccid;
    }
    if (!s.smdp_oid.empty()) {
        d.smdp_oid = s.smdp_oid;
    }
    d.final_result = std::move(res);
    const bytes data_der = asn1::encode(d);
    auto sig = ctx.sign(data_der);
    if (!sig) {
        ctx.end_session();
        return {};
    }
    asn1::profile_installation_result pir;
    pir.data = d;
    pir.euicc_sign_pir = *sig;
    bytes der = asn1::encode(pir);
    // Only a result the SM-DP+ is waiting for is worth delivering.
    if (s.authenticated) {
        ctx.state.notifications.push_back(
            stored_notification{d.notification.seq_number, der, asn1::encode(d.notification)});
    }
    ctx.save();
    ctx.end_session();
    return der;
}

bytes fail(context& ctx, cmd c, reason r) {
    spdlog::info("euicc: BPP refused at command {} reason {}", static_cast<unsigned>(c),
                 static_cast<unsigned>(r));
    asn1::install_error_result e;
    e.bpp_command = c;
    e.reason = r;
    return installation_result(ctx, ctx.session.transaction_id, std::move(e));
}

reason bsp_reason(crypto::errc e) {
    return e == crypto::errc::invalid_length ? reason::scp03t_structure_error
                                             : reason::scp03t_security_error;
}

/// The command a piece out of order would have broken: the one expected next.
cmd expected_command(bpp_stage s) {
    switch (s) {
    case bpp_stage::after_isc:
        return cmd::configure_isdp;
    case bpp_stage::after_a0:
    case bpp_stage::in_a1:
        return cmd::store_metadata;
    case bpp_stage::after_a1:
    case bpp_stage::after_a2:
    case bpp_stage::in_a3:
        return cmd::load_profile_elements;
    default:
        return cmd::initialise_secure_channel;
    }
}

bytes allocate_isdp_aid(const context& ctx) {
    bytes aid = {0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0xFF,
                 0xFF, 0xFF, 0xFF, 0x89, 0x00, 0x00, 0x10, 0x00};
    for (unsigned n = 0x10; n <= 0xFF; ++n) {
        aid[14] = static_cast<std::uint8_t>(n);
        if (std::ranges::none_of(ctx.state.profiles,
                                 [&](const installed_profile& p) { return p.isdp_aid == aid; })) {
            break;
        }
    }
    return aid;
}

std::optional<bytes> initialise_secure_channel(context& ctx, byte_view piece, const tlv_header& h) {
    auto& s = ctx.session;
    const auto rest = piece.subspan(h.header_size);
    auto isc = asn1::decode_initialise_secure_channel_request(rest);
    if (!s.prepared || !s.otsk || !s.dppb) {
        if (!isc) {
            return std::nullopt;
        }
        // No session to bind to: the eUICC answers, but keeps nothing.
        asn1::install_error_result e{
            cmd::initialise_secure_channel, reason::invalid_transaction_id, std::nullopt, {}};
        return installation_result(ctx, isc->transaction_id, std::move(e));
    }
    s.bpp = bpp_progress{};
    if (!isc) {
        return fail(ctx, cmd::initialise_secure_channel, reason::incorrect_input_values);
    }
    if (isc->transaction_id != s.transaction_id) {
        return fail(ctx, cmd::initialise_secure_channel, reason::invalid_transaction_id);
    }
    if (isc->remote_op != asn1::remote_op_id::install_bound_profile_package) {
        return fail(ctx, cmd::initialise_secure_channel, reason::unsupported_remote_operation_type);
    }
    if (isc->crt.key_type != 0x88 || isc->crt.key_len != 0x10) {
        return fail(ctx, cmd::initialise_secure_channel, reason::unsupported_crt_values);
    }
    const bytes signed_part = concat({isc->signed_raw, asn1::encode(0x5F49, s.euicc_otpk)});
    if (!crypto::verify(s.dppb->key(), signed_part, isc->smdp_sign)) {
        return fail(ctx, cmd::initialise_secure_channel, reason::invalid_signature);
    }
    auto peer = crypto::public_key::from_point(s.otsk->key_curve(), isc->smdp_otpk);
    if (!peer) {
        return fail(ctx, cmd::initialise_secure_channel, reason::incorrect_input_values);
    }
    auto shared = crypto::ecdh(*s.otsk, *peer);
    // otSK.EUICC.ECKA is one-time: gone right after the key agreement, so a
    // replayed InitialiseSecureChannel can never derive session keys again.
    s.otsk.reset();
    if (!shared) {
        return fail(ctx, cmd::initialise_secure_channel, reason::incorrect_input_values);
    }
    auto keys = crypto::derive_bsp_session_keys(*shared, isc->crt.host_id, ctx.eid.value());
    crypto::secure_wipe(*shared);
    if (!keys) {
        return fail(ctx, cmd::initialise_secure_channel,
                    reason::install_failed_due_to_unknown_error);
    }
    s.bpp.bsp = crypto::bsp_session::create(*keys);
    s.bpp.stage = bpp_stage::after_isc;
    return bytes{};
}

/// Unwraps every encrypted segment (tag 87) inside a constructed piece (A0, A2).
std::optional<bytes> unwrap_all_87(context& ctx, byte_view piece, cmd c, bytes& plain) {
    auto whole = asn1::decode_single(piece);
    if (!whole) {
        return fail(ctx, c, reason::scp03t_structure_error);
    }
    asn1::reader r(whole->value, 1);
    bool any = false;
    while (!r.at_end()) {
        auto seg = r.next();
        if (!seg || seg->tag != 0x87) {
            return fail(ctx, c, reason::scp03t_structure_error);
        }
        auto u = ctx.session.bpp.bsp->unwrap_encrypted(seg->raw);
        if (!u) {
            return fail(ctx, c, bsp_reason(u.error().code));
        }
        plain.insert(plain.end(), u->data.begin(), u->data.end());
        any = true;
    }
    if (!any) {
        return fail(ctx, c, reason::scp03t_structure_error);
    }
    return std::nullopt;
}

std::optional<bytes> finish_metadata(context& ctx) {
    auto& b = ctx.session.bpp;
    auto md = asn1::decode_store_metadata_request(b.metadata_plain);
    if (!md) {
        return fail(ctx, cmd::store_metadata, reason::incorrect_input_values);
    }
    b.metadata = *md;
    b.metadata_der = b.metadata_plain;
    if (ctx.find_profile_by_iccid(md->iccid.to_string())) {
        return fail(ctx, cmd::store_metadata,
                    reason::install_failed_due_to_iccid_already_exists_on_euicc);
    }
    b.stage = bpp_stage::after_a1;
    return bytes{};
}

bytes finish_install(context& ctx) {
    auto& b = ctx.session.bpp;
    installed_profile p;
    p.iccid = b.metadata->iccid.to_string();
    p.isdp_aid = allocate_isdp_aid(ctx);
    p.metadata_der = b.metadata_der;
    p.dp_oid = !b.dp_oid.empty() ? b.dp_oid : ctx.session.smdp_oid;
    p.package_sha256 = crypto::sha256(b.profile_plain);
    p.package_size = b.profile_plain.size();
    ctx.state.profiles.push_back(p);
    spdlog::info("euicc: profile installed, ISD-P {}", to_hex_upper(p.isdp_aid));
    asn1::install_success_result ok;
    ok.aid = p.isdp_aid;
    ok.sima_response = sima_ok;
    return installation_result(ctx, ctx.session.transaction_id, std::move(ok));
}

std::optional<bytes> segment_88(context& ctx, const asn1::tlv& seg) {
    auto& b = ctx.session.bpp;
    if (seg.tag != 0x88 || seg.raw.size() > b.remaining) {
        return fail(ctx, cmd::store_metadata, reason::scp03t_structure_error);
    }
    auto u = b.bsp->unwrap_mac_only(seg.raw);
    if (!u) {
        return fail(ctx, cmd::store_metadata, bsp_reason(u.error().code));
    }
    b.metadata_plain.insert(b.metadata_plain.end(), u->data.begin(), u->data.end());
    b.remaining -= seg.raw.size();
    return b.remaining == 0 ? finish_metadata(ctx) : std::optional<bytes>(bytes{});
}

std::optional<bytes> segment_86(context& ctx, const asn1::tlv& seg) {
    auto& b = ctx.session.bpp;
    if (seg.tag != 0x86 || seg.raw.size() > b.remaining) {
        return fail(ctx, cmd::load_profile_elements, reason::scp03t_structure_error);
    }
    auto u = b.bsp->unwrap_encrypted(seg.raw);
    if (!u) {
        return fail(ctx, cmd::load_profile_elements, bsp_reason(u.error().code));
    }
    if (b.profile_plain.size() + u->data.size() > max_profile_size) {
        return fail(ctx, cmd::load_profile_elements,
                    reason::install_failed_due_to_insufficient_memory_for_profile);
    }
    b.profile_plain.insert(b.profile_plain.end(), u->data.begin(), u->data.end());
    b.remaining -= seg.raw.size();
    return b.remaining == 0 ? finish_install(ctx) : bytes{};
}

/// Segments carried after an A1/A3 header in the same piece, or alone.
std::optional<bytes> segments(context& ctx, byte_view data, bool metadata) {
    asn1::reader r(data, 1);
    std::optional<bytes> out = bytes{};
    while (!r.at_end()) {
        auto seg = r.next();
        if (!seg) {
            return fail(ctx, metadata ? cmd::store_metadata : cmd::load_profile_elements,
                        reason::scp03t_structure_error);
        }
        out = metadata ? segment_88(ctx, *seg) : segment_86(ctx, *seg);
        if (!out || !out->empty()) {
            return out; // a failure, or the final result: nothing after it counts
        }
        if (ctx.session.bpp.stage == bpp_stage::idle) {
            break;
        }
    }
    return out;
}

} // namespace

std::optional<bytes> load_bound_profile_package(context& ctx, byte_view piece) {
    const auto h = parse_tlv_header(piece);
    if (!h) {
        return std::nullopt;
    }
    if (h->tag == 0xBF36) {
        return initialise_secure_channel(ctx, piece, *h);
    }
    auto& b = ctx.session.bpp;
    if (b.stage == bpp_stage::idle || !b.bsp) {
        return std::nullopt; // not part of any download
    }
    const auto content = piece.subspan(h->header_size);
    switch (h->tag) {
    case 0xA0: {
        if (b.stage != bpp_stage::after_isc) {
            break;
        }
        bytes plain;
        if (auto refused = unwrap_all_87(ctx, piece, cmd::configure_isdp, plain)) {
            return refused;
        }
        auto conf = asn1::decode_configure_isdp_request(plain);
        if (!conf) {
            return fail(ctx, cmd::configure_isdp, reason::incorrect_input_values);
        }
        if (conf->dp_proprietary) {
            b.dp_oid = conf->dp_proprietary->dp_oid;
        }
        b.stage = bpp_stage::after_a0;
        return bytes{};
    }
    case 0xA1:
        if (b.stage != bpp_stage::after_a0 || h->length == 0 || content.size() > h->length) {
            break;
        }
        b.stage = bpp_stage::in_a1;
        b.remaining = h->length;
        return segments(ctx, content, true);
    case 0x88:
        if (b.stage != bpp_stage::in_a1) {
            break;
        }
        return segments(ctx, piece, true);
    case 0xA2: {
        if (b.stage != bpp_stage::after_a1) {
            break;
        }
        bytes plain;
        if (auto refused = unwrap_all_87(ctx, piece, cmd::replace_session_keys, plain)) {
            return refused;
        }
        auto rsk = asn1::decode_replace_session_keys_request(plain);
        crypto::secure_wipe(plain);
        if (!rsk || rsk->initial_mac_chaining_value.size() != 16 || rsk->ppk_enc.size() != 16 ||
            rsk->ppk_cmac.size() != 16) {
            return fail(ctx, cmd::replace_session_keys, reason::incorrect_input_values);
        }
        // The profile protection keys replace the session keys for the 86
        // segments, with a fresh block counter (SGP.22 §5.5.5).
        crypto::bsp_session_keys keys;
        std::ranges::copy(rsk->initial_mac_chaining_value, keys.initial_mac_chaining_value.begin());
        std::ranges::copy(rsk->ppk_enc, keys.s_enc.begin());
        std::ranges::copy(rsk->ppk_cmac, keys.s_mac.begin());
        crypto::secure_wipe(rsk->ppk_enc);
        crypto::secure_wipe(rsk->ppk_cmac);
        b.bsp = crypto::bsp_session::create(keys);
        b.stage = bpp_stage::after_a2;
        return bytes{};
    }
    case 0xA3:
        if ((b.stage != bpp_stage::after_a1 && b.stage != bpp_stage::after_a2) || h->length == 0 ||
            content.size() > h->length) {
            break;
        }
        b.stage = bpp_stage::in_a3;
        b.remaining = h->length;
        return segments(ctx, content, false);
    case 0x86:
        if (b.stage != bpp_stage::in_a3) {
            break;
        }
        return segments(ctx, piece, false);
    default:
        break;
    }
    return fail(ctx, expected_command(b.stage), reason::scp03t_structure_error);
}

} // namespace esimguard::euicc::detail
