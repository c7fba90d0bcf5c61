#pragma once
/// BSP, the bound profile package protection of SGP.22 §2.6.4.3–2.6.4.5 (SCP03t in
/// SGP.22 v2, after GlobalPlatform Amendment F). One bsp_session protects one
/// direction of one BPP: the SM-DP+ wraps, the (simulated) eUICC unwraps, each
/// with a session built from the same derive_bsp_session_keys() output.
///
/// Segment on the wire: tag (1 byte) ‖ L (BER length of data ‖ MAC) ‖ data ‖ MAC (8 bytes),
/// at most 1020 bytes in all.
/// - Encrypted segment (tags 0x86, 0x87): data = AES-128-CBC(S-ENC, IV, plaintext ‖ 80 00…),
///   padding always added (1 to 16 bytes), IV = AES-128-ECB(S-ENC, block counter as a
///   16-byte big-endian number).
/// - MAC-only segment (tag 0x88): data = the plaintext as is.
/// - MAC = the first 8 bytes of C = AES-CMAC(S-MAC, chaining value ‖ tag ‖ L ‖ data),
///   i.e. over the whole segment as sent except the MAC itself, prefixed by the chaining
///   value. C (all 16 bytes) becomes the next chaining value; the first is the initial
///   MAC chaining value from the KDF.
/// - The block counter starts at 1 and advances by one for every segment, MAC-only too.
///
/// Because the chaining value links each segment to all before it, a dropped, repeated
/// or reordered segment fails its MAC check: the wire carries no counter that could
/// tell those cases apart from an altered segment, so all of them are errc::bad_mac.
/// After any refused segment the session refuses everything (errc::bad_counter): the
/// eUICC must abandon the BPP. Not thread-safe; move-only; keys wiped on destruction.

#include "esimguard/core/bytes.hpp"
#include "esimguard/crypto/kdf.hpp"
#include "esimguard/crypto/keys.hpp"

#include <cstdint>
#include <memory>
#include <vector>

namespace esimguard::crypto {

/// Largest segment on the wire, tag, length and MAC included (SGP.22 §2.5.5).
inline constexpr std::size_t bsp_max_segment_size = 1020;
/// Largest plaintext of one encrypted segment: 1020 − tag 1 − length 3 − MAC 8 leaves
/// 1008 bytes of ciphertext, and padding always adds at least one byte.
inline constexpr std::size_t bsp_max_encrypted_plaintext = 1007;
/// Largest data of one MAC-only segment.
inline constexpr std::size_t bsp_max_mac_only_data = 1008;

/// One unwrapped segment: the tag it carried (the caller checks it is the one it
/// expects) and its plaintext.
struct bsp_segment {
    std::uint8_t tag = 0;
    bytes data;
};

class bsp_session {
public:
    /// From the session keys of derive_bsp_session_keys().
    static bsp_session create(const bsp_session_keys& keys);
    /// From the 48 KDF output bytes (MAC chaining value, S-ENC, S-MAC).
    /// errc::invalid_length unless 48 bytes.
    [[nodiscard]] static result<bsp_session> create(byte_view kdf_output);

    /// One encrypted and MAC'd segment of `plaintext` (≤ bsp_max_encrypted_plaintext
    /// bytes, else errc::invalid_length and the session is unchanged).
    [[nodiscard]] result<bytes> wrap_encrypted(std::uint8_t tag, byte_view plaintext);
    /// One MAC-only segment of `data` (≤ bsp_max_mac_only_data bytes).
    [[nodiscard]] result<bytes> wrap_mac_only(std::uint8_t tag, byte_view data);
    /// `plaintext` of any length, split into as many encrypted segments as needed
    /// (each but the last carrying bsp_max_encrypted_plaintext bytes); one segment
    /// for empty input.
    [[nodiscard]] result<std::vector<bytes>> wrap_encrypted_segments(std::uint8_t tag,
                                                                     byte_view plaintext);
    /// As wrap_encrypted_segments(), MAC-only.
    [[nodiscard]] result<std::vector<bytes>> wrap_mac_only_segments(std::uint8_t tag,
                                                                    byte_view data);

    /// Checks and decrypts the next encrypted segment. errc::invalid_length: not a
    /// well-formed segment; errc::bad_mac: altered, dropped or reordered;
    /// errc::bad_padding: MAC fine but no 80 00… padding; errc::bad_counter: the
    /// session refused an earlier segment.
    [[nodiscard]] result<bsp_segment> unwrap_encrypted(byte_view segment);
    /// Checks the next MAC-only segment; errors as unwrap_encrypted().
    [[nodiscard]] result<bsp_segment> unwrap_mac_only(byte_view segment);

    /// The block counter the next segment will use (1 for a new session).
    std::uint64_t next_block_counter() const;

    bsp_session(bsp_session&&) noexcept;
    bsp_session& operator=(bsp_session&&) noexcept;
    ~bsp_session();

    struct state;

private:
    explicit bsp_session(std::unique_ptr<state> s);
    std::unique_ptr<state> s_;
};

} // namespace esimguard::crypto
