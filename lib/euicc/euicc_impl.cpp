// The ISD-R: construction, the ES10 dispatcher (by the command's outer tag,
// SGP.22 §5.7) and the helpers the procedures share.

#include "context.hpp"

#include "esimguard/asn1/euicc_info.hpp"
#include "esimguard/asn1/notifications.hpp"
#include "esimguard/crypto/ecdsa.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

namespace esimguard::euicc {
namespace detail {

crypto::sys_seconds context::now() const {
    if (config.clock) {
        return config.clock();
    }
    return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
}

std::optional<asn1::raw_signature> context::sign(byte_view message) const {
    auto sig = key->sign(message);
    if (!sig || sig->size() != 64) {
        spdlog::error("euicc: signing failed");
        return std::nullopt;
    }
    asn1::raw_signature out{};
    std::copy(sig->begin(), sig->end(), out.begin());
    return out;
}

bool context::save() {
    // An empty path: a volatile card (state in memory only, lost with it).
    return state_path.empty() || save_state(state_path, state);
}

std::vector<bytes> context::ci_key_ids() const {
    std::vector<bytes> ids;
    for (const auto& ci : cis) {
        ids.push_back(ci.subject_key_id().value_or(ci.key().key_id()));
    }
    return ids;
}

asn1::euicc_info1 context::info1() const {
    asn1::euicc_info1 i;
    i.svn = config.info.svn;
    i.ci_pkid_list_for_verification = ci_key_ids();
    i.ci_pkid_list_for_signing = ci_key_ids();
    return i;
}

asn1::euicc_info2 context::info2() const {
    const auto& v = config.info;
    asn1::euicc_info2 i;
    i.profile_version = v.profile_version;
    i.svn = v.svn;
    i.euicc_firmware_ver = v.firmware_version;
    // Free non-volatile memory and free volatile memory as TS 102 226 tags
    // 81 (installed applications), 82 (free NVM), 83 (free RAM).
    i.ext_card_resource = v.ext_card_resource.empty() ? bytes{0x81, 0x01, 0x00, 0x82, 0x03, 0x04,
                                                              0x00, 0x00, 0x83, 0x02, 0x20, 0x00}
                                                      : v.ext_card_resource;
    // contactlessSupport(0)... ; usimSupport(1)? The common set: gsm, utran,
    // usim, isim, csim absent, javacard, gba... A plausible UICC capability.
    i.uicc_capability = asn1::bit_string::from_bits({0, 1, 2, 4, 5, 6, 7, 8, 9, 10});
    i.ts102241_version = v.ts102241_version;
    i.globalplatform_version = v.globalplatform_version;
    i.rsp_capability = asn1::bit_string::from_bits({0, 3});
    i.ci_pkid_list_for_verification = ci_key_ids();
    i.ci_pkid_list_for_signing = ci_key_ids();
    i.euicc_category = v.category;
    i.pp_version = v.pp_version;
    i.sas_accreditation_number = v.sas_accreditation_number;
    return i;
}

installed_profile* context::find_profile(const asn1::profile_identifier& id) {
    for (auto& p : state.profiles) {
        if (const auto* aid = std::get_if<asn1::isdp_aid>(&id)) {
            if (aid->value == p.isdp_aid) {
                return &p;
            }
        } else if (std::get<asn1::iccid_value>(id).to_string() == p.iccid) {
            return &p;
        }
    }
    return nullptr;
}

installed_profile* context::find_profile_by_iccid(const std::string& iccid) {
    for (auto& p : state.profiles) {
        if (p.iccid == iccid) {
            return &p;
        }
    }
    return nullptr;
}

void context::add_profile_notification(const installed_profile& p,
                                       asn1::notification_event_bit event) {
    auto md = stored_metadata(p);
    if (!md || !md->notification_configuration_info) {
        return;
    }
    for (const auto& nci : *md->notification_configuration_info) {
        if (!nci.profile_management_operation.test(event)) {
            continue;
        }
        asn1::notification_metadata meta;
        meta.seq_number = state.next_seq_number++;
        meta.profile_management_operation = asn1::bit_string::from_bits({event});
        meta.notification_address = nci.notification_address;
        meta.iccid = md->iccid;
        const bytes tbs = asn1::encode(meta);
        auto sig = sign(tbs);
        if (!sig) {
            continue;
        }
        asn1::other_signed_notification n;
        n.tbs_other_notification = meta;
        n.euicc_notification_signature = *sig;
        n.euicc_certificate = euicc_cert.der();
        n.eum_certificate = eum_cert.der();
        state.notifications.push_back(stored_notification{meta.seq_number, asn1::encode(n), tbs});
    }
}

std::optional<tlv_header> parse_tlv_header(byte_view data) {
    tlv_header h;
    std::size_t pos = 0;
    if (data.empty()) {
        return std::nullopt;
    }
    h.tag = data[pos++];
    if ((h.tag & 0x1F) == 0x1F) {
        // High tag number: continuation bytes while bit 8 is set, at most 3.
        for (int i = 0;; ++i) {
            if (pos >= data.size() || i >= 3) {
                return std::nullopt;
            }
            const auto b = data[pos++];
            h.tag = (h.tag << 8) | b;
            if ((b & 0x80) == 0) {
                break;
            }
        }
    }
    if (pos >= data.size()) {
        return std::nullopt;
    }
    const auto first = data[pos++];
    if (first < 0x80) {
        h.length = first;
    } else {
        const std::size_t n = first & 0x7F;
        if (n == 0 || n > 3 || pos + n > data.size()) {
            return std::nullopt;
        }
        for (std::size_t i = 0; i < n; ++i) {
            h.length = (h.length << 8) | data[pos++];
        }
    }
    h.header_size = pos;
    return h;
}

std::optional<bytes> registered_id(byte_view der) {
    // Certificate → tbsCertificate → [3] extensions → the subjectAltName
    // extension (2.5.29.17) → GeneralNames → registeredID [8].
    auto cert = asn1::decode_single(der);
    if (!cert || cert->tag != 0x30) {
        return std::nullopt;
    }
    asn1::reader top(cert->value, 1);
    auto tbs = top.next();
    if (!tbs || tbs->tag != 0x30) {
        return std::nullopt;
    }
    asn1::reader fields(tbs->value, 2);
    while (!fields.at_end()) {
        auto f = fields.next();
        if (!f) {
            return std::nullopt;
        }
        if (f->tag != 0xA3) {
            continue;
        }
        asn1::reader ext_outer(f->value, 3);
        auto exts = ext_outer.next();
        if (!exts || exts->tag != 0x30) {
            return std::nullopt;
        }
        asn1::reader list(exts->value, 4);
        while (!list.at_end()) {
            auto ext = list.next();
            if (!ext || ext->tag != 0x30) {
                return std::nullopt;
            }
            asn1::reader parts(ext->value, 5);
            auto oid = parts.next();
            static constexpr std::uint8_t san_oid[] = {0x55, 0x1D, 0x11};
            if (!oid || oid->tag != 0x06 || !std::ranges::equal(oid->value, san_oid)) {
                continue;
            }
            auto value = parts.next();
            if (value && value->tag == 0x01) {
                value = parts.next();
            }
            if (!value || value->tag != 0x04) {
                return std::nullopt;
            }
            auto names = asn1::decode_single(value->value);
            if (!names || names->tag != 0x30) {
                return std::nullopt;
            }
            asn1::reader gn(names->value, 1);
            while (!gn.at_end()) {
                auto n = gn.next();
                if (!n) {
                    return std::nullopt;
                }
                if (n->tag == 0x88) {
                    return to_bytes(n->value);
                }
            }
        }
    }
    return std::nullopt;
}

std::optional<asn1::store_metadata_request> stored_metadata(const installed_profile& p) {
    auto m = asn1::decode_store_metadata_request(p.metadata_der);
    if (!m) {
        return std::nullopt;
    }
    return *m;
}

namespace {

class euicc_impl final : public euicc {
public:
    explicit euicc_impl(std::unique_ptr<context> ctx) : ctx_(std::move(ctx)) {}

