#pragma once
/// The PostgreSQL schema migrations embedded at build time, and their runner.

#include "esimguard/store/postgres_store.hpp"
#include "esimguard/store/types.hpp"

#include <span>
#include <string_view>

namespace esimguard::store::postgres {

class connection;

/// One versioned SQL script from lib/store/migrations_pg/.
struct migration {
    int version;
    std::string_view name;
    std::string_view sql;
};

/// Every migration, in increasing version order (generated from the .sql files).
std::span<const migration> embedded_migrations();

/// Creates `config.schema` when set, then brings the database to the newest
/// version, all in one transaction under an advisory lock, so that nodes
/// starting at once neither race nor see half a schema. schema_too_new if a
/// newer esimguard migrated it.
[[nodiscard]] result<void> migrate(connection& c, const postgres_config& config,
                                   std::span<const migration> migrations);

/// invalid_argument unless `schema` is empty or a plain lower-case identifier.
[[nodiscard]] result<void> check_schema_name(std::string_view schema);

/// Opens one connection and migrates: what every factory does first.
[[nodiscard]] result<void> prepare_database(const postgres_config& config);

} // namespace esimguard::store::postgres
