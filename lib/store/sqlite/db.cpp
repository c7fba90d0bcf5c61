#include "sqlite/db.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cassert>

namespace esimguard::store::sqlite {

std::int64_t to_micros(time_point t) {
    return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

time_point from_micros(std::int64_t us) {
    return time_point(
        std::chrono::duration_cast<time_point::duration>(std::chrono::microseconds(us)));
}

error error_from(int rc, std::string_view what, ::sqlite3* db) {
    // The SQLite message names tables and constraints, never bound values, so
    // it cannot leak a matching ID or key into logs.
    std::string msg =
        fmt::format("{}: {} ({})", what, db ? ::sqlite3_errmsg(db) : "", ::sqlite3_errstr(rc));
    switch (rc) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
        return {errc::conflict, std::move(msg)};
    case SQLITE_CONSTRAINT_FOREIGNKEY:
        return {errc::not_found, std::move(msg)};
    case SQLITE_CONSTRAINT_CHECK:
    case SQLITE_CONSTRAINT_NOTNULL:
    case SQLITE_TOOBIG:
        return {errc::invalid_argument, std::move(msg)};
    default:
        break;
    }
    switch (rc & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_FORMAT:
    case SQLITE_SCHEMA:
        return {errc::corrupt, std::move(msg)};
    default:
        return {errc::io, std::move(msg)};
    }
}

statement::~statement() {
    if (s_) {
        ::sqlite3_reset(s_);
        ::sqlite3_clear_bindings(s_);
    }
}

void statement::bind_one(int i, std::nullptr_t) {
    if (int rc = ::sqlite3_bind_null(s_, i); rc != SQLITE_OK) {
        bind_rc_ = rc;
    }
}

void statement::bind_one(int i, std::int64_t v) {
    if (int rc = ::sqlite3_bind_int64(s_, i, v); rc != SQLITE_OK) {
        bind_rc_ = rc;
    }
}

void statement::bind_one(int i, std::string_view v) {
    if (int rc = ::sqlite3_bind_text64(s_, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
        rc != SQLITE_OK) {
        bind_rc_ = rc;
    }
}

void statement::bind_one(int i, const bytes& v) {
    // An empty vector may have a null data(); SQLite would bind NULL for it,
    // so bind an explicit zero-length blob.
    int rc = v.empty() ? ::sqlite3_bind_zeroblob(s_, i, 0)
                       : ::sqlite3_bind_blob64(s_, i, v.data(), v.size(), SQLITE_TRANSIENT);
    if (rc != SQLITE_OK) {
        bind_rc_ = rc;
    }
}

result<bool> statement::step() {
    if (bind_rc_ != SQLITE_OK) {
        return std::unexpected(error_from(bind_rc_, "bind", ::sqlite3_db_handle(s_)));
    }
    int rc = ::sqlite3_step(s_);
    if (rc == SQLITE_ROW) {
        return true;
    }
    if (rc == SQLITE_DONE) {
        return false;
    }
    // sqlite3_step returns the extended code when extended codes are on.
    return std::unexpected(error_from(rc, "step", ::sqlite3_db_handle(s_)));
}

result<void> statement::run() {
    for (;;) {
        auto r = step();
        if (!r) {
            return std::unexpected(r.error());
        }
        if (!*r) {
            return {};
        }
    }
}

std::int64_t statement::int64(int col) const {
    return ::sqlite3_column_int64(s_, col);
}

bool statement::is_null(int col) const {
    return ::sqlite3_column_type(s_, col) == SQLITE_NULL;
}

std::string statement::text(int col) const {
    const auto* p = ::sqlite3_column_text(s_, col);
    int n = ::sqlite3_column_bytes(s_, col);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n))
             : std::string();
}

std::optional<std::string> statement::opt_text(int col) const {
    if (is_null(col)) {
        return std::nullopt;
    }
    return text(col);
}

bytes statement::blob(int col) const {
    const auto* p = static_cast<const std::uint8_t*>(::sqlite3_column_blob(s_, col));
    int n = ::sqlite3_column_bytes(s_, col);
    return p ? bytes(p, p + n) : bytes();
}

std::optional<bytes> statement::opt_blob(int col) const {
    if (is_null(col)) {
        return std::nullopt;
    }
    return blob(col);
}

connection::~connection() {
    for (auto& [sql, s] : cache_) {
        ::sqlite3_finalize(s);
    }
    if (db_) {
        ::sqlite3_close_v2(db_);
    }
}

