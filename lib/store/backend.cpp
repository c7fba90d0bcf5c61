#include "esimguard/store/backend.hpp"

namespace esimguard::store {

std::string_view to_string(backend_kind k) {
    return k == backend_kind::postgres ? "postgres" : "sqlite";
}

std::optional<backend_kind> backend_kind_from_string(std::string_view s) {
    if (s == "sqlite") {
        return backend_kind::sqlite;
    }
    if (s == "postgres" || s == "postgresql") {
        return backend_kind::postgres;
    }
    return std::nullopt;
}

namespace {

template <class T>
result<void> take(result<std::unique_ptr<T>> r, std::unique_ptr<T>& into) {
    if (!r) {
        return std::unexpected(r.error());
    }
    into = std::move(*r);
    return {};
}

} // namespace

result<backend> open_backend(const backend_config& config) {
    backend b;
    b.kind = config.kind;
    result<void> ok;
    if (config.kind == backend_kind::sqlite) {
        if (config.sqlite.path == ":memory:") {
            // Each factory would get its own private database.
            return std::unexpected(
                error{errc::invalid_argument, "a backend needs a database file, not :memory:"});
        }
        ok = take(create_sqlite_store(config.sqlite), b.main);
        if (ok) {
            ok = take(create_sqlite_audit_log(config.sqlite), b.audit);
        }
        if (ok) {
            ok = take(create_sqlite_defense_store(config.sqlite), b.defense);
        }
    } else {
        if (config.postgres.url.empty()) {
            return std::unexpected(
                error{errc::invalid_argument, "store backend postgres needs a url"});
        }
        ok = take(create_postgres_store(config.postgres), b.main);
        if (ok) {
            ok = take(create_postgres_audit_log(config.postgres), b.audit);
        }
        if (ok) {
            ok = take(create_postgres_defense_store(config.postgres), b.defense);
        }
        if (ok) {
            ok = take(create_postgres_counter_store(config.postgres), b.counters);
        }
    }
    if (!ok) {
        return std::unexpected(ok.error());
    }
    return b;
}

} // namespace esimguard::store
