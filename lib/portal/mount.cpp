// Mounting the portal in a server program (see mount.hpp).

#include "esimguard/portal/mount.hpp"

#include "esimguard/crypto/random.hpp"

#include <fmt/format.h>

#include <algorithm>

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

// Blocklist and stolen list through the running defences, so that the risk
// engine sees a change at once (they persist it to the defense store).
void fill_hooks(mount_options& o) {
    if (o.blocks != nullptr && !o.hooks.add_block) {
        o.hooks.add_block =
            [b = o.blocks](const store::blocklist_row& row) -> portal_hooks::outcome {
            auto kind = defense::parse_block_kind(row.kind);
            if (!kind) {
                return std::unexpected("unknown kind of entry");
            }
            defense::block_entry e;
            e.kind = *kind;
            e.value = row.value;
            e.reason = row.reason;
            e.created = row.created;
            e.expires = row.expires;
            e.created_by = row.created_by;
            auto r = b->add(std::move(e));
            if (!r) {
                return std::unexpected(r.error().message);
            }
            return {};
        };
    }
    if (o.blocks != nullptr && !o.hooks.remove_block) {
        o.hooks.remove_block = [b = o.blocks](std::string_view kind, std::string_view value,
                                              std::string_view) -> portal_hooks::outcome {
            auto k = defense::parse_block_kind(kind);
            if (!k) {
                return std::unexpected("no such entry");
            }
            auto r = b->remove(*k, value);
            if (!r || !*r) {
                return std::unexpected("no such entry");
            }
            return {};
        };
    }
    // Step-up approvals through the SM-DP+ service, which checks the code
    // (TOTP: 6 digits; otherwise the one-time code sent out of band) with a
    // compare-and-set and lets the device's next attempt through.
    if (o.service && !o.hooks.approve) {
        o.hooks.approve = [svc = o.service](std::string_view id, std::string_view,
                                            std::string_view code,
                                            std::string_view actor) -> portal_hooks::outcome {
            auto* s = svc();
            if (s == nullptr) {
                return std::unexpected("the SM-DP+ service is not running");
            }
            const bool totp = code.size() == 6 && std::all_of(code.begin(), code.end(), [](char c) {
                                  return c >= '0' && c <= '9';
                              });
            auto r = s->approve_step_up(
                id, code, totp ? smdp::step_up_factor::totp : smdp::step_up_factor::one_time_code,
                actor);
            if (!r) {
                return std::unexpected(r.error().message);
            }
            return {};
        };
    }
    if (o.service && !o.hooks.refuse) {
        o.hooks.refuse = [svc = o.service](std::string_view id, std::string_view,
                                           std::string_view actor) -> portal_hooks::outcome {
            auto* s = svc();
            if (s == nullptr) {
                return std::unexpected("the SM-DP+ service is not running");
            }
            auto r = s->refuse_step_up(id, actor);
            if (!r) {
                return std::unexpected(r.error().message);
            }
            return {};
        };
    }
    if (o.risk != nullptr && !o.hooks.reset_risk) {
        o.hooks.reset_risk = [r = o.risk](std::string_view rule, std::string_view key) {
            return r->reset(rule, key);
        };
    }
    if (o.stolen != nullptr && !o.hooks.report_stolen) {
        o.hooks.report_stolen =
            [s = o.stolen,
             a = o.alerts](std::string_view eid, std::string_view reason, std::string_view actor,
                           std::optional<std::string> subscriber) -> portal_hooks::outcome {
            defense::stolen_device d;
            d.eid = std::string(eid);
            d.reason = std::string(reason);
            d.reported = std::chrono::system_clock::now();
            d.reported_by = std::string(actor);
            if (auto r = s->add(std::move(d)); !r) {
                return std::unexpected(r.error().message);
            }
            if (a != nullptr) {
                defense::alert al;
                al.time = std::chrono::system_clock::now();
                al.severity = defense::alert_severity::critical;
                al.rule = "stolen_device_reported";
                al.summary =
                    "A device was reported stolen; downloads to it are refused from now on.";
                al.evidence.eid = std::string(eid);
                al.evidence.details.emplace_back("reported_by", std::string(actor));
                if (subscriber) {
                    al.subscriber = defense::alert_party{*subscriber};
                }
                a->on_alert(al);
            }
            return {};
        };
    }
}

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
    fill_hooks(o);
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