result<std::unique_ptr<connection>> connection::open(const std::string& path,
                                                     std::chrono::milliseconds busy_timeout) {
    auto c = std::make_unique<connection>();
    // NOMUTEX: the pool gives each connection to one thread at a time.
    int rc = ::sqlite3_open_v2(path.c_str(), &c->db_,
                               SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                               nullptr);
    if (rc != SQLITE_OK) {
        return std::unexpected(
            error{errc::io, fmt::format("cannot open database: {}", ::sqlite3_errstr(rc))});
    }
    ::sqlite3_extended_result_codes(c->db_, 1);
    ::sqlite3_busy_timeout(c->db_, static_cast<int>(busy_timeout.count()));
    // foreign_keys: orders, sessions and the outbox refer to real rows.
    // secure_delete: erased one-time keys are overwritten in the file, not
    //   merely unlinked (the WAL keeps old frames until a checkpoint).
    // synchronous=FULL: a counted download attempt or confirmation-code
    //   failure must survive a power cut, or a retry limit could be evaded.
    if (auto r = c->exec("PRAGMA foreign_keys = ON;"
                         "PRAGMA secure_delete = ON;"
                         "PRAGMA synchronous = FULL;");
        !r) {
        return std::unexpected(r.error());
    }
    // journal_mode answers with a row; an in-memory database stays "memory".
    auto s = c->prepare("PRAGMA journal_mode = WAL");
    if (!s) {
        return std::unexpected(s.error());
    }
    auto row = s->step();
    if (!row) {
        return std::unexpected(row.error());
    }
    return c;
}

result<statement> connection::prepare(std::string_view sql) {
    if (auto it = cache_.find(sql); it != cache_.end()) {
        return statement(it->second);
    }
    // Allocated before the statement exists: if this throws, nothing leaks.
    std::string key(sql);
    cache_.reserve(cache_.size() + 1);
    ::sqlite3_stmt* s = nullptr;
    int rc = ::sqlite3_prepare_v3(db_, key.data(), static_cast<int>(key.size()),
                                  SQLITE_PREPARE_PERSISTENT, &s, nullptr);
    if (rc != SQLITE_OK) {
        return std::unexpected(error_from(rc, "prepare", db_));
    }
    cache_.emplace(std::move(key), s);
    return statement(s);
}

result<void> connection::control(std::string_view sql) {
    auto s = prepare(sql);
    if (!s) {
        return std::unexpected(s.error());
    }
    return s->run();
}

result<void> connection::exec(const char* sql) {
    char* err = nullptr;
    int rc = ::sqlite3_exec(db_, sql, nullptr, nullptr, &err);
    ::sqlite3_free(err);
    if (rc != SQLITE_OK) {
        return std::unexpected(error_from(rc, "exec", db_));
    }
    return {};
}

struct pool::write_queue {
    mutable std::mutex m;
    std::vector<write_job*> queue;
    bool leader_active = false;
    std::uint64_t batches = 0;
    std::uint64_t jobs = 0;
};

namespace {

/// The write queue of `file` (an absolute path, as SQLite reports it), shared
/// with the other pools of the process on that file; a private one for an
/// in-memory database, which no other connection can see.
std::shared_ptr<pool::write_queue> write_queue_for(const std::string& file) {
    if (file.empty()) {
        return std::make_shared<pool::write_queue>();
    }
    static std::mutex m;
    static std::unordered_map<std::string, std::weak_ptr<pool::write_queue>> queues;
    std::lock_guard lk(m);
    auto& slot = queues[file];
    auto q = slot.lock();
    if (!q) {
        q = std::make_shared<pool::write_queue>();
        slot = q;
    }
    // Forget files whose pools are all gone (tests open many temp files).
    std::erase_if(queues, [](const auto& kv) { return kv.second.expired(); });
    return q;
}

} // namespace

pool::pool(std::vector<std::unique_ptr<connection>> conns) : free_(std::move(conns)) {
    assert(!free_.empty());
    const char* file = ::sqlite3_db_filename(free_.front()->raw(), "main");
    wq_ = write_queue_for(file ? std::string(file) : std::string());
}

pool::lease pool::acquire() {
    std::unique_lock lk(m_);
    cv_.wait(lk, [&] { return !free_.empty(); });
    auto c = std::move(free_.back());
    free_.pop_back();
    return lease(*this, std::move(c));
}

pool::lease::~lease() {
    if (c_) {
        std::lock_guard lk(p_->m_);
        p_->free_.push_back(std::move(c_));
        p_->cv_.notify_one();
    }
}

