#include "postgres/pg.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>

namespace esimguard::store::postgres {

std::int64_t to_micros(time_point t) {
    return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

time_point from_micros(std::int64_t us) {
    return time_point(
        std::chrono::duration_cast<time_point::duration>(std::chrono::microseconds(us)));
}

param to_param(std::nullptr_t) {
    return {};
}

param to_param(std::int64_t v) {
    return {std::to_string(v), false};
}

param to_param(std::string_view v) {
    return {std::string(v), false};
}

param to_param(const bytes& v) {
    return {std::string(reinterpret_cast<const char*>(v.data()), v.size()), true};
}

bool retryable(std::string_view sqlstate) {
    return sqlstate == "40001" || sqlstate == "40P01";
}

postgres_config normalised(postgres_config c) {
    c.connections = std::max<std::size_t>(1, c.connections);
    return c;
}

// ---- rows ----------------------------------------------------------------

rows::~rows() {
    if (r_) {
        ::PQclear(r_);
    }
}

int rows::affected() const {
    const char* n = ::PQcmdTuples(r_);
    return n && *n ? std::atoi(n) : 0;
}

std::string rows::text(int col) const {
    return std::string(::PQgetvalue(r_, row_, col),
                       static_cast<std::size_t>(::PQgetlength(r_, row_, col)));
}

std::optional<std::string> rows::opt_text(int col) const {
    if (is_null(col)) {
        return std::nullopt;
    }
    return text(col);
}

std::int64_t rows::int64(int col) const {
    const char* v = ::PQgetvalue(r_, row_, col);
    std::int64_t out = 0;
    std::from_chars(v, v + ::PQgetlength(r_, row_, col), out);
    return out;
}

std::optional<std::int64_t> rows::opt_int64(int col) const {
    if (is_null(col)) {
        return std::nullopt;
    }
    return int64(col);
}

bytes rows::blob(int col) const {
    // bytea in text format is "\x" followed by hex (bytea_output = hex, the
    // default since PostgreSQL 9.0; the connection sets it explicitly).
    const char* v = ::PQgetvalue(r_, row_, col);
    auto n = static_cast<std::size_t>(::PQgetlength(r_, row_, col));
    bytes out;
    if (n < 2 || v[0] != '\\' || v[1] != 'x') {
        return out;
    }
    auto nibble = [](char c) -> std::uint8_t {
        if (c >= '0' && c <= '9') {
            return static_cast<std::uint8_t>(c - '0');
        }
        return static_cast<std::uint8_t>((c | 0x20) - 'a' + 10);
    };
    out.reserve((n - 2) / 2);
    for (std::size_t i = 2; i + 1 < n; i += 2) {
        out.push_back(static_cast<std::uint8_t>(nibble(v[i]) << 4 | nibble(v[i + 1])));
    }
    return out;
}

std::optional<bytes> rows::opt_blob(int col) const {
    if (is_null(col)) {
        return std::nullopt;
    }
    return blob(col);
}

std::optional<time_point> rows::opt_time(int col) const {
    if (is_null(col)) {
        return std::nullopt;
    }
    return time(col);
}

// ---- connection ------------------------------------------------------------

connection::~connection() {
    if (c_) {
        ::PQfinish(c_);
    }
}

result<std::unique_ptr<connection>> connection::open(const postgres_config& config) {
    // Keywords override what the URL says only where we must: the timeout,
    // and a client encoding the readers rely on.
    std::string timeout = std::to_string(std::max<long>(1, config.connect_timeout.count()));
    const char* keys[] = {"dbname", "connect_timeout", "client_encoding", "application_name",
                          nullptr};
    const char* values[] = {config.url.c_str(), timeout.c_str(), "UTF8", "esimguard", nullptr};
    ::PGconn* c = ::PQconnectdbParams(keys, values, 1);
    if (!c) {
        return std::unexpected(error{errc::io, "postgres: out of memory"});
    }
    if (::PQstatus(c) != CONNECTION_OK) {
        // libpq's message names the host and port, never the password.
        std::string msg = ::PQerrorMessage(c);
        ::PQfinish(c);
        while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) {
            msg.pop_back();
        }
        return std::unexpected(error{errc::io, "postgres: cannot connect: " + msg});
    }
    // NOTICEs ("schema already exists, skipping") are expected on every
    // start; libpq would print them to stderr.
    ::PQsetNoticeProcessor(
        c, [](void*, const char*) {}, nullptr);
    std::unique_ptr<connection> conn(new connection(c));
    std::string setup = "SET bytea_output = 'hex'; SET TIME ZONE 'UTC'";
    if (!config.schema.empty()) {
        // The name was checked by the factory (letters, digits, '_').
        setup += "; SET search_path TO " + config.schema;
    }
    if (auto r = conn->exec(setup); !r) {
        return std::unexpected(r.error());
    }
    return conn;
}

bool connection::healthy() const {
    return ::PQstatus(c_) == CONNECTION_OK;
}

error connection::failure(::PGresult* r, std::string_view what) {
    const char* state = r ? ::PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    sqlstate_ = state ? state : "";
    // The primary message names constraints and tables; values would only be
    // in DETAIL, which is left out so no matching ID or key reaches a log.
    const char* primary = r ? ::PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
    std::string msg = fmt::format("{}: {}", what, primary ? primary : ::PQerrorMessage(c_));
    while (!msg.empty() && msg.back() == '\n') {
        msg.pop_back();
    }
    std::string_view s = sqlstate_;
    if (s == "23505") {
        return {errc::conflict, std::move(msg)};
    }
    if (s == "23503") {
        return {errc::not_found, std::move(msg)};
    }
    if (s.starts_with("23") || s.starts_with("22")) {
        return {errc::invalid_argument, std::move(msg)};
    }
    if (s == "XX001" || s == "XX002" || s.starts_with("42")) {
        // Data corruption, or a schema that is not what this code expects.
        return {errc::corrupt, std::move(msg)};
    }
    return {errc::io, std::move(msg)};
}

result<rows> connection::run(std::string_view sql, const std::vector<param>& params) {
    std::string key(sql);
    auto it = prepared_.find(key);
    if (it == prepared_.end()) {
        std::string name = "s" + std::to_string(prepared_.size() + 1);
        ::PGresult* p = ::PQprepare(c_, name.c_str(), key.c_str(), 0, nullptr);
        bool ok = p && ::PQresultStatus(p) == PGRES_COMMAND_OK;
        if (!ok) {
            auto e = failure(p, "prepare");
            ::PQclear(p);
            return std::unexpected(std::move(e));
        }
        ::PQclear(p);
        it = prepared_.emplace(std::move(key), std::move(name)).first;
    }
    std::vector<const char*> values(params.size());
    std::vector<int> lengths(params.size());
    std::vector<int> formats(params.size());
    for (std::size_t i = 0; i < params.size(); ++i) {
        if (params[i].value) {
            values[i] = params[i].value->data();
            lengths[i] = static_cast<int>(params[i].value->size());
        }
        formats[i] = params[i].binary ? 1 : 0;
    }
    ::PGresult* r = ::PQexecPrepared(c_, it->second.c_str(), static_cast<int>(params.size()),
                                     values.data(), lengths.data(), formats.data(), 0);
    auto st = r ? ::PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        auto e = failure(r, "query");
        ::PQclear(r);
        return std::unexpected(std::move(e));
    }
    sqlstate_.clear();
    return rows(r);
}

