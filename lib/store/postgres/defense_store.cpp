// The defence store on PostgreSQL (issue 4 state shared by every node):
// blocklist and stolen rows as upserts (INSERT … ON CONFLICT), the TOTP step
// and approvals as single conditional UPDATEs, so that one code is accepted
// once across all nodes.

#include "esimguard/store/defense_store.hpp"
#include "postgres/migrations.hpp"
#include "postgres/pg.hpp"

#include <algorithm>
#include <climits>

namespace esimguard::store::postgres {

namespace {

std::int64_t sql_limit(std::size_t n) {
    return static_cast<std::int64_t>(std::min<std::size_t>(n, INT64_MAX));
}

/// Every row of `r` read by `read`.
template <class Read>
auto all_of_rows(result<rows>& r, Read&& read)
    -> result<std::vector<decltype(read(std::declval<const rows&>()))>> {
    using T = decltype(read(std::declval<const rows&>()));
    if (!r) {
        return std::unexpected(r.error());
    }
    std::vector<T> out;
    out.reserve(static_cast<std::size_t>(r->size()));
    for (int i = 0; i < r->size(); ++i) {
        out.push_back(read(r->at(i)));
    }
    return out;
}

template <class Read>
auto one_of_rows(result<rows>& r, Read&& read, std::string_view what)
    -> result<decltype(read(std::declval<const rows&>()))> {
    if (!r) {
        return std::unexpected(r.error());
    }
    if (r->empty()) {
        return std::unexpected(not_found(what));
    }
    return read(r->at(0));
}

/// The rows a write changed, or its error.
result<int> changed(const result<rows>& r) {
    if (!r) {
        return std::unexpected(r.error());
    }
    return r->affected();
}

blocklist_row read_block(const rows& r) {
    return {r.text(0), r.text(1), r.text(2), r.time(3), r.opt_time(4), r.text(5)};
}

stolen_row read_stolen(const rows& r) {
    return {r.text(0), r.text(1), r.time(2), r.text(3)};
}

#define ESIMGUARD_PG_ALERT_SELECT                                                                  \
    "SELECT id, at, severity, rule, summary, body, subscriber_id, operator_id, iccid, eid, "       \
    "acknowledged_at, acknowledged_by FROM alerts "

alert_row read_alert(const rows& r) {
    alert_row a;
    a.id = r.text(0);
    a.at = r.time(1);
    a.severity = r.text(2);
    a.rule = r.text(3);
    a.summary = r.text(4);
    a.json = r.text(5);
    a.subscriber_id = r.opt_text(6);
    a.operator_id = r.opt_text(7);
    a.iccid = r.opt_text(8);
    a.eid = r.opt_text(9);
    a.acknowledged_at = r.opt_time(10);
    a.acknowledged_by = r.opt_text(11);
    return a;
}

#define ESIMGUARD_PG_SUBSCRIBER_SELECT                                                             \
    "SELECT id, display_name, email, operator_id, totp_secret, totp_last_step, created_at "        \
    "FROM subscribers "

subscriber_record read_subscriber(const rows& r) {
    subscriber_record s;
    s.id = r.text(0);
    s.display_name = r.text(1);
    s.email = r.text(2);
    s.operator_id = r.opt_text(3);
    s.totp_secret = r.opt_blob(4);
    s.totp_last_step = r.opt_int64(5);
    s.created_at = r.time(6);
    return s;
}

#define ESIMGUARD_PG_LINE_SELECT                                                                   \
    "SELECT iccid, subscriber_id, frozen, frozen_reason, frozen_at, step_up_on_new_eid, "          \
    "linked_at FROM lines "

line_record read_line(const rows& r) {
    line_record l;
    l.iccid = r.text(0);
    l.subscriber_id = r.text(1);
    l.frozen = r.boolean(2);
    l.frozen_reason = r.opt_text(3);
    l.frozen_at = r.opt_time(4);
    l.step_up_on_new_eid = r.boolean(5);
    l.linked_at = r.time(6);
    return l;
}

#define ESIMGUARD_PG_APPROVAL_SELECT                                                               \
    "SELECT id, order_id, iccid, subscriber_id, eid, rule, state, code_salt, code_mac, "           \
    "code_attempts, code_max_attempts, code_used, created_at, expires_at, decided_at, "            \
    "decided_by FROM approvals "

approval_record read_approval(const rows& r) {
    approval_record a;
    a.id = r.text(0);
    a.order_id = r.text(1);
    a.iccid = r.text(2);
    a.subscriber_id = r.text(3);
    a.eid = r.text(4);
    a.rule = r.text(5);
    // The CHECK constraint keeps the column to known names.
    a.state = approval_state_from_string(r.text(6)).value_or(approval_state::expired);
    a.code_salt = r.blob(7);
    a.code_mac = r.blob(8);
    a.code_attempts = r.integer(9);
    a.code_max_attempts = r.integer(10);
    a.code_used = r.boolean(11);
    a.created_at = r.time(12);
    a.expires_at = r.time(13);
    a.decided_at = r.opt_time(14);
    a.decided_by = r.opt_text(15);
    return a;
}

class postgres_defense_store_impl final : public defense_store {
public:
    explicit postgres_defense_store_impl(postgres_config config) : pool_(std::move(config)) {}

