// `esimguard profile make`: writes a small valid unprotected profile package
// (SAIP DER) for tests and the demo.

#include "commands.hpp"

#include "esimguard/asn1/iccid.hpp"
#include "esimguard/rsp/saip.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

namespace esimguard::app {

namespace {

struct make_args {
    std::string iccid;
    std::string imsi;
    std::string out;
    std::string profile_type = "esimguard";
};

} // namespace

void register_profile_commands(CLI::App& app) {
    auto* profile = app.add_subcommand("profile", "Unprotected profile packages (SAIP)");
    profile->require_subcommand(1);

    auto args = std::make_shared<make_args>();
    auto* make = profile->add_subcommand("make", "Write a small valid SAIP profile package");
    make->add_option("--iccid", args->iccid, "ICCID, 18 to 20 digits")->required();
    make->add_option("--imsi", args->imsi, "IMSI, 6 to 15 digits")->required();
    make->add_option("--out", args->out, "Output file (DER)")->required();
    make->add_option("--type", args->profile_type, "Profile type named in the header")
        ->capture_default_str();
    make->callback([args] {
        auto iccid = asn1::iccid_value::parse(args->iccid);
        if (!iccid) {
            fmt::print(stderr, "esimguard profile make: ICCID must be 18 to 20 digits\n");
            set_exit_code(2);
            return;
        }
        rsp::profile_package_params p;
        p.iccid = *iccid;
        p.imsi = args->imsi;
        p.profile_type = args->profile_type;
        auto der = rsp::make_profile_package(p);
        if (!der) {
            fmt::print(stderr, "esimguard profile make: {}\n", der.error().message);
            set_exit_code(2);
            return;
        }
        std::ofstream f(args->out, std::ios::binary | std::ios::trunc);
        f.write(reinterpret_cast<const char*>(der->data()),
                static_cast<std::streamsize>(der->size()));
        if (!f) {
            fmt::print(stderr, "esimguard profile make: cannot write {}\n", args->out);
            set_exit_code(1);
            return;
        }
        fmt::print("wrote {} ({} bytes, ICCID {})\n", args->out, der->size(), iccid->to_string());
    });
}

} // namespace esimguard::app
