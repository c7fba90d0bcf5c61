#pragma once
/// Persistent state of the portal (issue 5): portal accounts (subscribers,
/// operator staff, admins) with their password hash, second factor and
/// failed-attempt counters, one-time recovery codes, and browser sessions.
///
/// Secrets are never stored in clear: passwords as Argon2id strings (made by
/// lib/portal), recovery codes and session tokens as SHA-256. The TOTP
/// secret is stored as given (see subscriber_record::totp_secret).

#include "esimguard/store/sqlite_store.hpp"
#include "esimguard/store/types.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace esimguard::store {

/// Who an account is; checked by the portal on every request.
enum class portal_role { subscriber, operator_staff, admin };
std::string_view to_string(portal_role r);
std::optional<portal_role> portal_role_from_string(std::string_view s);

/// One portal account.
struct portal_account {
    std::string id;
    /// The sign-in name, unique (compared as stored: the portal lower-cases it).
    std::string name;
    portal_role role = portal_role::subscriber;
    /// The defense_store subscriber this account is (role subscriber).
    std::optional<std::string> subscriber_id;
    /// The operator whose staff this account is (role operator_staff).
    std::optional<std::string> operator_id;
    /// crypto_pwhash_str output (Argon2id, parameters inside).
    std::string password_hash;
    /// RFC 6238 secret once enrolment is confirmed.
    std::optional<bytes> totp_secret;
    /// The last accepted TOTP step (replay protection).
    std::optional<std::int64_t> totp_last_step;
    /// A secret shown to the user but not yet confirmed with a code.
    std::optional<bytes> totp_pending_secret;
    /// Consecutive failed sign-ins since the last success.
    int failed_attempts = 0;
    std::optional<time_point> last_failure_at;
    time_point created_at{};
};

/// One browser session. The token itself is only in the cookie.
struct portal_session {
    /// SHA-256 of the cookie token, 32 bytes.
    bytes token_sha256;
    std::string account_id;
    /// Sent back in the X-CSRF-Token header on every POST.
    std::string csrf_token;
    time_point created_at{};
    time_point last_seen_at{};
    /// Absolute expiry; idle expiry is checked against last_seen_at.
    time_point expires_at{};
};

/// The portal's persistent state. Thread-safe.
class portal_store {
public:
    virtual ~portal_store() = default;

    /// conflict if the id or the name exists.
    [[nodiscard]] virtual result<void> add_account(const portal_account& a) = 0;
    /// not_found when unknown.
    [[nodiscard]] virtual result<portal_account> find_account(std::string_view id) = 0;
    [[nodiscard]] virtual result<portal_account> find_account_by_name(std::string_view name) = 0;
    [[nodiscard]] virtual result<std::vector<portal_account>> list_accounts() = 0;
    /// Counts one failed sign-in (returns the new count).
    [[nodiscard]] virtual result<int> record_failure(std::string_view id, time_point now) = 0;
    /// Resets the failure count after a good sign-in.
    [[nodiscard]] virtual result<void> reset_failures(std::string_view id) = 0;
    /// Stores (or clears) the secret awaiting confirmation.
    [[nodiscard]] virtual result<void> set_pending_totp(std::string_view id,
                                                        std::optional<bytes> secret) = 0;
    /// Makes `secret` the account's TOTP secret with `step` as the last used
    /// step, clears the pending one and replaces the recovery codes with
    /// `recovery_code_hashes` (SHA-256 each), in one transaction.
    [[nodiscard]] virtual result<void>
    enrol_totp(std::string_view id, const bytes& secret, std::int64_t step,
               const std::vector<bytes>& recovery_code_hashes) = 0;
    /// Compare-and-set of totp_last_step; state_mismatch if it moved.
    [[nodiscard]] virtual result<void> advance_totp_step(std::string_view id,
                                                         std::optional<std::int64_t> expected,
                                                         std::int64_t step) = 0;
    /// Uses one recovery code (by its SHA-256): true when it existed unused,
    /// and it is then spent; false otherwise.
    [[nodiscard]] virtual result<bool>
    use_recovery_code(std::string_view id, const bytes& code_hash, time_point now) = 0;
    /// Unused recovery codes left.
    [[nodiscard]] virtual result<int> recovery_codes_left(std::string_view id) = 0;

    /// conflict if the token hash exists.
    [[nodiscard]] virtual result<void> add_session(const portal_session& s) = 0;
    /// not_found when unknown.
    [[nodiscard]] virtual result<portal_session> find_session(const bytes& token_sha256) = 0;
    [[nodiscard]] virtual result<void> touch_session(const bytes& token_sha256, time_point now) = 0;
    /// Idempotent.
    [[nodiscard]] virtual result<void> remove_session(const bytes& token_sha256) = 0;
    /// Ends every session of an account (password change, sign-in rotation).
    [[nodiscard]] virtual result<void> remove_sessions_of(std::string_view account_id) = 0;
    /// Deletes sessions whose absolute expiry is before `now`; how many.
    [[nodiscard]] virtual result<std::size_t> purge_sessions(time_point now) = 0;
};

/// Opens the portal tables in the SQLite database at `config.path` (the same
/// file as create_sqlite_store; every embedded migration applied).
[[nodiscard]] result<std::unique_ptr<portal_store>>
create_sqlite_portal_store(const sqlite_config& config);

} // namespace esimguard::store
