#pragma once
// An in-memory defense_store for the portal tests: it keeps what it is told
// and records the calls that change state.

#include "esimguard/store/defense_store.hpp"

#include <algorithm>
#include <map>
#include <mutex>

namespace esimguard::portal::testing {

class fake_defense_store final : public store::defense_store {
public:
    std::vector<std::string> calls;
    std::map<std::string, store::subscriber_record> subscribers;
    std::map<std::string, store::line_record> lines;
    std::vector<store::blocklist_row> blocks;
    std::vector<store::stolen_row> stolen;
    std::vector<store::alert_row> alerts;
    std::vector<store::approval_record> approvals;

    store::result<std::vector<store::blocklist_row>> load_blocklist() override { return blocks; }
    store::result<void> save_block(const store::blocklist_row& row) override {
        calls.push_back("save_block " + row.kind + " " + row.value);
        std::erase_if(blocks,
                      [&](const auto& b) { return b.kind == row.kind && b.value == row.value; });
        blocks.push_back(row);
        return {};
    }
    store::result<void> remove_block(std::string_view kind, std::string_view value) override {
        auto n = std::erase_if(blocks,
                               [&](const auto& b) { return b.kind == kind && b.value == value; });
        if (n == 0) {
            return std::unexpected(store::error{store::errc::not_found, "no block"});
        }
        calls.push_back("remove_block " + std::string(kind) + " " + std::string(value));
        return {};
    }
    store::result<std::vector<store::stolen_row>> load_stolen() override { return stolen; }
    store::result<void> save_stolen(const store::stolen_row& row) override {
        calls.push_back("save_stolen " + row.eid);
        stolen.push_back(row);
        return {};
    }
    store::result<void> remove_stolen(std::string_view) override { return {}; }

    store::result<void> add_alert(const store::alert_row& row) override {
        calls.push_back("add_alert " + row.rule);
        alerts.insert(alerts.begin(), row);
        return {};
    }
    store::result<std::vector<store::alert_row>> list_alerts(const store::alert_query& q) override {
        std::vector<store::alert_row> out;
        for (const auto& a : alerts) {
            if (q.subscriber_id && a.subscriber_id != q.subscriber_id) {
                continue;
            }
            if (q.operator_id && a.operator_id != q.operator_id) {
                continue;
            }
            if (out.size() == q.limit) {
                break;
            }
            out.push_back(a);
        }
        return out;
    }
    store::result<store::alert_row> acknowledge_alert(std::string_view id, std::string_view by,
                                                      store::time_point now) override {
        for (auto& a : alerts) {
            if (a.id == id) {
                if (!a.acknowledged_at) {
                    a.acknowledged_at = now;
                    a.acknowledged_by = std::string(by);
                }
                return a;
            }
        }
        return std::unexpected(store::error{store::errc::not_found, "no alert"});
    }

