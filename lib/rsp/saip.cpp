// Minimal SAIP (TCA eUICC Profile Package: Interoperable Format Technical
// Specification, PE-Definitions v2/v3) builder and header reader, for the
// unprotected profile package of SGP.22 §2.5.4.
//
// PE-Definitions uses AUTOMATIC TAGS, so every ProfileElement CHOICE
// alternative is a context tag by position: header [0] A0, end [10] AA,
// mf [16] B0, usim [19] B3; fields inside each SEQUENCE likewise.

#include "esimguard/rsp/saip.hpp"

#include "esimguard/asn1/tlv.hpp"

#include <array>

namespace esimguard::rsp {
namespace {

using asn1::writer;

constexpr std::uint32_t pe_header = 0xA0;
constexpr std::uint32_t pe_end = 0xAA;
constexpr std::uint32_t pe_mf = 0xB0;
constexpr std::uint32_t pe_usim = 0xB3;

// Template OIDs (content octets): MF 2.23.143.1.2.1, ADF USIM 2.23.143.1.2.4.
constexpr std::array<std::uint8_t, 6> oid_mf_template{0x67, 0x81, 0x0F, 0x01, 0x02, 0x01};
constexpr std::array<std::uint8_t, 6> oid_usim_template{0x67, 0x81, 0x0F, 0x01, 0x02, 0x04};

// The USIM application AID (ETSI TS 101 220: RID A000000087, 1002 = USIM).
constexpr std::array<std::uint8_t, 16> usim_aid{0xA0, 0x00, 0x00, 0x00, 0x87, 0x10, 0x02, 0xFF,
                                                0xFF, 0xFF, 0xFF, 0x89, 0x07, 0x09, 0x00, 0x00};
// PIN status template DO of the ADF: PS_DO 40 (universal PIN disabled), key
// references 01 (PIN1) and 81 (second PIN1).
constexpr std::array<std::uint8_t, 9> usim_pin_status{0x90, 0x01, 0x40, 0x83, 0x01,
                                                      0x01, 0x83, 0x01, 0x81};

// PEHeader ::= SEQUENCE { mandated [0] NULL OPTIONAL, identification [1] UInt15 }
void pe_header_of(writer& w, std::uint32_t id) {
    w.begin(0xA0).add(0x80, {}).add_uint(0x81, id).end();
}

// An empty File (SEQUENCE OF with no element): the template's defaults apply.
void default_file(writer& w, std::uint32_t tag) {
    w.add(tag, {});
}

bool all_digits(std::string_view s) {
    for (char c : s) {
        if (c < '0' || c > '9') {
            return false;
        }
    }
    return true;
}

// EF.IMSI (3GPP TS 31.102 §4.2.2): length byte, then the digits in swapped
// BCD after a parity nibble (9 for an odd count, 1 for even), F-padded to 9 bytes.
bytes ef_imsi_content(std::string_view imsi) {
    std::vector<std::uint8_t> nibbles;
    nibbles.push_back(imsi.size() % 2 == 1 ? 0x9 : 0x1);
    for (char c : imsi) {
        nibbles.push_back(static_cast<std::uint8_t>(c - '0'));
    }
    if (nibbles.size() % 2 == 1) {
        nibbles.push_back(0xF);
    }
    bytes out;
    out.push_back(static_cast<std::uint8_t>(nibbles.size() / 2));
    for (std::size_t i = 0; i < nibbles.size(); i += 2) {
        out.push_back(static_cast<std::uint8_t>(nibbles[i] | (nibbles[i + 1] << 4)));
    }
    out.resize(9, 0xFF);
    return out;
}

std::unexpected<saip_error> refuse(std::string message) {
    return std::unexpected(saip_error{std::move(message)});
}

} // namespace

std::expected<bytes, saip_error> make_profile_package(const profile_package_params& p) {
    if (p.imsi.size() < 6 || p.imsi.size() > 15 || !all_digits(p.imsi)) {
        return refuse("the IMSI must be 6 to 15 decimal digits");
    }
    if (p.profile_type.empty() || p.profile_type.size() > 100) {
        return refuse("the profile type must be 1 to 100 characters");
    }
    writer w;

    // ProfileHeader
    w.begin(pe_header);
    w.add_uint(0x80, p.major_version);
    w.add_uint(0x81, p.minor_version);
    w.add(0x82, as_bytes(p.profile_type));
    w.add(0x83, p.iccid.der_value());
    w.begin(0xA5).add(0x81, {}).end(); // eUICC-Mandatory-services: usim [1] NULL
    w.begin(0xA6).add(0x06, oid_mf_template).add(0x06, oid_usim_template).end();
    w.end();

    // PE-MF: mf-header, templateID, mf, ef-iccid [4], ef-dir [5], ef-arr [6]
    w.begin(pe_mf);
    pe_header_of(w, 1);
    w.add(0x81, oid_mf_template);
    default_file(w, 0xA2);
    w.begin(0xA4).add(0x83, p.iccid.der_value()).end(); // fillFileContent [3]
    default_file(w, 0xA5);
    default_file(w, 0xA6);
    w.end();

    // PE-USIM: usim-header, templateID, adf-usim [2], ef-imsi [3], ef-arr [4],
    // then the mandatory ef-ust [8], ef-spn [13], ef-est [14], ef-acc [18], ef-ecc [22].
    w.begin(pe_usim);
    pe_header_of(w, 2);
    w.add(0x81, oid_usim_template);
    w.begin(0xA2).begin(0xA1); // fileDescriptor [1] Fcp
    const std::array<std::uint8_t, 2> adf_temporary_fid{0x7F, 0xF1};
    w.add(0x83, adf_temporary_fid).add(0x84, usim_aid).add(0xC6, usim_pin_status);
    w.end().end();
    w.begin(0xA3).add(0x83, ef_imsi_content(p.imsi)).end();
    default_file(w, 0xA4);
    default_file(w, 0xA8);
    default_file(w, 0xAD);
    default_file(w, 0xAE);
    default_file(w, 0xB2);
    default_file(w, 0xB6);
    w.end();

    // PE-End ::= SEQUENCE { end-header PEHeader }
    w.begin(pe_end);
    pe_header_of(w, 3);
    w.end();

    return std::move(w).finish();
}

std::expected<profile_header_info, saip_error> read_profile_header(byte_view der) {
    if (der.empty()) {
        return refuse("the profile package is empty");
    }
    if (auto v = asn1::validate(der); !v) {
        return refuse("the profile package is not a sequence of DER profile elements");
    }
    // Every top-level value must be a ProfileElement: a constructed
    // context-specific tag; the first the header, the last an End.
    asn1::reader top(der);
    std::optional<asn1::tlv> first;
    std::uint32_t last_tag = 0;
    while (!top.at_end()) {
        auto t = top.next();
        if (!t) {
            return refuse("the profile package is not a sequence of DER profile elements");
        }
        const std::uint32_t lead = t->tag > 0xFF ? (t->tag >> 8) : t->tag;
        if ((lead & 0xE0) != 0xA0) {
            return refuse("the profile package holds a value that is not a profile element");
        }
        if (!first) {
            first = *t;
        }
        last_tag = t->tag;
    }
    if (first->tag != pe_header) {
        return refuse("the profile package does not start with a ProfileHeader (A0)");
    }
    if (last_tag != pe_end) {
        return refuse("the profile package does not end with an End element (AA)");
    }

    auto inner = top.enter(*first);
    if (!inner) {
        return refuse("the ProfileHeader is not valid DER");
    }
    profile_header_info info;
    auto major = inner->expect(0x80, "major-version");
    auto major_v = major ? asn1::decode_uint(*major) : std::unexpected(major.error());
    if (!major_v || *major_v > 255) {
        return refuse("the ProfileHeader has no valid major-version");
    }
    auto minor = inner->expect(0x81, "minor-version");
    auto minor_v = minor ? asn1::decode_uint(*minor) : std::unexpected(minor.error());
    if (!minor_v || *minor_v > 255) {
        return refuse("the ProfileHeader has no valid minor-version");
    }
    if (*major_v != 2 && *major_v != 3) {
        return refuse("the profile package has an unsupported major version (2 or 3 expected)");
    }
    info.major_version = static_cast<std::uint8_t>(*major_v);
    info.minor_version = static_cast<std::uint8_t>(*minor_v);
    auto type = inner->next_if(0x82);
    if (!type) {
        return refuse("the ProfileHeader is not valid DER");
    }
    if (type->tag == 0x82) {
        if (type->value.empty() || type->value.size() > 100) {
            return refuse("the ProfileHeader's profileType is not 1 to 100 characters");
        }
        info.profile_type.assign(type->value.begin(), type->value.end());
    }
    auto iccid = inner->expect(0x83, "iccid");
    if (!iccid) {
        return refuse("the ProfileHeader has no iccid");
    }
    auto value = asn1::iccid_value::from_der_value(iccid->value);
    if (!value) {
        return refuse("the ProfileHeader's iccid is not a valid ICCID");
    }
    info.iccid = *value;
    return info;
}

} // namespace esimguard::rsp
