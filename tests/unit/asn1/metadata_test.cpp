#include "esimguard/asn1/metadata.hpp"

#include <gtest/gtest.h>

using namespace esimguard;
using namespace esimguard::asn1;

namespace {

bytes h(std::string_view hex) {
    return *from_hex(hex);
}

const char* const iccid_hex = "98101430121181157002"; // 89014103211118510720

// BF25 { 5A iccid, 91 "ACM", 92 "Test" }, written out from SGP.22 §5.5.3.
const char* const minimal_store_metadata = "bf2517"
                                           "5a0a98101430121181157002"
                                           "910341434d"
                                           "920454657374";

store_metadata_request full_store_metadata() {
    store_metadata_request m;
    m.iccid = *iccid_value::parse("89014103211118510720");
    m.service_provider_name = "ACME Mobile";
    m.profile_name = "ACME prepaid ünlimited";
    m.icon_kind = icon_type::png;
    m.icon = h("89504e470d0a1a0a");
    m.klass = profile_class::operational;
    m.notification_configuration_info = std::vector<notification_configuration_information>{
        {bit_string::from_bits({notification_install, notification_delete}),
         "smdp.example.com",
         {}},
        {bit_string::from_bits({notification_enable}), "other.example.com", {}}};
    m.profile_owner = operator_id{h("21f354"), h("ff"), std::nullopt, {}};
    m.profile_policy_rules = bit_string::from_bits({ppr2_deletion_not_allowed});
    return m;
}

TEST(metadata_codec, when_a_minimal_store_metadata_is_encoded_then_bytes_match_the_spec_layout) {
    store_metadata_request m;
    m.iccid = *iccid_value::parse("89014103211118510720");
    m.service_provider_name = "ACM";
    m.profile_name = "Test";
    EXPECT_EQ(encode(m), h(minimal_store_metadata));
}

TEST(metadata_codec, when_a_minimal_store_metadata_is_decoded_then_optional_fields_are_absent) {
    auto m = decode_store_metadata_request(h(minimal_store_metadata));
    ASSERT_TRUE(m) << to_string(m.error().code);
    EXPECT_EQ(m->iccid.to_string(), "89014103211118510720");
    EXPECT_EQ(m->service_provider_name, "ACM");
    EXPECT_EQ(m->profile_name, "Test");
    EXPECT_FALSE(m->icon_kind);
    EXPECT_FALSE(m->klass);
    EXPECT_FALSE(m->profile_owner);
}

TEST(metadata_codec, when_every_field_is_set_then_store_metadata_round_trips) {
    const auto m = full_store_metadata();
    const bytes der = encode(m);
    auto back = decode_store_metadata_request(der);
    ASSERT_TRUE(back) << to_string(back.error().code) << " " << back.error().field;
    EXPECT_EQ(*back, m);
    EXPECT_EQ(encode(*back), der);
}

TEST(metadata_codec, when_notification_configuration_is_encoded_then_it_uses_automatic_tags) {
    store_metadata_request m;
    m.iccid = *iccid_value::parse("89014103211118510720");
    m.notification_configuration_info = std::vector<notification_configuration_information>{
        {bit_string::from_bits({notification_install}), "a.b", {}}};
    // B6 { 30 { 80 07 80 (install), 81 "a.b" } } after the empty 91 and 92.
    EXPECT_EQ(encode(m), h("bf251d"
                           "5a0a98101430121181157002"
                           "9100"
                           "9200"
                           "b60b"
                           "3009"
                           "80020780"
                           "8103612e62"));
}

TEST(metadata_codec, when_profile_name_is_missing_then_missing_field_is_reported) {
    auto m = decode_store_metadata_request(h("bf2511"
                                             "5a0a98101430121181157002"
                                             "910341434d"));
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error().code, errc::missing_field);
    EXPECT_EQ(m.error().field, "profileName");
}

TEST(metadata_codec, when_the_iccid_has_a_bad_digit_then_the_request_is_refused) {
    auto m = decode_store_metadata_request(h("bf2517"
                                             "5a0a9810143012118115700a"
                                             "910341434d"
                                             "920454657374"));
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error().code, errc::invalid_value);
}

TEST(metadata_codec, when_the_outer_tag_is_wrong_then_unexpected_tag_is_reported) {
    bytes der = h(minimal_store_metadata);
    der[1] = 0x26;
    auto m = decode_store_metadata_request(der);
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error().code, errc::unexpected_tag);
}

TEST(metadata_codec, when_bytes_follow_the_message_then_they_are_refused) {
    bytes der = h(minimal_store_metadata);
    der.push_back(0x00);
    auto m = decode_store_metadata_request(der);
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error().code, errc::trailing_bytes);
}

TEST(metadata_codec, when_an_icon_comes_without_icon_type_then_it_is_refused) {
    auto m = decode_store_metadata_request(h("bf251b"
                                             "5a0a98101430121181157002"
                                             "910341434d"
                                             "920454657374"
                                             "9402abcd"));
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error().code, errc::missing_field);
    EXPECT_EQ(m.error().field, "iconType");
}

