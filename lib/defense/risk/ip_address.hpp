#pragma once
// Address and CIDR parsing for the blocklist and the engine's source keys.
// Private to the defense module.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace esimguard::defense::detail {

/// An IPv4 address (first 4 bytes used) or an IPv6 address.
struct ip_address {
    bool v6 = false;
    std::array<std::uint8_t, 16> bytes{};
    friend bool operator==(const ip_address&, const ip_address&) = default;
};

/// A network: the address with host bits cleared, and its prefix length.
struct ip_network {
    ip_address base;
    unsigned prefix = 0;
};

/// Parses "192.0.2.1", "2001:db8::1", "[2001:db8::1]" or "fe80::1%eth0" (the
/// zone is dropped). IPv4-mapped IPv6 ("::ffff:192.0.2.1") becomes IPv4, since
/// a dual-stack socket reports IPv4 peers that way.
std::optional<ip_address> parse_ip(std::string_view text);

/// Canonical text (inet_ntop).
std::string to_string(const ip_address& a);

/// Clears the host bits beyond `prefix`.
ip_address masked(const ip_address& a, unsigned prefix);

/// Parses "10.0.0.0/8" or "2001:db8::/32" (host bits are cleared); a bare
/// address is its own /32 or /128.
std::optional<ip_network> parse_network(std::string_view text);

/// "10.0.0.0/8".
std::string to_string(const ip_network& n);

/// Whether `a` lies in `n` (families must match).
bool contains(const ip_network& n, const ip_address& a);

} // namespace esimguard::defense::detail
