// The SQLite defence store (issue 4): blocklist, stolen devices, alerts
// inbox, subscribers and lines, step-up approvals. Every call is one
// transaction; the compare-and-set calls (TOTP step, approvals) are single
// conditional UPDATEs, so two threads or two processes racing on one code
// cannot both win.

#include "esimguard/store/defense_store.hpp"
#include "sqlite/db.hpp"
#include "sqlite/migrations.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <climits>
#include <utility>

namespace esimguard::store {

namespace {

constexpr std::array<std::pair<approval_state, std::string_view>, 4> approval_names{{
    {approval_state::pending, "pending"},
    {approval_state::approved, "approved"},
    {approval_state::refused, "refused"},
    {approval_state::expired, "expired"},
}};

} // namespace

std::string_view to_string(approval_state s) {
    for (const auto& [v, n] : approval_names) {
        if (v == s) {
            return n;
        }
    }
    return "unknown";
}

std::optional<approval_state> approval_state_from_string(std::string_view s) {
    for (const auto& [v, n] : approval_names) {
        if (n == s) {
            return v;
        }
    }
    return std::nullopt;
}

} // namespace esimguard::store

namespace esimguard::store::sqlite {

namespace {

std::int64_t sql_limit(std::size_t n) {
    return static_cast<std::int64_t>(std::min<std::size_t>(n, INT64_MAX));
}

/// Runs a prepared statement and collects one value per row.
template <class Read, class Bind>
auto read_rows(connection& c, std::string_view sql, Bind&& bind, Read&& read)
    -> result<std::vector<decltype(read(std::declval<const statement&>()))>> {
    using T = decltype(read(std::declval<const statement&>()));
    auto s = c.prepare(sql);
    if (!s) {
        return std::unexpected(s.error());
    }
    bind(*s);
    std::vector<T> out;
    for (;;) {
        auto row = s->step();
        if (!row) {
            return std::unexpected(row.error());
        }
        if (!*row) {
            return out;
        }
        out.push_back(read(*s));
    }
}

/// One row or not_found(what).
template <class Read, class Bind>
auto read_one(connection& c, std::string_view sql, std::string_view what, Bind&& bind, Read&& read)
    -> result<decltype(read(std::declval<const statement&>()))> {
    auto rows = read_rows(c, sql, std::forward<Bind>(bind), std::forward<Read>(read));
    if (!rows) {
        return std::unexpected(rows.error());
    }
    if (rows->empty()) {
        return std::unexpected(not_found(what));
    }
    return std::move(rows->front());
}

/// Runs a write; the number of rows it changed.
template <class Bind>
result<int> write(connection& c, std::string_view sql, Bind&& bind) {
    auto s = c.prepare(sql);
    if (!s) {
        return std::unexpected(s.error());
    }
    bind(*s);
    if (auto r = s->run(); !r) {
        return std::unexpected(r.error());
    }
    return c.changes();
}

std::optional<time_point> opt_time(const statement& s, int col) {
    if (s.is_null(col)) {
        return std::nullopt;
    }
    return s.time(col);
}

blocklist_row read_block(const statement& s) {
    return {s.text(0), s.text(1), s.text(2), s.time(3), opt_time(s, 4), s.text(5)};
}

stolen_row read_stolen(const statement& s) {
    return {s.text(0), s.text(1), s.time(2), s.text(3)};
}

constexpr const char* alert_columns =
    "SELECT id, at, severity, rule, summary, body, subscriber_id, operator_id, iccid, eid, "
    "acknowledged_at, acknowledged_by FROM alerts ";

alert_row read_alert(const statement& s) {
    alert_row a;
    a.id = s.text(0);
    a.at = s.time(1);
    a.severity = s.text(2);
    a.rule = s.text(3);
    a.summary = s.text(4);
    a.json = s.text(5);
    a.subscriber_id = s.opt_text(6);
    a.operator_id = s.opt_text(7);
    a.iccid = s.opt_text(8);
    a.eid = s.opt_text(9);
    a.acknowledged_at = opt_time(s, 10);
    a.acknowledged_by = s.opt_text(11);
    return a;
}

constexpr const char* subscriber_columns =
    "SELECT id, display_name, email, operator_id, totp_secret, totp_last_step, created_at "
    "FROM subscribers ";

subscriber_record read_subscriber(const statement& s) {
    subscriber_record r;
    r.id = s.text(0);
    r.display_name = s.text(1);
    r.email = s.text(2);
    r.operator_id = s.opt_text(3);
    r.totp_secret = s.opt_blob(4);
    if (!s.is_null(5)) {
        r.totp_last_step = s.int64(5);
    }
    r.created_at = s.time(6);
    return r;
}

constexpr const char* line_columns =
    "SELECT iccid, subscriber_id, frozen, frozen_reason, frozen_at, step_up_on_new_eid, "
    "linked_at FROM lines ";

line_record read_line(const statement& s) {
    line_record l;
    l.iccid = s.text(0);
    l.subscriber_id = s.text(1);
    l.frozen = s.boolean(2);
    l.frozen_reason = s.opt_text(3);
    l.frozen_at = opt_time(s, 4);
    l.step_up_on_new_eid = s.boolean(5);
    l.linked_at = s.time(6);
    return l;
}

constexpr const char* approval_columns =
    "SELECT id, order_id, iccid, subscriber_id, eid, rule, state, code_salt, code_mac, "
    "code_attempts, code_max_attempts, code_used, created_at, expires_at, decided_at, "
    "decided_by FROM approvals ";

approval_record read_approval(const statement& s) {
    approval_record a;
    a.id = s.text(0);
    a.order_id = s.text(1);
    a.iccid = s.text(2);
    a.subscriber_id = s.text(3);
    a.eid = s.text(4);
    a.rule = s.text(5);
    // The CHECK constraint keeps the column to known names.
    a.state = approval_state_from_string(s.text(6)).value_or(approval_state::expired);
    a.code_salt = s.blob(7);
    a.code_mac = s.blob(8);
    a.code_attempts = s.integer(9);
    a.code_max_attempts = s.integer(10);
    a.code_used = s.boolean(11);
    a.created_at = s.time(12);
    a.expires_at = s.time(13);
    a.decided_at = opt_time(s, 14);
    a.decided_by = s.opt_text(15);
    return a;
}

class sqlite_defense_store_impl final : public defense_store {
public:
    explicit sqlite_defense_store_impl(std::vector<std::unique_ptr<connection>> conns)
        : pool_(std::move(conns)) {}

