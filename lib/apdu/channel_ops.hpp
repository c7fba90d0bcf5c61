#pragma once
// Opening and closing a logical channel with plain APDUs (MANAGE CHANNEL,
// SELECT), shared by the transports that only have a raw transmit (the
// in-process card, PC/SC) and by the stdio link.

#include "esimguard/apdu/card.hpp"

#include <functional>

namespace esimguard::apdu::detail {

/// One raw APDU exchange.
using raw_transmit = std::function<transport_result<bytes>(byte_view)>;

/// Sends `command`; on 61xx fetches the rest with GET RESPONSE (inter-industry
/// class on `channel`) and returns data ‖ final SW; on 6Cxx repeats it with
/// Le = SW2 (T=0 cards).
[[nodiscard]] transport_result<bytes> transmit_collecting(const raw_transmit& tx, byte_view command,
                                                          int channel);

/// MANAGE CHANNEL open, then SELECT `aid` on the new channel; closes it again
/// when the SELECT is refused. no_channel errors carry the status word.
[[nodiscard]] transport_result<int> open_channel(const raw_transmit& tx, byte_view aid);

/// MANAGE CHANNEL close (channel 0 is never closed).
void close_channel(const raw_transmit& tx, int channel);

} // namespace esimguard::apdu::detail
