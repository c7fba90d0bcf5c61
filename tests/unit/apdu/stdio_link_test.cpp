#include "esimguard/apdu/links.hpp"

#include "fake_isd_r.hpp"
#include "fakes/recording_card.hpp"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include <sstream>

using namespace esimguard;
using namespace esimguard::apdu;
using json = nlohmann::json;

namespace {

std::string request(std::string_view func, std::optional<std::string> param = std::nullopt) {
    json payload = {{"func", func}, {"param", nullptr}};
    if (param) {
        payload["param"] = *param;
    }
    return json{{"type", "apdu"}, {"payload", payload}}.dump();
}

/// The payload of an answer line; fails the test when it is not lpac's shape.
json payload_of(const std::string& line) {
    json j = json::parse(line, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << line;
    EXPECT_EQ(j.value("type", ""), "apdu") << line;
    EXPECT_TRUE(j.contains("payload") && j["payload"]["ecode"].is_number_integer()) << line;
    return j["payload"];
}

struct rig {
    rig() {
        isd_r.channel_to_open = 2;
        card.set_responder([this](byte_view c) { return isd_r(c); });
    }
    test::fake_isd_r isd_r;
    fakes::recording_card card;
    stdio_link link{card};
};

} // namespace

TEST(stdio_link, connect_resets_the_card_and_answers_ecode_0) {
    rig r;
    EXPECT_EQ(payload_of(r.link.answer(request("connect")))["ecode"], 0);
    EXPECT_EQ(r.card.resets, 1);
    EXPECT_EQ(payload_of(r.link.answer(request("disconnect")))["ecode"], 0);
    EXPECT_EQ(r.card.power_offs, 1);
}

TEST(stdio_link, logic_channel_open_answers_the_channel_number_as_ecode) {
    rig r;
    auto answer = payload_of(r.link.answer(request("logic_channel_open", to_hex(isd_r_aid))));
    EXPECT_EQ(answer["ecode"], 2);
    ASSERT_EQ(r.card.commands.size(), 2u);
    EXPECT_EQ(r.card.commands[0], (bytes{0x00, 0x70, 0x00, 0x00, 0x01}));
    EXPECT_EQ(r.card.commands[1][0], 0x02);
    EXPECT_EQ(r.card.commands[1][1], 0xA4);
}

TEST(stdio_link, when_select_is_refused_then_logic_channel_open_answers_minus_1) {
    rig r;
    r.isd_r.select_sw = 0x6A82;
    auto answer = payload_of(r.link.answer(request("logic_channel_open", to_hex(isd_r_aid))));
    EXPECT_EQ(answer["ecode"], -1);
}

TEST(stdio_link, transmit_answers_the_response_apdu_in_hex) {
    rig r;
    r.isd_r.response = {0xBF, 0x3E, 0x03, 0x5A, 0x01, 0x89};
    auto answer = payload_of(r.link.answer(request("transmit", "82E2910003BF3E00")));
    EXPECT_EQ(answer["ecode"], 0);
    EXPECT_EQ(answer["data"], "BF3E035A01899000");
    ASSERT_EQ(r.card.commands.size(), 1u);
    EXPECT_EQ(r.card.commands[0], (bytes{0x82, 0xE2, 0x91, 0x00, 0x03, 0xBF, 0x3E, 0x00}));
}

TEST(stdio_link, logic_channel_close_sends_manage_channel_close) {
    rig r;
    auto answer = payload_of(r.link.answer(request("logic_channel_close", "02")));
    EXPECT_EQ(answer["ecode"], 0);
    ASSERT_EQ(r.card.commands.size(), 1u);
    EXPECT_EQ(r.card.commands[0], (bytes{0x00, 0x70, 0x80, 0x02, 0x00}));
}

TEST(stdio_link, malformed_requests_are_answered_with_ecode_minus_1_and_reach_no_card) {
    rig r;
    const std::string bad[] = {
        "not json",
        "{}",
        "[1,2]",
        R"({"type":"http","payload":{"func":"connect"}})",
        R"({"type":"apdu"})",
        R"({"type":"apdu","payload":{"func":7}})",
        R"({"type":"apdu","payload":{"func":"format_card","param":null}})",
        R"({"type":"apdu","payload":{"func":"transmit","param":"XYZ"}})",
        R"({"type":"apdu","payload":{"func":"transmit","param":"123"}})",
        R"({"type":"apdu","payload":{"func":"transmit","param":12}})",
        R"({"type":"apdu","payload":{"func":"transmit","param":null}})",
        R"({"type":"apdu","payload":{"func":"logic_channel_close","param":"0102"}})",
        R"({"type":"apdu","payload":{"func":"logic_channel_open","param":null}})",
    };
    for (const auto& line : bad) {
        SCOPED_TRACE(line);
        EXPECT_EQ(payload_of(r.link.answer(line))["ecode"], -1);
    }
    EXPECT_TRUE(r.card.commands.empty());
    EXPECT_EQ(r.card.resets, 0);
}

TEST(stdio_link, when_a_garbage_line_comes_between_requests_then_the_loop_answers_all_three) {
    rig r;
    std::istringstream in(request("connect") + "\n{garbage\n" +
                          request("transmit", "80E2910003BF3E00") + "\n");
    std::ostringstream out;
    r.link.run(in, out);

    std::istringstream lines(out.str());
    std::vector<std::string> answers;
    for (std::string l; std::getline(lines, l);) {
        answers.push_back(l);
    }
    ASSERT_EQ(answers.size(), 3u);
    EXPECT_EQ(payload_of(answers[0])["ecode"], 0);
    EXPECT_EQ(payload_of(answers[1])["ecode"], -1);
    EXPECT_EQ(payload_of(answers[2])["ecode"], 0);
    EXPECT_EQ(payload_of(answers[2])["data"], "9000");
}

TEST(stdio_link, when_a_line_is_too_long_then_it_is_refused_and_the_next_is_answered) {
    rig r;
    std::istringstream in(std::string(5000, 'x') + "\n\r\n" + request("connect") + "\r\n");
    std::ostringstream out;
    r.link.run(in, out, 1000);
    EXPECT_EQ(out.str(), R"({"payload":{"ecode":-1},"type":"apdu"})"
                         "\n"
                         R"({"payload":{"ecode":0},"type":"apdu"})"
                         "\n");
    EXPECT_EQ(r.card.resets, 1);
}

TEST(stdio_link, when_input_ends_without_newline_then_the_last_line_is_still_answered) {
    rig r;
    std::istringstream in(request("connect"));
    std::ostringstream out;
    r.link.run(in, out);
    EXPECT_EQ(payload_of(out.str().substr(0, out.str().size() - 1))["ecode"], 0);
}
