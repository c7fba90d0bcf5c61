#pragma once
/// A stricter round trip for the SGP.22 message decoders: besides what
/// fuzz_common.hpp checks, an accepted input must re-encode to exactly its own
/// bytes. The decoders keep every field verbatim (unknown extension fields
/// raw, INTEGERs and BOOLEANs only in DER form), so any difference means a
/// decoder accepted something lossy or non-canonical.

#include "fuzz_common.hpp"

/// Defines LLVMFuzzerTestOneInput for one decoder and its encoder.
#define ESIMGUARD_FUZZ_EXACT_ROUNDTRIP(decode_fn, encode_fn)                                       \
    extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {            \
        const ::esimguard::byte_view input(data, size);                                            \
        ::esimguard::bytes again;                                                                  \
        const bool accepted = ::esimguard::fuzz::roundtrip(                                        \
            input, [](::esimguard::byte_view in) { return decode_fn(in); },                        \
            [](const auto& value) { return encode_fn(value); }, &again);                           \
        if (accepted && again != ::esimguard::to_bytes(input)) {                                   \
            ::esimguard::fuzz::finding("accepted input does not re-encode to its own bytes");      \
        }                                                                                          \
        return 0;                                                                                  \
    }
