#include "store_fixture.hpp"

#include <array>

namespace esimguard::store::testing {
namespace {

class orders : public store_test {};

order_request request_for(int n) {
    order_request r;
    r.order_id = "order-" + std::to_string(n);
    r.operator_id = operator_id;
    r.iccid = iccid(n);
    r.expires_at = t0() + 24h;
    return r;
}

TEST_F(orders, when_order_is_created_then_profile_is_allocated_with_it) {
    add_profile(iccid(1));
    auto o = db().create_order(request_for(1), t0());
    ASSERT_TRUE(o.has_value()) << o.error().message;
    EXPECT_EQ(o->state, order_state::allocated);
    EXPECT_EQ(db().find_profile(iccid(1))->state, profile_state::allocated);
}

TEST_F(orders, when_order_names_an_eid_then_it_starts_linked) {
    add_profile(iccid(1));
    auto r = request_for(1);
    r.eid = eid_a;
    auto o = db().create_order(r, t0());
    ASSERT_TRUE(o.has_value());
    EXPECT_EQ(o->state, order_state::linked);
    EXPECT_EQ(o->eid, eid_a);
    EXPECT_EQ(db().find_profile(iccid(1))->state, profile_state::linked);
}

TEST_F(orders, when_profile_is_already_allocated_then_second_order_conflicts) {
    add_profile(iccid(1));
    ASSERT_TRUE(db().create_order(request_for(1), t0()).has_value());
    auto r = request_for(1);
    r.order_id = "order-again";
    auto second = db().create_order(r, t0());
    ASSERT_FALSE(second.has_value());
    EXPECT_EQ(second.error().code, errc::conflict);
}

TEST_F(orders, when_ordering_by_type_then_the_oldest_available_profile_is_taken) {
    add_profile(iccid(1), "gold");
    add_profile(iccid(2), "silver");
    order_request r;
    r.order_id = "by-type";
    r.operator_id = operator_id;
    r.profile_type = "silver";
    r.expires_at = t0() + 1h;
    auto o = db().create_order(r, t0());
    ASSERT_TRUE(o.has_value());
    EXPECT_EQ(o->iccid, iccid(2));
    r.order_id = "by-type-2";
    auto none = db().create_order(r, t0());
    ASSERT_FALSE(none.has_value());
    EXPECT_EQ(none.error().code, errc::conflict);
}

TEST_F(orders, when_iccid_is_unknown_or_of_another_operator_then_order_is_not_found) {
    operator_record other;
    other.id = "op2";
    other.display_name = "Two";
    other.token_sha256_hex = std::string(64, 'b');
    ASSERT_TRUE(db().add_operator(other).has_value());
    add_profile(iccid(1));
    auto r = request_for(1);
    r.operator_id = "op2";
    EXPECT_EQ(db().create_order(r, t0()).error().code, errc::not_found);
    EXPECT_EQ(db().create_order(request_for(9), t0()).error().code, errc::not_found);
    EXPECT_EQ(db().find_profile(iccid(1))->state, profile_state::available);
}

TEST_F(orders, when_matching_id_is_already_used_then_confirm_conflicts_and_changes_nothing) {
    released_order(1);
    add_profile(iccid(2));
    ASSERT_TRUE(db().create_order(request_for(2), t0()).has_value());
    confirm_request c;
    c.order_id = "order-2";
    c.matching_id = "MID-1";
    c.release = true;
    auto r = db().confirm_order(c, t0());
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, errc::conflict);
    auto o = db().find_order("order-2");
    EXPECT_EQ(o->state, order_state::allocated);
    EXPECT_FALSE(o->matching_id.has_value());
}

TEST_F(orders, when_matching_id_of_a_cancelled_order_is_reused_then_confirm_conflicts) {
    released_order(1);
    ASSERT_TRUE(db().cancel_order("order-1", final_profile_status::available, t0()).has_value());
    add_profile(iccid(2));
    ASSERT_TRUE(db().create_order(request_for(2), t0()).has_value());
    confirm_request c{"order-2", "MID-1", {}, {}, false, {}};
    EXPECT_EQ(db().confirm_order(c, t0()).error().code, errc::conflict);
}

TEST_F(orders, when_confirmed_without_release_then_release_moves_it_to_released) {
    add_profile(iccid(1));
    ASSERT_TRUE(db().create_order(request_for(1), t0()).has_value());
    confirm_request c{"order-1", "MID-1", eid_a, cc_hash(), false, "smds.example"};
    auto o = db().confirm_order(c, t0());
    ASSERT_TRUE(o.has_value());
    EXPECT_EQ(o->state, order_state::confirmed);
    EXPECT_TRUE(o->cc_required);
    EXPECT_EQ(o->cc_sha256, cc_hash());
    EXPECT_EQ(o->eid, eid_a);
    auto rel = db().release_order("order-1", t0() + 1s);
    ASSERT_TRUE(rel.has_value());
    EXPECT_EQ(rel->state, order_state::released);
    EXPECT_EQ(db().find_profile(iccid(1))->state, profile_state::released);
    EXPECT_EQ(db().find_order_by_matching_id("MID-1")->order_id, "order-1");
}

TEST_F(orders, when_order_is_bound_to_another_eid_then_confirm_is_refused) {
    add_profile(iccid(1));
    auto r = request_for(1);
    r.eid = eid_a;
    ASSERT_TRUE(db().create_order(r, t0()).has_value());
    confirm_request c{"order-1", "MID-1", eid_b, {}, true, {}};
    EXPECT_EQ(db().confirm_order(c, t0()).error().code, errc::state_mismatch);
}

TEST_F(orders, when_release_is_called_twice_then_the_second_is_a_state_mismatch) {
    released_order(1);
    EXPECT_EQ(db().release_order("order-1", t0()).error().code, errc::state_mismatch);
    EXPECT_EQ(db().release_order("nope", t0()).error().code, errc::not_found);
}

TEST_F(orders, when_cancelled_with_final_status_available_then_profile_can_be_ordered_again) {
    released_order(1);
    auto c = db().cancel_order("order-1", final_profile_status::available, t0());
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(c->state, order_state::cancelled);
    EXPECT_EQ(db().find_profile(iccid(1))->state, profile_state::available);
    auto r = request_for(1);
    r.order_id = "order-1b";
    ASSERT_TRUE(db().create_order(r, t0() + 1s).has_value());
    EXPECT_EQ(db().find_order_by_iccid(iccid(1))->order_id, "order-1b");
}

TEST_F(orders, when_cancelled_as_unavailable_then_profile_is_cancelled) {
    released_order(1);
    ASSERT_TRUE(db().cancel_order("order-1", final_profile_status::unavailable, t0()).has_value());
    EXPECT_EQ(db().find_profile(iccid(1))->state, profile_state::cancelled);
}

TEST_F(orders, when_order_was_downloaded_then_cancel_is_refused) {
    released_order(1);
    std::array from{order_state::released};
    ASSERT_TRUE(db().transition_order("order-1", from, order_state::downloaded, t0()).has_value());
    EXPECT_EQ(db().cancel_order("order-1", final_profile_status::available, t0()).error().code,
              errc::state_mismatch);
}

TEST_F(orders, when_transition_starts_from_a_wrong_state_then_it_is_refused_and_nothing_changes) {
    released_order(1);
    std::array from{order_state::downloaded};
    auto r = db().transition_order("order-1", from, order_state::installed, t0());
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, errc::state_mismatch);
    EXPECT_EQ(db().find_order("order-1")->state, order_state::released);
    EXPECT_EQ(db().find_profile(iccid(1))->state, profile_state::released);
}

