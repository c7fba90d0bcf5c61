// The ES9+ download procedures end to end against a hand-built eUICC, and
// each refusal they must make.

#include "harness.hpp"

#include "esimguard/asn1/cancel_session.hpp"

namespace esimguard::smdp::testing {
namespace {

struct download_case {
    crypto::curve curve;
    bool with_cc;
};

class full_download : public service_fixture,
                      public ::testing::WithParamInterface<download_case> {};

TEST_P(
    full_download,
    when_a_card_downloads_a_released_order_then_the_bpp_decrypts_to_the_package_and_the_order_ends_installed) {
    const auto [curve, with_cc] = GetParam();
    test_card card(curve, shared_pki::get().euicc(curve, 1));
    const std::string iccid = "8944000000000000011";
    const bytes package = add_profile(iccid);
    const std::optional<std::string> cc =
        with_cc ? std::optional<std::string>("123456") : std::nullopt;
    auto o = order(iccid, std::nullopt, cc);
    EXPECT_EQ(o.activation_code.confirmation_code_required, with_cc);

    auto auth = must(authenticate(card, o.activation_code.matching_id));
    EXPECT_EQ(auth.smdp_signed2.cc_required, with_cc);
    EXPECT_EQ(auth.profile_metadata.iccid.to_string(), iccid);
    auto bpp = must(service->get_bound_profile_package(card.prepare_download(auth, cc), client));
    EXPECT_EQ(card.load_bpp(bpp), package);
    EXPECT_EQ(find_order(o.order.order_id).state, store::order_state::downloaded);

    auto outcome =
        must(service->handle_notification(card.installation_result(iccid, true), client));
    EXPECT_EQ(outcome, notification_outcome::install_success);
    EXPECT_EQ(find_order(o.order.order_id).state, store::order_state::installed);
    auto session = must(db->find_session(to_hex_upper(card.transaction_id)));
    EXPECT_EQ(session.state, store::session_state::ended);
    EXPECT_FALSE(session.smdp_otsk.has_value()) << "the one-time private key must be wiped";
}

INSTANTIATE_TEST_SUITE_P(curves_and_codes, full_download,
                         ::testing::Values(download_case{crypto::curve::nist_p256, false},
                                           download_case{crypto::curve::nist_p256, true},
                                           download_case{crypto::curve::brainpool_p256r1, false},
                                           download_case{crypto::curve::brainpool_p256r1, true}));

TEST_F(
    service_fixture,
    when_the_profile_is_larger_than_one_segment_then_it_is_split_into_segments_of_at_most_1020_bytes) {
    test_card card(crypto::curve::nist_p256, shared_pki::get().euicc(crypto::curve::nist_p256, 1));
    const std::string iccid = "8944000000000000066";
    rsp::profile_package_params p;
    p.iccid = must(asn1::iccid_value::parse(iccid));
    p.imsi = "001010123456789";
    // A large generic element after the header, as real file systems are.
    const bytes filler = asn1::encode(0xA4, asn1::encode(0x04, bytes(5000, 0x5A)));
    const bytes base = must(rsp::make_profile_package(p));
    // Insert it before the End element, which must stay last.
    asn1::reader rd(base);
    std::size_t end_offset = 0;
    while (!rd.at_end()) {
        auto t = rd.next();
        ASSERT_TRUE(t.has_value());
        end_offset = t->offset;
    }
    const auto split = base.begin() + static_cast<std::ptrdiff_t>(end_offset);
    bytes package(base.begin(), split);
    package.insert(package.end(), filler.begin(), filler.end());
    package.insert(package.end(), split, base.end());
    must(service->add_profile_package("op1", package, {}));
    auto o = order(iccid);
    auto auth = must(authenticate(card, o.activation_code.matching_id));
    auto bpp = must(service->get_bound_profile_package(card.prepare_download(auth, {}), client));
    EXPECT_EQ(card.load_bpp(bpp), package);
    EXPECT_GE(card.segments_86, 5u);
}

class download_refusals : public service_fixture {
protected:
    test_card card{crypto::curve::nist_p256, shared_pki::get().euicc(crypto::curve::nist_p256, 1)};
    const std::string iccid = "8944000000000000022";
    void SetUp() override {
        service_fixture::SetUp();
        add_profile(iccid);
    }
};

TEST_F(download_refusals, when_the_smdp_address_differs_then_initiate_is_refused_8_8_1) {
    auto r = service->initiate_authentication(card.initiate("other.example.com"), client);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().is(rsp::codes::smdp_address_mismatch));
    EXPECT_FALSE(r.error().message.empty());
}

TEST_F(download_refusals, when_the_address_differs_only_in_case_then_initiate_succeeds) {
    EXPECT_TRUE(service->initiate_authentication(card.initiate("SMDP.Example.COM"), client));
}

TEST_F(download_refusals, when_the_euicc_version_is_too_old_then_initiate_is_refused_8_8_3) {
    card.svn = {1, 0, 0};
    auto r = service->initiate_authentication(card.initiate(smdp_address), client);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().is(rsp::codes::svn_unsupported));
}

