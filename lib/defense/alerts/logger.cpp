#include "logger.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace esimguard::defense::alerts_detail {

std::shared_ptr<spdlog::logger> logger() {
    if (auto l = spdlog::get("alerts")) {
        return l;
    }
    auto l = spdlog::default_logger()->clone("alerts");
    try {
        spdlog::register_logger(l);
    } catch (const spdlog::spdlog_ex&) {
        // Another thread registered it first: use theirs.
        if (auto existing = spdlog::get("alerts")) {
            return existing;
        }
    }
    return l;
}

std::string log_safe(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '\r') {
            out += "\\r";
        } else if (c == '\n') {
            out += "\\n";
        } else if (u < 0x20 || u == 0x7f) {
            out += fmt::format("\\x{:02x}", u);
        } else {
            out += c;
        }
    }
    return out;
}

} // namespace esimguard::defense::alerts_detail
