#pragma once
// The alert delivery logger ("alerts"), cloned from the default logger on
// first use so that it writes wherever the program sends its logs. A name of
// its own, so that it never collides with the other defence loggers.

#include <spdlog/logger.h>

#include <memory>
#include <string>
#include <string_view>

namespace esimguard::defense::alerts_detail {

std::shared_ptr<spdlog::logger> logger();

/// `s` with control characters escaped (\r, \n, \xNN): alert fields come
/// from requests an attacker shapes, and must not forge log lines.
std::string log_safe(std::string_view s);

} // namespace esimguard::defense::alerts_detail
