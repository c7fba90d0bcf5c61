// The outbox of handleDownloadProgressInfo calls to operators (SGP.22 §5.3.5):
// written in the SM-DP+'s transactions, delivered by a background sender
// at least once, with exponential backoff.

#include "sqlite/rows.hpp"
#include "sqlite/sqlite_store_impl.hpp"

#include <algorithm>

namespace esimguard::store::sqlite {

namespace {

result<outbox_message> load_message(connection& c, std::int64_t id) {
    auto s = c.prepare("SELECT " ESIMGUARD_OUTBOX_COLUMNS " FROM outbox WHERE id = ?");
    if (s) {
        s->bind(id);
    }
    return one_row<outbox_message>(s, read_outbox, "notification");
}

} // namespace

result<std::int64_t>
sqlite_store_impl::enqueue_notification(std::string_view operator_id,
                                        std::optional<std::string_view> order_id,
                                        std::string_view body, time_point now) {
    return write([&](connection& c) -> result<std::int64_t> {
        auto s = c.prepare("INSERT INTO outbox (operator_id, order_id, body, attempts,"
                           " next_attempt_at, state, created_at, updated_at)"
                           " VALUES (?, ?, ?, 0, ?, 'pending', ?, ?)");
        if (!s) {
            return std::unexpected(s.error());
        }
        if (auto w = s->bind(operator_id, order_id, body, now, now, now).run(); !w) {
            return std::unexpected(w.error());
        }
        return c.last_insert_rowid();
    });
}

result<std::vector<outbox_message>>
sqlite_store_impl::claim_due_notifications(time_point now, std::size_t limit,
                                           std::chrono::microseconds lease) {
    return write([&](connection& c) -> result<std::vector<outbox_message>> {
        // PostgreSQL will do this with UPDATE … WHERE id IN (SELECT … FOR
        // UPDATE SKIP LOCKED); here the write transaction already excludes
        // every other claimer.
        auto s = c.prepare("UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?1,"
                           " updated_at = ?2"
                           " WHERE id IN (SELECT id FROM outbox WHERE state = 'pending'"
                           " AND next_attempt_at <= ?2 ORDER BY next_attempt_at, id LIMIT ?3)"
                           " RETURNING " ESIMGUARD_OUTBOX_COLUMNS);
        if (s) {
            s->bind(now + lease, now, limit);
        }
        auto claimed = all_rows<outbox_message>(s, read_outbox);
        if (claimed) {
            // RETURNING gives no order guarantee.
            std::sort(claimed->begin(), claimed->end(),
                      [](const auto& a, const auto& b) { return a.id < b.id; });
        }
        return claimed;
    });
}

result<void> sqlite_store_impl::mark_notification_delivered(std::int64_t id, time_point now) {
    return write([&](connection& c) -> result<void> {
        auto s = c.prepare("UPDATE outbox SET state = 'delivered', last_error = NULL,"
                           " updated_at = ? WHERE id = ? AND state = 'pending'");
        if (!s) {
            return std::unexpected(s.error());
        }
        if (auto w = s->bind(now, id).run(); !w) {
            return w;
        }
        if (c.changes() == 1) {
            return {};
        }
        auto cur = load_message(c, id);
        if (!cur) {
            return std::unexpected(cur.error());
        }
        return std::unexpected(state_mismatch("notification is not pending"));
    });
}

result<outbox_message> sqlite_store_impl::reschedule_notification(std::int64_t id,
                                                                  const retry_policy& policy,
                                                                  std::string_view last_error,
                                                                  time_point now) {
    return write([&](connection& c) -> result<outbox_message> {
        auto m = load_message(c, id);
        if (!m) {
            return m;
        }
        if (m->state != outbox_state::pending) {
            return std::unexpected(state_mismatch("notification is not pending"));
        }
        bool give_up = m->attempts >= policy.max_attempts;
        auto next = now + backoff_delay(policy, std::max(1, m->attempts));
        auto s = c.prepare("UPDATE outbox SET state = ?, next_attempt_at = ?, last_error = ?,"
                           " updated_at = ? WHERE id = ?");
        if (!s) {
            return std::unexpected(s.error());
        }
        if (auto w = s->bind(give_up ? "failed" : "pending", give_up ? m->next_attempt_at : next,
                             last_error, now, id)
                         .run();
            !w) {
            return std::unexpected(w.error());
        }
        return load_message(c, id);
    });
}

result<outbox_message> sqlite_store_impl::find_notification(std::int64_t id) {
    return read([&](connection& c) { return load_message(c, id); });
}

} // namespace esimguard::store::sqlite
