// ICCID and EID conversions (SGP.22 §2.4 Iccid, ITU-T E.118; EID per GSMA SGP.29).

#include "esimguard/asn1/iccid.hpp"

namespace esimguard::asn1 {
namespace {

std::unexpected<error> invalid(std::size_t offset = 0) {
    return std::unexpected(error{errc::invalid_value, offset, "iccid"});
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

constexpr std::size_t iccid_min_digits = 18;
constexpr std::size_t iccid_max_digits = 20;
constexpr std::size_t eid_digits = 32;

} // namespace

result<iccid_value> iccid_value::parse(std::string_view digits) {
    if (digits.size() < iccid_min_digits || digits.size() > iccid_max_digits) {
        return invalid();
    }
    iccid_value out;
    out.content_.fill(0xff);
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (!is_digit(digits[i])) {
            return invalid();
        }
        const auto d = static_cast<std::uint8_t>(digits[i] - '0');
        std::uint8_t& byte = out.content_[i / 2];
        // The first digit of each pair sits in the low nibble (EF.ICCID order).
        if (i % 2 == 0) {
            byte = static_cast<std::uint8_t>((byte & 0xf0) | d);
        } else {
            byte = static_cast<std::uint8_t>((byte & 0x0f) | (d << 4));
        }
    }
    return out;
}

result<iccid_value> iccid_value::from_der_value(byte_view content) {
    if (content.size() != 10) {
        return invalid();
    }
    std::size_t digits = 0;
    bool padding = false;
    for (std::size_t i = 0; i < 20; ++i) {
        const std::uint8_t b = content[i / 2];
        const std::uint8_t nibble = (i % 2 == 0) ? (b & 0x0f) : (b >> 4);
        if (nibble == 0x0f) {
            padding = true;
        } else if (padding || nibble > 9) {
            // A digit after padding or a nibble A-E.
            return invalid();
        } else {
            ++digits;
        }
    }
    if (digits < iccid_min_digits) {
        return invalid();
    }
    iccid_value out;
    for (std::size_t i = 0; i < 10; ++i) {
        out.content_[i] = content[i];
    }
    return out;
}

std::string iccid_value::to_string() const {
    std::string out;
    out.reserve(iccid_max_digits);
    for (std::size_t i = 0; i < 20; ++i) {
        const std::uint8_t b = content_[i / 2];
        const std::uint8_t nibble = (i % 2 == 0) ? (b & 0x0f) : (b >> 4);
        if (nibble > 9) {
            break;
        }
        out.push_back(static_cast<char>('0' + nibble));
    }
    return out;
}

result<iccid_value> decode_iccid(const tlv& t) {
    if (t.tag != 0x5A) {
        return std::unexpected(error{errc::unexpected_tag, t.offset, "iccid"});
    }
    if (t.constructed()) {
        return invalid(t.offset);
    }
    auto v = iccid_value::from_der_value(t.value);
    if (!v) {
        return invalid(t.offset);
    }
    return v;
}

bytes encode(const iccid_value& v) {
    return encode(0x5A, v.der_value());
}

result<eid_value> eid_value::parse(std::string_view digits) {
    if (digits.size() != eid_digits) {
        return std::unexpected(error{errc::invalid_value, 0, "eid"});
    }
    eid_value out;
    for (std::size_t i = 0; i < eid_digits; ++i) {
        if (!is_digit(digits[i])) {
            return std::unexpected(error{errc::invalid_value, 0, "eid"});
        }
        const auto d = static_cast<std::uint8_t>(digits[i] - '0');
        std::uint8_t& byte = out.content_[i / 2];
        byte =
            (i % 2 == 0) ? static_cast<std::uint8_t>(d << 4) : static_cast<std::uint8_t>(byte | d);
    }
    return out;
}

result<eid_value> eid_value::from_bytes(byte_view content) {
    if (content.size() != 16) {
        return std::unexpected(error{errc::invalid_value, 0, "eid"});
    }
    eid_value out;
    for (std::size_t i = 0; i < 16; ++i) {
        if ((content[i] >> 4) > 9 || (content[i] & 0x0f) > 9) {
            return std::unexpected(error{errc::invalid_value, 0, "eid"});
        }
        out.content_[i] = content[i];
    }
    return out;
}

std::string eid_value::to_string() const {
    return to_hex(content_);
}

bool eid_value::check_digits_ok() const {
    // ISO 7064 MOD 97-10 over the whole number, one digit at a time.
    unsigned rem = 0;
    for (std::uint8_t b : content_) {
        rem = (rem * 10 + (b >> 4)) % 97;
        rem = (rem * 10 + (b & 0x0f)) % 97;
    }
    return rem == 1;
}

} // namespace esimguard::asn1
