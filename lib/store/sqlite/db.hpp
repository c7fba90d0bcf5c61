#pragma once
/// A thin RAII layer over the SQLite C API: connections with a cache of
/// prepared statements, typed binding and reading, transactions, and the
/// mapping of SQLite result codes to store::errc.

#include "esimguard/store/sqlite_store.hpp"
#include "esimguard/store/types.hpp"

#include <sqlite3.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

namespace esimguard::store::sqlite {

/// Microseconds since the epoch, as every time column holds it.
std::int64_t to_micros(time_point t);
time_point from_micros(std::int64_t us);

/// The store error for a SQLite result code (extended codes understood).
error error_from(int rc, std::string_view what, ::sqlite3* db);

/// A prepared statement borrowed from a connection's cache; reset and
/// unbound when it goes out of scope so that the next user starts clean.
class statement {
public:
    explicit statement(::sqlite3_stmt* s) : s_(s) {}
    statement(const statement&) = delete;
    statement& operator=(const statement&) = delete;
    statement(statement&& o) noexcept : s_(o.s_) { o.s_ = nullptr; }
    ~statement();

    /// Binds parameters 1..n in order. Empty optionals bind NULL.
    template <class... Args>
    statement& bind(const Args&... args) {
        int i = 1;
        (bind_one(i++, args), ...);
        return *this;
    }

    /// Runs one step: true when a row is available, false when done.
    [[nodiscard]] result<bool> step();
    /// Runs to completion, discarding rows.
    [[nodiscard]] result<void> run();

    std::int64_t int64(int col) const;
    int integer(int col) const { return static_cast<int>(int64(col)); }
    bool boolean(int col) const { return int64(col) != 0; }
    bool is_null(int col) const;
    std::string text(int col) const;
    std::optional<std::string> opt_text(int col) const;
    bytes blob(int col) const;
    std::optional<bytes> opt_blob(int col) const;
    time_point time(int col) const { return from_micros(int64(col)); }

private:
    void bind_one(int i, std::nullptr_t);
    void bind_one(int i, std::int64_t v);
    void bind_one(int i, int v) { bind_one(i, static_cast<std::int64_t>(v)); }
    void bind_one(int i, std::size_t v) { bind_one(i, static_cast<std::int64_t>(v)); }
    void bind_one(int i, bool v) { bind_one(i, static_cast<std::int64_t>(v ? 1 : 0)); }
    void bind_one(int i, time_point v) { bind_one(i, to_micros(v)); }
    void bind_one(int i, std::string_view v);
    void bind_one(int i, const std::string& v) { bind_one(i, std::string_view(v)); }
    void bind_one(int i, const char* v) { bind_one(i, std::string_view(v)); }
    void bind_one(int i, const bytes& v);
    template <class T>
    void bind_one(int i, const std::optional<T>& v) {
        if (v) {
            bind_one(i, *v);
        } else {
            bind_one(i, nullptr);
        }
    }

    ::sqlite3_stmt* s_;
    // Binding errors (only SQLITE_RANGE / SQLITE_NOMEM are possible) are
    // reported by the next step().
    int bind_rc_ = SQLITE_OK;
};

/// One open database connection. Used by one thread at a time (the pool
/// hands it out exclusively), so it is opened without SQLite's own mutex.
class connection {
public:
    connection() = default;
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;
    ~connection();

    /// Opens `path` with the pragmas every connection needs: foreign keys,
    /// WAL, busy timeout, secure delete, full sync.
    [[nodiscard]] static result<std::unique_ptr<connection>>
    open(const std::string& path, std::chrono::milliseconds busy_timeout);

    /// A cached prepared statement for `sql` (a string literal in practice).
    [[nodiscard]] result<statement> prepare(std::string_view sql);
    /// Runs a script of one or more statements without parameters.
    [[nodiscard]] result<void> exec(const char* sql);
    /// Runs one statement without parameters through the statement cache
    /// (BEGIN, COMMIT, SAVEPOINT...: run per transaction, parsed once).
    [[nodiscard]] result<void> control(std::string_view sql);
    /// Rows changed by the last INSERT/UPDATE/DELETE.
    int changes() const { return ::sqlite3_changes(db_); }
    std::int64_t last_insert_rowid() const { return ::sqlite3_last_insert_rowid(db_); }
    ::sqlite3* raw() const { return db_; }

private:
    ::sqlite3* db_ = nullptr;
    // Looked up by string_view: a cache hit allocates nothing.
    struct sql_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept {
            return std::hash<std::string_view>{}(s);
        }
    };
    std::unordered_map<std::string, ::sqlite3_stmt*, sql_hash, std::equal_to<>> cache_;
};

/// One write transaction waiting for the pool's group commit: `run` does the
/// caller's work on the writer's connection and says whether it succeeded.
struct write_job {
    bool (*run)(void* ctx, connection& c);
    void* ctx;
    /// Set by the thread that committed the batch holding this job.
    bool done = false;
    /// The batch's own failure (BEGIN, COMMIT, a lost transaction): the
    /// job's work was not kept whatever `run` said.
    std::optional<error> batch_error;
    /// An exception `run` threw on the committing thread, rethrown on the
    /// caller's.
    std::exception_ptr thrown;
    /// Its caller waits here (under the queue's mutex): woken when the job
    /// is done, or when it is first in the queue and no batch runs. One per
    /// job, so that a finished batch wakes its own callers and one next
    /// leader, not every writer of the file.
    std::condition_variable wake;
};

