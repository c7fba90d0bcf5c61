#pragma once
/// The tamper-evident audit trail (issue 4 §4): every ES9+/ES2+ call, every
/// decision of the risk engine, every alert, admin and subscriber action is
/// appended as one event to a hash chain, and verify() names the first event
/// that was edited, deleted, inserted or reordered.
///
/// Chain rule. Event n (n = 1, 2, …) carries prev_hash = hash of event n-1
/// (32 zero bytes for n = 1) and
///
///     hash = SHA-256(prev_hash ‖ E)
///
/// where E, the canonical encoding (audit_canonical_encoding), is the
/// concatenation of, in this order:
///
///     str("esimguard.audit.v1")      domain and version of the encoding
///     u64(seq)
///     i64(at)                        microseconds since 1970-01-01T00:00:00Z
///     str(actor)  str(kind)
///     opt(eid)  opt(iccid)  opt(source_address)
///     str(outcome)  str(reason)  str(detail)
///
///     u64 / i64 = 8 bytes big-endian (two's complement for i64)
///     str(x)    = u32 big-endian byte length of x ‖ the bytes of x
///     opt(x)    = 0x00 when absent, 0x01 ‖ str(x) when present
///
/// Fields are raw bytes, never re-encoded, and `detail` is hashed as the
/// exact stored text (append() stores it in compact form with sorted keys),
/// so the hash does not depend on JSON whitespace or a serialiser.
///
/// The head (seq and hash of the last event) is also written to a head file
/// outside the database (temp file, fsync, rename, fsync of the directory),
/// so that deleting events at the end, or recomputing the whole chain after
/// an edit, is caught as well. What the chain cannot stop: someone who can
/// write both the database and the head file, or who appends well-formed
/// events at the end before the next legitimate append moves the head file
/// past them. SHA-256 is unkeyed; see docs/SECURITY.md.

#include "esimguard/store/audit.hpp"

#include <cstdint>
#include <expected>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace esimguard::defense {

/// What went wrong in an audit call.
enum class audit_errc {
    invalid_argument, ///< an entry the chain refuses (detail not a JSON object, field too long)
    store_failure,    ///< the database failed (message from the store)
    head_file_failure ///< the head file could not be read or written
};

/// An audit error; `message` never holds a code or a key.
struct audit_error {
    audit_errc code;
    std::string message;
};

template <class T>
using audit_result = std::expected<T, audit_error>;

/// What a caller records; the chain adds seq, time and the hashes.
struct audit_entry {
    store::audit_kind kind = store::audit_kind::es9p_call;
    /// Who acted, e.g. "lpa", "operator:op1", "admin:alice", "engine".
    std::string actor;
    std::optional<std::string> eid;
    std::optional<std::string> iccid;
    /// Peer IP address as text, without port.
    std::optional<std::string> source_address;
    /// "ok", "refused", "error", "blocked", …
    std::string outcome;
    /// The rule, the SGP.22 status or the refusal reason.
    std::string reason;
    /// A JSON object as text; empty means {}. Stored compact with sorted
    /// keys. Must not carry codes, keys or secrets.
    std::string detail_json;
    /// When it happened, if the caller knows better than the chain's clock
    /// at append time (audit_writer stamps entries when submitted, so that a
    /// queued event keeps the time of the call, not of its batch).
    std::optional<store::time_point> at = std::nullopt;
};

/// The canonical encoding E of an event (see the file comment). Reads every
/// field but prev_hash and hash.
[[nodiscard]] bytes audit_canonical_encoding(const store::audit_event& e);

/// SHA-256(prev_hash ‖ audit_canonical_encoding(e)), 32 bytes.
[[nodiscard]] bytes audit_event_hash(byte_view prev_hash, const store::audit_event& e);

