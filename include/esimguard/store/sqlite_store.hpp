#pragma once
/// The embedded SQLite implementation of store::store.

#include "esimguard/store/store.hpp"

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

namespace esimguard::store {

/// Where and how to open the SQLite database.
struct sqlite_config {
    /// A file path; created with the schema when missing. ":memory:" gives a
    /// private in-memory database (tests), served by a single connection.
    std::string path = "esimguard.db";
    /// How long a call waits for another writer before failing with errc::io.
    std::chrono::milliseconds busy_timeout = std::chrono::seconds(5);
    /// Connections kept open; at most this many calls run at once.
    std::size_t connections = 4;
};

/// The schema version this build creates and understands.
int sqlite_schema_version();

/// Opens (creating or migrating) the database. Fails with schema_too_new if
/// the file was migrated by a newer esimguard, io if it cannot be opened,
/// corrupt if it is not a usable database.
[[nodiscard]] result<std::unique_ptr<store>> create_sqlite_store(const sqlite_config& config);

} // namespace esimguard::store
