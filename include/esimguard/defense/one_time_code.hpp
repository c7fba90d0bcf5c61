#pragma once
/// One-time out-of-band codes for step-up approval (issue 4 §3): when a rule
/// asks for it, the subscriber gets a short numeric code through the
/// notifier and types it into the portal to approve a pending download.
///
/// Only a keyed hash of the code is kept: HMAC-SHA256 under a server key
/// (kept outside the database) over a per-code salt, the purpose of the code
/// and the code. A stolen database therefore does not give the codes away,
/// even though an 8-digit code alone would be brute-forced offline in a
/// second; and a code issued for one order cannot approve another.
///
/// The record is a value the caller persists. verify() returns the updated
/// record (one more attempt counted, or marked used); the caller must write
/// it back with a compare-and-set on (attempts, used) before acting, so that
/// two concurrent tries cannot both spend the same attempt or the same code.
/// Never log a code.

#include "esimguard/crypto/random.hpp"
#include "esimguard/defense/totp.hpp"
#include "esimguard/store/types.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace esimguard::defense {

/// How codes are made and how long they live.
struct one_time_code_config {
    /// Decimal digits, 6 to 12.
    int digits = 8;
    /// From issue to expiry; 30 s to 1 h.
    std::chrono::seconds lifetime = std::chrono::minutes(10);
    /// Wrong tries allowed before the code is dead; 1 to 10.
    int max_attempts = 5;
};

/// What is stored for one issued code: never the code itself.
struct one_time_code_record {
    /// 16 random bytes, different for every code.
    bytes salt;
    /// HMAC-SHA256(server key, salt ‖ len(purpose) ‖ purpose ‖ code), 32 bytes.
    bytes mac;
    store::time_point issued_at{};
    store::time_point expires_at{};
    /// Tries so far, right or wrong.
    int attempts = 0;
    int max_attempts = 5;
    /// Set once the right code was given: it is never accepted again.
    bool used = false;
};

/// A freshly issued code: `code` goes to the subscriber out of band and is
/// then forgotten; `record` is stored.
struct issued_one_time_code {
    std::string code;
    one_time_code_record record;
};

/// The verdict on one submitted code.
enum class one_time_code_outcome {
    accepted, ///< right, in time, first use: approve
    wrong,    ///< not the code (counted as an attempt)
    expired,  ///< past expires_at (not counted)
    used,     ///< already accepted once (not counted)
    locked,   ///< max_attempts reached before this try (not counted)
};

std::string_view to_string(one_time_code_outcome o);

/// The result of one_time_code_issuer::verify.
struct one_time_code_check {
    one_time_code_outcome outcome = one_time_code_outcome::wrong;
    /// The record to persist (compare-and-set against the one passed in).
    one_time_code_record record;
    /// Wrong tries still allowed after this one.
    int attempts_left = 0;
};

/// Issues and checks one-time codes under one server key. Thread-safe if the
/// random source is.
class one_time_code_issuer {
public:
    /// `server_key` must be at least 32 bytes (keep it in the server's key
    /// store, not in the database); `random` must outlive the issuer.
    /// invalid_argument for a short key or a config out of range.
    [[nodiscard]] static twofactor_result<std::unique_ptr<one_time_code_issuer>>
    create(bytes server_key, const one_time_code_config& config, crypto::random_source& random);

    ~one_time_code_issuer();
    one_time_code_issuer(const one_time_code_issuer&) = delete;
    one_time_code_issuer& operator=(const one_time_code_issuer&) = delete;

    /// A new code for `purpose` (e.g. "step-up:order:<id>"), uniformly
    /// random digits from the CSPRNG. random_failure if the source fails.
    [[nodiscard]] twofactor_result<issued_one_time_code> issue(std::string_view purpose,
                                                               store::time_point now) const;

    /// Checks `code` for `purpose` against `record` at `now`. The MAC is
    /// compared in constant time; a malformed code counts as a wrong one.
    [[nodiscard]] twofactor_result<one_time_code_check> verify(const one_time_code_record& record,
                                                               std::string_view purpose,
                                                               std::string_view code,
                                                               store::time_point now) const;

private:
    one_time_code_issuer(bytes key, const one_time_code_config& config,
                         crypto::random_source& random);
    twofactor_result<bytes> mac(byte_view salt, std::string_view purpose,
                                std::string_view code) const;

    bytes key_;
    one_time_code_config config_;
    crypto::random_source* random_;
};

} // namespace esimguard::defense
