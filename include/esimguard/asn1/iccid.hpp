#pragma once
/// ICCID and EID values with their DER content forms (SGP.22 §2.4, ITU-T E.118).

#include "esimguard/asn1/tlv.hpp"
#include "esimguard/core/bytes.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace esimguard::asn1 {

/// An ICCID: 18 to 20 decimal digits. In DER (Iccid, tag 5A) it is 10 bytes of
/// BCD with the two digits of each byte swapped and 'F' padding after the
/// last digit, as in EF.ICCID: "8944..." is coded 98 44 .... Always valid once
/// constructed; the default value is twenty zeros.
class iccid_value {
public:
    iccid_value() = default;

    /// Parses 18 to 20 decimal digits (errc::invalid_value otherwise).
    [[nodiscard]] static result<iccid_value> parse(std::string_view digits);
    /// Reads the 10-byte DER content: digits 0-9, then only 'F' nibbles up to
    /// the end, 18 to 20 digits in all (errc::invalid_value otherwise).
    [[nodiscard]] static result<iccid_value> from_der_value(byte_view content);

    /// The digits, without padding.
    std::string to_string() const;
    /// The 10-byte DER content (nibble-swapped, F-padded).
    byte_view der_value() const { return content_; }

    bool operator==(const iccid_value&) const = default;

private:
    std::array<std::uint8_t, 10> content_{};
};

/// Decodes an ICCID from a TLV that must carry tag 5A ([APPLICATION 26]).
[[nodiscard]] result<iccid_value> decode_iccid(const tlv& t);
/// Encodes an ICCID as a complete 5A TLV.
[[nodiscard]] bytes encode(const iccid_value& v);

/// An EID: 32 decimal digits, 16 bytes of plain (unswapped) BCD in DER, as
/// GetEuiccDataResponse (BF3E { 5A }) carries it and as printed: "89049032...".
class eid_value {
public:
    eid_value() = default;

    /// Parses 32 decimal digits (errc::invalid_value otherwise).
    [[nodiscard]] static result<eid_value> parse(std::string_view digits);
    /// Reads 16 bytes of BCD; every nibble must be a decimal digit.
    [[nodiscard]] static result<eid_value> from_bytes(byte_view content);

    /// The 32 digits.
    std::string to_string() const;
    /// The 16 bytes.
    byte_view value() const { return content_; }
    /// Whether the last two digits are the ISO 7064 MOD 97-10 check digits
    /// (the 32-digit number mod 97 is 1), as GSMA SGP.29 assigns them. Not
    /// checked by parse(): test eUICCs often carry EIDs without them.
    bool check_digits_ok() const;

    bool operator==(const eid_value&) const = default;

private:
    std::array<std::uint8_t, 16> content_{};
};

} // namespace esimguard::asn1
