// The audit chain (issue 4 §4): appends under one lock and one store
// transaction, the head file beside the database, and verify(), which walks
// the chain in seq order and classifies the first break it finds.

#include "esimguard/defense/audit_chain.hpp"

#include "audit/head_file.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>

namespace esimguard::defense {

namespace {

constexpr std::size_t hash_size = 32;
// Bounds one event, so that an attacker-controlled string (an EID, a reason
// quoting input) cannot make the audit log the easiest way to fill a disk.
constexpr std::size_t max_field_size = 1024;
constexpr std::size_t max_detail_size = 16 * 1024;
// How far a renumbering after a deletion is recognised (see classify()).
constexpr std::int64_t max_renumber_shift = 16;

audit_error from_store(const store::error& e) {
    return {audit_errc::store_failure, e.message};
}

audit_error invalid(std::string message) {
    return {audit_errc::invalid_argument, std::move(message)};
}

bool content_ok(const store::audit_event& e) {
    return e.prev_hash.size() == hash_size && e.hash.size() == hash_size &&
           audit_event_hash(e.prev_hash, e) == e.hash;
}

audit_verification broken(audit_break_kind kind, std::int64_t seq, std::string message) {
    audit_verification v;
    v.ok = false;
    v.kind = kind;
    v.seq = seq;
    v.message = std::move(message);
    return v;
}

audit_result<std::string> canonical_detail(std::string_view text) {
    if (text.empty()) {
        return std::string("{}");
    }
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        return std::unexpected(invalid("audit detail must be a JSON object"));
    }
    // Compact and with sorted keys (nlohmann's object is a std::map); invalid
    // UTF-8 cannot reach here since parse refused it.
    auto out = j.dump();
    if (out.size() > max_detail_size) {
        return std::unexpected(invalid("audit detail too long"));
    }
    return out;
}

audit_result<void> check_entry(const audit_entry& e) {
    auto too_long = [](const std::optional<std::string>& s) {
        return s && s->size() > max_field_size;
    };
    if (e.actor.empty() || e.outcome.empty()) {
        return std::unexpected(invalid("audit entry needs an actor and an outcome"));
    }
    if (e.actor.size() > max_field_size || e.outcome.size() > max_field_size ||
        e.reason.size() > max_field_size || too_long(e.eid) || too_long(e.iccid) ||
        too_long(e.source_address)) {
        return std::unexpected(invalid("audit entry field too long"));
    }
    return {};
}

/// Decides what the first row that does not continue the chain is. `r` is
/// that row, `next` the one after it in seq order (if any), `expected_seq`
/// and `expected_prev` what the chain wanted at this position.
audit_result<audit_verification> classify(store::audit_log_store& log, const store::audit_event& r,
                                          const store::audit_event* next, std::int64_t expected_seq,
                                          const bytes& expected_prev,
                                          const std::optional<store::audit_head>& file) {
    if (r.seq > expected_seq) {
        return broken(
            audit_break_kind::deleted, expected_seq,
            fmt::format("event {} is missing (the next stored event is {})", expected_seq, r.seq));
    }
    if (r.seq < expected_seq) {
        // Only possible if the table's constraints were replaced.
        return broken(audit_break_kind::inserted, r.seq,
                      fmt::format("event {} stands where event {} should", r.seq, expected_seq));
    }
    bool self_ok = content_ok(r);
    if (r.prev_hash == expected_prev) {
        // Linked where it should be, so its own fields changed.
        return broken(audit_break_kind::edited, r.seq,
                      fmt::format("event {} does not match its hash: it was edited", r.seq));
    }
    // It does not link to the event before it. Who does it claim to follow?
    auto owners = log.seqs_with_hash(r.prev_hash);
    if (!owners) {
        return std::unexpected(from_store(owners.error()));
    }
    for (auto s : *owners) {
        if (s > r.seq) {
            return broken(audit_break_kind::reordered, r.seq,
                          fmt::format("event {} follows event {}, which is stored after it: "
                                      "events were reordered",
                                      r.seq, s));
        }
    }
    if (!owners->empty()) {
        // It follows an earlier event than the one before it: whatever stands
        // between that event and this one is a fork the chain never had.
        auto s = *std::max_element(owners->begin(), owners->end());
        return broken(audit_break_kind::inserted, s + 1,
                      fmt::format("events {} to {} were inserted (event {} links to event {})",
                                  s + 1, r.seq - 1, r.seq, s));
    }
    // It follows an event that no longer exists.
    if (file && r.seq > file->seq) {
        return broken(
            audit_break_kind::inserted, r.seq,
            fmt::format("event {} is past the head file and does not link: forged", r.seq));
    }
    if (next && next->prev_hash == expected_prev) {
        return broken(
            audit_break_kind::inserted, r.seq,
            fmt::format("event {} was inserted: the event after it links past it", r.seq));
    }
    if (self_ok && r.seq > 1) {
        // Its own hash is right, so the event it followed is the one that
        // changed, and was given a new hash to hide it.
        return broken(audit_break_kind::edited, r.seq - 1,
                      fmt::format("event {} was edited and re-hashed (event {} still links to "
                                  "its old hash)",
                                  r.seq - 1, r.seq));
    }
    // Its hash fits a higher seq: events were deleted and the rest renumbered.
    for (std::int64_t d = 1; d <= max_renumber_shift && r.prev_hash.size() == hash_size; ++d) {
        auto original = r;
        original.seq = r.seq + d;
        if (audit_event_hash(r.prev_hash, original) == r.hash) {
            return broken(audit_break_kind::deleted, r.seq,
                          fmt::format("event {} was deleted and later events renumbered "
                                      "(event {} was stored as {})",
                                      r.seq, r.seq + d, r.seq));
        }
    }
    return broken(audit_break_kind::edited, r.seq,
                  fmt::format("event {} matches neither its hash nor its predecessor", r.seq));
}

} // namespace