TEST_F(download_refusals, when_no_ci_of_the_euicc_is_known_then_initiate_is_refused_8_8_2) {
    auto info = card.info1();
    info.ci_pkid_list_for_verification = {bytes(20, 0x42)};
    card.info1_override = info;
    auto r = service->initiate_authentication(card.initiate(smdp_address), client);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().is(rsp::codes::security_configuration_unsupported));
}

TEST_F(download_refusals, when_the_euicc_lists_the_brainpool_ci_then_the_brainpool_dpauth_is_used) {
    test_card bp(crypto::curve::brainpool_p256r1,
                 shared_pki::get().euicc(crypto::curve::brainpool_p256r1, 1));
    auto r = must(service->initiate_authentication(bp.initiate(smdp_address), client));
    EXPECT_EQ(r.euicc_ci_pkid_to_be_used, bp.ci_pkid);
    EXPECT_EQ(must(crypto::certificate::from_der(r.server_certificate)).key_curve(),
              crypto::curve::brainpool_p256r1);
}

TEST_F(download_refusals,
       when_two_sessions_start_then_their_transaction_ids_and_challenges_differ) {
    auto a = must(service->initiate_authentication(card.initiate(smdp_address), client));
    auto b = must(service->initiate_authentication(card.initiate(smdp_address), client));
    EXPECT_NE(a.transaction_id, b.transaction_id);
    EXPECT_NE(a.server_signed1.server_challenge, b.server_signed1.server_challenge);
    EXPECT_EQ(a.transaction_id.size(), 16u);
}

TEST_F(download_refusals,
       when_the_transaction_id_is_unknown_then_every_later_call_is_refused_8_10_1) {
    auto o = order(iccid);
    auto init = must(service->initiate_authentication(card.initiate(smdp_address), client));
    init.transaction_id = bytes(16, 0x77);
    init.server_signed1.transaction_id = init.transaction_id;
    auto req = card.authenticate_server(init, o.activation_code.matching_id);
    auto r = service->authenticate_client(req, client);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().is(rsp::codes::transaction_id_unknown));

    auto c = service->cancel_session(card.cancel(asn1::cancel_session_reason::postponed), client);
    ASSERT_FALSE(c);
    EXPECT_TRUE(c.error().is(rsp::codes::transaction_id_unknown));
}

TEST_F(download_refusals, when_authenticate_client_is_replayed_then_it_is_refused) {
    auto o = order(iccid);
    auto init = must(service->initiate_authentication(card.initiate(smdp_address), client));
    auto req = card.authenticate_server(init, o.activation_code.matching_id);
    ASSERT_TRUE(service->authenticate_client(req, client));
    auto replay = service->authenticate_client(req, client);
    ASSERT_FALSE(replay);
    EXPECT_TRUE(replay.error().is(rsp::codes::transaction_id_unknown));
}

