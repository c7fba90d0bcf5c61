// Fuzz target: decode_bound_profile_package (BoundProfilePackage BF36, SGP.22 §2.5.5) on
// untrusted bytes, with an exact decode/encode round trip; and the LPA split
// (ES8+.LoadBoundProfilePackage), whose pieces must join back into the input.
#include "esimguard/asn1/bpp.hpp"
#include "fuzz_messages2.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace esimguard;
    const byte_view input(data, size);
    const bool accepted = fuzz::exact_roundtrip(
        input, [](byte_view in) { return asn1::decode_bound_profile_package(in); },
        [](const auto& value) { return asn1::encode(value); });
    auto pieces = asn1::split_bound_profile_package(input);
    if (pieces.has_value() != accepted) {
        fuzz::finding("split and decode disagree on whether the package is valid");
    }
    if (pieces) {
        bytes joined;
        for (const auto& p : *pieces) {
            joined.insert(joined.end(), p.begin(), p.end());
        }
        // Extension elements after A3 are the only bytes no piece carries.
        auto decoded = asn1::decode_bound_profile_package(input);
        if (decoded->extensions.empty() && joined != bytes(input.begin(), input.end())) {
            fuzz::finding("the pieces of a package do not join back into it");
        }
    }
    return 0;
}