std::string_view to_string(audit_break_kind k) {
    switch (k) {
    case audit_break_kind::none:
        return "none";
    case audit_break_kind::edited:
        return "edited";
    case audit_break_kind::deleted:
        return "deleted";
    case audit_break_kind::inserted:
        return "inserted";
    case audit_break_kind::reordered:
        return "reordered";
    case audit_break_kind::truncated:
        return "truncated";
    case audit_break_kind::rewritten:
        return "rewritten";
    case audit_break_kind::head_missing:
        return "head_missing";
    case audit_break_kind::head_invalid:
        return "head_invalid";
    }
    return "unknown";
}

std::unique_ptr<audit_chain> audit_chain::create(std::unique_ptr<store::audit_log_store> log,
                                                 audit_chain_config config) {
    return std::unique_ptr<audit_chain>(new audit_chain(std::move(log), std::move(config)));
}

audit_chain::audit_chain(std::unique_ptr<store::audit_log_store> log, audit_chain_config config)
    : log_(std::move(log)), config_(std::move(config)) {
    if (!config_.clock) {
        config_.clock = [] { return std::chrono::system_clock::now(); };
    }
    config_.verify_page_size = std::max<std::size_t>(config_.verify_page_size, 2);
}

namespace {

/// The event `entry` becomes when it follows `head`.
store::audit_event seal_event(const audit_entry& entry, std::string detail,
                              const std::optional<store::audit_head>& head, store::time_point at) {
    store::audit_event e;
    e.seq = head ? head->seq + 1 : 1;
    // Kept to whole microseconds as the store keeps them, or the hash would
    // not survive the round trip.
    e.at = std::chrono::floor<std::chrono::microseconds>(at);
    e.actor = entry.actor;
    e.kind = std::string(store::to_string(entry.kind));
    e.eid = entry.eid;
    e.iccid = entry.iccid;
    e.source_address = entry.source_address;
    e.outcome = entry.outcome;
    e.reason = entry.reason;
    e.detail = std::move(detail);
    e.prev_hash = head ? head->hash : bytes(hash_size, 0);
    e.hash = audit_event_hash(e.prev_hash, e);
    return e;
}

} // namespace

audit_result<void> audit_chain::check(const audit_entry& entry) {
    if (auto c = check_entry(entry); !c) {
        return c;
    }
    if (auto d = canonical_detail(entry.detail_json); !d) {
        return std::unexpected(d.error());
    }
    return {};
}

