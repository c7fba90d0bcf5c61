// EUICCInfo1, EUICCInfo2, GetEuiccChallenge and the GetEuiccInfo requests
// (SGP.22 §5.7.7, §5.7.8): known encodings written out by hand from the
// RSPDefinitions module, round trips and refusals.

#include "esimguard/asn1/euicc_info.hpp"

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

// ---- GetEuiccChallenge ------------------------------------------------------

const bytes challenge_response_der = hx("bf2e 12 80 10 000102030405060708090a0b0c0d0e0f");

TEST(get_euicc_challenge, response_decodes_from_the_spec_encoding) {
    auto r = decode_get_euicc_challenge_response(challenge_response_der);
    ASSERT_TRUE(r.has_value()) << to_string(r.error().code);
    challenge expected{};
    for (std::size_t i = 0; i < expected.size(); ++i) {
        expected[i] = static_cast<std::uint8_t>(i);
    }
    EXPECT_EQ(r->euicc_challenge, expected);
    EXPECT_TRUE(r->extensions.empty());
}

TEST(get_euicc_challenge, response_encodes_to_the_spec_encoding) {
    get_euicc_challenge_response v;
    for (std::size_t i = 0; i < v.euicc_challenge.size(); ++i) {
        v.euicc_challenge[i] = static_cast<std::uint8_t>(i);
    }
    EXPECT_EQ(to_hex(encode(v)), to_hex(challenge_response_der));
}

TEST(get_euicc_challenge, fifteen_byte_challenge_is_refused_as_invalid_value) {
    expect_error(
        decode_get_euicc_challenge_response(hx("bf2e 11 80 0f 000102030405060708090a0b0c0d0e")),
        errc::invalid_value);
}

TEST(get_euicc_challenge, seventeen_byte_challenge_is_refused_as_invalid_value) {
    expect_error(
        decode_get_euicc_challenge_response(hx("bf2e 13 80 11 000102030405060708090a0b0c0d0e0f10")),
        errc::invalid_value);
}

TEST(get_euicc_challenge, response_under_another_tag_is_refused) {
    expect_error(
        decode_get_euicc_challenge_response(hx("bf2d 12 80 10 000102030405060708090a0b0c0d0e0f")),
        errc::unexpected_tag);
}

TEST(get_euicc_challenge, bytes_after_the_response_are_refused) {
    expect_error(decode_get_euicc_challenge_response(cat({challenge_response_der, hx("00")})),
                 errc::trailing_bytes);
}

TEST(get_euicc_challenge, response_without_challenge_is_refused_as_missing_field) {
    expect_error(decode_get_euicc_challenge_response(hx("bf2e 00")), errc::missing_field);
}

TEST(get_euicc_challenge, requests_are_the_empty_spec_encodings) {
    EXPECT_EQ(to_hex(encode_get_euicc_challenge_request()), "bf2e00");
    EXPECT_EQ(to_hex(encode_get_euicc_info1_request()), "bf2000");
    EXPECT_EQ(to_hex(encode_get_euicc_info2_request()), "bf2200");
    EXPECT_TRUE(decode_empty_request(hx("bf2e00"), tag_get_euicc_challenge).has_value());
    EXPECT_TRUE(decode_empty_request(hx("bf2000"), tag_euicc_info1).has_value());
    EXPECT_TRUE(decode_empty_request(hx("bf2200"), tag_euicc_info2).has_value());
}

TEST(get_euicc_challenge, request_with_a_universal_element_is_refused) {
    expect_error(decode_empty_request(hx("bf2e 03 040100"), tag_get_euicc_challenge),
                 errc::unexpected_tag);
    expect_error(decode_empty_request(hx("bf2000"), tag_euicc_info2), errc::unexpected_tag);
}

// ---- EUICCInfo1 -------------------------------------------------------------