result<void> connection::exec(std::string_view sql) {
    std::string s(sql);
    ::PGresult* r = ::PQexec(c_, s.c_str());
    auto st = r ? ::PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        auto e = failure(r, "exec");
        ::PQclear(r);
        return std::unexpected(std::move(e));
    }
    ::PQclear(r);
    sqlstate_.clear();
    return {};
}

// ---- pool --------------------------------------------------------------------

pool::pool(postgres_config config) : config_(normalised(std::move(config))) {}

pool::lease::~lease() {
    if (!p_) {
        return;
    }
    std::lock_guard lock(p_->m_);
    if (c_ && c_->healthy()) {
        p_->free_.push_back(std::move(c_));
    } else {
        --p_->open_;
    }
    p_->cv_.notify_one();
}

result<pool::lease> pool::acquire() {
    std::unique_lock lock(m_);
    cv_.wait(lock, [&] { return !free_.empty() || open_ < config_.connections; });
    if (!free_.empty()) {
        auto c = std::move(free_.back());
        free_.pop_back();
        return lease(*this, std::move(c));
    }
    ++open_;
    lock.unlock();
    // Connect outside the lock: it takes a round trip or a timeout.
    auto c = connection::open(config_);
    if (!c) {
        lock.lock();
        --open_;
        cv_.notify_one();
        return std::unexpected(c.error());
    }
    return lease(*this, std::move(*c));
}

} // namespace esimguard::store::postgres