audit_result<store::audit_event> audit_chain::append(const audit_entry& entry) {
    if (auto c = check_entry(entry); !c) {
        return std::unexpected(c.error());
    }
    auto detail = canonical_detail(entry.detail_json);
    if (!detail) {
        return std::unexpected(detail.error());
    }
    // The mutex orders the head-file writes the same way as the commits;
    // the store's own write lock alone would let a later append's head file
    // land before an earlier one's.
    std::lock_guard lock(append_mutex_);
    auto stored = log_->append(
        [&](const std::optional<store::audit_head>& head) -> store::result<store::audit_event> {
            // Stamped under the lock, so times follow seq within a process.
            return seal_event(entry, *detail, head, entry.at ? *entry.at : config_.clock());
        });
    if (!stored) {
        return std::unexpected(from_store(stored.error()));
    }
    if (!config_.head_file.empty()) {
        if (auto m = move_head_file({stored->seq, stored->hash}); !m) {
            return std::unexpected(audit_error{
                m.error().code, fmt::format("audit event {} was stored, but the head file was "
                                            "not moved: {}",
                                            stored->seq, m.error().message)});
        }
    }
    return std::move(*stored);
}

audit_result<std::vector<store::audit_event>>
audit_chain::append_batch(std::span<const audit_entry> entries) {
    std::vector<std::string> details;
    details.reserve(entries.size());
    for (const auto& entry : entries) {
        if (auto c = check_entry(entry); !c) {
            return std::unexpected(c.error());
        }
        auto detail = canonical_detail(entry.detail_json);
        if (!detail) {
            return std::unexpected(detail.error());
        }
        details.push_back(std::move(*detail));
    }
    if (entries.empty()) {
        return std::vector<store::audit_event>{};
    }
    std::lock_guard lock(append_mutex_);
    auto stored = log_->append_batch([&](const std::optional<store::audit_head>& head)
                                         -> store::result<std::vector<store::audit_event>> {
        std::vector<store::audit_event> out;
        out.reserve(entries.size());
        std::optional<store::audit_head> h = head;
        for (std::size_t i = 0; i < entries.size(); ++i) {
            out.push_back(seal_event(entries[i], details[i], h,
                                     entries[i].at ? *entries[i].at : config_.clock()));
            h = store::audit_head{out.back().seq, out.back().hash};
        }
        return out;
    });
    if (!stored) {
        return std::unexpected(from_store(stored.error()));
    }
    if (!config_.head_file.empty()) {
        const auto& last = stored->back();
        if (auto m = move_head_file({last.seq, last.hash}); !m) {
            return std::unexpected(audit_error{
                m.error().code,
                fmt::format("audit events {} to {} were stored, but the head file was not "
                            "moved: {}",
                            stored->front().seq, last.seq, m.error().message)});
        }
    }
    return std::move(*stored);
}

audit_result<void> audit_chain::move_head_file(const store::audit_head& head) {
    auto lock = audit::head_file_lock::acquire(config_.head_file);
    if (!lock) {
        return std::unexpected(lock.error());
    }
    auto current = audit::read_head_file(config_.head_file);
    if (!current) {
        // An unreadable or foreign head file is evidence too: keep it.
        return std::unexpected(current.error());
    }
    if (*current) {
        const auto& f = **current;
        if (f.seq > head.seq) {
            // Another process already moved it further; commits and head
            // writes of different processes need not come in the same order.
            return {};
        }
        if (f.seq == head.seq && f.hash == head.hash) {
            return {};
        }
        // Only ever move forward from a head the database still holds;
        // otherwise the file is the evidence of a truncation or rewrite.
        // (One indexed lookup per append.)
        auto owners = log_->seqs_with_hash(f.hash);
        if (!owners) {
            return std::unexpected(from_store(owners.error()));
        }
        if (f.seq == head.seq ||
            std::find(owners->begin(), owners->end(), f.seq) == owners->end()) {
            return std::unexpected(audit_error{
                audit_errc::head_file_failure,
                fmt::format("the head file names event {} with a hash the database does not "
                            "hold: the chain was truncated or rewritten; head file kept",
                            f.seq)});
        }
    }
    return audit::write_head_file(config_.head_file, head);
}

