#include "esimguard/asn1/bpp.hpp"

#include <gtest/gtest.h>

using namespace esimguard;
using namespace esimguard::asn1;

namespace {

bytes h(std::string_view hex) {
    return *from_hex(hex);
}

initialise_secure_channel_request sample_isc() {
    initialise_secure_channel_request m;
    m.transaction_id = h("0102030405060708");
    m.crt.host_id = h("534d4450");
    m.smdp_otpk = bytes(65, 0x04);
    m.smdp_sign.fill(0x5a);
    return m;
}

bound_profile_package sample_bpp(bool with_a2) {
    bound_profile_package b;
    b.initialise_secure_channel = sample_isc();
    b.first_sequence_of_87 = {h("aabbcc")};
    b.sequence_of_88 = {h("01"), h("0202")};
    if (with_a2) {
        b.second_sequence_of_87 = std::vector<bytes>{h("dddd")};
    }
    b.sequence_of_86 = {h("8601"), h("8602"), bytes(300, 0x33)};
    return b;
}

TEST(bpp_codec, when_the_signed_part_is_encoded_then_it_is_82_80_a6_5f49_in_order) {
    auto m = sample_isc();
    m.smdp_otpk = h("04aa");
    EXPECT_EQ(encode_isc_signed_part(m), h("820101"
                                           "80080102030405060708"
                                           "a60c"
                                           "800188"
                                           "810110"
                                           "8404534d4450"
                                           "5f490204aa"));
}

TEST(bpp_codec, when_initialise_secure_channel_is_decoded_then_signed_raw_holds_the_signed_bytes) {
    const auto m = sample_isc();
    const bytes der = encode(m);
    auto back = decode_initialise_secure_channel_request(der);
    ASSERT_TRUE(back) << to_string(back.error().code) << " " << back.error().field;
    EXPECT_EQ(*back, m);
    EXPECT_EQ(back->signed_raw, encode_isc_signed_part(m));
    EXPECT_EQ(encode(*back), der);
}

TEST(bpp_codec, when_remote_op_id_is_not_install_then_it_is_refused) {
    auto m = sample_isc();
    bytes der = encode(m);
    // BF23 len 82 01 01: the remoteOpId value sits after tag (2) and length.
    const std::size_t hdr = der[2] == 0x81 ? 4 : 3;
    ASSERT_EQ(der[hdr], 0x82);
    der[hdr + 2] = 0x02;
    auto back = decode_initialise_secure_channel_request(der);
    ASSERT_FALSE(back);
    EXPECT_EQ(back.error().field, "remoteOpId");
}

TEST(bpp_codec, when_the_signature_is_missing_then_missing_field_is_reported) {
    auto m = sample_isc();
    const bytes signed_part = encode_isc_signed_part(m);
    auto back = decode_initialise_secure_channel_request(encode(0xBF23, signed_part));
    ASSERT_FALSE(back);
    EXPECT_EQ(back.error().code, errc::missing_field);
    EXPECT_EQ(back.error().field, "smdpSign");
}

TEST(bpp_codec, when_configure_isdp_carries_dp_proprietary_data_then_it_round_trips) {
    configure_isdp_request m;
    m.dp_proprietary = dp_proprietary_data{h("2b0601040101"), {h("800101")}};
    const bytes der = encode(m);
    EXPECT_EQ(der, h("bf240d"
                     "b80b"
                     "06062b0601040101"
                     "800101"));
    auto back = decode_configure_isdp_request(der);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, m);
}

TEST(bpp_codec, when_configure_isdp_is_empty_then_it_is_accepted) {
    auto back = decode_configure_isdp_request(h("bf2400"));
    ASSERT_TRUE(back);
    EXPECT_FALSE(back->dp_proprietary);
}

TEST(bpp_codec, when_dp_oid_is_malformed_then_it_is_refused) {
    // B8 { 06 02 2B 81 }: the last sub-identifier is not terminated.
    auto r = decode_configure_isdp_request(h("bf2406b80406022b81"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().field, "dpOid");
}

TEST(bpp_codec, when_replace_session_keys_round_trips_then_keys_are_kept) {
    replace_session_keys_request m{bytes(16, 1), bytes(16, 2), bytes(16, 3), {}};
    const bytes der = encode(m);
    ASSERT_EQ(der.size(), 3u + 3 * 18);
    EXPECT_EQ(der[0], 0xBF);
    EXPECT_EQ(der[1], 0x26);
    auto back = decode_replace_session_keys_request(der);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, m);
}

