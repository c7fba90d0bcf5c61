// Mounting the portal in a server program (see mount.hpp).

#include "esimguard/portal/mount.hpp"

#include "esimguard/crypto/random.hpp"

#include <fmt/format.h>

namespace esimguard::portal {

namespace {

class mounted_portal_impl final : public mounted_portal {
public:
    http::response handle(const http::request& req) override { return portal_->handle(req); }
    const std::string& prefix() const override { return portal_->config().prefix; }

    std::unique_ptr<store::portal_store> accounts;
    std::unique_ptr<store::defense_store> defense;
    std::unique_ptr<defense::audit_chain> audit;
    std::unique_ptr<crypto::random_source> random;
    std::unique_ptr<portal> portal_;
};

} // namespace

std::filesystem::path default_web_root() {
    return ESIMGUARD_DEFAULT_WEB_ROOT;
}

std::expected<std::unique_ptr<mounted_portal>, std::string> mount(mount_options o) {
    auto m = std::make_unique<mounted_portal_impl>();
    if (o.config.web_root.empty()) {
        o.config.web_root = default_web_root();
    }
    if (!std::filesystem::exists(o.config.web_root / "index.html")) {
        return std::unexpected(
            fmt::format("portal web root {} has no index.html", o.config.web_root.string()));
    }
    store::sqlite_config sc;
    sc.path = o.database_path;
    sc.connections = o.database_connections;
    auto accounts = store::create_sqlite_portal_store(sc);
    if (!accounts) {
        return std::unexpected("portal accounts: " + accounts.error().message);
    }
    m->accounts = std::move(*accounts);
    if (o.defense == nullptr) {
        auto d = store::create_sqlite_defense_store(sc);
        if (!d) {
            return std::unexpected("defense store: " + d.error().message);
        }
        m->defense = std::move(*d);
        o.defense = m->defense.get();
    }
    if (o.audit == nullptr) {
        auto log = store::create_sqlite_audit_log(sc);
        if (!log) {
            return std::unexpected("audit log: " + log.error().message);
        }
        defense::audit_chain_config ac;
        ac.head_file = o.audit_head_file;
        m->audit = defense::audit_chain::create(std::move(*log), ac);
        o.audit = m->audit.get();
    }
    m->random = crypto::create_system_random_source();
    portal_deps d;
    d.accounts = m->accounts.get();
    d.defense = o.defense;
    d.main_store = o.main_store;
    d.audit = o.audit;
    d.service = std::move(o.service);
    d.random = m->random.get();
    d.metrics = std::move(o.metrics);
    d.hooks = std::move(o.hooks);
    auto p = create_portal(std::move(o.config), std::move(d));
    if (!p) {
        return std::unexpected(p.error());
    }
    m->portal_ = std::move(*p);
    return m;
}

} // namespace esimguard::portal
