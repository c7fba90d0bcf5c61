#pragma once
// Sample SGP.22 message values shared by the message codec tests, and a hex
// helper for encodings written out by hand.

#include "esimguard/asn1/authentication.hpp"
#include "esimguard/asn1/cancel_session.hpp"
#include "esimguard/asn1/download.hpp"
#include "esimguard/asn1/euicc_info.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace esimguard::asn1::samples {

// Hex with optional spaces.
inline bytes hx(std::string_view text) {
    std::string compact;
    for (char c : text) {
        if (c != ' ') {
            compact.push_back(c);
        }
    }
    auto b = from_hex(compact);
    if (!b) {
        ADD_FAILURE() << "bad hex in test: " << text;
        return {};
    }
    return *b;
}

inline bytes cat(std::initializer_list<bytes> parts) {
    bytes out;
    for (const auto& p : parts) {
        out.insert(out.end(), p.begin(), p.end());
    }
    return out;
}

template <std::size_t N>
std::array<std::uint8_t, N> filled(std::uint8_t v) {
    std::array<std::uint8_t, N> a{};
    a.fill(v);
    return a;
}

// The GSMA test CI key identifier (NIST P-256, SGP.26), as eUICCs list it.
inline bytes test_ci_pkid() {
    return hx("81370f5125d0b1d408d4c3b232e6d25e795bebfb");
}

// Stand-ins for certificates: the codec only requires one TLV tagged 30.
inline bytes fake_cert(std::uint8_t marker) {
    return {0x30, 0x03, 0x02, 0x01, marker};
}

inline euicc_info1 sample_info1() {
    euicc_info1 v;
    v.svn = {2, 2, 2};
    v.ci_pkid_list_for_verification = {test_ci_pkid()};
    v.ci_pkid_list_for_signing = {test_ci_pkid()};
    return v;
}

inline euicc_info2 sample_info2() {
    euicc_info2 v;
    v.profile_version = {2, 3, 1};
    v.svn = {2, 2, 2};
    v.euicc_firmware_ver = {4, 6, 0};
    v.ext_card_resource = hx("810100820400045ba0830224b0");
    v.uicc_capability = bit_string::from_bits({1, 2, 4, 6, 7, 14, 16});
    v.ts102241_version = version_type{9, 2, 0};
    v.globalplatform_version = version_type{2, 3, 0};
    v.rsp_capability = bit_string::from_bits({0, 1, 3});
    v.ci_pkid_list_for_verification = {test_ci_pkid(),
                                       hx("c0bc70ba36929d43b467ff57570530e57ab8fcd8")};
    v.ci_pkid_list_for_signing = {test_ci_pkid()};
    v.euicc_category = 2;
    v.forbidden_profile_policy_rules = bit_string::from_bits({1, 2});
    v.pp_version = {0, 0, 1};
    v.sas_accreditation_number = "GI-BA-UP-0419";
    v.certification_data = certification_data_object{"label", "https://dloa.example", {}};
    return v;
}

inline ctx_params1 sample_ctx() {
    ctx_params1 c;
    c.matching_id = "QR-G-5C-KR-1PVHLVE";
    c.device.tac = {0x35, 0x29, 0x06, 0x11};
    c.device.capabilities.gsm_supported_release = version_type{15, 0, 0};
    c.device.capabilities.eutran_supported_release = version_type{15, 0, 0};
    c.device.imei = std::array<std::uint8_t, 8>{0x35, 0x29, 0x06, 0x11, 0x12, 0x34, 0x56, 0x7f};
    return c;
}

inline server_signed1 sample_server_signed1() {
    server_signed1 s;
    s.transaction_id = hx("0102030405060708090a0b0c0d0e0f10");
    s.euicc_challenge = filled<16>(0x11);
    s.server_address = "smdp.example.com";
    s.server_challenge = filled<16>(0x22);
    return s;
}

inline authenticate_server_request sample_auth_request() {
    authenticate_server_request r;
    r.server_signed = sample_server_signed1();
    r.server_signature1 = filled<64>(0x33);
    r.euicc_ci_pkid_to_be_used = test_ci_pkid();
    r.server_certificate = fake_cert(1);
    r.ctx_params = sample_ctx();
    return r;
}

inline authenticate_response_ok sample_auth_ok() {
    authenticate_response_ok ok;
    ok.euicc_signed.transaction_id = hx("0102030405060708090a0b0c0d0e0f10");
    ok.euicc_signed.server_address = "smdp.example.com";
    ok.euicc_signed.server_challenge = filled<16>(0x22);
    ok.euicc_signed.info2 = sample_info2();
    ok.euicc_signed.ctx_params = sample_ctx();
    ok.euicc_signature1 = filled<64>(0x44);
    ok.euicc_certificate = fake_cert(2);
    ok.eum_certificate = fake_cert(3);
    return ok;
}

inline prepare_download_request sample_prepare_request() {
    prepare_download_request r;
    r.smdp_signed.transaction_id = hx("a1a2a3a4");
    r.smdp_signed.cc_required = true;
    r.smdp_signature2 = filled<64>(0x55);
    r.hash = filled<32>(0x66);
    r.smdp_certificate = fake_cert(4);
    return r;
}

inline prepare_download_response_ok sample_prepare_ok() {
    prepare_download_response_ok ok;
    ok.euicc_signed.transaction_id = hx("a1a2a3a4");
    ok.euicc_signed.euicc_otpk = cat({hx("04"), bytes(64, 0x77)});
    ok.euicc_signed.hash = filled<32>(0x66);
    ok.euicc_signature2 = filled<64>(0x88);
    return ok;
}

inline cancel_session_response_ok sample_cancel_ok() {
    cancel_session_response_ok ok;
    ok.cancel_signed.transaction_id = hx("a1a2a3a4");
    // 2.999.10: an OID from the example arc, as in a test DPauth certificate.
    ok.cancel_signed.smdp_oid = hx("88370a");
    ok.cancel_signed.reason = cancel_session_reason::end_user_rejection;
    ok.euicc_cancel_session_signature = filled<64>(0x99);
    return ok;
}

} // namespace esimguard::asn1::samples
