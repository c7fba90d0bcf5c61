#pragma once
/// The PostgreSQL store: one class, its methods spread over
/// operators_profiles.cpp, orders.cpp and sessions_outbox.cpp; records.hpp
/// reads records from rows.

#include "esimguard/store/store.hpp"
#include "postgres/pg.hpp"

namespace esimguard::store::postgres {

/// update_session's work on `c`, inside the caller's transaction (or alone).
result<session_record> update_session_in(connection& c, std::string_view transaction_id,
                                         session_state expected, const session_update& u,
                                         time_point now);
/// Ends a live session on `c` (wiping its secret); the row as it now is, or
/// no row when it had already ended (or does not exist).
result<rows> end_session_in(connection& c, std::string_view transaction_id, std::string_view reason,
                            time_point now);
/// transition_order's work on `c`, inside the caller's transaction.
result<order_record> transition_in(connection& c, std::string_view order_id,
                                   std::span<const order_state> from, order_state to,
                                   time_point now);

/// Appends a line to an order's history on `c`, inside the caller's transaction.
result<void> add_event(connection& c, std::string_view order_id, time_point at,
                       std::string_view name, std::string_view detail);

class postgres_store_impl final : public store {
public:
    explicit postgres_store_impl(postgres_config config) : pool_(std::move(config)) {}

    result<void> add_operator(const operator_record& op) override;
    result<operator_record> find_operator(std::string_view id) override;
    result<operator_record> find_operator_by_token_hash(std::string_view token_sha256_hex) override;
    result<operator_record> find_operator_by_client_cert(std::string_view cert_sha256_hex) override;
    result<std::vector<operator_record>> list_operators() override;

    result<void> add_profile(const profile_record& p, time_point now) override;
    result<profile_record> find_profile(std::string_view iccid) override;
    result<std::vector<profile_record>> list_profiles(const list_filter& f) override;
    result<profile_record> transition_profile(std::string_view iccid,
                                              std::span<const profile_state> from, profile_state to,
                                              time_point now) override;

    result<order_record> create_order(const order_request& r, time_point now) override;
    result<order_record> confirm_order(const confirm_request& r, time_point now) override;
    result<order_record> release_order(std::string_view order_id, time_point now) override;
    result<order_record> cancel_order(std::string_view order_id, final_profile_status final_status,
                                      time_point now) override;
    result<order_record> find_order(std::string_view order_id) override;
    result<order_record> find_order_by_matching_id(std::string_view matching_id) override;
    result<order_record> find_order_by_iccid(std::string_view iccid) override;
    result<std::vector<order_record>> list_orders(const list_filter& f) override;
    result<download_decision> begin_download(std::string_view matching_id, std::string_view eid,
                                             time_point now) override;
    result<cc_failure_outcome> record_cc_failure(std::string_view order_id,
                                                 time_point now) override;
    result<order_record> transition_order(std::string_view order_id,
                                          std::span<const order_state> from, order_state to,
                                          time_point now) override;
    result<order_record>
    transition_order_ending_session(std::string_view order_id, std::span<const order_state> from,
                                    order_state to, std::string_view transaction_id,
                                    std::string_view end_reason, time_point now) override;
    result<order_record> claim_order_for_session(std::string_view order_id,
                                                 std::string_view transaction_id,
                                                 session_state expected, const session_update& u,
                                                 time_point now) override;
    result<order_record> lock_order(std::string_view order_id, std::string_view reason,
                                    time_point now) override;
    result<order_record> unlock_order(std::string_view order_id, time_point now) override;
    result<std::vector<order_record>> expire_orders(time_point now) override;
    result<void> add_order_event(std::string_view order_id, time_point at, std::string_view name,
                                 std::string_view detail) override;
    result<std::vector<order_event>> list_order_events(std::string_view order_id) override;

    result<void> create_session(const session_record& s) override;
    result<session_record> find_session(std::string_view transaction_id) override;
    result<session_record> update_session(std::string_view transaction_id, session_state expected,
                                          const session_update& u, time_point now) override;
    result<int> record_session_cc_attempt(std::string_view transaction_id, time_point now) override;
    result<void> clear_session_secret(std::string_view transaction_id, time_point now) override;
    result<session_record> end_session(std::string_view transaction_id, std::string_view reason,
                                       time_point now) override;
    result<std::size_t> expire_sessions(time_point now) override;
    result<std::size_t> purge_sessions(time_point before) override;

    result<std::int64_t> enqueue_notification(std::string_view operator_id,
                                              std::optional<std::string_view> order_id,
                                              std::string_view body, time_point now) override;
    result<std::vector<outbox_message>>
    claim_due_notifications(time_point now, std::size_t limit,
                            std::chrono::microseconds lease) override;
    result<void> mark_notification_delivered(std::int64_t id, time_point now) override;
    result<outbox_message> reschedule_notification(std::int64_t id, const retry_policy& policy,
                                                   std::string_view last_error,
                                                   time_point now) override;
    result<outbox_message> find_notification(std::int64_t id) override;

private:
    template <class F>
    auto write(F&& f) {
        return in_transaction(pool_, std::forward<F>(f));
    }
    /// Reads are one statement each, so they run without BEGIN/COMMIT: a
    /// single statement sees one snapshot anyway, and two round trips fewer
    /// matter on the ES9+ path (find_session on every call).
    template <class F>
    auto read(F&& f) {
        return single_statement(pool_, std::forward<F>(f));
    }

    pool pool_;
};

} // namespace esimguard::store::postgres
