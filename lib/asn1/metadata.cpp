// StoreMetadataRequest (SGP.22 §5.5.3), NotificationMetadata (SGP.22 §5.7.10)
// and the parts nested in them, after the RSPDefinitions ASN.1 module
// (AUTOMATIC TAGS: untagged fields of untagged SEQUENCEs get [0], [1], ...).

#include "esimguard/asn1/metadata.hpp"

#include "message_parts2.hpp"

#include <bit>
#include <limits>

namespace esimguard::asn1 {

using codec2::fail;

namespace {

// An FQDN is at most 253 characters; a little slack for a port suffix.
constexpr std::size_t address_max = 255;
// DpProprietaryData: "maximum size including tag and length field: 128 bytes".
constexpr std::size_t dp_proprietary_data_max = 128;

result<notification_configuration_information> notification_configuration_body(reader r) {
    notification_configuration_information n;
    ESIMGUARD_M2_TRY(op, r.expect(0x80, "profileManagementOperation"));
    ESIMGUARD_M2_TRY(bits, codec2::bits(op, "profileManagementOperation"));
    n.profile_management_operation = std::move(bits);
    ESIMGUARD_M2_TRY(addr, r.expect(0x81, "notificationAddress"));
    ESIMGUARD_M2_TRY(addr_s, codec2::utf8(addr, address_max, "notificationAddress"));
    n.notification_address = std::move(addr_s);
    ESIMGUARD_M2_TRY(ext, codec2::extensions(r, {0x80, 0x81}, "notificationConfigurationInfo"));
    n.extensions = std::move(ext);
    return n;
}

std::size_t bits_set(const bit_string& b) {
    std::size_t n = 0;
    for (std::uint8_t x : b.data) {
        n += static_cast<std::size_t>(std::popcount(x));
    }
    return n;
}

result<notification_metadata> notification_metadata_body(reader r) {
    notification_metadata m;
    ESIMGUARD_M2_TRY(seq, r.expect(0x80, "seqNumber"));
    ESIMGUARD_M2_TRY(seq_v,
                     codec2::uint_max(seq, std::numeric_limits<std::uint64_t>::max(), "seqNumber"));
    m.seq_number = seq_v;
    ESIMGUARD_M2_TRY(op, r.expect(0x81, "profileManagementOperation"));
    ESIMGUARD_M2_TRY(bits, codec2::bits(op, "profileManagementOperation"));
    // SGP.22 §5.7.10: "Only one bit set to 1".
    if (bits_set(bits) != 1) {
        return fail(errc::invalid_value, op, "profileManagementOperation");
    }
    m.profile_management_operation = std::move(bits);
    ESIMGUARD_M2_TRY(addr, r.expect(codec2::tag_utf8_string, "notificationAddress"));
    ESIMGUARD_M2_TRY(addr_s, codec2::utf8(addr, address_max, "notificationAddress"));
    m.notification_address = std::move(addr_s);
    ESIMGUARD_M2_TRY(ic, r.next_if(codec2::tag_iccid));
    if (ic.tag != 0) {
        ESIMGUARD_M2_TRY(ic_v, decode_iccid(ic));
        m.iccid = ic_v;
    }
    ESIMGUARD_M2_TRY(ext, codec2::extensions(r, {0x80, 0x81}, "notificationMetadata"));
    m.extensions = std::move(ext);
    return m;
}

result<operator_id> operator_id_body(reader r) {
    operator_id o;
    ESIMGUARD_M2_TRY(mcc, r.expect(0x80, "mccMnc"));
    ESIMGUARD_M2_TRY(mcc_v, codec2::octets(mcc, 3, 3, "mccMnc"));
    o.mcc_mnc = std::move(mcc_v);
    ESIMGUARD_M2_TRY(g1, r.next_if(0x81));
    if (g1.tag != 0) {
        ESIMGUARD_M2_TRY(g1_v, codec2::octets(g1, 0, 255, "gid1"));
        o.gid1 = std::move(g1_v);
    }
    ESIMGUARD_M2_TRY(g2, r.next_if(0x82));
    if (g2.tag != 0) {
        ESIMGUARD_M2_TRY(g2_v, codec2::octets(g2, 0, 255, "gid2"));
        o.gid2 = std::move(g2_v);
    }
    ESIMGUARD_M2_TRY(ext, codec2::extensions(r, {0x80, 0x81, 0x82}, "operatorId"));
    o.extensions = std::move(ext);
    return o;
}

result<store_metadata_request> store_metadata_body(reader r) {
    store_metadata_request m;
    ESIMGUARD_M2_TRY(ic, r.expect(codec2::tag_iccid, "iccid"));
    ESIMGUARD_M2_TRY(ic_v, decode_iccid(ic));
    m.iccid = ic_v;
    ESIMGUARD_M2_TRY(spn, r.expect(0x91, "serviceProviderName"));
    ESIMGUARD_M2_TRY(spn_v, codec2::utf8(spn, service_provider_name_max, "serviceProviderName"));
    m.service_provider_name = std::move(spn_v);
    ESIMGUARD_M2_TRY(pn, r.expect(0x92, "profileName"));
    ESIMGUARD_M2_TRY(pn_v, codec2::utf8(pn, profile_name_max, "profileName"));
    m.profile_name = std::move(pn_v);
    ESIMGUARD_M2_TRY(it, r.next_if(0x93));
    if (it.tag != 0) {
        ESIMGUARD_M2_TRY(it_v, detail2::icon_type_of(it));
        m.icon_kind = it_v;
    }
    ESIMGUARD_M2_TRY(icon, r.next_if(0x94));
    if (icon.tag != 0) {
        // The icon "SHALL only be present if iconType is present".
        if (!m.icon_kind) {
            return fail(errc::missing_field, icon, "iconType");
        }
        ESIMGUARD_M2_TRY(icon_v, codec2::octets(icon, 0, icon_max, "icon"));
        m.icon = std::move(icon_v);
    }
    ESIMGUARD_M2_TRY(pc, r.next_if(0x95));
    if (pc.tag != 0) {
        ESIMGUARD_M2_TRY(pc_v, detail2::profile_class_of(pc));
        m.klass = pc_v;
    }
    ESIMGUARD_M2_TRY(nci, r.next_if(0xB6));
    if (nci.tag != 0) {
        ESIMGUARD_M2_TRY(nci_v, detail2::notification_configuration_list_of(r, nci));
        m.notification_configuration_info = std::move(nci_v);
    }
    ESIMGUARD_M2_TRY(owner, r.next_if(0xB7));
    if (owner.tag != 0) {
        ESIMGUARD_M2_TRY(owner_v, detail2::operator_id_of(r, owner));
        m.profile_owner = std::move(owner_v);
    }
    ESIMGUARD_M2_TRY(ppr, r.next_if(0x99));
    if (ppr.tag != 0) {
        ESIMGUARD_M2_TRY(ppr_v, codec2::bits(ppr, "profilePolicyRules"));
        m.profile_policy_rules = std::move(ppr_v);
    }
    ESIMGUARD_M2_TRY(ext, codec2::extensions(r, {0x91, 0x92, 0x93, 0x94, 0x95, 0xB6, 0xB7, 0x99},
                                             "storeMetadataRequest"));
    m.extensions = std::move(ext);
    return m;
}

} // namespace

namespace detail2 {

result<icon_type> icon_type_of(const tlv& t) {
    ESIMGUARD_M2_TRY(v, codec2::uint_max(t, 1, "iconType"));
    return static_cast<icon_type>(v);
}

result<profile_class> profile_class_of(const tlv& t) {
    ESIMGUARD_M2_TRY(v, codec2::uint_max(t, 2, "profileClass"));
    return static_cast<profile_class>(v);
}

result<notification_metadata> notification_metadata_of(const reader& parent, const tlv& t) {
    ESIMGUARD_M2_TRY(r, codec2::enter(parent, t, "notificationMetadata"));
    return notification_metadata_body(r);
}

void put(writer& w, const notification_metadata& m) {
    w.begin(0xBF2F);
    w.add_uint(0x80, m.seq_number);
    codec2::put_bits(w, 0x81, m.profile_management_operation);
    w.add(codec2::tag_utf8_string, as_bytes(m.notification_address));
    if (m.iccid) {
        w.add(codec2::tag_iccid, m.iccid->der_value());
    }
    codec2::put_extensions(w, m.extensions);
    w.end();
}

result<operator_id> operator_id_of(const reader& parent, const tlv& t) {
    ESIMGUARD_M2_TRY(r, codec2::enter(parent, t, "operatorId"));
    return operator_id_body(r);
}

void put(writer& w, std::uint32_t tag, const operator_id& o) {
    w.begin(tag);
    w.add(0x80, o.mcc_mnc);
    if (o.gid1) {
        w.add(0x81, *o.gid1);
    }
    if (o.gid2) {
        w.add(0x82, *o.gid2);
    }
    codec2::put_extensions(w, o.extensions);
    w.end();
}

result<std::vector<notification_configuration_information>>
notification_configuration_list_of(const reader& parent, const tlv& t) {
    ESIMGUARD_M2_TRY(r, codec2::enter(parent, t, "notificationConfigurationInfo"));
    std::vector<notification_configuration_information> out;
    while (!r.at_end()) {
        ESIMGUARD_M2_TRY(item, r.expect(codec2::tag_sequence, "notificationConfigurationInfo"));
        ESIMGUARD_M2_TRY(ir, codec2::enter(r, item, "notificationConfigurationInfo"));
        ESIMGUARD_M2_TRY(n, notification_configuration_body(ir));
        out.push_back(std::move(n));
    }
    return out;
}

void put(writer& w, const std::vector<notification_configuration_information>& list) {
    w.begin(0xB6);
    for (const auto& n : list) {
        w.begin(codec2::tag_sequence);
        codec2::put_bits(w, 0x80, n.profile_management_operation);
        w.add(0x81, as_bytes(n.notification_address));
        codec2::put_extensions(w, n.extensions);
        w.end();
    }
    w.end();
}

result<dp_proprietary_data> dp_proprietary_data_of(const reader& parent, const tlv& t) {
    if (t.raw.size() > dp_proprietary_data_max) {
        return fail(errc::invalid_value, t, "dpProprietaryData");
    }
    ESIMGUARD_M2_TRY(r, codec2::enter(parent, t, "dpProprietaryData"));
    dp_proprietary_data d;
    ESIMGUARD_M2_TRY(oid, r.expect(codec2::tag_oid, "dpOid"));
    ESIMGUARD_M2_TRY(oid_v, codec2::object_identifier(oid, "dpOid"));
    d.dp_oid = std::move(oid_v);
    // "additional data objects defined by the SM-DP+ MAY follow": any tag.
    while (!r.at_end()) {
        ESIMGUARD_M2_TRY(more, r.next());
        d.additional.push_back(to_bytes(more.raw));
    }
    return d;
}

void put(writer& w, const dp_proprietary_data& d) {
    w.begin(0xB8);
    w.add(codec2::tag_oid, d.dp_oid);
    codec2::put_extensions(w, d.additional);
    w.end();
}

} // namespace detail2

result<store_metadata_request> decode_store_metadata_request(byte_view der) {
    ESIMGUARD_M2_TRY(o, codec2::open_top(der, 0xBF25, "storeMetadataRequest"));
    return store_metadata_body(o.r);
}

bytes encode(const store_metadata_request& m) {
    writer w;
    w.begin(0xBF25);
    w.add(codec2::tag_iccid, m.iccid.der_value());
    w.add(0x91, as_bytes(m.service_provider_name));
    w.add(0x92, as_bytes(m.profile_name));
    if (m.icon_kind) {
        w.add_uint(0x93, static_cast<std::uint64_t>(*m.icon_kind));
    }
    if (m.icon) {
        w.add(0x94, *m.icon);
    }
    if (m.klass) {
        w.add_uint(0x95, static_cast<std::uint64_t>(*m.klass));
    }
    if (m.notification_configuration_info) {
        detail2::put(w, *m.notification_configuration_info);
    }
    if (m.profile_owner) {
        detail2::put(w, 0xB7, *m.profile_owner);
    }
    if (m.profile_policy_rules) {
        codec2::put_bits(w, 0x99, *m.profile_policy_rules);
    }
    codec2::put_extensions(w, m.extensions);
    w.end();
    return std::move(w).finish();
}

result<notification_metadata> decode_notification_metadata(byte_view der) {
    ESIMGUARD_M2_TRY(o, codec2::open_top(der, 0xBF2F, "notificationMetadata"));
    return notification_metadata_body(o.r);
}

bytes encode(const notification_metadata& m) {
    writer w;
    detail2::put(w, m);
    return std::move(w).finish();
}

} // namespace esimguard::asn1
