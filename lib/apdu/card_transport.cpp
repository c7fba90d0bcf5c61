// The in-process link: an LPA and a simulated card in one process (tests,
// the esimguard-euicc stdio link).

#include "channel_ops.hpp"

#include "esimguard/apdu/transports.hpp"

namespace esimguard::apdu {

namespace {

class card_transport_impl final : public transport {
public:
    explicit card_transport_impl(card& target) : card_(target) {}

    transport_result<void> connect() override {
        card_.reset();
        connected_ = true;
        return {};
    }

    void disconnect() override {
        if (connected_) {
            card_.power_off();
        }
        connected_ = false;
    }

    transport_result<int> open_logical_channel(byte_view aid) override {
        if (!connected_) {
            return not_connected();
        }
        return detail::open_channel(raw(), aid);
    }

    void close_logical_channel(int channel) override {
        if (connected_) {
            detail::close_channel(raw(), channel);
        }
    }

    transport_result<bytes> transmit(byte_view command) override {
        if (!connected_) {
            return not_connected();
        }
        return card_.transmit(command);
    }

private:
    static std::unexpected<transport_error> not_connected() {
        return std::unexpected(
            transport_error{transport_error::code::not_connected, "card is not connected"});
    }

    detail::raw_transmit raw() {
        return [this](byte_view c) -> transport_result<bytes> { return card_.transmit(c); };
    }

    card& card_;
    bool connected_ = false;
};

} // namespace

std::unique_ptr<transport> create_card_transport(card& target) {
    return std::make_unique<card_transport_impl>(target);
}

} // namespace esimguard::apdu
