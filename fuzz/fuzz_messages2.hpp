#pragma once
/// Exact round trip for the metadata, BPP, installation-result, notification
/// and ES10c decoders: on top of fuzz_common.hpp's stable re-encoding, an
/// accepted input must re-encode to exactly its own bytes. Those decoders
/// keep every field verbatim (later-version fields raw, INTEGERs, BOOLEANs
/// and BIT STRINGs only in DER form), so a difference means a decoder
/// accepted something lossy or non-canonical.

#include "fuzz_common.hpp"

namespace esimguard::fuzz {

/// Runs one exact round trip; returns whether the input decoded.
template <typename Decode, typename Encode>
bool exact_roundtrip(byte_view input, Decode&& decode, Encode&& encode) {
    bytes again;
    const bool accepted = roundtrip(input, decode, encode, &again);
    if (accepted && again != bytes(input.begin(), input.end())) {
        finding("accepted input does not re-encode to its own bytes");
    }
    return accepted;
}

} // namespace esimguard::fuzz

/// Defines LLVMFuzzerTestOneInput as an exact round trip of one decoder.
#define ESIMGUARD_FUZZ_EXACT2(decode_fn)                                                           \
    extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {            \
        ::esimguard::fuzz::exact_roundtrip(                                                        \
            ::esimguard::byte_view(data, size),                                                    \
            [](::esimguard::byte_view in) { return decode_fn(in); },                               \
            [](const auto& value) { return ::esimguard::asn1::encode(value); });                   \
        return 0;                                                                                  \
    }
