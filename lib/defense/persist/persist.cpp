// Adapters between the defences' types and store::defense_store rows.

#include "esimguard/defense/persist.hpp"

#include "alerts/logger.hpp"

#include <algorithm>

namespace esimguard::defense {

namespace {

risk_error unavailable(const store::error& e) {
    return {risk_errc::unavailable, e.message};
}

class persistent_blocklist_store final : public blocklist_store {
public:
    explicit persistent_blocklist_store(store::defense_store& db) : db_(db) {}

    risk_result<std::vector<block_entry>> load() override {
        auto rows = db_.load_blocklist();
        if (!rows) {
            return std::unexpected(unavailable(rows.error()));
        }
        std::vector<block_entry> out;
        out.reserve(rows->size());
        for (auto& r : *rows) {
            // The schema's CHECK keeps kinds to known names; an unknown one
            // (a newer esimguard's kind) is skipped rather than misread.
            auto kind = parse_block_kind(r.kind);
            if (!kind) {
                continue;
            }
            out.push_back({*kind, std::move(r.value), std::move(r.reason), r.created, r.expires,
                           std::move(r.created_by)});
        }
        return out;
    }

    risk_result<void> save(const block_entry& e) override {
        store::blocklist_row r{
            std::string(to_string(e.kind)), e.value, e.reason, e.created, e.expires, e.created_by};
        if (auto s = db_.save_block(r); !s) {
            return std::unexpected(s.error().code == store::errc::invalid_argument
                                       ? risk_error{risk_errc::invalid_argument, s.error().message}
                                       : unavailable(s.error()));
        }
        return {};
    }

    risk_result<void> remove(block_kind kind, std::string_view value) override {
        auto r = db_.remove_block(to_string(kind), value);
        if (!r && r.error().code != store::errc::not_found) {
            return std::unexpected(unavailable(r.error()));
        }
        return {};
    }

private:
    store::defense_store& db_;
};

class persistent_stolen_store final : public stolen_devices_store {
public:
    explicit persistent_stolen_store(store::defense_store& db) : db_(db) {}

    risk_result<std::vector<stolen_device>> load() override {
        auto rows = db_.load_stolen();
        if (!rows) {
            return std::unexpected(unavailable(rows.error()));
        }
        std::vector<stolen_device> out;
        out.reserve(rows->size());
        for (auto& r : *rows) {
            out.push_back(
                {std::move(r.eid), std::move(r.reason), r.reported, std::move(r.reported_by)});
        }
        return out;
    }

    risk_result<void> save(const stolen_device& d) override {
        if (auto s = db_.save_stolen({d.eid, d.reason, d.reported, d.reported_by}); !s) {
            return std::unexpected(unavailable(s.error()));
        }
        return {};
    }

    risk_result<void> remove(std::string_view eid) override {
        auto r = db_.remove_stolen(eid);
        if (!r && r.error().code != store::errc::not_found) {
            return std::unexpected(unavailable(r.error()));
        }
        return {};
    }

private:
    store::defense_store& db_;
};

class persistent_inbox_channel final : public alert_channel {
public:
    persistent_inbox_channel(store::defense_store& db, std::string name)
        : db_(db), name_(std::move(name)) {}

    std::string_view name() const override { return name_; }

    delivery_result deliver(const alert& a) override {
        auto r = db_.add_alert(alert_to_row(a));
        if (r || r.error().code == store::errc::conflict) {
            return {delivery_status::delivered, {}};
        }
        if (r.error().code == store::errc::invalid_argument) {
            return {delivery_status::permanent_failure, r.error().message};
        }
        return {delivery_status::retryable_failure, r.error().message};
    }

private:
    store::defense_store& db_;
    std::string name_;
};

} // namespace

std::unique_ptr<blocklist_store> create_persistent_blocklist_store(store::defense_store& db) {
    return std::make_unique<persistent_blocklist_store>(db);
}

std::unique_ptr<stolen_devices_store>
create_persistent_stolen_devices_store(store::defense_store& db) {
    return std::make_unique<persistent_stolen_store>(db);
}

store::alert_row alert_to_row(const alert& a) {
    store::alert_row r;
    r.id = a.id.empty() ? make_alert_id() : a.id;
    r.at = a.time;
    r.severity = std::string(to_string(a.severity));
    r.rule = a.rule;
    r.summary = a.summary;
    if (a.id.empty()) {
        auto copy = a;
        copy.id = r.id;
        r.json = alert_to_json(copy);
    } else {
        r.json = alert_to_json(a);
    }
    if (a.subscriber) {
        r.subscriber_id = a.subscriber->id;
    }
    if (a.operator_party) {
        r.operator_id = a.operator_party->id;
    }
    r.iccid = a.evidence.iccid;
    r.eid = a.evidence.eid;
    return r;
}

std::expected<alert, std::string> alert_from_row(const store::alert_row& row) {
    auto a = parse_alert_json(row.json);
    if (!a) {
        return std::unexpected(a.error());
    }
    // The JSON keeps seconds; the column keeps microseconds.
    a->time = row.at;
    return a;
}

void persistent_alert_inbox::append(const alert& a) {
    if (auto r = db_.add_alert(alert_to_row(a)); !r) {
        ++failures_;
        alerts_detail::logger()->error("alert {} ({}) not stored in the inbox: {}",
                                       alerts_detail::log_safe(a.id),
                                       alerts_detail::log_safe(a.rule), r.error().message);
    }
}

std::vector<alert> persistent_alert_inbox::recent(const query& q) const {
    store::alert_query sq;
    sq.subscriber_id = q.subscriber_id;
    sq.operator_id = q.operator_id;
    sq.limit = q.limit;
    std::vector<store::alert_row> rows;
    if (!q.min_severity || *q.min_severity == alert_severity::info) {
        auto r = db_.list_alerts(sq);
        if (r) {
            rows = std::move(*r);
        }
    } else {
        // The store filters one severity at a time; "at least" is the union.
        for (auto s : {alert_severity::warning, alert_severity::critical}) {
            if (s < *q.min_severity) {
                continue;
            }
            sq.severity = std::string(to_string(s));
            if (auto r = db_.list_alerts(sq); r) {
                rows.insert(rows.end(), r->begin(), r->end());
            }
        }
        std::stable_sort(rows.begin(), rows.end(),
                         [](const auto& x, const auto& y) { return x.at > y.at; });
        if (rows.size() > q.limit) {
            rows.resize(q.limit);
        }
    }
    std::vector<alert> out;
    out.reserve(rows.size());
    for (const auto& row : rows) {
        if (auto a = alert_from_row(row); a) {
            out.push_back(std::move(*a));
        }
    }
    return out;
}

std::unique_ptr<alert_channel> create_persistent_inbox_channel(store::defense_store& db,
                                                               std::string name) {
    return std::make_unique<persistent_inbox_channel>(db, std::move(name));
}

} // namespace esimguard::defense
