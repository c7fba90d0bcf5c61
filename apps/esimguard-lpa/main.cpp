// esimguard-lpa: the LPA as a command line. Wiring only: picks the card link
// (subprocess, PC/SC or the in-process simulator) and the ES9+ client's
// trust, runs one lpa::lpa call, and prints its result as text or JSON.
//
// Never prints the activation code, the matching ID or the confirmation code.

#include "esimguard/apdu/es10_client.hpp"
#include "esimguard/apdu/transports.hpp"
#include "esimguard/asn1/iccid.hpp"
#include "esimguard/euicc/euicc.hpp"
#include "esimguard/lpa/es9p_client.hpp"
#include "esimguard/lpa/lpa.hpp"
#include "esimguard/pki/test_pki.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace esimguard;

namespace {

struct options {
    bool json_output = false;
    std::string euicc_cmd;
    std::string pcsc_reader;
    bool use_pcsc = false;
    fs::path sim_state;
    fs::path pki_dir;
    std::string eid;
    std::string curve;
    std::vector<fs::path> ca_files;
    bool insecure = false;
    std::string log_level = "warn";

    // profile download
    std::string activation_code;
    std::string smdp_address;
    std::string matching_id;
    std::string confirmation_code;
    bool no_notify = false;
    bool yes = true;
    // profile enable/disable/delete/nickname
    std::string profile;
    std::string nickname;
    bool refresh = false;
    // notification process/remove
    std::vector<std::uint64_t> seq_numbers;
};

/// What the program needs alive while the LPA runs: the card link (and the
/// simulator behind it) and the ES9+ client.
struct session {
    std::unique_ptr<euicc::euicc> chip;
    std::unique_ptr<apdu::card> chip_card;
    std::vector<bytes> sim_trusted_ci;
    std::unique_ptr<apdu::transport> link;
    std::unique_ptr<apdu::es10_client> es10;
    std::unique_ptr<lpa::es9p_client> es9p;
    std::unique_ptr<lpa::lpa> lpa;
};

/// Exit codes: 1 an LPA/SGP.22 failure, 2 a usage or setup error.
constexpr int exit_failure = 1;
constexpr int exit_setup = 2;

int fail_setup(const options& o, const std::string& message) {
    if (o.json_output) {
        std::cout
            << json{{"ok", false}, {"error", {{"code", "setup"}, {"message", message}}}}.dump()
            << "\n";
    } else {
        std::cerr << "esimguard-lpa: " << message << "\n";
    }
    return exit_setup;
}

int fail(const options& o, const lpa::error& e) {
    if (o.json_output) {
        json err{{"code", std::string(lpa::to_string(e.code))}, {"message", e.message}};
        if (e.server_status) {
            err["subjectCode"] = e.server_status->subject_code;
            err["reasonCode"] = e.server_status->reason_code;
            err["serverMessage"] = e.server_status->message;
        }
        if (e.card_code) {
            err["cardCode"] = *e.card_code;
        }
        if (e.cancelled_with) {
            err["cancelledWithReason"] = static_cast<unsigned>(*e.cancelled_with);
        }
        std::cout << json{{"ok", false}, {"error", err}}.dump() << "\n";
    } else {
        std::cerr << "esimguard-lpa: " << lpa::describe(e) << "\n";
        if (e.server_status) {
            std::cerr << "  SGP.22 status: subject " << e.server_status->subject_code << ", reason "
                      << e.server_status->reason_code << "\n";
        }
        if (e.cancelled_with) {
            std::cerr << "  the session was cancelled on the eUICC and the SM-DP+\n";
        }
    }
    return exit_failure;
}

int succeed(const options& o, const json& data, const std::string& text) {
    if (o.json_output) {
        std::cout << json{{"ok", true}, {"data", data}}.dump() << "\n";
    } else if (!text.empty()) {
        std::cout << text;
    }
    return 0;
}

/// Splits a command line on blanks, honouring single and double quotes.
std::vector<std::string> split_command(const std::string& cmd) {
    std::vector<std::string> out;
    std::string cur;
    bool in_word = false;
    char quote = 0;
    for (char c : cmd) {
        if (quote) {
            if (c == quote) {
                quote = 0;
            } else {
                cur += c;
            }
        } else if (c == '\'' || c == '"') {
            quote = c;
            in_word = true;
        } else if (c == ' ' || c == '\t') {
            if (in_word) {
                out.push_back(cur);
                cur.clear();
                in_word = false;
            }
        } else {
            cur += c;
            in_word = true;
        }
    }
    if (in_word) {
        out.push_back(cur);
    }
    return out;
}

/// Reads a confirmation code from the terminal without echoing it.
std::optional<std::string> prompt_confirmation_code() {
    std::cerr << "Confirmation code: " << std::flush;
    termios saved{};
    const bool tty = tcgetattr(STDIN_FILENO, &saved) == 0;
    if (tty) {
        termios quiet = saved;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    std::string code;
    const bool got = static_cast<bool>(std::getline(std::cin, code));
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    }
    std::cerr << "\n";
    if (!got || code.empty()) {
        return std::nullopt;
    }
    return code;
}

/// A one-line progress bar on stderr, redrawn when the percentage changes.
class progress_bar {
public:
    void operator()(std::size_t done, std::size_t total) {
        const int pct = total == 0 ? 100 : static_cast<int>(done * 100 / total);
        if (pct == last_) {
            return;
        }
        last_ = pct;
        constexpr int width = 40;
        const int filled = pct * width / 100;
        std::cerr << "\rLoading profile [" << std::string(static_cast<std::size_t>(filled), '#')
                  << std::string(static_cast<std::size_t>(width - filled), '.') << "] " << pct
                  << "%" << (pct == 100 ? "\n" : "") << std::flush;
    }

private:
    int last_ = -1;
};

/// The curve whose test PKI holds this EID's certificate.
std::optional<crypto::curve> find_curve(const options& o) {
    if (!o.curve.empty()) {
        return pki::parse_curve(o.curve);
    }
    for (auto c : {crypto::curve::nist_p256, crypto::curve::brainpool_p256r1}) {
        if (fs::exists(o.pki_dir / std::string(pki::curve_dir_name(c)) / "euicc" /
                       (o.eid + ".der"))) {
            return c;
        }
    }
    return std::nullopt;
}

/// Opens the card link and the SM-DP+ client; an error message on failure.
std::optional<std::string> open_session(const options& o, session& s) {
    const int links =
        (o.euicc_cmd.empty() ? 0 : 1) + (o.use_pcsc ? 1 : 0) + (o.sim_state.empty() ? 0 : 1);
    if (links != 1) {
        return "choose exactly one card: --euicc-cmd CMD, --pcsc [READER], or --sim-state FILE "
               "--pki DIR --eid EID";
    }
    if (!o.euicc_cmd.empty()) {
        apdu::subprocess_options so;
        so.argv = split_command(o.euicc_cmd);
        if (so.argv.empty()) {
            return "--euicc-cmd is empty";
        }
        s.link = apdu::create_subprocess_transport(std::move(so));
    } else if (o.use_pcsc) {
        s.link = apdu::create_pcsc_transport(apdu::pcsc_options{.reader = o.pcsc_reader});
    } else {
        if (o.pki_dir.empty() || o.eid.empty()) {
            return "--sim-state needs --pki DIR and --eid EID";
        }
        auto curve = find_curve(o);
        if (!curve) {
            return fmt::format("no eUICC certificate for EID {} under {} (or unknown --curve)",
                               o.eid, o.pki_dir.string());
        }
        auto config = euicc::load_euicc_from_pki(o.pki_dir, *curve, o.eid);
        if (!config) {
            return fmt::format("cannot load the simulated eUICC: {}", config.error().detail);
        }
        s.sim_trusted_ci = config->trusted_ci_certificates_der;
        auto chip = euicc::create_euicc(std::move(*config), o.sim_state);
        if (!chip) {
            return fmt::format("cannot open the simulated eUICC state {}: {}", o.sim_state.string(),
                               chip.error().detail);
        }
        s.chip = std::move(*chip);
        s.chip_card = euicc::create_euicc_card(*s.chip);
        s.link = apdu::create_card_transport(*s.chip_card);
    }
    s.es10 = std::make_unique<apdu::es10_client>(*s.link);

    lpa::https_es9p_config hc;
    hc.insecure = o.insecure;
    hc.trusted_ca_files = o.ca_files;
    if (hc.trusted_ca_files.empty()) {
        // The simulator trusts these CIs: the SM-DP+'s TLS chain must lead to one.
        hc.trusted_ca_der = s.sim_trusted_ci;
        if (!o.pki_dir.empty()) {
            // Every CI of the test PKI: SM-DP+s often serve a P-256 DPtls chain
            // whichever CI the eUICC uses for ES9+ signatures.
            for (auto c : {crypto::curve::nist_p256, crypto::curve::brainpool_p256r1}) {
                const auto ci = o.pki_dir / std::string(pki::curve_dir_name(c)) / "ci.der";
                if (fs::exists(ci)) {
                    hc.trusted_ca_files.push_back(ci);
                }
            }
        }
    }
    if (o.insecure) {
        std::cerr << "**********************************************************************\n"
                     "WARNING: --insecure: the SM-DP+'s TLS certificate and host name are NOT\n"
                     "verified. Anyone on the network path can impersonate the server.\n"
                     "Use this only against a lab server.\n"
                     "**********************************************************************\n";
    }
    auto client = lpa::create_https_es9p_client(std::move(hc));
    if (!client) {
        return client.error().detail;
    }
    s.es9p = std::move(*client);
    s.lpa = std::make_unique<lpa::lpa>(*s.es10, *s.es9p);
    return std::nullopt;
}

std::string hex_list(const std::vector<bytes>& ids) {
    std::string out;
    for (const auto& id : ids) {
        out += (out.empty() ? "" : ", ") + to_hex_upper(id);
    }
    return out;
}

std::string version(const asn1::version_type& v) {
    return fmt::format("{}.{}.{}", v[0], v[1], v[2]);
}

json hex_json(const std::vector<bytes>& ids) {
    json a = json::array();
    for (const auto& id : ids) {
        a.push_back(to_hex_upper(id));
    }
    return a;
}

std::string operation_name(const asn1::bit_string& op) {
    if (op.test(asn1::notification_install)) {
        return "install";
    }
    if (op.test(asn1::notification_enable)) {
        return "enable";
    }
    if (op.test(asn1::notification_disable)) {
        return "disable";
    }
    if (op.test(asn1::notification_delete)) {
        return "delete";
    }
    return "unknown";
}

int cmd_chip_info(const options& o, session& s) {
    auto info = s.lpa->get_chip_info();
    if (!info) {
        return fail(o, info.error());
    }
    json j{{"eid", info->eid},
           {"svn", version(info->info2.svn)},
           {"euiccFirmwareVersion", version(info->info2.euicc_firmware_ver)},
           {"profileVersion", version(info->info2.profile_version)},
           {"ppVersion", version(info->info2.pp_version)},
           {"sasAccreditationNumber", info->info2.sas_accreditation_number},
           {"ciPKIdListForVerification", hex_json(info->info1.ci_pkid_list_for_verification)},
           {"ciPKIdListForSigning", hex_json(info->info1.ci_pkid_list_for_signing)},
           {"defaultDpAddress", info->addresses.default_dp_address.value_or("")},
           {"rootDsAddress", info->addresses.root_ds_address}};
    std::string text = fmt::format(
        "EID                   {}\nSGP.22 version        {}\nFirmware              {}\n"
        "SAS accreditation     {}\nCI keys (verify)      {}\nCI keys (sign)        {}\n"
        "Default SM-DP+        {}\nRoot SM-DS            {}\n",
        info->eid, version(info->info2.svn), version(info->info2.euicc_firmware_ver),
        info->info2.sas_accreditation_number, hex_list(info->info1.ci_pkid_list_for_verification),
        hex_list(info->info1.ci_pkid_list_for_signing),
        info->addresses.default_dp_address.value_or("(none)"), info->addresses.root_ds_address);
    return succeed(o, j, text);
}

int cmd_profile_list(const options& o, session& s) {
    auto list = s.lpa->list_profiles();
    if (!list) {
        return fail(o, list.error());
    }
    json arr = json::array();
    std::string text = fmt::format("{:<22} {:<9} {:<20} {:<24} {}\n", "ICCID", "STATE", "NICKNAME",
                                   "NAME", "PROVIDER");
    for (const auto& p : *list) {
        const std::string iccid = p.iccid ? p.iccid->to_string() : "";
        const std::string state =
            p.state ? (*p.state == asn1::profile_state::enabled ? "enabled" : "disabled") : "";
        json e{{"iccid", iccid},
               {"isdpAid", p.aid ? to_hex_upper(p.aid->value) : ""},
               {"state", state},
               {"nickname", p.profile_nickname.value_or("")},
               {"serviceProviderName", p.service_provider_name.value_or("")},
               {"profileName", p.profile_name.value_or("")},
               {"profileClass",
                p.klass ? (*p.klass == asn1::profile_class::test           ? "test"
                           : *p.klass == asn1::profile_class::provisioning ? "provisioning"
                                                                           : "operational")
                        : "operational"}};
        arr.push_back(e);
        text += fmt::format("{:<22} {:<9} {:<20} {:<24} {}\n", iccid, state,
                            p.profile_nickname.value_or(""), p.profile_name.value_or(""),
                            p.service_provider_name.value_or(""));
    }
    if (list->empty()) {
        text = "No profiles.\n";
    }
    return succeed(o, arr, text);
}

json outcomes_json(const std::vector<lpa::notification_outcome>& outcomes) {
    json arr = json::array();
    for (const auto& n : outcomes) {
        json e{{"seqNumber", n.seq_number},
               {"address", n.address},
               {"operation", operation_name(n.operation)},
               {"iccid", n.iccid.value_or("")},
               {"sent", n.sent},
               {"removed", n.removed}};
        if (n.failure) {
            e["error"] = lpa::describe(*n.failure);
        }
        arr.push_back(e);
    }
    return arr;
}

std::string outcomes_text(const std::vector<lpa::notification_outcome>& outcomes) {
    std::string text;
    for (const auto& n : outcomes) {
        text += fmt::format("notification {} ({}) to {}: {}\n", n.seq_number,
                            operation_name(n.operation), n.address,
                            n.removed ? "delivered and removed"
                            : n.sent  ? "delivered, but not removed"
                                      : "NOT delivered, kept on the card");
        if (n.failure) {
            text += "  " + lpa::describe(*n.failure) + "\n";
        }
    }
    return text;
}

int cmd_profile_download(const options& o, session& s) {
    lpa::download_request req;
    if (!o.activation_code.empty()) {
        if (!o.smdp_address.empty() || !o.matching_id.empty()) {
            return fail_setup(o, "give either -a CODE or -s ADDR -m ID, not both");
        }
        auto parsed = lpa::download_request::from_activation_code(o.activation_code);
        if (!parsed) {
            return fail(o, parsed.error());
        }
        req = std::move(*parsed);
    } else {
        if (o.smdp_address.empty()) {
            return fail_setup(o, "profile download needs -a CODE or -s ADDR [-m ID]");
        }
        req.smdp_address = o.smdp_address;
        req.matching_id = o.matching_id;
    }
    if (!o.confirmation_code.empty()) {
        req.confirmation_code = o.confirmation_code;
    }

    lpa::download_callbacks cb;
    // Without a terminal there is nobody to ask: the LPA then postpones the
    // session, and the message below says how to pass the code.
    const bool interactive = isatty(STDIN_FILENO) != 0;
    if (interactive) {
        cb.confirmation_code = prompt_confirmation_code;
    }
    progress_bar bar;
    cb.progress = [&bar](std::size_t done, std::size_t total) { bar(done, total); };

    auto r = s.lpa->download_profile(req, cb);
    if (!r) {
        auto e = r.error();
        if (e.code == lpa::errc::declined && !interactive && !req.confirmation_code) {
            e.message += " (stdin is not a terminal: pass the code with -c CODE)";
        }
        return fail(o, e);
    }
    json j{{"iccid", r->metadata.iccid.to_string()},
           {"profileName", r->metadata.profile_name},
           {"serviceProviderName", r->metadata.service_provider_name},
           {"isdpAid", to_hex_upper(r->isdp_aid)},
           {"transactionId", to_hex_upper(r->transaction_id)},
           {"installationResultSent", r->notification_sent}};
    std::string text = fmt::format("Installed profile {} \"{}\" from {} (ISD-P {})\n",
                                   r->metadata.iccid.to_string(), r->metadata.profile_name,
                                   r->metadata.service_provider_name, to_hex_upper(r->isdp_aid));
    if (!r->notification_sent && r->notification_failure) {
        text += "The installation result was not delivered yet: " +
                lpa::describe(*r->notification_failure) + "\n";
    }
    if (!o.no_notify) {
        auto sent = s.lpa->process_notifications();
        if (sent) {
            j["notifications"] = outcomes_json(*sent);
            text += outcomes_text(*sent);
        } else {
            text += "Could not send pending notifications: " + lpa::describe(sent.error()) + "\n";
        }
    }
    return succeed(o, j, text);
}

int cmd_profile_change(const options& o, session& s, const std::string& what) {
    auto ref = lpa::parse_profile_ref(o.profile);
    if (!ref) {
        return fail(o, ref.error());
    }
    lpa::result<void> r;
    if (what == "enable") {
        r = s.lpa->enable_profile(*ref, o.refresh);
    } else if (what == "disable") {
        r = s.lpa->disable_profile(*ref, o.refresh);
    } else {
        r = s.lpa->delete_profile(*ref);
    }
    if (!r) {
        return fail(o, r.error());
    }
    std::string text = fmt::format("Profile {}: {}d\n", o.profile, what);
    json j{{"profile", o.profile}, {"action", what}};
    if (!o.no_notify) {
        auto sent = s.lpa->process_notifications();
        if (sent) {
            j["notifications"] = outcomes_json(*sent);
            text += outcomes_text(*sent);
        } else {
            text += "Could not send pending notifications: " + lpa::describe(sent.error()) + "\n";
        }
    }
    return succeed(o, j, text);
}

int cmd_profile_nickname(const options& o, session& s) {
    auto r = s.lpa->set_nickname(o.profile, o.nickname);
    if (!r) {
        return fail(o, r.error());
    }
    return succeed(o, json{{"iccid", o.profile}, {"nickname", o.nickname}},
                   fmt::format("Profile {}: nickname set\n", o.profile));
}

int cmd_notification_list(const options& o, session& s) {
    auto list = s.lpa->list_notifications();
    if (!list) {
        return fail(o, list.error());
    }
    json arr = json::array();
    std::string text = list->empty() ? "No pending notifications.\n" : "";
    for (const auto& n : *list) {
        const std::string iccid = n.iccid ? n.iccid->to_string() : "";
        arr.push_back(json{{"seqNumber", n.seq_number},
                           {"operation", operation_name(n.profile_management_operation)},
                           {"address", n.notification_address},
                           {"iccid", iccid}});
        text += fmt::format("{:>5} {:<8} {:<22} {}\n", n.seq_number,
                            operation_name(n.profile_management_operation), iccid,
                            n.notification_address);
    }
    return succeed(o, arr, text);
}

int cmd_notification_process(const options& o, session& s) {
    std::vector<lpa::notification_outcome> all;
    if (o.seq_numbers.empty()) {
        auto r = s.lpa->process_notifications();
        if (!r) {
            return fail(o, r.error());
        }
        all = std::move(*r);
    } else {
        for (auto seq : o.seq_numbers) {
            auto r = s.lpa->process_notifications(seq);
            if (!r) {
                return fail(o, r.error());
            }
            all.insert(all.end(), r->begin(), r->end());
        }
    }
    bool all_ok = true;
    for (const auto& n : all) {
        all_ok = all_ok && n.removed;
    }
    const int rc = succeed(o, outcomes_json(all),
                           all.empty() ? "No pending notifications.\n" : outcomes_text(all));
    return all_ok ? rc : exit_failure;
}

int cmd_notification_remove(const options& o, session& s) {
    for (auto seq : o.seq_numbers) {
        if (auto r = s.lpa->remove_notification(seq); !r) {
            return fail(o, r.error());
        }
    }
    return succeed(o, json{{"removed", o.seq_numbers}},
                   fmt::format("Removed {} notification(s)\n", o.seq_numbers.size()));
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"esimguard-lpa: a GSMA SGP.22 LPA (profile download and management)"};
    app.require_subcommand(1);
    app.fallthrough();
    options o;

