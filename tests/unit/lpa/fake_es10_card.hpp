#pragma once
// A recording fake eUICC for LPA tests, below the ES10 client: an
// apdu::transport that reassembles STORE DATA blocks, hands each complete
// ES10 command to a test-supplied handler and serves the answer with 61xx +
// GET RESPONSE as a card does. It records every complete command.

#include "esimguard/apdu/card.hpp"
#include "esimguard/core/bytes.hpp"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

namespace esimguard::lpa_test {

/// The tag of an ES10 command or BPP piece: two bytes for BFxx, else one.
inline std::uint32_t leading_tag(byte_view der) {
    if (der.empty()) {
        return 0;
    }
    if ((der[0] & 0x1F) == 0x1F && der.size() >= 2) {
        return (std::uint32_t{der[0]} << 8) | der[1];
    }
    return der[0];
}

class fake_es10_card final : public apdu::transport {
public:
    /// The DER answer to one complete command; nullopt answers 6A80.
    using handler = std::function<std::optional<bytes>(byte_view command)>;

    explicit fake_es10_card(handler h) : handler_(std::move(h)) {}

    apdu::transport_result<void> connect() override {
        ++connects;
        return {};
    }
    void disconnect() override {}
    apdu::transport_result<int> open_logical_channel(byte_view) override { return 1; }
    void close_logical_channel(int) override {}

    apdu::transport_result<bytes> transmit(byte_view apdu) override {
        if (apdu.size() < 4) {
            return bytes{0x67, 0x00};
        }
        const std::uint8_t ins = apdu[1];
        const std::uint8_t p1 = apdu[2];
        if (ins == 0xC0) {
            return next_chunk();
        }
        if (ins != 0xE2 || apdu.size() < 5) {
            return bytes{0x6D, 0x00};
        }
        const std::size_t lc = apdu[4];
        if (apdu.size() < 5 + lc) {
            return bytes{0x67, 0x00};
        }
        assembling_.insert(assembling_.end(), apdu.begin() + 5, apdu.begin() + 5 + lc);
        if ((p1 & 0x80) == 0) {
            return bytes{0x90, 0x00};
        }
        bytes command = std::move(assembling_);
        assembling_.clear();
        commands.push_back(command);
        auto answer = handler_(command);
        if (!answer) {
            return bytes{0x6A, 0x80};
        }
        pending_ = std::move(*answer);
        return next_chunk();
    }

    /// The tags of the commands received, in order.
    std::vector<std::uint32_t> tags() const {
        std::vector<std::uint32_t> out;
        for (const auto& c : commands) {
            out.push_back(leading_tag(c));
        }
        return out;
    }
    /// The commands that carried `tag`.
    std::vector<bytes> commands_with(std::uint32_t tag) const {
        std::vector<bytes> out;
        for (const auto& c : commands) {
            if (leading_tag(c) == tag) {
                out.push_back(c);
            }
        }
        return out;
    }

    std::vector<bytes> commands;
    int connects = 0;

private:
    bytes next_chunk() {
        const std::size_t n = std::min<std::size_t>(pending_.size(), 256);
        bytes out(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(n));
        pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(n));
        if (pending_.empty()) {
            out.push_back(0x90);
            out.push_back(0x00);
        } else {
            out.push_back(0x61);
            out.push_back(static_cast<std::uint8_t>(std::min<std::size_t>(pending_.size(), 256)));
        }
        return out;
    }

    handler handler_;
    bytes assembling_;
    bytes pending_;
};

} // namespace esimguard::lpa_test