    // ---- blocklist and stolen devices ----------------------------------

    result<std::vector<blocklist_row>> load_blocklist() override {
        return in_transaction(pool_, false, [](connection& c) {
            return read_rows(
                c,
                "SELECT kind, value, reason, created_at, expires_at, created_by FROM blocklist "
                "ORDER BY created_at, kind, value",
                [](statement&) {}, read_block);
        });
    }

    result<void> save_block(const blocklist_row& row) override {
        return in_transaction(pool_, true, [&](connection& c) -> result<void> {
            // Upsert rather than INSERT OR REPLACE: the same statement works
            // on PostgreSQL.
            auto n = write(c,
                           "INSERT INTO blocklist (kind, value, reason, created_at, expires_at, "
                           "created_by) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (kind, value) DO "
                           "UPDATE SET reason = excluded.reason, created_at = excluded.created_at, "
                           "expires_at = excluded.expires_at, created_by = excluded.created_by",
                           [&](statement& s) {
                               s.bind(row.kind, row.value, row.reason, row.created, row.expires,
                                      row.created_by);
                           });
            if (!n) {
                return std::unexpected(n.error());
            }
            return {};
        });
    }

    result<void> remove_block(std::string_view kind, std::string_view value) override {
        return in_transaction(pool_, true, [&](connection& c) -> result<void> {
            auto n = write(c, "DELETE FROM blocklist WHERE kind = ? AND value = ?",
                           [&](statement& s) { s.bind(kind, value); });
            if (!n) {
                return std::unexpected(n.error());
            }
            if (*n == 0) {
                return std::unexpected(not_found("blocklist entry"));
            }
            return {};
        });
    }

