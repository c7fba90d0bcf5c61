#include "store_fixture.hpp"

namespace esimguard::store::testing {
namespace {

class sessions : public store_test {
protected:
    session_record fresh(const std::string& txid, time_point expires = t0() + 5min) {
        session_record s;
        s.transaction_id = txid;
        s.created_at = t0();
        s.expires_at = expires;
        s.euicc_challenge = bytes(16, 0x11);
        s.server_challenge = bytes(16, 0x22);
        s.server_address = "smdp.example.com";
        s.ci_pkid = bytes(20, 0x33);
        s.client_address = "192.0.2.7";
        return s;
    }
    /// A new session moved to authenticated for `order_id`, as authenticateClient leaves it.
    void authenticated_session(const std::string& txid, const std::string& order_id) {
        ASSERT_TRUE(db().create_session(fresh(txid)));
        session_update auth;
        auth.state = session_state::authenticated;
        auth.order_id = order_id;
        ASSERT_TRUE(db().update_session(txid, session_state::initiated, auth, t0()));
    }
};

TEST_F(sessions, when_a_transaction_id_was_used_before_then_create_conflicts_even_after_purge) {
    ASSERT_TRUE(db().create_session(fresh("A1")));
    EXPECT_EQ(db().create_session(fresh("A1")).error().code, errc::conflict);
    ASSERT_TRUE(db().end_session("A1", "completed", t0()));
    auto purged = db().purge_sessions(t0() + 1s);
    ASSERT_TRUE(purged.has_value());
    EXPECT_EQ(*purged, 1u);
    EXPECT_EQ(db().find_session("A1").error().code, errc::not_found);
    EXPECT_EQ(db().create_session(fresh("A1")).error().code, errc::conflict);
}

TEST_F(sessions, when_the_database_is_reopened_then_the_session_continues) {
    released_order(1);
    ASSERT_TRUE(db().create_session(fresh("B2")));
    session_update u;
    u.state = session_state::authenticated;
    u.eid = eid_a;
    u.euicc_certificate = bytes{0x30, 0x82, 0x01};
    u.order_id = "order-1";
    u.smdp_signed2 = bytes{0x30, 0x01};
    u.smdp_signature2 = bytes(64, 0x5f);
    ASSERT_TRUE(db().update_session("B2", session_state::initiated, u, t0() + 1s));

    reopen(); // a restart, or another node opening the same file

    auto s = db().find_session("B2");
    ASSERT_TRUE(s.has_value()) << s.error().message;
    EXPECT_EQ(s->state, session_state::authenticated);
    EXPECT_EQ(s->eid, eid_a);
    EXPECT_EQ(s->order_id, "order-1");
    EXPECT_EQ(s->server_challenge, bytes(16, 0x22));
    EXPECT_EQ(s->smdp_signature2, bytes(64, 0x5f));
    EXPECT_EQ(s->client_address, "192.0.2.7");
    EXPECT_EQ(s->updated_at, t0() + 1s);
    session_update next;
    next.state = session_state::bpp_sent;
    EXPECT_TRUE(db().update_session("B2", session_state::authenticated, next, t0() + 2s));
}

TEST_F(sessions, when_the_session_is_not_in_the_expected_state_then_update_is_refused) {
    ASSERT_TRUE(db().create_session(fresh("C3")));
    session_update u;
    u.state = session_state::bpp_sent;
    u.eid = eid_b;
    auto r = db().update_session("C3", session_state::authenticated, u, t0());
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, errc::state_mismatch);
    auto s = db().find_session("C3");
    EXPECT_EQ(s->state, session_state::initiated);
    EXPECT_FALSE(s->eid.has_value());
    EXPECT_EQ(db().update_session("nope", session_state::initiated, u, t0()).error().code,
              errc::not_found);
}

TEST_F(sessions, when_an_update_carries_a_history_line_then_it_is_written_only_if_it_applies) {
    const auto order = released_order(1);
    ASSERT_TRUE(db().create_session(fresh("H1")));
    const auto count = [&] { return db().list_order_events(order.order_id).value().size(); };
    const std::size_t before = count();

    session_update u;
    u.state = session_state::authenticated;
    u.order_id = order.order_id;
    u.history = session_update::history_line{order.order_id, "authenticated", "eUICC 8904…1235"};
    ASSERT_TRUE(db().update_session("H1", session_state::initiated, u, t0() + 1s));
    auto events = db().list_order_events(order.order_id).value();
    ASSERT_EQ(events.size(), before + 1);
    EXPECT_EQ(events.back().name, "authenticated");
    EXPECT_EQ(events.back().detail, "eUICC 8904…1235");
    EXPECT_EQ(events.back().at, t0() + 1s);

    // The guard refuses (the session is no longer initiated): no line either.
    session_update late;
    late.state = session_state::bpp_sent;
    late.history = session_update::history_line{order.order_id, "bpp_sent", "to eUICC"};
    auto r = db().update_session("H1", session_state::initiated, late, t0() + 2s);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, errc::state_mismatch);
    EXPECT_EQ(count(), before + 1);
}

