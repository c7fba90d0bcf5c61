// Password strength (libzxcvbn) and Argon2id hashing (libsodium).

#include "esimguard/portal/password.hpp"

#include <sodium.h>
#include <zxcvbn.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <mutex>

namespace esimguard::portal {

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

void init_sodium() {
    static std::once_flag once;
    std::call_once(once, [] {
        // sodium_init only fails when no entropy source can be opened; then
        // crypto_pwhash_str below fails too and the caller refuses the request.
        if (sodium_init() < 0) {
            return;
        }
    });
}

} // namespace

int password_score(std::string_view password, const std::vector<std::string>& user_words) {
    std::string pw(password);
    std::vector<const char*> dict;
    for (const auto& w : user_words) {
        if (!w.empty()) {
            dict.push_back(w.c_str());
        }
    }
    dict.push_back(nullptr);
    const double bits = ZxcvbnMatch(pw.c_str(), dict.data(), nullptr);
    // log10(guesses) = bits * log10(2); zxcvbn's score thresholds are
    // 10^3, 10^6, 10^8 and 10^10 guesses.
    const double log10_guesses = bits * std::log10(2.0);
    if (log10_guesses < 3) {
        return 0;
    }
    if (log10_guesses < 6) {
        return 1;
    }
    if (log10_guesses < 8) {
        return 2;
    }
    if (log10_guesses < 10) {
        return 3;
    }
    return 4;
}

password_verdict check_password(std::string_view account_name, std::string_view password) {
    password_verdict v;
    if (password.size() < password_min_length) {
        v.reasons.push_back("The password must have at least " +
                            std::to_string(password_min_length) + " characters.");
    }
    if (password.find('\0') != std::string_view::npos) {
        v.reasons.push_back("The password must not contain a NUL character.");
        return v;
    }
    const std::string name = lower(account_name);
    if (!name.empty() && lower(password).find(name) != std::string::npos) {
        v.reasons.push_back("The password must not contain the account name.");
    }
    std::vector<std::string> words;
    if (!name.empty()) {
        words.push_back(name);
    }
    v.score = password_score(password, words);
    if (v.score < password_min_score) {
        v.reasons.push_back("The password is too easy to guess (strength " +
                            std::to_string(v.score) + " of 4, at least " +
                            std::to_string(password_min_score) +
                            " needed): avoid common words, names, dates, keyboard patterns and "
                            "known passwords; a few unrelated words make a strong one.");
    }
    v.acceptable = v.reasons.empty();
    return v;
}

std::expected<std::string, std::string> hash_password(std::string_view password) {
    init_sodium();
    char out[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str_alg(
            out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
            crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13) != 0) {
        return std::unexpected("the password could not be hashed (out of memory)");
    }
    return std::string(out);
}

bool verify_password(std::string_view stored, std::string_view password) {
    init_sodium();
    if (stored.empty() || stored.size() >= crypto_pwhash_STRBYTES) {
        return false;
    }
    std::string s(stored);
    return crypto_pwhash_str_verify(s.c_str(), password.data(), password.size()) == 0;
}

const std::string& dummy_password_hash() {
    static const std::string h = [] {
        auto r = hash_password("esimguard-no-such-account");
        return r ? *r : std::string();
    }();
    return h;
}

} // namespace esimguard::portal