// svn 2.2.2 and the GSMA test CI in both lists.
const bytes info1_der = hx("bf20 35"
                           " 82 03 020202"
                           " a9 16 04 14 81370f5125d0b1d408d4c3b232e6d25e795bebfb"
                           " aa 16 04 14 81370f5125d0b1d408d4c3b232e6d25e795bebfb");

TEST(euicc_info1, minimal_spec_encoding_decodes) {
    auto r = decode_euicc_info1(info1_der);
    ASSERT_TRUE(r.has_value()) << to_string(r.error().code);
    EXPECT_EQ(*r, sample_info1());
}

TEST(euicc_info1, encodes_to_the_spec_encoding) {
    EXPECT_EQ(to_hex(encode(sample_info1())), to_hex(info1_der));
}

TEST(euicc_info1, empty_ci_lists_decode_as_empty) {
    auto r = decode_euicc_info1(hx("bf20 09 820302 0202 a900 aa00"));
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(r->ci_pkid_list_for_verification.empty());
    EXPECT_TRUE(r->ci_pkid_list_for_signing.empty());
}

TEST(euicc_info1, missing_signing_list_is_refused_as_missing_field) {
    auto r = decode_euicc_info1(hx("bf20 07 820302 0202 a900"));
    expect_error(r, errc::missing_field);
    EXPECT_EQ(r.error().field, "euiccCiPKIdListForSigning");
}

TEST(euicc_info1, two_byte_svn_is_refused_as_invalid_value) {
    expect_error(decode_euicc_info1(hx("bf20 08 820202 02 a900 aa00")), errc::invalid_value);
}

TEST(euicc_info1, ci_list_holding_a_non_octet_string_is_refused) {
    expect_error(decode_euicc_info1(hx("bf20 0c 820302 0202 a903 020101 aa00")),
                 errc::unexpected_tag);
}

TEST(euicc_info1, later_context_field_is_kept_and_re_encoded) {
    const bytes with_ext = hx("bf20 0c 820302 0202 a900 aa00 8b0101");
    auto r = decode_euicc_info1(with_ext);
    ASSERT_TRUE(r.has_value()) << to_string(r.error().code);
    ASSERT_EQ(r->extensions.size(), 1u);
    EXPECT_EQ(to_hex(r->extensions[0]), "8b0101");
    EXPECT_EQ(to_hex(encode(*r)), to_hex(with_ext));
}

TEST(euicc_info1, repeated_known_field_at_the_end_is_refused_not_skipped) {
    expect_error(decode_euicc_info1(hx("bf20 0e 820302 0202 a900 aa00 820302 0303")),
                 errc::unexpected_tag);
}

// ---- EUICCInfo2 -------------------------------------------------------------

// Only the mandatory fields: empty extCardResource, contactlessSupport and
// additionalProfile set, no CI, ppVersion 0.0.1, empty SAS number.
const bytes info2_min_der = hx("bf22 24"
                               " 81 03 020301"
                               " 82 03 020202"
                               " 83 03 040600"
                               " 84 00"
                               " 85 02 0780"
                               " 88 02 0780"
                               " a9 00"
                               " aa 00"
                               " 04 03 000001"
                               " 0c 00");

euicc_info2 minimal_info2() {
    euicc_info2 v;
    v.profile_version = {2, 3, 1};
    v.svn = {2, 2, 2};
    v.euicc_firmware_ver = {4, 6, 0};
    v.uicc_capability = bit_string::from_bits({0});
    v.rsp_capability = bit_string::from_bits({0});
    v.pp_version = {0, 0, 1};
    return v;
}

TEST(euicc_info2, minimal_spec_encoding_decodes) {
    auto r = decode_euicc_info2(info2_min_der);
    ASSERT_TRUE(r.has_value()) << to_string(r.error().code) << " at " << r.error().offset;
    EXPECT_EQ(*r, minimal_info2());
    EXPECT_TRUE(r->uicc_capability.test(0));
    EXPECT_FALSE(r->uicc_capability.test(1));
    EXPECT_FALSE(r->euicc_category.has_value());
}

