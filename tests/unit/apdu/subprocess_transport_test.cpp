// The subprocess transport against small shell children that misbehave in
// chosen ways; the real card program is driven in euicc_stdio_test.cpp.

#include "esimguard/apdu/transports.hpp"

#include <gtest/gtest.h>

using namespace esimguard;
using namespace esimguard::apdu;
using namespace std::chrono_literals;

namespace {

std::unique_ptr<transport> shell_child(std::string script, std::chrono::milliseconds timeout = 5s) {
    return create_subprocess_transport(
        {.argv = {"/bin/sh", "-c", std::move(script)}, .timeout = timeout});
}

bool contains(const std::string& text, std::string_view part) {
    return text.find(part) != std::string::npos;
}

} // namespace

TEST(subprocess_transport, answers_are_read_line_by_line) {
    // Answers connect, then every transmit with a fixed R-APDU.
    auto link = shell_child(R"(read l; echo '{"type":"apdu","payload":{"ecode":0}}';
        while read l; do echo '{"type":"apdu","payload":{"ecode":0,"data":"BF3E009000"}}'; done)");
    ASSERT_TRUE(link->connect());
    for (int i = 0; i < 3; ++i) {
        auto r = link->transmit(bytes{0x80, 0xE2, 0x91, 0x00, 0x03, 0xBF, 0x3E, 0x00});
        ASSERT_TRUE(r) << r.error().detail;
        EXPECT_EQ(*r, (bytes{0xBF, 0x3E, 0x00, 0x90, 0x00}));
    }
    link->disconnect();
}

TEST(subprocess_transport, requests_are_lpac_json_lines) {
    // The child echoes the request it got as the hex data of its answer.
    auto link = shell_child(R"sh(read l; echo '{"type":"apdu","payload":{"ecode":0}}';
        read l; hex=$(printf %s "$l" | od -An -tx1 | tr -d ' \n');
        printf '{"type":"apdu","payload":{"ecode":0,"data":"%s"}}\n' "$hex")sh");
    ASSERT_TRUE(link->connect());
    auto r = link->transmit(bytes{0x00, 0xA4});
    ASSERT_TRUE(r) << r.error().detail;
    const std::string sent(r->begin(), r->end());
    EXPECT_EQ(sent, R"({"payload":{"func":"transmit","param":"00A4"},"type":"apdu"})");
}

TEST(subprocess_transport, logic_channel_open_returns_the_ecode_as_channel) {
    auto link = shell_child(R"(read l; echo '{"type":"apdu","payload":{"ecode":0}}';
        read l; echo '{"type":"apdu","payload":{"ecode":3}}'; read l; echo '{"type":"apdu","payload":{"ecode":-1}}')");
    ASSERT_TRUE(link->connect());
    EXPECT_EQ(link->open_logical_channel(isd_r_aid), 3);
    auto refused = link->open_logical_channel(isd_r_aid);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().what, transport_error::code::no_channel);
}

TEST(subprocess_transport, when_the_child_exits_then_the_error_names_its_exit_status) {
    auto link = shell_child("read l; exit 3");
    auto r = link->connect();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().what, transport_error::code::io);
    EXPECT_TRUE(contains(r.error().detail, "exited with status 3")) << r.error().detail;
    // Not running any more: further calls fail cleanly.
    EXPECT_EQ(link->transmit(bytes{0x00, 0xA4, 0x04, 0x00}).error().what,
              transport_error::code::not_connected);
}

TEST(subprocess_transport, when_the_child_is_silent_then_the_call_times_out) {
    auto link = shell_child("exec sleep 30", 300ms);
    const auto start = std::chrono::steady_clock::now();
    auto r = link->connect();
    ASSERT_FALSE(r);
    EXPECT_TRUE(contains(r.error().detail, "no answer within 300 ms")) << r.error().detail;
    // The child was ended (SIGTERM after stdin closed), not waited for.
    EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
}

TEST(subprocess_transport, when_the_child_answers_garbage_then_the_call_fails_as_protocol_error) {
    auto link = shell_child("exec cat");
    auto r = link->connect();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().what, transport_error::code::protocol);
}

TEST(subprocess_transport, when_the_program_does_not_exist_then_connect_says_so) {
    auto link = create_subprocess_transport({.argv = {"/nonexistent/esimguard-euicc"}});
    auto r = link->connect();
    ASSERT_FALSE(r);
    EXPECT_TRUE(contains(r.error().detail, "/nonexistent/esimguard-euicc")) << r.error().detail;
}
