// Activation code parsing and formatting (SGP.22 §4.1).

#include "esimguard/rsp/activation_code.hpp"

#include <cstdint>
#include <vector>

namespace esimguard::rsp {
namespace {

bool is_alpha(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}
bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

std::unexpected<activation_code_error> refuse(activation_code_errc code, std::string message) {
    return std::unexpected(activation_code_error{code, std::move(message)});
}

// Host names (letters, digits, '-', '.'), IPv4 literals, or a bracketed IPv6
// literal; then an optional ":port" of 1..65535. No scheme, path or user info:
// the LPA builds the URL itself.
bool valid_address(std::string_view a) {
    std::string_view host = a;
    std::string_view port;
    if (!a.empty() && a.front() == '[') {
        const auto close = a.find(']');
        if (close == std::string_view::npos || close == 1) {
            return false;
        }
        for (char c : a.substr(1, close - 1)) {
            if (!(is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' ||
                  c == '.')) {
                return false;
            }
        }
        host = a.substr(0, close + 1);
        std::string_view rest = a.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') {
                return false;
            }
            port = rest.substr(1);
            if (port.empty()) {
                return false;
            }
        }
    } else {
        const auto colon = a.find(':');
        if (colon != std::string_view::npos) {
            host = a.substr(0, colon);
            port = a.substr(colon + 1);
            if (port.empty()) {
                return false;
            }
        }
        if (host.empty() || host.size() > 253 || host.front() == '.' || host.back() == '.' ||
            host.front() == '-') {
            return false;
        }
        char prev = 0;
        for (char c : host) {
            if (!(is_alpha(c) || is_digit(c) || c == '-' || c == '.')) {
                return false;
            }
            if (c == '.' && prev == '.') {
                return false;
            }
            prev = c;
        }
    }
    if (!port.empty()) {
        if (port.size() > 5) {
            return false;
        }
        std::uint32_t n = 0;
        for (char c : port) {
            if (!is_digit(c)) {
                return false;
            }
            n = n * 10 + static_cast<std::uint32_t>(c - '0');
        }
        if (n == 0 || n > 65535) {
            return false;
        }
    }
    return true;
}

// Dotted decimal with at least two arcs, no empty arc, no leading zero.
bool valid_oid(std::string_view oid) {
    if (oid.empty()) {
        return false;
    }
    std::size_t arcs = 0;
    std::size_t start = 0;
    while (start <= oid.size()) {
        auto dot = oid.find('.', start);
        if (dot == std::string_view::npos) {
            dot = oid.size();
        }
        const auto arc = oid.substr(start, dot - start);
        if (arc.empty() || (arc.size() > 1 && arc.front() == '0')) {
            return false;
        }
        for (char c : arc) {
            if (!is_digit(c)) {
                return false;
            }
        }
        ++arcs;
        start = dot + 1;
    }
    return arcs >= 2;
}

} // namespace

std::string_view to_string(activation_code_errc e) {
    switch (e) {
    case activation_code_errc::empty:
        return "empty";
    case activation_code_errc::too_long:
        return "too_long";
    case activation_code_errc::bad_format_id:
        return "bad_format_id";
    case activation_code_errc::missing_smdp_address:
        return "missing_smdp_address";
    case activation_code_errc::invalid_smdp_address:
        return "invalid_smdp_address";
    case activation_code_errc::missing_matching_id:
        return "missing_matching_id";
    case activation_code_errc::invalid_matching_id:
        return "invalid_matching_id";
    case activation_code_errc::invalid_smdp_oid:
        return "invalid_smdp_oid";
    case activation_code_errc::invalid_cc_flag:
        return "invalid_cc_flag";
    case activation_code_errc::too_many_fields:
        return "too_many_fields";
    }
    return "unknown";
}

bool is_valid_matching_id(std::string_view id) {
    for (char c : id) {
        if (!(is_alpha(c) || is_digit(c) || c == '-')) {
            return false;
        }
    }
    return true;
}

std::expected<activation_code, activation_code_error> parse_activation_code(std::string_view text) {
    if (text.size() > activation_code_max + 4) {
        return refuse(activation_code_errc::too_long,
                      "The activation code is longer than 255 characters");
    }
    if (text.size() >= 4 && (text[0] == 'L' || text[0] == 'l') &&
        (text[1] == 'P' || text[1] == 'p') && (text[2] == 'A' || text[2] == 'a') &&
        text[3] == ':') {
        text.remove_prefix(4);
    }
    if (text.empty()) {
        return refuse(activation_code_errc::empty, "The activation code is empty");
    }
    if (text.size() > activation_code_max) {
        return refuse(activation_code_errc::too_long,
                      "The activation code is longer than 255 characters");
    }

    std::vector<std::string_view> fields;
    std::size_t start = 0;
    while (true) {
        const auto sep = text.find('$', start);
        if (sep == std::string_view::npos) {
            fields.push_back(text.substr(start));
            break;
        }
        fields.push_back(text.substr(start, sep - start));
        start = sep + 1;
        if (fields.size() > 5) {
            break;
        }
    }
    if (fields.size() > 5) {
        return refuse(activation_code_errc::too_many_fields,
                      "The activation code has more than five '$'-separated fields");
    }
    if (fields[0] != "1") {
        return refuse(activation_code_errc::bad_format_id,
                      "The activation code does not start with format \"1\" (LPA:1$...)");
    }
    if (fields.size() < 2 || fields[1].empty()) {
        return refuse(activation_code_errc::missing_smdp_address,
                      "The activation code has no SM-DP+ address");
    }
    if (!valid_address(fields[1])) {
        return refuse(activation_code_errc::invalid_smdp_address,
                      "The SM-DP+ address in the activation code is not a valid host[:port]");
    }
    if (fields.size() < 3) {
        return refuse(activation_code_errc::missing_matching_id,
                      "The activation code has no matching ID field");
    }
    if (!is_valid_matching_id(fields[2])) {
        return refuse(activation_code_errc::invalid_matching_id,
                      "The matching ID may only contain letters, digits and '-'");
    }
    activation_code ac;
    ac.smdp_address = std::string(fields[1]);
    ac.matching_id = std::string(fields[2]);
    if (fields.size() >= 4 && !fields[3].empty()) {
        if (!valid_oid(fields[3])) {
            return refuse(activation_code_errc::invalid_smdp_oid,
                          "The SM-DP+ OID in the activation code is not a dotted decimal OID");
        }
        ac.smdp_oid = std::string(fields[3]);
    }
    if (fields.size() == 5) {
        if (fields[4] != "1") {
            return refuse(activation_code_errc::invalid_cc_flag,
                          "The confirmation code flag of the activation code must be \"1\"");
        }
        ac.confirmation_code_required = true;
    }
    return ac;
}

std::string format_activation_code(const activation_code& ac) {
    std::string out = "LPA:1$";
    out += ac.smdp_address;
    out += '$';
    out += ac.matching_id;
    if (ac.smdp_oid || ac.confirmation_code_required) {
        out += '$';
        out += ac.smdp_oid.value_or("");
    }
    if (ac.confirmation_code_required) {
        out += "$1";
    }
    return out;
}

} // namespace esimguard::rsp
