#pragma once
/// Key derivation: the ANSI X9.63 KDF and the BSP session keys of SGP.22 §2.6.4.2.

#include "esimguard/core/bytes.hpp"
#include "esimguard/crypto/keys.hpp"

#include <array>
#include <cstdint>

namespace esimguard::crypto {

/// ANSI X9.63 KDF (SEC 1 §3.6.1) with SHA-256: SHA-256(Z ‖ counter ‖ shared_info) for
/// counter = 1, 2, … as 32-bit big-endian, concatenated and cut to `length` bytes.
/// errc::invalid_length if `length` is 0 or over 64 KiB (no SGP.22 use needs more).
/// The caller must wipe the output (secure_wipe) once the keys are in place.
[[nodiscard]] result<bytes> x963_kdf_sha256(byte_view shared_secret, byte_view shared_info,
                                            std::size_t length);

/// The three 16-byte AES-128 values that protect one bound profile package.
/// Wiped on destruction.
struct bsp_session_keys {
    std::array<std::uint8_t, 16> initial_mac_chaining_value{};
    std::array<std::uint8_t, 16> s_enc{};
    std::array<std::uint8_t, 16> s_mac{};

    bsp_session_keys() = default;
    bsp_session_keys(const bsp_session_keys&) = default;
    bsp_session_keys& operator=(const bsp_session_keys&) = default;
    ~bsp_session_keys();

    /// Splits the 48 KDF output bytes in the order SGP.22 §2.6.4.2 gives:
    /// initial MAC chaining value, S-ENC, S-MAC. errc::invalid_length unless 48 bytes.
    [[nodiscard]] static result<bsp_session_keys> from_kdf_output(byte_view kdf_output);
};

/// The KDF shared info of SGP.22 §2.6.4.2: key type 0x88 ‖ key length 0x10 ‖
/// L(hostId) ‖ hostId ‖ L(EID) ‖ EID, lengths BER-TLV encoded. `host_id` is the
/// value of the hostId octet string of InitialiseSecureChannel; `eid` the 16 binary
/// bytes of the EID (not its 32 hex digits).
bytes bsp_shared_info(byte_view host_id, byte_view eid);

/// ECKA shared secret (32-byte x-coordinate) → the BSP session keys, through the
/// X9.63 KDF with SHA-256 and bsp_shared_info(). Both ends call this.
[[nodiscard]] result<bsp_session_keys> derive_bsp_session_keys(byte_view shared_secret,
                                                               byte_view host_id, byte_view eid);

} // namespace esimguard::crypto
