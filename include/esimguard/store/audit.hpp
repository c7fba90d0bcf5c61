#pragma once
/// Persistence of the hash-chained audit log (issue 4 §4): the stored form of
/// an audit event and the `audit_log_store` interface that the defense
/// module's audit chain writes through. The store keeps rows and enforces the
/// chain's shape (seq = head + 1, prev_hash = head's hash, one writer at a
/// time); it computes no hash itself, so it needs no crypto.

#include "esimguard/store/sqlite_store.hpp"
#include "esimguard/store/types.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace esimguard::store {

/// What an audit event records. Stored by its to_string() name, which is also
/// what the chain hashes: never rename a value, only add new ones.
enum class audit_kind {
    es9p_call,        ///< an ES9+ request from an LPA and how it was answered
    es2p_call,        ///< an ES2+ request from an operator
    decision,         ///< a rule of the risk engine decided something (block, pause, step-up)
    alert,            ///< an alert was raised
    admin_action,     ///< an operator or security staff changed something through the admin API/CLI
    subscriber_action ///< a subscriber acted in the portal (approve, freeze, report stolen)
};

std::string_view to_string(audit_kind k);
std::optional<audit_kind> audit_kind_from_string(std::string_view s);

/// One event of the chain, as stored. `hash` = SHA-256(prev_hash ‖ canonical
/// encoding of the other fields); see esimguard/defense/audit_chain.hpp.
struct audit_event {
    /// Position in the chain: 1 for the first event, then +1 each, no gaps.
    std::int64_t seq = 0;
    /// When it happened, UTC, kept to whole microseconds.
    time_point at{};
    /// Who acted: "lpa", "operator:<id>", "admin:<name>", "engine", "subscriber:<id>".
    std::string actor;
    /// The to_string() name of an audit_kind. Text rather than the enum so that
    /// a row whose kind was tampered with can still be read and reported.
    std::string kind;
    std::optional<std::string> eid;
    std::optional<std::string> iccid;
    /// The peer's IP address as text (v4 dotted or v6), without port.
    std::optional<std::string> source_address;
    /// Short machine-readable result: "ok", "refused", "error", "blocked", …
    std::string outcome;
    /// Why, for people: the rule name, the SGP.22 status, the refusal reason.
    std::string reason;
    /// Compact JSON text; hashed and stored as these exact bytes.
    std::string detail;
    /// 32 bytes: the hash of event seq-1, or 32 zero bytes for seq 1.
    bytes prev_hash;
    /// 32 bytes.
    bytes hash;
};

/// The last event of the chain: what the next append links to.
struct audit_head {
    std::int64_t seq = 0;
    bytes hash;
};

/// Which activation records `audit show` wants. Exactly one of iccid, eid,
/// source_address is normally set; several are combined with AND, none means
/// every event. Results come in time order (then seq).
struct audit_query {
    std::optional<std::string> iccid;
    std::optional<std::string> eid;
    std::optional<std::string> source_address;
    std::optional<time_point> from; ///< inclusive
    std::optional<time_point> to;   ///< exclusive
    /// At most this many events, the oldest first.
    std::size_t limit = 1000;
};

/// Builds the event to append from the current head (nullopt for an empty
/// chain). Runs inside the append's write transaction, so the head cannot
/// move while it runs: it must be quick and must not call the store.
using audit_sealer = std::function<result<audit_event>(const std::optional<audit_head>& head)>;

/// Builds several events at once from the current head, in chain order (the
/// first links to `head`, each next one to the one before). Same rules as
/// audit_sealer.
using audit_batch_sealer =
    std::function<result<std::vector<audit_event>>(const std::optional<audit_head>& head)>;

/// Where audit events live. Implementations are thread-safe.
class audit_log_store {
public:
    virtual ~audit_log_store() = default;

    /// Appends one event in one write transaction: reads the head, asks
    /// `seal` for the event, checks that it links (seq = head + 1, prev_hash
    /// = head hash, or seq 1 and 32 zero bytes), inserts it. Writers are
    /// serialised, so the chain stays linear under concurrent appends; a
    /// sealer error rolls back and is returned. invalid_argument if the event
    /// does not link or a hash is not 32 bytes.
    [[nodiscard]] virtual result<audit_event> append(const audit_sealer& seal) = 0;

    /// Appends every event `seal` returns in ONE write transaction (one
    /// commit, one fsync: the group commit of defense::audit_writer), with
    /// the same link checks as append(); all or nothing. An empty batch
    /// writes nothing. The default appends one event per transaction (not
    /// atomic, slow: a backend should override it); if another writer slips
    /// in between, the rest fails with invalid_argument and nothing forks.
    [[nodiscard]] virtual result<std::vector<audit_event>>
    append_batch(const audit_batch_sealer& seal);

    /// The last event's seq and hash, or nullopt when the chain is empty.
    [[nodiscard]] virtual result<std::optional<audit_head>> head() = 0;

    /// Up to `limit` events with seq > `after_seq`, in seq order: the walk of
    /// verify(). Rows are returned as stored, tampered or not.
    [[nodiscard]] virtual result<std::vector<audit_event>> scan(std::int64_t after_seq,
                                                                std::size_t limit) = 0;

    /// The seqs of every stored event whose hash is `hash` (normally zero or one).
    [[nodiscard]] virtual result<std::vector<std::int64_t>> seqs_with_hash(byte_view hash) = 0;

    /// Activation records: events matching `q`, oldest first.
    [[nodiscard]] virtual result<std::vector<audit_event>> query(const audit_query& q) = 0;
};

/// Opens the audit log in the SQLite database at `config.path`: the same
/// file as create_sqlite_store (both apply every embedded migration), with
/// its own connections. Writers of the two contend through SQLite's lock and
/// busy timeout. ":memory:" gives a private database (tests).
[[nodiscard]] result<std::unique_ptr<audit_log_store>>
create_sqlite_audit_log(const sqlite_config& config);

} // namespace esimguard::store
