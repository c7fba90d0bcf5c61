#include "esimguard/asn1/profile_management.hpp"

#include <gtest/gtest.h>

using namespace esimguard;
using namespace esimguard::asn1;

namespace {

bytes h(std::string_view hex) {
    return *from_hex(hex);
}

iccid_value test_iccid() {
    return *iccid_value::parse("89014103211118510720");
}

profile_info full_profile_info() {
    profile_info p;
    p.iccid = test_iccid();
    p.aid = isdp_aid{h("a0000005591010ffffffff8900001000")};
    p.state = profile_state::enabled;
    p.profile_nickname = "work";
    p.service_provider_name = "ACME";
    p.profile_name = "ACME 5G";
    p.icon_kind = icon_type::jpg;
    p.icon = h("ffd8ffe0");
    p.klass = profile_class::test;
    p.notification_configuration_info = std::vector<notification_configuration_information>{
        {bit_string::from_bits({notification_install}), "smdp.example.com", {}}};
    p.profile_owner = operator_id{h("21f354"), std::nullopt, h("01"), {}};
    p.dp_proprietary = dp_proprietary_data{h("2b0601"), {}};
    p.profile_policy_rules = bit_string::from_bits({ppr1_disabling_not_allowed});
    return p;
}

TEST(profile_management_codec, when_enable_by_iccid_is_encoded_then_bytes_match_the_spec) {
    enable_profile_request m{test_iccid(), true, {}};
    // BF31 { A0 { 5A iccid }, 81 01 FF }.
    const bytes expected = h("bf3111a00c5a0a98101430121181157002"
                             "8101ff");
    EXPECT_EQ(encode(m), expected);
    auto back = decode_enable_profile_request(expected);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, m);
}

TEST(profile_management_codec, when_disable_by_aid_round_trips_then_the_aid_is_kept) {
    disable_profile_request m{isdp_aid{h("a0000005591010ffffffff8900001000")}, false, {}};
    const bytes der = encode(m);
    EXPECT_EQ(der, h("bf3217a0124f10a0000005591010ffffffff8900001000"
                     "810100"));
    auto back = decode_disable_profile_request(der);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, m);
}

TEST(profile_management_codec, when_refresh_flag_is_not_der_boolean_then_it_is_refused) {
    auto back = decode_enable_profile_request(h("bf3111a00c5a0a98101430121181157002"
                                                "810101"));
    ASSERT_FALSE(back);
    EXPECT_EQ(back.error().field, "refreshFlag");
}

TEST(profile_management_codec, when_refresh_flag_is_missing_then_missing_field_is_reported) {
    auto back = decode_enable_profile_request(h("bf310ea00c5a0a98101430121181157002"));
    ASSERT_FALSE(back);
    EXPECT_EQ(back.error().code, errc::missing_field);
}

TEST(profile_management_codec, when_delete_is_encoded_then_the_choice_is_directly_inside) {
    delete_profile_request m{test_iccid()};
    EXPECT_EQ(encode(m), h("bf330c5a0a98101430121181157002"));
    auto back = decode_delete_profile_request(h("bf330c5a0a98101430121181157002"));
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, m);
}

TEST(profile_management_codec, when_delete_names_two_profiles_then_it_is_refused) {
    auto back = decode_delete_profile_request(h("bf33114f03a000005a0a98101430121181157002"));
    ASSERT_FALSE(back);
    EXPECT_EQ(back.error().code, errc::trailing_bytes);
}

