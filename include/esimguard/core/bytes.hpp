#pragma once
/// Byte buffers and views shared by every module, with hex and base64 helpers.

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace esimguard {

/// An owned byte string.
using bytes = std::vector<std::uint8_t>;
/// A borrowed, bounds-checked view of bytes; the owner must outlive it.
using byte_view = std::span<const std::uint8_t>;

/// Views the characters of a string as bytes.
inline byte_view as_bytes(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

/// Copies a view into an owned buffer.
inline bytes to_bytes(byte_view v) {
    return bytes(v.begin(), v.end());
}

/// Concatenates views into one buffer.
bytes concat(std::initializer_list<byte_view> parts);

/// Lower-case hex of the bytes, no separators.
std::string to_hex(byte_view v);
/// Upper-case hex, as EIDs and APDUs are usually written.
std::string to_hex_upper(byte_view v);
/// Parses hex (either case, no separators); nullopt on odd length or a non-hex digit.
std::optional<bytes> from_hex(std::string_view hex);

/// Standard base64 with padding (RFC 4648 §4), as ES9+ carries binary fields.
std::string to_base64(byte_view v);
/// Parses standard base64; padding is required, whitespace is refused.
std::optional<bytes> from_base64(std::string_view text);

} // namespace esimguard
