#pragma once
/// A minimal SAIP builder and reader: the TCA eUICC Profile Package
/// (Interoperable Format, PE-Definitions v2/v3) that an operator hands the
/// SM-DP+ as the unprotected profile package (SGP.22 §2.5.4).
///
/// The package is a concatenation of ProfileElement CHOICE values, each a
/// DER TLV: a ProfileHeader ([0], A0) first, then the file system and
/// applications, and an End ([10], AA) last.

#include "esimguard/asn1/iccid.hpp"
#include "esimguard/core/bytes.hpp"

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

namespace esimguard::rsp {

/// What make_profile_package puts in the profile.
struct profile_package_params {
    asn1::iccid_value iccid;
    std::string imsi;                       ///< 6 to 15 decimal digits
    std::string profile_type = "esimguard"; ///< ProfileHeader.profileType (UTF8String)
    std::uint8_t major_version = 2;         ///< PE-Definitions major version
    std::uint8_t minor_version = 3;         ///< PE-Definitions minor version
};

/// What esimguard reads from a package's ProfileHeader.
struct profile_header_info {
    asn1::iccid_value iccid;
    std::string profile_type; ///< empty when the header carries none
    std::uint8_t major_version = 0;
    std::uint8_t minor_version = 0;

    bool operator==(const profile_header_info&) const = default;
};

/// A refusal with a sentence naming what is wrong.
struct saip_error {
    std::string message;
};

/// Builds the DER of a small, valid unprotected profile package: header
/// (mandatory services: usim; mandatory GFSTE: MF and USIM templates), MF
/// with EF.ICCID, USIM ADF with EF.IMSI, End. Refuses a bad IMSI.
[[nodiscard]] std::expected<bytes, saip_error>
make_profile_package(const profile_package_params& params);

/// Reads the ProfileHeader of a package: the input must be a sequence of
/// well-formed TLVs, the first one a ProfileHeader (A0) with major-version,
/// minor-version and iccid, of a major version esimguard knows (2 or 3).
/// Anything else (a BPP, a random TLV, garbage) is refused.
[[nodiscard]] std::expected<profile_header_info, saip_error> read_profile_header(byte_view der);

} // namespace esimguard::rsp
