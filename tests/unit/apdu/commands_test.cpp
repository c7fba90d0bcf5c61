#include "esimguard/apdu/commands.hpp"

#include <gtest/gtest.h>

using namespace esimguard;
using namespace esimguard::apdu;

TEST(apdu_commands, channels_0_to_3_are_coded_in_the_low_two_bits) {
    EXPECT_EQ(class_byte(0x80, 0), 0x80);
    EXPECT_EQ(class_byte(0x80, 3), 0x83);
    EXPECT_EQ(class_byte(0x00, 2), 0x02);
}

TEST(apdu_commands, channels_4_to_19_use_the_further_encoding) {
    EXPECT_EQ(class_byte(0x80, 4), 0xC0);
    EXPECT_EQ(class_byte(0x80, 19), 0xCF);
    EXPECT_EQ(class_byte(0x00, 5), 0x41);
}

TEST(apdu_commands, channel_outside_0_to_19_has_no_class_byte) {
    EXPECT_FALSE(class_byte(0x80, 20));
    EXPECT_FALSE(class_byte(0x80, -1));
}

TEST(apdu_commands, manage_channel_and_select_are_coded_as_iso_7816_4) {
    EXPECT_EQ(manage_channel_open(), (bytes{0x00, 0x70, 0x00, 0x00, 0x01}));
    EXPECT_EQ(manage_channel_close(2), (bytes{0x00, 0x70, 0x80, 0x02, 0x00}));
    EXPECT_EQ(select_by_aid(1, bytes{0xA0, 0x01}),
              (bytes{0x01, 0xA4, 0x04, 0x00, 0x02, 0xA0, 0x01, 0x00}));
    EXPECT_FALSE(select_by_aid(1, bytes(17, 0xA0)));
}

TEST(apdu_commands, store_data_refuses_more_than_255_bytes) {
    EXPECT_TRUE(store_data(1, true, 0, bytes(255, 1)));
    EXPECT_FALSE(store_data(1, true, 0, bytes(256, 1)));
}

TEST(apdu_commands, status_word_is_the_last_two_bytes) {
    EXPECT_EQ(status_word(bytes{0x01, 0x6A, 0x88}), 0x6A88);
    EXPECT_FALSE(status_word(bytes{0x90}));
    EXPECT_EQ(response_data(bytes{0x01, 0x02, 0x90, 0x00}).size(), 2u);
    EXPECT_EQ(status_word_hex(0x6a88), "6A88");
}
