#include "postgres/migrations.hpp"
#include "postgres/pg.hpp"

#include <fmt/core.h>

#include <algorithm>

namespace esimguard::store::postgres {

namespace {

// Any constant both all nodes and no other application use: the lock that
// serialises schema changes (pg_advisory_xact_lock, released at commit).
constexpr std::int64_t migration_lock_key = 0x65534d4947524154; // "eSMIGRAT"

result<void> migrate_locked(connection& c, const postgres_config& config,
                            std::span<const migration> migrations) {
    if (auto r = c.query("SELECT pg_advisory_xact_lock($1::bigint)", migration_lock_key); !r) {
        return std::unexpected(r.error());
    }
    if (!config.schema.empty()) {
        if (auto r = c.exec("CREATE SCHEMA IF NOT EXISTS " + config.schema); !r) {
            return r;
        }
    }
    if (auto r = c.exec("CREATE TABLE IF NOT EXISTS schema_version ("
                        " version INTEGER PRIMARY KEY,"
                        " name TEXT NOT NULL,"
                        " applied_at BIGINT NOT NULL)");
        !r) {
        return r;
    }
    auto cur = c.query("SELECT coalesce(max(version), 0) FROM schema_version");
    if (!cur) {
        return std::unexpected(cur.error());
    }
    int current = cur->integer(0);
    int newest = migrations.empty() ? 0 : migrations.back().version;
    if (current > newest) {
        return std::unexpected(
            error{errc::schema_too_new,
                  fmt::format("database schema version {} is newer than this esimguard understands "
                              "({}); run a newer esimguard or restore a matching backup",
                              current, newest)});
    }
    // applied_at is a record for people, not a decision input.
    auto now = to_micros(std::chrono::system_clock::now());
    for (const auto& m : migrations) {
        if (m.version <= current) {
            continue;
        }
        if (auto r = c.exec(m.sql); !r) {
            auto e = r.error();
            e.message = fmt::format("migration {}: {}", m.name, e.message);
            return std::unexpected(e);
        }
        if (auto r = c.query("INSERT INTO schema_version (version, name, applied_at)"
                             " VALUES ($1, $2, $3)",
                             m.version, m.name, now);
            !r) {
            return std::unexpected(r.error());
        }
    }
    return {};
}

} // namespace

result<void> check_schema_name(std::string_view schema) {
    bool ok = schema.size() <= 63 && std::all_of(schema.begin(), schema.end(), [](char ch) {
                  return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_';
              });
    if (!ok || (!schema.empty() && schema[0] >= '0' && schema[0] <= '9')) {
        return std::unexpected(
            invalid("postgres schema must be a lower-case identifier (a-z, 0-9, _)"));
    }
    return {};
}

result<void> migrate(connection& c, const postgres_config& config,
                     std::span<const migration> migrations) {
    for (std::size_t i = 1; i < migrations.size(); ++i) {
        if (migrations[i].version <= migrations[i - 1].version) {
            return std::unexpected(error{errc::corrupt, "embedded migrations out of order"});
        }
    }
    if (auto r = c.exec("BEGIN"); !r) {
        return r;
    }
    auto r = migrate_locked(c, config, migrations);
    if (!r) {
        (void)c.exec("ROLLBACK");
        return r;
    }
    return c.exec("COMMIT");
}

result<void> prepare_database(const postgres_config& config) {
    if (auto s = check_schema_name(config.schema); !s) {
        return s;
    }
    if (config.url.empty()) {
        return std::unexpected(invalid("postgres url is empty"));
    }
    auto c = connection::open(config);
    if (!c) {
        return std::unexpected(c.error());
    }
    return migrate(**c, config, embedded_migrations());
}

} // namespace esimguard::store::postgres

namespace esimguard::store {

int postgres_schema_version() {
    auto m = postgres::embedded_migrations();
    return m.empty() ? 0 : m.back().version;
}

} // namespace esimguard::store
