// lpa::error helpers: names, user-facing descriptions and the mapping of card
// and SM-DP+ failures.

#include "internal.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace esimguard::lpa {

std::string_view to_string(errc e) {
    switch (e) {
    case errc::invalid_argument:
        return "invalid_argument";
    case errc::card_transport:
        return "card_transport";
    case errc::card_malformed:
        return "card_malformed";
    case errc::card_refused:
        return "card_refused";
    case errc::server_transport:
        return "server_transport";
    case errc::server_malformed:
        return "server_malformed";
    case errc::server_refused:
        return "server_refused";
    case errc::declined:
        return "declined";
    case errc::install_failed:
        return "install_failed";
    case errc::metadata_mismatch:
        return "metadata_mismatch";
    }
    return "unknown";
}

std::string describe(const error& e) {
    std::string out = e.message;
    if (e.server_status) {
        const auto& s = *e.server_status;
        out += fmt::format(" (SM-DP+ {}/{}: {})", s.subject_code, s.reason_code,
                           s.message.empty() ? "no message" : s.message);
    }
    return out;
}

namespace detail {

std::shared_ptr<spdlog::logger> logger() {
    if (auto l = spdlog::get("lpa")) {
        return l;
    }
    auto l = spdlog::default_logger()->clone("lpa");
    try {
        spdlog::register_logger(l);
    } catch (const spdlog::spdlog_ex&) {
        // Another thread registered it first: use theirs.
        if (auto existing = spdlog::get("lpa")) {
            return existing;
        }
    }
    return l;
}

error card_malformed(std::string_view function, const asn1::error& e) {
    return error{.code = errc::card_malformed,
                 .message = fmt::format(
                     "{}: the eUICC's answer does not decode ({}{}{} at byte {})", function,
                     asn1::to_string(e.code), e.field.empty() ? "" : " in ", e.field, e.offset)};
}

error card_refused(std::string_view function, std::uint32_t code, std::string_view meaning) {
    return error{.code = errc::card_refused,
                 .message = fmt::format("{}: the eUICC refused: {} ({})", function, meaning, code),
                 .card_code = code};
}

error server_failure(std::string_view function, const es9p_error& e) {
    error out;
    switch (e.what) {
    case es9p_error::kind::transport:
        out.code = errc::server_transport;
        out.message = fmt::format("{}: SM-DP+ unreachable: {}", function, e.detail);
        break;
    case es9p_error::kind::malformed:
        out.code = errc::server_malformed;
        out.message = fmt::format("{}: the SM-DP+'s answer is malformed: {}", function, e.detail);
        break;
    case es9p_error::kind::refused:
        out.code = errc::server_refused;
        out.message = fmt::format("{}: the SM-DP+ refused", function);
        out.server_status = e.status;
        break;
    }
    return out;
}

} // namespace detail
} // namespace esimguard::lpa
