// The SQLite defence store: blocklist and stolen rows, the alerts inbox,
// subscribers and lines, step-up approvals, and the compare-and-set paths
// that keep a TOTP code or an approval code from being used twice.

#include "esimguard/store/defense_store.hpp"
#include "esimguard/store/store.hpp"
#include "store_fixture.hpp"

#include <thread>

namespace esimguard::store::testing {
namespace {

class defense_store_test : public ::testing::Test {
protected:
    void SetUp() override {
        config_.path = (dir_.path() / "defense.db").string();
        reopen();
    }

    void reopen() {
        ds_.reset();
        auto s = open_test_defense_store(config_);
        ASSERT_TRUE(s.has_value()) << s.error().message;
        ds_ = std::move(*s);
    }

    defense_store& ds() { return *ds_; }

    void add_subscriber(const std::string& id) {
        subscriber_record s;
        s.id = id;
        s.display_name = "Alice " + id;
        s.email = id + "@example.org";
        s.operator_id = operator_id;
        s.created_at = t0();
        ASSERT_TRUE(ds().add_subscriber(s).has_value());
    }

    approval_record approval(const std::string& id, time_point at = t0()) {
        approval_record a;
        a.id = id;
        a.order_id = "order-1";
        a.iccid = iccid(1);
        a.subscriber_id = "sub1";
        a.eid = eid_a;
        a.rule = "new_eid_step_up";
        a.code_salt = bytes(16, 0x11);
        a.code_mac = bytes(32, 0x22);
        a.created_at = at;
        a.expires_at = at + 10min;
        return a;
    }

    temp_dir dir_;
    sqlite_config config_;
    std::unique_ptr<defense_store> ds_;
};

// ---- blocklist -------------------------------------------------------------

TEST_F(defense_store_test, when_a_block_is_saved_then_it_survives_a_reopen_with_every_field) {
    blocklist_row b{"ip", "192.0.2.7", "guessing", t0(), t0() + 1h, "admin:sec"};
    ASSERT_TRUE(ds().save_block(b).has_value());
    ASSERT_TRUE(ds().save_block({"eid", eid_a, "fraud", t0(), std::nullopt, "engine"}));
    reopen();
    auto rows = ds().load_blocklist();
    ASSERT_TRUE(rows.has_value());
    ASSERT_EQ(rows->size(), 2u);
    const auto& ip = rows->at(0).kind == "ip" ? rows->at(0) : rows->at(1);
    const auto& eid = rows->at(0).kind == "eid" ? rows->at(0) : rows->at(1);
    EXPECT_EQ(ip.value, "192.0.2.7");
    EXPECT_EQ(ip.reason, "guessing");
    EXPECT_EQ(ip.created, t0());
    EXPECT_EQ(ip.expires, t0() + 1h);
    EXPECT_EQ(ip.created_by, "admin:sec");
    EXPECT_EQ(eid.value, eid_a);
    EXPECT_FALSE(eid.expires.has_value());
}

TEST_F(defense_store_test, when_the_same_block_is_saved_twice_then_the_second_replaces_the_first) {
    ASSERT_TRUE(ds().save_block({"ip", "192.0.2.7", "first", t0(), t0() + 1h, "a"}));
    ASSERT_TRUE(ds().save_block({"ip", "192.0.2.7", "second", t0() + 1s, std::nullopt, "b"}));
    auto rows = ds().load_blocklist();
    ASSERT_TRUE(rows.has_value());
    ASSERT_EQ(rows->size(), 1u);
    EXPECT_EQ(rows->at(0).reason, "second");
    EXPECT_FALSE(rows->at(0).expires.has_value());
    EXPECT_EQ(rows->at(0).created_by, "b");
}

TEST_F(defense_store_test, when_a_block_of_unknown_kind_is_saved_then_it_is_invalid) {
    auto r = ds().save_block({"planet", "mars", "", t0(), std::nullopt, "a"});
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, errc::invalid_argument);
}

TEST_F(defense_store_test,
       when_a_block_is_removed_then_it_is_gone_and_a_second_remove_is_not_found) {
    ASSERT_TRUE(ds().save_block({"ip_prefix", "10.0.0.0/8", "", t0(), std::nullopt, "a"}));
    ASSERT_TRUE(ds().remove_block("ip_prefix", "10.0.0.0/8").has_value());
    EXPECT_TRUE(ds().load_blocklist()->empty());
    auto again = ds().remove_block("ip_prefix", "10.0.0.0/8");
    ASSERT_FALSE(again.has_value());
    EXPECT_EQ(again.error().code, errc::not_found);
}

// ---- stolen devices --------------------------------------------------------

TEST_F(defense_store_test, when_a_device_is_reported_stolen_twice_then_one_row_holds_the_latest) {
    ASSERT_TRUE(ds().save_stolen({eid_a, "lost on a train", t0(), "subscriber:sub1"}));
    ASSERT_TRUE(ds().save_stolen({eid_a, "stolen", t0() + 1s, "admin:sec"}));
    ASSERT_TRUE(ds().save_stolen({eid_b, "stolen", t0(), "admin:sec"}));
    reopen();
    auto rows = ds().load_stolen();
    ASSERT_TRUE(rows.has_value());
    ASSERT_EQ(rows->size(), 2u);
    auto a = std::find_if(rows->begin(), rows->end(), [](auto& r) { return r.eid == eid_a; });
    ASSERT_NE(a, rows->end());
    EXPECT_EQ(a->reason, "stolen");
    EXPECT_EQ(a->reported, t0() + 1s);
    EXPECT_EQ(a->reported_by, "admin:sec");
}

TEST_F(defense_store_test, when_an_unknown_stolen_device_is_removed_then_it_is_not_found) {
    ASSERT_TRUE(ds().save_stolen({eid_a, "", t0(), "a"}));
    ASSERT_TRUE(ds().remove_stolen(eid_a).has_value());
    auto r = ds().remove_stolen(eid_a);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, errc::not_found);
    EXPECT_TRUE(ds().load_stolen()->empty());
}