    result<std::vector<stolen_row>> load_stolen() override {
        return in_transaction(pool_, false, [](connection& c) {
            return read_rows(
                c,
                "SELECT eid, reason, reported_at, reported_by FROM stolen_devices "
                "ORDER BY reported_at, eid",
                [](statement&) {}, read_stolen);
        });
    }

    result<void> save_stolen(const stolen_row& row) override {
        return in_transaction(pool_, true, [&](connection& c) -> result<void> {
            auto n = write(
                c,
                "INSERT INTO stolen_devices (eid, reason, reported_at, reported_by) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (eid) DO UPDATE SET "
                "reason = excluded.reason, reported_at = excluded.reported_at, "
                "reported_by = excluded.reported_by",
                [&](statement& s) { s.bind(row.eid, row.reason, row.reported, row.reported_by); });
            if (!n) {
                return std::unexpected(n.error());
            }
            return {};
        });
    }

    result<void> remove_stolen(std::string_view eid) override {
        return in_transaction(pool_, true, [&](connection& c) -> result<void> {
            auto n = write(c, "DELETE FROM stolen_devices WHERE eid = ?",
                           [&](statement& s) { s.bind(eid); });
            if (!n) {
                return std::unexpected(n.error());
            }
            if (*n == 0) {
                return std::unexpected(not_found("stolen device"));
            }
            return {};
        });
    }

    // ---- alerts inbox ---------------------------------------------------

    result<void> add_alert(const alert_row& a) override {
        return in_transaction(pool_, true, [&](connection& c) -> result<void> {
            auto n = write(c,
                           "INSERT INTO alerts (id, at, severity, rule, summary, body, "
                           "subscriber_id, operator_id, iccid, eid, acknowledged_at, "
                           "acknowledged_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           [&](statement& s) {
                               s.bind(a.id, a.at, a.severity, a.rule, a.summary, a.json,
                                      a.subscriber_id, a.operator_id, a.iccid, a.eid,
                                      a.acknowledged_at, a.acknowledged_by);
                           });
            if (!n) {
                return std::unexpected(n.error());
            }
            return {};
        });
    }

    result<std::vector<alert_row>> list_alerts(const alert_query& q) override {
        return in_transaction(pool_, false, [&](connection& c) {
            return read_rows(
                c,
                std::string(alert_columns) + "WHERE (?1 IS NULL OR subscriber_id = ?1) "
                                             "AND (?2 IS NULL OR operator_id = ?2) "
                                             "AND (?3 IS NULL OR iccid = ?3) "
                                             "AND (?4 IS NULL OR severity = ?4) "
                                             "AND (?5 = 0 OR acknowledged_at IS NULL) "
                                             "ORDER BY at DESC, id DESC LIMIT ?6",
                [&](statement& s) {
                    s.bind(q.subscriber_id, q.operator_id, q.iccid, q.severity,
                           q.unacknowledged_only, sql_limit(q.limit));
                },
                read_alert);
        });
    }

    result<alert_row> acknowledge_alert(std::string_view id, std::string_view by,
                                        time_point now) override {
        return in_transaction(pool_, true, [&](connection& c) -> result<alert_row> {
            // "Acknowledging twice keeps the first": only an unacknowledged
            // row is written.
            auto n = write(c,
                           "UPDATE alerts SET acknowledged_at = ?, acknowledged_by = ? "
                           "WHERE id = ? AND acknowledged_at IS NULL",
                           [&](statement& s) { s.bind(now, by, id); });
            if (!n) {
                return std::unexpected(n.error());
            }
            return read_one(
                c, std::string(alert_columns) + "WHERE id = ?", "alert",
                [&](statement& s) { s.bind(id); }, read_alert);
        });
    }

