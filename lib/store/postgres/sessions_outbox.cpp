// ES9+ RSP sessions (SGP.22 §3.1.3, §5.6) and the operator notification
// outbox (SGP.22 §5.3.5) on PostgreSQL. Sessions are changed only by single
// conditional UPDATEs (WHERE state = expected … RETURNING): the guard and the
// write are one statement, so when two nodes get the same request only one
// moves the session on, without holding a lock across round trips.

#include "postgres/postgres_store_impl.hpp"
#include "postgres/records.hpp"

#include <fmt/core.h>

#include <algorithm>

namespace esimguard::store::postgres {

namespace {

result<session_record> load_session(connection& c, std::string_view transaction_id) {
    auto r =
        c.query("SELECT " ESIMGUARD_PG_SESSION_COLUMNS " FROM sessions WHERE transaction_id = $1",
                transaction_id);
    return first_row(r, read_session, "session");
}

result<outbox_message> load_message(connection& c, std::int64_t id) {
    auto r = c.query("SELECT " ESIMGUARD_PG_OUTBOX_COLUMNS " FROM outbox WHERE id = $1", id);
    return first_row(r, read_outbox, "notification");
}

} // namespace

result<void> postgres_store_impl::create_session(const session_record& r) {
    if (r.transaction_id.empty()) {
        return std::unexpected(invalid("transaction ID is empty"));
    }
    return write([&](connection& c) -> result<void> {
        // The reservation fails with conflict for any ID ever used, even if
        // its session row was purged.
        auto used = c.query("INSERT INTO used_transaction_ids (transaction_id, used_at)"
                            " VALUES ($1, $2)",
                            r.transaction_id, r.created_at);
        if (!used) {
            if (used.error().code == errc::conflict) {
                return std::unexpected(error{errc::conflict, "transaction ID already used"});
            }
            return std::unexpected(used.error());
        }
        std::vector<param> ps{to_param(r.transaction_id),    to_param(to_string(r.state)),
                              to_param(r.created_at),        to_param(r.expires_at),
                              to_param(r.created_at),        to_param(r.euicc_challenge),
                              to_param(r.server_challenge),  to_param(r.server_address),
                              to_param(r.ci_pkid),           to_param(r.client_address),
                              to_param(r.euicc_certificate), to_param(r.eid),
                              to_param(r.order_id),          to_param(r.smdp_signed2),
                              to_param(r.smdp_signature2),   to_param(r.euicc_otpk),
                              to_param(r.smdp_otsk),         to_param(r.smdp_otpk),
                              to_param(r.cc_attempts),       to_param(r.end_reason)};
        auto s = c.run("INSERT INTO sessions (" ESIMGUARD_PG_SESSION_COLUMNS ") VALUES ($1, $2,"
                       " $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,"
                       " $19, $20)",
                       ps);
        if (!s) {
            return std::unexpected(s.error());
        }
        return {};
    });
}

result<session_record> postgres_store_impl::find_session(std::string_view transaction_id) {
    return read([&](connection& c) { return load_session(c, transaction_id); });
}

result<session_record> postgres_store_impl::update_session(std::string_view transaction_id,
                                                           session_state expected,
                                                           const session_update& u,
                                                           time_point now) {
    auto body = [&](connection& c) {
        return update_session_in(c, transaction_id, expected, u, now);
    };
    // One statement needs no transaction; with a history line, both commit together.
    return u.history ? write(body) : read(body);
}

result<session_record> update_session_in(connection& c, std::string_view transaction_id,
                                         session_state expected, const session_update& u,
                                         time_point now) {
    std::optional<std::string_view> state;
    if (u.state) {
        state = to_string(*u.state);
    }
    std::vector<param> ps{to_param(state),
                          to_param(u.expires_at),
                          to_param(u.euicc_certificate),
                          to_param(u.eid),
                          to_param(u.order_id),
                          to_param(u.smdp_signed2),
                          to_param(u.smdp_signature2),
                          to_param(u.euicc_otpk),
                          to_param(u.smdp_otsk),
                          to_param(u.smdp_otpk),
                          to_param(u.end_reason),
                          to_param(now),
                          to_param(transaction_id),
                          to_param(to_string(expected))};
    auto r = c.run("UPDATE sessions SET"
                   " state = coalesce($1, state),"
                   " expires_at = coalesce($2, expires_at),"
                   " euicc_certificate = coalesce($3, euicc_certificate),"
                   " eid = coalesce($4, eid),"
                   " order_id = coalesce($5, order_id),"
                   " smdp_signed2 = coalesce($6, smdp_signed2),"
                   " smdp_signature2 = coalesce($7, smdp_signature2),"
                   " euicc_otpk = coalesce($8, euicc_otpk),"
                   " smdp_otsk = coalesce($9, smdp_otsk),"
                   " smdp_otpk = coalesce($10, smdp_otpk),"
                   " end_reason = coalesce($11, end_reason),"
                   " updated_at = $12"
                   " WHERE transaction_id = $13 AND state = $14"
                   " RETURNING " ESIMGUARD_PG_SESSION_COLUMNS,
                   ps);
    if (!r) {
        return std::unexpected(r.error());
    }
    if (!r->empty()) {
        if (u.history) {
            const auto& h = *u.history;
            if (auto e = add_event(c, h.order_id, now, h.name, h.detail); !e) {
                return std::unexpected(e.error());
            }
        }
        return read_session(r->at(0));
    }
    // Nothing matched: tell an unknown session from one another request moved on.
    auto cur = load_session(c, transaction_id);
    if (!cur) {
        return cur;
    }
    return std::unexpected(state_mismatch(
        fmt::format("session is {}, expected {}", to_string(cur->state), to_string(expected))));
}

result<int> postgres_store_impl::record_session_cc_attempt(std::string_view transaction_id,
                                                           time_point now) {
    return read([&](connection& c) -> result<int> {
        auto r = c.query("UPDATE sessions SET cc_attempts = cc_attempts + 1, updated_at = $1"
                         " WHERE transaction_id = $2 AND state <> 'ended' RETURNING cc_attempts",
                         now, transaction_id);
        if (!r) {
            return std::unexpected(r.error());
        }
        if (!r->empty()) {
            return r->at(0).integer(0);
        }
        auto cur = load_session(c, transaction_id);
        if (!cur) {
            return std::unexpected(cur.error());
        }
        return std::unexpected(state_mismatch("session has ended"));
    });
}

result<void> postgres_store_impl::clear_session_secret(std::string_view transaction_id,
                                                       time_point now) {
    return read([&](connection& c) -> result<void> {
        auto r = c.query("UPDATE sessions SET smdp_otsk = NULL, updated_at = $1"
                         " WHERE transaction_id = $2",
                         now, transaction_id);
        if (!r) {
            return std::unexpected(r.error());
        }
        if (r->affected() == 0) {
            return std::unexpected(not_found("session"));
        }
        return {};
    });
}

result<session_record> postgres_store_impl::end_session(std::string_view transaction_id,
                                                        std::string_view reason, time_point now) {
    return read([&](connection& c) -> result<session_record> {
        auto r = end_session_in(c, transaction_id, reason, now);
        if (!r) {
            return std::unexpected(r.error());
        }
        if (!r->empty()) {
            return read_session(r->at(0));
        }
        auto cur = load_session(c, transaction_id);
        if (!cur) {
            return cur;
        }
        return std::unexpected(state_mismatch("session already ended"));
    });
}

result<rows> end_session_in(connection& c, std::string_view transaction_id, std::string_view reason,
                            time_point now) {
    return c.query("UPDATE sessions SET state = 'ended', end_reason = $1,"
                   " smdp_otsk = NULL, updated_at = $2"
                   " WHERE transaction_id = $3 AND state <> 'ended'"
                   " RETURNING " ESIMGUARD_PG_SESSION_COLUMNS,
                   reason, now, transaction_id);
}

result<std::size_t> postgres_store_impl::expire_sessions(time_point now) {
    return read([&](connection& c) -> result<std::size_t> {
        auto r = c.query("UPDATE sessions SET state = 'ended', end_reason = 'expired',"
                         " smdp_otsk = NULL, updated_at = $1"
                         " WHERE state <> 'ended' AND expires_at <= $1",
                         now);
        if (!r) {
            return std::unexpected(r.error());
        }
        return static_cast<std::size_t>(r->affected());
    });
}

result<std::size_t> postgres_store_impl::purge_sessions(time_point before) {
    return read([&](connection& c) -> result<std::size_t> {
        auto r = c.query("DELETE FROM sessions WHERE state = 'ended' AND updated_at < $1", before);
        if (!r) {
            return std::unexpected(r.error());
        }
        return static_cast<std::size_t>(r->affected());
    });
}

// ---- outbox ------------------------------------------------------------------

result<std::int64_t>
postgres_store_impl::enqueue_notification(std::string_view operator_id,
                                          std::optional<std::string_view> order_id,
                                          std::string_view body, time_point now) {
    return read([&](connection& c) -> result<std::int64_t> {
        auto r = c.query("INSERT INTO outbox (operator_id, order_id, body, attempts,"
                         " next_attempt_at, state, created_at, updated_at)"
                         " VALUES ($1, $2, $3, 0, $4, 'pending', $4, $4) RETURNING id",
                         operator_id, order_id, body, now);
        if (!r) {
            return std::unexpected(r.error());
        }
        return r->at(0).int64(0);
    });
}

result<std::vector<outbox_message>>
postgres_store_impl::claim_due_notifications(time_point now, std::size_t limit,
                                             std::chrono::microseconds lease) {
    return read([&](connection& c) -> result<std::vector<outbox_message>> {
        // SKIP LOCKED: senders on several nodes claim disjoint messages at
        // once instead of waiting for each other; the lease (next_attempt_at
        // moved forward) hides a claimed message from later claims.
        auto r = c.query("UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $1,"
                         " updated_at = $2"
                         " WHERE id IN (SELECT id FROM outbox WHERE state = 'pending'"
                         " AND next_attempt_at <= $2 ORDER BY next_attempt_at, id LIMIT $3"
                         " FOR UPDATE SKIP LOCKED)"
                         " RETURNING " ESIMGUARD_PG_OUTBOX_COLUMNS,
                         now + lease, now, limit);
        auto claimed = every_row<outbox_message>(r, read_outbox);
        if (claimed) {
            std::sort(claimed->begin(), claimed->end(),
                      [](const auto& a, const auto& b) { return a.id < b.id; });
        }
        return claimed;
    });
}

result<void> postgres_store_impl::mark_notification_delivered(std::int64_t id, time_point now) {
    return read([&](connection& c) -> result<void> {
        auto r = c.query("UPDATE outbox SET state = 'delivered', last_error = NULL,"
                         " updated_at = $1 WHERE id = $2 AND state = 'pending'",
                         now, id);
        if (!r) {
            return std::unexpected(r.error());
        }
        if (r->affected() == 1) {
            return {};
        }
        auto cur = load_message(c, id);
        if (!cur) {
            return std::unexpected(cur.error());
        }
        return std::unexpected(state_mismatch("notification is not pending"));
    });
}

result<outbox_message> postgres_store_impl::reschedule_notification(std::int64_t id,
                                                                    const retry_policy& policy,
                                                                    std::string_view last_error,
                                                                    time_point now) {
    return write([&](connection& c) -> result<outbox_message> {
        auto r = c.query("SELECT " ESIMGUARD_PG_OUTBOX_COLUMNS " FROM outbox WHERE id = $1"
                         " FOR UPDATE",
                         id);
        auto m = first_row(r, read_outbox, "notification");
        if (!m) {
            return m;
        }
        if (m->state != outbox_state::pending) {
            return std::unexpected(state_mismatch("notification is not pending"));
        }
        bool give_up = m->attempts >= policy.max_attempts;
        auto next = now + backoff_delay(policy, std::max(1, m->attempts));
        auto u = c.query("UPDATE outbox SET state = $1, next_attempt_at = $2, last_error = $3,"
                         " updated_at = $4 WHERE id = $5",
                         give_up ? "failed" : "pending", give_up ? m->next_attempt_at : next,
                         last_error, now, id);
        if (!u) {
            return std::unexpected(u.error());
        }
        return load_message(c, id);
    });
}

result<outbox_message> postgres_store_impl::find_notification(std::int64_t id) {
    return read([&](connection& c) { return load_message(c, id); });
}

} // namespace esimguard::store::postgres
