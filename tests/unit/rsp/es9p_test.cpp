#include "esimguard/rsp/es9p.hpp"

#include "samples.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace esimguard;
using namespace esimguard::rsp;
using namespace esimguard::rsp::test;
using nlohmann::json;

namespace {

std::string b64(const bytes& b) {
    return to_base64(b);
}

// Expects a parse refusal with the given code, naming the field in the message.
template <typename R>
void expect_refused(const R& r, const status_code& code, std::string_view field) {
    ASSERT_FALSE(r.has_value());
    EXPECT_TRUE(r.error().is(code)) << to_string(r.error());
    EXPECT_NE(r.error().message.find(field), std::string::npos) << r.error().message;
}

initiate_authentication_request sample_initiate() {
    initiate_authentication_request r;
    r.smdp_address = "smdp.example.com:8443";
    r.euicc_challenge = filled<16>(0x11);
    r.euicc_info1 = info1();
    r.euicc_info1_der = asn1::encode(r.euicc_info1);
    return r;
}

std::string initiate_body_with(const char* key, json value) {
    json j = json::parse(to_json(sample_initiate()));
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

} // namespace

// --- header checks ------------------------------------------------------------

TEST(es9p_headers, json_content_type_and_v2_or_v3_protocol_are_accepted) {
    EXPECT_TRUE(check_request_headers("application/json", "gsma/rsp/v2.2.2"));
    EXPECT_TRUE(check_request_headers("application/json;charset=UTF-8", "gsma/rsp/v2.5.0"));
    EXPECT_TRUE(check_request_headers("Application/JSON ; charset=utf-8", "gsma/rsp/v3.1.0"));
}

TEST(es9p_headers, other_content_type_is_refused_with_1_2_1) {
    auto r = check_request_headers("text/plain", "gsma/rsp/v2.2.2");
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().is(codes::content_type_invalid));
    EXPECT_FALSE(check_request_headers("", "gsma/rsp/v2.2.2"));
    EXPECT_FALSE(check_request_headers("application/jsonx", "gsma/rsp/v2.2.2"));
}

TEST(es9p_headers, unsupported_admin_protocol_is_refused_with_1_2_2) {
    for (std::string_view p : {"", "gsma/rsp/v1.0", "gsma/rsp/v4.0.0", "gsma/rsp/v2", "v2.2.2"}) {
        auto r = check_request_headers("application/json", p);
        ASSERT_FALSE(r) << p;
        EXPECT_TRUE(r.error().is(codes::admin_protocol_unsupported)) << p;
    }
}

// --- request round trips --------------------------------------------------------

TEST(es9p_requests, initiate_authentication_round_trips_and_decodes_euicc_info1) {
    const auto r = sample_initiate();
    auto parsed = parse_initiate_authentication_request(to_json(r));
    ASSERT_TRUE(parsed.has_value()) << to_string(parsed.error());
    EXPECT_EQ(*parsed, r);
    EXPECT_EQ(parsed->euicc_info1.svn, (asn1::version_type{2, 2, 2}));
}

TEST(es9p_requests, authenticate_client_round_trips_keeping_signed_bytes) {
    authenticate_client_request r;
    r.transaction_id = transaction_id();
    r.authenticate_server_response_der = asn1::encode(auth_ok());
    auto parsed = parse_authenticate_client_request(to_json(r));
    ASSERT_TRUE(parsed.has_value()) << to_string(parsed.error());
    EXPECT_EQ(parsed->transaction_id, r.transaction_id);
    EXPECT_EQ(parsed->authenticate_server_response_der, r.authenticate_server_response_der);
    const auto* ok =
        std::get_if<asn1::authenticate_response_ok>(&parsed->authenticate_server_response);
    ASSERT_NE(ok, nullptr);
    EXPECT_FALSE(ok->euicc_signed.raw.empty());
    EXPECT_EQ(ok->euicc_signed.ctx_params.matching_id, "QR-G-5C-KR-1PVHLVE");
}

TEST(es9p_requests, get_bound_profile_package_round_trips) {
    get_bound_profile_package_request r;
    r.transaction_id = transaction_id();
    r.prepare_download_response = prepare_ok();
    r.prepare_download_response_der = asn1::encode(r.prepare_download_response);
    auto parsed = parse_get_bound_profile_package_request(to_json(r));
    ASSERT_TRUE(parsed.has_value()) << to_string(parsed.error());
    EXPECT_EQ(parsed->transaction_id, r.transaction_id);
    EXPECT_EQ(parsed->prepare_download_response_der, r.prepare_download_response_der);
    EXPECT_TRUE(std::holds_alternative<asn1::prepare_download_response_ok>(
        parsed->prepare_download_response));
}