    // ---- subscribers and lines -----------------------------------------

    result<void> add_subscriber(const subscriber_record& r) override {
        return in_transaction(pool_, true, [&](connection& c) -> result<void> {
            auto n = write(c,
                           "INSERT INTO subscribers (id, display_name, email, operator_id, "
                           "totp_secret, totp_last_step, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                           [&](statement& s) {
                               s.bind(r.id, r.display_name, r.email, r.operator_id, r.totp_secret,
                                      r.totp_last_step, r.created_at);
                           });
            if (!n) {
                return std::unexpected(n.error());
            }
            return {};
        });
    }

    result<subscriber_record> find_subscriber(std::string_view id) override {
        return in_transaction(pool_, false, [&](connection& c) {
            return read_one(
                c, std::string(subscriber_columns) + "WHERE id = ?", "subscriber",
                [&](statement& s) { s.bind(id); }, read_subscriber);
        });
    }

    result<std::vector<subscriber_record>> list_subscribers() override {
        return in_transaction(pool_, false, [&](connection& c) {
            return read_rows(
                c, std::string(subscriber_columns) + "ORDER BY id", [](statement&) {},
                read_subscriber);
        });
    }

    result<void> set_totp_secret(std::string_view subscriber_id,
                                 std::optional<bytes> secret) override {
        return in_transaction(pool_, true, [&](connection& c) -> result<void> {
            auto n = write(c,
                           "UPDATE subscribers SET totp_secret = ?, totp_last_step = NULL "
                           "WHERE id = ?",
                           [&](statement& s) { s.bind(secret, subscriber_id); });
            if (!n) {
                return std::unexpected(n.error());
            }
            if (*n == 0) {
                return std::unexpected(not_found("subscriber"));
            }
            return {};
        });
    }

    result<void> advance_totp_step(std::string_view subscriber_id,
                                   std::optional<std::int64_t> expected,
                                   std::int64_t step) override {
        return in_transaction(pool_, true, [&](connection& c) -> result<void> {
            // IS compares NULL to NULL as equal, so "never used" is a value
            // the caller can expect like any other.
            auto n = write(c,
                           "UPDATE subscribers SET totp_last_step = ?1 "
                           "WHERE id = ?2 AND ((?3 IS NULL AND totp_last_step IS NULL) "
                           "OR totp_last_step = ?3)",
                           [&](statement& s) { s.bind(step, subscriber_id, expected); });
            if (!n) {
                return std::unexpected(n.error());
            }
            if (*n == 1) {
                return {};
            }
            auto exists = read_rows(
                c, "SELECT 1 FROM subscribers WHERE id = ?",
                [&](statement& s) { s.bind(subscriber_id); },
                [](const statement& s) { return s.int64(0); });
            if (!exists) {
                return std::unexpected(exists.error());
            }
            if (exists->empty()) {
                return std::unexpected(not_found("subscriber"));
            }
            return std::unexpected(state_mismatch("TOTP step was moved by another verification"));
        });
    }

    result<line_record> link_line(std::string_view iccid, std::string_view subscriber_id,
                                  bool step_up_on_new_eid, time_point now) override {
        return in_transaction(pool_, true, [&](connection& c) -> result<line_record> {
            auto n = write(
                c,
                "INSERT INTO lines (iccid, subscriber_id, frozen, step_up_on_new_eid, linked_at) "
                "VALUES (?, ?, 0, ?, ?) ON CONFLICT (iccid) DO UPDATE SET "
                "subscriber_id = excluded.subscriber_id, "
                "step_up_on_new_eid = excluded.step_up_on_new_eid, linked_at = excluded.linked_at",
                [&](statement& s) { s.bind(iccid, subscriber_id, step_up_on_new_eid, now); });
            if (!n) {
                // The foreign key names the missing subscriber.
                if (n.error().code == errc::not_found) {
                    return std::unexpected(not_found("subscriber"));
                }
                return std::unexpected(n.error());
            }
            return line_in(c, iccid);
        });
    }

