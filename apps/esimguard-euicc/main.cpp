// esimguard-euicc: a simulated eUICC as a process. It plugs the card into
// lpac's stdio APDU driver (--stdio: stdin/stdout carry the protocol) or into
// vsmartcard's virtual PC/SC reader (--vpcd HOST:PORT). The card's identity
// (PKI directory, curve, EID) is remembered next to its state file, so only
// the first run needs --pki.

#include "esimguard/apdu/links.hpp"
#include "esimguard/euicc/euicc.hpp"
#include "esimguard/pki/eid.hpp"
#include "esimguard/pki/test_pki.hpp"

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <fstream>
#include <iostream>
#include <random>

namespace {

using namespace esimguard;
namespace fs = std::filesystem;

struct options {
    fs::path state;
    bool stdio = false;
    std::string vpcd;
    fs::path pki_dir;
    std::string curve;
    std::string eid;
    std::string log_level = "info";
};

/// Who the card is: kept in `<state>.card.json` because the eUICC's state
/// file holds no keys and no certificate paths.
struct identity {
    fs::path pki_dir;
    std::string curve = "nist";
    std::string eid;
};

fs::path identity_path(const fs::path& state) {
    return fs::path(state.string() + ".card.json");
}

std::optional<identity> read_identity(const fs::path& path, std::string& error) {
    std::ifstream in(path);
    if (!in) {
        return std::nullopt;
    }
    auto j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("pki_dir") || !j.contains("curve") ||
        !j.contains("eid") || !j["pki_dir"].is_string() || !j["curve"].is_string() ||
        !j["eid"].is_string()) {
        error = fmt::format("{} is not a card identity file", path.string());
        return std::nullopt;
    }
    return identity{j["pki_dir"].get<std::string>(), j["curve"].get<std::string>(),
                    j["eid"].get<std::string>()};
}

bool write_identity(const fs::path& path, const identity& id) {
    const nlohmann::json j = {
        {"pki_dir", id.pki_dir.string()}, {"curve", id.curve}, {"eid", id.eid}};
    const fs::path tmp = path.string() + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << j.dump(2) << '\n';
        if (!out.flush()) {
            return false;
        }
    }
    std::error_code ec;
    fs::rename(tmp, path, ec);
    return !ec;
}

/// An EID in the test EUM's range: its prefix, random digits, check digits.
std::string random_test_eid() {
    std::random_device rd;
    std::string first30(pki::test_eid_prefix);
    while (first30.size() < 30) {
        first30.push_back(static_cast<char>('0' + rd() % 10));
    }
    return *pki::eid_with_check_digits(first30);
}

/// Works out the identity from the remembered one and the flags; refuses a
/// flag that contradicts what the state already belongs to.
std::optional<identity> resolve_identity(const options& o, std::string& error) {
    const fs::path id_file = identity_path(o.state);
    auto stored = read_identity(id_file, error);
    if (!error.empty()) {
        return std::nullopt;
    }
    if (stored) {
        if (!o.eid.empty() && o.eid != stored->eid) {
            error =
                fmt::format("{} belongs to EID {}, not {}", o.state.string(), stored->eid, o.eid);
            return std::nullopt;
        }
        if (!o.curve.empty() && o.curve != stored->curve) {
            error = fmt::format("{} belongs to a {} card, not {}", o.state.string(), stored->curve,
                                o.curve);
            return std::nullopt;
        }
        if (!o.pki_dir.empty()) {
            // The PKI may have moved; the EID and curve may not change.
            stored->pki_dir = fs::absolute(o.pki_dir);
        }
        return stored;
    }
    if (o.pki_dir.empty()) {
        error = fmt::format("{} is a new card: its first run needs --pki DIR", o.state.string());
        return std::nullopt;
    }
    identity id;
    id.pki_dir = fs::absolute(o.pki_dir);
    id.curve = o.curve.empty() ? "nist" : o.curve;
    id.eid = o.eid.empty() ? random_test_eid() : o.eid;
    return id;
}

/// The eUICC certificate for the identity, issued under the test EUM if the
/// PKI does not hold one yet.
bool ensure_certificate(const identity& id, crypto::curve c, std::string& error) {
    const fs::path cert =
        id.pki_dir / std::string(pki::curve_dir_name(c)) / "euicc" / (id.eid + ".der");
    if (fs::exists(cert)) {
        return true;
    }
    const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    auto issued = pki::issue_euicc(id.pki_dir, id.eid, c, now);
    if (!issued) {
        error = fmt::format("cannot issue an eUICC certificate for {}: {} ({})", id.eid,
                            issued.error().detail, pki::to_string(issued.error().code));
        return false;
    }
    spdlog::info("issued the eUICC certificate {}", cert.string());
    return true;
}

