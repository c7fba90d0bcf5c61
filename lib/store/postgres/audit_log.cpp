// The audit log on PostgreSQL (issue 4 §4, issue 6): appends from every
// node serialised by the row lock of audit_append_lock, so the chain stays
// linear under concurrent writers in several processes.

#include "esimguard/store/audit.hpp"
#include "postgres/migrations.hpp"
#include "postgres/pg.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cstdint>

namespace esimguard::store::postgres {

namespace {

constexpr std::size_t hash_size = 32;

#define ESIMGUARD_PG_AUDIT_SELECT                                                                  \
    "SELECT seq, at, actor, kind, eid, iccid, source_address, outcome, reason, detail, "           \
    "prev_hash, hash FROM audit_events "

audit_event read_event(const rows& r) {
    audit_event e;
    e.seq = r.int64(0);
    e.at = r.time(1);
    e.actor = r.text(2);
    e.kind = r.text(3);
    e.eid = r.opt_text(4);
    e.iccid = r.opt_text(5);
    e.source_address = r.opt_text(6);
    e.outcome = r.text(7);
    e.reason = r.text(8);
    e.detail = r.text(9);
    e.prev_hash = r.blob(10);
    e.hash = r.blob(11);
    return e;
}

result<std::vector<audit_event>> all_events(result<rows>& r) {
    if (!r) {
        return std::unexpected(r.error());
    }
    std::vector<audit_event> out;
    out.reserve(static_cast<std::size_t>(r->size()));
    for (int i = 0; i < r->size(); ++i) {
        out.push_back(read_event(r->at(i)));
    }
    return out;
}

/// The last stored event, read from the rows themselves (not from a cached
/// head), so that verify() sees a deleted last row as the SQLite log does.
result<std::optional<audit_head>> read_head(connection& c) {
    auto r = c.query("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1");
    if (!r) {
        return std::unexpected(r.error());
    }
    if (r->empty()) {
        return std::optional<audit_head>{};
    }
    return std::optional<audit_head>{audit_head{r->at(0).int64(0), r->at(0).blob(1)}};
}

/// Takes the append lock, then reads the head. Every appender, on any node,
/// queues on this row lock before it reads the head; it is released at
/// COMMIT, after the INSERTs, so the next appender reads the rows just written.
result<std::optional<audit_head>> lock_and_read_head(connection& c) {
    if (auto l = c.query("SELECT id FROM audit_append_lock WHERE id = 1 FOR UPDATE"); !l) {
        return std::unexpected(l.error());
    }
    return read_head(c);
}

/// Checks that `e` links to `head` and inserts it.
result<void> insert_linked(connection& c, const std::optional<audit_head>& head,
                           const audit_event& e) {
    std::int64_t want_seq = head ? head->seq + 1 : 1;
    bytes want_prev = head ? head->hash : bytes(hash_size, 0);
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
    auto ins = c.query("INSERT INTO audit_events (seq, at, actor, kind, eid, iccid,"
                       " source_address, outcome, reason, detail, prev_hash, hash)"
                       " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                       e.seq, e.at, e.actor, e.kind, e.eid, e.iccid, e.source_address, e.outcome,
                       e.reason, e.detail, e.prev_hash, e.hash);
    if (!ins) {
        return std::unexpected(ins.error());
    }
    return {};
}

std::int64_t clamp_limit(std::size_t limit) {
    return static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX));
}

class postgres_audit_log_impl final : public audit_log_store {
public:
    explicit postgres_audit_log_impl(postgres_config config) : pool_(std::move(config)) {}

    result<audit_event> append(const audit_sealer& seal) override {
        return in_transaction(pool_, [&](connection& c) -> result<audit_event> {
            auto head = lock_and_read_head(c);
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

    result<std::vector<audit_event>> append_batch(const audit_batch_sealer& seal) override {
        // The whole batch under one lock and one commit: all or nothing, and
        // no other node's event can slip in between two of its events.
        return in_transaction(pool_, [&](connection& c) -> result<std::vector<audit_event>> {
            auto head = lock_and_read_head(c);
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

    result<std::optional<audit_head>> head() override {
        return single_statement(pool_, [](connection& c) { return read_head(c); });
    }

    result<std::vector<audit_event>> scan(std::int64_t after_seq, std::size_t limit) override {
        return single_statement(pool_, [&](connection& c) {
            auto r = c.query(ESIMGUARD_PG_AUDIT_SELECT "WHERE seq > $1 ORDER BY seq LIMIT $2",
                             after_seq, clamp_limit(limit));
            return all_events(r);
        });
    }

    result<std::vector<std::int64_t>> seqs_with_hash(byte_view hash) override {
        return single_statement(pool_, [&](connection& c) -> result<std::vector<std::int64_t>> {
            auto r = c.query("SELECT seq FROM audit_events WHERE hash = $1 ORDER BY seq",
                             to_bytes(hash));
            if (!r) {
                return std::unexpected(r.error());
            }
            std::vector<std::int64_t> out;
            for (int i = 0; i < r->size(); ++i) {
                out.push_back(r->at(i).int64(0));
            }
            return out;
        });
    }

    result<std::vector<audit_event>> query(const audit_query& q) override {
        return single_statement(pool_, [&](connection& c) {
            auto r =
                c.query(ESIMGUARD_PG_AUDIT_SELECT "WHERE ($1::text IS NULL OR iccid = $1)"
                                                  " AND ($2::text IS NULL OR eid = $2)"
                                                  " AND ($3::text IS NULL OR source_address = $3)"
                                                  " AND ($4::bigint IS NULL OR at >= $4)"
                                                  " AND ($5::bigint IS NULL OR at < $5)"
                                                  " ORDER BY at, seq LIMIT $6",
                        q.iccid, q.eid, q.source_address, q.from, q.to, clamp_limit(q.limit));
            return all_events(r);
        });
    }

private:
    pool pool_;
};

} // namespace

} // namespace esimguard::store::postgres

namespace esimguard::store {

result<std::unique_ptr<audit_log_store>> create_postgres_audit_log(const postgres_config& config) {
    if (auto m = postgres::prepare_database(config); !m) {
        return std::unexpected(m.error());
    }
    return std::make_unique<postgres::postgres_audit_log_impl>(config);
}

} // namespace esimguard::store
