#pragma once
/// Persistent state of the defences (issue 4) and of the subscribers they
/// protect: blocklist and stolen-device rows, the alerts inbox, subscribers
/// and their lines (frozen or not), and step-up approvals.
///
/// Kept apart from store.hpp so that the ES9+ hot path's interface stays
/// small; an implementation opens the same database as the main store (the
/// SQLite file, or the PostgreSQL server) with its own connections and
/// applies the same embedded migrations. Every call is one atomic operation
/// and thread-safe; several server nodes may share one database.
///
/// The values here are plain rows: lib/defense turns them into its own types
/// (block_entry, stolen_device, alert) with adapters, since store does not
/// depend on defense.

#include "esimguard/store/sqlite_store.hpp"
#include "esimguard/store/types.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace esimguard::store {

/// One blocklist entry (defense::block_entry, kind by its to_string name).
struct blocklist_row {
    std::string kind;  ///< "ip", "network", "eid", "eum", "matching_id"
    std::string value; ///< canonical form
    std::string reason;
    time_point created{};
    std::optional<time_point> expires;
    std::string created_by;
};

/// One device reported stolen (defense::stolen_device).
struct stolen_row {
    std::string eid;
    std::string reason;
    time_point reported{};
    std::string reported_by;
};

/// One alert of the inbox. `json` is defense::alert_to_json of the whole
/// alert (evidence included); the other fields are copies for filtering.
struct alert_row {
    std::string id;
    time_point at{};
    std::string severity; ///< "info", "warning", "critical"
    std::string rule;
    std::string summary;
    std::string json;
    std::optional<std::string> subscriber_id;
    std::optional<std::string> operator_id;
    std::optional<std::string> iccid;
    std::optional<std::string> eid;
    std::optional<time_point> acknowledged_at;
    std::optional<std::string> acknowledged_by;
};

/// Which alerts to list; empty fields match everything. Newest first.
struct alert_query {
    std::optional<std::string> subscriber_id;
    std::optional<std::string> operator_id;
    std::optional<std::string> iccid;
    std::optional<std::string> severity;
    bool unacknowledged_only = false;
    std::size_t limit = 200;
};

/// A subscriber: the person behind one or more lines. Portal accounts
/// (issue 5) refer to this id.
struct subscriber_record {
    std::string id;
    std::string display_name;
    /// Where alert mail and one-time codes go; empty: no mail.
    std::string email;
    /// The operator that registered the subscriber, if any.
    std::optional<std::string> operator_id;
    /// RFC 6238 secret once enrolled (raw bytes). Stored as given; a
    /// deployment that needs it encrypted wraps it before calling.
    std::optional<bytes> totp_secret;
    /// The last TOTP step accepted (replay protection, defense::verify_totp).
    std::optional<std::int64_t> totp_last_step;
    time_point created_at{};
};

/// A line: a profile (ICCID) linked to a subscriber.
struct line_record {
    std::string iccid;
    std::string subscriber_id;
    /// Frozen: no download or transfer of this ICCID while set.
    bool frozen = false;
    std::optional<std::string> frozen_reason;
    std::optional<time_point> frozen_at;
    /// The subscriber asked that a download to an EID never seen on this
    /// line needs their approval (step-up).
    bool step_up_on_new_eid = false;
    /// EIDs that already held this line (a download to one of them is not "new").
    std::vector<std::string> known_eids;
    time_point linked_at{};
};

/// State of a step-up approval.
enum class approval_state { pending, approved, refused, expired };
std::string_view to_string(approval_state s);
std::optional<approval_state> approval_state_from_string(std::string_view s);

/// A download waiting for its subscriber's approval (issue 4 §3). The
/// one-time code is kept as defense::one_time_code_record fields, never in
/// clear.
struct approval_record {
    std::string id;
    std::string order_id;
    std::string iccid;
    std::string subscriber_id;
    /// The eUICC that asked; the approval is for this EID only.
    std::string eid;
    /// The rule that asked for step-up.
    std::string rule;
    approval_state state = approval_state::pending;
    /// one_time_code_record: salt, mac, attempts, max_attempts, used.
    bytes code_salt;
    bytes code_mac;
    int code_attempts = 0;
    int code_max_attempts = 5;
    bool code_used = false;
    time_point created_at{};
    time_point expires_at{};
    std::optional<time_point> decided_at;
    /// "subscriber:<id>", "operator:<id>", "admin:<name>".
    std::optional<std::string> decided_by;
};

/// The defences' persistent state.
class defense_store {
public:
    virtual ~defense_store() = default;