void pool::run_write(write_job& job) {
    auto& q = *wq_;
    // Allocated before the job is queued: once it is, nothing on the way to
    // its batch's end may throw, or the job would be left in the queue (or
    // the leader's flag set) with its caller gone.
    std::vector<write_job*> batch;
    batch.reserve(max_batch);
    std::unique_lock lk(q.m);
    q.queue.push_back(&job);
    while (!job.done) {
        if (q.leader_active) {
            job.wake.wait(lk);
            continue;
        }
        q.leader_active = true;
        const auto n = static_cast<std::ptrdiff_t>(std::min(q.queue.size(), max_batch));
        batch.assign(q.queue.begin(), q.queue.begin() + n);
        q.queue.erase(q.queue.begin(), q.queue.begin() + n);
        lk.unlock();
        try {
            commit_batch(batch);
        } catch (...) {
            // Only allocation can throw here, and commit_batch has rolled
            // back: every job not yet answered gets the exception (copying
            // an exception_ptr allocates nothing).
            for (auto* j : batch) {
                if (!j->batch_error && !j->thrown) {
                    j->thrown = std::current_exception();
                }
            }
        }
        lk.lock();
        for (auto* j : batch) {
            j->done = true;
            // Under the mutex: once done is seen, the caller may return and
            // destroy the job, so nothing touches it after the unlock.
            if (j != &job) {
                j->wake.notify_one();
            }
        }
        ++q.batches;
        q.jobs += batch.size();
        q.leader_active = false;
        // The first job still queued leads the next batch (this thread does,
        // if that job is its own).
        if (!q.queue.empty() && q.queue.front() != &job) {
            q.queue.front()->wake.notify_one();
        }
    }
}

void pool::commit_batch(std::vector<write_job*>& batch) {
    auto c = acquire();
    try {
        run_batch(*c, batch);
    } catch (...) {
        // A job's own exception is caught around it; this is allocation in
        // the batch's bookkeeping. The connection must not go back to the
        // pool inside a transaction.
        (void)c->exec("ROLLBACK");
        throw;
    }
}

void pool::run_batch(connection& c, std::vector<write_job*>& batch) {
    // One job alone needs no savepoint: its failure rolls back the
    // transaction, as before group commit.
    const bool alone = batch.size() == 1;
    std::size_t next = 0;
    // Normally one transaction; another only when SQLite rolled one back
    // by itself, for the jobs that had not run yet.
    while (next < batch.size()) {
        if (auto b = c.control("BEGIN IMMEDIATE"); !b) {
            for (std::size_t i = next; i < batch.size(); ++i) {
                batch[i]->batch_error = b.error();
            }
            return;
        }
        // The jobs whose work this transaction holds: a failed commit is
        // theirs to report. A job that failed on its own keeps its own error.
        std::vector<write_job*> kept;
        kept.reserve(batch.size() - next);
        bool rolled_back = false;
        for (; next < batch.size() && !rolled_back; ++next) {
            auto* j = batch[next];
            if (!alone) {
                if (auto sp = c.control("SAVEPOINT job"); !sp) {
                    j->batch_error = sp.error();
                    continue;
                }
            }
            bool ok = false;
            try {
                ok = j->run(j->ctx, c);
            } catch (...) {
                j->thrown = std::current_exception();
            }
            if (::sqlite3_get_autocommit(c.raw()) != 0) {
                // SQLite itself rolled the transaction back (I/O error, disk
                // full, out of memory): the work of this job and the kept
                // ones before it is gone; the rest run in a new transaction.
                const error lost{errc::io, "the write transaction was rolled back by SQLite"};
                for (auto* k : kept) {
                    k->batch_error = lost;
                }
                if (ok) {
                    j->batch_error = lost;
                }
                rolled_back = true;
                continue;
            }
            if (!alone) {
                if (!ok) {
                    (void)c.control("ROLLBACK TO job");
                }
                (void)c.control("RELEASE job");
            }
            if (ok) {
                kept.push_back(j);
            }
        }
        if (rolled_back) {
            continue;
        }
        if (kept.empty()) {
            (void)c.control("ROLLBACK");
            return;
        }
        if (auto cm = c.control("COMMIT"); !cm) {
            (void)c.control("ROLLBACK");
            for (auto* k : kept) {
                k->batch_error = cm.error();
            }
        }
    }
}

std::uint64_t pool::batches_committed() const {
    std::lock_guard lk(wq_->m);
    return wq_->batches;
}

std::uint64_t pool::jobs_committed() const {
    std::lock_guard lk(wq_->m);
    return wq_->jobs;
}

std::size_t pool::queued() const {
    std::lock_guard lk(wq_->m);
    return wq_->queue.size();
}

} // namespace esimguard::store::sqlite
