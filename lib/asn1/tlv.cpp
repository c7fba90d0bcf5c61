// DER TLV reader and writer (ITU-T X.690 §8.1 and §10, as SGP.22 §2.4 uses them).
//
// Error offsets: every refusal found while parsing one TLV points at the first
// byte of that TLV's tag, so a caller can find the element that broke a rule;
// trailing_bytes and missing_field point at where the unexpected or absent
// element begins.

#include "esimguard/asn1/tlv.hpp"

#include <cstdio>
#include <cstdlib>

namespace esimguard::asn1 {
namespace {

// A broken invariant in our own encoder is a bug, never input: stop at once.
void require(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "esimguard::asn1 writer: %s\n", what);
        std::abort();
    }
}

std::unexpected<error> fail(errc code, std::size_t offset, std::string_view field = {}) {
    return std::unexpected(error{code, offset, field});
}

// Largest number of tag bytes a packed uint32_t tag can hold.
constexpr std::size_t max_tag_bytes = 4;
// Largest number of length octets after the 0x8N byte; 4 bytes already allow
// 4 GiB, far beyond any SGP.22 message.
constexpr std::size_t max_length_bytes = 4;

struct header {
    std::uint32_t tag = 0;
    std::size_t header_size = 0; // tag and length octets
    std::size_t length = 0;      // content octets
};

// Parses the tag and length at data[pos] without reading past data.
// `at` is the absolute offset of data[pos], used for every error.
result<header> parse_header(byte_view data, std::size_t pos, std::size_t at) {
    const std::size_t size = data.size();
    if (pos >= size) {
        return fail(errc::truncated, at);
    }
    header h;
    std::size_t p = pos;
    const std::uint8_t first = data[p++];
    h.tag = first;
    if ((first & 0x1f) == 0x1f) {
        // High-tag-number form (X.690 §8.1.2.4): base-128 digits, bit 8 set on
        // all but the last. DER demands the fewest digits (no leading 0x80)
        // and the short form for numbers below 31.
        std::uint64_t number = 0;
        std::size_t digits = 0;
        for (;;) {
            if (p >= size) {
                return fail(errc::truncated, at);
            }
            const std::uint8_t b = data[p++];
            ++digits;
            if (digits == 1 && b == 0x80) {
                return fail(errc::non_minimal_tag, at);
            }
            if (1 + digits >= max_tag_bytes && (b & 0x80) != 0) {
                // A fifth byte would follow: it cannot be packed in a uint32_t.
                return fail(errc::tag_too_long, at);
            }
            h.tag = (h.tag << 8) | b;
            number = (number << 7) | (b & 0x7f);
            if ((b & 0x80) == 0) {
                break;
            }
        }
        if (number < 31) {
            return fail(errc::non_minimal_tag, at);
        }
    }

    if (p >= size) {
        return fail(errc::truncated, at);
    }
    const std::uint8_t l0 = data[p++];
    if (l0 < 0x80) {
        h.length = l0;
    } else if (l0 == 0x80) {
        return fail(errc::indefinite_length, at);
    } else {
        const std::size_t n = l0 & 0x7f;
        if (n > max_length_bytes) {
            return fail(errc::length_too_large, at);
        }
        if (size - p < n) {
            return fail(errc::truncated, at);
        }
        if (data[p] == 0x00) {
            return fail(errc::non_minimal_length, at);
        }
        std::uint64_t len = 0;
        for (std::size_t i = 0; i < n; ++i) {
            len = (len << 8) | data[p++];
        }
        if (len < 0x80) {
            return fail(errc::non_minimal_length, at);
        }
        if (len > size - p) {
            // Compared before narrowing, for targets with a 32-bit size_t.
            return fail(errc::length_past_buffer, at);
        }
        h.length = static_cast<std::size_t>(len);
    }
    if (h.length > size - p) {
        return fail(errc::length_past_buffer, at);
    }
    h.header_size = p - pos;
    return h;
}

std::size_t tag_size(std::uint32_t tag) {
    std::size_t n = 1;
    while (tag > 0xff) {
        tag >>= 8;
        ++n;
    }
    return n;
}

std::size_t content_offset(const tlv& t) {
    return t.offset + (t.raw.size() - t.value.size());
}

