// ES2+ order procedures, the HTTP glue (status answers, never a 500,
// operator authentication, metrics), the progress notifier and log hygiene.

#include "harness.hpp"

#include "esimguard/smdp/progress_notifier.hpp"
#include "esimguard/smdp/routes.hpp"

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

namespace esimguard::smdp::testing {
namespace {

class es2p : public service_fixture {
protected:
    const std::string iccid = "8944000000000000044";
    void SetUp() override {
        service_fixture::SetUp();
        add_profile(iccid);
    }
    rsp::confirm_order_request confirm(std::optional<std::string> matching_id) {
        rsp::confirm_order_request c;
        c.iccid = must(asn1::iccid_value::parse(iccid));
        c.matching_id = std::move(matching_id);
        c.confirmation_code = "13579";
        c.release_flag = true;
        return c;
    }
    void download_order() {
        rsp::download_order_request d;
        d.iccid = must(asn1::iccid_value::parse(iccid));
        must(service->download_order(operator_, d));
    }
};

TEST_F(
    es2p,
    when_no_matching_id_is_given_then_one_of_at_least_128_bits_in_lpa_safe_characters_is_generated) {
    download_order();
    auto r = must(service->confirm_order(operator_, confirm(std::nullopt)));
    EXPECT_TRUE(rsp::is_valid_matching_id(r.matching_id));
    std::size_t hex_digits = 0;
    for (char c : r.matching_id) {
        hex_digits += std::isxdigit(static_cast<unsigned char>(c)) ? 1 : 0;
    }
    EXPECT_GE(hex_digits * 4, 128u);
    ASSERT_TRUE(r.smdp_address.has_value());
    EXPECT_EQ(*r.smdp_address, smdp_address);
}

TEST_F(es2p,
       when_the_operator_chooses_a_matching_id_already_used_then_confirm_is_refused_8_2_6_3_3) {
    auto first = order(iccid);
    add_profile("8944000000000000055");
    rsp::download_order_request d;
    d.iccid = must(asn1::iccid_value::parse("8944000000000000055"));
    must(service->download_order(operator_, d));
    auto c = confirm(first.activation_code.matching_id);
    c.iccid = *d.iccid;
    auto r = service->confirm_order(operator_, c);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().is(rsp::codes::matching_id_conflict));
}

TEST_F(es2p, when_a_confirmation_code_is_given_then_only_its_hash_is_stored) {
    download_order();
    auto c = confirm(std::string("MY-ID-1"));
    c.confirmation_code = "97531";
    must(service->confirm_order(operator_, c));
    auto o = must(db->find_order_by_matching_id("MY-ID-1"));
    EXPECT_TRUE(o.cc_required);
    ASSERT_TRUE(o.cc_sha256.has_value());
    EXPECT_EQ(*o.cc_sha256, crypto::sha256(as_bytes("97531")));
}

TEST_F(es2p, when_another_operator_confirms_the_order_then_it_is_refused_8_2_1_1_2) {
    download_order();
    auto other =
        must(service->add_operator({"op2", "Two", "other-token", std::nullopt, std::nullopt}));
    auto r = service->confirm_order(other, confirm(std::nullopt));
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().is(rsp::codes::iccid_not_allowed));
}

TEST_F(es2p, when_the_profile_is_already_ordered_then_download_order_is_refused_8_2_1_3_3) {
    download_order();
    rsp::download_order_request d;
    d.iccid = must(asn1::iccid_value::parse(iccid));
    auto r = service->download_order(operator_, d);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().is(rsp::codes::iccid_not_available));
}

TEST_F(es2p, when_a_confirmed_order_is_released_then_a_card_may_download_it) {
    download_order();
    auto c = confirm(std::string("REL-1"));
    c.release_flag = false;
    must(service->confirm_order(operator_, c));
    EXPECT_EQ(must(db->find_order_by_matching_id("REL-1")).state, store::order_state::confirmed);
    rsp::release_profile_request rel;
    rel.iccid = c.iccid;
    ASSERT_TRUE(service->release_profile(operator_, rel));
    test_card card(crypto::curve::nist_p256, shared_pki::get().euicc(crypto::curve::nist_p256, 1));
    EXPECT_TRUE(authenticate(card, "REL-1"));
}

