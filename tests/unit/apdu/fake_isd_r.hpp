#pragma once
// A scripted ISD-R for the recording card: opens a chosen logical channel,
// accepts SELECT, reassembles STORE DATA and answers the ES10 response in
// 256-byte pieces through 61xx + GET RESPONSE, like a T=1 eUICC.

#include "esimguard/core/bytes.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>

namespace esimguard::test {

struct fake_isd_r {
    int channel_to_open = 1;
    std::uint16_t select_sw = 0x9000;
    /// When set, every STORE DATA block is answered with this word alone.
    std::optional<std::uint16_t> store_data_sw;
    /// Final status word after the last piece of the response.
    std::uint16_t final_sw = 0x9000;
    /// What the ISD-R answers to the complete command.
    bytes response;
    /// The command reassembled from STORE DATA blocks.
    bytes received;

    bytes operator()(byte_view c) {
        if (c.size() < 4) {
            return {0x67, 0x00};
        }
        switch (c[1]) {
        case 0x70:
            if (c[2] == 0x00) {
                return {static_cast<std::uint8_t>(channel_to_open), 0x90, 0x00};
            }
            return {0x90, 0x00};
        case 0xA4:
            return sw_only(select_sw);
        case 0xE2: {
            if (store_data_sw) {
                return sw_only(*store_data_sw);
            }
            if (c.size() > 5) {
                received.insert(received.end(), c.begin() + 5, c.end());
            }
            if (c[2] != 0x91) {
                return {0x90, 0x00};
            }
            offset_ = 0;
            return next_piece();
        }
        case 0xC0:
            return next_piece();
        default:
            return {0x6D, 0x00};
        }
    }

private:
    static bytes sw_only(std::uint16_t sw) {
        return {static_cast<std::uint8_t>(sw >> 8), static_cast<std::uint8_t>(sw & 0xFF)};
    }

    bytes next_piece() {
        const std::size_t n = std::min<std::size_t>(256, response.size() - offset_);
        bytes out(response.begin() + static_cast<std::ptrdiff_t>(offset_),
                  response.begin() + static_cast<std::ptrdiff_t>(offset_ + n));
        offset_ += n;
        const std::size_t rest = response.size() - offset_;
        if (rest > 0) {
            out.push_back(0x61);
            out.push_back(rest >= 256 ? 0x00 : static_cast<std::uint8_t>(rest));
        } else {
            out.push_back(static_cast<std::uint8_t>(final_sw >> 8));
            out.push_back(static_cast<std::uint8_t>(final_sw & 0xFF));
        }
        return out;
    }

    std::size_t offset_ = 0;
};

/// `n` bytes 0, 1, 2, ... (mod 256), so that misplaced bytes show.
inline bytes counting_bytes(std::size_t n, std::uint8_t start = 0) {
    bytes out(n);
    for (std::size_t i = 0; i < n; ++i) {
        out[i] = static_cast<std::uint8_t>(start + i);
    }
    return out;
}

} // namespace esimguard::test