TEST_F(download_refusals, when_euicc_signature1_is_wrong_then_authenticate_is_refused_8_1) {
    auto o = order(iccid);
    card.tamper_signature1 = true;
    auto r = authenticate(card, o.activation_code.matching_id);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().is(rsp::codes::euicc_signature_invalid));
}

TEST_F(download_refusals,
       when_the_card_signed_another_server_challenge_then_authenticate_is_refused_8_1) {
    auto o = order(iccid);
    card.tamper_server_challenge = true;
    auto r = authenticate(card, o.activation_code.matching_id);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().is(rsp::codes::euicc_signature_invalid));
}

TEST_F(download_refusals,
       when_the_euicc_certificate_is_not_from_the_eum_presented_then_it_is_refused_8_1_3) {
    auto o = order(iccid);
    test_card foreign(crypto::curve::nist_p256,
                      shared_pki::get().euicc(crypto::curve::nist_p256, 9, true), true);
    // Our EUM, a certificate from another PKI's EUM, signed with that card's key.
    foreign.eum_cert = card.eum_cert;
    foreign.ci_pkid = card.ci_pkid;
    auto r = authenticate(foreign, o.activation_code.matching_id);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().is(rsp::codes::euicc_certificate_invalid)) << rsp::to_string(r.error());
}

TEST_F(download_refusals,
       when_the_chain_ends_at_another_ci_than_the_one_chosen_then_it_is_refused_8_11_1) {
    auto o = order(iccid);
    test_card bp(crypto::curve::brainpool_p256r1,
                 shared_pki::get().euicc(crypto::curve::brainpool_p256r1, 1));
    card.present_certificates_of(bp);
    auto r = authenticate(card, o.activation_code.matching_id);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().is(rsp::codes::ci_public_key_unknown));
}

TEST_F(download_refusals, when_the_matching_id_is_unknown_then_it_is_refused_8_2_6) {
    auto r = authenticate(card, "NO-SUCH-ID");
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().is(rsp::codes::matching_id_refused));
}

TEST_F(download_refusals, when_the_order_is_bound_to_another_eid_then_it_is_refused_8_1_1) {
    const auto other = shared_pki::get().euicc(crypto::curve::nist_p256, 2);
    auto o = order(iccid, other);
    auto r = authenticate(card, o.activation_code.matching_id);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().is(rsp::codes::eid_refused));
    EXPECT_EQ(find_order(o.order.order_id).download_attempts, 0);
}

TEST_F(download_refusals, when_the_order_is_bound_to_this_eid_then_it_is_granted) {
    auto o = order(iccid, card.eid);
    EXPECT_TRUE(authenticate(card, o.activation_code.matching_id));
}

TEST_F(download_refusals, when_the_order_has_expired_then_it_is_refused_8_8_5_4_10) {
    auto o = order(iccid);
    now = now.load() + std::chrono::hours(24 * 31);
    auto r = authenticate(card, o.activation_code.matching_id);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().is(rsp::codes::download_order_expired));
    EXPECT_EQ(find_order(o.order.order_id).state, store::order_state::expired);
}

TEST_F(download_refusals, when_the_order_is_not_released_then_it_is_refused_8_2_1_2) {
    auto o = order(iccid, std::nullopt, std::nullopt, false);
    auto r = authenticate(card, o.activation_code.matching_id);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().is(rsp::codes::profile_not_released));
}

TEST_F(download_refusals,
       when_download_attempts_reach_the_limit_then_the_next_is_refused_8_8_5_6_4) {
    auto o = order(iccid);
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(authenticate(card, o.activation_code.matching_id)) << "attempt " << i;
    }
    auto r = authenticate(card, o.activation_code.matching_id);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().is(rsp::codes::download_retries_exceeded));
}

