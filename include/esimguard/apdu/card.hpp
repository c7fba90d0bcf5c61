#pragma once
/// The two sides of an ISO 7816 link, as esimguard's eUICC and LPA see them.
///
/// `card` is what a reader talks to: raw command APDUs in, response APDUs
/// (data ‖ SW1 SW2) out. The simulated eUICC implements it; the stdio, vpcd
/// and in-process links expose a `card` to an LPA.
///
/// `transport` is what an LPA uses, shaped like lpac's APDU drivers (connect,
/// logical channel open/close, transmit): implemented over an in-process
/// `card`, a subprocess speaking lpac's line-JSON, or PC/SC.

#include "esimguard/core/bytes.hpp"

#include <cstdint>
#include <expected>
#include <memory>
#include <string>

namespace esimguard::apdu {

/// A smart card behind a reader. Implementations are not thread-safe: one
/// reader drives one card at a time, as on a real link.
class card {
public:
    virtual ~card() = default;
    /// Cold or warm reset; returns the ATR.
    virtual bytes reset() = 0;
    /// One command APDU (ISO 7816-4 short form, cases 1-4) → response data ‖ SW1 SW2.
    /// Malformed commands are answered with an error status word, never a crash.
    virtual bytes transmit(byte_view command) = 0;
    /// Power off: volatile state (logical channels, sessions) is lost.
    virtual void power_off() = 0;
};

/// Why a transport call failed.
struct transport_error {
    enum class code { not_connected, io, protocol, no_channel, card_error } what;
    std::string detail;
    /// The card's SW1 SW2 when `what` is card_error (e.g. 0x6A88), else 0.
    std::uint16_t status_word = 0;
};

/// A short name of a transport_error code, for messages and logs.
inline const char* to_string(transport_error::code c) {
    switch (c) {
    case transport_error::code::not_connected:
        return "not connected";
    case transport_error::code::io:
        return "I/O error";
    case transport_error::code::protocol:
        return "protocol error";
    case transport_error::code::no_channel:
        return "no logical channel";
    case transport_error::code::card_error:
        return "card error";
    }
    return "unknown";
}

template <typename T>
using transport_result = std::expected<T, transport_error>;

/// An LPA's way to a card (lpac's APDU driver model).
class transport {
public:
    virtual ~transport() = default;
    [[nodiscard]] virtual transport_result<void> connect() = 0;
    virtual void disconnect() = 0;
    /// MANAGE CHANNEL open + SELECT `aid` on it; returns the channel number.
    [[nodiscard]] virtual transport_result<int> open_logical_channel(byte_view aid) = 0;
    virtual void close_logical_channel(int channel) = 0;
    /// One command APDU → response data ‖ SW1 SW2 (no 61xx handling here).
    [[nodiscard]] virtual transport_result<bytes> transmit(byte_view command) = 0;
};

/// The ISD-R's AID (SGP.22 §2.2.3).
inline const bytes isd_r_aid = {0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0xFF,
                                0xFF, 0xFF, 0xFF, 0x89, 0x00, 0x00, 0x01, 0x00};

} // namespace esimguard::apdu