TEST_F(es2p, when_an_order_is_cancelled_then_its_matching_id_is_refused) {
    auto o = order(iccid);
    rsp::cancel_order_request c;
    c.iccid = must(asn1::iccid_value::parse(iccid));
    c.final_profile_status_indicator = rsp::final_profile_status::available;
    ASSERT_TRUE(service->cancel_order(operator_, c));
    test_card card(crypto::curve::nist_p256, shared_pki::get().euicc(crypto::curve::nist_p256, 1));
    auto r = authenticate(card, o.activation_code.matching_id);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().is(rsp::codes::matching_id_refused));
}

TEST_F(es2p, when_a_package_is_not_saip_then_it_is_refused) {
    const bytes garbage{0x30, 0x03, 0x02, 0x01, 0x01};
    EXPECT_FALSE(service->add_profile_package("op1", garbage, {}));
}

// ---- HTTP glue ----------------------------------------------------------

http::request es9p_request(std::string body) {
    http::request r;
    r.method = "POST";
    r.headers = {{"Content-Type", "application/json"},
                 {"X-Admin-Protocol", "gsma/rsp/v2.2.2"},
                 {"User-Agent", "gsma-rsp-lpad"}};
    r.body = std::move(body);
    r.peer_address = "192.0.2.20";
    return r;
}

nlohmann::json status_of(const http::response& r) {
    return nlohmann::json::parse(r.body)["header"]["functionExecutionStatus"];
}

class http_glue : public es2p {};

TEST_F(http_glue, when_content_type_is_wrong_then_the_answer_is_200_with_1_2_1) {
    test_card card(crypto::curve::nist_p256, shared_pki::get().euicc(crypto::curve::nist_p256, 1));
    auto req = es9p_request(rsp::to_json(card.initiate(smdp_address)));
    req.headers[0].value = "text/plain";
    auto r = handle_es9p_request(*service, "initiateAuthentication", req);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(status_of(r)["status"], "Failed");
    EXPECT_EQ(status_of(r)["statusCodeData"]["subjectCode"], "1.2.1");
}

TEST_F(http_glue, when_the_body_is_garbage_then_every_function_answers_a_failed_status_not_a_500) {
    for (auto f : es9p_functions) {
        for (const std::string& body : std::vector<std::string>{
                 "", "{", "[]", "{\"transactionId\":5}", std::string(100, '\xff')}) {
            auto r = handle_es9p_request(*service, f, es9p_request(body));
            EXPECT_EQ(r.status, 200) << f << " " << body;
            EXPECT_EQ(status_of(r)["status"], "Failed") << f;
            EXPECT_FALSE(status_of(r)["statusCodeData"]["message"].get<std::string>().empty());
        }
    }
}

TEST_F(http_glue, when_initiate_authentication_succeeds_then_the_answer_parses_as_an_lpa_would) {
    test_card card(crypto::curve::nist_p256, shared_pki::get().euicc(crypto::curve::nist_p256, 1));
    auto r = handle_es9p_request(*service, "initiateAuthentication",
                                 es9p_request(rsp::to_json(card.initiate(smdp_address))));
    ASSERT_EQ(r.status, 200);
    auto parsed = rsp::parse_initiate_authentication_response(r.body);
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(parsed->server_signed1.euicc_challenge, card.euicc_challenge);
    EXPECT_NE(metrics->render().find("smdp_requests_total"), std::string::npos);
}

TEST_F(http_glue, when_a_notification_is_posted_then_the_answer_is_204) {
    test_card card(crypto::curve::nist_p256, shared_pki::get().euicc(crypto::curve::nist_p256, 1));
    card.transaction_id = bytes(16, 0x01);
    auto req = es9p_request(rsp::to_json(card.installation_result(iccid, true)));
    auto r = handle_es9p_request(*service, "handleNotification", req);
    EXPECT_EQ(r.status, 204);
    EXPECT_TRUE(r.body.empty());
}

