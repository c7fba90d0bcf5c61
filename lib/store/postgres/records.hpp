#pragma once
/// Column lists and row readers shared by the PostgreSQL store's files. Each
/// reader expects the columns in the order of the matching *_COLUMNS list,
/// the same order as the SQLite store's (lib/store/sqlite/rows.hpp).

#include "esimguard/store/store.hpp"
#include "postgres/pg.hpp"

namespace esimguard::store::postgres {

#define ESIMGUARD_PG_OPERATOR_COLUMNS                                                              \
    "id, display_name, token_sha256, client_cert_sha256, download_progress_url, created_at"

#define ESIMGUARD_PG_PROFILE_COLUMNS                                                               \
    "iccid, operator_id, profile_type, service_provider_name, profile_name, profile_class, "       \
    "state, created_at, updated_at"

#define ESIMGUARD_PG_ORDER_COLUMNS                                                                 \
    "order_id, iccid, operator_id, profile_type, eid, matching_id, cc_sha256, cc_required, "       \
    "cc_failures, cc_failure_limit, download_attempts, download_attempt_limit, expires_at, "       \
    "state, locked, lock_reason, smds_address, created_at, updated_at"

#define ESIMGUARD_PG_SESSION_COLUMNS                                                               \
    "transaction_id, state, created_at, expires_at, updated_at, euicc_challenge, "                 \
    "server_challenge, server_address, ci_pkid, client_address, euicc_certificate, eid, "          \
    "order_id, smdp_signed2, smdp_signature2, euicc_otpk, smdp_otsk, smdp_otpk, cc_attempts, "     \
    "end_reason"

#define ESIMGUARD_PG_OUTBOX_COLUMNS                                                                \
    "id, operator_id, order_id, body, attempts, next_attempt_at, state, last_error, created_at, "  \
    "updated_at"

result<operator_record> read_operator(const rows& r);
/// Without the package (not in the column list).
result<profile_record> read_profile(const rows& r);
result<order_record> read_order(const rows& r);
result<session_record> read_session(const rows& r);
result<outbox_message> read_outbox(const rows& r);

/// The first row read by `reader`, or not_found(what) when there is none.
template <class Reader>
auto first_row(result<rows>& r, Reader&& reader, std::string_view what)
    -> decltype(reader(std::declval<const rows&>())) {
    if (!r) {
        return std::unexpected(r.error());
    }
    if (r->empty()) {
        return std::unexpected(not_found(what));
    }
    return reader(r->at(0));
}

/// Every row read by `reader`.
template <class T, class Reader>
result<std::vector<T>> every_row(result<rows>& r, Reader&& reader) {
    if (!r) {
        return std::unexpected(r.error());
    }
    std::vector<T> out;
    out.reserve(static_cast<std::size_t>(r->size()));
    for (int i = 0; i < r->size(); ++i) {
        auto v = reader(r->at(i));
        if (!v) {
            return std::unexpected(v.error());
        }
        out.push_back(std::move(*v));
    }
    return out;
}

bool valid_iccid(std::string_view s);
bool valid_eid(std::string_view s);

} // namespace esimguard::store::postgres