    // ---- blocklist and stolen devices ----------------------------------
    [[nodiscard]] virtual result<std::vector<blocklist_row>> load_blocklist() = 0;
    /// Inserts or replaces the row of the same (kind, value).
    [[nodiscard]] virtual result<void> save_block(const blocklist_row& row) = 0;
    /// not_found when there was none.
    [[nodiscard]] virtual result<void> remove_block(std::string_view kind,
                                                    std::string_view value) = 0;
    [[nodiscard]] virtual result<std::vector<stolen_row>> load_stolen() = 0;
    /// Inserts or replaces the row of the same EID.
    [[nodiscard]] virtual result<void> save_stolen(const stolen_row& row) = 0;
    /// not_found when there was none.
    [[nodiscard]] virtual result<void> remove_stolen(std::string_view eid) = 0;

    // ---- alerts inbox ---------------------------------------------------
    /// conflict if the id exists.
    [[nodiscard]] virtual result<void> add_alert(const alert_row& row) = 0;
    [[nodiscard]] virtual result<std::vector<alert_row>> list_alerts(const alert_query& q) = 0;
    /// not_found when unknown. Acknowledging twice keeps the first.
    [[nodiscard]] virtual result<alert_row>
    acknowledge_alert(std::string_view id, std::string_view by, time_point now) = 0;

    // ---- subscribers and lines -----------------------------------------
    /// conflict if the id exists.
    [[nodiscard]] virtual result<void> add_subscriber(const subscriber_record& s) = 0;
    [[nodiscard]] virtual result<subscriber_record> find_subscriber(std::string_view id) = 0;
    [[nodiscard]] virtual result<std::vector<subscriber_record>> list_subscribers() = 0;
    /// Stores the TOTP secret (enrolment; resets totp_last_step). not_found.
    [[nodiscard]] virtual result<void> set_totp_secret(std::string_view subscriber_id,
                                                       std::optional<bytes> secret) = 0;
    /// Compare-and-set of totp_last_step: succeeds only when the stored
    /// value equals `expected`, so that one code is never accepted twice
    /// across threads or nodes. state_mismatch otherwise.
    [[nodiscard]] virtual result<void> advance_totp_step(std::string_view subscriber_id,
                                                         std::optional<std::int64_t> expected,
                                                         std::int64_t step) = 0;

    /// Links an ICCID to a subscriber (replacing an earlier link).
    /// not_found for an unknown subscriber.
    [[nodiscard]] virtual result<line_record> link_line(std::string_view iccid,
                                                        std::string_view subscriber_id,
                                                        bool step_up_on_new_eid,
                                                        time_point now) = 0;
    /// not_found when the ICCID is linked to no one.
    [[nodiscard]] virtual result<line_record> find_line(std::string_view iccid) = 0;
    [[nodiscard]] virtual result<std::vector<line_record>>
    list_lines(std::string_view subscriber_id) = 0;
    /// Freezes (reason set) or thaws (nullopt) a line. not_found.
    [[nodiscard]] virtual result<line_record>
    set_line_frozen(std::string_view iccid, std::optional<std::string> reason, time_point now) = 0;
    /// Sets whether a new EID needs the subscriber's approval. not_found.
    [[nodiscard]] virtual result<line_record> set_step_up_on_new_eid(std::string_view iccid,
                                                                     bool on) = 0;
    /// Remembers that `eid` held this line (after an install). Idempotent.
    [[nodiscard]] virtual result<void> add_known_eid(std::string_view iccid,
                                                     std::string_view eid) = 0;

    // ---- step-up approvals ----------------------------------------------
    /// conflict if the id exists.
    [[nodiscard]] virtual result<void> add_approval(const approval_record& a) = 0;
    [[nodiscard]] virtual result<approval_record> find_approval(std::string_view id) = 0;
    /// The newest approval for (order, eid), if any.
    [[nodiscard]] virtual result<approval_record> find_approval_for(std::string_view order_id,
                                                                    std::string_view eid) = 0;
    /// Pending approvals of a subscriber, newest first.
    [[nodiscard]] virtual result<std::vector<approval_record>>
    list_approvals(std::string_view subscriber_id, bool pending_only) = 0;
    /// Compare-and-set: writes `next` only if the stored row still has
    /// `expected`'s state, code_attempts and code_used; state_mismatch
    /// otherwise (another try got there first).
    [[nodiscard]] virtual result<approval_record> update_approval(const approval_record& expected,
                                                                  const approval_record& next) = 0;
};

/// Opens the defence tables in the SQLite database at `config.path` (the
/// same file as create_sqlite_store; every embedded migration applied).
[[nodiscard]] result<std::unique_ptr<defense_store>>
create_sqlite_defense_store(const sqlite_config& config);

} // namespace esimguard::store
