// TOTP, RFC 6238 (HOTP of RFC 4226 over a time counter), with base32 of
// RFC 4648 §6 and the otpauth:// Key Uri Format for authenticator apps.

#include "esimguard/defense/totp.hpp"

#include "esimguard/crypto/mac.hpp"

#include <fmt/core.h>

#include <array>

namespace esimguard::defense {

namespace {

constexpr std::string_view base32_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
constexpr std::size_t min_secret_size = 20;

twofactor_error invalid(std::string message) {
    return {twofactor_errc::invalid_argument, std::move(message)};
}

twofactor_result<void> check_params(const totp_params& p) {
    if (p.digits < 6 || p.digits > 8) {
        return std::unexpected(invalid("TOTP digits must be 6 to 8"));
    }
    if (p.step < std::chrono::seconds(1) || p.step > std::chrono::minutes(10)) {
        return std::unexpected(invalid("TOTP step must be 1 s to 10 min"));
    }
    if (p.algorithm != totp_algorithm::sha1 && p.algorithm != totp_algorithm::sha256) {
        return std::unexpected(invalid("unknown TOTP algorithm"));
    }
    return {};
}

std::string_view algorithm_name(totp_algorithm a) {
    return a == totp_algorithm::sha256 ? "SHA256" : "SHA1";
}

/// RFC 3986 percent-encoding of everything but the unreserved characters.
std::string percent_encode(std::string_view s) {
    std::string out;
    for (unsigned char c : s) {
        bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                          (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
        if (unreserved) {
            out.push_back(static_cast<char>(c));
        } else {
            out += fmt::format("%{:02X}", c);
        }
    }
    return out;
}

std::uint32_t pow10(int digits) {
    std::uint32_t m = 1;
    for (int i = 0; i < digits; ++i) {
        m *= 10;
    }
    return m;
}

/// HOTP value (RFC 4226 §5.3) before formatting; the caller checked params.
twofactor_result<std::uint32_t> hotp_value(byte_view secret, std::int64_t counter,
                                           const totp_params& p) {
    std::array<std::uint8_t, 8> msg{};
    auto c = static_cast<std::uint64_t>(counter);
    for (int i = 7; i >= 0; --i) {
        msg[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(c & 0xff);
        c >>= 8;
    }
    auto mac = p.algorithm == totp_algorithm::sha256 ? crypto::hmac_sha256(secret, msg)
                                                     : crypto::hmac_sha1(secret, msg);
    if (!mac) {
        return std::unexpected(twofactor_error{twofactor_errc::crypto_failure, "TOTP HMAC failed"});
    }
    bytes& h = *mac;
    // Dynamic truncation: the low nibble of the last byte picks 4 bytes.
    std::size_t offset = h.back() & 0x0f;
    std::uint32_t bin = (static_cast<std::uint32_t>(h[offset] & 0x7f) << 24) |
                        (static_cast<std::uint32_t>(h[offset + 1]) << 16) |
                        (static_cast<std::uint32_t>(h[offset + 2]) << 8) |
                        static_cast<std::uint32_t>(h[offset + 3]);
    // The full MAC is as good as the code for a while: do not leave it on the heap.
    crypto::secure_wipe(h);
    return bin % pow10(p.digits);
}

std::string format_code(std::uint32_t value, int digits) {
    return fmt::format("{:0{}}", value, digits);
}

} // namespace

std::string_view to_string(totp_outcome o) {
    switch (o) {
    case totp_outcome::accepted:
        return "accepted";
    case totp_outcome::wrong:
        return "wrong";
    case totp_outcome::replayed:
        return "replayed";
    case totp_outcome::malformed:
        return "malformed";
    }
    return "unknown";
}

twofactor_result<bytes> generate_totp_secret(crypto::random_source& random, std::size_t size) {
    if (size < min_secret_size || size > 64) {
        return std::unexpected(invalid("TOTP secret must be 20 to 64 bytes"));
    }
    auto b = random.generate(size);
    if (!b) {
        return std::unexpected(
            twofactor_error{twofactor_errc::random_failure, "no random bytes for a TOTP secret"});
    }
    return std::move(*b);
}

std::string base32_encode(byte_view data, bool pad) {
    std::string out;
    out.reserve((data.size() + 4) / 5 * 8);
    std::uint32_t buffer = 0;
    int bits = 0;
    for (std::uint8_t b : data) {
        buffer = (buffer << 8) | b;
        bits += 8;
        while (bits >= 5) {
            out.push_back(base32_alphabet[(buffer >> (bits - 5)) & 0x1f]);
            bits -= 5;
        }
    }
    if (bits > 0) {
        out.push_back(base32_alphabet[(buffer << (5 - bits)) & 0x1f]);
    }
    if (pad) {
        while (out.size() % 8 != 0) {
            out.push_back('=');
        }
    }
    return out;
}

std::optional<bytes> base32_decode(std::string_view text) {
    // Padding, when present, must complete the last 8-character block.
    std::size_t end = text.find('=');
    if (end != std::string_view::npos) {
        if (text.size() % 8 != 0 || text.find_first_not_of('=', end) != std::string_view::npos) {
            return std::nullopt;
        }
        text = text.substr(0, end);
    }
    // A final block of 2, 4, 5 or 7 characters holds 1, 2, 3 or 4 bytes;
    // 1, 3 and 6 characters cannot come from any input.
    switch (text.size() % 8) {
    case 1:
    case 3:
    case 6:
        return std::nullopt;
    default:
        break;
    }
    if (end != std::string_view::npos && text.size() % 8 == 0) {
        return std::nullopt; // a whole block of '=' is not padding
    }
    bytes out;
    out.reserve(text.size() * 5 / 8);
    std::uint32_t buffer = 0;
    int bits = 0;
    for (char ch : text) {
        char upper = (ch >= 'a' && ch <= 'z') ? static_cast<char>(ch - 'a' + 'A') : ch;
        auto v = base32_alphabet.find(upper);
        if (v == std::string_view::npos) {
            return std::nullopt;
        }
        buffer = (buffer << 5) | static_cast<std::uint32_t>(v);
        bits += 5;
        if (bits >= 8) {
            out.push_back(static_cast<std::uint8_t>((buffer >> (bits - 8)) & 0xff));
            bits -= 8;
        }
        buffer &= (1u << bits) - 1;
    }
    if (buffer != 0) {
        return std::nullopt; // unused low bits must be zero
    }
    return out;
}

twofactor_result<std::string> totp_provisioning_uri(std::string_view issuer,
                                                    std::string_view account, byte_view secret,
                                                    const totp_params& params) {
    if (auto c = check_params(params); !c) {
        return std::unexpected(c.error());
    }
    if (issuer.empty() || account.empty() || issuer.find(':') != std::string_view::npos ||
        account.find(':') != std::string_view::npos) {
        return std::unexpected(invalid("TOTP issuer and account must be non-empty, without ':'"));
    }
    if (secret.size() < min_secret_size) {
        return std::unexpected(invalid("TOTP secret must be at least 20 bytes"));
    }
    // The issuer appears both as the label prefix and as a parameter: older
    // apps read the first, newer ones the second.
    return fmt::format("otpauth://totp/{}:{}?secret={}&issuer={}&algorithm={}&digits={}&period={}",
                       percent_encode(issuer), percent_encode(account),
                       base32_encode(secret, false), percent_encode(issuer),
                       algorithm_name(params.algorithm), params.digits, params.step.count());
}

twofactor_result<std::int64_t> totp_time_step(std::chrono::sys_seconds now,
                                              const totp_params& params) {
    if (auto c = check_params(params); !c) {
        return std::unexpected(c.error());
    }
    std::int64_t t = now.time_since_epoch().count();
    if (t < params.t0) {
        return std::unexpected(invalid("time before TOTP T0"));
    }
    return (t - params.t0) / params.step.count();
}

twofactor_result<std::string> totp_code(byte_view secret, std::int64_t time_step,
                                        const totp_params& params) {
    if (auto c = check_params(params); !c) {
        return std::unexpected(c.error());
    }
    if (time_step < 0) {
        return std::unexpected(invalid("negative TOTP time step"));
    }
    if (secret.empty()) {
        return std::unexpected(invalid("empty TOTP secret"));
    }
    auto v = hotp_value(secret, time_step, params);
    if (!v) {
        return std::unexpected(v.error());
    }
    return format_code(*v, params.digits);
}

twofactor_result<totp_verification> verify_totp(byte_view secret, std::string_view code,
                                                std::chrono::sys_seconds now,
                                                std::optional<std::int64_t> last_used_step,
                                                const totp_verify_options& options) {
    const auto& p = options.params;
    if (options.window < 0 || options.window > 5) {
        return std::unexpected(invalid("TOTP window must be 0 to 5 steps"));
    }
    if (secret.empty()) {
        return std::unexpected(invalid("empty TOTP secret"));
    }
    auto current = totp_time_step(now, p);
    if (!current) {
        return std::unexpected(current.error());
    }
    if (code.size() != static_cast<std::size_t>(p.digits) ||
        code.find_first_not_of("0123456789") != std::string_view::npos) {
        return totp_verification{totp_outcome::malformed, std::nullopt};
    }
    // Every candidate is computed and compared, match or not, so the time
    // taken does not tell which step (if any) matched.
    std::optional<std::int64_t> fresh_match;
    bool replay_match = false;
    for (std::int64_t step = *current - options.window; step <= *current + options.window; ++step) {
        if (step < 0) {
            continue;
        }
        auto v = hotp_value(secret, step, p);
        if (!v) {
            return std::unexpected(v.error());
        }
        auto candidate = format_code(*v, p.digits);
        bool match = crypto::constant_time_equal(as_bytes(candidate), as_bytes(code));
        if (!match) {
            continue;
        }
        // Steps at or before the last used one are spent, including older
        // steps still inside the window.
        if (last_used_step && step <= *last_used_step) {
            replay_match = true;
        } else if (!fresh_match) {
            fresh_match = step;
        }
    }
    if (fresh_match) {
        return totp_verification{totp_outcome::accepted, fresh_match};
    }
    return totp_verification{replay_match ? totp_outcome::replayed : totp_outcome::wrong,
                             std::nullopt};
}

} // namespace esimguard::defense
