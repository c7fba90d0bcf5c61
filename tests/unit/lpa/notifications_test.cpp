// Notification handling (SGP.22 §3.5): each pending notification goes to its
// own notificationAddress and leaves the card only once the SM-DP+ has it.

#include "scenario.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace esimguard::lpa_test {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

TEST(lpa_notifications, when_processing_then_each_goes_to_its_address_and_is_removed_after) {
    scenario s;
    s.pending[3] = other_notification(3, "a.example.test", asn1::notification_enable);
    s.pending[4] = other_notification(4, "b.example.test:9443", asn1::notification_delete);
    lpa::lpa l(*s.es10, s.server);

    auto r = l.process_notifications();

    ASSERT_TRUE(r.has_value()) << r.error().message;
    ASSERT_EQ(r->size(), 2u);
    EXPECT_TRUE((*r)[0].sent && (*r)[0].removed);
    EXPECT_TRUE((*r)[1].sent && (*r)[1].removed);
    ASSERT_EQ(s.server.calls.size(), 2u);
    EXPECT_EQ(s.server.calls[0].address, "a.example.test");
    EXPECT_EQ(s.server.calls[1].address, "b.example.test:9443");
    // Forwarded byte for byte, as the eUICC signed them.
    EXPECT_EQ(s.server.handle_notification_requests[0].pending_notification_der,
              other_notification(3, "a.example.test", asn1::notification_enable));
    EXPECT_THAT(s.removed, ElementsAre(3u, 4u));
    EXPECT_TRUE(s.pending.empty());
    // Each removal follows its own delivery.
    EXPECT_THAT(s.card->tags(), ElementsAre(0xBF2B, 0xBF30, 0xBF30));
}

TEST(lpa_notifications, when_one_server_is_down_then_its_notification_stays_and_others_go) {
    scenario s;
    s.pending[3] = other_notification(3, "down.example.test", asn1::notification_enable);
    s.pending[4] = other_notification(4, "up.example.test", asn1::notification_disable);
    s.server.refuse_notifications_to = "down.example.test";
    lpa::lpa l(*s.es10, s.server);

    auto r = l.process_notifications();

    ASSERT_TRUE(r.has_value());
    ASSERT_EQ(r->size(), 2u);
    EXPECT_FALSE((*r)[0].sent);
    EXPECT_FALSE((*r)[0].removed);
    ASSERT_TRUE((*r)[0].failure.has_value());
    EXPECT_EQ((*r)[0].failure->code, lpa::errc::server_transport);
    EXPECT_TRUE((*r)[1].removed);
    EXPECT_THAT(s.removed, ElementsAre(4u));
    EXPECT_EQ(s.pending.count(3), 1u);
}

TEST(lpa_notifications, when_one_sequence_number_is_asked_then_only_that_one_is_sent) {
    scenario s;
    s.pending[3] = other_notification(3, "a.example.test", asn1::notification_enable);
    s.pending[4] = other_notification(4, "b.example.test", asn1::notification_delete);
    lpa::lpa l(*s.es10, s.server);

    auto r = l.process_notifications(4);

    ASSERT_TRUE(r.has_value());
    ASSERT_EQ(r->size(), 1u);
    EXPECT_EQ((*r)[0].seq_number, 4u);
    EXPECT_EQ((*r)[0].iccid, test_iccid().to_string());
    EXPECT_THAT(s.removed, ElementsAre(4u));
    EXPECT_EQ(s.pending.count(3), 1u);
}

TEST(lpa_notifications, when_none_are_pending_then_nothing_is_sent) {
    scenario s;
    lpa::lpa l(*s.es10, s.server);

    auto r = l.process_notifications();

    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(r->empty());
    EXPECT_TRUE(s.server.calls.empty());
}

TEST(lpa_notifications, when_listing_then_every_pending_notification_is_shown) {
    scenario s;
    s.pending[3] = other_notification(3, "a.example.test", asn1::notification_enable);
    s.pending[9] = other_notification(9, "b.example.test", asn1::notification_delete);
    lpa::lpa l(*s.es10, s.server);

    auto r = l.list_notifications();

    ASSERT_TRUE(r.has_value());
    ASSERT_EQ(r->size(), 2u);
    EXPECT_EQ((*r)[0].seq_number, 3u);
    EXPECT_EQ((*r)[1].notification_address, "b.example.test");
    EXPECT_TRUE(s.server.calls.empty());
}

TEST(lpa_notifications, when_removing_without_sending_then_card_drops_it_and_server_hears_nothing) {
    scenario s;
    s.pending[5] = other_notification(5, "a.example.test", asn1::notification_enable);
    lpa::lpa l(*s.es10, s.server);

    ASSERT_TRUE(l.remove_notification(5).has_value());
    EXPECT_TRUE(s.pending.empty());
    EXPECT_TRUE(s.server.calls.empty());

    auto again = l.remove_notification(5);
    ASSERT_FALSE(again.has_value());
    EXPECT_EQ(again.error().code, lpa::errc::card_refused);
    EXPECT_EQ(again.error().card_code, 1u);
}

} // namespace
} // namespace esimguard::lpa_test
