// `esimguard pki init` and `esimguard pki issue-euicc`: the test PKI on disk
// (layout in include/esimguard/pki/test_pki.hpp).

#include "commands.hpp"

#include "esimguard/pki/test_pki.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

namespace esimguard::app {

namespace {

int g_exit_code = 0;

crypto::sys_seconds now() {
    return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
}

void report_failure(std::string_view what, const pki::pki_error& e) {
    fmt::print(stderr, "esimguard pki {}: {} ({})\n", what, e.detail, pki::to_string(e.code));
    set_exit_code(1);
}

void print_written(const std::vector<std::filesystem::path>& files) {
    for (const auto& f : files) {
        fmt::print("wrote {}\n", f.string());
    }
}

struct init_args {
    std::string dir;
    std::string curves = "both";
    std::string host = "localhost";
    bool force = false;
};

struct issue_args {
    std::string dir;
    std::string eid;
    std::string curve = "nist";
};

} // namespace

int exit_code() {
    return g_exit_code;
}
void set_exit_code(int code) {
    g_exit_code = code;
}

void register_pki_commands(CLI::App& app) {
    auto* pki_cmd = app.add_subcommand("pki", "Test PKI: CI, EUM, SM-DP+ and eUICC certificates");
    pki_cmd->require_subcommand(1);

    // CLI11 keeps references to the option targets past this function.
    auto init = std::make_shared<init_args>();
    auto* init_cmd = pki_cmd->add_subcommand(
        "init", "Write a test PKI (CI, EUM, DPauth, DPpb, DPtls, CRL) for each curve");
    init_cmd->add_option("--dir", init->dir, "Directory to write into")->required();
    init_cmd->add_option("--curve", init->curves, "nist, brainpool or both")
        ->check(CLI::IsMember({"nist", "brainpool", "both"}))
        ->capture_default_str();
    init_cmd->add_option("--host", init->host, "SM-DP+ host name for the DP certificates")
        ->capture_default_str();
    init_cmd->add_flag("--force", init->force, "Replace an existing PKI, keys included");
    init_cmd->callback([init] {
        pki::test_pki_options o;
        o.dir = init->dir;
        o.curves = pki::parse_curve_set(init->curves).value_or(pki::curve_set::both);
        o.host = init->host;
        o.now = now();
        o.overwrite = init->force;
        auto r = pki::init_test_pki(o);
        if (!r) {
            report_failure("init", r.error());
            return;
        }
        print_written(*r);
        fmt::print("test PKI ready in {} (EUM may certify EIDs starting {})\n", init->dir,
                   pki::test_eid_prefix);
    });

    auto issue = std::make_shared<issue_args>();
    auto* issue_cmd = pki_cmd->add_subcommand(
        "issue-euicc", "Issue an eUICC key and certificate under the test EUM");
    issue_cmd->add_option("--dir", issue->dir, "Directory of the test PKI")->required();
    issue_cmd->add_option("--eid", issue->eid, "EID: 32 digits with SGP.29 check digits")
        ->required();
    issue_cmd->add_option("--curve", issue->curve, "nist or brainpool")
        ->check(CLI::IsMember({"nist", "brainpool"}))
        ->capture_default_str();
    issue_cmd->callback([issue] {
        const auto c = pki::parse_curve(issue->curve).value_or(crypto::curve::nist_p256);
        auto r = pki::issue_euicc(issue->dir, issue->eid, c, now());
        if (!r) {
            report_failure("issue-euicc", r.error());
            return;
        }
        print_written(*r);
    });
}

} // namespace esimguard::app