std::optional<std::pair<std::string, std::uint16_t>> parse_host_port(const std::string& text) {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
        return std::nullopt;
    }
    unsigned long port = 0;
    try {
        std::size_t used = 0;
        port = std::stoul(text.substr(colon + 1), &used);
        if (used != text.size() - colon - 1) {
            return std::nullopt;
        }
    } catch (const std::exception&) {
        return std::nullopt;
    }
    if (port == 0 || port > 65535) {
        return std::nullopt;
    }
    std::string host = text.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    return std::pair{host, static_cast<std::uint16_t>(port)};
}

apdu::vpcd_client* g_vpcd = nullptr;

extern "C" void on_stop_signal(int) {
    if (g_vpcd) {
        g_vpcd->stop();
    }
}

int run(const options& o) {
    std::string error;
    auto id = resolve_identity(o, error);
    if (!id) {
        spdlog::error("{}", error);
        return 1;
    }
    auto curve = pki::parse_curve(id->curve);
    if (!curve) {
        spdlog::error("unknown curve \"{}\" (nist or brainpool)", id->curve);
        return 1;
    }
    if (!pki::eid_is_valid(id->eid)) {
        spdlog::error("EID {} is not 32 digits with valid check digits", id->eid);
        return 1;
    }
    if (!ensure_certificate(*id, *curve, error)) {
        spdlog::error("{}", error);
        return 1;
    }
    auto config = euicc::load_euicc_from_pki(id->pki_dir, *curve, id->eid);
    if (!config) {
        spdlog::error("cannot load the eUICC from {}: {}", id->pki_dir.string(),
                      config.error().detail);
        return 1;
    }
    auto chip = euicc::create_euicc(std::move(*config), o.state);
    if (!chip) {
        spdlog::error("cannot create the eUICC with state {}: {}", o.state.string(),
                      chip.error().detail);
        return 1;
    }
    if (!write_identity(identity_path(o.state), *id)) {
        spdlog::error("cannot write {}", identity_path(o.state).string());
        return 1;
    }
    auto card = euicc::create_euicc_card(**chip);
    spdlog::info("eUICC {}… ({}) ready, state {}", id->eid.substr(0, 8), id->curve,
                 o.state.string());

    if (o.stdio) {
        apdu::stdio_link link(*card);
        link.run(std::cin, std::cout);
        spdlog::info("stdin closed, card removed");
        return 0;
    }
    auto target = parse_host_port(o.vpcd);
    if (!target) {
        spdlog::error("--vpcd wants HOST:PORT, got \"{}\"", o.vpcd);
        return 1;
    }
    apdu::vpcd_client client(*card, {.host = target->first, .port = target->second});
    g_vpcd = &client;
    std::signal(SIGINT, on_stop_signal);
    std::signal(SIGTERM, on_stop_signal);
    client.run();
    g_vpcd = nullptr;
    spdlog::info("stopped");
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    // stdout is the protocol in --stdio mode: every log line goes to stderr.
    auto logger = spdlog::stderr_color_mt("esimguard-euicc");
    spdlog::set_default_logger(logger);
    // A closed stdout (the LPA went away) must end the loop, not the process.
    std::signal(SIGPIPE, SIG_IGN);

    options o;
    CLI::App app{"esimguard-euicc: a simulated SGP.22 eUICC for lpac (stdio) or PC/SC (vpcd)"};
    app.add_option("--state", o.state, "The card's state file (created on first use)")->required();
    auto* stdio =
        app.add_flag("--stdio", o.stdio, "Speak lpac's LPAC_APDU=stdio protocol on stdin/stdout");
    auto* vpcd = app.add_option("--vpcd", o.vpcd,
                                "Connect to vsmartcard's vpcd at HOST:PORT (e.g. 127.0.0.1:35963)");
    stdio->excludes(vpcd);
    app.add_option("--pki", o.pki_dir,
                   "Test PKI directory (esimguard pki init); needed on first use");
    app.add_option("--curve", o.curve, "nist or brainpool (default nist)")
        ->check(CLI::IsMember({"nist", "brainpool"}));
    app.add_option("--eid", o.eid, "EID, 32 digits in the test EUM's range (default: random)");
    app.add_option("--log-level", o.log_level, "trace, debug, info, warn, error or off")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
    CLI11_PARSE(app, argc, argv);
    if (!o.stdio && o.vpcd.empty()) {
        spdlog::error("choose a link: --stdio or --vpcd HOST:PORT");
        return 2;
    }
    spdlog::set_level(spdlog::level::from_str(o.log_level));
    return run(o);
}
