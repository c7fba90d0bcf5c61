#pragma once
/// A thin RAII layer over libpq: connections with a cache of prepared
/// statements, typed parameters and columns, a bounded pool, transactions
/// retried on serialisation failures, and the mapping of SQLSTATEs to
/// store::errc.

#include "esimguard/store/postgres_store.hpp"
#include "esimguard/store/types.hpp"

#include <libpq-fe.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace esimguard::store::postgres {

/// Microseconds since the epoch, as every time column holds it (BIGINT).
std::int64_t to_micros(time_point t);
time_point from_micros(std::int64_t us);

/// One statement parameter: text, or binary for bytea; nullopt is NULL.
struct param {
    std::optional<std::string> value;
    bool binary = false;
};

param to_param(std::nullptr_t);
param to_param(std::int64_t v);
inline param to_param(int v) {
    return to_param(static_cast<std::int64_t>(v));
}
inline param to_param(std::size_t v) {
    return to_param(static_cast<std::int64_t>(v));
}
inline param to_param(bool v) {
    return to_param(static_cast<std::int64_t>(v ? 1 : 0));
}
inline param to_param(time_point v) {
    return to_param(to_micros(v));
}
param to_param(std::string_view v);
inline param to_param(const std::string& v) {
    return to_param(std::string_view(v));
}
inline param to_param(const char* v) {
    return to_param(std::string_view(v));
}
param to_param(const bytes& v);
template <class T>
param to_param(const std::optional<T>& v) {
    return v ? to_param(*v) : to_param(nullptr);
}

/// The rows of one statement's result (text format). Owns the PGresult.
class rows {
public:
    explicit rows(::PGresult* r) : r_(r) {}
    rows(const rows&) = delete;
    rows& operator=(const rows&) = delete;
    rows(rows&& o) noexcept : r_(o.r_), row_(o.row_) { o.r_ = nullptr; }
    ~rows();

    int size() const { return ::PQntuples(r_); }
    bool empty() const { return size() == 0; }
    /// Rows changed by an INSERT/UPDATE/DELETE without RETURNING.
    int affected() const;
    /// Selects the row the accessors below read (0 by default).
    const rows& at(int row) const {
        row_ = row;
        return *this;
    }

    bool is_null(int col) const { return ::PQgetisnull(r_, row_, col) != 0; }
    std::string text(int col) const;
    std::optional<std::string> opt_text(int col) const;
    std::int64_t int64(int col) const;
    int integer(int col) const { return static_cast<int>(int64(col)); }
    bool boolean(int col) const { return int64(col) != 0; }
    std::optional<std::int64_t> opt_int64(int col) const;
    bytes blob(int col) const;
    std::optional<bytes> opt_blob(int col) const;
    time_point time(int col) const { return from_micros(int64(col)); }
    std::optional<time_point> opt_time(int col) const;

private:
    ::PGresult* r_;
    mutable int row_ = 0;
};

/// One open connection, used by one thread at a time (the pool hands it out).
class connection {
public:
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;
    ~connection();

    /// Connects to `config.url` and, when `config.schema` is set, puts that
    /// schema first on the search path (creating nothing: migrate does).
    [[nodiscard]] static result<std::unique_ptr<connection>> open(const postgres_config& config);

    /// Runs `sql` (prepared once per connection and cached) with `args` as
    /// $1, $2, ….
    template <class... Args>
    [[nodiscard]] result<rows> query(std::string_view sql, const Args&... args) {
        std::vector<param> ps;
        ps.reserve(sizeof...(Args));
        (ps.push_back(to_param(args)), ...);
        return run(sql, ps);
    }
    /// Runs `sql` with parameters built by the caller.
    [[nodiscard]] result<rows> run(std::string_view sql, const std::vector<param>& params);
    /// Runs a script of statements without parameters (migrations, BEGIN).
    [[nodiscard]] result<void> exec(std::string_view sql);

    /// The SQLSTATE of the last failed call ("" after a success).
    const std::string& last_sqlstate() const { return sqlstate_; }
    /// False once the server went away; the pool then drops the connection.
    bool healthy() const;

private:
    explicit connection(::PGconn* c) : c_(c) {}
    error failure(::PGresult* r, std::string_view what);

