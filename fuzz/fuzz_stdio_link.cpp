// Fuzz target for the stdio card link (lib/apdu/stdio_link.cpp), the part of
// esimguard-euicc that reads whatever an LPA writes on its stdin.
//
// The input is a stream of lines. Beyond "never crash", it checks lpac's
// contract: every non-empty line gets exactly one answer line, and every
// answer is {"type":"apdu","payload":{"ecode":<integer>,...}} (so a
// malformed request can never desynchronise the LPA).

#include "esimguard/apdu/links.hpp"
#include "fuzz_common.hpp"

#include "../tests/fakes/recording_card.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <sstream>
#include <string>

namespace {

using namespace esimguard;

/// Answers channel management like a card and echoes other commands, so that
/// logic_channel_open can succeed and transmit carries data back.
bytes respond(byte_view c) {
    if (c.size() >= 3 && c[1] == 0x70 && c[2] == 0x00) {
        return {0x01, 0x90, 0x00};
    }
    bytes out(c.begin(), c.end());
    out.push_back(0x90);
    out.push_back(0x00);
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const bool quiet = [] {
        spdlog::set_level(spdlog::level::off);
        return true;
    }();
    (void)quiet;

    const std::string text(reinterpret_cast<const char*>(data), size);
    fakes::recording_card card(respond);
    apdu::stdio_link link(card);
    std::istringstream in(text);
    std::ostringstream out;
    // A small line limit so that the too-long path is reached as well.
    link.run(in, out, 512);

    std::size_t expected = 0;
    std::istringstream requests(text);
    for (std::string line; std::getline(requests, line);) {
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();
        }
        expected += line.empty() ? 0 : 1;
    }
    std::size_t answers = 0;
    std::istringstream replies(out.str());
    for (std::string line; std::getline(replies, line); ++answers) {
        const auto j = nlohmann::json::parse(line, nullptr, false);
        if (j.is_discarded() || !j.is_object() || j.value("type", "") != "apdu" ||
            !j.contains("payload") || !j["payload"].is_object() ||
            !j["payload"].contains("ecode") || !j["payload"]["ecode"].is_number_integer()) {
            esimguard::fuzz::finding("an answer line is not lpac's apdu answer");
        }
    }
    if (answers != expected) {
        esimguard::fuzz::finding("not exactly one answer per request line");
    }
    return 0;
}
