#include "sqlite/migrations.hpp"
#include "sqlite/rows.hpp"
#include "sqlite/sqlite_store_impl.hpp"

#include <fmt/core.h>

#include <algorithm>

namespace esimguard::store {

int sqlite_schema_version() {
    auto m = sqlite::embedded_migrations();
    return m.empty() ? 0 : m.back().version;
}

result<std::unique_ptr<store>> create_sqlite_store(const sqlite_config& config) {
    auto conns = sqlite::open_migrated_connections(config);
    if (!conns) {
        return std::unexpected(conns.error());
    }
    return std::make_unique<sqlite::sqlite_store_impl>(std::move(*conns));
}

} // namespace esimguard::store

namespace esimguard::store::sqlite {

namespace {

bool is_live_profile_holder(profile_state s) {
    return s != profile_state::cancelled && s != profile_state::expired &&
           s != profile_state::error && s != profile_state::deleted;
}

} // namespace

// ---- operators -------------------------------------------------------------

result<void> sqlite_store_impl::add_operator(const operator_record& op) {
    if (op.id.empty() || op.token_sha256_hex.size() != 64) {
        return std::unexpected(invalid("operator needs an id and a 64-digit token hash"));
    }
    return write([&](connection& c) -> result<void> {
        auto s = c.prepare("INSERT INTO operators (" ESIMGUARD_OPERATOR_COLUMNS
                           ") VALUES (?, ?, ?, ?, ?, ?)");
        if (!s) {
            return std::unexpected(s.error());
        }
        return s
            ->bind(op.id, op.display_name, op.token_sha256_hex, op.client_cert_sha256_hex,
                   op.download_progress_url, op.created_at)
            .run();
    });
}

result<operator_record> sqlite_store_impl::find_operator(std::string_view id) {
    return read([&](connection& c) -> result<operator_record> {
        auto s = c.prepare("SELECT " ESIMGUARD_OPERATOR_COLUMNS " FROM operators WHERE id = ?");
        if (s) {
            s->bind(id);
        }
        return one_row<operator_record>(s, read_operator, "operator");
    });
}

result<operator_record>
sqlite_store_impl::find_operator_by_token_hash(std::string_view token_sha256_hex) {
    return read([&](connection& c) -> result<operator_record> {
        auto s = c.prepare("SELECT " ESIMGUARD_OPERATOR_COLUMNS
                           " FROM operators WHERE token_sha256 = ?");
        if (s) {
            s->bind(token_sha256_hex);
        }
        return one_row<operator_record>(s, read_operator, "operator");
    });
}

result<operator_record>
sqlite_store_impl::find_operator_by_client_cert(std::string_view cert_sha256_hex) {
    return read([&](connection& c) -> result<operator_record> {
        auto s = c.prepare("SELECT " ESIMGUARD_OPERATOR_COLUMNS
                           " FROM operators WHERE client_cert_sha256 = ?");
        if (s) {
            s->bind(cert_sha256_hex);
        }
        return one_row<operator_record>(s, read_operator, "operator");
    });
}

result<std::vector<operator_record>> sqlite_store_impl::list_operators() {
    return read([&](connection& c) -> result<std::vector<operator_record>> {
        auto s = c.prepare("SELECT " ESIMGUARD_OPERATOR_COLUMNS " FROM operators ORDER BY id");
        return all_rows<operator_record>(s, read_operator);
    });
}

// ---- profiles --------------------------------------------------------------

result<void> sqlite_store_impl::add_profile(const profile_record& p, time_point now) {
    if (!valid_iccid(p.iccid)) {
        return std::unexpected(invalid("ICCID must be 18 to 20 digits"));
    }
    if (p.profile_type.empty()) {
        return std::unexpected(invalid("profile type is empty"));
    }
    return write([&](connection& c) -> result<void> {
        auto s = c.prepare("INSERT INTO profiles (" ESIMGUARD_PROFILE_COLUMNS
                           ", package) VALUES (?, ?, ?, ?, ?, ?, 'available', ?, ?, ?)");
        if (!s) {
            return std::unexpected(s.error());
        }
        return s
            ->bind(p.iccid, p.operator_id, p.profile_type, p.metadata.service_provider_name,
                   p.metadata.profile_name, static_cast<int>(p.metadata.klass), now, now, p.package)
            .run();
    });
}

result<profile_record> sqlite_store_impl::find_profile(std::string_view iccid) {
    return read([&](connection& c) -> result<profile_record> {
        auto s = c.prepare("SELECT " ESIMGUARD_PROFILE_COLUMNS
                           ", package FROM profiles WHERE iccid = ?");
        if (s) {
            s->bind(iccid);
        }
        return one_row<profile_record>(
            s,
            [](const statement& st) {
                auto p = read_profile(st);
                if (p) {
                    p->package = st.blob(9);
                }
                return p;
            },
            "profile");
    });
}

result<std::vector<profile_record>> sqlite_store_impl::list_profiles(const list_filter& f) {
    return read([&](connection& c) -> result<std::vector<profile_record>> {
        auto s = c.prepare("SELECT " ESIMGUARD_PROFILE_COLUMNS " FROM profiles"
                           " WHERE (?1 IS NULL OR operator_id = ?1)"
                           " AND (?2 IS NULL OR state = ?2)"
                           " AND (?3 IS NULL OR profile_type = ?3)"
                           " ORDER BY created_at, iccid LIMIT ?4");
        if (s) {
            std::optional<std::string_view> state;
            if (f.state) {
                state = to_string(*f.state);
            }
            s->bind(f.operator_id, state, f.profile_type, f.limit);
        }
        return all_rows<profile_record>(s, read_profile);
    });
}

result<profile_record> sqlite_store_impl::transition_profile(std::string_view iccid,
                                                             std::span<const profile_state> from,
                                                             profile_state to, time_point now) {
    return write([&](connection& c) -> result<profile_record> {
        auto cur = c.prepare("SELECT " ESIMGUARD_PROFILE_COLUMNS " FROM profiles WHERE iccid = ?");
        if (cur) {
            cur->bind(iccid);
        }
        auto p = one_row<profile_record>(cur, read_profile, "profile");
        if (!p) {
            return p;
        }
        if (std::find(from.begin(), from.end(), p->state) == from.end()) {
            return std::unexpected(state_mismatch(
                fmt::format("profile is {}, not in the expected states", to_string(p->state))));
        }
        auto live = c.prepare("SELECT state FROM orders WHERE iccid = ?");
        if (!live) {
            return std::unexpected(live.error());
        }
        live->bind(iccid);
        for (;;) {
            auto row = live->step();
            if (!row) {
                return std::unexpected(row.error());
            }
            if (!*row) {
                break;
            }
            auto st = profile_state_from_string(live->text(0));
            if (st && is_live_profile_holder(*st)) {
                return std::unexpected(state_mismatch("a live order holds the profile"));
            }
        }
        auto u = c.prepare("UPDATE profiles SET state = ?, updated_at = ? WHERE iccid = ?");
        if (!u) {
            return std::unexpected(u.error());
        }
        if (auto r = u->bind(to_string(to), now, iccid).run(); !r) {
            return std::unexpected(r.error());
        }
        p->state = to;
        p->updated_at = from_micros(to_micros(now));
        return p;
    });
}

} // namespace esimguard::store::sqlite
