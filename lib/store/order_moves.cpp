#include "order_moves.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <string>

namespace esimguard::store {

namespace {

error mismatch(std::string message) {
    return {errc::state_mismatch, std::move(message)};
}

std::string states_text(std::span<const order_state> states) {
    std::string out;
    for (auto s : states) {
        if (!out.empty()) {
            out += "|";
        }
        out += to_string(s);
    }
    return out;
}

} // namespace

result<void> check_order_move(const order_record& o, std::span<const order_state> from,
                              order_state to, time_point now) {
    if (std::find(from.begin(), from.end(), o.state) == from.end()) {
        return std::unexpected(mismatch(
            fmt::format("order is {}, expected {}", to_string(o.state), states_text(from))));
    }
    // The download claim checks lock and expiry with the move itself: a
    // session authenticated before a lock, a pause or the expiry must not get
    // the BPP (begin_download's checks are long past by then).
    if (to == order_state::downloaded && o.locked) {
        return std::unexpected(mismatch("order is locked"));
    }
    if (to == order_state::downloaded && now >= o.expires_at) {
        return std::unexpected(mismatch("order has expired"));
    }
    return {};
}

} // namespace esimguard::store
