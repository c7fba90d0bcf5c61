// The LPA's profile download procedure (SGP.22 §3.1.3) against a fake eUICC
// and a fake SM-DP+: call order, hashCc, cancellation with the right reason,
// the installation result delivered, progress and the confirmation-code callback.

#include "esimguard/crypto/hash.hpp"
#include "scenario.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace esimguard::lpa_test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

lpa::download_request request() {
    return lpa::download_request{
        .smdp_address = smdp_address, .matching_id = "MATCH-1234-abcd", .confirmation_code = {}};
}

std::vector<std::uint32_t> without_bpp(const std::vector<std::uint32_t>& tags) {
    std::vector<std::uint32_t> out;
    for (auto t : tags) {
        if (t == 0xBF2E || t == 0xBF20 || t == 0xBF38 || t == 0xBF21 || t == 0xBF41 ||
            t == 0xBF30 || t == 0xBF2B) {
            out.push_back(t);
        }
    }
    return out;
}

TEST(lpa_download, when_download_succeeds_then_es10_and_es9p_calls_follow_sgp22_order) {
    scenario s;
    s.prepare();
    lpa::lpa l(*s.es10, s.server);

    auto r = l.download_profile(request());

    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_THAT(s.server.functions(), ElementsAre("initiateAuthentication", "authenticateClient",
                                                  "getBoundProfilePackage", "handleNotification"));
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(s.server.calls[i].address, smdp_address);
    }
    EXPECT_EQ(s.server.calls.back().address, notification_address);
    EXPECT_THAT(without_bpp(s.card->tags()), ElementsAre(0xBF2E, 0xBF20, 0xBF38, 0xBF21, 0xBF30));
    EXPECT_EQ(s.bpp_pieces_seen, s.bpp_pieces);
    EXPECT_EQ(r->metadata, s.metadata);
    EXPECT_EQ(r->transaction_id, s.transaction_id);
    EXPECT_TRUE(r->notification_sent);
    EXPECT_THAT(s.removed, ElementsAre(s.pir_seq));
    EXPECT_TRUE(s.pending.empty());
}

TEST(lpa_download, when_authenticating_then_the_server_gets_the_cards_challenge_and_info1) {
    scenario s;
    s.prepare();
    lpa::lpa l(*s.es10, s.server);
    ASSERT_TRUE(l.download_profile(request()).has_value());

    ASSERT_EQ(s.server.initiate_authentication_requests.size(), 1u);
    const auto& ia = s.server.initiate_authentication_requests[0];
    EXPECT_EQ(ia.smdp_address, smdp_address);
    EXPECT_EQ(ia.euicc_challenge, s.euicc_challenge);
    EXPECT_EQ(ia.euicc_info1_der, *s.answer(asn1::encode_get_euicc_info1_request()));
}

TEST(lpa_download, when_authenticating_then_ctx_params1_carries_matching_id_and_device_info) {
    scenario s;
    s.prepare();
    lpa::lpa l(*s.es10, s.server);
    ASSERT_TRUE(l.download_profile(request()).has_value());

    auto sent = s.card->commands_with(0xBF38);
    ASSERT_EQ(sent.size(), 1u);
    auto req = asn1::decode_authenticate_server_request(sent[0]);
    ASSERT_TRUE(req.has_value());
    EXPECT_EQ(req->ctx_params.matching_id, "MATCH-1234-abcd");
    EXPECT_EQ(req->ctx_params.device.tac, (std::array<std::uint8_t, 4>{0x35, 0x29, 0x06, 0x11}));
    // serverSigned1 reaches the card byte for byte, as its signature covers them.
    EXPECT_EQ(req->server_signed.raw, s.server.initiate_authentication_answer->server_signed1_der);
    EXPECT_EQ(req->euicc_ci_pkid_to_be_used, bytes(20, 0xC1));
}

TEST(lpa_download,
     when_confirmation_code_is_required_then_hash_cc_is_sha256_of_hashed_code_and_txid) {
    scenario s;
    s.cc_required = true;
    s.prepare();
    lpa::lpa l(*s.es10, s.server);
    int asked = 0;
    lpa::download_callbacks cb;
    cb.confirmation_code = [&]() -> std::optional<std::string> {
        ++asked;
        return "8452";
    };

    auto r = l.download_profile(request(), cb);

    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(asked, 1);
    // Computed here from the definition (SGP.22 §3.1.3.1), not with the helper under use.
    const std::string code = "8452";
    bytes inner = crypto::sha256(as_bytes(code));
    inner.insert(inner.end(), s.transaction_id.begin(), s.transaction_id.end());
    const bytes expected = crypto::sha256(inner);
    auto sent = s.card->commands_with(0xBF21);
    ASSERT_EQ(sent.size(), 1u);
    auto req = asn1::decode_prepare_download_request(sent[0]);
    ASSERT_TRUE(req.has_value());
    ASSERT_TRUE(req->hash.has_value());
    EXPECT_EQ(bytes(req->hash->begin(), req->hash->end()), expected);
    EXPECT_EQ(req->smdp_signed.raw, s.server.authenticate_client_answer->smdp_signed2_der);
}