TEST(es9p_requests, handle_notification_round_trips) {
    handle_notification_request r;
    r.pending_notification = other_notification();
    r.pending_notification_der = asn1::encode(r.pending_notification);
    auto parsed = parse_handle_notification_request(to_json(r));
    ASSERT_TRUE(parsed.has_value()) << to_string(parsed.error());
    EXPECT_EQ(parsed->pending_notification_der, r.pending_notification_der);
    EXPECT_EQ(parsed->pending_notification, r.pending_notification);
}

TEST(es9p_requests, cancel_session_round_trips) {
    cancel_session_request r;
    r.transaction_id = transaction_id();
    r.cancel_session_response_der = asn1::encode(cancel_ok());
    auto parsed = parse_cancel_session_request(to_json(r));
    ASSERT_TRUE(parsed.has_value()) << to_string(parsed.error());
    EXPECT_EQ(parsed->cancel_session_response_der, r.cancel_session_response_der);
    EXPECT_TRUE(
        std::holds_alternative<asn1::cancel_session_response_ok>(parsed->cancel_session_response));
}

TEST(es9p_requests, transaction_id_is_written_as_upper_case_hex) {
    cancel_session_request r;
    r.transaction_id = hx("0a0b");
    r.cancel_session_response_der = asn1::encode(cancel_ok());
    EXPECT_EQ(json::parse(to_json(r))["transactionId"], "0A0B");
}

// --- lpac-shaped bodies -----------------------------------------------------------

TEST(es9p_lpac, initiate_authentication_as_lpac_sends_it_is_accepted) {
    // lpac: X-Admin-Protocol gsma/rsp/v2.2.2, keys in this order, no header object.
    ASSERT_TRUE(check_request_headers("application/json", "gsma/rsp/v2.2.2"));
    const std::string body = R"({"smdpAddress":"smdp.example.com","euiccChallenge":")" +
                             b64(bytes(16, 0x5A)) + R"(","euiccInfo1":")" +
                             b64(hx("BF2035820302020"
                                    "2A916041481370F5125D0B1D408D4C3B232E6D25E"
                                    "795BEBFBAA16041481370F5125D0B1D408D4C3B232E6D25E795BEBFB")) +
                             R"("})";
    auto r = parse_initiate_authentication_request(body);
    ASSERT_TRUE(r.has_value()) << to_string(r.error());
    EXPECT_EQ(r->smdp_address, "smdp.example.com");
    ASSERT_EQ(r->euicc_info1.ci_pkid_list_for_verification.size(), 1u);
    EXPECT_EQ(r->euicc_info1.ci_pkid_list_for_verification[0], ci_pkid());
}

TEST(es9p_lpac, authenticate_client_with_tac_35290611_and_empty_device_capabilities_is_accepted) {
    auto ok = std::get<asn1::authenticate_response_ok>(auth_ok());
    ok.euicc_signed.ctx_params = lpac_ctx("ABC-123");
    const bytes der = asn1::encode(asn1::authenticate_server_response{ok});
    const std::string body = R"({"transactionId":"0102030405060708090A0B0C0D0E0F10",)"
                             R"("authenticateServerResponse":")" +
                             b64(der) + R"("})";
    auto r = parse_authenticate_client_request(body);
    ASSERT_TRUE(r.has_value()) << to_string(r.error());
    const auto& got = std::get<asn1::authenticate_response_ok>(r->authenticate_server_response);
    EXPECT_EQ(got.euicc_signed.ctx_params.device.tac,
              (std::array<std::uint8_t, 4>{0x35, 0x29, 0x06, 0x11}));
    EXPECT_EQ(got.euicc_signed.ctx_params.device.capabilities, asn1::device_capabilities{});
    EXPECT_EQ(got.euicc_signed.ctx_params.matching_id, "ABC-123");
}

// --- hostile requests ---------------------------------------------------------------

