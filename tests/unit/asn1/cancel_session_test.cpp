// CancelSessionRequest, EuiccCancelSessionSigned and CancelSessionResponse
// (SGP.22 §5.7.14): encodings written out by hand from RSPDefinitions, round
// trips, signed bytes kept, and refusals.

#include "esimguard/asn1/cancel_session.hpp"

#include "rsp_samples.hpp"

#include <gtest/gtest.h>

namespace esimguard::asn1 {
namespace {

using namespace samples;

void expect_error(const auto& r, errc code) {
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(to_string(r.error().code), to_string(code));
}

// transactionId 01020304, reason postponed(1); AUTOMATIC TAGS give 80 and 81.
const bytes cancel_request_der = hx("bf41 09 80 04 01020304 81 01 01");

TEST(cancel_session_request, encodes_to_the_spec_encoding) {
    cancel_session_request v;
    v.transaction_id = hx("01020304");
    v.reason = cancel_session_reason::postponed;
    EXPECT_EQ(to_hex(encode(v)), to_hex(cancel_request_der));
}

TEST(cancel_session_request, spec_encoding_decodes) {
    auto r = decode_cancel_session_request(cancel_request_der);
    ASSERT_TRUE(r.has_value()) << to_string(r.error().code);
    EXPECT_EQ(to_hex(r->transaction_id), "01020304");
    EXPECT_EQ(r->reason, cancel_session_reason::postponed);
}

TEST(cancel_session_request, every_spec_reason_round_trips) {
    for (auto reason :
         {cancel_session_reason::end_user_rejection, cancel_session_reason::postponed,
          cancel_session_reason::timeout, cancel_session_reason::ppr_not_allowed,
          cancel_session_reason::metadata_mismatch, cancel_session_reason::load_bpp_execution_error,
          cancel_session_reason::undefined_reason}) {
        cancel_session_request v;
        v.transaction_id = hx("ff");
        v.reason = reason;
        auto r = decode_cancel_session_request(encode(v));
        ASSERT_TRUE(r.has_value());
        EXPECT_EQ(*r, v);
    }
}

TEST(cancel_session_request, missing_reason_is_refused_as_missing_field) {
    auto r = decode_cancel_session_request(hx("bf41 06 80 04 01020304"));
    expect_error(r, errc::missing_field);
    EXPECT_EQ(r.error().field, "reason");
}

TEST(cancel_session_request, universal_integer_instead_of_reason_is_refused) {
    expect_error(decode_cancel_session_request(hx("bf41 09 80 04 01020304 02 01 01")),
                 errc::unexpected_tag);
}

TEST(cancel_session_request, bytes_after_the_request_are_refused) {
    expect_error(decode_cancel_session_request(cat({cancel_request_der, hx("00")})),
                 errc::trailing_bytes);
}

// ---- EuiccCancelSessionSigned -----------------------------------------------

// transactionId a1a2a3a4, smdpOid 2.999.10, reason endUserRejection(0).
const bytes cancel_signed_der = hx("30 0e 80 04 a1a2a3a4 81 03 88370a 82 01 00");

TEST(euicc_cancel_session_signed, encodes_to_the_spec_encoding) {
    auto v = sample_cancel_ok().cancel_signed;
    EXPECT_EQ(to_hex(encode(v)), to_hex(cancel_signed_der));
}

TEST(euicc_cancel_session_signed, spec_encoding_decodes_and_keeps_its_bytes) {
    auto r = decode_euicc_cancel_session_signed(cancel_signed_der);
    ASSERT_TRUE(r.has_value()) << to_string(r.error().code);
    auto expected = sample_cancel_ok().cancel_signed;
    expected.raw = cancel_signed_der;
    EXPECT_EQ(*r, expected);
}

TEST(euicc_cancel_session_signed, oid_with_a_padded_sub_identifier_is_refused) {
    expect_error(
        decode_euicc_cancel_session_signed(hx("30 0f 80 04 a1a2a3a4 81 04 8088370a 82 01 00")),
        errc::invalid_value);
}

TEST(euicc_cancel_session_signed, oid_ending_inside_a_sub_identifier_is_refused) {
    expect_error(
        decode_euicc_cancel_session_signed(hx("30 0e 80 04 a1a2a3a4 81 03 88378a 82 01 00")),
        errc::invalid_value);
}

TEST(euicc_cancel_session_signed, empty_oid_is_refused) {
    expect_error(decode_euicc_cancel_session_signed(hx("30 0b 80 04 a1a2a3a4 81 00 82 01 00")),
                 errc::invalid_value);
}

// ---- CancelSessionResponse --------------------------------------------------

TEST(cancel_session_response, ok_round_trips_and_keeps_signed_bytes) {
    const cancel_session_response v = sample_cancel_ok();
    const bytes der = encode(v);
    auto r = decode_cancel_session_response(der);
    ASSERT_TRUE(r.has_value()) << to_string(r.error().code) << " at " << r.error().offset;
    const auto& ok = std::get<cancel_session_response_ok>(*r);
    EXPECT_EQ(ok.cancel_signed.raw, cancel_signed_der);
    EXPECT_EQ(ok.euicc_cancel_session_signature, filled<64>(0x99));
    EXPECT_EQ(encode(*r), der);
}

TEST(cancel_session_response, ok_known_encoding_decodes) {
    const bytes der = cat({hx("bf41 55 a0 53"), cancel_signed_der, hx("5f37 40"), bytes(64, 0x99)});
    auto r = decode_cancel_session_response(der);
    ASSERT_TRUE(r.has_value()) << to_string(r.error().code);
    auto expected = sample_cancel_ok();
    expected.cancel_signed.raw = cancel_signed_der;
    EXPECT_EQ(std::get<cancel_session_response_ok>(*r), expected);
}

TEST(cancel_session_response, error_decodes_from_the_spec_encoding) {
    const bytes der = hx("bf41 03 81 01 05");
    auto r = decode_cancel_session_response(der);
    ASSERT_TRUE(r.has_value()) << to_string(r.error().code);
    EXPECT_EQ(std::get<cancel_session_error_code>(*r),
              cancel_session_error_code::invalid_transaction_id);
    EXPECT_EQ(encode(*r), der);
}

TEST(cancel_session_response, signature_of_65_bytes_is_refused_as_invalid_value) {
    const bytes der = cat({hx("bf41 56 a0 54"), cancel_signed_der, hx("5f37 41"), bytes(65, 0x99)});
    expect_error(decode_cancel_session_response(der), errc::invalid_value);
}

TEST(cancel_session_response, request_encoding_is_not_taken_for_a_response) {
    expect_error(decode_cancel_session_response(cancel_request_der), errc::unexpected_tag);
}

TEST(cancel_session_response, error_and_ok_together_are_refused) {
    const bytes der =
        cat({hx("bf41 58 a0 53"), cancel_signed_der, hx("5f37 40"), bytes(64, 0x99), hx("810105")});
    expect_error(decode_cancel_session_response(der), errc::trailing_bytes);
}

} // namespace
} // namespace esimguard::asn1