TEST_F(http_glue, when_an_operator_call_has_no_valid_token_then_it_is_401) {
    rsp::download_order_request d;
    d.iccid = must(asn1::iccid_value::parse(iccid));
    auto req = es9p_request(rsp::to_json(d));
    EXPECT_EQ(handle_es2p_request(*service, "downloadOrder", req).status, 401);
    req.headers.push_back({"Authorization", "Bearer wrong-token"});
    EXPECT_EQ(handle_es2p_request(*service, "downloadOrder", req).status, 401);
    req.headers.back().value = "Bearer " + operator_token;
    auto ok = handle_es2p_request(*service, "downloadOrder", req);
    EXPECT_EQ(ok.status, 200);
    auto parsed = rsp::parse_download_order_response(ok.body);
    ASSERT_TRUE(parsed.has_value()) << ok.body;
    EXPECT_EQ(parsed->iccid.to_string(), iccid);
}

// ---- progress notifier ----------------------------------------------------

TEST_F(es2p, when_the_operator_is_down_then_the_progress_info_is_retried_and_delivered_later) {
    progress_url = "https://operator.example/es2";
    build({});
    add_profile(iccid);
    auto o = order(iccid);
    // A queued message, as the procedures write them.
    ASSERT_TRUE(db->enqueue_notification("op1", o.order.order_id, "{\"x\":1}", now.load()));
    int calls = 0;
    bool operator_up = false;
    std::string last_url;
    progress_notifier_config nc;
    nc.clock = [this] { return now.load(); };
    nc.retry.initial_delay = std::chrono::seconds(10);
    nc.sender = [&](const std::string& url,
                    const std::string&) -> std::expected<void, std::string> {
        ++calls;
        last_url = url;
        if (!operator_up) {
            return std::unexpected("HTTP 503");
        }
        return {};
    };
    auto notifier = create_progress_notifier(nc, *db);
    EXPECT_EQ(notifier->run_once(), 0u);
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(last_url, "https://operator.example/es2/handleDownloadProgressInfo");
    EXPECT_EQ(notifier->run_once(), 0u) << "not due again before the backoff";
    EXPECT_EQ(calls, 1);
    operator_up = true;
    now = now.load() + std::chrono::seconds(11);
    EXPECT_EQ(notifier->run_once(), 1u);
    EXPECT_EQ(notifier->run_once(), 0u);
    EXPECT_EQ(calls, 2);
}

TEST_F(es2p, when_the_notifier_is_started_and_stopped_then_it_joins_cleanly) {
    progress_notifier_config nc;
    nc.poll_interval = std::chrono::milliseconds(5);
    nc.sender = [](const std::string&, const std::string&) -> std::expected<void, std::string> {
        return {};
    };
    auto notifier = create_progress_notifier(nc, *db);
    notifier->start();
    notifier->start();
    notifier->stop();
    notifier->stop();
}

// ---- logs ------------------------------------------------------------------

TEST_F(es2p,
       when_a_download_runs_at_debug_level_then_no_matching_id_or_confirmation_code_is_logged) {
    std::ostringstream captured;
    auto logger = spdlog::get("smdp");
    ASSERT_TRUE(logger);
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(captured);
    logger->sinks().push_back(sink);
    const auto level = logger->level();
    logger->set_level(spdlog::level::debug);

    const std::string cc = "86420975";
    auto o = order(iccid, std::nullopt, cc);
    test_card card(crypto::curve::nist_p256, shared_pki::get().euicc(crypto::curve::nist_p256, 1));
    auto auth = must(authenticate(card, o.activation_code.matching_id));
    ASSERT_FALSE(service->get_bound_profile_package(card.prepare_download(auth, "000000"), client));
    // A wrong code ends the session: the right one comes in a new one.
    auto retry = must(authenticate(card, o.activation_code.matching_id));
    card.load_bpp(
        must(service->get_bound_profile_package(card.prepare_download(retry, cc), client)));
    must(service->handle_notification(card.installation_result(iccid, true), client));

    logger->sinks().pop_back();
    logger->set_level(level);
    const std::string log = captured.str();
    EXPECT_NE(log.find("txn="), std::string::npos) << "per-session prefix expected";
    EXPECT_EQ(log.find(o.activation_code.matching_id), std::string::npos);
    EXPECT_EQ(log.find(cc), std::string::npos);
    EXPECT_EQ(log.find(card.eid), std::string::npos) << "EIDs are masked";
}

} // namespace
} // namespace esimguard::smdp::testing
