// ES10 framing on the LPA side (SGP.22 §5.7.2: STORE DATA to the ISD-R,
// segmented; responses longer than one APDU come through 61xx + GET RESPONSE).

#include "esimguard/apdu/es10_client.hpp"

#include "esimguard/apdu/commands.hpp"

#include <fmt/core.h>

namespace esimguard::apdu {

namespace {

transport_error error(transport_error::code what, std::string detail, std::uint16_t sw = 0) {
    return transport_error{what, std::move(detail), sw};
}

bool is_final_success(std::uint16_t sw) {
    // 91xx: the card has a proactive command for the terminal; the ES10
    // function itself succeeded (lpac accepts any 9xxx likewise).
    return sw == 0x9000 || (sw >> 8) == 0x91;
}

} // namespace

es10_client::es10_client(transport& link, es10_client_options options)
    : link_(link), options_(std::move(options)) {}

es10_client::~es10_client() {
    close();
}

transport_result<void> es10_client::open() {
    if (is_open()) {
        return {};
    }
    if (options_.block_size == 0 || options_.block_size > 255) {
        return std::unexpected(
            error(transport_error::code::protocol,
                  fmt::format("STORE DATA block size {} is outside 1..255", options_.block_size)));
    }
    if (auto c = link_.connect(); !c) {
        return std::unexpected(c.error());
    }
    auto ch = link_.open_logical_channel(options_.aid);
    if (!ch) {
        link_.disconnect();
        return std::unexpected(ch.error());
    }
    if (*ch < 0 || *ch > max_logical_channel) {
        link_.close_logical_channel(*ch);
        link_.disconnect();
        return std::unexpected(error(
            transport_error::code::no_channel,
            fmt::format("the link gave channel {}, outside 0..{}", *ch, max_logical_channel)));
    }
    channel_ = *ch;
    return {};
}

void es10_client::close() {
    if (!is_open()) {
        return;
    }
    link_.close_logical_channel(channel_);
    link_.disconnect();
    channel_ = -1;
}

transport_result<void> es10_client::exchange(byte_view command, bytes& out) {
    auto response = link_.transmit(command);
    const char* sent = "STORE DATA";
    while (true) {
        if (!response) {
            return std::unexpected(response.error());
        }
        auto sw = status_word(*response);
        if (!sw) {
            return std::unexpected(
                error(transport_error::code::protocol,
                      fmt::format("response of {} byte(s) has no status word", response->size())));
        }
        auto data = response_data(*response);
        out.insert(out.end(), data.begin(), data.end());
        if (out.size() > options_.max_response_size) {
            return std::unexpected(
                error(transport_error::code::protocol,
                      fmt::format("response exceeds {} bytes", options_.max_response_size)));
        }
        if ((*sw >> 8) == 0x61) {
            // SW2 is the number of bytes still waiting (0 meaning 256 or more).
            auto get = get_response(channel_, static_cast<std::uint8_t>(*sw & 0xFF));
            response = link_.transmit(*get);
            sent = "GET RESPONSE";
            continue;
        }
        if (is_final_success(*sw)) {
            return {};
        }
        return std::unexpected(
            error(transport_error::code::card_error,
                  fmt::format("card answered {} to {}", status_word_hex(*sw), sent), *sw));
    }
}

transport_result<bytes> es10_client::call(byte_view command_der) {
    if (!is_open()) {
        return std::unexpected(
            error(transport_error::code::not_connected, "ES10 channel is not open"));
    }
    if (command_der.empty()) {
        return std::unexpected(error(transport_error::code::protocol, "empty ES10 command"));
    }
    const std::size_t block = options_.block_size;
    const std::size_t blocks = (command_der.size() + block - 1) / block;
    if (blocks > 256) {
        // P2 (the block number) is one byte.
        return std::unexpected(
            error(transport_error::code::protocol,
                  fmt::format("ES10 command of {} bytes needs {} STORE DATA blocks, over 256",
                              command_der.size(), blocks)));
    }
    bytes out;
    for (std::size_t i = 0; i < blocks; ++i) {
        const std::size_t offset = i * block;
        const std::size_t n = std::min(block, command_der.size() - offset);
        const bool last = i + 1 == blocks;
        auto apdu = store_data(channel_, last, static_cast<std::uint8_t>(i),
                               command_der.subspan(offset, n));
        // Every intermediate block's answer is collected too: an eUICC may
        // answer early (e.g. an error response on the first block of a BPP).
        if (auto r = exchange(*apdu, out); !r) {
            return std::unexpected(r.error());
        }
    }
    return out;
}

} // namespace esimguard::apdu
