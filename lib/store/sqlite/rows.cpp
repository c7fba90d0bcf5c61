#include "sqlite/rows.hpp"

#include <algorithm>

namespace esimguard::store::sqlite {

namespace {

error corrupt_state(std::string_view table) {
    return {errc::corrupt, std::string("unknown state in table ") + std::string(table)};
}

} // namespace

bool is_digits(std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool valid_iccid(std::string_view s) {
    // PROTOCOL-NOTES: 18–20 digits as ES2+ carries them (no F padding).
    return s.size() >= 18 && s.size() <= 20 && is_digits(s);
}

bool valid_eid(std::string_view s) {
    return s.size() == 32 && is_digits(s);
}

result<operator_record> read_operator(const statement& s) {
    operator_record o;
    o.id = s.text(0);
    o.display_name = s.text(1);
    o.token_sha256_hex = s.text(2);
    o.client_cert_sha256_hex = s.opt_text(3);
    o.download_progress_url = s.opt_text(4);
    o.created_at = s.time(5);
    return o;
}

result<profile_record> read_profile(const statement& s) {
    profile_record p;
    p.iccid = s.text(0);
    p.operator_id = s.text(1);
    p.profile_type = s.text(2);
    p.metadata.service_provider_name = s.text(3);
    p.metadata.profile_name = s.text(4);
    int k = s.integer(5);
    if (k < 0 || k > 2) {
        return std::unexpected(error{errc::corrupt, "unknown profile class"});
    }
    p.metadata.klass = static_cast<profile_class>(k);
    auto st = profile_state_from_string(s.text(6));
    if (!st) {
        return std::unexpected(corrupt_state("profiles"));
    }
    p.state = *st;
    p.created_at = s.time(7);
    p.updated_at = s.time(8);
    return p;
}

result<order_record> read_order(const statement& s) {
    order_record o;
    o.order_id = s.text(0);
    o.iccid = s.text(1);
    o.operator_id = s.text(2);
    o.profile_type = s.text(3);
    o.eid = s.opt_text(4);
    o.matching_id = s.opt_text(5);
    o.cc_sha256 = s.opt_blob(6);
    o.cc_required = s.boolean(7);
    o.cc_failures = s.integer(8);
    o.cc_failure_limit = s.integer(9);
    o.download_attempts = s.integer(10);
    o.download_attempt_limit = s.integer(11);
    o.expires_at = s.time(12);
    auto st = profile_state_from_string(s.text(13));
    if (!st) {
        return std::unexpected(corrupt_state("orders"));
    }
    o.state = *st;
    o.locked = s.boolean(14);
    o.lock_reason = s.opt_text(15);
    o.smds_address = s.opt_text(16);
    o.created_at = s.time(17);
    o.updated_at = s.time(18);
    return o;
}

result<session_record> read_session(const statement& s) {
    session_record r;
    r.transaction_id = s.text(0);
    auto st = session_state_from_string(s.text(1));
    if (!st) {
        return std::unexpected(corrupt_state("sessions"));
    }
    r.state = *st;
    r.created_at = s.time(2);
    r.expires_at = s.time(3);
    r.updated_at = s.time(4);
    r.euicc_challenge = s.blob(5);
    r.server_challenge = s.blob(6);
    r.server_address = s.text(7);
    r.ci_pkid = s.blob(8);
    r.client_address = s.opt_text(9);
    r.euicc_certificate = s.opt_blob(10);
    r.eid = s.opt_text(11);
    r.order_id = s.opt_text(12);
    r.smdp_signed2 = s.opt_blob(13);
    r.smdp_signature2 = s.opt_blob(14);
    r.euicc_otpk = s.opt_blob(15);
    r.smdp_otsk = s.opt_blob(16);
    r.smdp_otpk = s.opt_blob(17);
    r.cc_attempts = s.integer(18);
    r.end_reason = s.opt_text(19);
    return r;
}

result<outbox_message> read_outbox(const statement& s) {
    outbox_message m;
    m.id = s.int64(0);
    m.operator_id = s.text(1);
    m.order_id = s.opt_text(2);
    m.body = s.text(3);
    m.attempts = s.integer(4);
    m.next_attempt_at = s.time(5);
    auto st = outbox_state_from_string(s.text(6));
    if (!st) {
        return std::unexpected(corrupt_state("outbox"));
    }
    m.state = *st;
    m.last_error = s.opt_text(7);
    m.created_at = s.time(8);
    m.updated_at = s.time(9);
    return m;
}

} // namespace esimguard::store::sqlite
