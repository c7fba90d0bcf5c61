#pragma once
/// EIDs (SGP.29): 32 decimal digits whose last two are check digits computed
/// as in IBAN (ISO 7064 MOD 97-10): the whole number mod 97 equals 1.

#include <optional>
#include <string>
#include <string_view>

namespace esimguard::pki {

/// True when `eid` is 32 decimal digits with correct check digits.
[[nodiscard]] bool eid_is_valid(std::string_view eid);

/// Completes the first 30 digits of an EID with its two check digits;
/// nullopt when `first30` is not exactly 30 decimal digits.
[[nodiscard]] std::optional<std::string> eid_with_check_digits(std::string_view first30);

} // namespace esimguard::pki