TEST_F(orders, when_transition_matches_then_order_and_profile_move_together) {
    released_order(1);
    std::array from{order_state::released, order_state::confirmed};
    auto r = db().transition_order("order-1", from, order_state::downloaded, t0() + 5s);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->state, order_state::downloaded);
    EXPECT_EQ(db().find_profile(iccid(1))->state, profile_state::downloaded);
    EXPECT_EQ(db().find_order("order-1")->updated_at, t0() + 5s);
}

TEST_F(orders, when_a_released_order_is_locked_then_it_cannot_move_to_downloaded) {
    released_order(1);
    ASSERT_TRUE(db().lock_order("order-1", "risk_engine", t0()).has_value());
    std::array from{order_state::released};
    auto r = db().transition_order("order-1", from, order_state::downloaded, t0() + 1s);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, errc::state_mismatch);
    EXPECT_EQ(db().find_order("order-1")->state, order_state::released);
    EXPECT_EQ(db().find_profile(iccid(1))->state, profile_state::released);
}

TEST_F(orders, when_a_released_order_is_past_its_expiry_then_it_cannot_move_to_downloaded) {
    released_order(1, 3, {}, t0() + 1h);
    std::array from{order_state::released};
    auto r = db().transition_order("order-1", from, order_state::downloaded, t0() + 1h);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, errc::state_mismatch);
    EXPECT_EQ(db().find_order("order-1")->state, order_state::released);
    EXPECT_TRUE(db().transition_order("order-1", from, order_state::downloaded, t0() + 59min));
}

