// Address and CIDR parsing on top of inet_pton/inet_ntop.

#include "risk/ip_address.hpp"

#include <arpa/inet.h>
#include <charconv>
#include <cstring>

namespace esimguard::defense::detail {

std::optional<ip_address> parse_ip(std::string_view text) {
    if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
        text = text.substr(1, text.size() - 2);
    }
    if (auto pct = text.find('%'); pct != std::string_view::npos) {
        text = text.substr(0, pct);
    }
    // INET6_ADDRSTRLEN bounds any valid form; longer input is not an address.
    if (text.empty() || text.size() >= INET6_ADDRSTRLEN) {
        return std::nullopt;
    }
    char buf[INET6_ADDRSTRLEN] = {};
    std::memcpy(buf, text.data(), text.size());
    ip_address a;
    if (inet_pton(AF_INET, buf, a.bytes.data()) == 1) {
        return a;
    }
    if (inet_pton(AF_INET6, buf, a.bytes.data()) != 1) {
        return std::nullopt;
    }
    a.v6 = true;
    static constexpr std::uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(a.bytes.data(), mapped, sizeof mapped) == 0) {
        ip_address v4;
        std::memcpy(v4.bytes.data(), a.bytes.data() + 12, 4);
        return v4;
    }
    return a;
}

std::string to_string(const ip_address& a) {
    char buf[INET6_ADDRSTRLEN] = {};
    inet_ntop(a.v6 ? AF_INET6 : AF_INET, a.bytes.data(), buf, sizeof buf);
    return buf;
}

ip_address masked(const ip_address& a, unsigned prefix) {
    ip_address m = a;
    const unsigned bits = a.v6 ? 128 : 32;
    for (unsigned i = 0; i < bits / 8; ++i) {
        const unsigned first = i * 8;
        if (prefix >= first + 8) {
            continue;
        }
        const unsigned keep = prefix > first ? prefix - first : 0;
        m.bytes[i] &= static_cast<std::uint8_t>(0xff00u >> keep);
    }
    return m;
}

std::optional<ip_network> parse_network(std::string_view text) {
    const auto slash = text.find('/');
    auto addr = parse_ip(text.substr(0, slash));
    if (!addr) {
        return std::nullopt;
    }
    const unsigned bits = addr->v6 ? 128 : 32;
    unsigned prefix = bits;
    if (slash != std::string_view::npos) {
        const auto p = text.substr(slash + 1);
        auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), prefix);
        if (p.empty() || ec != std::errc{} || end != p.data() + p.size() || prefix > bits) {
            return std::nullopt;
        }
        // "::ffff:10.0.0.0/104" is the IPv4 network 10.0.0.0/8.
        if (!addr->v6 && text.substr(0, slash).find(':') != std::string_view::npos) {
            if (prefix < 96) {
                return std::nullopt;
            }
            prefix -= 96;
        }
    }
    return ip_network{masked(*addr, prefix), prefix};
}

std::string to_string(const ip_network& n) {
    return to_string(n.base) + "/" + std::to_string(n.prefix);
}

bool contains(const ip_network& n, const ip_address& a) {
    return a.v6 == n.base.v6 && masked(a, n.prefix) == n.base;
}

} // namespace esimguard::defense::detail
