#pragma once
// An in-memory store::defense_store for unit tests: every call under one
// mutex, the compare-and-set calls as the interface defines them, and a
// count of calls so that tests can see what the server did.

#include "esimguard/store/defense_store.hpp"

#include <algorithm>
#include <map>
#include <mutex>

namespace esimguard::testing {

class memory_defense_store final : public store::defense_store {
public:
    using time_point = store::time_point;
    template <class T>
    using result = store::result<T>;

    result<std::vector<store::blocklist_row>> load_blocklist() override {
        std::lock_guard l(m_);
        std::vector<store::blocklist_row> out;
        for (const auto& [k, v] : blocks_) {
            out.push_back(v);
        }
        return out;
    }
    result<void> save_block(const store::blocklist_row& row) override {
        std::lock_guard l(m_);
        blocks_[row.kind + "|" + row.value] = row;
        return {};
    }
    result<void> remove_block(std::string_view kind, std::string_view value) override {
        std::lock_guard l(m_);
        if (blocks_.erase(std::string(kind) + "|" + std::string(value)) == 0) {
            return missing();
        }
        return {};
    }
    result<std::vector<store::stolen_row>> load_stolen() override {
        std::lock_guard l(m_);
        std::vector<store::stolen_row> out;
        for (const auto& [k, v] : stolen_) {
            out.push_back(v);
        }
        return out;
    }
    result<void> save_stolen(const store::stolen_row& row) override {
        std::lock_guard l(m_);
        stolen_[row.eid] = row;
        return {};
    }
    result<void> remove_stolen(std::string_view eid) override {
        std::lock_guard l(m_);
        if (stolen_.erase(std::string(eid)) == 0) {
            return missing();
        }
        return {};
    }

    result<void> add_alert(const store::alert_row& row) override {
        std::lock_guard l(m_);
        for (const auto& a : alerts_) {
            if (a.id == row.id) {
                return std::unexpected(store::error{store::errc::conflict, "alert id taken"});
            }
        }
        alerts_.push_back(row);
        return {};
    }
    result<std::vector<store::alert_row>> list_alerts(const store::alert_query& q) override {
        std::lock_guard l(m_);
        std::vector<store::alert_row> out;
        for (auto it = alerts_.rbegin(); it != alerts_.rend() && out.size() < q.limit; ++it) {
            if ((q.subscriber_id && it->subscriber_id != q.subscriber_id) ||
                (q.operator_id && it->operator_id != q.operator_id) ||
                (q.iccid && it->iccid != q.iccid) || (q.severity && it->severity != *q.severity) ||
                (q.unacknowledged_only && it->acknowledged_at)) {
                continue;
            }
            out.push_back(*it);
        }
        return out;
    }
    result<store::alert_row> acknowledge_alert(std::string_view id, std::string_view by,
                                               time_point now) override {
        std::lock_guard l(m_);
        for (auto& a : alerts_) {
            if (a.id == id) {
                if (!a.acknowledged_at) {
                    a.acknowledged_at = now;
                    a.acknowledged_by = std::string(by);
                }
                return a;
            }
        }
        return missing();
    }

    result<void> add_subscriber(const store::subscriber_record& s) override {
        std::lock_guard l(m_);
        if (!subscribers_.emplace(s.id, s).second) {
            return std::unexpected(store::error{store::errc::conflict, "subscriber id taken"});
        }
        return {};
    }
    result<store::subscriber_record> find_subscriber(std::string_view id) override {
        std::lock_guard l(m_);
        auto it = subscribers_.find(std::string(id));
        if (it == subscribers_.end()) {
            return missing();
        }
        return it->second;
    }
    result<std::vector<store::subscriber_record>> list_subscribers() override {
        std::lock_guard l(m_);
        std::vector<store::subscriber_record> out;
        for (const auto& [k, v] : subscribers_) {
            out.push_back(v);
        }
        return out;
    }
    result<void> set_totp_secret(std::string_view id, std::optional<bytes> secret) override {
        std::lock_guard l(m_);
        auto it = subscribers_.find(std::string(id));
        if (it == subscribers_.end()) {
            return missing();
        }
        it->second.totp_secret = std::move(secret);
        it->second.totp_last_step.reset();
        return {};
    }
    result<void> advance_totp_step(std::string_view id, std::optional<std::int64_t> expected,
                                   std::int64_t step) override {
        std::lock_guard l(m_);
        auto it = subscribers_.find(std::string(id));
        if (it == subscribers_.end()) {
            return missing();
        }
        if (it->second.totp_last_step != expected) {
            return mismatch();
        }
        it->second.totp_last_step = step;
        return {};
    }

