// ES2+ order lifecycle (SGP.22 §5.3) and the download checks of ES9+
// authenticateClient (SGP.22 §5.6.2) on PostgreSQL. Each call is one READ
// COMMITTED transaction that first locks the order's row (SELECT … FOR
// UPDATE) and then decides on what it read: a second node's call on the same
// order waits for the lock and then reads the committed result, so checks
// and writes can never interleave across nodes (no lost update, no order
// granted twice).

#include "postgres/postgres_store_impl.hpp"
#include "postgres/records.hpp"

#include "order_moves.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <array>

namespace esimguard::store::postgres {

namespace {

constexpr std::string_view cc_lock_reason = "cc_retries_exceeded";

bool before_download(order_state s) {
    return s == order_state::allocated || s == order_state::linked || s == order_state::confirmed ||
           s == order_state::released;
}

bool holds_profile(order_state s) {
    return s != order_state::cancelled && s != order_state::expired && s != order_state::error &&
           s != order_state::deleted;
}

result<void> done(const result<rows>& r) {
    if (!r) {
        return std::unexpected(r.error());
    }
    return {};
}

result<order_record> load_order(connection& c, std::string_view order_id) {
    auto r =
        c.query("SELECT " ESIMGUARD_PG_ORDER_COLUMNS " FROM orders WHERE order_id = $1", order_id);
    return first_row(r, read_order, "order");
}

/// The order, with its row locked until the transaction ends.
result<order_record> lock_order_row(connection& c, std::string_view order_id) {
    auto r =
        c.query("SELECT " ESIMGUARD_PG_ORDER_COLUMNS " FROM orders WHERE order_id = $1 FOR UPDATE",
                order_id);
    return first_row(r, read_order, "order");
}

result<void> set_profile_state(connection& c, std::string_view iccid, profile_state to,
                               time_point now) {
    return done(c.query("UPDATE profiles SET state = $1, updated_at = $2 WHERE iccid = $3",
                        to_string(to), now, iccid));
}

result<void> move_order(connection& c, order_record& o, order_state to, time_point now,
                        std::string_view event, std::string_view detail) {
    if (auto r = done(c.query("UPDATE orders SET state = $1, updated_at = $2 WHERE order_id = $3",
                              to_string(to), now, o.order_id));
        !r) {
        return r;
    }
    if (holds_profile(o.state)) {
        if (auto r = set_profile_state(c, o.iccid, to, now); !r) {
            return r;
        }
    }
    std::string d = detail.empty() ? fmt::format("{} -> {}", to_string(o.state), to_string(to))
                                   : std::string(detail);
    o.state = to;
    o.updated_at = from_micros(to_micros(now));
    return add_event(c, o.order_id, now, event, d);
}

} // namespace

// transition_order's work on `c`, inside the caller's transaction.
result<order_record> transition_in(connection& c, std::string_view order_id,
                                   std::span<const order_state> from, order_state to,
                                   time_point now) {
    auto o = lock_order_row(c, order_id);
    if (!o) {
        return o;
    }
    if (auto ok = check_order_move(*o, from, to, now); !ok) {
        return std::unexpected(ok.error());
    }
    if (auto w = move_order(c, *o, to, now, "state", ""); !w) {
        return std::unexpected(w.error());
    }
    return o;
}

result<void> add_event(connection& c, std::string_view order_id, time_point at,
                       std::string_view name, std::string_view detail) {
    return done(c.query("INSERT INTO order_events (order_id, at, name, detail)"
                        " VALUES ($1, $2, $3, $4)",
                        order_id, at, name, detail));
}

result<order_record> postgres_store_impl::create_order(const order_request& r, time_point now) {
    if (r.order_id.empty()) {
        return std::unexpected(invalid("order id is empty"));
    }
    if (!r.iccid && !r.profile_type) {
        return std::unexpected(invalid("an order names an ICCID or a profile type"));
    }
    if (r.iccid && !valid_iccid(*r.iccid)) {
        return std::unexpected(invalid("ICCID must be 18 to 20 digits"));
    }
    if (r.eid && !valid_eid(*r.eid)) {
        return std::unexpected(invalid("EID must be 32 digits"));
    }
    if (r.cc_failure_limit < 1 || r.download_attempt_limit < 1) {
        return std::unexpected(invalid("limits must be at least 1"));
    }
    return write([&](connection& c) -> result<order_record> {
        profile_record p;
        if (r.iccid) {
            auto s = c.query("SELECT " ESIMGUARD_PG_PROFILE_COLUMNS
                             " FROM profiles WHERE iccid = $1 FOR UPDATE",
                             *r.iccid);
            auto found = first_row(s, read_profile, "profile");
            if (!found || found->operator_id != r.operator_id) {
                return std::unexpected(found ? not_found("profile") : found.error());
            }
            if (r.profile_type && *r.profile_type != found->profile_type) {
                return std::unexpected(invalid("the profile is of another profile type"));
            }
            if (found->state != profile_state::available) {
                return std::unexpected(error{errc::conflict, "the profile is not available"});
            }
            p = std::move(*found);
        } else {
            // SKIP LOCKED: nodes ordering the same type at once each take a
            // different profile instead of queueing on the oldest one.
            auto s = c.query("SELECT " ESIMGUARD_PG_PROFILE_COLUMNS " FROM profiles"
                             " WHERE operator_id = $1 AND profile_type = $2"
                             " AND state = 'available'"
                             " ORDER BY created_at, iccid LIMIT 1 FOR UPDATE SKIP LOCKED",
                             r.operator_id, *r.profile_type);
            auto found = first_row(s, read_profile, "profile");
            if (!found) {
                if (found.error().code == errc::not_found) {
                    return std::unexpected(
                        error{errc::conflict, "no available profile of that type"});
                }
                return std::unexpected(found.error());
            }
            p = std::move(*found);
        }
        order_state st = r.eid ? order_state::linked : order_state::allocated;
        if (auto w = done(c.query(
                "INSERT INTO orders (order_id, iccid, operator_id, profile_type, eid,"
                " cc_required, cc_failure_limit, download_attempt_limit, expires_at,"
                " state, created_at, updated_at)"
                " VALUES ($1, $2, $3, $4, $5, 0, $6, $7, $8, $9, $10, $11)",
                r.order_id, p.iccid, r.operator_id, p.profile_type, r.eid, r.cc_failure_limit,
                r.download_attempt_limit, r.expires_at, to_string(st), now, now));
            !w) {
            return std::unexpected(w.error());
        }
        if (auto w = set_profile_state(c, p.iccid, st, now); !w) {
            return std::unexpected(w.error());
        }
        if (auto w = add_event(c, r.order_id, now, "created",
                               fmt::format("downloadOrder: {}", to_string(st)));
            !w) {
            return std::unexpected(w.error());
        }
        return load_order(c, r.order_id);
    });
}

result<order_record> postgres_store_impl::confirm_order(const confirm_request& r, time_point now) {
    if (r.matching_id.empty()) {
        return std::unexpected(invalid("matching ID is empty"));
    }
    if (r.eid && !valid_eid(*r.eid)) {
        return std::unexpected(invalid("EID must be 32 digits"));
    }
    if (r.cc_sha256 && r.cc_sha256->size() != 32) {
        return std::unexpected(invalid("confirmation-code hash must be 32 bytes"));
    }
    return write([&](connection& c) -> result<order_record> {
        auto o = lock_order_row(c, r.order_id);
        if (!o) {
            return o;
        }
        if (o->state != order_state::allocated && o->state != order_state::linked) {
            return std::unexpected(state_mismatch(
                fmt::format("confirmOrder on an order that is {}", to_string(o->state))));
        }
        if (o->eid && r.eid && *o->eid != *r.eid) {
            return std::unexpected(state_mismatch("the order is bound to another EID"));
        }
        auto eid = o->eid ? o->eid : r.eid;
        // A matching ID taken by another order (even one committing right
        // now on another node) fails here with a unique violation.
        auto u = c.query("UPDATE orders SET matching_id = $1, eid = $2, cc_sha256 = $3,"
                         " cc_required = $4, smds_address = $5, updated_at = $6"
                         " WHERE order_id = $7",
                         r.matching_id, eid, r.cc_sha256, r.cc_sha256.has_value(), r.smds_address,
                         now, r.order_id);
        if (!u) {
            if (u.error().code == errc::conflict) {
                return std::unexpected(error{errc::conflict, "matching ID already used"});
            }
            return std::unexpected(u.error());
        }
        auto to = r.release ? order_state::released : order_state::confirmed;
        if (auto w = move_order(c, *o, to, now, "confirmed",
                                fmt::format("confirmOrder: {}{}", to_string(to),
                                            r.cc_sha256 ? ", confirmation code required" : ""));
            !w) {
            return std::unexpected(w.error());
        }
        return load_order(c, r.order_id);
    });
}

result<order_record> postgres_store_impl::release_order(std::string_view order_id, time_point now) {
    return write([&](connection& c) -> result<order_record> {
        auto o = lock_order_row(c, order_id);
        if (!o) {
            return o;
        }
        if (o->state != order_state::confirmed) {
            return std::unexpected(state_mismatch(
                fmt::format("releaseProfile on an order that is {}", to_string(o->state))));
        }
        if (auto w = move_order(c, *o, order_state::released, now, "released", "releaseProfile");
            !w) {
            return std::unexpected(w.error());
        }
        return o;
    });
}

result<order_record> postgres_store_impl::cancel_order(std::string_view order_id,
                                                       final_profile_status final_status,
                                                       time_point now) {
    return write([&](connection& c) -> result<order_record> {
        auto o = lock_order_row(c, order_id);
        if (!o) {
            return o;
        }
        if (!before_download(o->state)) {
            return std::unexpected(state_mismatch(
                fmt::format("cancelOrder on an order that is {}", to_string(o->state))));
        }
        if (auto w = done(c.query("UPDATE orders SET state = 'cancelled', updated_at = $1"
                                  " WHERE order_id = $2",
                                  now, order_id));
            !w) {
            return std::unexpected(w.error());
        }
        bool back = final_status == final_profile_status::available;
        if (auto w = set_profile_state(
                c, o->iccid, back ? profile_state::available : profile_state::cancelled, now);
            !w) {
            return std::unexpected(w.error());
        }
        if (auto w = add_event(c, o->order_id, now, "cancelled",
                               back ? "cancelOrder: profile available again"
                                    : "cancelOrder: profile unavailable");
            !w) {
            return std::unexpected(w.error());
        }
        o->state = order_state::cancelled;
        o->updated_at = from_micros(to_micros(now));
        return o;
    });
}

result<order_record> postgres_store_impl::find_order(std::string_view order_id) {
    return read([&](connection& c) { return load_order(c, order_id); });
}

result<order_record> postgres_store_impl::find_order_by_matching_id(std::string_view matching_id) {
    return read([&](connection& c) {
        auto r = c.query("SELECT " ESIMGUARD_PG_ORDER_COLUMNS " FROM orders WHERE matching_id = $1",
                         matching_id);
        return first_row(r, read_order, "order");
    });
}

result<order_record> postgres_store_impl::find_order_by_iccid(std::string_view iccid) {
    return read([&](connection& c) {
        auto r = c.query("SELECT " ESIMGUARD_PG_ORDER_COLUMNS " FROM orders WHERE iccid = $1"
                         " ORDER BY created_at DESC, row_seq DESC LIMIT 1",
                         iccid);
        return first_row(r, read_order, "order");
    });
}

result<std::vector<order_record>> postgres_store_impl::list_orders(const list_filter& f) {
    return read([&](connection& c) {
        std::optional<std::string_view> state;
        if (f.state) {
            state = to_string(*f.state);
        }
        auto r = c.query("SELECT " ESIMGUARD_PG_ORDER_COLUMNS " FROM orders"
                         " WHERE ($1::text IS NULL OR operator_id = $1)"
                         " AND ($2::text IS NULL OR state = $2)"
                         " AND ($3::text IS NULL OR profile_type = $3)"
                         " ORDER BY created_at, row_seq LIMIT $4",
                         f.operator_id, state, f.profile_type, f.limit);
        return every_row<order_record>(r, read_order);
    });
}

result<download_decision> postgres_store_impl::begin_download(std::string_view matching_id,
                                                              std::string_view eid,
                                                              time_point now) {
    return write([&](connection& c) -> result<download_decision> {
        // The row lock is what makes 100 devices racing for one matching ID
        // on three nodes take turns: each reads the attempts the previous
        // one committed.
        auto s = c.query("SELECT " ESIMGUARD_PG_ORDER_COLUMNS
                         " FROM orders WHERE matching_id = $1 FOR UPDATE",
                         matching_id);
        auto o = first_row(s, read_order, "order");
        if (!o) {
            if (o.error().code == errc::not_found) {
                return download_decision{download_refusal::unknown_matching_id, std::nullopt};
            }
            return std::unexpected(o.error());
        }
        auto refuse = [&](download_refusal why) -> result<download_decision> {
            if (auto w = add_event(c, o->order_id, now, "download_refused", to_string(why)); !w) {
                return std::unexpected(w.error());
            }
            return download_decision{why, std::move(*o)};
        };
        switch (o->state) {
        case order_state::released:
            break;
        case order_state::cancelled:
            return refuse(download_refusal::cancelled);
        case order_state::expired:
            return refuse(download_refusal::expired);
        case order_state::downloaded:
        case order_state::installed:
        case order_state::enabled:
        case order_state::disabled:
        case order_state::deleted:
            return refuse(download_refusal::already_downloaded);
        default:
            return refuse(download_refusal::not_released);
        }
        if (o->locked) {
            return refuse(download_refusal::locked);
        }
        if (now >= o->expires_at) {
            if (auto w = move_order(c, *o, order_state::expired, now, "expired",
                                    "expired at a download attempt");
                !w) {
                return std::unexpected(w.error());
            }
            return refuse(download_refusal::expired);
        }
        // Before the attempt count: another device must not use up the
        // rightful device's attempts.
        if (o->eid && *o->eid != eid) {
            return refuse(download_refusal::eid_mismatch);
        }
        if (o->download_attempts >= o->download_attempt_limit) {
            return refuse(download_refusal::attempts_exceeded);
        }
        if (auto w = done(c.query("UPDATE orders SET download_attempts = download_attempts + 1,"
                                  " updated_at = $1 WHERE order_id = $2",
                                  now, o->order_id));
            !w) {
            return std::unexpected(w.error());
        }
        o->download_attempts += 1;
        o->updated_at = from_micros(to_micros(now));
        if (auto w = add_event(
                c, o->order_id, now, "download_started",
                fmt::format("attempt {} of {}", o->download_attempts, o->download_attempt_limit));
            !w) {
            return std::unexpected(w.error());
        }
        return download_decision{std::nullopt, std::move(*o)};
    });
}

result<cc_failure_outcome> postgres_store_impl::record_cc_failure(std::string_view order_id,
                                                                  time_point now) {
    return write([&](connection& c) -> result<cc_failure_outcome> {
        auto o = lock_order_row(c, order_id);
        if (!o) {
            return std::unexpected(o.error());
        }
        if (o->locked) {
            return cc_failure_outcome{o->cc_failures, o->cc_failure_limit, true};
        }
        int n = o->cc_failures + 1;
        bool lock = n >= o->cc_failure_limit;
        std::optional<std::string_view> reason;
        if (lock) {
            reason = cc_lock_reason;
        }
        if (auto w = done(c.query("UPDATE orders SET cc_failures = $1, locked = $2,"
                                  " lock_reason = coalesce($3, lock_reason),"
                                  " updated_at = $4 WHERE order_id = $5",
                                  n, lock, reason, now, order_id));
            !w) {
            return std::unexpected(w.error());
        }
        if (auto w = add_event(c, order_id, now, "cc_failure",
                               fmt::format("{} of {}", n, o->cc_failure_limit));
            !w) {
            return std::unexpected(w.error());
        }
        if (lock) {
            if (auto w = add_event(c, order_id, now, "locked", cc_lock_reason); !w) {
                return std::unexpected(w.error());
            }
        }
        return cc_failure_outcome{n, o->cc_failure_limit, lock};
    });
}

result<order_record> postgres_store_impl::transition_order(std::string_view order_id,
                                                           std::span<const order_state> from,
                                                           order_state to, time_point now) {
    if (to == order_state::available) {
        return std::unexpected(invalid("an order is never available"));
    }
    return write([&](connection& c) { return transition_in(c, order_id, from, to, now); });
}

result<order_record> postgres_store_impl::claim_order_for_session(std::string_view order_id,
                                                                  std::string_view transaction_id,
                                                                  session_state expected,
                                                                  const session_update& u,
                                                                  time_point now) {
    return write([&](connection& c) -> result<order_record> {
        const std::array from{order_state::released};
        auto o = transition_in(c, order_id, from, order_state::downloaded, now);
        if (!o) {
            return o;
        }
        // A refused session guard fails the transaction: the claim above is
        // rolled back with it.
        if (auto s = update_session_in(c, transaction_id, expected, u, now); !s) {
            return std::unexpected(s.error());
        }
        return o;
    });
}

result<order_record> postgres_store_impl::transition_order_ending_session(
    std::string_view order_id, std::span<const order_state> from, order_state to,
    std::string_view transaction_id, std::string_view end_reason, time_point now) {
    if (to == order_state::available) {
        return std::unexpected(invalid("an order is never available"));
    }
    return write([&](connection& c) -> result<order_record> {
        auto o = transition_in(c, order_id, from, to, now);
        if (!o) {
            return o;
        }
        // A session already ended keeps its end: no row, no error.
        if (auto e = end_session_in(c, transaction_id, end_reason, now); !e) {
            return std::unexpected(e.error());
        }
        return o;
    });
}

result<order_record> postgres_store_impl::lock_order(std::string_view order_id,
                                                     std::string_view reason, time_point now) {
    return write([&](connection& c) -> result<order_record> {
        auto o = lock_order_row(c, order_id);
        if (!o || o->locked) {
            return o;
        }
        if (auto w = done(c.query("UPDATE orders SET locked = 1, lock_reason = $1, updated_at = $2"
                                  " WHERE order_id = $3",
                                  reason, now, order_id));
            !w) {
            return std::unexpected(w.error());
        }
        if (auto w = add_event(c, order_id, now, "locked", reason); !w) {
            return std::unexpected(w.error());
        }
        return load_order(c, order_id);
    });
}

result<order_record> postgres_store_impl::unlock_order(std::string_view order_id, time_point now) {
    return write([&](connection& c) -> result<order_record> {
        auto o = lock_order_row(c, order_id);
        if (!o || !o->locked) {
            return o;
        }
        if (auto w = done(c.query("UPDATE orders SET locked = 0, lock_reason = NULL,"
                                  " cc_failures = 0, updated_at = $1 WHERE order_id = $2",
                                  now, order_id));
            !w) {
            return std::unexpected(w.error());
        }
        if (auto w = add_event(c, order_id, now, "unlocked", ""); !w) {
            return std::unexpected(w.error());
        }
        return load_order(c, order_id);
    });
}

result<std::vector<order_record>> postgres_store_impl::expire_orders(time_point now) {
    return write([&](connection& c) -> result<std::vector<order_record>> {
        // SKIP LOCKED: every node runs this housekeeping; an order another
        // transaction holds is left to that one or to the next sweep instead
        // of blocking the sweeper.
        auto s = c.query("SELECT " ESIMGUARD_PG_ORDER_COLUMNS " FROM orders"
                         " WHERE state IN ('allocated', 'linked', 'confirmed', 'released')"
                         " AND expires_at <= $1 ORDER BY expires_at, row_seq"
                         " FOR UPDATE SKIP LOCKED",
                         now);
        auto due = every_row<order_record>(s, read_order);
        if (!due) {
            return due;
        }
        for (auto& o : *due) {
            if (auto w = move_order(c, o, order_state::expired, now, "expired", "order expired");
                !w) {
                return std::unexpected(w.error());
            }
        }
        return due;
    });
}

result<void> postgres_store_impl::add_order_event(std::string_view order_id, time_point at,
                                                  std::string_view name, std::string_view detail) {
    return read([&](connection& c) { return add_event(c, order_id, at, name, detail); });
}

result<std::vector<order_event>> postgres_store_impl::list_order_events(std::string_view order_id) {
    return read([&](connection& c) {
        auto r = c.query("SELECT id, order_id, at, name, detail FROM order_events"
                         " WHERE order_id = $1 ORDER BY id",
                         order_id);
        return every_row<order_event>(r, [](const rows& row) -> result<order_event> {
            return order_event{row.int64(0), row.text(1), row.time(2), row.text(3), row.text(4)};
        });
    });
}

} // namespace esimguard::store::postgres
