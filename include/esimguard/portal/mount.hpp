#pragma once
/// Mounting the portal in a server program: opens what the portal needs
/// that the program does not already have (the portal account store, and the
/// defense store and audit chain when the program passes none), and answers
/// every request under the prefix. Keeps esimguard-smdpp's main() to a few lines.

#include "esimguard/defense/alerts.hpp"
#include "esimguard/defense/blocklist.hpp"
#include "esimguard/defense/risk_engine.hpp"
#include "esimguard/portal/portal.hpp"

#include <expected>
#include <filesystem>
#include <memory>
#include <string>

namespace esimguard::portal {

/// What the program gives.
struct mount_options {
    portal_config config;
    /// The SQLite database of the server (portal tables live there too).
    std::string database_path;
    std::size_t database_connections = 2;
    /// The program's own defense store and audit chain, if it has them;
    /// otherwise they are opened on database_path (the audit chain with
    /// `audit_head_file`, which must be the one the rest of the server uses).
    store::defense_store* defense = nullptr;
    defense::audit_chain* audit = nullptr;
    std::filesystem::path audit_head_file;
    store::store* main_store = nullptr;
    std::function<smdp::smdp_service*()> service = nullptr;
    std::shared_ptr<http::metrics_registry> metrics = nullptr;
    /// The running defences, when the server has them: blocklist changes and
    /// stolen reports from the portal then take effect at once (the hooks
    /// below are filled from them unless set), and alerts go out.
    defense::blocklist* blocks = nullptr;
    defense::stolen_devices* stolen = nullptr;
    defense::alert_notifier* alerts = nullptr;
    /// The running risk engine: a subscriber's release of a paused order then
    /// forgets what the pausing rule counted (hooks.reset_risk), as the admin
    /// API's release does.
    defense::risk_engine* risk = nullptr;
    portal_hooks hooks;
};

/// The mounted portal and everything it opened.
class mounted_portal {
public:
    virtual ~mounted_portal() = default;
    /// For every request whose path starts with prefix().
    [[nodiscard]] virtual http::response handle(const http::request& req) = 0;
    [[nodiscard]] virtual const std::string& prefix() const = 0;
};

/// The web/ directory of the source tree this binary was built from (the
/// default when config.web_root is empty).
[[nodiscard]] std::filesystem::path default_web_root();

/// Opens and builds; a sentence on failure (database, missing web root).
[[nodiscard]] std::expected<std::unique_ptr<mounted_portal>, std::string>
mount(mount_options options);

} // namespace esimguard::portal
