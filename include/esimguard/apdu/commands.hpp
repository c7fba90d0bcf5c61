#pragma once
/// ISO 7816-4 command APDUs that the links and the ES10 client build, and
/// status word helpers. Pure functions: no I/O.

#include "esimguard/core/bytes.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace esimguard::apdu {

/// The highest logical channel number ISO 7816-4 can code in CLA (extended
/// encoding, channels 4..19).
inline constexpr int max_logical_channel = 19;

/// The CLA byte for `channel` on top of the class bits of `base` (0x00 for
/// inter-industry commands, 0x80 for proprietary ones such as STORE DATA).
/// Channels 0..3 use the first inter-industry encoding (base | ch); channels
/// 4..19 the further encoding (0x40 | base | (ch - 4)), so 0x80 gives 0xC0|(ch-4).
/// nullopt for a channel outside 0..19.
[[nodiscard]] std::optional<std::uint8_t> class_byte(std::uint8_t base, int channel);

/// MANAGE CHANNEL open on the basic channel, the card picks the number:
/// 00 70 00 00 01.
[[nodiscard]] bytes manage_channel_open();
/// MANAGE CHANNEL close of `channel`, sent on the basic channel: 00 70 80 ch 00.
[[nodiscard]] bytes manage_channel_close(int channel);
/// SELECT by DF name (AID) on `channel`, first or only occurrence, FCI
/// returned: CLA A4 04 00 Lc AID 00. Requires 1..16 byte AID.
[[nodiscard]] std::optional<bytes> select_by_aid(int channel, byte_view aid);
/// One STORE DATA block (GlobalPlatform, as ES10 uses it, SGP.22 §5.7.2):
/// CLA(0x80|ch) E2 P1 P2 Lc data, P1 0x91 for the last block, 0x11 otherwise.
/// Requires at most 255 data bytes.
[[nodiscard]] std::optional<bytes> store_data(int channel, bool last_block,
                                              std::uint8_t block_number, byte_view data);
/// GET RESPONSE for `le` bytes (0 means 256) on `channel`. The class is
/// proprietary (0x80), as lpac sends it to the ISD-R, since the ISD-R answers
/// the GET RESPONSE that follows a STORE DATA in the same class.
[[nodiscard]] std::optional<bytes> get_response(int channel, std::uint8_t le,
                                                std::uint8_t class_base = 0x80);

/// SW1 SW2 of a response APDU as one number (0x9000); nullopt when shorter
/// than two bytes.
[[nodiscard]] std::optional<std::uint16_t> status_word(byte_view response);
/// The response data without SW1 SW2 (empty when shorter than two bytes).
[[nodiscard]] byte_view response_data(byte_view response);
/// "6A88" style upper-case hex of a status word, for messages.
[[nodiscard]] std::string status_word_hex(std::uint16_t sw);

} // namespace esimguard::apdu
