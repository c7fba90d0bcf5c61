// Fuzz target for the ES9+ request parsers (lib/rsp/es9p.cpp): hostile JSON
// bodies from devices must be refused with a status, never crash or throw.
//
// The first byte picks the parser, the rest is the body. A body that parses
// must write back to JSON that parses again to the same request.

#include "esimguard/rsp/es9p.hpp"
#include "fuzz_common.hpp"

#include <string_view>

namespace {

using namespace esimguard;

template <typename Parse>
void check(std::string_view body, Parse&& parse) {
    auto r = parse(body);
    if (!r) {
        if (r.error().subject_code.empty() || r.error().message.empty()) {
            fuzz::finding("a refusal without a status code or message");
        }
        return;
    }
    auto again = parse(rsp::to_json(*r));
    if (!again) {
        fuzz::finding("to_json of an accepted request does not parse");
    }
    if (!(*again == *r)) {
        fuzz::finding("to_json/parse does not round-trip");
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
    switch (data[0] % 5) {
    case 0:
        check(body, rsp::parse_initiate_authentication_request);
        break;
    case 1:
        check(body, rsp::parse_authenticate_client_request);
        break;
    case 2:
        check(body, rsp::parse_get_bound_profile_package_request);
        break;
    case 3:
        check(body, rsp::parse_handle_notification_request);
        break;
    default:
        check(body, rsp::parse_cancel_session_request);
        break;
    }
    return 0;
}
