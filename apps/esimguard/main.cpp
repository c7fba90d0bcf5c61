// esimguard: the operator's command line. Each command group registers its
// subcommands from its own file; main() only wires them together.

#include "commands.hpp"

#include <CLI/CLI.hpp>

int main(int argc, char** argv) {
    CLI::App app{"esimguard: SGP.22 SM-DP+ with theft and fraud defences"};
    app.require_subcommand(1);
    app.set_version_flag("--version", "esimguard 0.1.0");
    esimguard::app::register_pki_commands(app);
    esimguard::app::register_profile_commands(app);
    esimguard::app::register_order_commands(app);
    esimguard::app::register_demo_command(app);
    esimguard::app::register_defense_commands(app);
    esimguard::app::register_crl_commands(app);
    esimguard::app::register_bench_command(app);
    CLI11_PARSE(app, argc, argv);
    return esimguard::app::exit_code();
}