// ---- alerts ------------------------------------------------------------------

alert_row make_alert(std::string id, time_point at, std::string severity,
                     std::optional<std::string> subscriber = std::nullopt) {
    alert_row a;
    a.id = std::move(id);
    a.at = at;
    a.severity = std::move(severity);
    a.rule = "matching_id_guessing";
    a.summary = "many unknown matching IDs";
    a.json = R"({"id":"x"})";
    a.subscriber_id = std::move(subscriber);
    a.operator_id = operator_id;
    a.iccid = iccid(1);
    a.eid = eid_a;
    return a;
}

TEST_F(defense_store_test, when_alerts_are_listed_then_newest_come_first_and_filters_apply) {
    ASSERT_TRUE(ds().add_alert(make_alert("a1", t0(), "warning", "sub1")));
    ASSERT_TRUE(ds().add_alert(make_alert("a2", t0() + 1s, "critical", "sub2")));
    ASSERT_TRUE(ds().add_alert(make_alert("a3", t0() + 2s, "critical", "sub1")));

    auto all = ds().list_alerts({});
    ASSERT_TRUE(all.has_value());
    ASSERT_EQ(all->size(), 3u);
    EXPECT_EQ(all->at(0).id, "a3");
    EXPECT_EQ(all->at(2).id, "a1");
    EXPECT_EQ(all->at(2).json, R"({"id":"x"})");
    EXPECT_EQ(all->at(2).eid, eid_a);

    alert_query by_sub;
    by_sub.subscriber_id = "sub1";
    EXPECT_EQ(ds().list_alerts(by_sub)->size(), 2u);
    alert_query crit;
    crit.severity = "critical";
    crit.subscriber_id = "sub2";
    auto c = ds().list_alerts(crit);
    ASSERT_EQ(c->size(), 1u);
    EXPECT_EQ(c->at(0).id, "a2");
    alert_query lim;
    lim.limit = 1;
    EXPECT_EQ(ds().list_alerts(lim)->size(), 1u);
    alert_query other_op;
    other_op.operator_id = "op2";
    EXPECT_TRUE(ds().list_alerts(other_op)->empty());
}

