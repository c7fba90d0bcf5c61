#include "esimguard/rsp/es2p.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace esimguard;
using namespace esimguard::rsp;
using nlohmann::json;

namespace {

const char* const eid_text = "89049032123451234512345678901235";
const char* const iccid_text = "8944000000000000001";

es2p_request_header header() {
    return {"operator-1", "call-42"};
}

asn1::eid_value eid() {
    return *asn1::eid_value::parse(eid_text);
}

asn1::iccid_value iccid() {
    return *asn1::iccid_value::parse(iccid_text);
}

std::string with(const std::string& body, const char* key, json value) {
    json j = json::parse(body);
    if (value.is_discarded()) {
        j.erase(key);
    } else {
        j[key] = value;
    }
    return j.dump();
}

json removed() {
    return json(json::value_t::discarded);
}

confirm_order_request sample_confirm() {
    confirm_order_request r;
    r.header = header();
    r.iccid = iccid();
    r.eid = eid();
    r.matching_id = "ABC-123";
    r.confirmation_code = "1234";
    r.smds_address = "lpa.ds.gsma.com";
    r.release_flag = true;
    return r;
}

} // namespace

TEST(es2p, download_order_round_trips_with_and_without_optionals) {
    download_order_request full{header(), eid(), iccid(), "default"};
    auto p = parse_download_order_request(to_json(full));
    ASSERT_TRUE(p.has_value()) << to_string(p.error());
    EXPECT_EQ(*p, full);

    download_order_request by_type{header(), std::nullopt, std::nullopt, "iot"};
    auto q = parse_download_order_request(to_json(by_type));
    ASSERT_TRUE(q.has_value());
    EXPECT_EQ(*q, by_type);
}

TEST(es2p, download_order_response_round_trips) {
    download_order_response r{iccid()};
    auto p = parse_download_order_response(to_json(r));
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(*p, r);
}

TEST(es2p, confirm_order_round_trips) {
    const auto r = sample_confirm();
    auto p = parse_confirm_order_request(to_json(r));
    ASSERT_TRUE(p.has_value()) << to_string(p.error());
    EXPECT_EQ(*p, r);
}

TEST(es2p, confirm_order_response_round_trips) {
    confirm_order_response r{"ABC-123", eid(), "smdp.example.com"};
    auto p = parse_confirm_order_response(to_json(r));
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(*p, r);
    confirm_order_response bare{"X1", std::nullopt, std::nullopt};
    EXPECT_EQ(parse_confirm_order_response(to_json(bare)), bare);
}

TEST(es2p, cancel_order_round_trips_both_indicators) {
    for (auto fpsi : {final_profile_status::available, final_profile_status::unavailable}) {
        cancel_order_request r{header(), iccid(), eid(), "ABC-123", fpsi};
        auto p = parse_cancel_order_request(to_json(r));
        ASSERT_TRUE(p.has_value());
        EXPECT_EQ(*p, r);
    }
}

TEST(es2p, release_profile_round_trips) {
    release_profile_request r{header(), iccid()};
    auto p = parse_release_profile_request(to_json(r));
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(*p, r);
}

TEST(es2p, handle_download_progress_info_round_trips_success_and_failure) {
    handle_download_progress_info_request r;
    r.header = header();
    r.eid = eid();
    r.iccid = iccid();
    r.profile_type = "default";
    r.timestamp = "2024-05-01T10:00:00Z";
    r.notification_point_id = 3;
    r.result_data = bytes{0xBF, 0x37, 0x00};
    auto p = parse_handle_download_progress_info_request(to_json(r));
    ASSERT_TRUE(p.has_value()) << to_string(p.error());
    EXPECT_EQ(*p, r);

    r.notification_point_status.status = execution_status::failed;
    r.notification_point_status.status_code_data = status(codes::eid_refused);
    r.result_data.reset();
    auto f = parse_handle_download_progress_info_request(to_json(r));
    ASSERT_TRUE(f.has_value());
    EXPECT_EQ(*f, r);
}

