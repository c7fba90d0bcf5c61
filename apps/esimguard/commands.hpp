#pragma once
// Command groups of the esimguard CLI.

#include <CLI/CLI.hpp>

namespace esimguard::app {

/// `esimguard pki ...`: test PKI generation and eUICC certificate issuance.
void register_pki_commands(CLI::App& app);

/// `esimguard profile ...`: SAIP profile packages.
void register_profile_commands(CLI::App& app);

/// `esimguard order ...`: orders on the running server of `make run` (admin API).
void register_order_commands(CLI::App& app);

/// `esimguard demo`: PKI, SM-DP+, order, eUICC and LPA in one process.
void register_demo_command(CLI::App& app);

/// The exit code set by the command that ran (0 when none failed).
int exit_code();
void set_exit_code(int code);

} // namespace esimguard::app