TEST_F(download_refusals,
       when_a_matching_id_was_used_for_a_download_then_a_second_download_is_refused) {
    auto o = order(iccid);
    auto auth = must(authenticate(card, o.activation_code.matching_id));
    card.load_bpp(
        must(service->get_bound_profile_package(card.prepare_download(auth, {}), client)));
    test_card second(crypto::curve::nist_p256,
                     shared_pki::get().euicc(crypto::curve::nist_p256, 3));
    auto r = authenticate(second, o.activation_code.matching_id);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().is(rsp::codes::matching_id_refused));
}

TEST_F(download_refusals, when_two_sessions_race_for_one_order_then_only_one_gets_a_bpp) {
    auto o = order(iccid);
    test_card second(crypto::curve::nist_p256,
                     shared_pki::get().euicc(crypto::curve::nist_p256, 3));
    auto a1 = must(authenticate(card, o.activation_code.matching_id));
    auto a2 = must(authenticate(second, o.activation_code.matching_id));
    EXPECT_TRUE(service->get_bound_profile_package(card.prepare_download(a1, {}), client));
    auto r = service->get_bound_profile_package(second.prepare_download(a2, {}), client);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().is(rsp::codes::matching_id_refused));
}

TEST_F(download_refusals,
       when_another_card_answers_prepare_download_then_the_pinned_card_check_refuses_it) {
    auto o = order(iccid);
    auto auth = must(authenticate(card, o.activation_code.matching_id));
    // A second card with a valid chain of its own signs euiccSigned2.
    test_card thief(crypto::curve::nist_p256, shared_pki::get().euicc(crypto::curve::nist_p256, 4));
    thief.euicc_signature1 = card.euicc_signature1;
    thief.transaction_id = card.transaction_id;
    auto r = service->get_bound_profile_package(thief.prepare_download(auth, {}), client);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().is(rsp::codes::euicc_signature_invalid));
    EXPECT_EQ(find_order(o.order.order_id).state, store::order_state::released);
}

TEST_F(download_refusals, when_the_confirmation_code_is_missing_then_it_is_refused_8_2_7_2_2) {
    auto o = order(iccid, std::nullopt, std::string("2468"));
    auto auth = must(authenticate(card, o.activation_code.matching_id));
    auto r = service->get_bound_profile_package(card.prepare_download(auth, {}), client);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().is(rsp::codes::confirmation_code_missing));
}

TEST_F(download_refusals,
       when_the_confirmation_code_is_wrong_then_the_session_ends_and_the_order_stays_released) {
    auto o = order(iccid, std::nullopt, std::string("2468"));
    auto auth = must(authenticate(card, o.activation_code.matching_id));
    auto wrong = service->get_bound_profile_package(card.prepare_download(auth, "1111"), client);
    ASSERT_FALSE(wrong);
    EXPECT_TRUE(wrong.error().is(rsp::codes::confirmation_code_refused));
    EXPECT_FALSE(wrong.error().message.empty());
    EXPECT_EQ(must(db->find_session(to_hex_upper(card.transaction_id))).state,
              store::session_state::ended);

    // lpac cancels with undefinedReason after the refusal: the session is gone
    // already, so the cancellation cannot put the order in error.
    auto cancel =
        service->cancel_session(card.cancel(asn1::cancel_session_reason::undefined_reason), client);
    ASSERT_FALSE(cancel);
    EXPECT_TRUE(cancel.error().is(rsp::codes::transaction_id_unknown));
    const auto after = find_order(o.order.order_id);
    EXPECT_EQ(after.state, store::order_state::released);
    EXPECT_FALSE(after.locked);
    EXPECT_EQ(after.cc_failures, 1);

    // The ended session cannot be used for a second guess either.
    auto same_session =
        service->get_bound_profile_package(card.prepare_download(auth, "2468"), client);
    ASSERT_FALSE(same_session);
    EXPECT_TRUE(same_session.error().is(rsp::codes::transaction_id_unknown));
}

