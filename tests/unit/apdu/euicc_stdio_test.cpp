// End to end through a real process: the subprocess transport starts the
// esimguard-euicc binary in --stdio mode and es10_client speaks ES10 to it,
// as lpac with LPAC_APDU=stdio would.

#include "esimguard/apdu/es10_client.hpp"
#include "esimguard/apdu/transports.hpp"
#include "esimguard/asn1/euicc_info.hpp"
#include "esimguard/crypto/x509.hpp"
#include "esimguard/pki/eid.hpp"
#include "esimguard/pki/test_pki.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>

using namespace esimguard;
using namespace esimguard::apdu;
namespace fs = std::filesystem;

namespace {

class euicc_stdio : public ::testing::Test {
protected:
    void SetUp() override {
        std::random_device rd;
        dir_ = fs::temp_directory_path() / ("esimguard-apdu-" + std::to_string(rd()));
        fs::create_directories(dir_);
        pki::test_pki_options o;
        o.dir = dir_ / "pki";
        o.curves = pki::curve_set::nist;
        o.now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
        auto written = pki::init_test_pki(o);
        ASSERT_TRUE(written) << written.error().detail;
        eid_ = *pki::eid_with_check_digits("890490320000000000000000004242");
    }
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }

    std::unique_ptr<transport> card_process() {
        return create_subprocess_transport(
            {.argv = {ESIMGUARD_EUICC_BIN, "--state", (dir_ / "state.json").string(), "--stdio",
                      "--pki", (dir_ / "pki").string(), "--eid", eid_, "--log-level", "warn"},
             .timeout = std::chrono::seconds(20)});
    }

    fs::path dir_;
    std::string eid_;
};

} // namespace

TEST_F(euicc_stdio, get_eid_through_the_subprocess_returns_the_cards_eid) {
    auto link = card_process();
    es10_client client(*link);
    auto opened = client.open();
    ASSERT_TRUE(opened) << opened.error().detail;
    EXPECT_GE(client.channel(), 1);

    auto response = client.call(bytes{0xBF, 0x3E, 0x03, 0x5C, 0x01, 0x5A});
    ASSERT_TRUE(response) << response.error().detail;
    // GetEuiccDataResponse: BF3E 12 { 5A 10 EID }
    ASSERT_EQ(response->size(), 21u) << to_hex(*response);
    EXPECT_EQ(to_hex(byte_view(*response).first(5)), "bf3e125a10");
    EXPECT_EQ(to_hex(byte_view(*response).subspan(5)), eid_);
    client.close();
}

TEST_F(euicc_stdio, get_euicc_info1_through_the_subprocess_names_the_test_ci) {
    auto link = card_process();
    es10_client client(*link);
    ASSERT_TRUE(client.open());

    auto response = client.call(bytes{0xBF, 0x20, 0x00});
    ASSERT_TRUE(response) << response.error().detail;
    auto info = asn1::decode_euicc_info1(*response);
    ASSERT_TRUE(info) << to_hex(*response);
    EXPECT_EQ(info->svn[0], 2);

    std::ifstream in(dir_ / "pki" / "nist" / "ci.der", std::ios::binary);
    const bytes ci_der{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    auto ci = crypto::certificate::from_der(ci_der);
    ASSERT_TRUE(ci);
    ASSERT_EQ(info->ci_pkid_list_for_verification.size(), 1u);
    EXPECT_EQ(info->ci_pkid_list_for_verification[0], ci->subject_key_id());
}

TEST_F(euicc_stdio, a_second_run_finds_the_card_by_its_state_file_alone) {
    {
        auto link = card_process();
        es10_client client(*link);
        ASSERT_TRUE(client.open());
    }
    auto link = create_subprocess_transport(
        {.argv = {ESIMGUARD_EUICC_BIN, "--state", (dir_ / "state.json").string(), "--stdio",
                  "--log-level", "warn"}});
    es10_client client(*link);
    ASSERT_TRUE(client.open());
    auto response = client.call(bytes{0xBF, 0x3E, 0x03, 0x5C, 0x01, 0x5A});
    ASSERT_TRUE(response) << response.error().detail;
    EXPECT_EQ(to_hex(byte_view(*response).subspan(5)), eid_);
}

TEST_F(euicc_stdio, when_a_new_card_has_no_pki_then_the_program_exits_and_the_error_says_so) {
    auto link = create_subprocess_transport(
        {.argv = {ESIMGUARD_EUICC_BIN, "--state", (dir_ / "other.json").string(), "--stdio",
                  "--log-level", "off"}});
    auto connected = link->connect();
    ASSERT_FALSE(connected);
    EXPECT_NE(connected.error().detail.find("exited with status 1"), std::string::npos)
        << connected.error().detail;
}