TEST(bpp_codec, when_a_session_key_is_not_16_bytes_then_it_is_refused) {
    replace_session_keys_request m{bytes(16, 1), bytes(15, 2), bytes(16, 3), {}};
    auto back = decode_replace_session_keys_request(encode(m));
    ASSERT_FALSE(back);
    EXPECT_EQ(back.error().field, "ppkEnc");
}

TEST(bpp_codec, when_a_bound_profile_package_round_trips_then_every_part_is_kept) {
    for (bool with_a2 : {false, true}) {
        const auto b = sample_bpp(with_a2);
        const bytes der = encode(b);
        auto back = decode_bound_profile_package(der);
        ASSERT_TRUE(back) << to_string(back.error().code) << " " << back.error().field;
        EXPECT_EQ(*back, b);
        EXPECT_EQ(encode(*back), der);
    }
}

TEST(bpp_codec, when_a1_is_empty_then_the_package_is_refused) {
    auto b = sample_bpp(false);
    b.sequence_of_88.clear();
    auto back = decode_bound_profile_package(encode(b));
    ASSERT_FALSE(back);
    EXPECT_EQ(back.error().code, errc::missing_field);
    EXPECT_EQ(back.error().field, "sequenceOf88");
}

TEST(bpp_codec, when_a3_holds_a_segment_with_another_tag_then_the_package_is_refused) {
    const auto b = sample_bpp(false);
    writer w;
    w.begin(0xBF36);
    w.add_raw(encode(b.initialise_secure_channel));
    w.begin(0xA0).add(0x87, h("aa")).end();
    w.begin(0xA1).add(0x88, h("bb")).end();
    w.begin(0xA3).add(0x86, h("cc")).add(0x87, h("dd")).end();
    w.end();
    auto back = decode_bound_profile_package(std::move(w).finish());
    ASSERT_FALSE(back);
    EXPECT_EQ(back.error().code, errc::unexpected_tag);
}

TEST(bpp_codec, when_a3_is_missing_then_missing_field_is_reported) {
    const auto b = sample_bpp(false);
    writer w;
    w.begin(0xBF36);
    w.add_raw(encode(b.initialise_secure_channel));
    w.begin(0xA0).add(0x87, h("aa")).end();
    w.begin(0xA1).add(0x88, h("bb")).end();
    w.end();
    auto back = decode_bound_profile_package(std::move(w).finish());
    ASSERT_FALSE(back);
    EXPECT_EQ(back.error().code, errc::missing_field);
}

TEST(bpp_codec, when_a_package_is_split_then_pieces_follow_the_load_order) {
    const auto b = sample_bpp(true);
    const bytes der = encode(b);
    auto pieces = split_bound_profile_package(der);
    ASSERT_TRUE(pieces);
    // BF36 header + BF23, A0 whole, A1 header, 88, 88, A2 whole, A3 header, 86 x3.
    ASSERT_EQ(pieces->size(), 10u);
    const bytes isc = encode(b.initialise_secure_channel);
    const auto& first = (*pieces)[0];
    ASSERT_GT(first.size(), isc.size());
    EXPECT_EQ(first[0], 0xBF);
    EXPECT_EQ(first[1], 0x36);
    EXPECT_EQ(bytes(first.end() - static_cast<std::ptrdiff_t>(isc.size()), first.end()), isc);
    EXPECT_EQ((*pieces)[1], h("a005"
                              "8703aabbcc"));
    EXPECT_EQ((*pieces)[2], h("a107"));
    EXPECT_EQ((*pieces)[3], h("880101"));
    EXPECT_EQ((*pieces)[4], h("88020202"));
    EXPECT_EQ((*pieces)[5], h("a204"
                              "8702dddd"));
    EXPECT_EQ((*pieces)[6], h("a3820138"));
    EXPECT_EQ((*pieces)[7], h("86028601"));
    EXPECT_EQ((*pieces)[8], h("86028602"));
    EXPECT_EQ((*pieces)[9].size(), 304u);
    // Concatenated, the pieces are the whole input again.
    bytes joined;
    for (const auto& p : *pieces) {
        joined.insert(joined.end(), p.begin(), p.end());
    }
    EXPECT_EQ(joined, der);
}

TEST(bpp_codec, when_a_package_without_a2_is_split_then_no_a2_piece_appears) {
    auto pieces = split_bound_profile_package(encode(sample_bpp(false)));
    ASSERT_TRUE(pieces);
    ASSERT_EQ(pieces->size(), 9u);
    EXPECT_EQ((*pieces)[5], h("a3820138"));
}

TEST(bpp_codec, when_a_broken_package_is_split_then_it_is_refused) {
    bytes der = encode(sample_bpp(false));
    der.pop_back();
    EXPECT_FALSE(split_bound_profile_package(der));
}

} // namespace
