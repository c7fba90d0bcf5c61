#pragma once
// Typed SGP.22 values and their DER for the rsp packer tests.

#include "esimguard/asn1/authentication.hpp"
#include "esimguard/asn1/cancel_session.hpp"
#include "esimguard/asn1/download.hpp"
#include "esimguard/asn1/euicc_info.hpp"
#include "esimguard/asn1/metadata.hpp"
#include "esimguard/asn1/notifications.hpp"

#include <gtest/gtest.h>

#include <string_view>

namespace esimguard::rsp::test {

inline bytes hx(std::string_view text) {
    auto b = from_hex(text);
    if (!b) {
        ADD_FAILURE() << "bad hex in test: " << text;
        return {};
    }
    return *b;
}

template <std::size_t N>
std::array<std::uint8_t, N> filled(std::uint8_t v) {
    std::array<std::uint8_t, N> a{};
    a.fill(v);
    return a;
}

inline bytes ci_pkid() {
    return hx("81370f5125d0b1d408d4c3b232e6d25e795bebfb");
}

// The codecs only need one TLV tagged 30 where a certificate goes.
inline bytes fake_cert(std::uint8_t marker) {
    return {0x30, 0x03, 0x02, 0x01, marker};
}

inline asn1::euicc_info1 info1() {
    asn1::euicc_info1 v;
    v.svn = {2, 2, 2};
    v.ci_pkid_list_for_verification = {ci_pkid()};
    v.ci_pkid_list_for_signing = {ci_pkid()};
    return v;
}

inline asn1::euicc_info2 info2() {
    asn1::euicc_info2 v;
    v.profile_version = {2, 3, 1};
    v.svn = {2, 2, 2};
    v.euicc_firmware_ver = {4, 6, 0};
    v.ext_card_resource = hx("810100820400045ba0830224b0");
    v.uicc_capability = asn1::bit_string::from_bits({1, 2, 4});
    v.rsp_capability = asn1::bit_string::from_bits({0, 1});
    v.ci_pkid_list_for_verification = {ci_pkid()};
    v.ci_pkid_list_for_signing = {ci_pkid()};
    v.pp_version = {0, 0, 1};
    v.sas_accreditation_number = "GI-BA-UP-0419";
    return v;
}

// What lpac sends: TAC 35290611 and an empty deviceCapabilities.
inline asn1::ctx_params1 lpac_ctx(std::string matching_id) {
    asn1::ctx_params1 c;
    c.matching_id = std::move(matching_id);
    c.device.tac = {0x35, 0x29, 0x06, 0x11};
    return c;
}

inline bytes transaction_id() {
    return hx("0102030405060708090A0B0C0D0E0F10");
}

inline asn1::authenticate_server_response auth_ok() {
    asn1::authenticate_response_ok ok;
    ok.euicc_signed.transaction_id = transaction_id();
    ok.euicc_signed.server_address = "smdp.example.com";
    ok.euicc_signed.server_challenge = filled<16>(0x22);
    ok.euicc_signed.info2 = info2();
    ok.euicc_signed.ctx_params = lpac_ctx("QR-G-5C-KR-1PVHLVE");
    ok.euicc_signature1 = filled<64>(0x44);
    ok.euicc_certificate = fake_cert(2);
    ok.eum_certificate = fake_cert(3);
    return ok;
}

inline asn1::server_signed1 server_signed1() {
    asn1::server_signed1 s;
    s.transaction_id = transaction_id();
    s.euicc_challenge = filled<16>(0x11);
    s.server_address = "smdp.example.com";
    s.server_challenge = filled<16>(0x22);
    return s;
}

inline asn1::smdp_signed2 smdp_signed2() {
    asn1::smdp_signed2 s;
    s.transaction_id = transaction_id();
    s.cc_required = true;
    return s;
}

inline asn1::store_metadata_request metadata() {
    asn1::store_metadata_request m;
    m.iccid = *asn1::iccid_value::parse("8944000000000000001");
    m.service_provider_name = "esimguard";
    m.profile_name = "Test profile";
    return m;
}

inline asn1::prepare_download_response prepare_ok() {
    asn1::prepare_download_response_ok ok;
    ok.euicc_signed.transaction_id = transaction_id();
    ok.euicc_signed.euicc_otpk = bytes(65, 0x04);
    ok.euicc_signature2 = filled<64>(0x88);
    return ok;
}

inline asn1::cancel_session_response cancel_ok() {
    asn1::cancel_session_response_ok ok;
    ok.cancel_signed.transaction_id = transaction_id();
    ok.cancel_signed.smdp_oid = hx("88370a");
    ok.cancel_signed.reason = asn1::cancel_session_reason::end_user_rejection;
    ok.euicc_cancel_session_signature = filled<64>(0x99);
    return ok;
}

inline asn1::pending_notification other_notification() {
    asn1::other_signed_notification n;
    n.tbs_other_notification.seq_number = 7;
    n.tbs_other_notification.profile_management_operation =
        asn1::bit_string::from_bits({asn1::notification_enable});
    n.tbs_other_notification.notification_address = "smdp.example.com";
    n.tbs_other_notification.iccid = *asn1::iccid_value::parse("8944000000000000001");
    n.euicc_notification_signature = filled<64>(0x12);
    n.euicc_certificate = fake_cert(2);
    n.eum_certificate = fake_cert(3);
    return n;
}

} // namespace esimguard::rsp::test
