// The persistence adapters over a real SQLite defence store: the blocklist
// and stolen list survive a restart (a new blocklist loading the same file),
// removal is idempotent, and alerts go to and come back from the inbox.

#include "esimguard/defense/persist.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>

#include <unistd.h>

namespace esimguard::defense {
namespace {

using namespace std::chrono_literals;

const risk_time_point t0{std::chrono::seconds(1704067200)};
const std::string eid_a = "89049032123451234512345678901235";

class persist_test : public ::testing::Test {
protected:
    void SetUp() override {
        static std::atomic<int> counter{0};
        dir_ =
            std::filesystem::temp_directory_path() /
            ("esimguard-persist-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
        reopen();
    }
    void TearDown() override {
        db_.reset();
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    void reopen() {
        db_.reset();
        auto d = store::create_sqlite_defense_store({(dir_ / "db.sqlite").string()});
        ASSERT_TRUE(d.has_value()) << d.error().message;
        db_ = std::move(*d);
    }

    risk_clock clock() {
        return [this] { return now_; };
    }

    std::filesystem::path dir_;
    std::unique_ptr<store::defense_store> db_;
    risk_time_point now_ = t0;
};

TEST_F(persist_test, when_blocks_are_added_then_a_new_blocklist_on_the_same_file_loads_them) {
    auto st = create_persistent_blocklist_store(*db_);
    blocklist bl(clock(), st.get());
    ASSERT_TRUE(bl.add({block_kind::ip, "192.0.2.7", "guessing", t0, t0 + 1h, "risk:guess"}));
    ASSERT_TRUE(
        bl.add({block_kind::ip_prefix, "10.1.2.3/8", "abuse", t0, std::nullopt, "admin:a"}));
    ASSERT_TRUE(bl.add({block_kind::eum, "89049032", "bad batch", t0, std::nullopt, "admin:a"}));

    reopen();
    auto st2 = create_persistent_blocklist_store(*db_);
    blocklist restarted(clock(), st2.get());
    auto n = restarted.load();
    ASSERT_TRUE(n.has_value());
    EXPECT_EQ(*n, 3u);
    EXPECT_TRUE(restarted.match_ip("192.0.2.7").has_value());
    // The prefix was stored canonical (host bits cleared).
    auto net = restarted.match_ip("10.200.0.1");
    ASSERT_TRUE(net.has_value());
    EXPECT_EQ(net->value, "10.0.0.0/8");
    EXPECT_TRUE(restarted.match_eid(eid_a).has_value());
    EXPECT_FALSE(restarted.match_ip("192.0.2.8").has_value());

    // Expired entries are not loaded.
    now_ = t0 + 2h;
    ASSERT_TRUE(restarted.load());
    EXPECT_FALSE(restarted.match_ip("192.0.2.7").has_value());
}

TEST_F(persist_test, when_a_block_is_removed_then_it_stays_removed_and_a_second_remove_is_fine) {
    auto st = create_persistent_blocklist_store(*db_);
    blocklist bl(clock(), st.get());
    ASSERT_TRUE(bl.add({block_kind::eid, eid_a, "", t0, std::nullopt, "admin:a"}));
    auto r = bl.remove(block_kind::eid, eid_a);
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(*r);
    auto again = bl.remove(block_kind::eid, eid_a);
    ASSERT_TRUE(again.has_value());
    EXPECT_FALSE(*again);
    EXPECT_TRUE(db_->load_blocklist()->empty());
}

TEST_F(persist_test, when_a_device_is_reported_stolen_then_a_restart_still_knows_it) {
    auto st = create_persistent_stolen_devices_store(*db_);
    stolen_devices sd(st.get());
    ASSERT_TRUE(sd.add({eid_a, "lost", t0, "subscriber:s1"}));
    reopen();
    auto st2 = create_persistent_stolen_devices_store(*db_);
    stolen_devices restarted(st2.get());
    ASSERT_EQ(restarted.load().value_or(0), 1u);
    auto d = restarted.find(eid_a);
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->reason, "lost");
    EXPECT_EQ(d->reported_by, "subscriber:s1");
    ASSERT_TRUE(restarted.remove(eid_a));
    ASSERT_TRUE(restarted.remove(eid_a));
    EXPECT_TRUE(db_->load_stolen()->empty());
}

alert make_alert(std::string id, alert_severity sev, risk_time_point at,
                 std::string subscriber = "s1") {
    alert a;
    a.id = std::move(id);
    a.time = at;
    a.severity = sev;
    a.rule = "stolen_eid";
    a.summary = "download to a stolen device";
    a.evidence.eid = eid_a;
    a.evidence.iccid = "89440000000000010001";
    a.evidence.count = 1;
    a.subscriber = alert_party{subscriber, "alice@example.org"};
    a.operator_party = alert_party{"op1", ""};
    return a;
}

TEST_F(persist_test, when_alerts_are_appended_then_recent_returns_them_newest_first_with_filters) {
    persistent_alert_inbox inbox(*db_);
    inbox.append(make_alert("a1", alert_severity::info, t0));
    inbox.append(make_alert("a2", alert_severity::critical, t0 + 1s));
    inbox.append(make_alert("a3", alert_severity::warning, t0 + 2s, "s2"));
    EXPECT_EQ(inbox.write_failures(), 0u);

    auto all = inbox.recent({});
    ASSERT_EQ(all.size(), 3u);
    EXPECT_EQ(all[0].id, "a3");
    EXPECT_EQ(all[2].id, "a1");
    EXPECT_EQ(all[2].evidence.eid, eid_a);
    EXPECT_EQ(all[2].time, t0);

    alert_inbox::query warn;
    warn.min_severity = alert_severity::warning;
    auto w = inbox.recent(warn);
    ASSERT_EQ(w.size(), 2u);
    EXPECT_EQ(w[0].id, "a3");
    EXPECT_EQ(w[1].id, "a2");

    alert_inbox::query s1;
    s1.subscriber_id = "s1";
    EXPECT_EQ(inbox.recent(s1).size(), 2u);

    // The row keeps the filter columns, and no mail address.
    auto rows = db_->list_alerts({});
    ASSERT_EQ(rows->size(), 3u);
    EXPECT_EQ(rows->at(2).subscriber_id, "s1");
    EXPECT_EQ(rows->at(2).operator_id, "op1");
    EXPECT_EQ(rows->at(2).iccid, "89440000000000010001");
    EXPECT_EQ(rows->at(2).json.find("alice@"), std::string::npos);
}

TEST_F(persist_test, when_an_alert_id_is_stored_twice_then_the_inbox_counts_a_write_failure) {
    persistent_alert_inbox inbox(*db_);
    inbox.append(make_alert("a1", alert_severity::info, t0));
    inbox.append(make_alert("a1", alert_severity::info, t0));
    EXPECT_EQ(inbox.write_failures(), 1u);
    EXPECT_EQ(inbox.recent({}).size(), 1u);
}

TEST_F(persist_test, when_the_inbox_channel_delivers_twice_then_the_retry_counts_as_delivered) {
    auto ch = create_persistent_inbox_channel(*db_);
    EXPECT_EQ(ch->name(), "inbox");
    auto a = make_alert("", alert_severity::critical, t0);
    a.id = make_alert_id();
    EXPECT_EQ(ch->deliver(a).status, delivery_status::delivered);
    EXPECT_EQ(ch->deliver(a).status, delivery_status::delivered);
    EXPECT_EQ(db_->list_alerts({})->size(), 1u);
}

TEST_F(persist_test, when_an_alert_has_no_id_then_the_row_gets_one_matching_its_json) {
    auto row = alert_to_row(make_alert("", alert_severity::warning, t0));
    EXPECT_EQ(row.id.size(), 32u);
    auto back = alert_from_row(row);
    ASSERT_TRUE(back.has_value()) << back.error();
    EXPECT_EQ(back->id, row.id);
    EXPECT_EQ(back->severity, alert_severity::warning);
}

} // namespace
} // namespace esimguard::defense
