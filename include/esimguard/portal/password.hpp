#pragma once
/// Portal passwords (issue 5): the strength rule a new password must pass,
/// and Argon2id hashing (libsodium crypto_pwhash_str, interactive limits).
///
/// Strength: at least 12 characters, not containing the account name (any
/// case), and a zxcvbn score of at least 3 of 4. Debian's libzxcvbn returns
/// an entropy estimate in bits rather than the reference implementation's
/// 0–4 score; the score is derived from it the way zxcvbn derives it from its
/// guess count: guesses = 2^bits, then score 0 below 10^3 guesses, 1 below
/// 10^6, 2 below 10^8, 3 below 10^10, else 4. Score 3 therefore means about
/// 26.6 bits or more once dictionary, keyboard and sequence patterns
/// (including the account name, given as a user word) are taken out.

#include <expected>
#include <string>
#include <string_view>
#include <vector>

namespace esimguard::portal {

/// The verdict on a proposed password.
struct password_verdict {
    bool acceptable = false;
    /// 0–4, as described above.
    int score = 0;
    /// Sentences for the user, one per rule broken; empty when acceptable.
    std::vector<std::string> reasons;
};

/// Minimum length and score of the rule.
inline constexpr std::size_t password_min_length = 12;
inline constexpr int password_min_score = 3;

/// The zxcvbn score (0–4) of `password`, with `user_words` as extra words an
/// attacker would try first (account name, e-mail).
[[nodiscard]] int password_score(std::string_view password,
                                 const std::vector<std::string>& user_words = {});

/// Applies the whole rule. `account_name` may be empty.
[[nodiscard]] password_verdict check_password(std::string_view account_name,
                                              std::string_view password);

/// An Argon2id string (algorithm, parameters, salt and hash) for storage.
/// Fails (with a sentence) only if libsodium cannot allocate its memory.
[[nodiscard]] std::expected<std::string, std::string> hash_password(std::string_view password);

/// Whether `password` matches a string made by hash_password. Constant time
/// in the password; false for a malformed stored string.
[[nodiscard]] bool verify_password(std::string_view stored, std::string_view password);

/// A hash to compare against when the account does not exist, so that an
/// unknown name costs as much time as a known one (no account probing by timing).
[[nodiscard]] const std::string& dummy_password_hash();

} // namespace esimguard::portal