TEST_F(download_refusals,
       when_the_confirmation_code_is_wrong_twice_then_right_in_a_new_session_then_it_installs) {
    auto o = order(iccid, std::nullopt, std::string("2468"));
    for (int i = 0; i < 2; ++i) {
        auto auth = must(authenticate(card, o.activation_code.matching_id));
        auto r = service->get_bound_profile_package(card.prepare_download(auth, "1111"), client);
        ASSERT_FALSE(r);
        EXPECT_TRUE(r.error().is(rsp::codes::confirmation_code_refused)) << i;
        EXPECT_FALSE(service->cancel_session(
            card.cancel(asn1::cancel_session_reason::undefined_reason), client));
    }
    auto auth = must(authenticate(card, o.activation_code.matching_id));
    auto bpp =
        must(service->get_bound_profile_package(card.prepare_download(auth, "2468"), client));
    card.load_bpp(bpp);
    EXPECT_EQ(must(service->handle_notification(card.installation_result(iccid, true), client)),
              notification_outcome::install_success);
    const auto done = find_order(o.order.order_id);
    EXPECT_EQ(done.state, store::order_state::installed);
    EXPECT_EQ(done.cc_failures, 2);
    EXPECT_EQ(done.download_attempts, 3);
}

TEST_F(
    download_refusals,
    when_the_confirmation_code_is_wrong_three_times_then_the_order_is_locked_and_the_right_code_is_refused) {
    auto o = order(iccid, std::nullopt, std::string("2468"));
    for (int i = 0; i < 3; ++i) {
        auto auth = must(authenticate(card, o.activation_code.matching_id));
        auto r = service->get_bound_profile_package(card.prepare_download(auth, "1111"), client);
        ASSERT_FALSE(r);
        EXPECT_TRUE(r.error().is(i < 2 ? rsp::codes::confirmation_code_refused
                                       : rsp::codes::confirmation_code_retries_exceeded))
            << i << ": " << rsp::to_string(r.error());
        EXPECT_FALSE(service->cancel_session(
            card.cancel(asn1::cancel_session_reason::undefined_reason), client));
    }
    const auto locked = find_order(o.order.order_id);
    EXPECT_TRUE(locked.locked);
    EXPECT_EQ(locked.lock_reason, std::optional<std::string>("cc_retries_exceeded"));
    auto events = must(db->list_order_events(o.order.order_id));
    ASSERT_FALSE(events.empty());
    bool says_locked = false;
    for (const auto& e : events) {
        says_locked = says_locked || (e.name == "cc_refused" &&
                                      e.detail.find("can no longer download") != std::string::npos);
    }
    EXPECT_TRUE(says_locked) << "the history must say the subscriber can no longer download";

    // The right code from a new session is refused before it is even asked for.
    auto again = authenticate(card, o.activation_code.matching_id);
    ASSERT_FALSE(again);
    EXPECT_TRUE(again.error().is(rsp::codes::confirmation_code_retries_exceeded));
}

TEST_F(
    download_refusals,
    when_the_attempt_limit_is_configured_below_the_cc_retry_limit_then_orders_get_enough_attempts) {
    build([](smdp_config& c) {
        c.download_attempt_limit = 1;
        c.cc_retry_limit = 4;
    });
    add_profile(iccid);
    auto o = order(iccid, std::nullopt, std::string("2468"));
    EXPECT_EQ(find_order(o.order.order_id).download_attempt_limit, 4);
    EXPECT_EQ(find_order(o.order.order_id).cc_failure_limit, 4);
}

TEST_F(download_refusals, when_the_session_ttl_has_passed_then_authenticate_is_refused_8_10_1) {
    auto o = order(iccid);
    auto init = must(service->initiate_authentication(card.initiate(smdp_address), client));
    now = now.load() + std::chrono::hours(1);
    auto r = service->authenticate_client(
        card.authenticate_server(init, o.activation_code.matching_id), client);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().is(rsp::codes::transaction_id_unknown));
}

