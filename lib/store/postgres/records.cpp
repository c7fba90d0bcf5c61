#include "postgres/records.hpp"

#include <algorithm>

namespace esimguard::store::postgres {

namespace {

error corrupt_state(std::string_view table) {
    return {errc::corrupt, std::string("unknown state in table ") + std::string(table)};
}

bool is_digits(std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

} // namespace

bool valid_iccid(std::string_view s) {
    return s.size() >= 18 && s.size() <= 20 && is_digits(s);
}

bool valid_eid(std::string_view s) {
    return s.size() == 32 && is_digits(s);
}

result<operator_record> read_operator(const rows& r) {
    operator_record o;
    o.id = r.text(0);
    o.display_name = r.text(1);
    o.token_sha256_hex = r.text(2);
    o.client_cert_sha256_hex = r.opt_text(3);
    o.download_progress_url = r.opt_text(4);
    o.created_at = r.time(5);
    return o;
}

result<profile_record> read_profile(const rows& r) {
    profile_record p;
    p.iccid = r.text(0);
    p.operator_id = r.text(1);
    p.profile_type = r.text(2);
    p.metadata.service_provider_name = r.text(3);
    p.metadata.profile_name = r.text(4);
    int k = r.integer(5);
    if (k < 0 || k > 2) {
        return std::unexpected(error{errc::corrupt, "unknown profile class"});
    }
    p.metadata.klass = static_cast<profile_class>(k);
    auto st = profile_state_from_string(r.text(6));
    if (!st) {
        return std::unexpected(corrupt_state("profiles"));
    }
    p.state = *st;
    p.created_at = r.time(7);
    p.updated_at = r.time(8);
    return p;
}

result<order_record> read_order(const rows& r) {
    order_record o;
    o.order_id = r.text(0);
    o.iccid = r.text(1);
    o.operator_id = r.text(2);
    o.profile_type = r.text(3);
    o.eid = r.opt_text(4);
    o.matching_id = r.opt_text(5);
    o.cc_sha256 = r.opt_blob(6);
    o.cc_required = r.boolean(7);
    o.cc_failures = r.integer(8);
    o.cc_failure_limit = r.integer(9);
    o.download_attempts = r.integer(10);
    o.download_attempt_limit = r.integer(11);
    o.expires_at = r.time(12);
    auto st = profile_state_from_string(r.text(13));
    if (!st) {
        return std::unexpected(corrupt_state("orders"));
    }
    o.state = *st;
    o.locked = r.boolean(14);
    o.lock_reason = r.opt_text(15);
    o.smds_address = r.opt_text(16);
    o.created_at = r.time(17);
    o.updated_at = r.time(18);
    return o;
}

result<session_record> read_session(const rows& r) {
    session_record s;
    s.transaction_id = r.text(0);
    auto st = session_state_from_string(r.text(1));
    if (!st) {
        return std::unexpected(corrupt_state("sessions"));
    }
    s.state = *st;
    s.created_at = r.time(2);
    s.expires_at = r.time(3);
    s.updated_at = r.time(4);
    s.euicc_challenge = r.blob(5);
    s.server_challenge = r.blob(6);
    s.server_address = r.text(7);
    s.ci_pkid = r.blob(8);
    s.client_address = r.opt_text(9);
    s.euicc_certificate = r.opt_blob(10);
    s.eid = r.opt_text(11);
    s.order_id = r.opt_text(12);
    s.smdp_signed2 = r.opt_blob(13);
    s.smdp_signature2 = r.opt_blob(14);
    s.euicc_otpk = r.opt_blob(15);
    s.smdp_otsk = r.opt_blob(16);
    s.smdp_otpk = r.opt_blob(17);
    s.cc_attempts = r.integer(18);
    s.end_reason = r.opt_text(19);
    return s;
}

result<outbox_message> read_outbox(const rows& r) {
    outbox_message m;
    m.id = r.int64(0);
    m.operator_id = r.text(1);
    m.order_id = r.opt_text(2);
    m.body = r.text(3);
    m.attempts = r.integer(4);
    m.next_attempt_at = r.time(5);
    auto st = outbox_state_from_string(r.text(6));
    if (!st) {
        return std::unexpected(corrupt_state("outbox"));
    }
    m.state = *st;
    m.last_error = r.opt_text(7);
    m.created_at = r.time(8);
    m.updated_at = r.time(9);
    return m;
}

} // namespace esimguard::store::postgres