TEST_F(defense_store_test, when_an_alert_id_is_reused_then_it_is_a_conflict) {
    ASSERT_TRUE(ds().add_alert(make_alert("a1", t0(), "info")));
    auto r = ds().add_alert(make_alert("a1", t0() + 1s, "info"));
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, errc::conflict);
}

TEST_F(defense_store_test,
       when_an_alert_is_acknowledged_twice_then_the_first_acknowledgement_stays) {
    ASSERT_TRUE(ds().add_alert(make_alert("a1", t0(), "warning")));
    ASSERT_TRUE(ds().add_alert(make_alert("a2", t0(), "warning")));
    auto first = ds().acknowledge_alert("a1", "admin:first", t0() + 1min);
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(first->acknowledged_by, "admin:first");
    auto second = ds().acknowledge_alert("a1", "admin:second", t0() + 2min);
    ASSERT_TRUE(second.has_value());
    EXPECT_EQ(second->acknowledged_by, "admin:first");
    EXPECT_EQ(second->acknowledged_at, t0() + 1min);

    alert_query open;
    open.unacknowledged_only = true;
    auto rows = ds().list_alerts(open);
    ASSERT_EQ(rows->size(), 1u);
    EXPECT_EQ(rows->at(0).id, "a2");

    auto missing = ds().acknowledge_alert("nope", "admin:x", t0());
    ASSERT_FALSE(missing.has_value());
    EXPECT_EQ(missing.error().code, errc::not_found);
}

// ---- subscribers and TOTP -------------------------------------------------

TEST_F(defense_store_test,
       when_a_subscriber_is_added_then_it_is_found_and_listed_and_ids_are_unique) {
    add_subscriber("sub1");
    add_subscriber("sub0");
    auto s = ds().find_subscriber("sub1");
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->display_name, "Alice sub1");
    EXPECT_EQ(s->email, "sub1@example.org");
    EXPECT_EQ(s->operator_id, operator_id);
    EXPECT_FALSE(s->totp_secret.has_value());
    EXPECT_EQ(s->created_at, t0());
    auto all = ds().list_subscribers();
    ASSERT_EQ(all->size(), 2u);
    EXPECT_EQ(all->at(0).id, "sub0");

    subscriber_record dup;
    dup.id = "sub1";
    dup.created_at = t0();
    auto r = ds().add_subscriber(dup);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, errc::conflict);
    EXPECT_EQ(ds().find_subscriber("ghost").error().code, errc::not_found);
}

TEST_F(defense_store_test, when_a_totp_secret_is_set_then_the_last_step_is_reset) {
    add_subscriber("sub1");
    ASSERT_TRUE(ds().set_totp_secret("sub1", bytes(20, 0x42)));
    ASSERT_TRUE(ds().advance_totp_step("sub1", std::nullopt, 100));
    EXPECT_EQ(ds().find_subscriber("sub1")->totp_last_step, 100);
    ASSERT_TRUE(ds().set_totp_secret("sub1", bytes(20, 0x43)));
    auto s = ds().find_subscriber("sub1");
    EXPECT_EQ(s->totp_secret, bytes(20, 0x43));
    EXPECT_FALSE(s->totp_last_step.has_value());
    ASSERT_TRUE(ds().set_totp_secret("sub1", std::nullopt));
    EXPECT_FALSE(ds().find_subscriber("sub1")->totp_secret.has_value());
    EXPECT_EQ(ds().set_totp_secret("ghost", bytes(20, 1)).error().code, errc::not_found);
}