    result<line_record> find_line(std::string_view iccid) override {
        return in_transaction(pool_, false, [&](connection& c) { return line_in(c, iccid); });
    }

    result<std::vector<line_record>> list_lines(std::string_view subscriber_id) override {
        return in_transaction(pool_, false, [&](connection& c) -> result<std::vector<line_record>> {
            auto lines = read_rows(
                c, std::string(line_columns) + "WHERE subscriber_id = ? ORDER BY iccid",
                [&](statement& s) { s.bind(subscriber_id); }, read_line);
            if (!lines) {
                return std::unexpected(lines.error());
            }
            for (auto& l : *lines) {
                auto eids = known_eids(c, l.iccid);
                if (!eids) {
                    return std::unexpected(eids.error());
                }
                l.known_eids = std::move(*eids);
            }
            return lines;
        });
    }

    result<line_record> set_line_frozen(std::string_view iccid, std::optional<std::string> reason,
                                        time_point now) override {
        return in_transaction(pool_, true, [&](connection& c) -> result<line_record> {
            std::optional<time_point> at;
            if (reason) {
                at = now;
            }
            auto n = write(c,
                           "UPDATE lines SET frozen = ?, frozen_reason = ?, frozen_at = ? "
                           "WHERE iccid = ?",
                           [&](statement& s) { s.bind(reason.has_value(), reason, at, iccid); });
            if (!n) {
                return std::unexpected(n.error());
            }
            if (*n == 0) {
                return std::unexpected(not_found("line"));
            }
            return line_in(c, iccid);
        });
    }

    result<line_record> set_step_up_on_new_eid(std::string_view iccid, bool on) override {
        return in_transaction(pool_, true, [&](connection& c) -> result<line_record> {
            auto n = write(c, "UPDATE lines SET step_up_on_new_eid = ? WHERE iccid = ?",
                           [&](statement& s) { s.bind(on, iccid); });
            if (!n) {
                return std::unexpected(n.error());
            }
            if (*n == 0) {
                return std::unexpected(not_found("line"));
            }
            return line_in(c, iccid);
        });
    }

    result<void> add_known_eid(std::string_view iccid, std::string_view eid) override {
        return in_transaction(pool_, true, [&](connection& c) -> result<void> {
            auto n = write(c,
                           "INSERT INTO line_known_eids (iccid, eid) VALUES (?, ?) "
                           "ON CONFLICT (iccid, eid) DO NOTHING",
                           [&](statement& s) { s.bind(iccid, eid); });
            if (!n) {
                if (n.error().code == errc::not_found) {
                    return std::unexpected(not_found("line"));
                }
                return std::unexpected(n.error());
            }
            return {};
        });
    }

    // ---- step-up approvals ----------------------------------------------

