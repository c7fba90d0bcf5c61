#pragma once
// Helpers shared by the LPA's procedures: the module's named logger and the
// mapping of card and server failures onto lpa::error.

#include "esimguard/asn1/tlv.hpp"
#include "esimguard/lpa/es9p_client.hpp"
#include "esimguard/lpa/lpa.hpp"

#include <spdlog/logger.h>

#include <memory>
#include <string>
#include <string_view>

namespace esimguard::lpa::detail {

/// The "lpa" logger, cloned from the default one so that it writes wherever
/// the program sends its logs.
std::shared_ptr<spdlog::logger> logger();

/// A card answer that did not decode as `function`'s response.
error card_malformed(std::string_view function, const asn1::error& e);
/// A card answer carrying an ES10 result or error code.
error card_refused(std::string_view function, std::uint32_t code, std::string_view meaning);
/// An ES9+ failure of `function`, keeping the server's status code.
error server_failure(std::string_view function, const es9p_error& e);

} // namespace esimguard::lpa::detail