TEST(lpa_download, when_confirmation_code_is_not_required_then_callback_is_not_called_and_no_hash) {
    scenario s;
    s.prepare();
    lpa::lpa l(*s.es10, s.server);
    int asked = 0;
    lpa::download_callbacks cb;
    cb.confirmation_code = [&]() -> std::optional<std::string> {
        ++asked;
        return "1111";
    };

    ASSERT_TRUE(l.download_profile(request(), cb).has_value());
    EXPECT_EQ(asked, 0);
    auto req = asn1::decode_prepare_download_request(s.card->commands_with(0xBF21).at(0));
    ASSERT_TRUE(req.has_value());
    EXPECT_FALSE(req->hash.has_value());
}

TEST(lpa_download, when_confirmation_code_is_given_in_the_request_then_callback_is_not_called) {
    scenario s;
    s.cc_required = true;
    s.prepare();
    lpa::lpa l(*s.es10, s.server);
    int asked = 0;
    lpa::download_callbacks cb;
    cb.confirmation_code = [&]() -> std::optional<std::string> {
        ++asked;
        return "0000";
    };
    auto req = request();
    req.confirmation_code = "5678";

    ASSERT_TRUE(l.download_profile(req, cb).has_value());
    EXPECT_EQ(asked, 0);
    auto sent = asn1::decode_prepare_download_request(s.card->commands_with(0xBF21).at(0));
    ASSERT_TRUE(sent.has_value());
    const bytes expected = crypto::confirmation_code_hash("5678", s.transaction_id);
    EXPECT_EQ(bytes(sent->hash->begin(), sent->hash->end()), expected);
}

TEST(lpa_download, when_user_gives_no_confirmation_code_then_session_is_cancelled_as_rejected) {
    scenario s;
    s.cc_required = true;
    s.prepare();
    lpa::lpa l(*s.es10, s.server);
    lpa::download_callbacks cb;
    cb.confirmation_code = []() -> std::optional<std::string> { return std::nullopt; };

    auto r = l.download_profile(request(), cb);

    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, lpa::errc::declined);
    EXPECT_EQ(r.error().cancelled_with, asn1::cancel_session_reason::end_user_rejection);
    EXPECT_THAT(s.cancel_reasons, ElementsAre(asn1::cancel_session_reason::end_user_rejection));
    EXPECT_THAT(s.server.functions(),
                ElementsAre("initiateAuthentication", "authenticateClient", "cancelSession"));
    EXPECT_TRUE(s.card->commands_with(0xBF21).empty());
}

TEST(lpa_download, when_code_is_required_and_nobody_can_be_asked_then_session_is_postponed) {
    scenario s;
    s.cc_required = true;
    s.prepare();
    lpa::lpa l(*s.es10, s.server);

    auto r = l.download_profile(request());

    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().cancelled_with, asn1::cancel_session_reason::postponed);
    EXPECT_THAT(s.cancel_reasons, ElementsAre(asn1::cancel_session_reason::postponed));
}

TEST(lpa_download, when_user_declines_the_profile_then_session_is_cancelled_as_rejected) {
    scenario s;
    s.prepare();
    lpa::lpa l(*s.es10, s.server);
    lpa::download_callbacks cb;
    std::string shown;
    cb.confirm_profile = [&](const asn1::store_metadata_request& m) {
        shown = m.profile_name;
        return false;
    };

    auto r = l.download_profile(request(), cb);

    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(shown, "Test profile");
    EXPECT_THAT(s.cancel_reasons, ElementsAre(asn1::cancel_session_reason::end_user_rejection));
}

