// Arbitrary APDU sequences against the simulated eUICC's card side: each
// APDU is one length byte followed by that many bytes. Nothing may crash.

#include "esimguard/euicc/euicc.hpp"
#include "esimguard/pki/test_pki.hpp"

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include <unistd.h>

namespace {

using namespace esimguard;

constexpr std::string_view fuzz_eid = "89049032123451234512345678901235";

euicc::euicc* chip() {
    static std::unique_ptr<euicc::euicc> instance = [] {
        const auto now =
            crypto::sys_seconds(std::chrono::sys_days{std::chrono::year{2031} / 1 / 1});
        const auto dir =
            std::filesystem::temp_directory_path() / ("fuzz-euicc-" + std::to_string(::getpid()));
        pki::test_pki_options o;
        o.dir = dir;
        o.curves = pki::curve_set::nist;
        o.now = now;
        o.overwrite = true;
        if (!pki::init_test_pki(o) ||
            !pki::issue_euicc(dir, fuzz_eid, crypto::curve::nist_p256, now)) {
            std::abort();
        }
        auto cfg = euicc::load_euicc_from_pki(dir, crypto::curve::nist_p256, fuzz_eid);
        if (!cfg) {
            std::abort();
        }
        cfg->clock = [now] { return now; };
        auto e = euicc::create_euicc(std::move(*cfg), dir / "state.json");
        if (!e) {
            std::abort();
        }
        return std::move(*e);
    }();
    return instance.get();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto card = euicc::create_euicc_card(*chip());
    card->reset();
    std::size_t pos = 0;
    while (pos < size) {
        const std::size_t n = data[pos++];
        const std::size_t take = std::min(n, size - pos);
        const auto r = card->transmit(byte_view(data + pos, take));
        if (r.size() < 2) {
            std::abort(); // every response ends in a status word
        }
        pos += take;
    }
    card->power_off();
    return 0;
}
