#pragma once
// The module's named logger ("apdu"), cloned from the default logger on first
// use so that it writes wherever the program sent logs (stderr for
// esimguard-euicc, whose stdout is the protocol).

#include <spdlog/logger.h>

#include <memory>

namespace esimguard::apdu::detail {

std::shared_ptr<spdlog::logger> apdu_logger();

} // namespace esimguard::apdu::detail
