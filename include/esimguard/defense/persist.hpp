#pragma once
/// Adapters that keep the defences' state in store::defense_store (SQLite
/// now, PostgreSQL later): the blocklist and stolen-device stores the
/// in-memory lists write through to, and the alerts inbox the portal and the
/// admin API read.
///
/// The store sees plain rows; these adapters own the mapping to defense
/// types (kinds by their to_string names, the alert as alert_to_json).

#include "esimguard/defense/alerts.hpp"
#include "esimguard/defense/blocklist.hpp"
#include "esimguard/store/defense_store.hpp"

#include <atomic>
#include <cstdint>
#include <memory>

namespace esimguard::defense {

/// blocklist_store over `db` (which must outlive it). remove() of an entry
/// the store does not hold succeeds: the in-memory list is the caller's
/// truth and a second node may have removed it first.
[[nodiscard]] std::unique_ptr<blocklist_store>
create_persistent_blocklist_store(store::defense_store& db);

/// stolen_devices_store over `db` (which must outlive it); remove() is
/// idempotent like the blocklist's.
[[nodiscard]] std::unique_ptr<stolen_devices_store>
create_persistent_stolen_devices_store(store::defense_store& db);

/// The stored row of an alert: the filter columns and alert_to_json.
[[nodiscard]] store::alert_row alert_to_row(const alert& a);
/// The alert of a stored row (parse_alert_json of its body); the error says
/// which field is wrong.
[[nodiscard]] std::expected<alert, std::string> alert_from_row(const store::alert_row& row);

/// An alert_inbox over `db` (which must outlive it). append() never throws
/// and never blocks on anything but the database; a failed write is counted
/// in write_failures() and logged once per failure (alert id and rule only).
class persistent_alert_inbox final : public alert_inbox {
public:
    explicit persistent_alert_inbox(store::defense_store& db) : db_(db) {}
    void append(const alert& a) override;
    [[nodiscard]] std::vector<alert> recent(const query& q) const override;
    /// Alerts that could not be stored.
    [[nodiscard]] std::uint64_t write_failures() const { return failures_.load(); }

private:
    store::defense_store& db_;
    std::atomic<std::uint64_t> failures_{0};
};

/// A dispatcher channel that stores each alert in `db` (which must outlive
/// it): "delivered" once stored (an id already stored counts as delivered,
/// so a retry after a lost answer is harmless), a retryable failure while
/// the database is unavailable, so the dispatcher's backoff covers outages.
[[nodiscard]] std::unique_ptr<alert_channel>
create_persistent_inbox_channel(store::defense_store& db, std::string name = "inbox");

} // namespace esimguard::defense
