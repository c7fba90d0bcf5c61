#include "esimguard/asn1/install_result.hpp"

#include <gtest/gtest.h>

using namespace esimguard;
using namespace esimguard::asn1;

namespace {

bytes h(std::string_view hex) {
    return *from_hex(hex);
}

notification_metadata install_metadata() {
    notification_metadata m;
    m.seq_number = 5;
    m.profile_management_operation = bit_string::from_bits({notification_install});
    m.notification_address = "example.com";
    m.iccid = *iccid_value::parse("89014103211118510720");
    return m;
}

profile_installation_result success_pir() {
    profile_installation_result p;
    p.data.transaction_id = h("0102030405060708");
    p.data.notification = install_metadata();
    p.data.smdp_oid = h("2b0601040101");
    p.data.final_result =
        install_success_result{h("a0000005591010ffffffff8900001000"), h("30"), {}};
    p.euicc_sign_pir.fill(0x77);
    return p;
}

TEST(install_result_codec, when_a_success_result_round_trips_then_every_field_is_kept) {
    const auto p = success_pir();
    const bytes der = encode(p);
    auto back = decode_profile_installation_result(der);
    ASSERT_TRUE(back) << to_string(back.error().code) << " " << back.error().field;
    EXPECT_EQ(*back, p);
    EXPECT_EQ(encode(*back), der);
}

TEST(install_result_codec, when_decoded_then_data_raw_is_the_signed_bf27_bytes) {
    const auto p = success_pir();
    auto back = decode_profile_installation_result(encode(p));
    ASSERT_TRUE(back);
    EXPECT_EQ(back->data_raw, encode(p.data));
    EXPECT_EQ(back->data_raw[0], 0xBF);
    EXPECT_EQ(back->data_raw[1], 0x27);
}

TEST(install_result_codec, when_an_error_result_is_encoded_then_it_uses_a2_a1_80_81) {
    profile_installation_result_data d;
    d.transaction_id = h("01");
    d.notification = install_metadata();
    d.final_result =
        install_error_result{bpp_command_id::load_profile_elements,
                             install_error_reason::install_failed_due_to_iccid_mismatch,
                             std::nullopt,
                             {}};
    const bytes nm = encode(d.notification);
    bytes expected = h("bf27");
    const std::size_t len = 3 + nm.size() + 10;
    expected.push_back(static_cast<std::uint8_t>(len));
    for (auto b : h("800101")) {
        expected.push_back(b);
    }
    expected.insert(expected.end(), nm.begin(), nm.end());
    for (auto b : h("a208a10680010581010d")) {
        expected.push_back(b);
    }
    EXPECT_EQ(encode(d), expected);
    auto back = decode_profile_installation_result_data(expected);
    ASSERT_TRUE(back);
    const auto& e = std::get<install_error_result>(back->final_result);
    EXPECT_EQ(e.bpp_command, bpp_command_id::load_profile_elements);
    EXPECT_EQ(e.reason, install_error_reason::install_failed_due_to_iccid_mismatch);
}

TEST(install_result_codec, when_error_codes_have_their_spec_values_then_the_enums_match) {
    EXPECT_EQ(static_cast<int>(bpp_command_id::initialise_secure_channel), 0);
    EXPECT_EQ(static_cast<int>(bpp_command_id::replace_session_keys), 4);
    EXPECT_EQ(static_cast<int>(install_error_reason::scp03t_security_error), 8);
    EXPECT_EQ(static_cast<int>(install_error_reason::ppr_not_allowed), 15);
    EXPECT_EQ(static_cast<int>(install_error_reason::install_failed_due_to_unknown_error), 127);
}

TEST(install_result_codec, when_an_unknown_error_reason_arrives_then_its_number_is_kept) {
    auto p = success_pir();
    p.data.final_result = install_error_result{
        bpp_command_id::configure_isdp, static_cast<install_error_reason>(42), h("9000"), {}};
    auto back = decode_profile_installation_result(encode(p));
    ASSERT_TRUE(back);
    EXPECT_EQ(static_cast<int>(std::get<install_error_result>(back->data.final_result).reason), 42);
}

TEST(install_result_codec, when_the_signature_is_not_64_bytes_then_it_is_refused) {
    const auto p = success_pir();
    writer w;
    w.begin(0xBF37).add_raw(encode(p.data)).add(0x5F37, bytes(63, 1)).end();
    auto back = decode_profile_installation_result(std::move(w).finish());
    ASSERT_FALSE(back);
    EXPECT_EQ(back.error().field, "euiccSignPIR");
}

TEST(install_result_codec, when_the_signature_is_missing_then_missing_field_is_reported) {
    const auto p = success_pir();
    writer w;
    w.begin(0xBF37).add_raw(encode(p.data)).end();
    auto back = decode_profile_installation_result(std::move(w).finish());
    ASSERT_FALSE(back);
    EXPECT_EQ(back.error().code, errc::missing_field);
}

TEST(install_result_codec, when_final_result_has_an_unknown_alternative_then_it_is_refused) {
    auto p = success_pir();
    writer w;
    w.begin(0xBF27);
    w.add(0x80, h("01"));
    w.add_raw(encode(p.data.notification));
    w.begin(0xA2).begin(0xA5).end().end();
    w.end();
    auto back = decode_profile_installation_result_data(std::move(w).finish());
    ASSERT_FALSE(back);
    EXPECT_EQ(back.error().code, errc::unexpected_tag);
    EXPECT_EQ(back.error().field, "finalResult");
}

TEST(install_result_codec, when_the_aid_is_shorter_than_5_bytes_then_it_is_refused) {
    auto p = success_pir();
    p.data.final_result = install_success_result{h("a0000005"), h(""), {}};
    auto back = decode_profile_installation_result(encode(p));
    ASSERT_FALSE(back);
    EXPECT_EQ(back.error().field, "aid");
}

TEST(install_result_codec, when_the_transaction_id_is_longer_than_16_bytes_then_it_is_refused) {
    auto p = success_pir();
    p.data.transaction_id = bytes(17, 1);
    auto back = decode_profile_installation_result(encode(p));
    ASSERT_FALSE(back);
    EXPECT_EQ(back.error().field, "transactionId");
}

} // namespace