TEST_F(download_refusals,
       when_the_installation_result_signature_is_wrong_then_the_order_does_not_change) {
    auto o = order(iccid);
    auto auth = must(authenticate(card, o.activation_code.matching_id));
    card.load_bpp(
        must(service->get_bound_profile_package(card.prepare_download(auth, {}), client)));
    auto r = service->handle_notification(card.installation_result(iccid, true, true), client);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().is(rsp::codes::euicc_signature_invalid));
    EXPECT_EQ(find_order(o.order.order_id).state, store::order_state::downloaded);
}

TEST_F(download_refusals, when_installation_failed_on_the_card_then_the_order_is_in_error) {
    auto o = order(iccid);
    auto auth = must(authenticate(card, o.activation_code.matching_id));
    card.load_bpp(
        must(service->get_bound_profile_package(card.prepare_download(auth, {}), client)));
    EXPECT_EQ(must(service->handle_notification(card.installation_result(iccid, false), client)),
              notification_outcome::install_failure);
    EXPECT_EQ(find_order(o.order.order_id).state, store::order_state::error);
}

TEST_F(download_refusals, when_the_card_reports_enable_then_delete_then_the_order_follows) {
    auto o = order(iccid);
    auto auth = must(authenticate(card, o.activation_code.matching_id));
    card.load_bpp(
        must(service->get_bound_profile_package(card.prepare_download(auth, {}), client)));
    must(service->handle_notification(card.installation_result(iccid, true), client));
    EXPECT_EQ(must(service->handle_notification(
                  card.other_notification(iccid, asn1::notification_enable), client)),
              notification_outcome::profile_enabled);
    EXPECT_EQ(find_order(o.order.order_id).state, store::order_state::enabled);
    // Another card's notification about this profile changes nothing.
    test_card other(crypto::curve::nist_p256, shared_pki::get().euicc(crypto::curve::nist_p256, 5));
    EXPECT_EQ(must(service->handle_notification(
                  other.other_notification(iccid, asn1::notification_delete), client)),
              notification_outcome::ignored);
    EXPECT_EQ(find_order(o.order.order_id).state, store::order_state::enabled);
    must(service->handle_notification(card.other_notification(iccid, asn1::notification_delete),
                                      client));
    EXPECT_EQ(find_order(o.order.order_id).state, store::order_state::deleted);
}

TEST_F(download_refusals,
       when_the_card_postpones_then_the_session_ends_and_the_order_can_be_downloaded_again) {
    auto o = order(iccid);
    must(authenticate(card, o.activation_code.matching_id));
    ASSERT_TRUE(
        service->cancel_session(card.cancel(asn1::cancel_session_reason::postponed), client));
    EXPECT_EQ(must(db->find_session(to_hex_upper(card.transaction_id))).state,
              store::session_state::ended);
    EXPECT_EQ(find_order(o.order.order_id).state, store::order_state::released);
    EXPECT_TRUE(authenticate(card, o.activation_code.matching_id));
}

TEST_F(download_refusals, when_the_user_rejects_then_the_order_is_in_error) {
    auto o = order(iccid);
    must(authenticate(card, o.activation_code.matching_id));
    ASSERT_TRUE(service->cancel_session(
        card.cancel(asn1::cancel_session_reason::end_user_rejection), client));
    EXPECT_EQ(find_order(o.order.order_id).state, store::order_state::error);
}

TEST_F(download_refusals, when_another_card_signs_the_cancellation_then_it_is_refused) {
    auto o = order(iccid);
    must(authenticate(card, o.activation_code.matching_id));
    test_card other(crypto::curve::nist_p256, shared_pki::get().euicc(crypto::curve::nist_p256, 6));
    other.transaction_id = card.transaction_id;
    auto r = service->cancel_session(other.cancel(asn1::cancel_session_reason::end_user_rejection),
                                     client);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().is(rsp::codes::euicc_signature_invalid));
    EXPECT_EQ(find_order(o.order.order_id).state, store::order_state::released);
}