TEST(es2p, f_padded_iccid_is_accepted) {
    auto body = with(to_json(release_profile_request{header(), iccid()}), "iccid",
                     std::string(iccid_text) + "F");
    auto p = parse_release_profile_request(body);
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(p->iccid, iccid());
}

TEST(es2p, bad_eid_is_8_1_1_2_1) {
    auto body = with(to_json(sample_confirm()), "eid", "8904903212345");
    auto p = parse_confirm_order_request(body);
    ASSERT_FALSE(p.has_value());
    EXPECT_TRUE(p.error().is(codes::eid_invalid));
}

TEST(es2p, bad_iccid_is_8_2_1_2_1) {
    for (json bad : {json("89440000000000000012345"), json("89ABCDEF000000000000"), json("123")}) {
        auto p = parse_confirm_order_request(with(to_json(sample_confirm()), "iccid", bad));
        ASSERT_FALSE(p.has_value()) << bad;
        EXPECT_TRUE(p.error().is(codes::iccid_invalid)) << bad;
    }
}

TEST(es2p, matching_id_with_other_characters_is_8_2_6_2_1) {
    auto p = parse_confirm_order_request(with(to_json(sample_confirm()), "matchingId", "a_b"));
    ASSERT_FALSE(p.has_value());
    EXPECT_TRUE(p.error().is(codes::matching_id_invalid));
}

TEST(es2p, missing_release_flag_or_header_is_1_3_1_2_2) {
    auto a = parse_confirm_order_request(with(to_json(sample_confirm()), "releaseFlag", removed()));
    ASSERT_FALSE(a.has_value());
    EXPECT_TRUE(a.error().is(codes::mandatory_element_missing));
    auto b = parse_confirm_order_request(with(to_json(sample_confirm()), "header", removed()));
    ASSERT_FALSE(b.has_value());
    EXPECT_TRUE(b.error().is(codes::mandatory_element_missing));
    auto c = parse_confirm_order_request(
        with(to_json(sample_confirm()), "header", json{{"functionCallIdentifier", "x"}}));
    ASSERT_FALSE(c.has_value());
    EXPECT_NE(c.error().message.find("functionRequesterIdentifier"), std::string::npos);
}

TEST(es2p, release_flag_of_wrong_type_is_1_3_1_2_1) {
    auto p = parse_confirm_order_request(with(to_json(sample_confirm()), "releaseFlag", "true"));
    ASSERT_FALSE(p.has_value());
    EXPECT_TRUE(p.error().is(codes::invalid_format));
}

TEST(es2p, cancel_order_without_iccid_or_indicator_is_8_2_1_2_2) {
    const auto body = to_json(cancel_order_request{header(), iccid(), std::nullopt, std::nullopt,
                                                   final_profile_status::available});
    auto a = parse_cancel_order_request(with(body, "iccid", removed()));
    ASSERT_FALSE(a.has_value());
    EXPECT_TRUE(a.error().is(codes::iccid_missing));
    auto b = parse_cancel_order_request(with(body, "finalProfileStatusIndicator", removed()));
    ASSERT_FALSE(b.has_value());
    EXPECT_TRUE(b.error().is(codes::iccid_missing));
    auto c = parse_cancel_order_request(with(body, "finalProfileStatusIndicator", "Gone"));
    ASSERT_FALSE(c.has_value());
    EXPECT_TRUE(c.error().is(codes::invalid_format));
}

TEST(es2p, failed_es2p_response_is_reported_by_peer) {
    auto p = parse_download_order_response(failed_response_json(codes::profile_type_unavailable));
    ASSERT_FALSE(p.has_value());
    EXPECT_TRUE(p.error().reported_by_peer);
    EXPECT_TRUE(p.error().detail.is(codes::profile_type_unavailable));
}
