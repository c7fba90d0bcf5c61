#include "field_codec.hpp"

#include <algorithm>

namespace esimguard::asn1::detail {

namespace {

std::uint8_t first_tag_byte(std::uint32_t tag) {
    while (tag > 0xff) {
        tag >>= 8;
    }
    return static_cast<std::uint8_t>(tag);
}

bool is_context_specific(std::uint32_t tag) {
    return (first_tag_byte(tag) & 0xC0) == 0x80;
}

// RFC 3629 §4: rejects overlong forms, surrogates and code points past U+10FFFF,
// which a later consumer (logs, JSON, the portal) could mis-handle.
bool is_valid_utf8(byte_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const std::uint8_t c = s[i];
        if (c < 0x80) {
            ++i;
            continue;
        }
        std::size_t n = 0;
        std::uint8_t lo = 0x80;
        std::uint8_t hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
        } else if (c == 0xE0) {
            n = 2;
            lo = 0xA0;
        } else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
            n = 2;
        } else if (c == 0xED) {
            n = 2;
            hi = 0x9F;
        } else if (c == 0xF0) {
            n = 3;
            lo = 0x90;
        } else if (c >= 0xF1 && c <= 0xF3) {
            n = 3;
        } else if (c == 0xF4) {
            n = 3;
            hi = 0x8F;
        } else {
            return false;
        }
        if (s.size() - i - 1 < n) {
            return false;
        }
        if (s[i + 1] < lo || s[i + 1] > hi) {
            return false;
        }
        for (std::size_t k = 2; k <= n; ++k) {
            if ((s[i + k] & 0xC0) != 0x80) {
                return false;
            }
        }
        i += n + 1;
    }
    return true;
}

} // namespace

result<top_level> open_top_level(byte_view data, std::uint32_t tag, std::string_view field) {
    auto whole = decode_single(data);
    if (!whole) {
        return std::unexpected(whole.error());
    }
    if (whole->tag != tag) {
        return fail(errc::unexpected_tag, *whole, field);
    }
    if (!whole->constructed()) {
        return fail(errc::unexpected_tag, *whole, field);
    }
    reader top(data);
    auto body = top.enter(*whole);
    if (!body) {
        return std::unexpected(body.error());
    }
    return top_level{*whole, *body};
}

result<bytes> octets(const tlv& t, std::size_t min, std::size_t max, std::string_view field) {
    if (t.value.size() < min || t.value.size() > max) {
        return fail(errc::invalid_value, t, field);
    }
    return to_bytes(t.value);
}

result<bytes> transaction_id_of(const tlv& t) {
    return octets(t, transaction_id_min, transaction_id_max, "transactionId");
}

result<std::string> utf8(const tlv& t, std::size_t max_bytes, std::string_view field) {
    if (t.value.size() > max_bytes || !is_valid_utf8(t.value)) {
        return fail(errc::invalid_value, t, field);
    }
    return std::string(t.value.begin(), t.value.end());
}

result<bit_string> bits(const tlv& t, std::string_view field) {
    // X.690 §8.6.2: the first octet counts unused bits; 0 when nothing follows.
    if (t.value.empty() || t.value[0] > 7 || (t.value.size() == 1 && t.value[0] != 0)) {
        return fail(errc::invalid_value, t, field);
    }
    bit_string b;
    b.unused_bits = t.value[0];
    b.data.assign(t.value.begin() + 1, t.value.end());
    return b;
}

result<std::uint32_t> small_uint(const tlv& t, std::string_view field) {
    const auto v = t.value;
    // A negative value, a non-minimal form or more than 32 bits of magnitude
    // is no valid code in any SGP.22 enumeration.
    if (v.empty() || (v[0] & 0x80) != 0) {
        return fail(errc::invalid_value, t, field);
    }
    if (v.size() > 1 && v[0] == 0 && (v[1] & 0x80) == 0) {
        return fail(errc::invalid_value, t, field);
    }
    if (v.size() > 5 || (v.size() == 5 && v[0] != 0)) {
        return fail(errc::invalid_value, t, field);
    }
    std::uint32_t out = 0;
    for (auto b : v) {
        out = (out << 8) | b;
    }
    return out;
}

result<bytes> object_identifier(const tlv& t, std::string_view field) {
    const auto v = t.value;
    if (v.empty() || (v.back() & 0x80) != 0) {
        return fail(errc::invalid_value, t, field);
    }
    // X.690 §8.19.2: each sub-identifier in the fewest octets, so none starts with 0x80.
    bool at_start = true;
    for (auto b : v) {
        if (at_start && b == 0x80) {
            return fail(errc::invalid_value, t, field);
        }
        at_start = (b & 0x80) == 0;
    }
    return to_bytes(v);
}

result<der_certificate> certificate(reader& r, std::string_view field) {
    auto t = r.expect(tag_sequence, field);
    if (!t) {
        return std::unexpected(t.error());
    }
    if (t->value.empty()) {
        return fail(errc::invalid_value, *t, field);
    }
    return to_bytes(t->raw);
}

result<raw_signature> signature(reader& r, std::string_view field) {
    auto t = r.expect(tag_signature, field);
    if (!t) {
        return std::unexpected(t.error());
    }
    return fixed_octets<64>(*t, field);
}

result<std::vector<key_identifier>> key_id_list(const reader& parent, const tlv& t,
                                                std::string_view field) {
    auto inner = parent.enter(t);
    if (!inner) {
        return std::unexpected(inner.error());
    }
    std::vector<key_identifier> out;
    while (!inner->at_end()) {
        auto e = inner->expect(tag_octet_string, field);
        if (!e) {
            return std::unexpected(e.error());
        }
        // A SubjectKeyIdentifier is a hash of the key (20 bytes with SHA-1);
        // the bound keeps a hostile list from holding huge entries.
        auto id = octets(*e, 1, 64, field);
        if (!id) {
            return std::unexpected(id.error());
        }
        out.push_back(std::move(*id));
    }
    return out;
}

result<extension_list> extensions(reader& r, std::initializer_list<std::uint32_t> known,
                                  std::string_view field) {
    extension_list out;
    while (!r.at_end()) {
        auto t = r.next();
        if (!t) {
            return std::unexpected(t.error());
        }
        const bool is_known = std::find(known.begin(), known.end(), t->tag) != known.end();
        if (is_known || !is_context_specific(t->tag)) {
            return fail(errc::unexpected_tag, *t, field);
        }
        out.push_back(to_bytes(t->raw));
    }
    return out;
}

void put_extensions(writer& w, const extension_list& ext) {
    for (const auto& e : ext) {
        w.add_raw(e);
    }
}

} // namespace esimguard::asn1::detail
