#pragma once
/// The blocklist (addresses, address prefixes, EIDs, EUMs, matching IDs that
/// are refused before any work is done) and the list of devices reported
/// stolen. Both live in memory for O(1) lookups on every request and write
/// through to an optional store, so that the admin API and `esimguard block`
/// can manage them and they survive a restart.
///
/// Thread-safe: lookups take a shared lock, changes an exclusive one.

#include "esimguard/defense/risk_types.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace esimguard::defense {

/// What a blocklist entry matches.
enum class block_kind : std::uint8_t {
    ip,          ///< one IPv4 or IPv6 address (IPv4-mapped IPv6 is matched as IPv4)
    ip_prefix,   ///< a CIDR network, "10.0.0.0/8" or "2001:db8::/32"
    eid,         ///< one EID (32 decimal digits)
    eum,         ///< every EID starting with these digits (an EUM's range, 1..32 digits)
    matching_id, ///< one matching ID (e.g. after a brute force on its code)
};

/// "ip", "ip_prefix", "eid", "eum" or "matching_id".
[[nodiscard]] std::string_view to_string(block_kind k);
/// The inverse of to_string; nullopt for anything else.
[[nodiscard]] std::optional<block_kind> parse_block_kind(std::string_view text);

/// One blocklist entry.
struct block_entry {
    block_kind kind = block_kind::ip;
    /// Canonical form after blocklist::add (addresses and prefixes rewritten,
    /// host bits of a prefix cleared).
    std::string value;
    /// Why, for the operator: a rule name and count, or an admin's words.
    std::string reason = {};
    risk_time_point created = {};
    /// When it stops applying; nullopt for never.
    std::optional<risk_time_point> expires = std::nullopt;
    /// "risk:<rule>" for engine blocks, the admin's name otherwise.
    std::string created_by = {};
};

/// Persistence of blocklist entries (SQLite/PostgreSQL later; a fake in tests).
/// save() replaces any entry of the same kind and value.
class blocklist_store {
public:
    virtual ~blocklist_store() = default;
    /// Every stored entry, expired ones included (the blocklist drops those).
    [[nodiscard]] virtual risk_result<std::vector<block_entry>> load() = 0;
    [[nodiscard]] virtual risk_result<void> save(const block_entry& entry) = 0;
    [[nodiscard]] virtual risk_result<void> remove(block_kind kind, std::string_view value) = 0;
};

/// The blocklist.
class blocklist {
public:
    /// `store` may be null (memory only); when given it must outlive this.
    explicit blocklist(risk_clock clock, blocklist_store* store = nullptr);
    ~blocklist();
    blocklist(const blocklist&) = delete;
    blocklist& operator=(const blocklist&) = delete;

    /// Replaces the memory content with the store's unexpired entries.
    /// Returns how many were loaded. Without a store: 0.
    [[nodiscard]] risk_result<std::size_t> load();

    /// Adds or replaces the entry of the same kind and (canonical) value.
    /// Refuses a malformed value (invalid_argument). When the store fails the
    /// entry still applies in memory and the store's error is returned, so
    /// that an attacker is blocked even while the database is down.
    [[nodiscard]] risk_result<block_entry> add(block_entry entry);

    /// Removes an entry; false when there was none. The value may be given in
    /// any form add() accepts.
    [[nodiscard]] risk_result<bool> remove(block_kind kind, std::string_view value);

    /// The unexpired entry blocking this address: an exact entry first, then
    /// the longest matching prefix. Unparseable addresses match nothing.
    [[nodiscard]] std::optional<block_entry> match_ip(std::string_view address) const;
    /// The unexpired entry blocking this EID: the EID itself, then the
    /// longest matching EUM prefix.
    [[nodiscard]] std::optional<block_entry> match_eid(std::string_view eid) const;
    /// The unexpired entry blocking this matching ID.
    [[nodiscard]] std::optional<block_entry> match_matching_id(std::string_view matching_id) const;

    /// Every unexpired entry, ordered by kind then value.
    [[nodiscard]] std::vector<block_entry> list() const;

    /// Drops expired entries from memory (and from the store, best effort);
    /// returns how many. Lookups ignore expired entries anyway; this bounds memory.
    std::size_t purge_expired();

private:
    struct state;
    risk_clock clock_;
    blocklist_store* store_;
    mutable std::shared_mutex mutex_;
    std::unique_ptr<state> state_;
};

/// A device reported stolen. It never expires by itself: only an explicit
/// remove (the owner found it) takes it off the list.
struct stolen_device {
    std::string eid;
    std::string reason = {};
    risk_time_point reported = {};
    /// The subscriber, operator or admin who reported it.
    std::string reported_by = {};
};

/// Persistence of the stolen device list.
class stolen_devices_store {
public:
    virtual ~stolen_devices_store() = default;
    [[nodiscard]] virtual risk_result<std::vector<stolen_device>> load() = 0;
    [[nodiscard]] virtual risk_result<void> save(const stolen_device& device) = 0;
    [[nodiscard]] virtual risk_result<void> remove(std::string_view eid) = 0;
};

/// The list of devices reported stolen, by EID. Thread-safe.
class stolen_devices {
public:
    /// `store` may be null; when given it must outlive this.
    explicit stolen_devices(stolen_devices_store* store = nullptr);
    ~stolen_devices();
    stolen_devices(const stolen_devices&) = delete;
    stolen_devices& operator=(const stolen_devices&) = delete;

    /// Replaces the memory content with the store's; returns how many.
    [[nodiscard]] risk_result<std::size_t> load();
    /// Reports a device stolen (replacing an earlier report). Refuses an EID
    /// that is not 32 digits. Applies in memory even when the store fails.
    [[nodiscard]] risk_result<void> add(stolen_device device);
    /// Takes a device off the list; false when it was not on it.
    [[nodiscard]] risk_result<bool> remove(std::string_view eid);
    /// The report for this EID, if it is on the list.
    [[nodiscard]] std::optional<stolen_device> find(std::string_view eid) const;
    [[nodiscard]] bool contains(std::string_view eid) const { return find(eid).has_value(); }
    /// Every report, ordered by EID.
    [[nodiscard]] std::vector<stolen_device> list() const;

private:
    stolen_devices_store* store_;
    mutable std::shared_mutex mutex_;
    std::unordered_map<std::string, stolen_device> devices_;
};

} // namespace esimguard::defense