/// How the chain was broken, as verify() names it.
enum class audit_break_kind {
    none,         ///< the chain is intact
    edited,       ///< an event's fields no longer give its hash, or were re-hashed
    deleted,      ///< an event is missing (seq gap, or a predecessor that no longer exists)
    inserted,     ///< an event that the chain never contained (a fork, or past the head file)
    reordered,    ///< an event stands before the one it links to
    truncated,    ///< events at the end are gone: the head file is ahead of the database
    rewritten,    ///< the chain links up but the head file's hash differs: recomputed after an edit
    head_missing, ///< a head file is configured but absent while the database has events
    head_invalid, ///< the head file cannot be parsed
};

std::string_view to_string(audit_break_kind k);

/// The result of verify().
struct audit_verification {
    /// True when kind is none.
    bool ok = true;
    audit_break_kind kind = audit_break_kind::none;
    /// The first bad event's seq (for truncated: the first missing one;
    /// for rewritten: the head file's seq); 0 when ok.
    std::int64_t seq = 0;
    /// Events that checked out before the first bad one.
    std::int64_t events_checked = 0;
    /// The last event of the database that verified, if any.
    std::optional<store::audit_head> verified_head;
    /// The head file's content, when one was read.
    std::optional<store::audit_head> file_head;
    /// One line for people (no event contents).
    std::string message;
};

/// Configuration of the audit chain.
struct audit_chain_config {
    /// Where the head is written outside the database. Empty: no head file
    /// (tests; truncation at the end then goes unnoticed).
    std::filesystem::path head_file;
    /// The time stamped on events; system_clock when unset.
    std::function<store::time_point()> clock = nullptr;
    /// Events read per page by verify().
    std::size_t verify_page_size = 1000;
};

/// Appends to, verifies and queries the audit chain. Thread-safe; appends
/// from several threads are serialised and the chain stays linear. Other
/// processes may append to the same database and head file at the same time
/// (the store's write lock and a lock file beside the head file order them).
class audit_chain {
public:
    /// Takes the log; reads nothing yet.
    [[nodiscard]] static std::unique_ptr<audit_chain>
    create(std::unique_ptr<store::audit_log_store> log, audit_chain_config config);

    /// Appends one event and moves the head file to it; returns the stored
    /// event. On head_file_failure the event IS stored (the message gives its
    /// seq); the head file is then behind and verify() will say so until the
    /// next successful append. The head file is never moved forward over a
    /// head it cannot find in the database: that is evidence of tampering and
    /// is kept (head_file_failure).
    [[nodiscard]] audit_result<store::audit_event> append(const audit_entry& entry);

    /// Appends `entries` in order as consecutive events in ONE store
    /// transaction and moves the head file once, to the last: the group
    /// commit behind audit_writer. Every entry is checked first; one invalid
    /// entry fails the whole batch (invalid_argument, nothing stored). Same
    /// head-file rules as append().
    [[nodiscard]] audit_result<std::vector<store::audit_event>>
    append_batch(std::span<const audit_entry> entries);

    /// Checks an entry as append() would (actor, outcome, field sizes,
    /// detail a JSON object), without storing it.
    [[nodiscard]] static audit_result<void> check(const audit_entry& entry);

    /// Walks the whole chain in seq order and checks it against the head
    /// file; reports the first bad event. An error only when the database or
    /// the head file cannot be read at all.
    [[nodiscard]] audit_result<audit_verification> verify();

    /// Activation records for `audit show --iccid|--eid|--ip`, oldest first.
    /// The events are returned as stored; run verify() to trust them.
    [[nodiscard]] audit_result<std::vector<store::audit_event>>
    activation_records(const store::audit_query& q);

private:
    audit_chain(std::unique_ptr<store::audit_log_store> log, audit_chain_config config);
    audit_result<void> move_head_file(const store::audit_head& head);

    std::unique_ptr<store::audit_log_store> log_;
    audit_chain_config config_;
    std::mutex append_mutex_;
};

} // namespace esimguard::defense
