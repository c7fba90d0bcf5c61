// EID check digits, SGP.29 §2.2: ISO 7064 MOD 97-10 over the 32 digits.

#include "esimguard/pki/eid.hpp"

#include <algorithm>

namespace esimguard::pki {

namespace {

bool all_digits(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The decimal number `digits` mod 97, digit by digit: 32 digits overflow any
// integer type.
unsigned mod97(std::string_view digits) {
    unsigned r = 0;
    for (char c : digits) {
        r = (r * 10 + static_cast<unsigned>(c - '0')) % 97;
    }
    return r;
}

} // namespace

bool eid_is_valid(std::string_view eid) {
    return eid.size() == 32 && all_digits(eid) && mod97(eid) == 1;
}

std::optional<std::string> eid_with_check_digits(std::string_view first30) {
    if (first30.size() != 30 || !all_digits(first30)) {
        return std::nullopt;
    }
    std::string eid(first30);
    const unsigned check = 98 - mod97(eid + "00");
    eid += static_cast<char>('0' + check / 10);
    eid += static_cast<char>('0' + check % 10);
    return eid;
}

} // namespace esimguard::pki
