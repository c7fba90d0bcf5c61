// The card side of ISO 7816-4 for the simulated eUICC: logical channels,
// SELECT of the ISD-R, STORE DATA reassembly (GlobalPlatform Card Spec
// §11.11, as SGP.22 §5.7.1 transports ES10) and GET RESPONSE chaining.

#include "esimguard/euicc/euicc.hpp"

#include <algorithm>
#include <array>
#include <cstdint>

namespace esimguard::euicc {
namespace {

constexpr std::size_t channel_count = 4; // basic channel 0 and logical channels 1..3
/// Largest reassembled ES10 command accepted (a BPP piece is far smaller).
constexpr std::size_t max_command_size = 64 * 1024;

bytes sw(std::uint16_t status) {
    return {static_cast<std::uint8_t>(status >> 8), static_cast<std::uint8_t>(status & 0xFF)};
}

bytes data_sw(bytes data, std::uint16_t status) {
    data.push_back(static_cast<std::uint8_t>(status >> 8));
    data.push_back(static_cast<std::uint8_t>(status & 0xFF));
    return data;
}

struct channel {
    bool open = false;
    bool isd_r_selected = false;
    bytes command; // STORE DATA blocks so far
    std::uint16_t next_block = 0;
    bool in_command = false;
    bytes pending; // response data awaiting GET RESPONSE
    std::size_t pending_pos = 0;

    void clear_command() {
        command.clear();
        next_block = 0;
        in_command = false;
    }
};

/// 3B 9F 96 80 1F C7 ... with its TCK: T=0 and T=15 (UICC class indicator).
bytes make_atr() {
    bytes atr = {0x3B, 0x9F, 0x96, 0x80, 0x1F, 0xC7, 0x80, 0x31, 0xE0, 0x73, 0xFE,
                 0x21, 0x1B, 0x63, 0x3A, 0x20, 0x4E, 0x83, 0x00, 0x90, 0x00};
    std::uint8_t tck = 0;
    for (std::size_t i = 1; i < atr.size(); ++i) {
        tck ^= atr[i];
    }
    atr.push_back(tck);
    return atr;
}

class euicc_card final : public apdu::card {
public:
    explicit euicc_card(euicc& chip) : chip_(chip) { power_on(); }

    bytes reset() override {
        power_on();
        chip_.reset_session();
        return make_atr();
    }

    void power_off() override {
        channels_ = {};
        chip_.reset_session();
    }

    bytes transmit(byte_view c) override {
        if (c.size() < 4) {
            return sw(0x6700);
        }
        const std::uint8_t cla = c[0], ins = c[1], p1 = c[2], p2 = c[3];
        // Case 1..4 short APDUs; an extended Lc (00 followed by two bytes) is not supported.
        byte_view data;
        if (c.size() > 5) {
            const std::size_t lc = c[4];
            if (lc == 0 || (c.size() != 5 + lc && c.size() != 6 + lc)) {
                return sw(0x6700);
            }
            data = c.subspan(5, lc);
        }
        if (cla == 0xFF) {
            return sw(0x6E00);
        }
        if ((cla & 0x40) != 0) {
            return sw(0x6881); // further interindustry channels 4..19 are not offered
        }
        const std::uint8_t kind = cla & 0xFC;
        if (kind != 0x00 && kind != 0x80) {
            return sw(0x6E00);
        }
        const std::size_t ch = cla & 0x03;
        auto& chan = channels_[ch];
        if (!chan.open) {
            return sw(0x6881);
        }
        if (ins != 0xC0) {
            chan.pending.clear();
            chan.pending_pos = 0;
        }
        switch (ins) {
        case 0x70:
            return manage_channel(ch, p1, p2, c.size());
        case 0xA4:
            return select(chan, p1, p2, data);
        case 0xE2:
            if (kind != 0x80) {
                return sw(0x6E00);
            }
            return store_data(chan, p1, p2, data);
        case 0xC0:
            return get_response(chan, c.size() == 5 ? c[4] : 0);
        default:
            return sw(0x6D00);
        }
    }

private:
    void power_on() {
        channels_ = {};
        channels_[0].open = true;
    }

