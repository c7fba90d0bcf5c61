#pragma once
// Private helpers of the profile-metadata, BPP, installation-result,
// notification and ES10c codecs: typed reads of one field with the size and
// charset rules of SGP.22 RSPDefinitions (SGP.22 §2.4, §5.7).

#include "esimguard/asn1/rsp_types.hpp"
#include "esimguard/asn1/tlv.hpp"

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

// Declares `var` as the value of a result, or returns its error from the
// enclosing function (which must return a result<>).
#define ESIMGUARD_M2_TRY(var, expr)                                                                \
    auto var##_r_ = (expr);                                                                        \
    if (!var##_r_) {                                                                               \
        return std::unexpected(var##_r_.error());                                                  \
    }                                                                                              \
    auto var = std::move(*var##_r_)

// Returns the error of a result (of any type) from the enclosing function.
#define ESIMGUARD_M2_CHECK(expr)                                                                   \
    do {                                                                                           \
        auto m2_r_ = (expr);                                                                       \
        if (!m2_r_) {                                                                              \
            return std::unexpected(m2_r_.error());                                                 \
        }                                                                                          \
    } while (0)

namespace esimguard::asn1::codec2 {

inline std::unexpected<error> fail(errc code, std::size_t offset, std::string_view field) {
    return std::unexpected(error{code, offset, field});
}
inline std::unexpected<error> fail(errc code, const tlv& t, std::string_view field) {
    return fail(code, t.offset, field);
}

inline constexpr std::uint32_t tag_sequence = 0x30;
inline constexpr std::uint32_t tag_octet_string = 0x04;
inline constexpr std::uint32_t tag_oid = 0x06;
inline constexpr std::uint32_t tag_utf8_string = 0x0C;
inline constexpr std::uint32_t tag_iccid = 0x5A;
inline constexpr std::uint32_t tag_aid = 0x4F;
inline constexpr std::uint32_t tag_signature = 0x5F37; // [APPLICATION 55]
inline constexpr std::uint32_t tag_otpk = 0x5F49;      // [APPLICATION 73]

/// TransactionId ::= OCTET STRING (SIZE(1..16)).
inline constexpr std::size_t transaction_id_min = 1;
inline constexpr std::size_t transaction_id_max = 16;

/// Whether a tag is context-specific (class bits 10 in its first byte).
inline bool is_context(std::uint32_t tag) {
    while (tag > 0xff) {
        tag >>= 8;
    }
    return (tag & 0xc0) == 0x80;
}

/// Decodes the whole input as one TLV carrying `tag`, all DER rules checked
/// recursively, and returns it with a reader over its content.
struct opened {
    tlv t;
    reader r;
};
[[nodiscard]] inline result<opened> open_top(byte_view data, std::uint32_t tag,
                                             std::string_view field) {
    auto t = decode_single(data);
    if (!t) {
        return std::unexpected(t.error());
    }
    if (t->tag != tag) {
        return fail(errc::unexpected_tag, *t, field);
    }
    auto r = reader(data).enter(*t);
    if (!r) {
        return std::unexpected(r.error());
    }
    return opened{*t, *r};
}

/// Requires `t` to be constructed and returns a reader over its content.
[[nodiscard]] inline result<reader> enter(const reader& parent, const tlv& t,
                                          std::string_view field) {
    if (!t.constructed()) {
        return fail(errc::invalid_value, t, field);
    }
    return parent.enter(t);
}

/// Requires `t` to be primitive (DER strings are never constructed).
[[nodiscard]] inline result<void> primitive(const tlv& t, std::string_view field) {
    if (t.constructed()) {
        return fail(errc::invalid_value, t, field);
    }
    return {};
}

/// OCTET STRING-like content of min..max bytes.
[[nodiscard]] inline result<bytes> octets(const tlv& t, std::size_t min, std::size_t max,
                                          std::string_view field) {
    ESIMGUARD_M2_CHECK(primitive(t, field));
    if (t.value.size() < min || t.value.size() > max) {
        return fail(errc::invalid_value, t, field);
    }
    return to_bytes(t.value);
}

/// Fixed-size content into an array.
template <std::size_t N>
[[nodiscard]] result<std::array<std::uint8_t, N>> fixed(const tlv& t, std::string_view field) {
    ESIMGUARD_M2_CHECK(primitive(t, field));
    if (t.value.size() != N) {
        return fail(errc::invalid_value, t, field);
    }
    std::array<std::uint8_t, N> out{};
    for (std::size_t i = 0; i < N; ++i) {
        out[i] = t.value[i];
    }
    return out;
}

/// Whether `s` is well-formed UTF-8 (RFC 3629: no overlongs, no surrogates,
/// nothing above U+10FFFF); counts its code points into `chars`.
inline bool utf8_ok(byte_view s, std::size_t& chars) {
    chars = 0;
    std::size_t i = 0;
    while (i < s.size()) {
        const std::uint8_t c = s[i];
        std::size_t n = 0;
        std::uint32_t cp = 0;
        if (c < 0x80) {
            n = 0;
            cp = c;
        } else if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (i + n >= s.size() && n != 0) {
            return false;
        }
        for (std::size_t k = 1; k <= n; ++k) {
            if ((s[i + k] & 0xc0) != 0x80) {
                return false;
            }
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff)) {
            return false;
        }
        i += n + 1;
        ++chars;
    }
    return true;
}

/// UTF8String content, at most `max_chars` characters (the SIZE of an ASN.1
/// character string counts characters, not bytes).
[[nodiscard]] inline result<std::string> utf8(const tlv& t, std::size_t max_chars,
                                              std::string_view field) {
    ESIMGUARD_M2_CHECK(primitive(t, field));
    std::size_t chars = 0;
    if (!utf8_ok(t.value, chars) || chars > max_chars) {
        return fail(errc::invalid_value, t, field);
    }
    return std::string(t.value.begin(), t.value.end());
}

/// Whether a string to be encoded keeps the rules utf8() checks on decode.
inline bool utf8_fits(std::string_view s, std::size_t max_chars) {
    std::size_t chars = 0;
    return utf8_ok(as_bytes(s), chars) && chars <= max_chars;
}

/// INTEGER content, non-negative, at most `max`.
[[nodiscard]] inline result<std::uint64_t> uint_max(const tlv& t, std::uint64_t max,
                                                    std::string_view field) {
    auto v = decode_uint(t);
    if (!v || *v > max) {
        return fail(errc::invalid_value, t, field);
    }
    return *v;
}

/// BOOLEAN content (DER: 00 or FF only).
[[nodiscard]] inline result<bool> boolean(const tlv& t, std::string_view field) {
    auto v = decode_bool(t);
    if (!v) {
        return fail(errc::invalid_value, t, field);
    }
    return *v;
}

/// BIT STRING with named bits in DER form: unused-bits byte 0..7 (0 with no
/// data), unused bits zero, and no trailing zero bits (X.690 §11.2.2), so a
/// value re-encodes to the bytes it came as.
[[nodiscard]] inline result<bit_string> bits(const tlv& t, std::string_view field) {
    ESIMGUARD_M2_CHECK(primitive(t, field));
    if (t.value.empty()) {
        return fail(errc::invalid_value, t, field);
    }
    bit_string b;
    b.unused_bits = t.value[0];
    b.data.assign(t.value.begin() + 1, t.value.end());
    if (b.unused_bits > 7 || (b.data.empty() && b.unused_bits != 0)) {
        return fail(errc::invalid_value, t, field);
    }
    if (!b.data.empty()) {
        const std::uint8_t last = b.data.back();
        const std::uint8_t unused_mask = static_cast<std::uint8_t>((1u << b.unused_bits) - 1);
        // The last data byte must hold a set bit right at its last used
        // position: anything else is an unused bit set or a trailing zero bit.
        if ((last & unused_mask) != 0 || (last & (1u << b.unused_bits)) == 0) {
            return fail(errc::invalid_value, t, field);
        }
    }
    return b;
}

/// Appends a BIT STRING.
inline void put_bits(writer& w, std::uint32_t tag, const bit_string& b) {
    bytes content;
    content.reserve(b.data.size() + 1);
    content.push_back(b.data.empty() ? 0 : b.unused_bits);
    content.insert(content.end(), b.data.begin(), b.data.end());
    w.add(tag, content);
}

/// OBJECT IDENTIFIER content: non-empty, every sub-identifier minimal
/// (no leading 0x80) and terminated.
[[nodiscard]] inline result<bytes> object_identifier(const tlv& t, std::string_view field) {
    ESIMGUARD_M2_CHECK(primitive(t, field));
    const byte_view v = t.value;
    if (v.empty() || (v.back() & 0x80) != 0) {
        return fail(errc::invalid_value, t, field);
    }
    bool start = true;
    for (std::uint8_t b : v) {
        if (start && b == 0x80) {
            return fail(errc::invalid_value, t, field);
        }
        start = (b & 0x80) == 0;
    }
    return to_bytes(v);
}

/// Reads the rest of a SEQUENCE as extension additions (EXTENSIBILITY
/// IMPLIED): each element must carry a context-specific tag that none of the
/// `known` fields uses, so a duplicated or misplaced field is refused rather
/// than skipped. Kept raw so that the value re-encodes to the bytes received.
[[nodiscard]] inline result<extension_list>
extensions(reader& r, std::initializer_list<std::uint32_t> known, std::string_view field) {
    extension_list out;
    while (!r.at_end()) {
        ESIMGUARD_M2_TRY(t, r.next());
        if (!is_context(t.tag)) {
            return fail(errc::unexpected_tag, t, field);
        }
        for (std::uint32_t k : known) {
            if (k == t.tag) {
                return fail(errc::unexpected_tag, t, field);
            }
        }
        out.push_back(to_bytes(t.raw));
    }
    return out;
}

/// Appends kept extension additions.
inline void put_extensions(writer& w, const extension_list& ext) {
    for (const auto& e : ext) {
        w.add_raw(e);
    }
}

/// Reads an optional field: an empty tlv (tag 0) when absent.
[[nodiscard]] inline result<tlv> optional_field(reader& r, std::uint32_t tag) {
    return r.next_if(tag);
}

} // namespace esimguard::asn1::codec2
