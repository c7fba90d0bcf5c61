#pragma once
/// Shared helpers for the libFuzzer targets in fuzz/fuzz_*.cpp.
///
/// Most targets need only one line:
///
///     ESIMGUARD_FUZZ_ROUNDTRIP(esimguard::asn1::decode_euicc_info1,
///                              esimguard::asn1::encode_euicc_info1)
///
/// which defines LLVMFuzzerTestOneInput. Input that the decoder refuses is
/// fine (that is the decoder doing its job); input it accepts must re-encode,
/// and because DER is canonical that encoding must decode again and re-encode
/// to the very same bytes. Any departure calls std::abort() so that libFuzzer
/// records the input as a finding. Sanitizers catch the rest (out-of-bounds
/// reads, overflow, leaks).

#include "esimguard/core/bytes.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <type_traits>
#include <utility>

namespace esimguard::fuzz {

/// Stops the fuzzer with a message; libFuzzer saves the input that led here.
[[noreturn]] inline void finding(const char* what) {
    std::fprintf(stderr, "esimguard fuzz finding: %s\n", what);
    std::abort();
}

/// The bytes an encoder produced, whether it returns `bytes` or an
/// expected-like `result<bytes>`. An encoder that refuses a value its own
/// decoder produced is a finding: every decoded value must be encodable.
template <typename Encoded>
bytes encoded_bytes(Encoded&& e) {
    if constexpr (std::is_convertible_v<Encoded, byte_view>) {
        return bytes(e.begin(), e.end());
    } else {
        if (!e.has_value()) {
            finding("encoder refused a value its decoder accepted");
        }
        return bytes(e->begin(), e->end());
    }
}

/// Decode, re-encode, decode again, re-encode again: the two encodings must be
/// equal. `decode` takes a byte_view and returns an expected-like result;
/// `encode` takes the decoded value and returns `bytes` or `result<bytes>`.
/// Returns whether the input decoded; if it did and `first_encoding` is given,
/// the re-encoding is stored there for targets that check more.
template <typename Decode, typename Encode>
bool roundtrip(byte_view input, Decode&& decode, Encode&& encode, bytes* first_encoding = nullptr) {
    auto decoded = decode(input);
    if (!decoded.has_value()) {
        return false;
    }
    bytes once = encoded_bytes(encode(*decoded));
    auto again = decode(byte_view(once));
    if (!again.has_value()) {
        finding("re-encoding of an accepted input does not decode");
    }
    bytes twice = encoded_bytes(encode(*again));
    if (once != twice) {
        finding("re-encoding is not stable: DER must be canonical");
    }
    if (first_encoding != nullptr) {
        *first_encoding = std::move(once);
    }
    return true;
}

} // namespace esimguard::fuzz

/// Defines LLVMFuzzerTestOneInput as a decode/encode round trip (see above).
/// Use once per fuzz target, at namespace scope.
#define ESIMGUARD_FUZZ_ROUNDTRIP(decode_fn, encode_fn)                                             \
    extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {            \
        ::esimguard::fuzz::roundtrip(                                                              \
            ::esimguard::byte_view(data, size),                                                    \
            [](::esimguard::byte_view in) { return decode_fn(in); },                               \
            [](const auto& value) { return encode_fn(value); });                                   \
        return 0;                                                                                  \
    }
