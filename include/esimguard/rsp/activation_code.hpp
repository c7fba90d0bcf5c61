#pragma once
/// Activation codes (SGP.22 §4.1): `LPA:1$<SM-DP+ address>$<matching ID>
/// [$<SM-DP+ OID>[$<confirmation code required flag>]]`, as printed in QR
/// codes and typed by users.

#include <cstddef>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

namespace esimguard::rsp {

/// Longest activation code accepted (SGP.22 §4.1 caps the AC at 255 characters).
inline constexpr std::size_t activation_code_max = 255;

/// A parsed activation code. Always holds valid fields once parsed.
struct activation_code {
    /// FQDN (or IP literal) of the SM-DP+, optionally with ":port"; no scheme, no path.
    std::string smdp_address;
    /// The AC_Token: only letters, digits and '-' (lpac refuses others); may be empty.
    std::string matching_id;
    /// The SM-DP+ OID in dotted form ("1.3.6.1.4.1.…"), when given.
    std::optional<std::string> smdp_oid;
    /// Whether the code says a confirmation code will be asked for (flag "1").
    bool confirmation_code_required = false;

    bool operator==(const activation_code&) const = default;
};

/// Why an activation code was refused; each malformation has its own code.
enum class activation_code_errc {
    empty,                ///< nothing (or only "LPA:") given
    too_long,             ///< more than activation_code_max characters
    bad_format_id,        ///< the first field is not "1"
    missing_smdp_address, ///< no SM-DP+ address field, or it is empty
    invalid_smdp_address, ///< the address has characters no host name carries, or a bad port
    missing_matching_id,  ///< no matching ID field at all ("1$addr")
    invalid_matching_id,  ///< the matching ID has characters other than A-Z a-z 0-9 '-'
    invalid_smdp_oid,     ///< the OID is not dotted decimal
    invalid_cc_flag,      ///< the confirmation code flag is present but not "1"
    too_many_fields,      ///< more than five '$'-separated fields
};

/// Stable short name of an error code, for logs and tests.
std::string_view to_string(activation_code_errc e);

/// A refusal: the code and a sentence a user can act on.
struct activation_code_error {
    activation_code_errc code;
    std::string message;

    bool operator==(const activation_code_error&) const = default;
};

/// Parses an activation code, with or without the "LPA:" prefix (Android's
/// scanner passes the bare form; the prefix is matched case-insensitively).
/// Surrounding whitespace is not trimmed: the caller decides what was typed.
[[nodiscard]] std::expected<activation_code, activation_code_error>
parse_activation_code(std::string_view text);

/// Formats with the "LPA:" prefix, as QR codes carry it. Empty trailing
/// optional fields are left out; an OID field is written (possibly empty)
/// when the confirmation code flag follows it. The input is not validated:
/// format only what parse accepted or what was built from checked parts.
[[nodiscard]] std::string format_activation_code(const activation_code& ac);

/// Whether `id` is a matching ID lpac accepts: letters, digits and '-' only
/// (empty is allowed). ES2+ confirmOrder uses it on operator-chosen IDs.
[[nodiscard]] bool is_valid_matching_id(std::string_view id);

} // namespace esimguard::rsp