    app.add_flag("--json", o.json_output, "Machine-readable output on stdout");
    app.add_option("--euicc-cmd", o.euicc_cmd,
                   "Card program speaking lpac's stdio APDU protocol, e.g. "
                   "\"esimguard-euicc --state F --stdio\"");
    auto* pcsc =
        app.add_option("--pcsc", o.pcsc_reader, "Use a PC/SC reader (optional: part of its name)")
            ->expected(0, 1);
    app.add_option("--sim-state", o.sim_state, "In-process simulated eUICC: its state file");
    app.add_option("--pki", o.pki_dir,
                   "Test PKI directory: the simulated eUICC's, and its CIs as TLS anchors");
    app.add_option("--eid", o.eid, "EID of the simulated eUICC");
    app.add_option("--curve", o.curve, "Curve of the simulated eUICC (nist or brainpool)");
    app.add_option("--ca", o.ca_files, "Trusted CA (CI) certificate file for the SM-DP+ TLS chain")
        ->check(CLI::ExistingFile);
    app.add_flag("--insecure", o.insecure,
                 "Do not verify the SM-DP+'s TLS certificate (lab servers only)");
    app.add_option("--log-level", o.log_level, "trace, debug, info, warn, error or off");

    auto* chip = app.add_subcommand("chip", "The eUICC")->require_subcommand(1);
    auto* chip_info = chip->add_subcommand("info", "EID, EUICCInfo and configured addresses");

