#pragma once
/// A hand-written apdu::card for tests: records every command APDU, reset and
/// power-off it sees, and answers through a test-supplied responder (9000 by
/// default).

#include "esimguard/apdu/card.hpp"

#include <functional>
#include <utility>
#include <vector>

namespace esimguard::fakes {

class recording_card final : public apdu::card {
public:
    /// Computes the response (data ‖ SW) to one command.
    using responder = std::function<bytes(byte_view command)>;

    recording_card() = default;
    explicit recording_card(responder r) : respond_(std::move(r)) {}

    bytes reset() override {
        ++resets;
        return atr;
    }
    bytes transmit(byte_view command) override {
        commands.emplace_back(command.begin(), command.end());
        return respond_ ? respond_(command) : bytes{0x90, 0x00};
    }
    void power_off() override { ++power_offs; }

    /// Replaces the responder.
    void set_responder(responder r) { respond_ = std::move(r); }

    /// Every command APDU, in order.
    std::vector<bytes> commands;
    int resets = 0;
    int power_offs = 0;
    /// What reset() returns.
    bytes atr = {0x3B, 0x9F, 0x96, 0x80, 0x1F, 0xC7, 0x80, 0x31, 0xE0, 0x73, 0xFE, 0x21, 0x1B};

private:
    responder respond_;
};

} // namespace esimguard::fakes
