#include "store_fixture.hpp"

namespace esimguard::store::testing {
namespace {

class operators_profiles : public store_test {};

TEST_F(operators_profiles, when_token_hash_is_known_then_its_operator_is_found) {
    auto op = db().find_operator_by_token_hash(std::string(64, 'a'));
    ASSERT_TRUE(op.has_value());
    EXPECT_EQ(op->id, operator_id);
    EXPECT_EQ(op->download_progress_url, "https://op.example/es2plus");
    EXPECT_EQ(op->created_at, t0());
    EXPECT_EQ(db().find_operator_by_token_hash(std::string(64, 'f')).error().code, errc::not_found);
}

TEST_F(operators_profiles, when_operator_id_or_token_hash_is_taken_then_add_conflicts) {
    operator_record dup{operator_id, "x", std::string(64, 'd'), {}, {}, t0()};
    EXPECT_EQ(db().add_operator(dup).error().code, errc::conflict);
    operator_record same_token{"op9", "x", std::string(64, 'a'), {}, {}, t0()};
    EXPECT_EQ(db().add_operator(same_token).error().code, errc::conflict);
}

TEST_F(operators_profiles, when_client_certificate_is_registered_then_it_finds_the_operator) {
    operator_record op{"op2", "Two", std::string(64, 'b'), std::string(64, 'e'), {}, t0()};
    ASSERT_TRUE(db().add_operator(op));
    EXPECT_EQ(db().find_operator_by_client_cert(std::string(64, 'e'))->id, "op2");
    EXPECT_EQ(db().list_operators()->size(), 2u);
}

TEST_F(operators_profiles, when_a_profile_is_added_then_it_is_available_with_its_package) {
    add_profile(iccid(1));
    auto p = db().find_profile(iccid(1));
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(p->state, profile_state::available);
    EXPECT_EQ(p->package, (bytes{0x30, 0x03, 0x02, 0x01, 0x01}));
    EXPECT_EQ(p->metadata.profile_name, "One Gold");
    auto listed = db().list_profiles({});
    ASSERT_EQ(listed->size(), 1u);
    EXPECT_TRUE((*listed)[0].package.empty());
}

TEST_F(operators_profiles, when_iccid_is_malformed_or_duplicate_then_add_profile_is_refused) {
    add_profile(iccid(1));
    profile_record p;
    p.iccid = iccid(1);
    p.operator_id = operator_id;
    p.profile_type = "gold";
    EXPECT_EQ(db().add_profile(p, t0()).error().code, errc::conflict);
    p.iccid = "8944ABC";
    EXPECT_EQ(db().add_profile(p, t0()).error().code, errc::invalid_argument);
    p.iccid = iccid(2);
    p.operator_id = "nobody";
    EXPECT_EQ(db().add_profile(p, t0()).error().code, errc::not_found);
}

TEST_F(operators_profiles, when_listing_by_state_then_only_that_state_is_returned) {
    add_profile(iccid(1));
    released_order(2);
    list_filter f;
    f.state = profile_state::available;
    auto l = db().list_profiles(f);
    ASSERT_EQ(l->size(), 1u);
    EXPECT_EQ((*l)[0].iccid, iccid(1));
    f.state = profile_state::released;
    EXPECT_EQ(db().list_profiles(f)->at(0).iccid, iccid(2));
}

} // namespace
} // namespace esimguard::store::testing
