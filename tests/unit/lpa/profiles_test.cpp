// Chip information and local profile management (ES10c) through the LPA.

#include "esimguard/asn1/profile_management.hpp"
#include "scenario.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace esimguard::lpa_test {
namespace {

/// An eUICC that answers the profile-management commands from fixed values
/// and records what it was asked.
struct profile_card {
    std::optional<asn1::enable_profile_request> enabled;
    std::optional<asn1::set_nickname_request> nicknamed;
    asn1::enable_profile_result enable_result = asn1::enable_profile_result::ok;
    fakes::fake_es9p_server server;
    fake_es10_card card{[this](byte_view c) { return answer(c); }};
    apdu::es10_client es10{card};

    std::optional<bytes> answer(byte_view command) {
        switch (leading_tag(command)) {
        case 0xBF3E:
            return asn1::encode(asn1::get_eid_response{
                *asn1::eid_value::parse("89049032123451234512345678901235"), {}});
        case 0xBF20: {
            asn1::euicc_info1 i;
            i.svn = {2, 2, 2};
            i.ci_pkid_list_for_verification = {bytes(20, 0xC1)};
            i.ci_pkid_list_for_signing = {bytes(20, 0xC1)};
            return asn1::encode(i);
        }
        case 0xBF22: {
            asn1::euicc_info2 i;
            i.svn = {2, 2, 2};
            i.sas_accreditation_number = "TEST";
            return asn1::encode(i);
        }
        case 0xBF3C:
            return asn1::encode(asn1::euicc_configured_addresses_response{
                "smdp.example.test", "lpa.ds.gsma.com", {}});
        case 0xBF2D: {
            asn1::profile_info p;
            p.iccid = test_iccid();
            p.state = asn1::profile_state::enabled;
            p.profile_name = "Test profile";
            return asn1::encode(asn1::profile_info_list_response{std::vector{p}});
        }
        case 0xBF31:
            enabled = *asn1::decode_enable_profile_request(command);
            return asn1::encode(asn1::enable_profile_response{enable_result, {}});
        case 0xBF29:
            nicknamed = *asn1::decode_set_nickname_request(command);
            return asn1::encode(asn1::set_nickname_response{asn1::set_nickname_result::ok, {}});
        default:
            return std::nullopt;
        }
    }
};

TEST(lpa_chip, when_asked_for_chip_info_then_eid_infos_and_addresses_come_from_the_card) {
    profile_card c;
    lpa::lpa l(c.es10, c.server);

    auto info = l.get_chip_info();

    ASSERT_TRUE(info.has_value()) << info.error().message;
    EXPECT_EQ(info->eid, "89049032123451234512345678901235");
    EXPECT_EQ(info->info1.ci_pkid_list_for_verification.size(), 1u);
    EXPECT_EQ(info->info2.sas_accreditation_number, "TEST");
    EXPECT_EQ(info->addresses.default_dp_address, "smdp.example.test");
    EXPECT_THAT(c.card.tags(), ::testing::ElementsAre(0xBF3E, 0xBF20, 0xBF22, 0xBF3C));
    EXPECT_TRUE(c.server.calls.empty());
}

TEST(lpa_profiles, when_listing_then_profiles_are_decoded) {
    profile_card c;
    lpa::lpa l(c.es10, c.server);

    auto list = l.list_profiles();

    ASSERT_TRUE(list.has_value());
    ASSERT_EQ(list->size(), 1u);
    EXPECT_EQ((*list)[0].iccid, test_iccid());
    EXPECT_EQ((*list)[0].state, asn1::profile_state::enabled);
}

TEST(lpa_profiles, when_enabling_by_iccid_then_the_card_gets_that_iccid) {
    profile_card c;
    lpa::lpa l(c.es10, c.server);
    auto ref = lpa::parse_profile_ref("8944476500001224158F");
    ASSERT_TRUE(ref.has_value());

    ASSERT_TRUE(l.enable_profile(*ref).has_value());
    ASSERT_TRUE(c.enabled.has_value());
    EXPECT_EQ(std::get<asn1::iccid_value>(c.enabled->id), test_iccid());
}

TEST(lpa_profiles, when_the_card_refuses_to_enable_then_its_code_is_reported) {
    profile_card c;
    c.enable_result = asn1::enable_profile_result::profile_not_in_disabled_state;
    lpa::lpa l(c.es10, c.server);

    auto r = l.enable_profile(*lpa::parse_profile_ref("8944476500001224158"));

    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, lpa::errc::card_refused);
    EXPECT_EQ(r.error().card_code, 2u);
    EXPECT_THAT(r.error().message, ::testing::HasSubstr("not disabled"));
}

TEST(lpa_profiles, when_setting_a_nickname_then_it_reaches_the_card_and_long_ones_are_refused) {
    profile_card c;
    lpa::lpa l(c.es10, c.server);

    ASSERT_TRUE(l.set_nickname("8944476500001224158", "work").has_value());
    ASSERT_TRUE(c.nicknamed.has_value());
    EXPECT_EQ(c.nicknamed->profile_nickname, "work");

    auto r = l.set_nickname("8944476500001224158", std::string(65, 'x'));
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, lpa::errc::invalid_argument);
}

TEST(lpa_profiles, when_a_command_is_unknown_to_the_card_then_the_status_word_is_reported) {
    profile_card c;
    lpa::lpa l(c.es10, c.server);

    auto r = l.list_notifications(); // this card does not answer BF28

    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, lpa::errc::card_transport);
    EXPECT_THAT(r.error().message, ::testing::HasSubstr("6A80"));
}

TEST(lpa_profile_ref, when_parsing_then_iccids_and_aids_are_told_apart) {
    auto iccid = lpa::parse_profile_ref("89444765000012241580");
    ASSERT_TRUE(iccid.has_value());
    EXPECT_TRUE(std::holds_alternative<asn1::iccid_value>(*iccid));

    auto aid = lpa::parse_profile_ref("A0000005591010FFFFFFFF8900001100");
    ASSERT_TRUE(aid.has_value());
    ASSERT_TRUE(std::holds_alternative<asn1::isdp_aid>(*aid));
    EXPECT_EQ(std::get<asn1::isdp_aid>(*aid).value.size(), 16u);

    EXPECT_FALSE(lpa::parse_profile_ref("hello").has_value());
    EXPECT_FALSE(lpa::parse_profile_ref("").has_value());
}

} // namespace
} // namespace esimguard::lpa_test