    auto* profile = app.add_subcommand("profile", "Profiles")->require_subcommand(1);
    auto* p_list = profile->add_subcommand("list", "List installed profiles");
    auto* p_download = profile->add_subcommand("download", "Download and install a profile");
    p_download->add_option("-a,--activation-code", o.activation_code,
                           "LPA:1$<SM-DP+ address>$<matching ID>[$<OID>[$1]]");
    p_download->add_option("-s,--smdp", o.smdp_address, "SM-DP+ address (host[:port])");
    p_download->add_option("-m,--matching-id", o.matching_id, "Matching ID");
    p_download->add_option("-c,--confirmation-code", o.confirmation_code,
                           "Confirmation code (asked for on the terminal when needed)");
    p_download->add_flag("--no-notify", o.no_notify, "Do not send pending notifications after");
    auto* p_enable = profile->add_subcommand("enable", "Enable a profile");
    auto* p_disable = profile->add_subcommand("disable", "Disable a profile");
    auto* p_delete = profile->add_subcommand("delete", "Delete a profile");
    for (auto* sc : {p_enable, p_disable, p_delete}) {
        sc->add_option("profile", o.profile, "ICCID or ISD-P AID (hex)")->required();
        sc->add_flag("--no-notify", o.no_notify, "Do not send the resulting notification");
    }
    p_enable->add_flag("--refresh", o.refresh, "Ask the device to refresh (REFRESH proactive)");
    p_disable->add_flag("--refresh", o.refresh, "Ask the device to refresh (REFRESH proactive)");
    auto* p_nickname = profile->add_subcommand("nickname", "Set a profile's nickname");
    p_nickname->add_option("iccid", o.profile, "ICCID")->required();
    p_nickname->add_option("nickname", o.nickname, "Nickname (empty clears it)")->required();

