#pragma once
/// Schema migrations embedded at build time, and the code that applies them.

#include "esimguard/store/types.hpp"

#include <span>
#include <string_view>

struct sqlite3;

namespace esimguard::store::sqlite {

/// One versioned SQL script from lib/store/migrations/.
struct migration {
    int version;
    std::string_view name;
    std::string_view sql;
};

/// Every migration, in increasing version order (generated from the .sql files).
std::span<const migration> embedded_migrations();

/// Brings `db` to the newest version in `migrations`, each script and its
/// schema_version row in one transaction with the others, so a failure leaves
/// the database as it was. schema_too_new if the database has a version
/// above the newest known one.
[[nodiscard]] result<void> migrate(::sqlite3* db, std::span<const migration> migrations);

} // namespace esimguard::store::sqlite