TEST_F(orders, when_orders_pass_their_expiry_then_expire_orders_marks_only_those) {
    released_order(1, 3, {}, t0() + 1h);
    released_order(2, 3, {}, t0() + 3h);
    auto expired = db().expire_orders(t0() + 2h);
    ASSERT_TRUE(expired.has_value());
    ASSERT_EQ(expired->size(), 1u);
    EXPECT_EQ((*expired)[0].order_id, "order-1");
    EXPECT_EQ(db().find_order("order-1")->state, order_state::expired);
    EXPECT_EQ(db().find_profile(iccid(1))->state, profile_state::expired);
    EXPECT_EQ(db().find_order("order-2")->state, order_state::released);
}

TEST_F(orders, when_things_happen_to_an_order_then_history_lists_them_in_order) {
    released_order(1);
    ASSERT_TRUE(db().add_order_event("order-1", t0() + 1s, "note", "called the subscriber"));
    auto ev = db().list_order_events("order-1");
    ASSERT_TRUE(ev.has_value());
    ASSERT_EQ(ev->size(), 3u);
    EXPECT_EQ((*ev)[0].name, "created");
    EXPECT_EQ((*ev)[1].name, "confirmed");
    EXPECT_EQ((*ev)[2].name, "note");
    EXPECT_EQ((*ev)[2].at, t0() + 1s);
    for (const auto& e : *ev) {
        EXPECT_EQ(e.detail.find("MID-1"), std::string::npos) << "history leaks the matching ID";
    }
    EXPECT_EQ(db().add_order_event("nope", t0(), "x", "").error().code, errc::not_found);
}

TEST_F(orders, when_listing_orders_then_the_state_filter_applies) {
    released_order(1);
    add_profile(iccid(2));
    ASSERT_TRUE(db().create_order(request_for(2), t0()).has_value());
    list_filter f;
    f.state = order_state::released;
    auto l = db().list_orders(f);
    ASSERT_TRUE(l.has_value());
    ASSERT_EQ(l->size(), 1u);
    EXPECT_EQ((*l)[0].order_id, "order-1");
}

TEST_F(orders, when_a_live_order_holds_a_profile_then_transition_profile_is_refused) {
    released_order(1);
    std::array from{profile_state::released};
    EXPECT_EQ(db().transition_profile(iccid(1), from, profile_state::available, t0()).error().code,
              errc::state_mismatch);
    ASSERT_TRUE(db().cancel_order("order-1", final_profile_status::unavailable, t0()).has_value());
    std::array cancelled{profile_state::cancelled};
    auto p = db().transition_profile(iccid(1), cancelled, profile_state::available, t0());
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(p->state, profile_state::available);
}

} // namespace
} // namespace esimguard::store::testing
