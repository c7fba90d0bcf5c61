#pragma once
/// The PostgreSQL implementation of the store interfaces: the SM-DP+ store,
/// the audit log, the defence tables and the shared risk counters, for
/// several server nodes sharing one database (issue 6).
///
/// Same schema and semantics as the SQLite store (PostgreSQL dialect of the
/// same migrations, lib/store/migrations_pg). Every mutating call is one
/// transaction that either is a single conditional statement (UPDATE …
/// WHERE state = … RETURNING, INSERT … ON CONFLICT) or locks the rows it
/// reads first (SELECT … FOR UPDATE), so concurrent nodes never lose an
/// update; docs/ARCHITECTURE.md ("Concurrency across nodes") says which call
/// uses which and why.

#include "esimguard/store/types.hpp"

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

namespace esimguard::store {

class store;
class audit_log_store;
class defense_store;
class shared_counter_store;

/// Where and how to reach the PostgreSQL server.
struct postgres_config {
    /// A libpq connection URI or key=value string, e.g.
    /// "postgresql://esimguard@db.internal:5432/esimguard". A password in it
    /// is never logged (errors name the host only).
    std::string url;
    /// A schema to keep the tables in (created when missing) instead of the
    /// user's default search path; lets several deployments or test cases
    /// share one database. Lower-case letters, digits and '_' only.
    std::string schema;
    /// Connections each store instance opens at most (lazily); at most this
    /// many of its calls run at once, the others wait.
    std::size_t connections = 8;
    /// How long connecting may take before the call fails with errc::io.
    std::chrono::seconds connect_timeout{5};
};

/// The schema version this build creates and understands.
int postgres_schema_version();

/// Opens the SM-DP+ store, applying the embedded migrations first (under an
/// advisory lock, so nodes starting at once do not race). io if the server
/// cannot be reached, schema_too_new if a newer esimguard migrated it,
/// invalid_argument for a malformed schema name.
[[nodiscard]] result<std::unique_ptr<store>> create_postgres_store(const postgres_config& config);

/// The audit log in the same database, with its own connections. Appends
/// from every node are serialised by a row lock on a one-row head table, so
/// the chain stays linear across processes.
[[nodiscard]] result<std::unique_ptr<audit_log_store>>
create_postgres_audit_log(const postgres_config& config);

/// The defence tables (blocklist, stolen devices, alerts, subscribers,
/// lines, approvals) in the same database.
[[nodiscard]] result<std::unique_ptr<defense_store>>
create_postgres_defense_store(const postgres_config& config);

/// The risk counters table shared by every node (see shared_counter_store).
[[nodiscard]] result<std::unique_ptr<shared_counter_store>>
create_postgres_counter_store(const postgres_config& config);

} // namespace esimguard::store