    bytes manage_channel(std::size_t ch, std::uint8_t p1, std::uint8_t p2, std::size_t size) {
        if (p1 == 0x00) {
            if (p2 != 0x00 || (size != 4 && size != 5)) {
                return sw(0x6A86);
            }
            for (std::size_t i = 1; i < channel_count; ++i) {
                if (!channels_[i].open) {
                    channels_[i] = channel{};
                    channels_[i].open = true;
                    return data_sw({static_cast<std::uint8_t>(i)}, 0x9000);
                }
            }
            return sw(0x6A81);
        }
        if (p1 == 0x80) {
            const std::size_t target = p2 == 0 ? ch : p2;
            if (target == 0 || target >= channel_count) {
                return sw(0x6A86);
            }
            if (!channels_[target].open) {
                return sw(0x6881);
            }
            channels_[target] = channel{};
            return sw(0x9000);
        }
        return sw(0x6A86);
    }

    bytes select(channel& chan, std::uint8_t p1, std::uint8_t p2, byte_view aid) {
        if (p1 != 0x04) {
            return sw(0x6A86);
        }
        // Partial selection: a prefix of at least 5 bytes names the ISD-R too.
        const auto& isd_r = apdu::isd_r_aid;
        if (aid.size() < 5 || aid.size() > isd_r.size() ||
            !std::equal(aid.begin(), aid.end(), isd_r.begin())) {
            chan.isd_r_selected = false;
            return sw(0x6A82);
        }
        chan.isd_r_selected = true;
        chan.clear_command();
        if ((p2 & 0x0C) == 0x0C) {
            return sw(0x9000); // no response data asked for
        }
        // FCI: 6F { 84 AID, A5 { 9F65 01 FF (max length of data field in command) } }.
        bytes fci = {0x6F, static_cast<std::uint8_t>(2 + isd_r.size() + 6), 0x84,
                     static_cast<std::uint8_t>(isd_r.size())};
        fci.insert(fci.end(), isd_r.begin(), isd_r.end());
        const bytes prop = {0xA5, 0x04, 0x9F, 0x65, 0x01, 0xFF};
        fci.insert(fci.end(), prop.begin(), prop.end());
        return data_sw(std::move(fci), 0x9000);
    }

    bytes store_data(channel& chan, std::uint8_t p1, std::uint8_t p2, byte_view data) {
        if (!chan.isd_r_selected) {
            return sw(0x6985);
        }
        if (p1 != 0x11 && p1 != 0x91) {
            chan.clear_command();
            return sw(0x6A86);
        }
        // Blocks are numbered from 0 in each command; a gap or repeat means
        // a lost or duplicated block, and the command cannot be trusted.
        if (p2 != chan.next_block) {
            chan.clear_command();
            return sw(0x6A86);
        }
        if (chan.command.size() + data.size() > max_command_size) {
            chan.clear_command();
            return sw(0x6A84);
        }
        chan.command.insert(chan.command.end(), data.begin(), data.end());
        chan.in_command = true;
        ++chan.next_block;
        if (p1 == 0x11) {
            if (chan.next_block > 0xFF) {
                chan.clear_command();
                return sw(0x6A86);
            }
            return sw(0x9000);
        }
        const bytes command = std::move(chan.command);
        chan.clear_command();
        auto response = chip_.try_handle_es10(command);
        if (!response) {
            return sw(0x6A80);
        }
        return respond(chan, std::move(*response));
    }

    bytes respond(channel& chan, bytes response) {
        if (response.size() <= 256) {
            return data_sw(std::move(response), 0x9000);
        }
        chan.pending = std::move(response);
        chan.pending_pos = 0;
        return sw(more_status(chan));
    }

    static std::uint16_t more_status(const channel& chan) {
        const std::size_t left = chan.pending.size() - chan.pending_pos;
        return static_cast<std::uint16_t>(0x6100 | (left >= 256 ? 0 : left));
    }

    bytes get_response(channel& chan, std::uint8_t le) {
        if (chan.pending_pos >= chan.pending.size()) {
            return sw(0x6985);
        }
        const std::size_t want = le == 0 ? 256 : le;
        const std::size_t left = chan.pending.size() - chan.pending_pos;
        const std::size_t n = std::min(want, left);
        bytes out(chan.pending.begin() + static_cast<std::ptrdiff_t>(chan.pending_pos),
                  chan.pending.begin() + static_cast<std::ptrdiff_t>(chan.pending_pos + n));
        chan.pending_pos += n;
        if (chan.pending_pos >= chan.pending.size()) {
            chan.pending.clear();
            chan.pending_pos = 0;
            return data_sw(std::move(out), 0x9000);
        }
        return data_sw(std::move(out), more_status(chan));
    }

    euicc& chip_;
    std::array<channel, channel_count> channels_{};
};

} // namespace

std::unique_ptr<apdu::card> create_euicc_card(euicc& chip) {
    return std::make_unique<euicc_card>(chip);
}

} // namespace esimguard::euicc