    store::result<void> add_subscriber(const store::subscriber_record& s) override {
        if (subscribers.contains(s.id)) {
            return std::unexpected(store::error{store::errc::conflict, "exists"});
        }
        subscribers[s.id] = s;
        return {};
    }
    store::result<store::subscriber_record> find_subscriber(std::string_view id) override {
        auto it = subscribers.find(std::string(id));
        if (it == subscribers.end()) {
            return std::unexpected(store::error{store::errc::not_found, "no subscriber"});
        }
        return it->second;
    }
    store::result<std::vector<store::subscriber_record>> list_subscribers() override {
        std::vector<store::subscriber_record> out;
        for (const auto& [k, v] : subscribers) {
            out.push_back(v);
        }
        return out;
    }
    store::result<void> set_totp_secret(std::string_view id, std::optional<bytes> secret) override {
        auto it = subscribers.find(std::string(id));
        if (it == subscribers.end()) {
            return std::unexpected(store::error{store::errc::not_found, "no subscriber"});
        }
        calls.push_back("set_totp_secret " + std::string(id));
        it->second.totp_secret = std::move(secret);
        it->second.totp_last_step.reset();
        return {};
    }
    store::result<void> advance_totp_step(std::string_view, std::optional<std::int64_t>,
                                          std::int64_t) override {
        return {};
    }
    store::result<store::line_record> link_line(std::string_view iccid, std::string_view sub,
                                                bool step_up, store::time_point now) override {
        if (!subscribers.contains(std::string(sub))) {
            return std::unexpected(store::error{store::errc::not_found, "no subscriber"});
        }
        store::line_record l;
        l.iccid = std::string(iccid);
        l.subscriber_id = std::string(sub);
        l.step_up_on_new_eid = step_up;
        l.linked_at = now;
        lines[l.iccid] = l;
        return l;
    }
    store::result<store::line_record> find_line(std::string_view iccid) override {
        auto it = lines.find(std::string(iccid));
        if (it == lines.end()) {
            return std::unexpected(store::error{store::errc::not_found, "no line"});
        }
        return it->second;
    }
    store::result<std::vector<store::line_record>> list_lines(std::string_view sub) override {
        std::vector<store::line_record> out;
        for (const auto& [k, v] : lines) {
            if (v.subscriber_id == sub) {
                out.push_back(v);
            }
        }
        return out;
    }
    store::result<store::line_record> set_line_frozen(std::string_view iccid,
                                                      std::optional<std::string> reason,
                                                      store::time_point now) override {
        auto it = lines.find(std::string(iccid));
        if (it == lines.end()) {
            return std::unexpected(store::error{store::errc::not_found, "no line"});
        }
        calls.push_back(std::string(reason ? "freeze " : "thaw ") + std::string(iccid));
        it->second.frozen = reason.has_value();
        it->second.frozen_reason = reason;
        it->second.frozen_at = reason ? std::optional(now) : std::nullopt;
        return it->second;
    }
    store::result<store::line_record> set_step_up_on_new_eid(std::string_view iccid,
                                                             bool on) override {
        auto it = lines.find(std::string(iccid));
        if (it == lines.end()) {
            return std::unexpected(store::error{store::errc::not_found, "no line"});
        }
        it->second.step_up_on_new_eid = on;
        return it->second;
    }
    store::result<void> add_known_eid(std::string_view iccid, std::string_view eid) override {
        auto it = lines.find(std::string(iccid));
        if (it == lines.end()) {
            return std::unexpected(store::error{store::errc::not_found, "no line"});
        }
        it->second.known_eids.emplace_back(eid);
        return {};
    }

    store::result<void> add_approval(const store::approval_record& a) override {
        approvals.push_back(a);
        return {};
    }
    store::result<store::approval_record> find_approval(std::string_view id) override {
        for (const auto& a : approvals) {
            if (a.id == id) {
                return a;
            }
        }
        return std::unexpected(store::error{store::errc::not_found, "no approval"});
    }
    store::result<store::approval_record> find_approval_for(std::string_view order,
                                                            std::string_view eid) override {
        for (const auto& a : approvals) {
            if (a.order_id == order && a.eid == eid) {
                return a;
            }
        }
        return std::unexpected(store::error{store::errc::not_found, "no approval"});
    }
    store::result<std::vector<store::approval_record>> list_approvals(std::string_view sub,
                                                                      bool pending_only) override {
        std::vector<store::approval_record> out;
        for (const auto& a : approvals) {
            if (a.subscriber_id == sub &&
                (!pending_only || a.state == store::approval_state::pending)) {
                out.push_back(a);
            }
        }
        return out;
    }
    store::result<store::approval_record>
    update_approval(const store::approval_record&, const store::approval_record& next) override {
        for (auto& a : approvals) {
            if (a.id == next.id) {
                a = next;
                return a;
            }
        }
        return std::unexpected(store::error{store::errc::not_found, "no approval"});
    }
};

} // namespace esimguard::portal::testing
