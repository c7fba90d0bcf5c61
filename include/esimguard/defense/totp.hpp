#pragma once
/// TOTP (RFC 6238) for the subscriber's second factor (issue 4 §3): secret
/// generation, base32 (RFC 4648 §6) and otpauth:// provisioning for
/// authenticator apps, and verification with a drift window that refuses the
/// replay of a code already used.
///
/// Stateless: the caller keeps the secret and the last accepted time step of
/// each subscriber, and must persist the step verify_totp() returns before it
/// acts on the approval (with a compare-and-set if two requests could race).
/// Guess limiting is the caller's as well: a 6-digit code with a ±1 window
/// is guessed with probability 3/10^6 per try, so count failures (risk engine).
/// Never log a secret or a code.

#include "esimguard/core/bytes.hpp"
#include "esimguard/crypto/random.hpp"

#include <chrono>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

namespace esimguard::defense {

/// What went wrong in a two-factor call (TOTP or one-time codes).
enum class twofactor_errc {
    invalid_argument, ///< a parameter out of range (digits, step, key or secret length)
    random_failure,   ///< the CSPRNG failed: refuse, never fall back
    crypto_failure,   ///< the MAC could not be computed
};

/// A two-factor error; `message` never holds a secret or a code.
struct twofactor_error {
    twofactor_errc code;
    std::string message;
};

template <class T>
using twofactor_result = std::expected<T, twofactor_error>;

/// The HMAC behind the code. SHA-1 is the RFC 6238 default and the only one
/// every authenticator app supports; SHA-256 for apps that offer it.
enum class totp_algorithm { sha1, sha256 };

/// RFC 6238 parameters. Defaults are what authenticator apps assume when
/// the otpauth URI omits them.
struct totp_params {
    totp_algorithm algorithm = totp_algorithm::sha1;
    /// 6 to 8 (RFC 4226 §5.3 asks for at least 6).
    int digits = 6;
    /// The time step X of RFC 6238 §4.1; 1 s to 10 min.
    std::chrono::seconds step{30};
    /// T0 of RFC 6238 §4.1, as Unix seconds.
    std::int64_t t0 = 0;
};

/// A fresh secret of `size` bytes from `random`. At least 20 bytes (160 bits,
/// RFC 4226 §4 R6); invalid_argument below that, random_failure if the
/// source fails.
[[nodiscard]] twofactor_result<bytes> generate_totp_secret(crypto::random_source& random,
                                                           std::size_t size = 20);

/// Base32 of RFC 4648 §6 (upper case). With `pad` false the trailing '='
/// are left out, as otpauth:// URIs carry the secret.
[[nodiscard]] std::string base32_encode(byte_view data, bool pad = true);

/// Parses base32: either case, padding optional but, if present, exact.
/// nullopt for any other character, an impossible length, or non-zero
/// unused bits in the last character (so every value has one encoding).
[[nodiscard]] std::optional<bytes> base32_decode(std::string_view text);

/// otpauth://totp/Issuer:account?secret=…&issuer=…&algorithm=…&digits=…&period=…
/// (the Key Uri Format authenticator apps read; shown to the subscriber as a
/// QR code). Issuer and account are percent-encoded; invalid_argument if
/// either is empty or contains ':' (apps split the label on it), or if
/// `params` are out of range.
[[nodiscard]] twofactor_result<std::string> totp_provisioning_uri(std::string_view issuer,
                                                                  std::string_view account,
                                                                  byte_view secret,
                                                                  const totp_params& params = {});

/// The time step T of RFC 6238 §4.2 that `now` falls in: floor((now - T0) / X).
/// invalid_argument before T0 or for a step out of range.
[[nodiscard]] twofactor_result<std::int64_t> totp_time_step(std::chrono::sys_seconds now,
                                                            const totp_params& params = {});

/// The code (HOTP of RFC 4226 with counter `time_step`), zero-padded to
/// params.digits. For tests and enrolment checks; verification must use
/// verify_totp, which compares in constant time.
[[nodiscard]] twofactor_result<std::string> totp_code(byte_view secret, std::int64_t time_step,
                                                      const totp_params& params = {});

/// How verify_totp judges a code.
struct totp_verify_options {
    totp_params params;
    /// Steps accepted either side of the current one, for clock drift and
    /// typing time (RFC 6238 §5.2 recommends at most one). 0 to 5.
    int window = 1;
};

/// The verdict on one submitted code.
enum class totp_outcome {
    accepted,  ///< the code is right and newer than the last one used
    wrong,     ///< no step in the window gives this code
    replayed,  ///< the code is right for a step at or before the last one used
    malformed, ///< not exactly params.digits decimal digits
};

std::string_view to_string(totp_outcome o);

/// The result of verify_totp.
struct totp_verification {
    totp_outcome outcome = totp_outcome::wrong;
    /// On accepted: the step the code belongs to. The caller must store it as
    /// the subscriber's new last used step before honouring the approval.
    std::optional<std::int64_t> time_step;
};

/// Checks `code` against every step within the window around `now`, in
/// constant time per candidate and without stopping at the first match.
/// Steps at or before `last_used_step` are refused as replays, so neither
/// the same code nor an older one from the window is accepted twice.
/// Errors only for bad parameters or a MAC failure; a wrong code is an
/// outcome, not an error.
[[nodiscard]] twofactor_result<totp_verification>
verify_totp(byte_view secret, std::string_view code, std::chrono::sys_seconds now,
            std::optional<std::int64_t> last_used_step, const totp_verify_options& options = {});

} // namespace esimguard::defense
