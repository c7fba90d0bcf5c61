#pragma once
/// Private helpers shared by the SGP.22 message codecs: typed reads of one
/// field from a TLV with the size and charset rules of RSPDefinitions, and
/// the cross-file pieces (EUICCInfo2 inside euiccSigned1).

#include "esimguard/asn1/euicc_info.hpp"
#include "esimguard/asn1/rsp_types.hpp"
#include "esimguard/asn1/tlv.hpp"

#include <array>
#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

/// Assigns the value of a result to `dst`, or returns its error from the
/// enclosing function (which must return a result<>).
#define ESIMGUARD_ASN1_ASSIGN(dst, expr)                                                           \
    do {                                                                                           \
        auto asn1_r_ = (expr);                                                                     \
        if (!asn1_r_) {                                                                            \
            return std::unexpected(asn1_r_.error());                                               \
        }                                                                                          \
        dst = std::move(*asn1_r_);                                                                 \
    } while (0)

/// Returns the error of a result<void> (or any result) from the enclosing function.
#define ESIMGUARD_ASN1_CHECK(expr)                                                                 \
    do {                                                                                           \
        auto asn1_r_ = (expr);                                                                     \
        if (!asn1_r_) {                                                                            \
            return std::unexpected(asn1_r_.error());                                               \
        }                                                                                          \
    } while (0)

namespace esimguard::asn1::detail {

inline std::unexpected<error> fail(errc code, const tlv& t, std::string_view field) {
    return std::unexpected(error{code, t.offset, field});
}

/// Tags of SGP.22 fields used by several messages.
inline constexpr std::uint32_t tag_sequence = 0x30;
inline constexpr std::uint32_t tag_octet_string = 0x04;
inline constexpr std::uint32_t tag_integer = 0x02;
inline constexpr std::uint32_t tag_boolean = 0x01;
inline constexpr std::uint32_t tag_utf8_string = 0x0C;
inline constexpr std::uint32_t tag_signature = 0x5F37;  ///< [APPLICATION 55]
inline constexpr std::uint32_t tag_euicc_otpk = 0x5F49; ///< [APPLICATION 73]

/// A message's outer TLV and a reader over its content.
struct top_level {
    tlv outer;
    reader body;
};

/// Decodes the whole input as one TLV carrying `tag`, checking every DER rule
/// beneath it; trailing bytes are refused.
[[nodiscard]] result<top_level> open_top_level(byte_view data, std::uint32_t tag,
                                               std::string_view field);

/// OCTET STRING content with min <= size <= max.
[[nodiscard]] result<bytes> octets(const tlv& t, std::size_t min, std::size_t max,
                                   std::string_view field);

/// OCTET STRING content of exactly N bytes.
template <std::size_t N>
[[nodiscard]] result<std::array<std::uint8_t, N>> fixed_octets(const tlv& t,
                                                               std::string_view field) {
    if (t.value.size() != N) {
        return fail(errc::invalid_value, t, field);
    }
    std::array<std::uint8_t, N> out{};
    std::copy(t.value.begin(), t.value.end(), out.begin());
    return out;
}

/// TransactionId: 1..16 bytes.
[[nodiscard]] result<bytes> transaction_id_of(const tlv& t);

/// UTF8String content: well-formed UTF-8 (no overlongs, no surrogates), at
/// most `max_bytes` bytes.
[[nodiscard]] result<std::string> utf8(const tlv& t, std::size_t max_bytes, std::string_view field);

/// BIT STRING content: the unused-bits byte is 0..7, and 0 when there is no data.
[[nodiscard]] result<bit_string> bits(const tlv& t, std::string_view field);

/// A non-negative INTEGER that fits in 32 bits (enumerated codes, categories).
[[nodiscard]] result<std::uint32_t> small_uint(const tlv& t, std::string_view field);

/// OBJECT IDENTIFIER content: non-empty, each sub-identifier minimal and
/// terminated. Returns the content octets.
[[nodiscard]] result<bytes> object_identifier(const tlv& t, std::string_view field);

/// Reads a Certificate: one TLV tagged 30, kept as its raw bytes.
[[nodiscard]] result<der_certificate> certificate(reader& r, std::string_view field);

/// Reads a [APPLICATION 55] raw signature of exactly 64 bytes.
[[nodiscard]] result<raw_signature> signature(reader& r, std::string_view field);

/// SEQUENCE OF SubjectKeyIdentifier content (each a non-empty OCTET STRING).
[[nodiscard]] result<std::vector<key_identifier>> key_id_list(const reader& parent, const tlv& t,
                                                              std::string_view field);

/// Reads the rest of a SEQUENCE as extension additions: each remaining
/// element must carry a context-specific tag that none of the `known` fields
/// uses (so a duplicated field is refused, not skipped). Kept raw.
[[nodiscard]] result<extension_list>
extensions(reader& r, std::initializer_list<std::uint32_t> known, std::string_view field);

/// Appends kept extension additions.
void put_extensions(writer& w, const extension_list& ext);

/// Decodes untrusted bytes that must be exactly one TLV, with `inner`
/// (called as inner(parent_reader, tlv)) checking the tag and the content.
template <typename F>
[[nodiscard]] auto decode_whole(byte_view data, F&& inner)
    -> decltype(inner(std::declval<const reader&>(), std::declval<const tlv&>())) {
    auto whole = decode_single(data);
    if (!whole) {
        return std::unexpected(whole.error());
    }
    return inner(reader(data), *whole);
}

/// EUICCInfo2 from an already parsed TLV tagged BF22 (nested in euiccSigned1).
[[nodiscard]] result<euicc_info2> decode_euicc_info2(const reader& parent, const tlv& t);

} // namespace esimguard::asn1::detail
