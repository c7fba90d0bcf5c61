// The SQLite audit log (issue 4 §4): append under one write transaction so
// that the chain stays linear, scans and activation-record queries.
//
// PostgreSQL (later) cannot rely on a single-writer database lock. There the
// append would either take `SELECT seq, hash FROM audit_head WHERE id = 1 FOR
// UPDATE` on a one-row head table (updated in the same transaction as the
// INSERT), or `pg_advisory_xact_lock(<audit key>)` before reading the last
// row; either serialises appenders across every node, and seq as the primary
// key turns any slip into a unique violation instead of a fork.

#include "esimguard/store/audit.hpp"
#include "sqlite/db.hpp"
#include "sqlite/migrations.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <utility>

namespace esimguard::store {

namespace {

constexpr std::array<std::pair<audit_kind, std::string_view>, 6> kind_names{{
    {audit_kind::es9p_call, "es9p_call"},
    {audit_kind::es2p_call, "es2p_call"},
    {audit_kind::decision, "decision"},
    {audit_kind::alert, "alert"},
    {audit_kind::admin_action, "admin_action"},
    {audit_kind::subscriber_action, "subscriber_action"},
}};

} // namespace

std::string_view to_string(audit_kind k) {
    for (const auto& [v, n] : kind_names) {
        if (v == k) {
            return n;
        }
    }
    return "unknown";
}

result<std::vector<audit_event>> audit_log_store::append_batch(const audit_batch_sealer& seal) {
    auto h = head();
    if (!h) {
        return std::unexpected(h.error());
    }
    auto events = seal(*h);
    if (!events) {
        return std::unexpected(events.error());
    }
    std::vector<audit_event> out;
    out.reserve(events->size());
    for (auto& e : *events) {
        auto stored = append([&](const std::optional<audit_head>&) -> result<audit_event> {
            // append() checks the link against the head it read, so an event
            // built on a head that moved meanwhile is refused, not forked.
            return e;
        });
        if (!stored) {
            return std::unexpected(stored.error());
        }
        out.push_back(std::move(*stored));
    }
    return out;
}

std::optional<audit_kind> audit_kind_from_string(std::string_view s) {
    for (const auto& [v, n] : kind_names) {
        if (n == s) {
            return v;
        }
    }
    return std::nullopt;
}

} // namespace esimguard::store

namespace esimguard::store::sqlite {

namespace {

constexpr std::size_t hash_size = 32;

constexpr const char* select_columns =
    "SELECT seq, at, actor, kind, eid, iccid, source_address, outcome, reason, detail, "
    "prev_hash, hash FROM audit_events ";

audit_event read_event(const statement& s) {
    audit_event e;
    e.seq = s.int64(0);
    e.at = s.time(1);
    e.actor = s.text(2);
    e.kind = s.text(3);
    e.eid = s.opt_text(4);
    e.iccid = s.opt_text(5);
    e.source_address = s.opt_text(6);
    e.outcome = s.text(7);
    e.reason = s.text(8);
    e.detail = s.text(9);
    e.prev_hash = s.blob(10);
    e.hash = s.blob(11);
    return e;
}

template <class Bind>
result<std::vector<audit_event>> read_all(connection& c, std::string_view sql, Bind&& bind) {
    auto s = c.prepare(sql);
    if (!s) {
        return std::unexpected(s.error());
    }
    bind(*s);
    std::vector<audit_event> out;
    for (;;) {
        auto row = s->step();
        if (!row) {
            return std::unexpected(row.error());
        }
        if (!*row) {
            return out;
        }
        out.push_back(read_event(*s));
    }
}

result<std::optional<audit_head>> read_head(connection& c) {
    auto s = c.prepare("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1");
    if (!s) {
        return std::unexpected(s.error());
    }
    auto row = s->step();
    if (!row) {
        return std::unexpected(row.error());
    }
    if (!*row) {
        return std::optional<audit_head>{};
    }
    return std::optional<audit_head>{audit_head{s->int64(0), s->blob(1)}};
}

class sqlite_audit_log_impl final : public audit_log_store {
public:
    explicit sqlite_audit_log_impl(std::vector<std::unique_ptr<connection>> conns)
        : pool_(std::move(conns)) {}