    bytes handle_es10(byte_view request) override {
        return try_handle_es10(request).value_or(bytes{});
    }

    std::optional<bytes> try_handle_es10(byte_view request) override {
        const auto h = parse_tlv_header(request);
        if (!h) {
            return std::nullopt;
        }
        switch (h->tag) {
        case 0xBF36:
        case 0xA0:
        case 0xA1:
        case 0xA2:
        case 0xA3:
        case 0x86:
        case 0x88:
            return load_bound_profile_package(*ctx_, request);
        default:
            break;
        }
        // Every other function is one complete TLV; its own decoder judges
        // the content, so that a malformed one gets that function's error.
        if (h->header_size + h->length != request.size()) {
            return std::nullopt;
        }
        switch (h->tag) {
        case 0xBF2E:
            return get_euicc_challenge(*ctx_, request);
        case 0xBF20:
            return get_euicc_info1(*ctx_, request);
        case 0xBF22:
            return get_euicc_info2(*ctx_, request);
        case 0xBF38:
            return authenticate_server(*ctx_, request);
        case 0xBF21:
            return prepare_download(*ctx_, request);
        case 0xBF41:
            return cancel_session(*ctx_, request);
        case 0xBF28:
            return list_notification(*ctx_, request);
        case 0xBF2B:
            return retrieve_notifications_list(*ctx_, request);
        case 0xBF30:
            return remove_notification_from_list(*ctx_, request);
        case 0xBF2D:
            return get_profiles_info(*ctx_, request);
        case 0xBF31:
            return enable_profile(*ctx_, request);
        case 0xBF32:
            return disable_profile(*ctx_, request);
        case 0xBF33:
            return delete_profile(*ctx_, request);
        case 0xBF34:
            return euicc_memory_reset(*ctx_, request);
        case 0xBF3E:
            return get_eid(*ctx_, request);
        case 0xBF29:
            return set_nickname(*ctx_, request);
        case 0xBF3C:
            return get_euicc_configured_addresses(*ctx_, request);
        case 0xBF3F:
            return set_default_dp_address(*ctx_, request);
        case 0xBF43:
            return get_rat(*ctx_, request);
        default:
            return std::nullopt;
        }
    }