TEST(lpa_download, when_server_refuses_authenticate_client_then_both_sessions_are_cancelled) {
    scenario s;
    s.prepare();
    s.server.authenticate_client_answer = std::unexpected(fakes::fake_es9p_server::refusal(
        "8.2.6", "3.8", "The activation code is not valid; check it or contact your operator"));
    lpa::lpa l(*s.es10, s.server);

    auto r = l.download_profile(request());

    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, lpa::errc::server_refused);
    ASSERT_TRUE(r.error().server_status.has_value());
    EXPECT_EQ(r.error().server_status->subject_code, "8.2.6");
    EXPECT_EQ(r.error().server_status->reason_code, "3.8");
    EXPECT_THAT(lpa::describe(r.error()), HasSubstr("8.2.6/3.8"));
    EXPECT_THAT(lpa::describe(r.error()), HasSubstr("activation code is not valid"));
    EXPECT_EQ(r.error().cancelled_with, asn1::cancel_session_reason::undefined_reason);
    EXPECT_THAT(s.cancel_reasons, ElementsAre(asn1::cancel_session_reason::undefined_reason));
    EXPECT_THAT(s.server.functions(),
                ElementsAre("initiateAuthentication", "authenticateClient", "cancelSession"));
    const auto& cancel = s.server.cancel_session_requests.at(0);
    EXPECT_EQ(cancel.transaction_id, s.transaction_id);
    EXPECT_EQ(cancel.cancel_session_response_der, *s.answer(s.card->commands_with(0xBF41).at(0)));
    EXPECT_TRUE(s.card->commands_with(0xBF21).empty());
}

TEST(lpa_download, when_server_refuses_the_package_then_session_is_cancelled_and_code_reported) {
    scenario s;
    s.cc_required = true;
    s.prepare();
    s.server.get_bound_profile_package_answer = std::unexpected(
        fakes::fake_es9p_server::refusal("8.2.7", "3.8", "The confirmation code is wrong"));
    lpa::lpa l(*s.es10, s.server);
    auto req = request();
    req.confirmation_code = "9999";

    auto r = l.download_profile(req);

    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().server_status->subject_code, "8.2.7");
    EXPECT_THAT(lpa::describe(r.error()), HasSubstr("confirmation code is wrong"));
    EXPECT_THAT(s.cancel_reasons, ElementsAre(asn1::cancel_session_reason::undefined_reason));
    EXPECT_EQ(s.server.functions().back(), "cancelSession");
    EXPECT_EQ(s.bpp_pieces_seen, 0u);
}

TEST(lpa_download, when_initiate_authentication_fails_then_there_is_no_session_to_cancel) {
    scenario s;
    s.prepare();
    s.server.initiate_authentication_answer = std::unexpected(fakes::fake_es9p_server::refusal(
        "8.8.2", "3.1", "None of the eUICC's certificate issuers is supported by this server"));
    lpa::lpa l(*s.es10, s.server);

    auto r = l.download_profile(request());

    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, lpa::errc::server_refused);
    EXPECT_THAT(s.server.functions(), ElementsAre("initiateAuthentication"));
    EXPECT_TRUE(s.card->commands_with(0xBF41).empty());
    EXPECT_TRUE(s.card->commands_with(0xBF38).empty());
}

TEST(lpa_download, when_server_is_unreachable_midway_then_the_card_session_is_cancelled) {
    scenario s;
    s.prepare();
    s.server.get_bound_profile_package_answer = std::unexpected(lpa::es9p_error{
        .what = lpa::es9p_error::kind::transport, .detail = "timeout", .status = {}});
    lpa::lpa l(*s.es10, s.server);

    auto r = l.download_profile(request());

    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, lpa::errc::server_transport);
    EXPECT_FALSE(r.error().server_status.has_value());
    EXPECT_EQ(s.cancel_reasons.size(), 1u);
}

TEST(lpa_download, when_the_package_metadata_differs_then_nothing_is_loaded_and_cancel_says_so) {
    scenario s;
    s.package_metadata.profile_name = "Another profile";
    s.prepare();
    lpa::lpa l(*s.es10, s.server);

    auto r = l.download_profile(request());

    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, lpa::errc::metadata_mismatch);
    EXPECT_THAT(s.cancel_reasons, ElementsAre(asn1::cancel_session_reason::metadata_mismatch));
    EXPECT_EQ(s.bpp_pieces_seen, 0u);
}

TEST(lpa_download, when_the_package_loads_then_progress_rises_to_exactly_one_hundred_percent) {
    scenario s;
    s.prepare();
    lpa::lpa l(*s.es10, s.server);
    std::vector<std::pair<std::size_t, std::size_t>> seen;
    lpa::download_callbacks cb;
    cb.progress = [&](std::size_t done, std::size_t total) { seen.emplace_back(done, total); };

    ASSERT_TRUE(l.download_profile(request(), cb).has_value());

    ASSERT_EQ(seen.size(), s.bpp_pieces);
    for (std::size_t i = 1; i < seen.size(); ++i) {
        EXPECT_GT(seen[i].first, seen[i - 1].first);
        EXPECT_EQ(seen[i].second, seen[0].second);
    }
    EXPECT_EQ(seen.back().first, seen.back().second);
    EXPECT_GT(seen.back().second, 900u); // every profile element counted
}