TEST_F(
    download_refusals,
    when_two_cards_share_a_matching_id_and_the_loser_postpones_then_the_order_is_not_released_again) {
    auto o = order(iccid);
    test_card second(crypto::curve::nist_p256,
                     shared_pki::get().euicc(crypto::curve::nist_p256, 7));
    must(authenticate(card, o.activation_code.matching_id));
    auto winner = must(authenticate(second, o.activation_code.matching_id));
    second.load_bpp(
        must(service->get_bound_profile_package(second.prepare_download(winner, {}), client)));

    // The card that lost signs a cancellation of its own, still live, session.
    ASSERT_TRUE(
        service->cancel_session(card.cancel(asn1::cancel_session_reason::postponed), client));
    EXPECT_EQ(find_order(o.order.order_id).state, store::order_state::downloaded);
    auto again = authenticate(card, o.activation_code.matching_id);
    ASSERT_FALSE(again) << "a second copy of the profile must not be downloadable";
    EXPECT_TRUE(again.error().is(rsp::codes::matching_id_refused));

    EXPECT_EQ(must(service->handle_notification(second.installation_result(iccid, true), client)),
              notification_outcome::install_success);
    EXPECT_EQ(find_order(o.order.order_id).state, store::order_state::installed);
}

TEST_F(download_refusals,
       when_the_card_that_lost_the_race_rejects_then_the_download_of_the_winner_is_untouched) {
    auto o = order(iccid);
    test_card second(crypto::curve::nist_p256,
                     shared_pki::get().euicc(crypto::curve::nist_p256, 7));
    must(authenticate(card, o.activation_code.matching_id));
    auto winner = must(authenticate(second, o.activation_code.matching_id));
    second.load_bpp(
        must(service->get_bound_profile_package(second.prepare_download(winner, {}), client)));
    ASSERT_TRUE(service->cancel_session(
        card.cancel(asn1::cancel_session_reason::end_user_rejection), client));
    EXPECT_EQ(find_order(o.order.order_id).state, store::order_state::downloaded);
}

TEST_F(download_refusals,
       when_an_installation_result_comes_from_a_stale_session_then_the_order_does_not_change) {
    auto o = order(iccid);
    // The first card downloads, then postpones: its session ends, the order
    // is released and a second card takes it.
    auto first = must(authenticate(card, o.activation_code.matching_id));
    card.load_bpp(
        must(service->get_bound_profile_package(card.prepare_download(first, {}), client)));
    ASSERT_TRUE(
        service->cancel_session(card.cancel(asn1::cancel_session_reason::postponed), client));
    ASSERT_EQ(find_order(o.order.order_id).state, store::order_state::released);
    test_card second(crypto::curve::nist_p256,
                     shared_pki::get().euicc(crypto::curve::nist_p256, 7));
    auto winner = must(authenticate(second, o.activation_code.matching_id));
    second.load_bpp(
        must(service->get_bound_profile_package(second.prepare_download(winner, {}), client)));

    // The first card reports on its ended session, failure then success.
    EXPECT_EQ(must(service->handle_notification(card.installation_result(iccid, false), client)),
              notification_outcome::ignored);
    EXPECT_EQ(find_order(o.order.order_id).state, store::order_state::downloaded);
    EXPECT_EQ(must(service->handle_notification(card.installation_result(iccid, true), client)),
              notification_outcome::ignored);
    EXPECT_EQ(find_order(o.order.order_id).state, store::order_state::downloaded);

    EXPECT_EQ(must(service->handle_notification(second.installation_result(iccid, true), client)),
              notification_outcome::install_success);
    EXPECT_EQ(find_order(o.order.order_id).state, store::order_state::installed);
}