    const std::string& eid() const override { return ctx_->config.eid; }
    std::vector<installed_profile> profiles() const override { return ctx_->state.profiles; }
    std::vector<stored_notification> notifications() const override {
        return ctx_->state.notifications;
    }
    void reset_session() override { ctx_->end_session(); }

private:
    std::unique_ptr<context> ctx_;
};

} // namespace
} // namespace detail

euicc_result<std::unique_ptr<euicc>> create_euicc(euicc_config config,
                                                  const std::filesystem::path& state_path) {
    using code = euicc_error::code;
    auto eid = asn1::eid_value::parse(config.eid);
    if (!eid) {
        return std::unexpected(euicc_error{code::bad_config, "EID is not 32 digits"});
    }
    auto ec = crypto::certificate::from_der(config.euicc_certificate_der);
    if (!ec) {
        return std::unexpected(
            euicc_error{code::bad_certificate, "eUICC certificate: " + ec.error().detail});
    }
    auto um = crypto::certificate::from_der(config.eum_certificate_der);
    if (!um) {
        return std::unexpected(
            euicc_error{code::bad_certificate, "EUM certificate: " + um.error().detail});
    }
    if (ec->subject_serial_number() != config.eid) {
        return std::unexpected(euicc_error{
            code::bad_config, "the EID differs from the eUICC certificate's serialNumber"});
    }
    std::vector<crypto::certificate> cis;
    for (const auto& der : config.trusted_ci_certificates_der) {
        auto c = crypto::certificate::from_der(der);
        if (!c) {
            return std::unexpected(
                euicc_error{code::bad_certificate, "CI certificate: " + c.error().detail});
        }
        cis.push_back(std::move(*c));
    }
    if (cis.empty()) {
        return std::unexpected(euicc_error{code::bad_config, "no trusted CI certificate"});
    }
    std::shared_ptr<const crypto::signer> key = config.key;
    if (!key) {
        auto k = crypto::private_key::from_pem(config.private_key_pem);
        if (!k) {
            return std::unexpected(euicc_error{code::bad_key, "eUICC private key unreadable"});
        }
        key = crypto::create_software_signer(std::move(*k));
        config.private_key_pem.clear();
    }
    if (key->public_part().point() != ec->key().point()) {
        return std::unexpected(
            euicc_error{code::bad_key, "the private key does not match the eUICC certificate"});
    }
    auto state = state_path.empty() ? euicc_result<detail::persistent_state>{}
                                    : detail::load_state(state_path);
    if (!state) {
        return std::unexpected(state.error());
    }
    auto random =
        config.random
            ? config.random
            : std::shared_ptr<crypto::random_source>(crypto::create_system_random_source());
    if (!state->default_dp_address) {
        state->default_dp_address = config.info.default_dp_address;
    }
    auto ctx = std::make_unique<detail::context>(std::move(config), std::move(key), std::move(*ec),
                                                 std::move(*um), std::move(cis), *eid, state_path);
    ctx->state = std::move(*state);
    ctx->random = std::move(random);
    return std::make_unique<detail::euicc_impl>(std::move(ctx));
}

} // namespace esimguard::euicc
