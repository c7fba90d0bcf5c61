#pragma once
/// Small value types shared by the SGP.22 (RSPDefinitions) message types:
/// versions, challenges, raw signatures, transaction IDs, named bit strings.

#include "esimguard/core/bytes.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <vector>

namespace esimguard::asn1 {

/// VersionType: major, minor, revision as three binary bytes ('02 02 02' is v2.2.2).
using version_type = std::array<std::uint8_t, 3>;

/// Octet16 challenge (euiccChallenge, serverChallenge), fresh random per session.
using challenge = std::array<std::uint8_t, 16>;

/// A signature inside an SGP.22 structure ([APPLICATION 55], tag 5F37): raw
/// r‖s of ECDSA on a 256-bit curve (BSI TR-03111), not a DER ECDSA-Sig-Value.
using raw_signature = std::array<std::uint8_t, 64>;

/// Shortest and longest TransactionId (OCTET STRING (SIZE(1..16)), chosen by
/// the SM-DP+) the decoders accept.
inline constexpr std::size_t transaction_id_min = 1;
inline constexpr std::size_t transaction_id_max = 16;

/// A DER Certificate (X.509) kept as the exact bytes received, tag 30 included.
/// The crypto module parses it; the codec only checks it is one TLV tagged 30.
using der_certificate = bytes;

/// SubjectKeyIdentifier of a CI public key (usually 20 bytes).
using key_identifier = bytes;

/// Elements after the known ones of an extensible SEQUENCE (SGP.22 modules
/// use EXTENSIBILITY IMPLIED), each one complete TLV as received. Kept so
/// that a value from a newer peer re-encodes to the bytes it came as.
using extension_list = std::vector<bytes>;

/// A BIT STRING with named bits (UICCCapability, RspCapability, PprIds).
/// Bit 0 is the most significant bit of the first data byte, as in ASN.1.
struct bit_string {
    std::uint8_t unused_bits = 0; ///< unused bits in the last byte (0..7)
    bytes data;                   ///< the bits, padded to whole bytes

    /// Whether named bit `bit` is set; bits past the end read as clear.
    bool test(std::size_t bit) const {
        const std::size_t total = data.size() * 8 - (data.empty() ? 0 : unused_bits);
        if (bit >= total) {
            return false;
        }
        return (data[bit / 8] & (0x80u >> (bit % 8))) != 0;
    }

    /// The DER form of a named bit list with exactly these bits set: trailing
    /// zero bits removed (X.690 §11.2.2), so the encoding is canonical.
    static bit_string from_bits(std::initializer_list<std::size_t> bits) {
        bit_string b;
        std::size_t highest = 0;
        bool any = false;
        for (auto n : bits) {
            if (!any || n > highest) {
                highest = n;
            }
            any = true;
        }
        if (!any) {
            return b;
        }
        b.data.assign(highest / 8 + 1, 0);
        for (auto n : bits) {
            b.data[n / 8] |= static_cast<std::uint8_t>(0x80u >> (n % 8));
        }
        b.unused_bits = static_cast<std::uint8_t>(7 - highest % 8);
        return b;
    }

    bool operator==(const bit_string&) const = default;
};

} // namespace esimguard::asn1