TEST(profile_management_codec, when_result_codes_decode_then_they_map_to_spec_values) {
    auto en = decode_enable_profile_response(h("bf3103800102"));
    ASSERT_TRUE(en);
    EXPECT_EQ(en->result, enable_profile_result::profile_not_in_disabled_state);
    auto dis = decode_disable_profile_response(h("bf3203800103"));
    ASSERT_TRUE(dis);
    EXPECT_EQ(dis->result, disable_profile_result::disallowed_by_policy);
    auto del = decode_delete_profile_response(h("bf330380017f"));
    ASSERT_TRUE(del);
    EXPECT_EQ(del->result, delete_profile_result::undefined_error);
    auto nick = decode_set_nickname_response(h("bf2903800101"));
    ASSERT_TRUE(nick);
    EXPECT_EQ(nick->result, set_nickname_result::iccid_not_found);
    auto reset = decode_euicc_memory_reset_response(h("bf3403800101"));
    ASSERT_TRUE(reset);
    EXPECT_EQ(reset->result, euicc_memory_reset_result::nothing_to_delete);
    auto dp = decode_set_default_dp_address_response(h("bf3f03800100"));
    ASSERT_TRUE(dp);
    EXPECT_EQ(dp->result, set_default_dp_address_result::ok);
    EXPECT_EQ(encode(enable_profile_response{enable_profile_result::wrong_profile_reenabling, {}}),
              h("bf3103800104"));
}

TEST(profile_management_codec, when_a_response_has_the_wrong_tag_then_it_is_refused) {
    auto back = decode_enable_profile_response(h("bf3203800100"));
    ASSERT_FALSE(back);
    EXPECT_EQ(back.error().code, errc::unexpected_tag);
}

TEST(profile_management_codec, when_memory_reset_asks_for_all_three_then_bits_are_05_e0) {
    euicc_memory_reset_request m{
        bit_string::from_bits({delete_operational_profiles, delete_field_loaded_test_profiles,
                               reset_default_smdp_address}),
        {}};
    EXPECT_EQ(encode(m), h("bf3404820205e0"));
    auto back = decode_euicc_memory_reset_request(h("bf3404820205e0"));
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, m);
}

TEST(profile_management_codec, when_get_eid_is_exchanged_then_the_eid_is_16_bcd_bytes) {
    EXPECT_EQ(encode(get_eid_request{}), h("bf3e035c015a"));
    ASSERT_TRUE(decode_get_eid_request(h("bf3e035c015a")));
    auto back = decode_get_eid_response(h("bf3e125a1089049032123451234512345678901235"));
    ASSERT_TRUE(back);
    EXPECT_EQ(back->eid.to_string(), "89049032123451234512345678901235");
    EXPECT_EQ(encode(*back), h("bf3e125a1089049032123451234512345678901235"));
}

TEST(profile_management_codec, when_the_eid_is_not_16_bytes_then_it_is_refused) {
    auto back = decode_get_eid_response(h("bf3e115a0f890490321234512345123456789012"));
    ASSERT_FALSE(back);
    EXPECT_EQ(back.error().field, "eidValue");
}

TEST(profile_management_codec, when_set_nickname_round_trips_then_the_nickname_is_kept) {
    set_nickname_request m{test_iccid(), "Büro", {}};
    const bytes der = encode(m);
    auto back = decode_set_nickname_request(der);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, m);
    m.profile_nickname = std::string(65, 'n');
    auto too_long = decode_set_nickname_request(encode(m));
    ASSERT_FALSE(too_long);
    EXPECT_EQ(too_long.error().field, "profileNickname");
}

TEST(profile_management_codec, when_configured_addresses_round_trip_then_both_are_kept) {
    EXPECT_EQ(encode(euicc_configured_addresses_request{}), h("bf3c00"));
    ASSERT_TRUE(decode_euicc_configured_addresses_request(h("bf3c00")));
    euicc_configured_addresses_response m{"smdp.example.com", "lpa.ds.gsma.com", {}};
    auto back = decode_euicc_configured_addresses_response(encode(m));
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, m);
    auto no_default = decode_euicc_configured_addresses_response(h("bf3c058103612e62"));
    ASSERT_TRUE(no_default);
    EXPECT_FALSE(no_default->default_dp_address);
}

TEST(profile_management_codec, when_root_ds_address_is_missing_then_it_is_refused) {
    auto back = decode_euicc_configured_addresses_response(h("bf3c058003612e62"));
    ASSERT_FALSE(back);
    EXPECT_EQ(back.error().code, errc::missing_field);
}

