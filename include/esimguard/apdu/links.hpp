#pragma once
/// Card-side links: they expose an apdu::card to a reader or an LPA outside
/// this process. The stdio link answers lpac's `LPAC_APDU=stdio` JSON lines;
/// the vpcd link plugs the card into vsmartcard's virtual PC/SC reader.

#include "esimguard/apdu/card.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>

namespace esimguard::apdu {

/// Serves lpac's stdio APDU protocol for one card, which must outlive it.
///
/// Requests: {"type":"apdu","payload":{"func":F,"param":HEX|null}} with F one
/// of connect, disconnect, logic_channel_open (param: AID), logic_channel_close
/// (param: one byte, the channel), transmit (param: C-APDU). Answers:
/// {"type":"apdu","payload":{"ecode":N,"data":HEX}}; ecode is 0 on success,
/// the channel number for logic_channel_open, and -1 on any failure
/// (malformed line, unknown function, bad hex, channel refused). Not
/// thread-safe.
class stdio_link {
public:
    explicit stdio_link(card& target);
    ~stdio_link();
    stdio_link(const stdio_link&) = delete;
    stdio_link& operator=(const stdio_link&) = delete;

    /// The answer line (without newline) to one request line. Never throws,
    /// whatever the input.
    [[nodiscard]] std::string answer(std::string_view line);

    /// Answers every line of `in` on `out` until end of input; empty lines are
    /// skipped. Lines longer than `max_line` bytes are answered with an error.
    void run(std::istream& in, std::ostream& out, std::size_t max_line = 1 << 20);

private:
    struct state;
    std::unique_ptr<state> state_;
};

/// Where vpcd listens and how to behave when it goes away.
struct vpcd_options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 35963;
    /// Pause before connecting again after a refused connection or a close.
    std::chrono::milliseconds reconnect_delay{1000};
};

/// Why a vpcd session ended.
enum class vpcd_end { peer_closed, connect_failed, io_error, protocol_error, stopped };

/// A name for logs.
const char* to_string(vpcd_end e);

/// Connects a card to vsmartcard's vpcd: messages are a 2-byte big-endian
/// length then the payload; a 1-byte payload is a control (0 power off,
/// 1 power on, 2 reset, 4 ATR request, answered with the ATR), anything
/// longer is a C-APDU answered with the card's R-APDU. The card must outlive
/// the client. Not thread-safe, except stop().
class vpcd_client {
public:
    vpcd_client(card& target, vpcd_options options);
    ~vpcd_client();
    vpcd_client(const vpcd_client&) = delete;
    vpcd_client& operator=(const vpcd_client&) = delete;

    /// One connection: connects, serves until the peer closes, an error or
    /// stop(); returns why it ended.
    vpcd_end serve_once();
    /// serve_once() in a loop, pausing `reconnect_delay` between sessions,
    /// until stop() is called.
    void run();
    /// Ends run()/serve_once() from another thread or a signal handler
    /// (within ~200 ms, as the socket is polled).
    void stop() noexcept { stopping_ = true; }

private:
    card& card_;
    vpcd_options options_;
    std::atomic<bool> stopping_{false};
    bytes atr_;
};

} // namespace esimguard::apdu