TEST(euicc_info2, minimal_value_encodes_to_the_spec_encoding) {
    EXPECT_EQ(to_hex(encode(minimal_info2())), to_hex(info2_min_der));
}

TEST(euicc_info2, full_value_round_trips) {
    const auto v = sample_info2();
    const bytes der = encode(v);
    auto r = decode_euicc_info2(der);
    ASSERT_TRUE(r.has_value()) << to_string(r.error().code) << " at " << r.error().offset;
    EXPECT_EQ(*r, v);
    EXPECT_EQ(encode(*r), der);
    EXPECT_TRUE(r->rsp_capability.test(static_cast<std::size_t>(rsp_capability_bit::crl_support)));
    EXPECT_FALSE(r->rsp_capability.test(static_cast<std::size_t>(rsp_capability_bit::rpm_support)));
}

TEST(euicc_info2, sgp22_v3_fields_after_the_known_ones_are_kept) {
    // treProperties [13] and lpaMode [16] of later versions.
    auto der = info2_min_der;
    der[2] = static_cast<std::uint8_t>(der[2] + 7);
    der = cat({der, hx("8d 02 0780 90 01 01")});
    auto r = decode_euicc_info2(der);
    ASSERT_TRUE(r.has_value()) << to_string(r.error().code);
    EXPECT_EQ(r->extensions.size(), 2u);
    EXPECT_EQ(encode(*r), der);
}

TEST(euicc_info2, missing_pp_version_is_refused) {
    // ppVersion absent: the SAS number (0C) stands where it should be.
    auto r = decode_euicc_info2(hx("bf22 1f 810302 0301 820302 0202 830304 0600 8400"
                                   " 8502 0780 8802 0780 a900 aa00 0c00"));
    expect_error(r, errc::unexpected_tag);
    EXPECT_EQ(r.error().field, "ppVersion");
}

TEST(euicc_info2, missing_sas_accreditation_number_is_refused_as_missing_field) {
    auto r = decode_euicc_info2(hx("bf22 22 810302 0301 820302 0202 830304 0600 8400"
                                   " 8502 0780 8802 0780 a900 aa00 0403 000001"));
    expect_error(r, errc::missing_field);
}

TEST(euicc_info2, bit_string_with_more_than_seven_unused_bits_is_refused) {
    auto der = info2_min_der;
    // uiccCapability's unused-bits octet.
    ASSERT_EQ(der[22], 0x07);
    der[22] = 0x08;
    expect_error(decode_euicc_info2(der), errc::invalid_value);
}

TEST(euicc_info2, sas_accreditation_number_longer_than_64_bytes_is_refused) {
    auto v = minimal_info2();
    v.sas_accreditation_number = std::string(65, 'A');
    expect_error(decode_euicc_info2(encode(v)), errc::invalid_value);
    v.sas_accreditation_number = std::string(64, 'A');
    EXPECT_TRUE(decode_euicc_info2(encode(v)).has_value());
}

TEST(euicc_info2, negative_euicc_category_is_refused) {
    auto v = minimal_info2();
    v.euicc_category = 1;
    auto der = encode(v);
    // The category's content octet sits right after its tag 8B 01.
    const bytes category = hx("8b0101");
    auto it = std::search(der.begin(), der.end(), category.begin(), category.end());
    ASSERT_NE(it, der.end());
    *(it + 2) = 0xff;
    expect_error(decode_euicc_info2(der), errc::invalid_value);
}

TEST(bit_string, from_bits_gives_the_der_named_bit_list_form) {
    const auto b = bit_string::from_bits({1, 2, 8});
    EXPECT_EQ(b.unused_bits, 7);
    EXPECT_EQ(to_hex(b.data), "6080");
    EXPECT_TRUE(b.test(8));
    EXPECT_FALSE(b.test(9));
    EXPECT_FALSE(b.test(100));
    EXPECT_TRUE(bit_string::from_bits({}).data.empty());
}

} // namespace
} // namespace esimguard::asn1