    result<store::line_record> link_line(std::string_view iccid, std::string_view subscriber_id,
                                         bool step_up_on_new_eid, time_point now) override {
        std::lock_guard l(m_);
        if (!subscribers_.contains(std::string(subscriber_id))) {
            return missing();
        }
        store::line_record line;
        line.iccid = std::string(iccid);
        line.subscriber_id = std::string(subscriber_id);
        line.step_up_on_new_eid = step_up_on_new_eid;
        line.linked_at = now;
        lines_[line.iccid] = line;
        return line;
    }
    result<store::line_record> find_line(std::string_view iccid) override {
        std::lock_guard l(m_);
        ++line_lookups;
        auto it = lines_.find(std::string(iccid));
        if (it == lines_.end()) {
            return missing();
        }
        return it->second;
    }
    result<std::vector<store::line_record>> list_lines(std::string_view subscriber_id) override {
        std::lock_guard l(m_);
        std::vector<store::line_record> out;
        for (const auto& [k, v] : lines_) {
            if (v.subscriber_id == subscriber_id) {
                out.push_back(v);
            }
        }
        return out;
    }
    result<store::line_record> set_line_frozen(std::string_view iccid,
                                               std::optional<std::string> reason,
                                               time_point now) override {
        std::lock_guard l(m_);
        auto it = lines_.find(std::string(iccid));
        if (it == lines_.end()) {
            return missing();
        }
        it->second.frozen = reason.has_value();
        it->second.frozen_reason = std::move(reason);
        it->second.frozen_at = it->second.frozen ? std::optional(now) : std::nullopt;
        return it->second;
    }
    result<store::line_record> set_step_up_on_new_eid(std::string_view iccid, bool on) override {
        std::lock_guard l(m_);
        auto it = lines_.find(std::string(iccid));
        if (it == lines_.end()) {
            return missing();
        }
        it->second.step_up_on_new_eid = on;
        return it->second;
    }
    result<void> add_known_eid(std::string_view iccid, std::string_view eid) override {
        std::lock_guard l(m_);
        auto it = lines_.find(std::string(iccid));
        if (it == lines_.end()) {
            return missing();
        }
        auto& k = it->second.known_eids;
        if (std::find(k.begin(), k.end(), eid) == k.end()) {
            k.emplace_back(eid);
        }
        return {};
    }

    result<void> add_approval(const store::approval_record& a) override {
        std::lock_guard l(m_);
        for (const auto& x : approvals_) {
            if (x.id == a.id) {
                return std::unexpected(store::error{store::errc::conflict, "approval id taken"});
            }
        }
        approvals_.push_back(a);
        return {};
    }
    result<store::approval_record> find_approval(std::string_view id) override {
        std::lock_guard l(m_);
        for (const auto& a : approvals_) {
            if (a.id == id) {
                return a;
            }
        }
        return missing();
    }
    result<store::approval_record> find_approval_for(std::string_view order_id,
                                                     std::string_view eid) override {
        std::lock_guard l(m_);
        for (auto it = approvals_.rbegin(); it != approvals_.rend(); ++it) {
            if (it->order_id == order_id && it->eid == eid) {
                return *it;
            }
        }
        return missing();
    }
    result<std::vector<store::approval_record>> list_approvals(std::string_view subscriber_id,
                                                               bool pending_only) override {
        std::lock_guard l(m_);
        std::vector<store::approval_record> out;
        for (auto it = approvals_.rbegin(); it != approvals_.rend(); ++it) {
            if (it->subscriber_id == subscriber_id &&
                (!pending_only || it->state == store::approval_state::pending)) {
                out.push_back(*it);
            }
        }
        return out;
    }
    result<store::approval_record> update_approval(const store::approval_record& expected,
                                                   const store::approval_record& next) override {
        std::lock_guard l(m_);
        for (auto& a : approvals_) {
            if (a.id == expected.id) {
                if (a.state != expected.state || a.code_attempts != expected.code_attempts ||
                    a.code_used != expected.code_used) {
                    return mismatch();
                }
                a = next;
                return a;
            }
        }
        return missing();
    }

    /// Every approval, oldest first (for assertions).
    std::vector<store::approval_record> approvals() const {
        std::lock_guard l(m_);
        return approvals_;
    }

    int line_lookups = 0;

private:
    static std::unexpected<store::error> missing() {
        return std::unexpected(store::error{store::errc::not_found, "not found"});
    }
    static std::unexpected<store::error> mismatch() {
        return std::unexpected(store::error{store::errc::state_mismatch, "changed meanwhile"});
    }

    mutable std::mutex m_;
    std::map<std::string, store::blocklist_row> blocks_;
    std::map<std::string, store::stolen_row> stolen_;
    std::vector<store::alert_row> alerts_;
    std::map<std::string, store::subscriber_record> subscribers_;
    std::map<std::string, store::line_record> lines_;
    std::vector<store::approval_record> approvals_;
};

} // namespace esimguard::testing
