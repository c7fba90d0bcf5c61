#pragma once
/// ECDSA with SHA-256 on the SGP.22 curves: verification, and conversion between
/// the two signature encodings SGP.22 uses (raw r‖s inside its own structures,
/// DER ECDSA-Sig-Value inside X.509).

#include "esimguard/core/bytes.hpp"
#include "esimguard/crypto/keys.hpp"

namespace esimguard::crypto {

/// Size of a raw r‖s signature on a 256-bit curve (BSI TR-03111 plain format).
inline constexpr std::size_t raw_signature_size = 64;

/// Verifies an ECDSA-SHA256 signature given as raw r‖s (64 bytes) over `message`.
/// Success means the signature verifies. errc::invalid_signature: not 64 bytes;
/// errc::signature_mismatch: well-formed but wrong (including r or s zero or ≥ the
/// curve order). Test the result itself, never a value inside it.
[[nodiscard]] result<void> verify(const public_key& key, byte_view message,
                                  byte_view raw_signature);

/// As verify(), for a DER ECDSA-Sig-Value. errc::invalid_signature for any DER that
/// is not the one strict encoding (trailing bytes, non-minimal integers, ...).
[[nodiscard]] result<void> verify_der(const public_key& key, byte_view message,
                                      byte_view der_signature);

/// Raw r‖s (exactly 64 bytes) to DER ECDSA-Sig-Value. errc::invalid_signature on a
/// wrong size. Values are not range-checked: verification does that.
[[nodiscard]] result<bytes> signature_raw_to_der(byte_view raw);

/// Strict DER ECDSA-Sig-Value to raw r‖s (64 bytes). errc::invalid_signature on
/// malformed DER, negative integers or integers longer than 32 bytes.
[[nodiscard]] result<bytes> signature_der_to_raw(byte_view der);

} // namespace esimguard::crypto
