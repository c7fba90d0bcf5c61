// ServerSigned1, CtxParams1, AuthenticateServerRequest, EuiccSigned1 and
// AuthenticateServerResponse (SGP.22 §5.7.13): encodings written out by hand
// from RSPDefinitions, round trips, signed bytes kept, and refusals.

#include "esimguard/asn1/authentication.hpp"

#include "rsp_samples.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace esimguard::asn1 {
namespace {

using namespace samples;

void expect_error(const auto& r, errc code) {
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(to_string(r.error().code), to_string(code));
}

const bytes challenge11 = bytes(16, 0x11);
const bytes challenge22 = bytes(16, 0x22);

// transactionId 01, euiccChallenge 11…, serverAddress "smdp.io", serverChallenge 22….
const bytes server_signed1_der =
    cat({hx("30 30 80 01 01 81 10"), challenge11, hx("83 07 736d64702e696f 84 10"), challenge22});

server_signed1 minimal_server_signed1() {
    server_signed1 s;
    s.transaction_id = {0x01};
    s.euicc_challenge = filled<16>(0x11);
    s.server_address = "smdp.io";
    s.server_challenge = filled<16>(0x22);
    return s;
}

// ---- ServerSigned1 ----------------------------------------------------------

TEST(server_signed1, minimal_value_encodes_to_the_spec_encoding) {
    EXPECT_EQ(to_hex(encode(minimal_server_signed1())), to_hex(server_signed1_der));
}

TEST(server_signed1, spec_encoding_decodes_and_keeps_its_bytes) {
    auto r = decode_server_signed1(server_signed1_der);
    ASSERT_TRUE(r.has_value()) << to_string(r.error().code);
    auto expected = minimal_server_signed1();
    expected.raw = server_signed1_der;
    EXPECT_EQ(*r, expected);
}

TEST(server_signed1, missing_server_challenge_is_refused_as_missing_field) {
    const bytes der = cat({hx("30 1e 80 01 01 81 10"), challenge11, hx("83 07 736d64702e696f")});
    auto r = decode_server_signed1(der);
    expect_error(r, errc::missing_field);
    EXPECT_EQ(r.error().field, "serverChallenge");
}

TEST(server_signed1, fifteen_byte_euicc_challenge_is_refused_as_invalid_value) {
    const bytes der = cat({hx("30 2f 80 01 01 81 0f"), bytes(15, 0x11),
                           hx("83 07 736d64702e696f 84 10"), challenge22});
    expect_error(decode_server_signed1(der), errc::invalid_value);
}

TEST(server_signed1, transaction_id_of_17_bytes_is_refused_as_invalid_value) {
    auto v = minimal_server_signed1();
    v.transaction_id = bytes(17, 0xab);
    expect_error(decode_server_signed1(encode(v)), errc::invalid_value);
    v.transaction_id = bytes(16, 0xab);
    EXPECT_TRUE(decode_server_signed1(encode(v)).has_value());
}

TEST(server_signed1, empty_transaction_id_is_refused_as_invalid_value) {
    auto v = minimal_server_signed1();
    v.transaction_id = {};
    expect_error(decode_server_signed1(encode(v)), errc::invalid_value);
}

TEST(server_signed1, malformed_utf8_in_server_address_is_refused) {
    auto v = minimal_server_signed1();
    v.server_address = std::string("smdp\xc0\xaf.io"); // overlong '/'
    expect_error(decode_server_signed1(encode(v)), errc::invalid_value);
    v.server_address = "smdp-\xc3\xa9.io"; // a real 'é' passes
    EXPECT_TRUE(decode_server_signed1(encode(v)).has_value());
}

TEST(server_signed1, fields_out_of_order_are_refused) {
    const bytes der = cat({hx("30 30 81 10"), challenge11, hx("80 01 01"),
                           hx("83 07 736d64702e696f 84 10"), challenge22});
    expect_error(decode_server_signed1(der), errc::unexpected_tag);
}

TEST(server_signed1, bytes_after_the_sequence_are_refused) {
    expect_error(decode_server_signed1(cat({server_signed1_der, hx("0000")})),
                 errc::trailing_bytes);
}

// ---- CtxParams1 -------------------------------------------------------------

TEST(ctx_params1, lpac_device_info_with_empty_capabilities_is_accepted) {
    // No matchingId, TAC 35290611, empty deviceCapabilities, no IMEI.
    const bytes der = hx("a0 0a a1 08 80 04 35290611 a1 00");
    auto r = decode_ctx_params1(der);
    ASSERT_TRUE(r.has_value()) << to_string(r.error().code);
    EXPECT_FALSE(r->matching_id.has_value());
    EXPECT_EQ(to_hex(r->device.tac), "35290611");
    EXPECT_EQ(r->device.capabilities, device_capabilities{});
    EXPECT_FALSE(r->device.imei.has_value());
    EXPECT_EQ(encode(*r), der);
}

TEST(ctx_params1, sample_round_trips_with_matching_id_and_imei) {
    const auto v = sample_ctx();
    auto r = decode_ctx_params1(encode(v));
    ASSERT_TRUE(r.has_value()) << to_string(r.error().code);
    EXPECT_EQ(*r, v);
}

TEST(ctx_params1, tac_of_eight_bytes_is_refused_as_invalid_value) {
    expect_error(decode_ctx_params1(hx("a0 0e a1 0c 80 08 3529061100000000 a1 00")),
                 errc::invalid_value);
}

TEST(ctx_params1, missing_device_info_is_refused_as_missing_field) {
    auto r = decode_ctx_params1(hx("a0 03 80 01 41"));
    expect_error(r, errc::missing_field);
    EXPECT_EQ(r.error().field, "deviceInfo");
}

TEST(ctx_params1, newer_device_capabilities_are_kept_raw) {
    // nrEpcSupportedRelease [9] of later versions, after eutran [5].
    const bytes der = hx("a0 13 a1 11 80 04 35290611 a1 09 85 03 0f0000 89 02 0f00");
    auto r = decode_ctx_params1(der);
    ASSERT_TRUE(r.has_value()) << to_string(r.error().code);
    ASSERT_EQ(r->device.capabilities.extensions.size(), 1u);
    EXPECT_EQ(encode(*r), der);
}

TEST(ctx_params1, another_choice_alternative_is_refused) {
    expect_error(decode_ctx_params1(hx("a1 0a a1 08 80 04 35290611 a1 00")), errc::unexpected_tag);
}

// ---- AuthenticateServerRequest ----------------------------------------------

TEST(authenticate_server_request, round_trips_and_keeps_server_signed1_bytes) {
    const auto v = sample_auth_request();
    const bytes der = encode(v);
    auto r = decode_authenticate_server_request(der);
    ASSERT_TRUE(r.has_value()) << to_string(r.error().code) << " at " << r.error().offset;
    auto expected = v;
    expected.server_signed.raw = encode(v.server_signed);
    EXPECT_EQ(*r, expected);
    EXPECT_EQ(encode(*r), der);
    EXPECT_EQ(der[0], 0xbf);
    EXPECT_EQ(der[1], 0x38);
}

TEST(authenticate_server_request, signature_of_63_bytes_is_refused_as_invalid_value) {
    auto der = encode(sample_auth_request());
    const bytes sig_header = hx("5f3740");
    auto it = std::search(der.begin(), der.end(), sig_header.begin(), sig_header.end());
    ASSERT_NE(it, der.end());
    // Shorten the signature by one byte and fix the enclosing lengths (all short form
    // except BF38's, which is 81 xx).
    const auto pos = static_cast<std::size_t>(it - der.begin());
    der[pos + 2] = 0x3f;
    der.erase(der.begin() + static_cast<std::ptrdiff_t>(pos + 3));
    ASSERT_EQ(der[2], 0x81);
    der[3] = static_cast<std::uint8_t>(der[3] - 1);
    expect_error(decode_authenticate_server_request(der), errc::invalid_value);
}

TEST(authenticate_server_request, server_certificate_that_is_not_a_sequence_is_refused) {
    auto v = sample_auth_request();
    v.server_certificate = hx("04 01 00");
    auto r = decode_authenticate_server_request(encode(v));
    expect_error(r, errc::unexpected_tag);
    EXPECT_EQ(r.error().field, "serverCertificate");
}

TEST(authenticate_server_request, response_encoding_is_not_taken_for_a_request) {
    const authenticate_server_response resp = sample_auth_ok();
    expect_error(decode_authenticate_server_request(encode(resp)), errc::unexpected_tag);
}

// ---- AuthenticateServerResponse ---------------------------------------------

TEST(authenticate_server_response, ok_round_trips_and_keeps_euicc_signed1_bytes) {
    const authenticate_server_response v = sample_auth_ok();
    const bytes der = encode(v);
    auto r = decode_authenticate_server_response(der);
    ASSERT_TRUE(r.has_value()) << to_string(r.error().code) << " at " << r.error().offset;
    auto* ok = std::get_if<authenticate_response_ok>(&*r);
    ASSERT_NE(ok, nullptr);
    auto expected = sample_auth_ok();
    expected.euicc_signed.raw = encode(expected.euicc_signed);
    EXPECT_EQ(*ok, expected);
    EXPECT_EQ(encode(*r), der);
}

TEST(authenticate_server_response, euicc_signed1_raw_holds_unknown_fields_the_signature_covers) {
    // A newer eUICC adds a field to euiccSigned1: the signature covers it, so
    // raw must hold it even though the decoder does not know it.
    auto ok = sample_auth_ok();
    ok.euicc_signed.extensions = {hx("9f2001aa")};
    const bytes signed_der = encode(ok.euicc_signed);
    const authenticate_server_response v = ok;
    auto r = decode_authenticate_server_response(encode(v));
    ASSERT_TRUE(r.has_value()) << to_string(r.error().code);
    const auto& got = std::get<authenticate_response_ok>(*r);
    EXPECT_EQ(to_hex(got.euicc_signed.raw), to_hex(signed_der));
    ASSERT_EQ(got.euicc_signed.extensions.size(), 1u);
}

TEST(authenticate_server_response, error_decodes_from_the_spec_encoding) {
    // transactionId 01, euiccChallengeMismatch(6).
    const bytes der = hx("bf38 08 a1 06 80 01 01 02 01 06");
    auto r = decode_authenticate_server_response(der);
    ASSERT_TRUE(r.has_value()) << to_string(r.error().code);
    const auto* err = std::get_if<authenticate_response_error>(&*r);
    ASSERT_NE(err, nullptr);
    EXPECT_EQ(to_hex(err->transaction_id), "01");
    EXPECT_EQ(err->code, authenticate_error_code::euicc_challenge_mismatch);
    EXPECT_EQ(encode(*r), der);
}

TEST(authenticate_server_response, unknown_error_code_is_kept_as_received) {
    auto r = decode_authenticate_server_response(hx("bf38 08 a1 06 80 01 01 02 01 2a"));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(static_cast<std::uint32_t>(std::get<authenticate_response_error>(*r).code), 42u);
}

TEST(authenticate_server_response, negative_error_code_is_refused) {
    expect_error(decode_authenticate_server_response(hx("bf38 08 a1 06 80 01 01 02 01 ff")),
                 errc::invalid_value);
}

TEST(authenticate_server_response, both_alternatives_at_once_are_refused) {
    expect_error(decode_authenticate_server_response(
                     hx("bf38 10 a1 06 80 01 01 02 01 06 a1 06 80 01 01 02 01 06")),
                 errc::trailing_bytes);
}

TEST(authenticate_server_response, unknown_alternative_is_refused) {
    expect_error(decode_authenticate_server_response(hx("bf38 08 a2 06 80 01 01 02 01 06")),
                 errc::unexpected_tag);
}

TEST(authenticate_server_response, empty_response_is_refused) {
    EXPECT_FALSE(decode_authenticate_server_response(hx("bf38 00")).has_value());
}

TEST(authenticate_server_response, missing_eum_certificate_is_refused_as_missing_field) {
    auto ok = sample_auth_ok();
    const bytes signed_der = encode(ok.euicc_signed);
    writer w;
    w.begin(tag_authenticate_server).begin(0xA0);
    w.add_raw(signed_der).add(0x5F37, ok.euicc_signature1).add_raw(ok.euicc_certificate);
    w.end().end();
    auto r = decode_authenticate_server_response(std::move(w).finish());
    expect_error(r, errc::missing_field);
    EXPECT_EQ(r.error().field, "eumCertificate");
}

TEST(authenticate_server_response, euicc_info2_with_a_missing_field_is_refused) {
    auto ok = sample_auth_ok();
    // Replace euiccInfo2 by an EUICCInfo2 that stops after profileVersion.
    writer w;
    w.begin(0x30);
    w.add(0x80, ok.euicc_signed.transaction_id);
    w.add(0x83, as_bytes(ok.euicc_signed.server_address));
    w.add(0x84, ok.euicc_signed.server_challenge);
    w.add_raw(hx("bf22 05 81 03 020301"));
    w.add_raw(encode(ok.euicc_signed.ctx_params));
    w.end();
    writer outer;
    outer.begin(tag_authenticate_server).begin(0xA0);
    outer.add_raw(std::move(w).finish()).add(0x5F37, ok.euicc_signature1);
    outer.add_raw(ok.euicc_certificate).add_raw(ok.eum_certificate);
    outer.end().end();
    auto r = decode_authenticate_server_response(std::move(outer).finish());
    expect_error(r, errc::missing_field);
    EXPECT_EQ(r.error().field, "svn");
}

TEST(authenticate_server_response, bytes_after_the_response_are_refused) {
    expect_error(decode_authenticate_server_response(hx("bf38 08 a1 06 80 01 01 02 01 06 00")),
                 errc::trailing_bytes);
}

} // namespace
} // namespace esimguard::asn1
