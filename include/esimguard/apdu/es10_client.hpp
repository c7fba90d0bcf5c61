#pragma once
/// The LPA side of ES10 (SGP.22 §5.7): one DER command in, one DER response
/// out, over an apdu::transport. It opens a logical channel to the ISD-R,
/// splits the command into STORE DATA blocks and reassembles the response
/// from 61xx + GET RESPONSE, as lpac does.

#include "esimguard/apdu/card.hpp"
#include "esimguard/core/bytes.hpp"

#include <cstddef>

namespace esimguard::apdu {

/// Tunables of the ES10 framing.
struct es10_client_options {
    /// Data bytes per STORE DATA block: 1..255. 120 is lpac's default, which
    /// every eUICC seen in the field accepts.
    std::size_t block_size = 120;
    /// The application the commands go to.
    bytes aid = isd_r_aid;
    /// Guard against a card that keeps answering 61xx: the most bytes one
    /// response may assemble to.
    std::size_t max_response_size = 1 << 20;
};

/// ES10 over a transport. Not thread-safe; the transport must outlive it.
/// Typical use: open(), call() any number of times, close() (or destroy).
class es10_client {
public:
    explicit es10_client(transport& link, es10_client_options options = {});
    ~es10_client();
    es10_client(const es10_client&) = delete;
    es10_client& operator=(const es10_client&) = delete;

    /// Connects the transport and opens a logical channel with the ISD-R
    /// selected. Errors: the transport's, or no_channel when the card refuses.
    [[nodiscard]] transport_result<void> open();
    /// Closes the channel and disconnects; safe to call when not open.
    void close();
    /// True between a successful open() and close().
    [[nodiscard]] bool is_open() const { return channel_ >= 0; }
    /// The logical channel in use, or -1.
    [[nodiscard]] int channel() const { return channel_; }

    /// Sends one ES10 command (a complete DER TLV such as BF3E 00) and returns
    /// the DER response (without the status word). Accepts 9000 and 91xx (a
    /// proactive command pending, which is still success) as final words.
    /// Errors: not_connected before open(); protocol on an empty or too large
    /// command or a malformed response; card_error with `status_word` set on
    /// any other SW (e.g. 6A88); the transport's own errors.
    [[nodiscard]] transport_result<bytes> call(byte_view command_der);

private:
    /// Sends one APDU and follows 61xx chains, appending data to `out`.
    [[nodiscard]] transport_result<void> exchange(byte_view command, bytes& out);

    transport& link_;
    es10_client_options options_;
    int channel_ = -1;
};

} // namespace esimguard::apdu
