#include "esimguard/apdu/es10_client.hpp"
#include "esimguard/apdu/transports.hpp"

#include "fake_isd_r.hpp"
#include "fakes/recording_card.hpp"

#include <gtest/gtest.h>

using namespace esimguard;
using namespace esimguard::apdu;

namespace {

/// The recording card behind an in-process transport, with a scripted ISD-R.
struct rig {
    explicit rig(int channel = 1) {
        isd_r.channel_to_open = channel;
        card.set_responder([this](byte_view c) { return isd_r(c); });
    }
    /// The commands sent after the channel was opened (MANAGE CHANNEL, SELECT).
    std::vector<bytes> es10_commands() const {
        return {card.commands.begin() + 2, card.commands.end()};
    }
    test::fake_isd_r isd_r;
    fakes::recording_card card;
    std::unique_ptr<transport> link = create_card_transport(card);
};

} // namespace

TEST(es10_client, open_resets_the_card_opens_a_channel_and_selects_the_isd_r) {
    rig r;
    es10_client client(*r.link);
    ASSERT_TRUE(client.open());
    EXPECT_EQ(r.card.resets, 1);
    EXPECT_EQ(client.channel(), 1);
    ASSERT_EQ(r.card.commands.size(), 2u);
    EXPECT_EQ(r.card.commands[0], (bytes{0x00, 0x70, 0x00, 0x00, 0x01}));
    bytes select{0x01, 0xA4, 0x04, 0x00, 0x10};
    select.insert(select.end(), isd_r_aid.begin(), isd_r_aid.end());
    select.push_back(0x00);
    EXPECT_EQ(r.card.commands[1], select);

    client.close();
    EXPECT_EQ(r.card.commands.back(), (bytes{0x00, 0x70, 0x80, 0x01, 0x00}));
    EXPECT_EQ(r.card.power_offs, 1);
    EXPECT_FALSE(client.is_open());
}

TEST(es10_client, when_command_is_300_bytes_then_it_goes_in_blocks_of_120_120_60) {
    rig r;
    r.isd_r.response = {0xBF, 0x3E, 0x00};
    es10_client client(*r.link);
    ASSERT_TRUE(client.open());
    const bytes command = test::counting_bytes(300);
    auto response = client.call(command);
    ASSERT_TRUE(response) << response.error().detail;
    EXPECT_EQ(*response, r.isd_r.response);

    auto sent = r.es10_commands();
    ASSERT_EQ(sent.size(), 3u);
    const std::uint8_t p1[] = {0x11, 0x11, 0x91};
    const std::size_t lc[] = {120, 120, 60};
    for (std::size_t i = 0; i < 3; ++i) {
        SCOPED_TRACE(i);
        EXPECT_EQ(sent[i][0], 0x81); // CLA: proprietary, channel 1
        EXPECT_EQ(sent[i][1], 0xE2);
        EXPECT_EQ(sent[i][2], p1[i]);
        EXPECT_EQ(sent[i][3], i); // block number
        EXPECT_EQ(sent[i][4], lc[i]);
        EXPECT_EQ(sent[i].size(), 5 + lc[i]);
    }
    EXPECT_EQ(r.isd_r.received, command);
}

TEST(es10_client, when_command_fits_one_block_then_it_is_sent_as_last_block_zero) {
    rig r;
    es10_client client(*r.link);
    ASSERT_TRUE(client.open());
    ASSERT_TRUE(client.call(bytes{0xBF, 0x3E, 0x00}));
    auto sent = r.es10_commands();
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0], (bytes{0x81, 0xE2, 0x91, 0x00, 0x03, 0xBF, 0x3E, 0x00}));
}

TEST(es10_client, when_channel_is_5_then_store_data_uses_the_extended_cla_c1) {
    rig r(5);
    r.isd_r.response = test::counting_bytes(300);
    es10_client client(*r.link);
    ASSERT_TRUE(client.open());
    ASSERT_EQ(r.card.commands[1][0], 0x41); // SELECT on channel 5, inter-industry
    ASSERT_TRUE(client.call(test::counting_bytes(130)));
    auto sent = r.es10_commands();
    ASSERT_GE(sent.size(), 3u);
    EXPECT_EQ(sent[0][0], 0xC1);
    EXPECT_EQ(sent[1][0], 0xC1);
    EXPECT_EQ(sent[2], (bytes{0xC1, 0xC0, 0x00, 0x00, 0x2C})); // GET RESPONSE, 300-256 bytes
}

TEST(es10_client, when_block_size_is_255_then_blocks_carry_255_bytes) {
    rig r;
    es10_client client(*r.link, {.block_size = 255});
    ASSERT_TRUE(client.open());
    ASSERT_TRUE(client.call(test::counting_bytes(256)));
    auto sent = r.es10_commands();
    ASSERT_EQ(sent.size(), 2u);
    EXPECT_EQ(sent[0][4], 255);
    EXPECT_EQ(sent[1][4], 1);
}

