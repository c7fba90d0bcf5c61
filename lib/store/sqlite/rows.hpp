#pragma once
/// Column lists and row readers shared by the SQLite store's files. Each
/// reader expects the columns in the order of the matching *_columns list.

#include "esimguard/store/store.hpp"
#include "sqlite/db.hpp"

namespace esimguard::store::sqlite {

#define ESIMGUARD_OPERATOR_COLUMNS                                                                 \
    "id, display_name, token_sha256, client_cert_sha256, download_progress_url, created_at"

#define ESIMGUARD_PROFILE_COLUMNS                                                                  \
    "iccid, operator_id, profile_type, service_provider_name, profile_name, profile_class, "       \
    "state, created_at, updated_at"

#define ESIMGUARD_ORDER_COLUMNS                                                                    \
    "order_id, iccid, operator_id, profile_type, eid, matching_id, cc_sha256, cc_required, "       \
    "cc_failures, cc_failure_limit, download_attempts, download_attempt_limit, expires_at, "       \
    "state, locked, lock_reason, smds_address, created_at, updated_at"

#define ESIMGUARD_SESSION_COLUMNS                                                                  \
    "transaction_id, state, created_at, expires_at, updated_at, euicc_challenge, "                 \
    "server_challenge, server_address, ci_pkid, client_address, euicc_certificate, eid, "          \
    "order_id, smdp_signed2, smdp_signature2, euicc_otpk, smdp_otsk, smdp_otpk, cc_attempts, "     \
    "end_reason"

#define ESIMGUARD_OUTBOX_COLUMNS                                                                   \
    "id, operator_id, order_id, body, attempts, next_attempt_at, state, last_error, created_at, "  \
    "updated_at"

result<operator_record> read_operator(const statement& s);
/// Without the package (not in the column list).
result<profile_record> read_profile(const statement& s);
result<order_record> read_order(const statement& s);
result<session_record> read_session(const statement& s);
result<outbox_message> read_outbox(const statement& s);

/// Runs a prepared SELECT with one row expected: the record, or not_found.
template <class T, class Reader>
result<T> one_row(result<statement>& s, Reader&& reader, std::string_view what) {
    if (!s) {
        return std::unexpected(s.error());
    }
    auto row = s->step();
    if (!row) {
        return std::unexpected(row.error());
    }
    if (!*row) {
        return std::unexpected(not_found(what));
    }
    return reader(*s);
}

/// Runs a prepared SELECT and reads every row.
template <class T, class Reader>
result<std::vector<T>> all_rows(result<statement>& s, Reader&& reader) {
    if (!s) {
        return std::unexpected(s.error());
    }
    std::vector<T> out;
    for (;;) {
        auto row = s->step();
        if (!row) {
            return std::unexpected(row.error());
        }
        if (!*row) {
            return out;
        }
        auto v = reader(*s);
        if (!v) {
            return std::unexpected(v.error());
        }
        out.push_back(std::move(*v));
    }
}

/// Lets a void-returning run() be checked in one line.
inline bool failed(const result<void>& r) {
    return !r.has_value();
}

bool is_digits(std::string_view s);
bool valid_iccid(std::string_view s);
bool valid_eid(std::string_view s);

} // namespace esimguard::store::sqlite