void append_uint_content(bytes& out, std::uint64_t v) {
    int shift = 56;
    while (shift > 0 && ((v >> shift) & 0xff) == 0) {
        shift -= 8;
    }
    // A set top bit would read as negative: INTEGER is two's complement.
    if (((v >> shift) & 0x80) != 0) {
        out.push_back(0x00);
    }
    for (; shift >= 0; shift -= 8) {
        out.push_back(static_cast<std::uint8_t>(v >> shift));
    }
}

std::size_t uint_content_size(std::uint64_t v) {
    bytes tmp;
    append_uint_content(tmp, v);
    return tmp.size();
}

} // namespace

std::string_view to_string(errc e) {
    switch (e) {
    case errc::truncated:
        return "truncated";
    case errc::indefinite_length:
        return "indefinite_length";
    case errc::length_past_buffer:
        return "length_past_buffer";
    case errc::tag_too_long:
        return "tag_too_long";
    case errc::nesting_too_deep:
        return "nesting_too_deep";
    case errc::trailing_bytes:
        return "trailing_bytes";
    case errc::non_minimal_length:
        return "non_minimal_length";
    case errc::length_too_large:
        return "length_too_large";
    case errc::non_minimal_tag:
        return "non_minimal_tag";
    case errc::unexpected_tag:
        return "unexpected_tag";
    case errc::missing_field:
        return "missing_field";
    case errc::invalid_value:
        return "invalid_value";
    }
    return "unknown";
}

// ---- reader ---------------------------------------------------------------

result<tlv> reader::parse_at(std::size_t pos, std::size_t& next_pos) const {
    auto h = parse_header(data_, pos, base_ + pos);
    if (!h) {
        return std::unexpected(h.error());
    }
    tlv t;
    t.tag = h->tag;
    t.raw = data_.subspan(pos, h->header_size + h->length);
    t.value = data_.subspan(pos + h->header_size, h->length);
    t.offset = base_ + pos;
    next_pos = pos + h->header_size + h->length;
    return t;
}

result<tlv> reader::next() {
    std::size_t next_pos = pos_;
    auto t = parse_at(pos_, next_pos);
    if (t) {
        pos_ = next_pos;
    }
    return t;
}

result<tlv> reader::peek() const {
    std::size_t next_pos = pos_;
    return parse_at(pos_, next_pos);
}

result<tlv> reader::next_if(std::uint32_t tag) {
    if (at_end()) {
        return tlv{};
    }
    std::size_t next_pos = pos_;
    auto t = parse_at(pos_, next_pos);
    if (!t) {
        return t;
    }
    if (t->tag != tag) {
        return tlv{};
    }
    pos_ = next_pos;
    return t;
}

result<tlv> reader::expect(std::uint32_t tag, std::string_view field) {
    if (at_end()) {
        return fail(errc::missing_field, base_ + pos_, field);
    }
    std::size_t next_pos = pos_;
    auto t = parse_at(pos_, next_pos);
    if (!t) {
        return fail(t.error().code, t.error().offset, field);
    }
    if (t->tag != tag) {
        return fail(errc::unexpected_tag, t->offset, field);
    }
    pos_ = next_pos;
    return t;
}

result<reader> reader::enter(const tlv& t) const {
    if (depth_ + 1 > max_depth) {
        return fail(errc::nesting_too_deep, t.offset);
    }
    return reader(t.value, depth_ + 1, content_offset(t));
}

result<void> reader::finish() const {
    if (!at_end()) {
        return fail(errc::trailing_bytes, base_ + pos_);
    }
    return {};
}

// ---- whole-value checks ---------------------------------------------------

result<void> validate(byte_view data, int depth, std::size_t base) {
    if (depth > max_depth) {
        return fail(errc::nesting_too_deep, base);
    }
    reader r(data, depth, base);
    while (!r.at_end()) {
        auto t = r.next();
        if (!t) {
            return std::unexpected(t.error());
        }
        if (t->constructed()) {
            // Checked here rather than by the callee so the error names the
            // value whose content is too deep; recursion stays <= max_depth.
            if (depth + 1 > max_depth) {
                return fail(errc::nesting_too_deep, t->offset);
            }
            auto inner = validate(t->value, depth + 1, content_offset(*t));
            if (!inner) {
                return inner;
            }
        }
    }
    return {};
}

