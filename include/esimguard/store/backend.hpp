#pragma once
/// Opens every store the server needs from one configuration: the embedded
/// SQLite file (one node, `make run`'s default) or a PostgreSQL server shared
/// by several nodes (issue 6).

#include "esimguard/store/audit.hpp"
#include "esimguard/store/counter_store.hpp"
#include "esimguard/store/defense_store.hpp"
#include "esimguard/store/postgres_store.hpp"
#include "esimguard/store/sqlite_store.hpp"
#include "esimguard/store/store.hpp"

#include <memory>
#include <optional>
#include <string_view>

namespace esimguard::store {

/// Which database holds the state.
enum class backend_kind { sqlite, postgres };

std::string_view to_string(backend_kind k);
/// "sqlite" or "postgres"; nullopt otherwise.
std::optional<backend_kind> backend_kind_from_string(std::string_view s);

/// The `[store]` section of the server's configuration.
struct backend_config {
    backend_kind kind = backend_kind::sqlite;
    /// Used when kind is sqlite.
    sqlite_config sqlite;
    /// Used when kind is postgres.
    postgres_config postgres;
};

/// The stores of one server process, all on the same database.
struct backend {
    backend_kind kind = backend_kind::sqlite;
    std::unique_ptr<store> main;
    std::unique_ptr<audit_log_store> audit;
    std::unique_ptr<defense_store> defense;
    /// Risk counters every node shares; null for SQLite, where one node
    /// counts in memory (defense::create_memory_counter_backend).
    std::unique_ptr<shared_counter_store> counters;
};

/// Opens (and migrates) every store of `config`. The first error wins: io
/// when the database cannot be reached, schema_too_new, invalid_argument for
/// a bad configuration.
[[nodiscard]] result<backend> open_backend(const backend_config& config);

} // namespace esimguard::store