TEST_F(download_refusals,
       when_the_session_expired_after_the_bpp_was_sent_then_the_late_installation_result_counts) {
    auto o = order(iccid);
    auto auth = must(authenticate(card, o.activation_code.matching_id));
    card.load_bpp(
        must(service->get_bound_profile_package(card.prepare_download(auth, {}), client)));
    now = now.load() + std::chrono::hours(1);
    ASSERT_EQ(must(db->expire_sessions(now.load())), 1u);
    EXPECT_EQ(must(service->handle_notification(card.installation_result(iccid, true), client)),
              notification_outcome::install_success);
    EXPECT_EQ(find_order(o.order.order_id).state, store::order_state::installed);
}

TEST_F(download_refusals,
       when_the_cc_limit_locks_the_order_after_authentication_then_that_session_gets_no_bpp) {
    auto o = order(iccid, std::nullopt, std::string("2468"));
    auto auth = must(authenticate(card, o.activation_code.matching_id));
    // Other sessions use up the confirmation-code retries meanwhile.
    for (int i = 0; i < 3; ++i) {
        must(db->record_cc_failure(o.order.order_id, now.load()));
    }
    ASSERT_TRUE(find_order(o.order.order_id).locked);
    auto r = service->get_bound_profile_package(card.prepare_download(auth, "2468"), client);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().is(rsp::codes::confirmation_code_retries_exceeded));
    EXPECT_EQ(find_order(o.order.order_id).state, store::order_state::released);
}

TEST_F(download_refusals,
       when_the_order_is_paused_after_authentication_then_that_session_is_refused_8_2_1_2) {
    auto o = order(iccid);
    auto auth = must(authenticate(card, o.activation_code.matching_id));
    must(db->lock_order(o.order.order_id, "risk_engine", now.load()));
    auto r = service->get_bound_profile_package(card.prepare_download(auth, {}), client);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().is(rsp::codes::profile_not_released));
    EXPECT_EQ(find_order(o.order.order_id).state, store::order_state::released);
}

TEST_F(download_refusals,
       when_the_order_expires_between_authentication_and_download_then_it_is_refused_8_8_5_4_10) {
    build([](smdp_config& c) { c.default_order_ttl = std::chrono::minutes(5); });
    add_profile(iccid);
    auto o = order(iccid);
    auto auth = must(authenticate(card, o.activation_code.matching_id));
    now = now.load() + std::chrono::minutes(6);
    auto r = service->get_bound_profile_package(card.prepare_download(auth, {}), client);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().is(rsp::codes::download_order_expired));
    EXPECT_EQ(find_order(o.order.order_id).state, store::order_state::expired);
}

TEST_F(download_refusals,
       when_an_operator_has_a_progress_url_then_download_steps_are_queued_for_it) {
    progress_url = "https://operator.example/es2";
    build({});
    add_profile("8944000000000000033");
    auto o = order("8944000000000000033");
    auto auth = must(authenticate(card, o.activation_code.matching_id));
    card.load_bpp(
        must(service->get_bound_profile_package(card.prepare_download(auth, {}), client)));
    must(service->handle_notification(card.installation_result("8944000000000000033", true),
                                      client));
    auto due = must(db->claim_due_notifications(now.load(), 10, std::chrono::seconds(60)));
    ASSERT_EQ(due.size(), 2u);
    auto first = must(rsp::parse_handle_download_progress_info_request(due[0].body));
    auto second = must(rsp::parse_handle_download_progress_info_request(due[1].body));
    EXPECT_EQ(first.notification_point_id, 3u);
    EXPECT_EQ(second.notification_point_id, 4u);
    EXPECT_EQ(second.iccid.to_string(), "8944000000000000033");
    ASSERT_TRUE(second.eid.has_value());
    EXPECT_EQ(second.eid->to_string(), card.eid);
}

} // namespace
} // namespace esimguard::smdp::testing