    ::PGconn* c_;
    std::unordered_map<std::string, std::string> prepared_; // sql → statement name
    std::string sqlstate_;
};

/// A bounded set of connections shared by the worker threads.
///
/// Connections are opened lazily up to `max`: a node that is idle holds few,
/// and a busy one never holds more than its share of the server's
/// max_connections. A connection found broken after a call is dropped and a
/// fresh one opened on the next acquire, so a restarted database heals
/// without restarting the nodes.
class pool {
public:
    pool(postgres_config config);

    class lease {
    public:
        lease(pool& p, std::unique_ptr<connection> c) : p_(&p), c_(std::move(c)) {}
        lease(lease&& o) noexcept : p_(std::exchange(o.p_, nullptr)), c_(std::move(o.c_)) {}
        lease& operator=(lease&&) = delete;
        ~lease();
        connection& operator*() const { return *c_; }
        connection* operator->() const { return c_.get(); }

    private:
        pool* p_;
        std::unique_ptr<connection> c_;
    };

    /// Exclusive use of one connection; waits while `max` are in use.
    [[nodiscard]] result<lease> acquire();
    const postgres_config& config() const { return config_; }

private:
    postgres_config config_;
    std::mutex m_;
    std::condition_variable cv_;
    std::vector<std::unique_ptr<connection>> free_;
    std::size_t open_ = 0;
};

/// True for the SQLSTATEs after which the whole transaction may simply be
/// run again: serialization_failure and deadlock_detected.
bool retryable(std::string_view sqlstate);

/// Runs `f(connection&)` in a READ COMMITTED transaction: commits when `f`
/// returns a value, rolls back on an error. A transaction that failed with
/// a serialisation failure or deadlock is run again (a few times), since the
/// other transaction has then committed and `f` re-reads under its locks; so
/// is one whose connection broke before COMMIT was sent. A COMMIT whose
/// answer was lost is not retried (it may have been applied).
template <class F>
auto in_transaction(pool& p, F&& f) -> decltype(f(std::declval<connection&>())) {
    using R = decltype(f(std::declval<connection&>()));
    constexpr int attempts = 5;
    for (int attempt = 1;; ++attempt) {
        auto c = p.acquire();
        if (!c) {
            return R(std::unexpected(c.error()));
        }
        connection& conn = **c;
        // A connection that broke while idle in the pool (database restart,
        // failover) fails here, before anything was sent for this call: the
        // lease drops it and the next attempt opens a fresh one.
        if (auto b = conn.exec("BEGIN"); !b) {
            if (!conn.healthy() && attempt < attempts) {
                continue;
            }
            return R(std::unexpected(b.error()));
        }
        R r = f(conn);
        // Broken inside the transaction: it was never committed, so running
        // it again on another connection cannot apply it twice.
        const bool broke = !r && !conn.healthy();
        std::string state = conn.last_sqlstate();
        if (r) {
            auto cm = conn.exec("COMMIT");
            if (cm) {
                return r;
            }
            state = conn.last_sqlstate();
            if (!retryable(state) || attempt == attempts) {
                return R(std::unexpected(cm.error()));
            }
            continue;
        }
        if (!broke) {
            (void)conn.exec("ROLLBACK");
        }
        if ((!retryable(state) && !broke) || attempt == attempts) {
            return r;
        }
    }
}

/// Runs `f(connection&)` on a pooled connection in autocommit mode: for
/// reads made of one statement.
template <class F>
auto single_statement(pool& p, F&& f) -> decltype(f(std::declval<connection&>())) {
    using R = decltype(f(std::declval<connection&>()));
    auto c = p.acquire();
    if (!c) {
        return R(std::unexpected(c.error()));
    }
    return f(**c);
}

inline error not_found(std::string_view what) {
    return {errc::not_found, std::string(what) + " not found"};
}
inline error state_mismatch(std::string message) {
    return {errc::state_mismatch, std::move(message)};
}
inline error invalid(std::string message) {
    return {errc::invalid_argument, std::move(message)};
}

/// The configuration a pool of this store needs: at least one connection.
postgres_config normalised(postgres_config c);

} // namespace esimguard::store::postgres