result<tlv> decode_single(byte_view data) {
    reader r(data);
    auto t = r.next();
    if (!t) {
        return t;
    }
    if (auto done = r.finish(); !done) {
        return std::unexpected(done.error());
    }
    if (t->constructed()) {
        if (auto inner = validate(t->value, 1, content_offset(*t)); !inner) {
            return std::unexpected(inner.error());
        }
    }
    return t;
}

// ---- primitive contents ---------------------------------------------------

result<std::uint64_t> decode_uint(const tlv& t) {
    const byte_view v = t.value;
    // X.690 §8.3: at least one byte, two's complement, no redundant leading
    // 0x00 (or 0xFF) byte. Only non-negative values that fit 64 bits pass;
    // 2^63 and above take a ninth, leading 0x00 byte.
    if (t.constructed() || v.empty()) {
        return fail(errc::invalid_value, t.offset);
    }
    if ((v[0] & 0x80) != 0) {
        return fail(errc::invalid_value, t.offset);
    }
    if (v.size() > 1 && v[0] == 0x00 && (v[1] & 0x80) == 0) {
        return fail(errc::invalid_value, t.offset);
    }
    if (v.size() > 9 || (v.size() == 9 && v[0] != 0x00)) {
        return fail(errc::invalid_value, t.offset);
    }
    std::uint64_t out = 0;
    for (std::uint8_t b : v) {
        out = (out << 8) | b;
    }
    return out;
}

result<bool> decode_bool(const tlv& t) {
    // X.690 §11.1: DER encodes TRUE as 0xFF only.
    if (t.constructed() || t.value.size() != 1) {
        return fail(errc::invalid_value, t.offset);
    }
    if (t.value[0] == 0xff) {
        return true;
    }
    if (t.value[0] == 0x00) {
        return false;
    }
    return fail(errc::invalid_value, t.offset);
}

// ---- writer ---------------------------------------------------------------

void append_tag(bytes& out, std::uint32_t tag) {
    for (int shift = static_cast<int>(tag_size(tag) - 1) * 8; shift >= 0; shift -= 8) {
        out.push_back(static_cast<std::uint8_t>(tag >> shift));
    }
}

void append_length(bytes& out, std::size_t len) {
    if (len < 0x80) {
        out.push_back(static_cast<std::uint8_t>(len));
        return;
    }
    int n = 0;
    for (std::size_t l = len; l != 0; l >>= 8) {
        ++n;
    }
    out.push_back(static_cast<std::uint8_t>(0x80 | n));
    for (int shift = (n - 1) * 8; shift >= 0; shift -= 8) {
        out.push_back(static_cast<std::uint8_t>(len >> shift));
    }
}

bytes encode(std::uint32_t tag, byte_view value) {
    bytes out;
    out.reserve(tag_size(tag) + 5 + value.size());
    append_tag(out, tag);
    append_length(out, value.size());
    out.insert(out.end(), value.begin(), value.end());
    return out;
}

writer& writer::add(std::uint32_t tag, byte_view value) {
    append_tag(out_, tag);
    append_length(out_, value.size());
    out_.insert(out_.end(), value.begin(), value.end());
    return *this;
}

writer& writer::add_raw(byte_view encoded) {
    out_.insert(out_.end(), encoded.begin(), encoded.end());
    return *this;
}

writer& writer::add_uint(std::uint32_t tag, std::uint64_t v) {
    append_tag(out_, tag);
    append_length(out_, uint_content_size(v));
    append_uint_content(out_, v);
    return *this;
}

writer& writer::add_bool(std::uint32_t tag, bool v) {
    const std::uint8_t content = v ? 0xff : 0x00;
    return add(tag, byte_view(&content, 1));
}

writer& writer::begin(std::uint32_t tag) {
    append_tag(out_, tag);
    open_.emplace_back(tag, out_.size());
    return *this;
}

writer& writer::end() {
    require(!open_.empty(), "end() without a matching begin()");
    const std::size_t start = open_.back().second;
    open_.pop_back();
    // The content length is known only now: the length octets go in front of
    // the content already written.
    bytes len;
    append_length(len, out_.size() - start);
    out_.insert(out_.begin() + static_cast<std::ptrdiff_t>(start), len.begin(), len.end());
    return *this;
}

bytes writer::finish() && {
    require(open_.empty(), "finish() with a begin() not closed by end()");
    return std::move(out_);
}

} // namespace esimguard::asn1