    /// Checks that `e` links to `head` and inserts it; the caller holds the
    /// write transaction.
    static result<void> insert_linked(connection& c, const std::optional<audit_head>& head,
                                      const audit_event& e) {
        std::int64_t want_seq = head ? head->seq + 1 : 1;
        const bytes zero(hash_size, 0);
        const bytes& want_prev = head ? head->hash : zero;
        if (e.seq != want_seq || e.prev_hash != want_prev) {
            return std::unexpected(invalid(fmt::format(
                "audit event {} does not link to the head (expected seq {})", e.seq, want_seq)));
        }
        if (e.hash.size() != hash_size) {
            return std::unexpected(invalid("audit event hash must be 32 bytes"));
        }
        if (!audit_kind_from_string(e.kind)) {
            return std::unexpected(invalid("audit event kind is not an audit_kind name"));
        }
        auto s = c.prepare("INSERT INTO audit_events (seq, at, actor, kind, eid, iccid, "
                           "source_address, outcome, reason, detail, prev_hash, hash) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        if (!s) {
            return std::unexpected(s.error());
        }
        s->bind(e.seq, e.at, e.actor, e.kind, e.eid, e.iccid, e.source_address, e.outcome, e.reason,
                e.detail, e.prev_hash, e.hash);
        return s->run();
    }

    result<std::vector<audit_event>> append_batch(const audit_batch_sealer& seal) override {
        return in_transaction(pool_, true, [&](connection& c) -> result<std::vector<audit_event>> {
            auto head = read_head(c);
            if (!head) {
                return std::unexpected(head.error());
            }
            auto events = seal(*head);
            if (!events) {
                return std::unexpected(events.error());
            }
            std::optional<audit_head> h = std::move(*head);
            for (const auto& e : *events) {
                if (auto r = insert_linked(c, h, e); !r) {
                    return std::unexpected(r.error());
                }
                h = audit_head{e.seq, e.hash};
            }
            return std::move(*events);
        });
    }

    result<audit_event> append(const audit_sealer& seal) override {
        // in_transaction takes the pool's write mutex, then BEGIN IMMEDIATE:
        // in-process appenders queue on the mutex, other processes (the CLI
        // beside the server) on SQLite's write lock, so nobody reads a head
        // that another appender is about to move.
        return in_transaction(pool_, true, [&](connection& c) -> result<audit_event> {
            auto head = read_head(c);
            if (!head) {
                return std::unexpected(head.error());
            }
            auto e = seal(*head);
            if (!e) {
                return std::unexpected(e.error());
            }
            if (auto r = insert_linked(c, *head, *e); !r) {
                return std::unexpected(r.error());
            }
            return std::move(*e);
        });
    }

    result<std::optional<audit_head>> head() override {
        return in_transaction(pool_, false, [](connection& c) { return read_head(c); });
    }

    result<std::vector<audit_event>> scan(std::int64_t after_seq, std::size_t limit) override {
        return in_transaction(pool_, false, [&](connection& c) {
            return read_all(c, std::string(select_columns) + "WHERE seq > ? ORDER BY seq LIMIT ?",
                            [&](statement& s) {
                                s.bind(after_seq, static_cast<std::int64_t>(
                                                      std::min<std::size_t>(limit, INT64_MAX)));
                            });
        });
    }

    result<std::vector<std::int64_t>> seqs_with_hash(byte_view hash) override {
        return in_transaction(
            pool_, false, [&](connection& c) -> result<std::vector<std::int64_t>> {
                auto s = c.prepare("SELECT seq FROM audit_events WHERE hash = ? ORDER BY seq");
                if (!s) {
                    return std::unexpected(s.error());
                }
                s->bind(to_bytes(hash));
                std::vector<std::int64_t> out;
                for (;;) {
                    auto row = s->step();
                    if (!row) {
                        return std::unexpected(row.error());
                    }
                    if (!*row) {
                        return out;
                    }
                    out.push_back(s->int64(0));
                }
            });
    }

    result<std::vector<audit_event>> query(const audit_query& q) override {
        // Optional filters as "? IS NULL OR column = ?" keep one cached
        // statement for every combination; the partial indexes still serve
        // the common single-key lookups.
        return in_transaction(pool_, false, [&](connection& c) {
            return read_all(
                c,
                std::string(select_columns) +
                    "WHERE (?1 IS NULL OR iccid = ?1) AND (?2 IS NULL OR eid = ?2) "
                    "AND (?3 IS NULL OR source_address = ?3) "
                    "AND (?4 IS NULL OR at >= ?4) AND (?5 IS NULL OR at < ?5) "
                    "ORDER BY at, seq LIMIT ?6",
                [&](statement& s) {
                    s.bind(q.iccid, q.eid, q.source_address, q.from, q.to,
                           static_cast<std::int64_t>(std::min<std::size_t>(q.limit, INT64_MAX)));
                });
        });
    }

private:
    pool pool_;
};

} // namespace

} // namespace esimguard::store::sqlite

namespace esimguard::store {

result<std::unique_ptr<audit_log_store>> create_sqlite_audit_log(const sqlite_config& config) {
    auto conns = sqlite::open_migrated_connections(config);
    if (!conns) {
        return std::unexpected(conns.error());
    }
    return std::make_unique<sqlite::sqlite_audit_log_impl>(std::move(*conns));
}

} // namespace esimguard::store
