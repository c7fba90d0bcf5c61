#pragma once
/// Message authentication codes, constant-time comparison and wiping of secrets.

#include "esimguard/core/bytes.hpp"
#include "esimguard/crypto/keys.hpp"

namespace esimguard::crypto {

/// AES-CMAC (NIST SP 800-38B, RFC 4493) with a 16-byte AES-128 key; the full 16-byte
/// tag. errc::invalid_length if the key is not 16 bytes.
[[nodiscard]] result<bytes> aes_cmac(byte_view key, byte_view data);

/// HMAC-SHA256 (RFC 2104), 32 bytes. Any key length.
[[nodiscard]] result<bytes> hmac_sha256(byte_view key, byte_view data);

/// HMAC-SHA1 (RFC 2104, RFC 2202), 20 bytes. Any key length. Only for TOTP/HOTP
/// (RFC 6238/4226), whose authenticator apps default to it; HMAC-SHA1 is still
/// a sound PRF even though SHA-1 collisions are practical.
[[nodiscard]] result<bytes> hmac_sha1(byte_view key, byte_view data);

/// Compares in time that depends only on the lengths (CRYPTO_memcmp): for MACs,
/// hashCc and anything else a guesser could probe byte by byte. Different lengths
/// compare unequal.
bool constant_time_equal(byte_view a, byte_view b);

/// Overwrites the contents of `b` with zeros in a way the compiler may not elide.
void secure_wipe(bytes& b);

} // namespace esimguard::crypto
