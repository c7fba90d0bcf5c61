// ISO 7816-4 §5.4.1 (class byte, logical channels), §7.1.2 (SELECT),
// §7.1.7 (MANAGE CHANNEL), §7.6.1 (GET RESPONSE); GlobalPlatform STORE DATA.

#include "esimguard/apdu/commands.hpp"

#include <fmt/core.h>

namespace esimguard::apdu {

std::optional<std::uint8_t> class_byte(std::uint8_t base, int channel) {
    if (channel < 0 || channel > max_logical_channel) {
        return std::nullopt;
    }
    if (channel < 4) {
        return static_cast<std::uint8_t>(base | channel);
    }
    // The further encoding keeps only b8 of the base (proprietary or not);
    // secure messaging is not expressible in one bit here and is not used.
    return static_cast<std::uint8_t>((base & 0x80) | 0x40 | (channel - 4));
}

bytes manage_channel_open() {
    return {0x00, 0x70, 0x00, 0x00, 0x01};
}

bytes manage_channel_close(int channel) {
    return {0x00, 0x70, 0x80, static_cast<std::uint8_t>(channel), 0x00};
}

std::optional<bytes> select_by_aid(int channel, byte_view aid) {
    auto cla = class_byte(0x00, channel);
    if (!cla || aid.empty() || aid.size() > 16) {
        return std::nullopt;
    }
    bytes out{*cla, 0xA4, 0x04, 0x00, static_cast<std::uint8_t>(aid.size())};
    out.insert(out.end(), aid.begin(), aid.end());
    out.push_back(0x00);
    return out;
}

std::optional<bytes> store_data(int channel, bool last_block, std::uint8_t block_number,
                                byte_view data) {
    auto cla = class_byte(0x80, channel);
    if (!cla || data.size() > 255) {
        return std::nullopt;
    }
    bytes out{*cla, 0xE2, static_cast<std::uint8_t>(last_block ? 0x91 : 0x11), block_number};
    // Lc = 0 would be read as case 2 (no data): an empty block has no Lc.
    if (!data.empty()) {
        out.push_back(static_cast<std::uint8_t>(data.size()));
        out.insert(out.end(), data.begin(), data.end());
    }
    return out;
}

std::optional<bytes> get_response(int channel, std::uint8_t le, std::uint8_t class_base) {
    auto cla = class_byte(class_base, channel);
    if (!cla) {
        return std::nullopt;
    }
    return bytes{*cla, 0xC0, 0x00, 0x00, le};
}

std::optional<std::uint16_t> status_word(byte_view response) {
    if (response.size() < 2) {
        return std::nullopt;
    }
    return static_cast<std::uint16_t>(response[response.size() - 2] << 8 |
                                      response[response.size() - 1]);
}

byte_view response_data(byte_view response) {
    if (response.size() < 2) {
        return {};
    }
    return response.first(response.size() - 2);
}

std::string status_word_hex(std::uint16_t sw) {
    return fmt::format("{:04X}", sw);
}

} // namespace esimguard::apdu