TEST(es10_client, when_block_size_is_outside_1_to_255_then_open_fails) {
    for (std::size_t size : {std::size_t{0}, std::size_t{256}}) {
        rig r;
        es10_client client(*r.link, {.block_size = size});
        auto opened = client.open();
        ASSERT_FALSE(opened);
        EXPECT_EQ(opened.error().what, transport_error::code::protocol);
        EXPECT_TRUE(r.card.commands.empty());
    }
}

TEST(es10_client, when_response_exceeds_256_bytes_then_it_is_assembled_through_get_response) {
    rig r;
    r.isd_r.response = test::counting_bytes(700, 7);
    es10_client client(*r.link);
    ASSERT_TRUE(client.open());
    auto response = client.call(bytes{0xBF, 0x2D, 0x00});
    ASSERT_TRUE(response) << response.error().detail;
    EXPECT_EQ(*response, r.isd_r.response);
    auto sent = r.es10_commands();
    ASSERT_EQ(sent.size(), 3u);
    // 444 bytes left after the first piece: Le 00 (256), then 188.
    EXPECT_EQ(sent[1], (bytes{0x81, 0xC0, 0x00, 0x00, 0x00}));
    EXPECT_EQ(sent[2], (bytes{0x81, 0xC0, 0x00, 0x00, 0xBC}));
}

TEST(es10_client, when_card_answers_6a88_then_call_fails_with_that_status_word) {
    rig r;
    r.isd_r.store_data_sw = 0x6A88;
    es10_client client(*r.link);
    ASSERT_TRUE(client.open());
    auto response = client.call(test::counting_bytes(200));
    ASSERT_FALSE(response);
    EXPECT_EQ(response.error().what, transport_error::code::card_error);
    EXPECT_EQ(response.error().status_word, 0x6A88);
    EXPECT_NE(response.error().detail.find("6A88"), std::string::npos);
    // The first refused block ends the command.
    EXPECT_EQ(r.es10_commands().size(), 1u);
}

TEST(es10_client, when_final_status_is_6f00_after_get_response_then_call_fails) {
    rig r;
    r.isd_r.response = test::counting_bytes(300);
    r.isd_r.final_sw = 0x6F00;
    es10_client client(*r.link);
    ASSERT_TRUE(client.open());
    auto response = client.call(bytes{0xBF, 0x2D, 0x00});
    ASSERT_FALSE(response);
    EXPECT_EQ(response.error().status_word, 0x6F00);
    EXPECT_NE(response.error().detail.find("GET RESPONSE"), std::string::npos);
}

TEST(es10_client, when_card_answers_91xx_then_call_succeeds) {
    rig r;
    r.isd_r.response = {0xBF, 0x31, 0x03, 0x80, 0x01, 0x00};
    r.isd_r.final_sw = 0x9110;
    es10_client client(*r.link);
    ASSERT_TRUE(client.open());
    auto response = client.call(bytes{0xBF, 0x31, 0x00});
    ASSERT_TRUE(response);
    EXPECT_EQ(*response, r.isd_r.response);
}

TEST(es10_client, when_select_is_refused_then_open_fails_and_the_channel_is_closed) {
    rig r;
    r.isd_r.select_sw = 0x6A82;
    es10_client client(*r.link);
    auto opened = client.open();
    ASSERT_FALSE(opened);
    EXPECT_EQ(opened.error().what, transport_error::code::no_channel);
    EXPECT_EQ(opened.error().status_word, 0x6A82);
    EXPECT_EQ(r.card.commands.back(), (bytes{0x00, 0x70, 0x80, 0x01, 0x00}));
    EXPECT_FALSE(client.is_open());
}

TEST(es10_client, when_not_open_then_call_fails_as_not_connected) {
    rig r;
    es10_client client(*r.link);
    auto response = client.call(bytes{0xBF, 0x3E, 0x00});
    ASSERT_FALSE(response);
    EXPECT_EQ(response.error().what, transport_error::code::not_connected);
    EXPECT_TRUE(r.card.commands.empty());
}

TEST(es10_client, when_response_has_no_status_word_then_call_fails_as_protocol_error) {
    rig r;
    es10_client client(*r.link);
    ASSERT_TRUE(client.open());
    r.card.set_responder([](byte_view) { return bytes{0x90}; });
    auto response = client.call(bytes{0xBF, 0x3E, 0x00});
    ASSERT_FALSE(response);
    EXPECT_EQ(response.error().what, transport_error::code::protocol);
}

TEST(es10_client, when_command_needs_more_than_256_blocks_then_it_is_refused_unsent) {
    rig r;
    es10_client client(*r.link, {.block_size = 1});
    ASSERT_TRUE(client.open());
    auto response = client.call(test::counting_bytes(257));
    ASSERT_FALSE(response);
    EXPECT_EQ(response.error().what, transport_error::code::protocol);
    EXPECT_TRUE(r.es10_commands().empty());
}