TEST_F(defense_store_test, when_the_totp_step_moved_meanwhile_then_advance_is_a_state_mismatch) {
    add_subscriber("sub1");
    ASSERT_TRUE(ds().advance_totp_step("sub1", std::nullopt, 100));
    // A second verification that read "never used" loses.
    auto stale = ds().advance_totp_step("sub1", std::nullopt, 100);
    ASSERT_FALSE(stale.has_value());
    EXPECT_EQ(stale.error().code, errc::state_mismatch);
    auto wrong = ds().advance_totp_step("sub1", 99, 101);
    ASSERT_FALSE(wrong.has_value());
    EXPECT_EQ(wrong.error().code, errc::state_mismatch);
    ASSERT_TRUE(ds().advance_totp_step("sub1", 100, 101));
    EXPECT_EQ(ds().find_subscriber("sub1")->totp_last_step, 101);
    EXPECT_EQ(ds().advance_totp_step("ghost", std::nullopt, 1).error().code, errc::not_found);
}

TEST_F(defense_store_test, when_many_threads_race_on_one_totp_step_then_exactly_one_wins) {
    add_subscriber("sub1");
    std::atomic<int> wins{0};
    std::atomic<int> mismatches{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i) {
        threads.emplace_back([&] {
            auto r = ds().advance_totp_step("sub1", std::nullopt, 500);
            if (r) {
                ++wins;
            } else if (r.error().code == errc::state_mismatch) {
                ++mismatches;
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(wins.load(), 1);
    EXPECT_EQ(mismatches.load(), 7);
}

// ---- lines -------------------------------------------------------------------

TEST_F(defense_store_test,
       when_a_line_is_linked_then_it_is_found_listed_and_relinking_replaces_it) {
    add_subscriber("sub1");
    add_subscriber("sub2");
    auto l = ds().link_line(iccid(1), "sub1", true, t0());
    ASSERT_TRUE(l.has_value()) << l.error().message;
    EXPECT_EQ(l->subscriber_id, "sub1");
    EXPECT_TRUE(l->step_up_on_new_eid);
    EXPECT_FALSE(l->frozen);
    EXPECT_EQ(l->linked_at, t0());
    ASSERT_TRUE(ds().link_line(iccid(2), "sub1", false, t0()));
    EXPECT_EQ(ds().list_lines("sub1")->size(), 2u);

    auto moved = ds().link_line(iccid(1), "sub2", false, t0() + 1s);
    ASSERT_TRUE(moved.has_value());
    EXPECT_EQ(ds().find_line(iccid(1))->subscriber_id, "sub2");
    EXPECT_FALSE(ds().find_line(iccid(1))->step_up_on_new_eid);
    EXPECT_EQ(ds().list_lines("sub1")->size(), 1u);
    EXPECT_EQ(ds().find_line(iccid(9)).error().code, errc::not_found);
}

TEST_F(defense_store_test, when_a_line_is_linked_to_an_unknown_subscriber_then_it_is_not_found) {
    auto l = ds().link_line(iccid(1), "ghost", false, t0());
    ASSERT_FALSE(l.has_value());
    EXPECT_EQ(l.error().code, errc::not_found);
}

TEST_F(defense_store_test, when_a_line_is_frozen_and_thawed_then_reason_and_time_follow) {
    add_subscriber("sub1");
    ASSERT_TRUE(ds().link_line(iccid(1), "sub1", false, t0()));
    auto f = ds().set_line_frozen(iccid(1), "phone stolen", t0() + 1min);
    ASSERT_TRUE(f.has_value());
    EXPECT_TRUE(f->frozen);
    EXPECT_EQ(f->frozen_reason, "phone stolen");
    EXPECT_EQ(f->frozen_at, t0() + 1min);
    reopen();
    EXPECT_TRUE(ds().find_line(iccid(1))->frozen);
    auto t = ds().set_line_frozen(iccid(1), std::nullopt, t0() + 2min);
    ASSERT_TRUE(t.has_value());
    EXPECT_FALSE(t->frozen);
    EXPECT_FALSE(t->frozen_reason.has_value());
    EXPECT_FALSE(t->frozen_at.has_value());
    EXPECT_EQ(ds().set_line_frozen(iccid(9), "x", t0()).error().code, errc::not_found);
}

TEST_F(defense_store_test, when_step_up_is_switched_then_the_line_says_so) {
    add_subscriber("sub1");
    ASSERT_TRUE(ds().link_line(iccid(1), "sub1", false, t0()));
    EXPECT_TRUE(ds().set_step_up_on_new_eid(iccid(1), true)->step_up_on_new_eid);
    EXPECT_TRUE(ds().find_line(iccid(1))->step_up_on_new_eid);
    EXPECT_FALSE(ds().set_step_up_on_new_eid(iccid(1), false)->step_up_on_new_eid);
    EXPECT_EQ(ds().set_step_up_on_new_eid(iccid(9), true).error().code, errc::not_found);
}

TEST_F(defense_store_test, when_known_eids_are_added_twice_then_each_is_kept_once) {
    add_subscriber("sub1");
    ASSERT_TRUE(ds().link_line(iccid(1), "sub1", true, t0()));
    ASSERT_TRUE(ds().add_known_eid(iccid(1), eid_a));
    ASSERT_TRUE(ds().add_known_eid(iccid(1), eid_a));
    ASSERT_TRUE(ds().add_known_eid(iccid(1), eid_b));
    auto l = ds().find_line(iccid(1));
    ASSERT_TRUE(l.has_value());
    EXPECT_EQ(l->known_eids, (std::vector<std::string>{eid_a, eid_b}));
    EXPECT_EQ(ds().list_lines("sub1")->at(0).known_eids.size(), 2u);
    EXPECT_EQ(ds().add_known_eid(iccid(9), eid_a).error().code, errc::not_found);
}

// ---- approvals -----------------------------------------------------------------

TEST_F(defense_store_test, when_an_approval_is_added_then_every_field_reads_back) {
    add_subscriber("sub1");
    auto a = approval("ap1");
    a.code_attempts = 1;
    ASSERT_TRUE(ds().add_approval(a).has_value());
    auto r = ds().find_approval("ap1");
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->order_id, "order-1");
    EXPECT_EQ(r->iccid, iccid(1));
    EXPECT_EQ(r->eid, eid_a);
    EXPECT_EQ(r->rule, "new_eid_step_up");
    EXPECT_EQ(r->state, approval_state::pending);
    EXPECT_EQ(r->code_salt, bytes(16, 0x11));
    EXPECT_EQ(r->code_mac, bytes(32, 0x22));
    EXPECT_EQ(r->code_attempts, 1);
    EXPECT_EQ(r->code_max_attempts, 5);
    EXPECT_FALSE(r->code_used);
    EXPECT_EQ(r->expires_at, t0() + 10min);
    EXPECT_EQ(ds().add_approval(a).error().code, errc::conflict);
    EXPECT_EQ(ds().find_approval("nope").error().code, errc::not_found);
    auto orphan = approval("ap2");
    orphan.subscriber_id = "ghost";
    EXPECT_EQ(ds().add_approval(orphan).error().code, errc::not_found);
}

TEST_F(defense_store_test,
       when_several_approvals_exist_then_the_newest_for_order_and_eid_is_found) {
    add_subscriber("sub1");
    ASSERT_TRUE(ds().add_approval(approval("old", t0())));
    ASSERT_TRUE(ds().add_approval(approval("new", t0() + 1min)));
    auto other = approval("other-eid", t0() + 2min);
    other.eid = eid_b;
    ASSERT_TRUE(ds().add_approval(other));
    auto r = ds().find_approval_for("order-1", eid_a);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->id, "new");
    EXPECT_EQ(ds().find_approval_for("order-2", eid_a).error().code, errc::not_found);
}

TEST_F(defense_store_test, when_approvals_are_listed_then_pending_only_hides_decided_ones) {
    add_subscriber("sub1");
    ASSERT_TRUE(ds().add_approval(approval("a1", t0())));
    ASSERT_TRUE(ds().add_approval(approval("a2", t0() + 1min)));
    auto decided = approval("a1", t0());
    decided.state = approval_state::approved;
    decided.decided_at = t0() + 2min;
    decided.decided_by = "subscriber:sub1";
    ASSERT_TRUE(ds().update_approval(approval("a1", t0()), decided));
    auto all = ds().list_approvals("sub1", false);
    ASSERT_EQ(all->size(), 2u);
    EXPECT_EQ(all->at(0).id, "a2");
    auto pending = ds().list_approvals("sub1", true);
    ASSERT_EQ(pending->size(), 1u);
    EXPECT_EQ(pending->at(0).id, "a2");
    EXPECT_TRUE(ds().list_approvals("sub2", false)->empty());
}

TEST_F(defense_store_test, when_an_approval_is_updated_from_its_read_state_then_it_is_written) {
    add_subscriber("sub1");
    auto a = approval("ap1");
    ASSERT_TRUE(ds().add_approval(a));
    auto next = a;
    next.code_attempts = 1;
    auto r = ds().update_approval(a, next);
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->code_attempts, 1);
    auto done = next;
    done.code_used = true;
    done.state = approval_state::approved;
    done.decided_at = t0() + 1min;
    done.decided_by = "subscriber:sub1";
    auto d = ds().update_approval(next, done);
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->state, approval_state::approved);
    EXPECT_TRUE(d->code_used);
    EXPECT_EQ(d->decided_by, "subscriber:sub1");
    EXPECT_EQ(ds().find_approval("ap1")->decided_at, t0() + 1min);
}

