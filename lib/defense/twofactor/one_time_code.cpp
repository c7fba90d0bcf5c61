// One-time out-of-band codes for step-up approval (issue 4 §3): uniform
// digits from the CSPRNG, a keyed and salted MAC as the only stored form,
// expiry, an attempt limit and single use.

#include "esimguard/defense/one_time_code.hpp"

#include "esimguard/crypto/mac.hpp"

#include <algorithm>
#include <optional>

namespace esimguard::defense {

namespace {

constexpr std::size_t min_key_size = 32;
constexpr std::size_t salt_size = 16;

twofactor_error invalid(std::string message) {
    return {twofactor_errc::invalid_argument, std::move(message)};
}

} // namespace

std::string_view to_string(one_time_code_outcome o) {
    switch (o) {
    case one_time_code_outcome::accepted:
        return "accepted";
    case one_time_code_outcome::wrong:
        return "wrong";
    case one_time_code_outcome::expired:
        return "expired";
    case one_time_code_outcome::used:
        return "used";
    case one_time_code_outcome::locked:
        return "locked";
    }
    return "unknown";
}

twofactor_result<std::unique_ptr<one_time_code_issuer>>
one_time_code_issuer::create(bytes server_key, const one_time_code_config& config,
                             crypto::random_source& random) {
    if (server_key.size() < min_key_size) {
        crypto::secure_wipe(server_key);
        return std::unexpected(invalid("one-time code server key must be at least 32 bytes"));
    }
    if (config.digits < 6 || config.digits > 12) {
        return std::unexpected(invalid("one-time code digits must be 6 to 12"));
    }
    if (config.lifetime < std::chrono::seconds(30) || config.lifetime > std::chrono::hours(1)) {
        return std::unexpected(invalid("one-time code lifetime must be 30 s to 1 h"));
    }
    if (config.max_attempts < 1 || config.max_attempts > 10) {
        return std::unexpected(invalid("one-time code max_attempts must be 1 to 10"));
    }
    return std::unique_ptr<one_time_code_issuer>(
        new one_time_code_issuer(std::move(server_key), config, random));
}

one_time_code_issuer::one_time_code_issuer(bytes key, const one_time_code_config& config,
                                           crypto::random_source& random)
    : key_(std::move(key)), config_(config), random_(&random) {}

one_time_code_issuer::~one_time_code_issuer() {
    crypto::secure_wipe(key_);
}

twofactor_result<bytes> one_time_code_issuer::mac(byte_view salt, std::string_view purpose,
                                                  std::string_view code) const {
    // The purpose is length-prefixed so that (purpose, code) pairs cannot
    // run into each other ("a" + "1234…" vs "a1" + "234…").
    bytes msg(salt.begin(), salt.end());
    auto n = static_cast<std::uint32_t>(purpose.size());
    for (int shift = 24; shift >= 0; shift -= 8) {
        msg.push_back(static_cast<std::uint8_t>((n >> shift) & 0xff));
    }
    msg.insert(msg.end(), purpose.begin(), purpose.end());
    msg.insert(msg.end(), code.begin(), code.end());
    auto m = crypto::hmac_sha256(key_, msg);
    crypto::secure_wipe(msg);
    if (!m) {
        return std::unexpected(
            twofactor_error{twofactor_errc::crypto_failure, "one-time code MAC failed"});
    }
    return std::move(*m);
}

twofactor_result<issued_one_time_code> one_time_code_issuer::issue(std::string_view purpose,
                                                                   store::time_point now) const {
    issued_one_time_code out;
    out.code.reserve(static_cast<std::size_t>(config_.digits));
    // Rejection sampling: bytes 250..255 would make 0..5 likelier than 6..9.
    while (out.code.size() < static_cast<std::size_t>(config_.digits)) {
        auto b = random_->generate(static_cast<std::size_t>(config_.digits));
        if (!b) {
            return std::unexpected(
                twofactor_error{twofactor_errc::random_failure, "no random bytes for a code"});
        }
        for (std::uint8_t x : *b) {
            if (x < 250 && out.code.size() < static_cast<std::size_t>(config_.digits)) {
                out.code.push_back(static_cast<char>('0' + x % 10));
            }
        }
        crypto::secure_wipe(*b);
    }
    auto salt = random_->generate(salt_size);
    if (!salt) {
        return std::unexpected(
            twofactor_error{twofactor_errc::random_failure, "no random bytes for a salt"});
    }
    auto m = mac(*salt, purpose, out.code);
    if (!m) {
        return std::unexpected(m.error());
    }
    out.record.salt = std::move(*salt);
    out.record.mac = std::move(*m);
    out.record.issued_at = now;
    out.record.expires_at = now + config_.lifetime;
    out.record.attempts = 0;
    out.record.max_attempts = config_.max_attempts;
    out.record.used = false;
    return out;
}

twofactor_result<one_time_code_check>
one_time_code_issuer::verify(const one_time_code_record& record, std::string_view purpose,
                             std::string_view code, store::time_point now) const {
    one_time_code_check out;
    out.record = record;
    auto left = [&] { return std::max(0, out.record.max_attempts - out.record.attempts); };
    // States that end the code are checked before the code itself, so a
    // dead code answers the same whatever is typed, and no attempt is spent.
    std::optional<one_time_code_outcome> dead;
    if (record.used) {
        dead = one_time_code_outcome::used;
    } else if (now >= record.expires_at) {
        dead = one_time_code_outcome::expired;
    } else if (record.attempts >= record.max_attempts) {
        dead = one_time_code_outcome::locked;
    }
    if (dead) {
        out.outcome = *dead;
        out.attempts_left = left();
        return out;
    }
    out.record.attempts += 1;
    bool well_formed = code.size() == static_cast<std::size_t>(config_.digits) &&
                       code.find_first_not_of("0123456789") == std::string_view::npos;
    bool match = false;
    if (well_formed) {
        auto m = mac(record.salt, purpose, code);
        if (!m) {
            return std::unexpected(m.error());
        }
        match = crypto::constant_time_equal(*m, record.mac);
    }
    if (match) {
        out.record.used = true;
        out.outcome = one_time_code_outcome::accepted;
    } else {
        out.outcome = one_time_code_outcome::wrong;
    }
    out.attempts_left = left();
    return out;
}

} // namespace esimguard::defense