TEST(es9p_refusals, missing_field_is_1_3_1_2_2_naming_it) {
    expect_refused(
        parse_initiate_authentication_request(initiate_body_with("euiccInfo1", removed())),
        codes::mandatory_element_missing, "euiccInfo1");
    expect_refused(
        parse_initiate_authentication_request(initiate_body_with("smdpAddress", removed())),
        codes::mandatory_element_missing, "smdpAddress");
    expect_refused(
        parse_initiate_authentication_request(initiate_body_with("euiccChallenge", nullptr)),
        codes::mandatory_element_missing, "euiccChallenge");
    expect_refused(parse_authenticate_client_request(R"({"transactionId":"01"})"),
                   codes::mandatory_element_missing, "authenticateServerResponse");
    expect_refused(parse_get_bound_profile_package_request(R"({"prepareDownloadResponse":"AA=="})"),
                   codes::mandatory_element_missing, "transactionId");
    expect_refused(parse_handle_notification_request("{}"), codes::mandatory_element_missing,
                   "pendingNotification");
    expect_refused(parse_cancel_session_request(R"({"transactionId":"01"})"),
                   codes::mandatory_element_missing, "cancelSessionResponse");
}

TEST(es9p_refusals, bad_base64_is_1_3_1_2_1_naming_the_field) {
    expect_refused(
        parse_initiate_authentication_request(initiate_body_with("euiccInfo1", "not*base64")),
        codes::invalid_format, "euiccInfo1");
    expect_refused(parse_initiate_authentication_request(initiate_body_with("euiccInfo1", "QUJD")),
                   codes::invalid_format, "euiccInfo1"); // valid base64, not DER
}

TEST(es9p_refusals, wrong_json_type_is_1_3_1_2_1) {
    expect_refused(parse_initiate_authentication_request(initiate_body_with("smdpAddress", 42)),
                   codes::invalid_format, "smdpAddress");
    expect_refused(parse_initiate_authentication_request(
                       initiate_body_with("euiccChallenge", json::array({1, 2}))),
                   codes::invalid_format, "euiccChallenge");
    expect_refused(
        parse_cancel_session_request(R"({"transactionId":7,"cancelSessionResponse":""})"),
        codes::invalid_format, "transactionId");
}

TEST(es9p_refusals, challenge_of_wrong_size_is_refused) {
    expect_refused(parse_initiate_authentication_request(
                       initiate_body_with("euiccChallenge", b64(bytes(15, 1)))),
                   codes::invalid_format, "euiccChallenge");
}

TEST(es9p_refusals, der_of_the_wrong_message_is_refused) {
    // A valid CancelSessionResponse where an AuthenticateServerResponse belongs.
    const std::string body = R"({"transactionId":"01","authenticateServerResponse":")" +
                             b64(asn1::encode(cancel_ok())) + R"("})";
    expect_refused(parse_authenticate_client_request(body), codes::invalid_format,
                   "authenticateServerResponse");
}

TEST(es9p_refusals, transaction_id_must_be_hex_of_1_to_16_bytes) {
    const std::string der = b64(asn1::encode(cancel_ok()));
    for (const std::string& tid : {std::string("XYZ"), std::string("0"), std::string(34, 'A')}) {
        const std::string body =
            R"({"transactionId":")" + tid + R"(","cancelSessionResponse":")" + der + R"("})";
        expect_refused(parse_cancel_session_request(body), codes::invalid_format, "transactionId");
    }
}

TEST(es9p_refusals, non_json_and_non_object_bodies_are_refused_without_throwing) {
    for (std::string_view body : {"", "{", "[]", "\"x\"", "null", "{\"a\":}", "\xff\xfe"}) {
        auto r = parse_initiate_authentication_request(body);
        ASSERT_FALSE(r.has_value()) << body;
        EXPECT_TRUE(r.error().is(codes::invalid_format));
    }
}

TEST(es9p_refusals, oversize_body_is_refused) {
    std::string body = R"({"pendingNotification":")" + std::string(max_body_size, 'A') + "\"}";
    expect_refused(parse_handle_notification_request(body), codes::invalid_format, "body");
}

TEST(es9p_refusals, oversize_field_is_refused_before_decoding) {
    std::string body = R"({"pendingNotification":")" + std::string(200000, 'A') + "\"}";
    expect_refused(parse_handle_notification_request(body), codes::invalid_format,
                   "pendingNotification");
}

TEST(es9p_refusals, deeply_nested_json_is_refused_without_crashing) {
    std::string body(100000, '[');
    auto r = parse_cancel_session_request(body);
    EXPECT_FALSE(r.has_value());
}

// --- responses -----------------------------------------------------------------------

