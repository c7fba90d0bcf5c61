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

/// `esimguard bench`: load generator and performance measurement.
void register_bench_command(CLI::App& app);

/// `esimguard block|stolen|alerts|subscriber|audit ...`: the defences (issue 4),
/// on the database directly (--db) or through the admin API (--url).
void register_defense_commands(CLI::App& app);

/// `esimguard pki crl add`: revocation lists for the PKI directory. Call after
/// register_pki_commands (it adds to the `pki` group).
void register_crl_commands(CLI::App& app);

/// The exit code set by the command that ran (0 when none failed).
int exit_code();
void set_exit_code(int code);

} // namespace esimguard::app
