#pragma once
/// DER TLV reader and writer: the byte layer beneath every SGP.22 message.
///
/// Tags are kept as their encoded bytes packed big-endian into a uint32_t, the
/// way SGP.22 writes them: 0x30, 0x80, 0xBF36, 0x5F37, 0x5F49. A tag of more
/// than 4 bytes is refused. Lengths must be definite and minimally encoded.

#include "esimguard/core/bytes.hpp"

#include <cstdint>
#include <expected>
#include <string_view>

namespace esimguard::asn1 {

/// Why decoding failed. Each DER rule broken has its own code.
enum class errc {
    truncated,          ///< the buffer ends inside a tag or a length
    indefinite_length,  ///< length byte 0x80 (BER indefinite form)
    length_past_buffer, ///< the length runs past the end of the enclosing value
    tag_too_long,       ///< a tag of more than 4 bytes
    nesting_too_deep,   ///< constructed values nested deeper than max_depth
    trailing_bytes,     ///< bytes left over after the value that was expected
    non_minimal_length, ///< a length encoded in more bytes than needed
    length_too_large,   ///< a length field of more than 4 bytes
    non_minimal_tag,    ///< a high tag number with a leading 0x80 byte or that fits in 5 bits
    unexpected_tag,     ///< a tag other than the one the schema requires here
    missing_field,      ///< a mandatory element is absent
    invalid_value,      ///< the content breaks a rule of its type (size, range, charset)
};

/// Stable, short name of an error code, for logs and tests.
std::string_view to_string(errc e);

/// A decode failure: what went wrong and where (byte offset into the input
/// given to the outermost decoder, when known; the field name when known).
struct error {
    errc code;
    std::size_t offset = 0;
    std::string_view field = {};
};

template <typename T>
using result = std::expected<T, error>;

/// Deepest nesting of constructed values accepted (SGP.22 messages need < 10).
inline constexpr int max_depth = 32;

/// Tag helpers on the packed form.
constexpr bool is_constructed(std::uint32_t tag) {
    // The first byte of the encoded tag carries the constructed bit.
    while (tag > 0xff) {
        tag >>= 8;
    }
    return (tag & 0x20) != 0;
}

/// One decoded TLV. Views point into the input buffer, which must outlive it.
struct tlv {
    std::uint32_t tag = 0;
    byte_view value;        ///< the content octets
    byte_view raw;          ///< tag, length and content: the exact bytes received
    std::size_t offset = 0; ///< offset of raw within the outermost input
    bool constructed() const { return is_constructed(tag); }
};

/// Reads consecutive TLVs from a buffer. Never reads outside it.
class reader {
public:
    /// \param data    the bytes to read (not copied)
    /// \param depth   nesting depth of these bytes (0 at the top)
    /// \param base    offset of data within the outermost input, for errors
    explicit reader(byte_view data, int depth = 0, std::size_t base = 0)
        : data_(data), depth_(depth), base_(base) {}

    bool at_end() const { return pos_ >= data_.size(); }
    std::size_t remaining() const { return data_.size() - pos_; }
    int depth() const { return depth_; }

    /// Reads the next TLV and advances past it.
    [[nodiscard]] result<tlv> next();
    /// Reads the next TLV without advancing.
    [[nodiscard]] result<tlv> peek() const;
    /// Reads the next TLV only if it carries `tag`; nullopt-like empty tlv
    /// (tag 0) when the next one has another tag or the reader is at its end.
    [[nodiscard]] result<tlv> next_if(std::uint32_t tag);
    /// Reads the next TLV and requires it to carry `tag` (errc::unexpected_tag
    /// or errc::missing_field otherwise).
    [[nodiscard]] result<tlv> expect(std::uint32_t tag, std::string_view field = {});
    /// A reader over the content of a constructed TLV, one level deeper
    /// (errc::nesting_too_deep past max_depth).
    [[nodiscard]] result<reader> enter(const tlv& t) const;
    /// Succeeds only if every byte was consumed (errc::trailing_bytes otherwise).
    [[nodiscard]] result<void> finish() const;

private:
    [[nodiscard]] result<tlv> parse_at(std::size_t pos, std::size_t& next_pos) const;

    byte_view data_;
    std::size_t pos_ = 0;
    int depth_ = 0;
    std::size_t base_ = 0;
};

/// Decodes exactly one TLV that fills the whole buffer, checking every DER
/// rule recursively through all constructed values. The entry point for
/// untrusted input.
[[nodiscard]] result<tlv> decode_single(byte_view data);

/// Walks every constructed value under `data` and checks all TLV rules
/// (lengths, tags, depth). `data` may hold several consecutive TLVs.
[[nodiscard]] result<void> validate(byte_view data, int depth = 0, std::size_t base = 0);

/// Builds DER. Constructed values are opened with begin() and closed with
/// end(), which writes the minimal length in front of their content.
class writer {
public:
    /// Appends a primitive (or pre-encoded constructed) TLV.
    writer& add(std::uint32_t tag, byte_view value);
    /// Appends bytes that are already a complete TLV encoding.
    writer& add_raw(byte_view encoded);
    /// Appends an INTEGER-like unsigned value in minimal two's complement.
    writer& add_uint(std::uint32_t tag, std::uint64_t v);
    /// Appends a BOOLEAN (0xFF for true, as DER requires).
    writer& add_bool(std::uint32_t tag, bool v);
    /// Opens a constructed value; must be matched by end().
    writer& begin(std::uint32_t tag);
    /// Closes the innermost open constructed value.
    writer& end();
    /// The encoding so far; all begin() calls must have been closed.
    [[nodiscard]] bytes finish() &&;
    const bytes& buffer() const { return out_; }

private:
    bytes out_;
    std::vector<std::pair<std::uint32_t, std::size_t>> open_; // tag, content start
};

/// Encodes a tag in its packed form to bytes.
void append_tag(bytes& out, std::uint32_t tag);
/// Encodes a definite length in its minimal form.
void append_length(bytes& out, std::size_t len);
/// Encodes one TLV.
[[nodiscard]] bytes encode(std::uint32_t tag, byte_view value);

/// Decodes an unsigned INTEGER content (up to 8 bytes, minimal form).
[[nodiscard]] result<std::uint64_t> decode_uint(const tlv& t);
/// Decodes a BOOLEAN content (one byte, 0x00 or 0xFF in DER).
[[nodiscard]] result<bool> decode_bool(const tlv& t);

} // namespace esimguard::asn1
