#include "esimguard/core/bytes.hpp"

#include <array>

namespace esimguard {

bytes concat(std::initializer_list<byte_view> parts) {
    std::size_t n = 0;
    for (auto p : parts) {
        n += p.size();
    }
    bytes out;
    out.reserve(n);
    for (auto p : parts) {
        out.insert(out.end(), p.begin(), p.end());
    }
    return out;
}

namespace {

std::string hex_with(byte_view v, const char* digits) {
    std::string out;
    out.resize(v.size() * 2);
    for (std::size_t i = 0; i < v.size(); ++i) {
        out[2 * i] = digits[v[i] >> 4];
        out[2 * i + 1] = digits[v[i] & 0x0f];
    }
    return out;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

constexpr char b64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int b64_value(char c) {
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '+') {
        return 62;
    }
    if (c == '/') {
        return 63;
    }
    return -1;
}

} // namespace

std::string to_hex(byte_view v) {
    return hex_with(v, "0123456789abcdef");
}
std::string to_hex_upper(byte_view v) {
    return hex_with(v, "0123456789ABCDEF");
}

std::optional<bytes> from_hex(std::string_view hex) {
    if (hex.size() % 2 != 0) {
        return std::nullopt;
    }
    bytes out(hex.size() / 2);
    for (std::size_t i = 0; i < out.size(); ++i) {
        int hi = hex_value(hex[2 * i]);
        int lo = hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            return std::nullopt;
        }
        out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
    }
    return out;
}

std::string to_base64(byte_view v) {
    std::string out;
    out.reserve((v.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= v.size(); i += 3) {
        std::uint32_t n = std::uint32_t(v[i]) << 16 | std::uint32_t(v[i + 1]) << 8 | v[i + 2];
        out += b64_alphabet[n >> 18 & 63];
        out += b64_alphabet[n >> 12 & 63];
        out += b64_alphabet[n >> 6 & 63];
        out += b64_alphabet[n & 63];
    }
    std::size_t rest = v.size() - i;
    if (rest == 1) {
        std::uint32_t n = std::uint32_t(v[i]) << 16;
        out += b64_alphabet[n >> 18 & 63];
        out += b64_alphabet[n >> 12 & 63];
        out += "==";
    } else if (rest == 2) {
        std::uint32_t n = std::uint32_t(v[i]) << 16 | std::uint32_t(v[i + 1]) << 8;
        out += b64_alphabet[n >> 18 & 63];
        out += b64_alphabet[n >> 12 & 63];
        out += b64_alphabet[n >> 6 & 63];
        out += '=';
    }
    return out;
}

std::optional<bytes> from_base64(std::string_view text) {
    if (text.size() % 4 != 0) {
        return std::nullopt;
    }
    bytes out;
    out.reserve(text.size() / 4 * 3);
    for (std::size_t i = 0; i < text.size(); i += 4) {
        bool last = i + 4 == text.size();
        int pad = 0;
        std::array<int, 4> q{};
        for (int k = 0; k < 4; ++k) {
            char c = text[i + k];
            if (c == '=') {
                // Padding only at the end of the last quantum, at most two.
                if (!last || k < 2) {
                    return std::nullopt;
                }
                ++pad;
                q[k] = 0;
                continue;
            }
            if (pad > 0) {
                return std::nullopt;
            }
            q[k] = b64_value(c);
            if (q[k] < 0) {
                return std::nullopt;
            }
        }
        std::uint32_t n = std::uint32_t(q[0]) << 18 | std::uint32_t(q[1]) << 12 |
                          std::uint32_t(q[2]) << 6 | std::uint32_t(q[3]);
        out.push_back(static_cast<std::uint8_t>(n >> 16));
        if (pad < 2) {
            out.push_back(static_cast<std::uint8_t>(n >> 8));
        }
        if (pad < 1) {
            out.push_back(static_cast<std::uint8_t>(n));
        }
    }
    return out;
}

} // namespace esimguard
