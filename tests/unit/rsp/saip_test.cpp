#include "esimguard/rsp/saip.hpp"

#include "esimguard/asn1/tlv.hpp"

#include <gtest/gtest.h>

using namespace esimguard;
using namespace esimguard::rsp;

namespace {

profile_package_params params() {
    profile_package_params p;
    p.iccid = *asn1::iccid_value::parse("89440000000000000012");
    p.imsi = "204080832550169";
    p.profile_type = "esimguard-test";
    return p;
}

std::vector<std::uint32_t> top_level_tags(byte_view der) {
    std::vector<std::uint32_t> tags;
    asn1::reader r(der);
    while (!r.at_end()) {
        auto t = r.next();
        if (!t) {
            ADD_FAILURE() << "bad TLV";
            break;
        }
        tags.push_back(t->tag);
    }
    return tags;
}

} // namespace

TEST(saip, made_package_reads_back_its_iccid_type_and_version) {
    auto der = make_profile_package(params());
    ASSERT_TRUE(der.has_value()) << der.error().message;
    auto info = read_profile_header(*der);
    ASSERT_TRUE(info.has_value()) << info.error().message;
    EXPECT_EQ(info->iccid, params().iccid);
    EXPECT_EQ(info->profile_type, "esimguard-test");
    EXPECT_EQ(info->major_version, 2);
    EXPECT_EQ(info->minor_version, 3);
}

TEST(saip, package_is_header_mf_usim_end_in_automatic_tags) {
    auto der = make_profile_package(params());
    ASSERT_TRUE(der.has_value());
    ASSERT_TRUE(asn1::validate(*der).has_value());
    EXPECT_EQ(top_level_tags(*der), (std::vector<std::uint32_t>{0xA0, 0xB0, 0xB3, 0xAA}));
}

TEST(saip, ef_imsi_and_ef_iccid_hold_the_values_in_sim_coding) {
    auto der = make_profile_package(params());
    ASSERT_TRUE(der.has_value());
    const std::string hex = to_hex_upper(*der);
    // EF.IMSI fillFileContent: length 08, parity 9, swapped BCD (pySim's example value).
    EXPECT_NE(hex.find("A30B8309082940808023551096"), std::string::npos) << hex;
    // EF.ICCID fillFileContent: nibble-swapped ICCID.
    EXPECT_NE(hex.find("A40C830A98440000000000000021"), std::string::npos) << hex;
}

TEST(saip, bad_imsi_is_refused) {
    auto p = params();
    p.imsi = "20408A";
    EXPECT_FALSE(make_profile_package(p).has_value());
    p.imsi = "1234";
    EXPECT_FALSE(make_profile_package(p).has_value());
}

TEST(saip, non_saip_inputs_are_refused) {
    const std::vector<bytes> inputs = {
        {},
        {0x30, 0x00},                         // a SEQUENCE
        {0xBF, 0x36, 0x03, 0x80, 0x01, 0x00}, // a bound profile package
        {0xA0, 0x03, 0x80, 0x01, 0x02},       // a header alone, no End
        {0x01, 0x02, 0x03},                   // garbage
    };
    for (const auto& in : inputs) {
        EXPECT_FALSE(read_profile_header(in).has_value()) << to_hex(in);
    }
}

TEST(saip, package_starting_with_another_element_is_refused) {
    auto der = make_profile_package(params());
    ASSERT_TRUE(der.has_value());
    // Drop the header: the MF comes first.
    asn1::reader r(*der);
    auto header = r.next();
    ASSERT_TRUE(header.has_value());
    bytes rest(der->begin() + static_cast<std::ptrdiff_t>(header->raw.size()), der->end());
    auto info = read_profile_header(rest);
    ASSERT_FALSE(info.has_value());
    EXPECT_NE(info.error().message.find("ProfileHeader"), std::string::npos);
}

TEST(saip, unknown_major_version_is_refused) {
    auto p = params();
    p.major_version = 9;
    auto der = make_profile_package(p);
    ASSERT_TRUE(der.has_value());
    EXPECT_FALSE(read_profile_header(*der).has_value());
}