TEST(lpa_download, when_the_card_refuses_the_package_then_the_result_still_reaches_the_server) {
    scenario s;
    s.install_fails = true;
    s.prepare();
    lpa::lpa l(*s.es10, s.server);

    auto r = l.download_profile(request());

    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, lpa::errc::install_failed);
    EXPECT_EQ(r.error().card_code,
              static_cast<std::uint32_t>(asn1::install_error_reason::scp03t_security_error));
    EXPECT_EQ(s.server.functions().back(), "handleNotification");
    const auto& sent = s.server.handle_notification_requests.at(0);
    EXPECT_EQ(sent.pending_notification_der, s.installation_result());
    EXPECT_THAT(s.removed, ElementsAre(s.pir_seq));
    // The eUICC ended the session itself: nothing to cancel.
    EXPECT_TRUE(s.cancel_reasons.empty());
}

TEST(lpa_download, when_the_result_cannot_be_delivered_then_it_stays_pending_on_the_card) {
    scenario s;
    s.prepare();
    s.server.refuse_notifications_to = notification_address;
    lpa::lpa l(*s.es10, s.server);

    auto r = l.download_profile(request());

    ASSERT_TRUE(r.has_value());
    EXPECT_FALSE(r->notification_sent);
    ASSERT_TRUE(r->notification_failure.has_value());
    EXPECT_EQ(r->notification_failure->code, lpa::errc::server_transport);
    EXPECT_TRUE(s.removed.empty());
    EXPECT_EQ(s.pending.count(s.pir_seq), 1u);
}

TEST(lpa_download, when_the_matching_id_has_forbidden_characters_then_nothing_is_sent) {
    scenario s;
    s.prepare();
    lpa::lpa l(*s.es10, s.server);
    auto req = request();
    req.matching_id = "abc$def";

    auto r = l.download_profile(req);

    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, lpa::errc::invalid_argument);
    EXPECT_TRUE(s.server.calls.empty());
    EXPECT_TRUE(s.card->commands.empty());
}

TEST(lpa_activation_code, when_code_has_all_fields_then_request_carries_address_and_matching_id) {
    auto r = lpa::download_request::from_activation_code(
        "LPA:1$smdp.example.test:8443$ABC-123$1.3.6.1.4.1.31746$1");
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->smdp_address, "smdp.example.test:8443");
    EXPECT_EQ(r->matching_id, "ABC-123");
    EXPECT_FALSE(r->confirmation_code.has_value());
}

TEST(lpa_activation_code, when_code_is_minimal_then_it_parses) {
    auto r = lpa::download_request::from_activation_code("LPA:1$rsp.example.com$X");
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->smdp_address, "rsp.example.com");
    EXPECT_EQ(r->matching_id, "X");
}

TEST(lpa_activation_code, when_code_is_malformed_then_error_does_not_echo_the_matching_id) {
    auto r = lpa::download_request::from_activation_code("LPA:1$smdp.example$SECRET_TOKEN");
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, lpa::errc::invalid_argument);
    EXPECT_THAT(r.error().message, Not(HasSubstr("SECRET")));
    EXPECT_FALSE(lpa::download_request::from_activation_code("LPA:2$a.b$X").has_value());
    EXPECT_FALSE(lpa::download_request::from_activation_code("").has_value());
}

TEST(lpa_activation_code, when_downloading_from_an_activation_code_then_its_fields_are_used) {
    scenario s;
    s.prepare();
    lpa::lpa l(*s.es10, s.server);
    auto req = lpa::download_request::from_activation_code("LPA:1$" + smdp_address + "$AC-42");
    ASSERT_TRUE(req.has_value());

    ASSERT_TRUE(l.download_profile(*req).has_value());

    EXPECT_EQ(s.server.calls.at(0).address, smdp_address);
    auto sent = asn1::decode_authenticate_server_request(s.card->commands_with(0xBF38).at(0));
    ASSERT_TRUE(sent.has_value());
    EXPECT_EQ(sent->ctx_params.matching_id, "AC-42");
}

} // namespace
} // namespace esimguard::lpa_test
