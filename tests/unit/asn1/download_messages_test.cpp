// SmdpSigned2, PrepareDownloadRequest, EUICCSigned2 and PrepareDownloadResponse
// (SGP.22 §5.7.5): encodings written out by hand from RSPDefinitions, round
// trips, signed bytes kept, and refusals.

#include "esimguard/asn1/download.hpp"

#include "rsp_samples.hpp"

#include <gtest/gtest.h>

namespace esimguard::asn1 {
namespace {

using namespace samples;

void expect_error(const auto& r, errc code) {
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(to_string(r.error().code), to_string(code));
}

// ---- SmdpSigned2 ------------------------------------------------------------

// transactionId a1a2a3a4, ccRequiredFlag TRUE, no bppEuiccOtpk.
const bytes smdp_signed2_der = hx("30 09 80 04 a1a2a3a4 01 01 ff");

TEST(smdp_signed2, encodes_to_the_spec_encoding) {
    smdp_signed2 v;
    v.transaction_id = hx("a1a2a3a4");
    v.cc_required = true;
    EXPECT_EQ(to_hex(encode(v)), to_hex(smdp_signed2_der));
}

TEST(smdp_signed2, spec_encoding_decodes_and_keeps_its_bytes) {
    auto r = decode_smdp_signed2(smdp_signed2_der);
    ASSERT_TRUE(r.has_value()) << to_string(r.error().code);
    EXPECT_EQ(to_hex(r->transaction_id), "a1a2a3a4");
    EXPECT_TRUE(r->cc_required);
    EXPECT_FALSE(r->bpp_euicc_otpk.has_value());
    EXPECT_EQ(r->raw, smdp_signed2_der);
}

TEST(smdp_signed2, non_der_boolean_is_refused) {
    expect_error(decode_smdp_signed2(hx("30 09 80 04 a1a2a3a4 01 01 01")), errc::invalid_value);
}

TEST(smdp_signed2, retry_with_bound_otpk_round_trips) {
    smdp_signed2 v;
    v.transaction_id = hx("a1a2a3a4");
    v.bpp_euicc_otpk = cat({hx("04"), bytes(64, 0x5a)});
    const bytes der = encode(v);
    auto r = decode_smdp_signed2(der);
    ASSERT_TRUE(r.has_value());
    v.raw = der;
    EXPECT_EQ(*r, v);
}

TEST(smdp_signed2, missing_cc_required_flag_is_refused_as_missing_field) {
    auto r = decode_smdp_signed2(hx("30 06 80 04 a1a2a3a4"));
    expect_error(r, errc::missing_field);
    EXPECT_EQ(r.error().field, "ccRequiredFlag");
}

// ---- PrepareDownloadRequest -------------------------------------------------

TEST(prepare_download_request, round_trips_with_hash_cc) {
    const auto v = sample_prepare_request();
    const bytes der = encode(v);
    auto r = decode_prepare_download_request(der);
    ASSERT_TRUE(r.has_value()) << to_string(r.error().code) << " at " << r.error().offset;
    auto expected = v;
    expected.smdp_signed.raw = encode(v.smdp_signed);
    EXPECT_EQ(*r, expected);
    EXPECT_EQ(encode(*r), der);
}

TEST(prepare_download_request, round_trips_without_hash_cc) {
    auto v = sample_prepare_request();
    v.smdp_signed.cc_required = false;
    v.hash.reset();
    const bytes der = encode(v);
    auto r = decode_prepare_download_request(der);
    ASSERT_TRUE(r.has_value()) << to_string(r.error().code);
    EXPECT_FALSE(r->hash.has_value());
    EXPECT_EQ(encode(*r), der);
}

TEST(prepare_download_request, known_encoding_decodes) {
    // smdpSigned2, a 64-byte signature, no hashCc, a stand-in certificate.
    const bytes der = cat(
        {hx("bf21 53"), smdp_signed2_der, hx("5f37 40"), bytes(64, 0x55), hx("30 03 02 01 04")});
    auto r = decode_prepare_download_request(der);
    ASSERT_TRUE(r.has_value()) << to_string(r.error().code);
    EXPECT_EQ(r->smdp_signed.raw, smdp_signed2_der);
    EXPECT_EQ(r->smdp_signature2, filled<64>(0x55));
    EXPECT_EQ(r->smdp_certificate, hx("30 03 02 01 04"));
}

TEST(prepare_download_request, hash_cc_of_31_bytes_is_refused_as_invalid_value) {
    const bytes der = cat({hx("bf21 74"), smdp_signed2_der, hx("5f37 40"), bytes(64, 0x55),
                           hx("04 1f"), bytes(31, 0x66), hx("30 03 02 01 04")});
    auto r = decode_prepare_download_request(der);
    expect_error(r, errc::invalid_value);
    EXPECT_EQ(r.error().field, "hashCc");
}

TEST(prepare_download_request, missing_certificate_is_refused_as_missing_field) {
    const bytes der = cat({hx("bf21 4e"), smdp_signed2_der, hx("5f37 40"), bytes(64, 0x55)});
    auto r = decode_prepare_download_request(der);
    expect_error(r, errc::missing_field);
    EXPECT_EQ(r.error().field, "smdpCertificate");
}

TEST(prepare_download_request, signature_under_another_tag_is_refused) {
    const bytes der = cat(
        {hx("bf21 53"), smdp_signed2_der, hx("5f38 40"), bytes(64, 0x55), hx("30 03 02 01 04")});
    expect_error(decode_prepare_download_request(der), errc::unexpected_tag);
}

// ---- PrepareDownloadResponse ------------------------------------------------

TEST(prepare_download_response, ok_round_trips_and_keeps_euicc_signed2_bytes) {
    const prepare_download_response v = sample_prepare_ok();
    const bytes der = encode(v);
    auto r = decode_prepare_download_response(der);
    ASSERT_TRUE(r.has_value()) << to_string(r.error().code) << " at " << r.error().offset;
    auto expected = sample_prepare_ok();
    expected.euicc_signed.raw = encode(expected.euicc_signed);
    EXPECT_EQ(std::get<prepare_download_response_ok>(*r), expected);
    EXPECT_EQ(encode(*r), der);
}

TEST(prepare_download_response, ok_known_encoding_decodes) {
    // euiccSigned2 {a1a2a3a4, otPK 04‖77…, no hashCc}, signature 88….
    const bytes signed2 = cat({hx("30 4a 80 04 a1a2a3a4 5f49 41 04"), bytes(64, 0x77)});
    const bytes der = cat({hx("bf21 81 92 a0 81 8f"), signed2, hx("5f37 40"), bytes(64, 0x88)});
    auto r = decode_prepare_download_response(der);
    ASSERT_TRUE(r.has_value()) << to_string(r.error().code) << " at " << r.error().offset;
    const auto& ok = std::get<prepare_download_response_ok>(*r);
    EXPECT_EQ(ok.euicc_signed.raw, signed2);
    EXPECT_EQ(ok.euicc_signed.euicc_otpk.size(), 65u);
    EXPECT_FALSE(ok.euicc_signed.hash.has_value());
    EXPECT_EQ(encode(*r), der);
}

TEST(prepare_download_response, error_decodes_from_the_spec_encoding) {
    // transactionId a1a2a3a4, invalidTransactionId(5).
    const bytes der = hx("bf21 0b a1 09 80 04 a1a2a3a4 02 01 05");
    auto r = decode_prepare_download_response(der);
    ASSERT_TRUE(r.has_value()) << to_string(r.error().code);
    const auto& err = std::get<prepare_download_response_error>(*r);
    EXPECT_EQ(err.code, download_error_code::invalid_transaction_id);
    EXPECT_EQ(encode(*r), der);
}

TEST(prepare_download_response, missing_euicc_otpk_is_refused) {
    const bytes der =
        cat({hx("bf21 51 a0 4f 30 0a 80 04 a1a2a3a4 04 02 0000 5f37 40"), bytes(64, 0x88)});
    auto r = decode_prepare_download_response(der);
    expect_error(r, errc::unexpected_tag);
    EXPECT_EQ(r.error().field, "euiccOtpk");
}

TEST(prepare_download_response, empty_euicc_otpk_is_refused_as_invalid_value) {
    auto ok = sample_prepare_ok();
    ok.euicc_signed.euicc_otpk = {};
    expect_error(decode_prepare_download_response(encode(prepare_download_response{ok})),
                 errc::invalid_value);
}

TEST(prepare_download_response, missing_signature_is_refused_as_missing_field) {
    auto ok = sample_prepare_ok();
    writer w;
    w.begin(tag_prepare_download).begin(0xA0).add_raw(encode(ok.euicc_signed)).end().end();
    auto r = decode_prepare_download_response(std::move(w).finish());
    expect_error(r, errc::missing_field);
    EXPECT_EQ(r.error().field, "euiccSignature2");
}

TEST(prepare_download_response, request_encoding_is_not_taken_for_a_response) {
    expect_error(decode_prepare_download_response(encode(sample_prepare_request())),
                 errc::unexpected_tag);
}

} // namespace
} // namespace esimguard::asn1
