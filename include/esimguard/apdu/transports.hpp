#pragma once
/// Ways from an LPA to a card (apdu::transport): in-process over an
/// apdu::card, a subprocess speaking lpac's stdio JSON lines, and PC/SC.

#include "esimguard/apdu/card.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace esimguard::apdu {

/// A transport over a card in the same process, which must outlive it.
/// connect() resets the card (as inserting it would), disconnect() powers it
/// off; channels are opened with MANAGE CHANNEL + SELECT.
[[nodiscard]] std::unique_ptr<transport> create_card_transport(card& target);

/// How to start a card program that speaks lpac's stdio APDU protocol on its
/// stdin/stdout (e.g. `esimguard-euicc --state F --stdio`).
struct subprocess_options {
    /// argv[0] is the program (a path, or a name looked up in PATH).
    std::vector<std::string> argv;
    /// How long to wait for each answer line before giving up.
    std::chrono::milliseconds timeout{10'000};
    /// Longest answer line accepted (hex of the largest R-APDU plus JSON).
    std::size_t max_line = 1 << 20;
};

/// A transport to a child process, started on connect() and ended (stdin
/// closed, then SIGTERM, then SIGKILL) on disconnect() or destruction; the
/// child is always reaped. Speaks as lpac's `LPAC_APDU=stdio` driver does:
/// one JSON request per line out, one JSON answer per line back. A child
/// that dies, answers garbage or stays silent past the timeout gives an io
/// or protocol error naming why (exit status, signal, timeout), and the
/// transport must be connected again. The child's stderr is inherited.
[[nodiscard]] std::unique_ptr<transport> create_subprocess_transport(subprocess_options options);

/// Which PC/SC reader to use.
struct pcsc_options {
    /// A substring of the reader name; empty picks the first reader.
    std::string reader;
};

/// A transport through pcsc-lite (SCardConnect, T=0 or T=1, shared mode).
/// connect() fails with io when no service, no reader or no card is there;
/// the message names the readers found.
[[nodiscard]] std::unique_ptr<transport> create_pcsc_transport(pcsc_options options);

/// Names of the PC/SC readers present, or an io error when the service is
/// unreachable.
[[nodiscard]] transport_result<std::vector<std::string>> list_pcsc_readers();

} // namespace esimguard::apdu