TEST_F(sessions, when_the_last_move_of_an_order_applies_then_its_session_ends_with_it) {
    const auto order = released_order(1);
    ASSERT_TRUE(db().create_session(fresh("E1")));
    const std::array released{order_state::released};
    ASSERT_TRUE(db().transition_order(order.order_id, released, order_state::downloaded, t0()));

    // Refused move (the order is not released any more): the session stays live.
    auto refused = db().transition_order_ending_session(
        order.order_id, released, order_state::installed, "E1", "completed", t0() + 1s);
    ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error().code, errc::state_mismatch);
    EXPECT_EQ(db().find_session("E1")->state, session_state::initiated);

    const std::array downloaded{order_state::downloaded};
    auto moved = db().transition_order_ending_session(
        order.order_id, downloaded, order_state::installed, "E1", "completed", t0() + 2s);
    ASSERT_TRUE(moved.has_value()) << moved.error().message;
    EXPECT_EQ(moved->state, order_state::installed);
    EXPECT_EQ(db().find_order(order.order_id)->state, order_state::installed);
    auto s = db().find_session("E1");
    EXPECT_EQ(s->state, session_state::ended);
    EXPECT_EQ(s->end_reason, "completed");
    EXPECT_EQ(s->updated_at, t0() + 2s);
}

TEST_F(sessions, when_the_session_had_already_ended_then_the_order_moves_and_the_end_stays) {
    const auto order = released_order(2);
    ASSERT_TRUE(db().create_session(fresh("E2")));
    const std::array released{order_state::released};
    ASSERT_TRUE(db().transition_order(order.order_id, released, order_state::downloaded, t0()));
    ASSERT_TRUE(db().end_session("E2", "expired", t0() + 1s));
    const std::array downloaded{order_state::downloaded};
    ASSERT_TRUE(db().transition_order_ending_session(order.order_id, downloaded, order_state::error,
                                                     "E2", "install_failed:1", t0() + 2s));
    EXPECT_EQ(db().find_order(order.order_id)->state, order_state::error);
    EXPECT_EQ(db().find_session("E2")->end_reason, "expired");
}

session_update bpp_sent_update(const std::string& order_id) {
    session_update u;
    u.state = session_state::bpp_sent;
    u.smdp_otpk = bytes(65, 0x04);
    u.history = session_update::history_line{order_id, "bpp_sent", "to eUICC"};
    return u;
}

TEST_F(sessions, when_an_order_is_claimed_for_a_session_then_both_move_in_one_commit) {
    const auto order = released_order(3);
    authenticated_session("K1", order.order_id);

    auto claimed = db().claim_order_for_session(order.order_id, "K1", session_state::authenticated,
                                                bpp_sent_update(order.order_id), t0() + 1s);
    ASSERT_TRUE(claimed.has_value()) << claimed.error().message;
    EXPECT_EQ(claimed->state, order_state::downloaded);
    EXPECT_EQ(db().find_order(order.order_id)->state, order_state::downloaded);
    auto s = db().find_session("K1");
    EXPECT_EQ(s->state, session_state::bpp_sent);
    EXPECT_EQ(s->smdp_otpk, bytes(65, 0x04));
    EXPECT_EQ(db().list_order_events(order.order_id).value().back().name, "bpp_sent");

    // A second session cannot claim it again.
    authenticated_session("K2", order.order_id);
    auto again = db().claim_order_for_session(order.order_id, "K2", session_state::authenticated,
                                              bpp_sent_update(order.order_id), t0() + 2s);
    ASSERT_FALSE(again.has_value());
    EXPECT_EQ(again.error().code, errc::state_mismatch);
    EXPECT_EQ(db().find_session("K2")->state, session_state::authenticated);
}