    auto* notification =
        app.add_subcommand("notification", "Pending notifications")->require_subcommand(1);
    auto* n_list = notification->add_subcommand("list", "List pending notifications");
    auto* n_process =
        notification->add_subcommand("process", "Send pending notifications, remove delivered");
    n_process->add_option("seq", o.seq_numbers, "Only these sequence numbers");
    auto* n_remove =
        notification->add_subcommand("remove", "Remove notifications without sending them");
    n_remove->add_option("seq", o.seq_numbers, "Sequence numbers")->required();

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    o.use_pcsc = pcsc->count() > 0;

    // Logs go to stderr: stdout carries the result (and JSON for scripts).
    auto logger = spdlog::stderr_color_mt("esimguard-lpa");
    spdlog::set_default_logger(logger);
    spdlog::set_level(spdlog::level::from_str(o.log_level));

    session s;
    if (auto err = open_session(o, s)) {
        return fail_setup(o, *err);
    }

    if (chip_info->parsed()) {
        return cmd_chip_info(o, s);
    }
    if (p_list->parsed()) {
        return cmd_profile_list(o, s);
    }
    if (p_download->parsed()) {
        return cmd_profile_download(o, s);
    }
    if (p_enable->parsed()) {
        return cmd_profile_change(o, s, "enable");
    }
    if (p_disable->parsed()) {
        return cmd_profile_change(o, s, "disable");
    }
    if (p_delete->parsed()) {
        return cmd_profile_change(o, s, "delete");
    }
    if (p_nickname->parsed()) {
        return cmd_profile_nickname(o, s);
    }
    if (n_list->parsed()) {
        return cmd_notification_list(o, s);
    }
    if (n_process->parsed()) {
        return cmd_notification_process(o, s);
    }
    if (n_remove->parsed()) {
        return cmd_notification_remove(o, s);
    }
    return fail_setup(o, "no command");
}
