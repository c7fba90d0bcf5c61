// ISO 7816-4 §7.1.7 MANAGE CHANNEL and §7.1.1 SELECT, as lpac's PC/SC driver
// opens the ISD-R.

#include "channel_ops.hpp"

#include "esimguard/apdu/commands.hpp"

#include <fmt/core.h>

namespace esimguard::apdu::detail {

transport_result<bytes> transmit_collecting(const raw_transmit& tx, byte_view command,
                                            int channel) {
    auto response = tx(command);
    bytes out;
    // Bounded so that a card that keeps saying 61xx cannot hold us forever.
    for (int round = 0; round < 4096; ++round) {
        if (!response) {
            return response;
        }
        auto sw = status_word(*response);
        if (!sw) {
            return std::unexpected(
                transport_error{transport_error::code::protocol, "response without status word"});
        }
        auto data = response_data(*response);
        out.insert(out.end(), data.begin(), data.end());
        if ((*sw >> 8) == 0x61) {
            response = tx(*get_response(channel, static_cast<std::uint8_t>(*sw & 0xFF), 0x00));
            continue;
        }
        if ((*sw >> 8) == 0x6C && command.size() >= 4) {
            bytes again(command.begin(), command.begin() + 4);
            // A case 2 command with the Le the card asked for.
            again.push_back(static_cast<std::uint8_t>(*sw & 0xFF));
            out.clear();
            response = tx(again);
            continue;
        }
        out.push_back(static_cast<std::uint8_t>(*sw >> 8));
        out.push_back(static_cast<std::uint8_t>(*sw & 0xFF));
        return out;
    }
    return std::unexpected(
        transport_error{transport_error::code::protocol, "card never ended its 61xx chain"});
}

transport_result<int> open_channel(const raw_transmit& tx, byte_view aid) {
    auto opened = transmit_collecting(tx, manage_channel_open(), 0);
    if (!opened) {
        return std::unexpected(opened.error());
    }
    auto sw = status_word(*opened).value_or(0);
    auto data = response_data(*opened);
    if (sw != 0x9000 || data.size() != 1) {
        return std::unexpected(
            transport_error{transport_error::code::no_channel,
                            fmt::format("MANAGE CHANNEL open refused: SW {}, {} data byte(s)",
                                        status_word_hex(sw), data.size()),
                            sw});
    }
    const int channel = data[0];
    if (channel < 1 || channel > max_logical_channel) {
        return std::unexpected(
            transport_error{transport_error::code::no_channel,
                            fmt::format("card opened channel {}, outside 1..19", channel), sw});
    }
    auto select = select_by_aid(channel, aid);
    if (!select) {
        close_channel(tx, channel);
        return std::unexpected(transport_error{transport_error::code::protocol,
                                               fmt::format("AID of {} bytes", aid.size())});
    }
    auto selected = transmit_collecting(tx, *select, channel);
    if (!selected) {
        close_channel(tx, channel);
        return std::unexpected(selected.error());
    }
    auto ssw = status_word(*selected).value_or(0);
    if (ssw != 0x9000) {
        close_channel(tx, channel);
        return std::unexpected(transport_error{
            transport_error::code::no_channel,
            fmt::format("SELECT {} refused: SW {}", to_hex_upper(aid), status_word_hex(ssw)), ssw});
    }
    return channel;
}

void close_channel(const raw_transmit& tx, int channel) {
    if (channel <= 0 || channel > max_logical_channel) {
        return;
    }
    // Nothing useful to do when the card refuses to close: the next reset
    // frees the channel anyway.
    (void)tx(manage_channel_close(channel));
}

} // namespace esimguard::apdu::detail