    result<void> add_approval(const approval_record& a) override {
        return in_transaction(pool_, true, [&](connection& c) -> result<void> {
            auto n = write(c,
                           "INSERT INTO approvals (id, order_id, iccid, subscriber_id, eid, rule, "
                           "state, code_salt, code_mac, code_attempts, code_max_attempts, "
                           "code_used, created_at, expires_at, decided_at, decided_by) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           [&](statement& s) {
                               s.bind(a.id, a.order_id, a.iccid, a.subscriber_id, a.eid, a.rule,
                                      to_string(a.state), a.code_salt, a.code_mac, a.code_attempts,
                                      a.code_max_attempts, a.code_used, a.created_at, a.expires_at,
                                      a.decided_at, a.decided_by);
                           });
            if (!n) {
                if (n.error().code == errc::not_found) {
                    return std::unexpected(not_found("subscriber"));
                }
                return std::unexpected(n.error());
            }
            return {};
        });
    }

    result<approval_record> find_approval(std::string_view id) override {
        return in_transaction(pool_, false, [&](connection& c) {
            return read_one(
                c, std::string(approval_columns) + "WHERE id = ?", "approval",
                [&](statement& s) { s.bind(id); }, read_approval);
        });
    }

    result<approval_record> find_approval_for(std::string_view order_id,
                                              std::string_view eid) override {
        return in_transaction(pool_, false, [&](connection& c) {
            // rowid breaks ties between approvals created in the same
            // microsecond (injected clocks in tests do that).
            return read_one(
                c,
                std::string(approval_columns) + "WHERE order_id = ? AND eid = ? "
                                                "ORDER BY created_at DESC, rowid DESC LIMIT 1",
                "approval", [&](statement& s) { s.bind(order_id, eid); }, read_approval);
        });
    }

    result<std::vector<approval_record>> list_approvals(std::string_view subscriber_id,
                                                        bool pending_only) override {
        return in_transaction(pool_, false, [&](connection& c) {
            return read_rows(
                c,
                std::string(approval_columns) +
                    "WHERE subscriber_id = ? AND (? = 0 OR state = 'pending') "
                    "ORDER BY created_at DESC, rowid DESC",
                [&](statement& s) { s.bind(subscriber_id, pending_only); }, read_approval);
        });
    }

    result<approval_record> update_approval(const approval_record& expected,
                                            const approval_record& next) override {
        if (expected.id != next.id) {
            return std::unexpected(invalid("update_approval: expected and next differ in id"));
        }
        return in_transaction(pool_, true, [&](connection& c) -> result<approval_record> {
            auto n = write(c,
                           "UPDATE approvals SET state = ?, code_attempts = ?, code_used = ?, "
                           "decided_at = ?, decided_by = ?, expires_at = ? "
                           "WHERE id = ? AND state = ? AND code_attempts = ? AND code_used = ?",
                           [&](statement& s) {
                               s.bind(to_string(next.state), next.code_attempts, next.code_used,
                                      next.decided_at, next.decided_by, next.expires_at, next.id,
                                      to_string(expected.state), expected.code_attempts,
                                      expected.code_used);
                           });
            if (!n) {
                return std::unexpected(n.error());
            }
            auto now = read_one(
                c, std::string(approval_columns) + "WHERE id = ?", "approval",
                [&](statement& s) { s.bind(next.id); }, read_approval);
            if (!now) {
                return now;
            }
            if (*n == 0) {
                return std::unexpected(
                    state_mismatch("approval was changed by another attempt; read it again"));
            }
            return now;
        });
    }

private:
    static result<std::vector<std::string>> known_eids(connection& c, std::string_view iccid) {
        return read_rows(
            c, "SELECT eid FROM line_known_eids WHERE iccid = ? ORDER BY eid",
            [&](statement& s) { s.bind(iccid); }, [](const statement& s) { return s.text(0); });
    }

    static result<line_record> line_in(connection& c, std::string_view iccid) {
        auto l = read_one(
            c, std::string(line_columns) + "WHERE iccid = ?", "line",
            [&](statement& s) { s.bind(iccid); }, read_line);
        if (!l) {
            return l;
        }
        auto eids = known_eids(c, iccid);
        if (!eids) {
            return std::unexpected(eids.error());
        }
        l->known_eids = std::move(*eids);
        return l;
    }

    pool pool_;
};

} // namespace

} // namespace esimguard::store::sqlite

namespace esimguard::store {

result<std::unique_ptr<defense_store>> create_sqlite_defense_store(const sqlite_config& config) {
    auto conns = sqlite::open_migrated_connections(config);
    if (!conns) {
        return std::unexpected(conns.error());
    }
    return std::make_unique<sqlite::sqlite_defense_store_impl>(std::move(*conns));
}

} // namespace esimguard::store
