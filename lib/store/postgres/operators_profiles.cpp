// Operators and the profile inventory on PostgreSQL, and the factory.

#include "postgres/migrations.hpp"
#include "postgres/postgres_store_impl.hpp"
#include "postgres/records.hpp"

#include <fmt/core.h>

#include <algorithm>

namespace esimguard::store {

result<std::unique_ptr<store>> create_postgres_store(const postgres_config& config) {
    if (auto m = postgres::prepare_database(config); !m) {
        return std::unexpected(m.error());
    }
    return std::make_unique<postgres::postgres_store_impl>(config);
}

} // namespace esimguard::store

namespace esimguard::store::postgres {

namespace {

std::optional<std::string_view> state_name(const std::optional<profile_state>& s) {
    if (s) {
        return to_string(*s);
    }
    return std::nullopt;
}

result<void> done(const result<rows>& r) {
    if (!r) {
        return std::unexpected(r.error());
    }
    return {};
}

} // namespace

// ---- operators -------------------------------------------------------------

result<void> postgres_store_impl::add_operator(const operator_record& op) {
    if (op.id.empty() || op.token_sha256_hex.size() != 64) {
        return std::unexpected(invalid("operator needs an id and a 64-digit token hash"));
    }
    return read([&](connection& c) -> result<void> {
        return done(c.query("INSERT INTO operators (" ESIMGUARD_PG_OPERATOR_COLUMNS
                            ") VALUES ($1, $2, $3, $4, $5, $6)",
                            op.id, op.display_name, op.token_sha256_hex, op.client_cert_sha256_hex,
                            op.download_progress_url, op.created_at));
    });
}

result<operator_record> postgres_store_impl::find_operator(std::string_view id) {
    return read([&](connection& c) {
        auto r =
            c.query("SELECT " ESIMGUARD_PG_OPERATOR_COLUMNS " FROM operators WHERE id = $1", id);
        return first_row(r, read_operator, "operator");
    });
}

result<operator_record>
postgres_store_impl::find_operator_by_token_hash(std::string_view token_sha256_hex) {
    return read([&](connection& c) {
        auto r = c.query("SELECT " ESIMGUARD_PG_OPERATOR_COLUMNS
                         " FROM operators WHERE token_sha256 = $1",
                         token_sha256_hex);
        return first_row(r, read_operator, "operator");
    });
}

result<operator_record>
postgres_store_impl::find_operator_by_client_cert(std::string_view cert_sha256_hex) {
    return read([&](connection& c) {
        auto r = c.query("SELECT " ESIMGUARD_PG_OPERATOR_COLUMNS
                         " FROM operators WHERE client_cert_sha256 = $1",
                         cert_sha256_hex);
        return first_row(r, read_operator, "operator");
    });
}

result<std::vector<operator_record>> postgres_store_impl::list_operators() {
    return read([&](connection& c) {
        auto r = c.query("SELECT " ESIMGUARD_PG_OPERATOR_COLUMNS " FROM operators ORDER BY id");
        return every_row<operator_record>(r, read_operator);
    });
}

// ---- profiles --------------------------------------------------------------

result<void> postgres_store_impl::add_profile(const profile_record& p, time_point now) {
    if (!valid_iccid(p.iccid)) {
        return std::unexpected(invalid("ICCID must be 18 to 20 digits"));
    }
    if (p.profile_type.empty()) {
        return std::unexpected(invalid("profile type is empty"));
    }
    return read([&](connection& c) -> result<void> {
        return done(c.query("INSERT INTO profiles (" ESIMGUARD_PG_PROFILE_COLUMNS
                            ", package) VALUES ($1, $2, $3, $4, $5, $6, 'available', $7, $8, $9)",
                            p.iccid, p.operator_id, p.profile_type,
                            p.metadata.service_provider_name, p.metadata.profile_name,
                            static_cast<int>(p.metadata.klass), now, now, p.package));
    });
}

result<profile_record> postgres_store_impl::find_profile(std::string_view iccid) {
    return read([&](connection& c) {
        auto r = c.query("SELECT " ESIMGUARD_PG_PROFILE_COLUMNS
                         ", package FROM profiles WHERE iccid = $1",
                         iccid);
        return first_row(
            r,
            [](const rows& row) {
                auto p = read_profile(row);
                if (p) {
                    p->package = row.blob(9);
                }
                return p;
            },
            "profile");
    });
}

result<std::vector<profile_record>> postgres_store_impl::list_profiles(const list_filter& f) {
    return read([&](connection& c) {
        auto r = c.query("SELECT " ESIMGUARD_PG_PROFILE_COLUMNS " FROM profiles"
                         " WHERE ($1::text IS NULL OR operator_id = $1)"
                         " AND ($2::text IS NULL OR state = $2)"
                         " AND ($3::text IS NULL OR profile_type = $3)"
                         " ORDER BY created_at, iccid LIMIT $4",
                         f.operator_id, state_name(f.state), f.profile_type, f.limit);
        return every_row<profile_record>(r, read_profile);
    });
}

result<profile_record> postgres_store_impl::transition_profile(std::string_view iccid,
                                                               std::span<const profile_state> from,
                                                               profile_state to, time_point now) {
    return write([&](connection& c) -> result<profile_record> {
        // The profile's row lock orders this against create_order, which
        // takes the same lock before it allocates the profile.
        auto cur = c.query("SELECT " ESIMGUARD_PG_PROFILE_COLUMNS
                           " FROM profiles WHERE iccid = $1 FOR UPDATE",
                           iccid);
        auto p = first_row(cur, read_profile, "profile");
        if (!p) {
            return p;
        }
        if (std::find(from.begin(), from.end(), p->state) == from.end()) {
            return std::unexpected(state_mismatch(
                fmt::format("profile is {}, not in the expected states", to_string(p->state))));
        }
        auto live = c.query("SELECT 1 FROM orders WHERE iccid = $1"
                            " AND state NOT IN ('cancelled', 'expired', 'error', 'deleted')"
                            " LIMIT 1",
                            iccid);
        if (!live) {
            return std::unexpected(live.error());
        }
        if (!live->empty()) {
            return std::unexpected(state_mismatch("a live order holds the profile"));
        }
        if (auto u = c.query("UPDATE profiles SET state = $1, updated_at = $2 WHERE iccid = $3",
                             to_string(to), now, iccid);
            !u) {
            return std::unexpected(u.error());
        }
        p->state = to;
        p->updated_at = from_micros(to_micros(now));
        return p;
    });
}

} // namespace esimguard::store::postgres