audit_result<audit_verification> audit_chain::verify() {
    std::optional<store::audit_head> file;
    bool have_file = !config_.head_file.empty();
    if (have_file) {
        auto f = audit::read_head_file(config_.head_file);
        if (!f) {
            if (f.error().code == audit_errc::invalid_argument) {
                return broken(audit_break_kind::head_invalid, 0, f.error().message);
            }
            return std::unexpected(f.error());
        }
        file = std::move(*f);
    }

    std::int64_t expected_seq = 1;
    bytes expected_prev(hash_size, 0);
    std::optional<store::audit_head> good;
    std::int64_t checked = 0;
    auto finish = [&](audit_verification v) {
        v.events_checked = checked;
        v.verified_head = good;
        v.file_head = file;
        return v;
    };

    std::int64_t after = 0;
    for (;;) {
        auto page = log_->scan(after, config_.verify_page_size);
        if (!page) {
            return std::unexpected(from_store(page.error()));
        }
        if (page->empty()) {
            break;
        }
        for (std::size_t i = 0; i < page->size(); ++i) {
            const auto& r = (*page)[i];
            if (r.seq == expected_seq && r.prev_hash == expected_prev && content_ok(r)) {
                if (file && r.seq == file->seq && r.hash != file->hash) {
                    return finish(broken(
                        audit_break_kind::rewritten, r.seq,
                        fmt::format("event {} links up but its hash differs from the head file: "
                                    "the chain was recomputed after an edit at or before it",
                                    r.seq)));
                }
                expected_seq = r.seq + 1;
                expected_prev = r.hash;
                good = store::audit_head{r.seq, r.hash};
                ++checked;
                continue;
            }
            // One row of look-ahead helps tell an insertion from an edit.
            std::optional<store::audit_event> next;
            if (i + 1 < page->size()) {
                next = (*page)[i + 1];
            } else {
                auto more = log_->scan(r.seq, 1);
                if (!more) {
                    return std::unexpected(from_store(more.error()));
                }
                if (!more->empty()) {
                    next = std::move(more->front());
                }
            }
            auto v = classify(*log_, r, next ? &*next : nullptr, expected_seq, expected_prev, file);
            if (!v) {
                return std::unexpected(v.error());
            }
            return finish(std::move(*v));
        }
        after = page->back().seq;
    }

    std::int64_t last = good ? good->seq : 0;
    if (!have_file) {
        audit_verification v;
        v.message = fmt::format("{} events verified (no head file: the end is not anchored)", last);
        return finish(std::move(v));
    }
    if (!file) {
        if (last == 0) {
            return finish(audit_verification{.message = "the audit log is empty"});
        }
        return finish(broken(audit_break_kind::head_missing, 0,
                             fmt::format("the head file {} is missing but the database holds {} "
                                         "events",
                                         config_.head_file.string(), last)));
    }
    if (file->seq > last) {
        return finish(broken(audit_break_kind::truncated, last + 1,
                             fmt::format("the head file names event {} but the database ends at "
                                         "{}: events were deleted at the end",
                                         file->seq, last)));
    }
    if (file->seq < last) {
        // A writer may have committed and moved the head file while we
        // walked; read it again before calling the tail forged.
        auto again = audit::read_head_file(config_.head_file);
        if (again && *again && (*again)->seq == last && (*again)->hash == good->hash) {
            file = std::move(*again);
        } else {
            return finish(broken(
                audit_break_kind::inserted, file->seq + 1,
                fmt::format("events {} to {} are past the head file (event {}): appended outside "
                            "esimguard, or the head file write of a crashed append was lost",
                            file->seq + 1, last, file->seq)));
        }
    }
    audit_verification v;
    v.message = fmt::format("{} events verified; the head file matches event {}", last, last);
    return finish(std::move(v));
}

audit_result<std::vector<store::audit_event>>
audit_chain::activation_records(const store::audit_query& q) {
    auto r = log_->query(q);
    if (!r) {
        return std::unexpected(from_store(r.error()));
    }
    return std::move(*r);
}

} // namespace esimguard::defense