TEST_F(defense_store_test, when_an_approval_changed_meanwhile_then_update_is_a_state_mismatch) {
    add_subscriber("sub1");
    auto a = approval("ap1");
    ASSERT_TRUE(ds().add_approval(a));
    auto tried = a;
    tried.code_attempts = 1;
    ASSERT_TRUE(ds().update_approval(a, tried));
    // A second attempt that read the row before the first wrote it.
    auto also_tried = a;
    also_tried.code_attempts = 1;
    auto r = ds().update_approval(a, also_tried);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, errc::state_mismatch);
    // Same attempts, but used in between: still a mismatch.
    auto used = tried;
    used.code_used = true;
    ASSERT_TRUE(ds().update_approval(tried, used));
    EXPECT_EQ(ds().update_approval(tried, tried).error().code, errc::state_mismatch);
    // State differs.
    auto expired = used;
    expired.state = approval_state::expired;
    ASSERT_TRUE(ds().update_approval(used, expired));
    EXPECT_EQ(ds().update_approval(used, expired).error().code, errc::state_mismatch);

    auto ghost = approval("ghost");
    EXPECT_EQ(ds().update_approval(ghost, ghost).error().code, errc::not_found);
    auto other_id = approval("other");
    EXPECT_EQ(ds().update_approval(a, other_id).error().code, errc::invalid_argument);
}

TEST_F(defense_store_test, when_many_threads_spend_one_approval_code_then_exactly_one_wins) {
    add_subscriber("sub1");
    auto a = approval("ap1");
    ASSERT_TRUE(ds().add_approval(a));
    auto spent = a;
    spent.code_used = true;
    spent.state = approval_state::approved;
    std::atomic<int> wins{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i) {
        threads.emplace_back([&] {
            if (ds().update_approval(a, spent)) {
                ++wins;
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(wins.load(), 1);
}

TEST_F(defense_store_test, when_the_main_store_opens_the_same_file_then_both_work) {
    add_subscriber("sub1");
    auto main = create_sqlite_store(config_);
    ASSERT_TRUE(main.has_value()) << main.error().message;
    reopen();
    EXPECT_TRUE(ds().find_subscriber("sub1").has_value());
}

TEST(approval_state_names, round_trip_and_unknown_is_refused) {
    for (auto s : {approval_state::pending, approval_state::approved, approval_state::refused,
                   approval_state::expired}) {
        EXPECT_EQ(approval_state_from_string(to_string(s)), s);
    }
    EXPECT_FALSE(approval_state_from_string("maybe").has_value());
}

} // namespace
} // namespace esimguard::store::testing