TEST(es9p_responses, initiate_authentication_response_round_trips) {
    initiate_authentication_response r;
    r.transaction_id = transaction_id();
    r.server_signed1 = server_signed1();
    r.server_signed1_der = asn1::encode(r.server_signed1);
    r.server_signature1 = filled<64>(0x33);
    r.euicc_ci_pkid_to_be_used = ci_pkid();
    r.server_certificate = fake_cert(1);
    const std::string body = to_json(r);
    EXPECT_EQ(json::parse(body)["header"]["functionExecutionStatus"]["status"], "Executed-Success");
    // Signature and key ID travel as complete TLVs, as lpac concatenates them.
    EXPECT_EQ(from_base64(json::parse(body)["serverSignature1"].get<std::string>())->at(0), 0x5F);
    EXPECT_EQ(from_base64(json::parse(body)["euiccCiPKIdToBeUsed"].get<std::string>())->at(0),
              0x04);
    auto parsed = parse_initiate_authentication_response(body);
    ASSERT_TRUE(parsed.has_value()) << to_string(parsed.error().detail);
    parsed->server_signed1.raw.clear();
    EXPECT_EQ(*parsed, r);
}

TEST(es9p_responses, authenticate_client_response_round_trips) {
    authenticate_client_response r;
    r.transaction_id = transaction_id();
    r.profile_metadata = metadata();
    r.profile_metadata_der = asn1::encode(r.profile_metadata);
    r.smdp_signed2 = smdp_signed2();
    r.smdp_signed2_der = asn1::encode(r.smdp_signed2);
    r.smdp_signature2 = filled<64>(0x55);
    r.smdp_certificate = fake_cert(4);
    auto parsed = parse_authenticate_client_response(to_json(r));
    ASSERT_TRUE(parsed.has_value()) << to_string(parsed.error().detail);
    parsed->smdp_signed2.raw.clear();
    EXPECT_EQ(*parsed, r);
}

TEST(es9p_responses, get_bound_profile_package_response_round_trips) {
    get_bound_profile_package_response r;
    r.transaction_id = transaction_id();
    r.bound_profile_package_der = hx("BF3603800100");
    auto parsed = parse_get_bound_profile_package_response(to_json(r));
    ASSERT_TRUE(parsed.has_value()) << to_string(parsed.error().detail);
    EXPECT_EQ(*parsed, r);
}

TEST(es9p_responses, bpp_with_another_tag_is_refused_as_malformed) {
    get_bound_profile_package_response r;
    r.transaction_id = transaction_id();
    r.bound_profile_package_der = hx("3003800100");
    auto parsed = parse_get_bound_profile_package_response(to_json(r));
    ASSERT_FALSE(parsed.has_value());
    EXPECT_FALSE(parsed.error().reported_by_peer);
    EXPECT_TRUE(parsed.error().detail.is(codes::invalid_format));
}

TEST(es9p_responses, failed_response_round_trips_as_a_peer_reported_status) {
    const status s = status::with_detail(codes::matching_id_refused, "try again");
    const std::string body = failed_response_json(s);
    auto h = json::parse(body)["header"]["functionExecutionStatus"];
    EXPECT_EQ(h["status"], "Failed");
    EXPECT_EQ(h["statusCodeData"]["subjectCode"], "8.2.6");
    EXPECT_EQ(h["statusCodeData"]["reasonCode"], "3.8");
    auto parsed = parse_authenticate_client_response(body);
    ASSERT_FALSE(parsed.has_value());
    EXPECT_TRUE(parsed.error().reported_by_peer);
    EXPECT_EQ(parsed.error().detail, s);
    auto header_only = parse_header_only_response(body);
    ASSERT_FALSE(header_only.has_value());
    EXPECT_EQ(header_only.error().detail, s);
}

TEST(es9p_responses, header_only_success_parses) {
    auto r = parse_header_only_response(success_response_json());
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, execution_status::executed_success);
}

TEST(es9p_responses, response_without_header_is_malformed_not_peer_reported) {
    auto r = parse_header_only_response("{}");
    ASSERT_FALSE(r.has_value());
    EXPECT_FALSE(r.error().reported_by_peer);
    EXPECT_TRUE(r.error().detail.is(codes::mandatory_element_missing));
}

TEST(es9p_responses, failed_message_with_invalid_utf8_is_still_written) {
    const status s("8.1", "6.1", std::string("bad \xff byte"));
    const std::string body = failed_response_json(s);
    EXPECT_TRUE(json::accept(body));
}