TEST(profile_management_codec, when_set_default_dp_address_round_trips_then_it_is_80) {
    set_default_dp_address_request m{"a.b", {}};
    EXPECT_EQ(encode(m), h("bf3f058003612e62"));
    auto back = decode_set_default_dp_address_request(h("bf3f058003612e62"));
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, m);
}

TEST(profile_management_codec, when_get_rat_round_trips_then_rules_and_operators_are_kept) {
    EXPECT_EQ(encode(get_rat_request{}), h("bf4300"));
    get_rat_response m;
    m.rat.push_back({bit_string::from_bits({ppr1_disabling_not_allowed}),
                     {operator_id{h("21f354"), std::nullopt, std::nullopt, {}},
                      operator_id{h("13f031"), h("aa"), h("bb"), {}}},
                     bit_string::from_bits({0}),
                     {}});
    m.rat.push_back({bit_string::from_bits({ppr2_deletion_not_allowed}), {}, {}, {}});
    const bytes der = encode(m);
    auto back = decode_get_rat_response(der);
    ASSERT_TRUE(back) << to_string(back.error().code) << " " << back.error().field;
    EXPECT_EQ(*back, m);
    EXPECT_EQ(encode(*back), der);
}

TEST(profile_management_codec, when_profile_info_has_every_field_then_it_round_trips) {
    const auto p = full_profile_info();
    const bytes der = encode(p);
    auto back = decode_profile_info(der);
    ASSERT_TRUE(back) << to_string(back.error().code) << " " << back.error().field;
    EXPECT_EQ(*back, p);
    EXPECT_EQ(encode(*back), der);
}

TEST(profile_management_codec, when_profile_state_is_encoded_then_it_uses_tag_9f70) {
    profile_info p;
    p.iccid = test_iccid();
    p.state = profile_state::disabled;
    EXPECT_EQ(encode(p), h("e3105a0a98101430121181157002"
                           "9f700100"));
}

TEST(profile_management_codec, when_profile_state_is_unknown_then_it_is_refused) {
    auto back = decode_profile_info(h("e3049f700102"));
    ASSERT_FALSE(back);
    EXPECT_EQ(back.error().field, "profileState");
}

TEST(profile_management_codec, when_profiles_info_list_round_trips_then_every_profile_is_kept) {
    profile_info_list_response m;
    profile_info second;
    second.iccid = *iccid_value::parse("8944000000000000001");
    second.state = profile_state::disabled;
    m.result = std::vector<profile_info>{full_profile_info(), second};
    const bytes der = encode(m);
    auto back = decode_profile_info_list_response(der);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, m);
    auto err = decode_profile_info_list_response(h("bf2d03810101"));
    ASSERT_TRUE(err);
    EXPECT_EQ(std::get<profile_info_list_error>(err->result),
              profile_info_list_error::incorrect_input_values);
}

TEST(profile_management_codec, when_profiles_info_list_holds_a_non_e3_item_then_it_is_refused) {
    auto back = decode_profile_info_list_response(h("bf2d04a002e400"));
    ASSERT_FALSE(back);
    EXPECT_EQ(back.error().code, errc::unexpected_tag);
}

TEST(profile_management_codec, when_profiles_info_request_searches_then_criteria_round_trip) {
    EXPECT_EQ(encode(profile_info_list_request{}), h("bf2d00"));
    profile_info_list_request by_iccid;
    by_iccid.search_criteria = test_iccid();
    by_iccid.tag_list = h("5a9f7090");
    EXPECT_EQ(encode(by_iccid), h("bf2d14a00c5a0a98101430121181157002"
                                  "5c045a9f7090"));
    auto back = decode_profile_info_list_request(encode(by_iccid));
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, by_iccid);
    profile_info_list_request by_class;
    by_class.search_criteria = by_profile_class{profile_class::provisioning};
    EXPECT_EQ(encode(by_class), h("bf2d05a003950101"));
    auto back2 = decode_profile_info_list_request(h("bf2d05a003950101"));
    ASSERT_TRUE(back2);
    EXPECT_EQ(*back2, by_class);
}

} // namespace