/// A fixed set of connections shared by the worker threads.
///
/// Why a pool: the server calls the store from several worker threads. WAL
/// lets readers (find_session on every ES9+ call) run beside the one writer,
/// which a single connection behind a mutex would serialise; one connection
/// per thread would grow without bound and outlive the store.
///
/// Writes are group-committed: SQLite allows one writer, and with
/// synchronous=FULL each COMMIT costs an fsync (2-3 ms on this machine's
/// disk), so 64 devices each waiting for its own commit queue on the disk.
/// A writing thread queues its job; the first one to find no batch running
/// becomes the leader, runs every queued job in one BEGIN IMMEDIATE
/// transaction, each inside its own SAVEPOINT (a job that fails is rolled
/// back alone, as its own transaction would have been), commits once, and
/// wakes the others. Each caller still returns only after its work is
/// durable, and jobs run one after another in queue order, so each sees the
/// writes of those before it exactly as with one transaction each.
/// busy_timeout still covers other processes on the same file (the CLI
/// beside the server).
class pool {
public:
    pool(std::vector<std::unique_ptr<connection>> conns);

    /// Exclusive use of one connection until the lease is destroyed.
    class lease {
    public:
        lease(pool& p, std::unique_ptr<connection> c) : p_(&p), c_(std::move(c)) {}
        lease(lease&&) = default;
        ~lease();
        connection& operator*() const { return *c_; }
        connection* operator->() const { return c_.get(); }

    private:
        pool* p_;
        std::unique_ptr<connection> c_;
    };

    lease acquire();

    /// Runs `job` in the next group commit and returns once that batch has
    /// committed or failed (see write_job for how the outcome is reported).
    void run_write(write_job& job);

    /// Batches committed and jobs run in them on this pool's database file
    /// (by any pool of this process on that file).
    std::uint64_t batches_committed() const;
    std::uint64_t jobs_committed() const;
    /// Jobs waiting for a batch to take them (not those of the running one).
    std::size_t queued() const;

    /// The most jobs one transaction holds; past it the rest wait for the
    /// next batch, so one batch's latency stays bounded.
    static constexpr std::size_t max_batch = 128;

    /// The queue of one database file's group commit (defined in db.cpp).
    struct write_queue;

private:
    void commit_batch(std::vector<write_job*>& batch);
    void run_batch(connection& c, std::vector<write_job*>& batch);

    std::mutex m_;
    std::condition_variable cv_;
    std::vector<std::unique_ptr<connection>> free_;

    /// Shared by every pool of the process on the same database file (the
    /// store, defence store, audit log and portal store each have a pool):
    /// SQLite admits one writer per file, and pools that queued apart would
    /// meet in SQLite's busy handler, which sleeps in steps of milliseconds.
    /// A leader runs other pools' jobs on its own pool's connection; for a
    /// file database that is the same database.
    std::shared_ptr<write_queue> wq_;
};

/// Runs `f(connection&)` in a transaction: a write one (IMMEDIATE, in the
/// pool's group commit) when `write`, a deferred read one otherwise. The
/// work of `f` is kept when it returns a value and rolled back on an error;
/// a failed commit is returned as the error.
template <class F>
auto in_transaction(pool& p, bool write, F&& f) -> decltype(f(std::declval<connection&>())) {
    using R = decltype(f(std::declval<connection&>()));
    if (write) {
        struct context {
            std::remove_reference_t<F>* f;
            std::optional<R> r;
        } ctx{&f, std::nullopt};
        write_job job{.run =
                          [](void* raw, connection& c) {
                              auto* x = static_cast<context*>(raw);
                              x->r.emplace((*x->f)(c));
                              return x->r->has_value();
                          },
                      .ctx = &ctx};
        p.run_write(job);
        if (job.thrown) {
            std::rethrow_exception(job.thrown);
        }
        if (job.batch_error) {
            return R(std::unexpected(*job.batch_error));
        }
        return std::move(*ctx.r);
    }
    auto c = p.acquire();
    if (auto b = c->control("BEGIN"); !b) {
        return R(std::unexpected(b.error()));
    }
    try {
        R r = f(*c);
        if (r) {
            if (auto cm = c->control("COMMIT"); !cm) {
                (void)c->control("ROLLBACK");
                return R(std::unexpected(cm.error()));
            }
        } else {
            (void)c->control("ROLLBACK");
        }
        return r;
    } catch (...) {
        // The connection goes back to the pool: never inside a transaction.
        (void)c->exec("ROLLBACK");
        throw;
    }
}

/// The error for a missing row.
inline error not_found(std::string_view what) {
    return {errc::not_found, std::string(what) + " not found"};
}
inline error state_mismatch(std::string message) {
    return {errc::state_mismatch, std::move(message)};
}
inline error invalid(std::string message) {
    return {errc::invalid_argument, std::move(message)};
}

/// The connections of one store object over `config.path`, the first one
/// migrating the schema before any other looks at it (migrate() is
/// idempotent and takes the write lock, so the store, audit log, defence and
/// portal factories may open the same file in any order). A private
/// in-memory database exists per connection, so ":memory:" gets one.
[[nodiscard]] result<std::vector<std::unique_ptr<connection>>>
open_migrated_connections(const sqlite_config& config);

} // namespace esimguard::store::sqlite