TEST_F(sessions, when_the_session_moved_on_then_the_claim_of_the_order_is_rolled_back) {
    const auto order = released_order(4);
    ASSERT_TRUE(db().create_session(fresh("K3")));
    ASSERT_TRUE(db().end_session("K3", "cancelled", t0()));
    const auto events = db().list_order_events(order.order_id).value().size();
    auto r = db().claim_order_for_session(order.order_id, "K3", session_state::authenticated,
                                          bpp_sent_update(order.order_id), t0() + 1s);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, errc::state_mismatch);
    EXPECT_EQ(db().find_order(order.order_id)->state, order_state::released);
    EXPECT_EQ(db().list_order_events(order.order_id).value().size(), events);
    EXPECT_EQ(db().find_session("K3")->state, session_state::ended);
}

TEST_F(sessions, when_the_order_was_locked_then_neither_the_order_nor_the_session_moves) {
    const auto order = released_order(5);
    authenticated_session("K4", order.order_id);
    ASSERT_TRUE(db().lock_order(order.order_id, "risk", t0()));
    auto r = db().claim_order_for_session(order.order_id, "K4", session_state::authenticated,
                                          bpp_sent_update(order.order_id), t0() + 1s);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, errc::state_mismatch);
    EXPECT_EQ(db().find_order(order.order_id)->state, order_state::released);
    EXPECT_EQ(db().find_session("K4")->state, session_state::authenticated);
}

TEST_F(sessions, when_the_secret_is_cleared_then_it_is_gone_and_the_rest_stays) {
    ASSERT_TRUE(db().create_session(fresh("D4")));
    session_update u;
    u.euicc_otpk = bytes(65, 0x04);
    u.smdp_otsk = bytes(32, 0x77);
    u.smdp_otpk = bytes(65, 0x05);
    ASSERT_TRUE(db().update_session("D4", session_state::initiated, u, t0()));
    EXPECT_EQ(db().find_session("D4")->smdp_otsk, bytes(32, 0x77));
    ASSERT_TRUE(db().clear_session_secret("D4", t0()));
    auto s = db().find_session("D4");
    EXPECT_FALSE(s->smdp_otsk.has_value());
    EXPECT_EQ(s->smdp_otpk, bytes(65, 0x05));
    EXPECT_EQ(db().clear_session_secret("nope", t0()).error().code, errc::not_found);
}

TEST_F(sessions, when_sessions_pass_their_expiry_then_they_end_and_lose_their_secret) {
    ASSERT_TRUE(db().create_session(fresh("E5", t0() + 1min)));
    ASSERT_TRUE(db().create_session(fresh("E6", t0() + 10min)));
    session_update u;
    u.smdp_otsk = bytes(32, 0x77);
    ASSERT_TRUE(db().update_session("E5", session_state::initiated, u, t0()));
    auto n = db().expire_sessions(t0() + 2min);
    ASSERT_TRUE(n.has_value());
    EXPECT_EQ(*n, 1u);
    auto s = db().find_session("E5");
    EXPECT_EQ(s->state, session_state::ended);
    EXPECT_EQ(s->end_reason, "expired");
    EXPECT_FALSE(s->smdp_otsk.has_value());
    EXPECT_EQ(db().find_session("E6")->state, session_state::initiated);
}

TEST_F(sessions, when_a_session_ends_twice_then_the_second_is_a_state_mismatch) {
    ASSERT_TRUE(db().create_session(fresh("F7")));
    auto e = db().end_session("F7", "cancelled", t0());
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->end_reason, "cancelled");
    EXPECT_EQ(db().end_session("F7", "again", t0()).error().code, errc::state_mismatch);
}

TEST_F(sessions, when_hashcc_is_checked_then_the_session_counts_each_attempt) {
    ASSERT_TRUE(db().create_session(fresh("G8")));
    EXPECT_EQ(db().record_session_cc_attempt("G8", t0()).value_or(-1), 1);
    EXPECT_EQ(db().record_session_cc_attempt("G8", t0()).value_or(-1), 2);
    ASSERT_TRUE(db().end_session("G8", "done", t0()));
    EXPECT_EQ(db().record_session_cc_attempt("G8", t0()).error().code, errc::state_mismatch);
}

} // namespace
} // namespace esimguard::store::testing
