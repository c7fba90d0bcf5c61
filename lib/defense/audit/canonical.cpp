// The canonical encoding of an audit event and its chain hash; the format is
// specified in include/esimguard/defense/audit_chain.hpp and must never
// change for version "esimguard.audit.v1" (old chains would stop verifying).

#include "esimguard/crypto/hash.hpp"
#include "esimguard/defense/audit_chain.hpp"

#include <chrono>

namespace esimguard::defense {

namespace {

constexpr std::string_view encoding_tag = "esimguard.audit.v1";

void put_u64(bytes& out, std::uint64_t v) {
    for (int shift = 56; shift >= 0; shift -= 8) {
        out.push_back(static_cast<std::uint8_t>((v >> shift) & 0xff));
    }
}

void put_str(bytes& out, std::string_view s) {
    auto n = static_cast<std::uint32_t>(s.size());
    for (int shift = 24; shift >= 0; shift -= 8) {
        out.push_back(static_cast<std::uint8_t>((n >> shift) & 0xff));
    }
    out.insert(out.end(), s.begin(), s.end());
}

void put_opt(bytes& out, const std::optional<std::string>& s) {
    if (!s) {
        out.push_back(0x00);
        return;
    }
    out.push_back(0x01);
    put_str(out, *s);
}

} // namespace

bytes audit_canonical_encoding(const store::audit_event& e) {
    bytes out;
    out.reserve(128 + e.actor.size() + e.kind.size() + e.outcome.size() + e.reason.size() +
                e.detail.size());
    put_str(out, encoding_tag);
    put_u64(out, static_cast<std::uint64_t>(e.seq));
    auto micros =
        std::chrono::duration_cast<std::chrono::microseconds>(e.at.time_since_epoch()).count();
    put_u64(out, static_cast<std::uint64_t>(micros));
    put_str(out, e.actor);
    put_str(out, e.kind);
    put_opt(out, e.eid);
    put_opt(out, e.iccid);
    put_opt(out, e.source_address);
    put_str(out, e.outcome);
    put_str(out, e.reason);
    put_str(out, e.detail);
    return out;
}

bytes audit_event_hash(byte_view prev_hash, const store::audit_event& e) {
    auto encoded = audit_canonical_encoding(e);
    return crypto::sha256(concat({prev_hash, encoded}));
}

} // namespace esimguard::defense
