#pragma once
/// ECKA (elliptic-curve key agreement, BSI TR-03111 ECKA-DH) for the BSP session
/// keys of SGP.22 §2.6.4.2. The one-time key pair of each side is a
/// private_key::generate(curve); its public_part().point() is sent to the peer.

#include "esimguard/core/bytes.hpp"
#include "esimguard/crypto/keys.hpp"

namespace esimguard::crypto {

/// Size of the shared secret (the x-coordinate) on a 256-bit curve.
inline constexpr std::size_t shared_secret_size = 32;

/// The x-coordinate of own·peer, 32 bytes big-endian, for a key held in memory
/// (HSM keys go through signer::ecdh). errc::invalid_key if `peer` is on another
/// curve. The caller must wipe the result (secure_wipe in mac.hpp) after the KDF.
[[nodiscard]] result<bytes> ecdh(const private_key& own, const public_key& peer);

} // namespace esimguard::crypto
