// ES9+ RSP sessions (SGP.22 §3.1.3, §5.6). Sessions live in the database so
// that a restarted server, or another node, continues them.

#include "sqlite/rows.hpp"
#include "sqlite/sqlite_store_impl.hpp"

#include <fmt/core.h>

namespace esimguard::store::sqlite {

namespace {

result<session_record> load_session(connection& c, std::string_view transaction_id) {
    auto s =
        c.prepare("SELECT " ESIMGUARD_SESSION_COLUMNS " FROM sessions WHERE transaction_id = ?");
    if (s) {
        s->bind(transaction_id);
    }
    return one_row<session_record>(s, read_session, "session");
}

} // namespace

result<void> sqlite_store_impl::create_session(const session_record& r) {
    if (r.transaction_id.empty()) {
        return std::unexpected(invalid("transaction ID is empty"));
    }
    return write([&](connection& c) -> result<void> {
        // The reservation fails with conflict for any ID ever used, even if
        // its session row was purged.
        auto used = c.prepare("INSERT INTO used_transaction_ids (transaction_id, used_at)"
                              " VALUES (?, ?)");
        if (!used) {
            return std::unexpected(used.error());
        }
        if (auto w = used->bind(r.transaction_id, r.created_at).run(); !w) {
            if (w.error().code == errc::conflict) {
                return std::unexpected(error{errc::conflict, "transaction ID already used"});
            }
            return w;
        }
        auto s = c.prepare("INSERT INTO sessions (" ESIMGUARD_SESSION_COLUMNS ")"
                           " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        if (!s) {
            return std::unexpected(s.error());
        }
        return s
            ->bind(r.transaction_id, to_string(r.state), r.created_at, r.expires_at, r.created_at,
                   r.euicc_challenge, r.server_challenge, r.server_address, r.ci_pkid,
                   r.client_address, r.euicc_certificate, r.eid, r.order_id, r.smdp_signed2,
                   r.smdp_signature2, r.euicc_otpk, r.smdp_otsk, r.smdp_otpk, r.cc_attempts,
                   r.end_reason)
            .run();
    });
}

result<session_record> sqlite_store_impl::find_session(std::string_view transaction_id) {
    return read([&](connection& c) { return load_session(c, transaction_id); });
}

result<session_record> sqlite_store_impl::update_session(std::string_view transaction_id,
                                                         session_state expected,
                                                         const session_update& u, time_point now) {
    return write(
        [&](connection& c) { return update_session_in(c, transaction_id, expected, u, now); });
}

result<session_record> update_session_in(connection& c, std::string_view transaction_id,
                                         session_state expected, const session_update& u,
                                         time_point now) {
    // One conditional UPDATE: the state guard and the new values are
    // written together, so two nodes cannot both move a session on.
    auto s = c.prepare("UPDATE sessions SET"
                       " state = coalesce(?1, state),"
                       " expires_at = coalesce(?2, expires_at),"
                       " euicc_certificate = coalesce(?3, euicc_certificate),"
                       " eid = coalesce(?4, eid),"
                       " order_id = coalesce(?5, order_id),"
                       " smdp_signed2 = coalesce(?6, smdp_signed2),"
                       " smdp_signature2 = coalesce(?7, smdp_signature2),"
                       " euicc_otpk = coalesce(?8, euicc_otpk),"
                       " smdp_otsk = coalesce(?9, smdp_otsk),"
                       " smdp_otpk = coalesce(?10, smdp_otpk),"
                       " end_reason = coalesce(?11, end_reason),"
                       " updated_at = ?12"
                       " WHERE transaction_id = ?13 AND state = ?14");
    if (!s) {
        return std::unexpected(s.error());
    }
    std::optional<std::string_view> state;
    if (u.state) {
        state = to_string(*u.state);
    }
    if (auto w = s->bind(state, u.expires_at, u.euicc_certificate, u.eid, u.order_id,
                         u.smdp_signed2, u.smdp_signature2, u.euicc_otpk, u.smdp_otsk, u.smdp_otpk,
                         u.end_reason, now, transaction_id, to_string(expected))
                     .run();
        !w) {
        return std::unexpected(w.error());
    }
    bool changed = c.changes() == 1;
    if (changed && u.history) {
        const auto& h = *u.history;
        if (auto e = add_event(c, h.order_id, now, h.name, h.detail); !e) {
            return std::unexpected(e.error());
        }
    }
    auto cur = load_session(c, transaction_id);
    if (!cur || changed) {
        return cur;
    }
    return std::unexpected(state_mismatch(
        fmt::format("session is {}, expected {}", to_string(cur->state), to_string(expected))));
}

result<int> sqlite_store_impl::record_session_cc_attempt(std::string_view transaction_id,
                                                         time_point now) {
    return write([&](connection& c) -> result<int> {
        auto s = c.prepare("UPDATE sessions SET cc_attempts = cc_attempts + 1, updated_at = ?"
                           " WHERE transaction_id = ? AND state != 'ended'");
        if (!s) {
            return std::unexpected(s.error());
        }
        if (auto w = s->bind(now, transaction_id).run(); !w) {
            return std::unexpected(w.error());
        }
        bool changed = c.changes() == 1;
        auto cur = load_session(c, transaction_id);
        if (!cur) {
            return std::unexpected(cur.error());
        }
        if (!changed) {
            return std::unexpected(state_mismatch("session has ended"));
        }
        return cur->cc_attempts;
    });
}

result<void> sqlite_store_impl::clear_session_secret(std::string_view transaction_id,
                                                     time_point now) {
    return write([&](connection& c) -> result<void> {
        auto s = c.prepare("UPDATE sessions SET smdp_otsk = NULL, updated_at = ?"
                           " WHERE transaction_id = ?");
        if (!s) {
            return std::unexpected(s.error());
        }
        if (auto w = s->bind(now, transaction_id).run(); !w) {
            return w;
        }
        if (c.changes() == 0) {
            return std::unexpected(not_found("session"));
        }
        return {};
    });
}

result<session_record> sqlite_store_impl::end_session(std::string_view transaction_id,
                                                      std::string_view reason, time_point now) {
    return write([&](connection& c) -> result<session_record> {
        auto changed = end_session_in(c, transaction_id, reason, now);
        if (!changed) {
            return std::unexpected(changed.error());
        }
        auto cur = load_session(c, transaction_id);
        if (!cur || *changed) {
            return cur;
        }
        return std::unexpected(state_mismatch("session already ended"));
    });
}

result<bool> end_session_in(connection& c, std::string_view transaction_id, std::string_view reason,
                            time_point now) {
    auto s = c.prepare("UPDATE sessions SET state = 'ended', end_reason = ?,"
                       " smdp_otsk = NULL, updated_at = ?"
                       " WHERE transaction_id = ? AND state != 'ended'");
    if (!s) {
        return std::unexpected(s.error());
    }
    if (auto w = s->bind(reason, now, transaction_id).run(); !w) {
        return std::unexpected(w.error());
    }
    return c.changes() == 1;
}

result<std::size_t> sqlite_store_impl::expire_sessions(time_point now) {
    return write([&](connection& c) -> result<std::size_t> {
        auto s = c.prepare("UPDATE sessions SET state = 'ended', end_reason = 'expired',"
                           " smdp_otsk = NULL, updated_at = ?1"
                           " WHERE state != 'ended' AND expires_at <= ?1");
        if (!s) {
            return std::unexpected(s.error());
        }
        if (auto w = s->bind(now).run(); !w) {
            return std::unexpected(w.error());
        }
        return static_cast<std::size_t>(c.changes());
    });
}

result<std::size_t> sqlite_store_impl::purge_sessions(time_point before) {
    return write([&](connection& c) -> result<std::size_t> {
        auto s = c.prepare("DELETE FROM sessions WHERE state = 'ended' AND updated_at < ?");
        if (!s) {
            return std::unexpected(s.error());
        }
        if (auto w = s->bind(before).run(); !w) {
            return std::unexpected(w.error());
        }
        return static_cast<std::size_t>(c.changes());
    });
}

} // namespace esimguard::store::sqlite
