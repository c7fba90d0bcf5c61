#include "sqlite/db.hpp"
#include "sqlite/migrations.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <string>

namespace esimguard::store::sqlite {

namespace {

result<void> exec(::sqlite3* db, const std::string& sql, std::string_view what) {
    char* err = nullptr;
    int rc = ::sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    ::sqlite3_free(err);
    if (rc != SQLITE_OK) {
        return std::unexpected(error_from(rc, what, db));
    }
    return {};
}

result<int> current_version(::sqlite3* db) {
    ::sqlite3_stmt* s = nullptr;
    int rc = ::sqlite3_prepare_v2(db, "SELECT coalesce(max(version), 0) FROM schema_version", -1,
                                  &s, nullptr);
    if (rc != SQLITE_OK) {
        return std::unexpected(error_from(rc, "schema_version", db));
    }
    rc = ::sqlite3_step(s);
    int v = rc == SQLITE_ROW ? ::sqlite3_column_int(s, 0) : 0;
    ::sqlite3_finalize(s);
    if (rc != SQLITE_ROW) {
        return std::unexpected(error_from(rc, "schema_version", db));
    }
    return v;
}

result<void> migrate_locked(::sqlite3* db, std::span<const migration> migrations) {
    if (auto r = exec(db,
                      "CREATE TABLE IF NOT EXISTS schema_version ("
                      " version INTEGER PRIMARY KEY,"
                      " name TEXT NOT NULL,"
                      " applied_at INTEGER NOT NULL)",
                      "schema_version");
        !r) {
        return r;
    }
    auto current = current_version(db);
    if (!current) {
        return std::unexpected(current.error());
    }
    int newest = migrations.empty() ? 0 : migrations.back().version;
    if (*current > newest) {
        return std::unexpected(
            error{errc::schema_too_new,
                  fmt::format("database schema version {} is newer than this esimguard understands "
                              "({}); run a newer esimguard or restore a matching backup",
                              *current, newest)});
    }
    // applied_at is a record for people, not a decision input, so the
    // system clock is fine here.
    auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
    for (const auto& m : migrations) {
        if (m.version <= *current) {
            continue;
        }
        if (auto r = exec(db, std::string(m.sql), fmt::format("migration {}", m.name)); !r) {
            return r;
        }
        if (auto r = exec(db,
                          fmt::format("INSERT INTO schema_version (version, name, applied_at) "
                                      "VALUES ({}, '{}', {})",
                                      m.version, m.name, now),
                          "schema_version");
            !r) {
            return r;
        }
    }
    return {};
}

} // namespace

result<void> migrate(::sqlite3* db, std::span<const migration> migrations) {
    for (std::size_t i = 1; i < migrations.size(); ++i) {
        if (migrations[i].version <= migrations[i - 1].version) {
            return std::unexpected(error{errc::corrupt, "embedded migrations out of order"});
        }
    }
    // IMMEDIATE: two processes opening a fresh file at once must not both
    // create the schema; the second waits (busy timeout) and then sees it done.
    if (auto r = exec(db, "BEGIN IMMEDIATE", "migrate"); !r) {
        return r;
    }
    auto r = migrate_locked(db, migrations);
    if (!r) {
        (void)exec(db, "ROLLBACK", "migrate");
        return r;
    }
    return exec(db, "COMMIT", "migrate");
}

result<std::vector<std::unique_ptr<connection>>>
open_migrated_connections(const sqlite_config& config) {
    const bool in_memory = config.path == ":memory:";
    const std::size_t n = in_memory ? 1 : std::max<std::size_t>(1, config.connections);
    std::vector<std::unique_ptr<connection>> conns;
    for (std::size_t i = 0; i < n; ++i) {
        auto c = connection::open(config.path, config.busy_timeout);
        if (!c) {
            return std::unexpected(c.error());
        }
        if (i == 0) {
            if (auto m = migrate((*c)->raw(), embedded_migrations()); !m) {
                return std::unexpected(m.error());
            }
        }
        conns.push_back(std::move(*c));
    }
    return conns;
}

} // namespace esimguard::store::sqlite