    // ---- blocklist and stolen devices ----------------------------------

    result<std::vector<blocklist_row>> load_blocklist() override {
        return single_statement(pool_, [](connection& c) {
            auto r = c.query("SELECT kind, value, reason, created_at, expires_at, created_by"
                             " FROM blocklist ORDER BY created_at, kind, value");
            return all_of_rows(r, read_block);
        });
    }

    result<void> save_block(const blocklist_row& row) override {
        return single_statement(pool_, [&](connection& c) -> result<void> {
            auto n = changed(c.query(
                "INSERT INTO blocklist (kind, value, reason, created_at, expires_at, created_by)"
                " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (kind, value) DO UPDATE SET"
                " reason = excluded.reason, created_at = excluded.created_at,"
                " expires_at = excluded.expires_at, created_by = excluded.created_by",
                row.kind, row.value, row.reason, row.created, row.expires, row.created_by));
            if (!n) {
                return std::unexpected(n.error());
            }
            return {};
        });
    }

    result<void> remove_block(std::string_view kind, std::string_view value) override {
        return single_statement(pool_, [&](connection& c) -> result<void> {
            auto n = changed(
                c.query("DELETE FROM blocklist WHERE kind = $1 AND value = $2", kind, value));
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
        return single_statement(pool_, [](connection& c) {
            auto r = c.query("SELECT eid, reason, reported_at, reported_by FROM stolen_devices"
                             " ORDER BY reported_at, eid");
            return all_of_rows(r, read_stolen);
        });
    }

    result<void> save_stolen(const stolen_row& row) override {
        return single_statement(pool_, [&](connection& c) -> result<void> {
            auto n =
                changed(c.query("INSERT INTO stolen_devices (eid, reason, reported_at, reported_by)"
                                " VALUES ($1, $2, $3, $4) ON CONFLICT (eid) DO UPDATE SET"
                                " reason = excluded.reason, reported_at = excluded.reported_at,"
                                " reported_by = excluded.reported_by",
                                row.eid, row.reason, row.reported, row.reported_by));
            if (!n) {
                return std::unexpected(n.error());
            }
            return {};
        });
    }

    result<void> remove_stolen(std::string_view eid) override {
        return single_statement(pool_, [&](connection& c) -> result<void> {
            auto n = changed(c.query("DELETE FROM stolen_devices WHERE eid = $1", eid));
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
        return single_statement(pool_, [&](connection& c) -> result<void> {
            auto n = changed(c.query("INSERT INTO alerts (id, at, severity, rule, summary, body,"
                                     " subscriber_id, operator_id, iccid, eid, acknowledged_at,"
                                     " acknowledged_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8,"
                                     " $9, $10, $11, $12)",
                                     a.id, a.at, a.severity, a.rule, a.summary, a.json,
                                     a.subscriber_id, a.operator_id, a.iccid, a.eid,
                                     a.acknowledged_at, a.acknowledged_by));
            if (!n) {
                return std::unexpected(n.error());
            }
            return {};
        });
    }

    result<std::vector<alert_row>> list_alerts(const alert_query& q) override {
        return single_statement(pool_, [&](connection& c) {
            auto r =
                c.query(ESIMGUARD_PG_ALERT_SELECT "WHERE ($1::text IS NULL OR subscriber_id = $1)"
                                                  " AND ($2::text IS NULL OR operator_id = $2)"
                                                  " AND ($3::text IS NULL OR iccid = $3)"
                                                  " AND ($4::text IS NULL OR severity = $4)"
                                                  " AND ($5::int = 0 OR acknowledged_at IS NULL)"
                                                  " ORDER BY at DESC, id DESC LIMIT $6",
                        q.subscriber_id, q.operator_id, q.iccid, q.severity, q.unacknowledged_only,
                        sql_limit(q.limit));
            return all_of_rows(r, read_alert);
        });
    }

    result<alert_row> acknowledge_alert(std::string_view id, std::string_view by,
                                        time_point now) override {
        return single_statement(pool_, [&](connection& c) -> result<alert_row> {
            // Only an unacknowledged row is written: the first one stays.
            auto n = changed(c.query("UPDATE alerts SET acknowledged_at = $1, acknowledged_by = $2"
                                     " WHERE id = $3 AND acknowledged_at IS NULL",
                                     now, by, id));
            if (!n) {
                return std::unexpected(n.error());
            }
            auto r = c.query(ESIMGUARD_PG_ALERT_SELECT "WHERE id = $1", id);
            return one_of_rows(r, read_alert, "alert");
        });
    }

    // ---- subscribers and lines -----------------------------------------

    result<void> add_subscriber(const subscriber_record& s) override {
        return single_statement(pool_, [&](connection& c) -> result<void> {
            auto n = changed(c.query("INSERT INTO subscribers (id, display_name, email,"
                                     " operator_id, totp_secret, totp_last_step, created_at)"
                                     " VALUES ($1, $2, $3, $4, $5, $6, $7)",
                                     s.id, s.display_name, s.email, s.operator_id, s.totp_secret,
                                     s.totp_last_step, s.created_at));
            if (!n) {
                return std::unexpected(n.error());
            }
            return {};
        });
    }

    result<subscriber_record> find_subscriber(std::string_view id) override {
        return single_statement(pool_, [&](connection& c) {
            auto r = c.query(ESIMGUARD_PG_SUBSCRIBER_SELECT "WHERE id = $1", id);
            return one_of_rows(r, read_subscriber, "subscriber");
        });
    }

    result<std::vector<subscriber_record>> list_subscribers() override {
        return single_statement(pool_, [&](connection& c) {
            auto r = c.query(ESIMGUARD_PG_SUBSCRIBER_SELECT "ORDER BY id");
            return all_of_rows(r, read_subscriber);
        });
    }

    result<void> set_totp_secret(std::string_view subscriber_id,
                                 std::optional<bytes> secret) override {
        return single_statement(pool_, [&](connection& c) -> result<void> {
            auto n = changed(c.query("UPDATE subscribers SET totp_secret = $1,"
                                     " totp_last_step = NULL WHERE id = $2",
                                     secret, subscriber_id));
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
        return single_statement(pool_, [&](connection& c) -> result<void> {
            // IS NOT DISTINCT FROM treats NULL = NULL as equal, so "never
            // used" is a value the caller can expect like any other.
            auto n = changed(c.query("UPDATE subscribers SET totp_last_step = $1"
                                     " WHERE id = $2"
                                     " AND totp_last_step IS NOT DISTINCT FROM $3::bigint",
                                     step, subscriber_id, expected));
            if (!n) {
                return std::unexpected(n.error());
            }
            if (*n == 1) {
                return {};
            }
            auto exists = c.query("SELECT 1 FROM subscribers WHERE id = $1", subscriber_id);
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
        return in_transaction(pool_, [&](connection& c) -> result<line_record> {
            auto n = changed(c.query(
                "INSERT INTO lines (iccid, subscriber_id, frozen, step_up_on_new_eid, linked_at)"
                " VALUES ($1, $2, 0, $3, $4) ON CONFLICT (iccid) DO UPDATE SET"
                " subscriber_id = excluded.subscriber_id,"
                " step_up_on_new_eid = excluded.step_up_on_new_eid,"
                " linked_at = excluded.linked_at",
                iccid, subscriber_id, step_up_on_new_eid, now));
            if (!n) {
                if (n.error().code == errc::not_found) {
                    return std::unexpected(not_found("subscriber"));
                }
                return std::unexpected(n.error());
            }
            return line_in(c, iccid);
        });
    }

    result<line_record> find_line(std::string_view iccid) override {
        // Two statements (line, its EIDs): one transaction for one snapshot
        // is not needed, since known EIDs only ever grow.
        return single_statement(pool_, [&](connection& c) { return line_in(c, iccid); });
    }

    result<std::vector<line_record>> list_lines(std::string_view subscriber_id) override {
        return single_statement(pool_, [&](connection& c) -> result<std::vector<line_record>> {
            auto r = c.query(ESIMGUARD_PG_LINE_SELECT "WHERE subscriber_id = $1 ORDER BY iccid",
                             subscriber_id);
            auto lines = all_of_rows(r, read_line);
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
        return single_statement(pool_, [&](connection& c) -> result<line_record> {
            std::optional<time_point> at;
            if (reason) {
                at = now;
            }
            auto n = changed(c.query("UPDATE lines SET frozen = $1, frozen_reason = $2,"
                                     " frozen_at = $3 WHERE iccid = $4",
                                     reason.has_value(), reason, at, iccid));
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
        return single_statement(pool_, [&](connection& c) -> result<line_record> {
            auto n = changed(
                c.query("UPDATE lines SET step_up_on_new_eid = $1 WHERE iccid = $2", on, iccid));
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
        return single_statement(pool_, [&](connection& c) -> result<void> {
            auto n = changed(c.query("INSERT INTO line_known_eids (iccid, eid) VALUES ($1, $2)"
                                     " ON CONFLICT (iccid, eid) DO NOTHING",
                                     iccid, eid));
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
        return single_statement(pool_, [&](connection& c) -> result<void> {
            auto n = changed(c.query(
                "INSERT INTO approvals (id, order_id, iccid, subscriber_id, eid, rule, state,"
                " code_salt, code_mac, code_attempts, code_max_attempts, code_used, created_at,"
                " expires_at, decided_at, decided_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8,"
                " $9, $10, $11, $12, $13, $14, $15, $16)",
                a.id, a.order_id, a.iccid, a.subscriber_id, a.eid, a.rule, to_string(a.state),
                a.code_salt, a.code_mac, a.code_attempts, a.code_max_attempts, a.code_used,
                a.created_at, a.expires_at, a.decided_at, a.decided_by));
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
        return single_statement(pool_, [&](connection& c) {
            auto r = c.query(ESIMGUARD_PG_APPROVAL_SELECT "WHERE id = $1", id);
            return one_of_rows(r, read_approval, "approval");
        });
    }

    result<approval_record> find_approval_for(std::string_view order_id,
                                              std::string_view eid) override {
        return single_statement(pool_, [&](connection& c) {
            auto r = c.query(ESIMGUARD_PG_APPROVAL_SELECT
                             "WHERE order_id = $1 AND eid = $2"
                             " ORDER BY created_at DESC, row_seq DESC LIMIT 1",
                             order_id, eid);
            return one_of_rows(r, read_approval, "approval");
        });
    }

    result<std::vector<approval_record>> list_approvals(std::string_view subscriber_id,
                                                        bool pending_only) override {
        return single_statement(pool_, [&](connection& c) {
            auto r = c.query(ESIMGUARD_PG_APPROVAL_SELECT
                             "WHERE subscriber_id = $1 AND ($2::int = 0 OR state = 'pending')"
                             " ORDER BY created_at DESC, row_seq DESC",
                             subscriber_id, pending_only);
            return all_of_rows(r, read_approval);
        });
    }

    result<approval_record> update_approval(const approval_record& expected,
                                            const approval_record& next) override {
        if (expected.id != next.id) {
            return std::unexpected(invalid("update_approval: expected and next differ in id"));
        }
        return single_statement(pool_, [&](connection& c) -> result<approval_record> {
            // One conditional UPDATE: of two nodes checking the same code at
            // once, only the one whose expected state still holds writes.
            auto n = changed(
                c.query("UPDATE approvals SET state = $1, code_attempts = $2, code_used = $3,"
                        " decided_at = $4, decided_by = $5, expires_at = $6"
                        " WHERE id = $7 AND state = $8 AND code_attempts = $9 AND code_used = $10",
                        to_string(next.state), next.code_attempts, next.code_used, next.decided_at,
                        next.decided_by, next.expires_at, next.id, to_string(expected.state),
                        expected.code_attempts, expected.code_used));
            if (!n) {
                return std::unexpected(n.error());
            }
            auto r = c.query(ESIMGUARD_PG_APPROVAL_SELECT "WHERE id = $1", next.id);
            auto now = one_of_rows(r, read_approval, "approval");
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
        auto r = c.query("SELECT eid FROM line_known_eids WHERE iccid = $1 ORDER BY eid", iccid);
        return all_of_rows(r, [](const rows& row) { return row.text(0); });
    }

    static result<line_record> line_in(connection& c, std::string_view iccid) {
        auto r = c.query(ESIMGUARD_PG_LINE_SELECT "WHERE iccid = $1", iccid);
        auto l = one_of_rows(r, read_line, "line");
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

} // namespace esimguard::store::postgres

namespace esimguard::store {

result<std::unique_ptr<defense_store>>
create_postgres_defense_store(const postgres_config& config) {
    if (auto m = postgres::prepare_database(config); !m) {
        return std::unexpected(m.error());
    }
    return std::make_unique<postgres::postgres_defense_store_impl>(config);
}

} // namespace esimguard::store