TEST(metadata_codec, when_the_service_provider_name_exceeds_32_characters_then_it_is_refused) {
    store_metadata_request m;
    m.iccid = *iccid_value::parse("89014103211118510720");
    m.service_provider_name = std::string(33, 'x');
    auto back = decode_store_metadata_request(encode(m));
    ASSERT_FALSE(back);
    EXPECT_EQ(back.error().code, errc::invalid_value);
    m.service_provider_name = std::string(32, 'x');
    EXPECT_TRUE(decode_store_metadata_request(encode(m)));
}

TEST(metadata_codec, when_a_name_is_not_utf8_then_it_is_refused) {
    auto m = decode_store_metadata_request(h("bf2515"
                                             "5a0a98101430121181157002"
                                             "9101c3"
                                             "920454657374"));
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error().code, errc::invalid_value);
    EXPECT_EQ(m.error().field, "serviceProviderName");
}

TEST(metadata_codec, when_profile_class_is_unknown_then_it_is_refused) {
    auto m = decode_store_metadata_request(h("bf251a"
                                             "5a0a98101430121181157002"
                                             "910341434d"
                                             "920454657374"
                                             "950103"));
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error().field, "profileClass");
}

TEST(metadata_codec, when_an_unknown_later_field_follows_then_it_is_kept_and_re_encoded) {
    // A later-version context field [34] (BF22) after the known ones.
    const bytes der = h("bf251c"
                        "5a0a98101430121181157002"
                        "910341434d"
                        "920454657374"
                        "bf22020000");
    auto m = decode_store_metadata_request(der);
    ASSERT_TRUE(m);
    ASSERT_EQ(m->extensions.size(), 1u);
    EXPECT_EQ(m->extensions[0], h("bf22020000"));
    EXPECT_EQ(encode(*m), der);
}

TEST(metadata_codec, when_a_known_field_repeats_after_the_others_then_it_is_refused) {
    auto m = decode_store_metadata_request(h("bf251c"
                                             "5a0a98101430121181157002"
                                             "910341434d"
                                             "920454657374"
                                             "9103414141"));
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error().code, errc::unexpected_tag);
}

TEST(metadata_codec, when_a_universal_tag_follows_then_it_is_refused) {
    auto m = decode_store_metadata_request(h("bf251a"
                                             "5a0a98101430121181157002"
                                             "910341434d"
                                             "920454657374"
                                             "040100"));
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error().code, errc::unexpected_tag);
}

// BF2F { 80 01 05, 81 02 07 80 (install), 0C "example.com", 5A iccid }.
const char* const install_notification_metadata = "bf2f20"
                                                  "800105"
                                                  "81020780"
                                                  "0c0b6578616d706c652e636f6d"
                                                  "5a0a98101430121181157002";

TEST(metadata_codec, when_notification_metadata_is_encoded_then_bytes_match_the_spec_layout) {
    notification_metadata m;
    m.seq_number = 5;
    m.profile_management_operation = bit_string::from_bits({notification_install});
    m.notification_address = "example.com";
    m.iccid = *iccid_value::parse("89014103211118510720");
    EXPECT_EQ(encode(m), h(install_notification_metadata));
}

TEST(metadata_codec, when_notification_metadata_is_decoded_then_fields_come_back) {
    auto m = decode_notification_metadata(h(install_notification_metadata));
    ASSERT_TRUE(m);
    EXPECT_EQ(m->seq_number, 5u);
    EXPECT_TRUE(m->profile_management_operation.test(notification_install));
    EXPECT_FALSE(m->profile_management_operation.test(notification_enable));
    EXPECT_EQ(m->notification_address, "example.com");
    ASSERT_TRUE(m->iccid);
    EXPECT_EQ(m->iccid->to_string(), "89014103211118510720");
}

TEST(metadata_codec, when_a_notification_names_two_operations_then_it_is_refused) {
    // 81 02 06 C0: install and enable both set.
    auto m = decode_notification_metadata(h("bf2f14"
                                            "800105"
                                            "810206c0"
                                            "0c0b6578616d706c652e636f6d"));
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error().field, "profileManagementOperation");
}

TEST(metadata_codec, when_a_bit_string_has_trailing_zero_bits_then_it_is_refused) {
    // 81 02 00 80: install, but coded with 7 trailing zero bits (not DER).
    auto m = decode_notification_metadata(h("bf2f14"
                                            "800105"
                                            "81020080"
                                            "0c0b6578616d706c652e636f6d"));
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error().code, errc::invalid_value);
}

TEST(metadata_codec, when_the_notification_address_is_missing_then_missing_field_is_reported) {
    auto r = decode_notification_metadata(h("bf2f0780010581020780"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::missing_field);
    EXPECT_EQ(r.error().field, "notificationAddress");
}

} // namespace
