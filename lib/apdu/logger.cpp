#include "logger.hpp"

#include <spdlog/spdlog.h>

namespace esimguard::apdu::detail {

std::shared_ptr<spdlog::logger> apdu_logger() {
    if (auto l = spdlog::get("apdu")) {
        return l;
    }
    auto l = spdlog::default_logger()->clone("apdu");
    try {
        spdlog::register_logger(l);
    } catch (const spdlog::spdlog_ex&) {
        // Another thread registered it first: use theirs.
        if (auto existing = spdlog::get("apdu")) {
            return existing;
        }
    }
    return l;
}

} // namespace esimguard::apdu::detail
