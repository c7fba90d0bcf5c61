// The LPA against the real simulated eUICC (in process, over APDUs) and a
// fake SM-DP+ that does the real cryptography: a whole download installs a
// profile, notifications leave the card only once delivered.

#include "esimguard/apdu/transports.hpp"
#include "esimguard/euicc/euicc.hpp"
#include "esimguard/lpa/lpa.hpp"
#include "esimguard/pki/test_pki.hpp"
#include "fakes/fake_es9p_signing_server.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <unistd.h>

namespace esimguard::lpa_test {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;

const std::string eid = "89049032123451234512345678901235";

struct simulated_device {
    fs::path dir;
    crypto::sys_seconds now =
        std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    std::unique_ptr<euicc::euicc> chip;
    std::unique_ptr<apdu::card> card;
    std::unique_ptr<apdu::transport> link;
    std::unique_ptr<apdu::es10_client> es10;
    std::unique_ptr<fakes::fake_es9p_signing_server> server;

    simulated_device() {
        static std::atomic<int> n{0};
        dir = fs::temp_directory_path() /
              ("lpa-test-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
        fs::remove_all(dir);
        fs::create_directories(dir);
        pki::test_pki_options o;
        o.dir = dir;
        o.curves = pki::curve_set::nist;
        o.now = now;
        o.overwrite = true;
        EXPECT_TRUE(pki::init_test_pki(o).has_value());
        EXPECT_TRUE(pki::issue_euicc(dir, eid, crypto::curve::nist_p256, now).has_value());
        auto config = euicc::load_euicc_from_pki(dir, crypto::curve::nist_p256, eid).value();
        const auto at = now;
        config.clock = [at] { return at; };
        chip = euicc::create_euicc(std::move(config), dir / "state.json").value();
        card = euicc::create_euicc_card(*chip);
        link = apdu::create_card_transport(*card);
        es10 = std::make_unique<apdu::es10_client>(*link);

        server = std::make_unique<fakes::fake_es9p_signing_server>(dir / "nist", eid);
        server->metadata.iccid = *asn1::iccid_value::parse("89049032000000000018");
        server->metadata.service_provider_name = "esimguard";
        server->metadata.profile_name = "Simulated";
        server->metadata.notification_configuration_info =
            std::vector<asn1::notification_configuration_information>{
                {asn1::bit_string::from_bits({asn1::notification_install, asn1::notification_enable,
                                              asn1::notification_disable,
                                              asn1::notification_delete}),
                 "notify.example.test",
                 {}}};
        server->profile.resize(3000);
        for (std::size_t i = 0; i < server->profile.size(); ++i) {
            server->profile[i] = static_cast<std::uint8_t>(i * 13 + 1);
        }
    }
    ~simulated_device() {
        es10.reset();
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
};

TEST(lpa_simulated_euicc, when_asked_for_chip_info_then_the_simulators_eid_is_shown) {
    simulated_device d;
    lpa::lpa l(*d.es10, *d.server);

    auto info = l.get_chip_info();

    ASSERT_TRUE(info.has_value()) << info.error().message;
    EXPECT_EQ(info->eid, eid);
    EXPECT_FALSE(info->info1.ci_pkid_list_for_verification.empty());
}

TEST(lpa_simulated_euicc, when_downloading_with_a_confirmation_code_then_the_profile_is_installed) {
    simulated_device d;
    d.server->confirmation_code = "4711";
    lpa::lpa l(*d.es10, *d.server);
    lpa::download_callbacks cb;
    int asked = 0;
    cb.confirmation_code = [&]() -> std::optional<std::string> {
        ++asked;
        return "4711";
    };
    std::size_t last_done = 0, last_total = 1;
    cb.progress = [&](std::size_t done, std::size_t total) {
        last_done = done;
        last_total = total;
    };

    auto r = l.download_profile(lpa::download_request{.smdp_address = "smdp.example.test",
                                                      .matching_id = "SIM-1",
                                                      .confirmation_code = {}},
                                cb);

    ASSERT_TRUE(r.has_value()) << lpa::describe(r.error());
    EXPECT_EQ(asked, 1);
    EXPECT_EQ(last_done, last_total);
    EXPECT_EQ(d.server->matching_id_seen, "SIM-1");
    EXPECT_THAT(d.server->functions, ElementsAre("initiateAuthentication", "authenticateClient",
                                                 "getBoundProfilePackage", "handleNotification"));
    // The installation result goes back to the SM-DP+ that served the profile.
    EXPECT_THAT(d.server->notification_addresses, ElementsAre("smdp.example.test"));
    EXPECT_TRUE(r->notification_sent);
    EXPECT_TRUE(d.chip->notifications().empty());
    ASSERT_EQ(d.chip->profiles().size(), 1u);
    EXPECT_EQ(d.chip->profiles()[0].iccid, "89049032000000000018");

    auto list = l.list_profiles();
    ASSERT_TRUE(list.has_value());
    ASSERT_EQ(list->size(), 1u);
    EXPECT_EQ((*list)[0].profile_name, "Simulated");
}

TEST(lpa_simulated_euicc, when_the_confirmation_code_is_wrong_then_the_card_session_is_cancelled) {
    simulated_device d;
    d.server->confirmation_code = "4711";
    lpa::lpa l(*d.es10, *d.server);
    auto r = l.download_profile(lpa::download_request{
        .smdp_address = "smdp.example.test", .matching_id = "SIM-1", .confirmation_code = "0000"});

    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, lpa::errc::server_refused);
    EXPECT_EQ(r.error().server_status->reason_code, "3.8");
    EXPECT_EQ(r.error().cancelled_with, asn1::cancel_session_reason::undefined_reason);
    ASSERT_EQ(d.server->cancels.size(), 1u);
    EXPECT_EQ(d.server->cancels[0].transaction_id, d.server->transaction_id);
    EXPECT_TRUE(d.chip->profiles().empty());
}

TEST(lpa_simulated_euicc,
     when_a_profile_is_enabled_then_its_notification_is_delivered_and_removed) {
    simulated_device d;
    lpa::lpa l(*d.es10, *d.server);
    ASSERT_TRUE(l.download_profile(lpa::download_request{.smdp_address = "smdp.example.test",
                                                         .matching_id = "SIM-2",
                                                         .confirmation_code = {}})
                    .has_value());
    auto ref = lpa::parse_profile_ref("89049032000000000018").value();

    ASSERT_TRUE(l.enable_profile(ref).has_value());
    auto pending = l.list_notifications();
    ASSERT_TRUE(pending.has_value());
    ASSERT_EQ(pending->size(), 1u);
    EXPECT_TRUE((*pending)[0].profile_management_operation.test(asn1::notification_enable));

    auto sent = l.process_notifications();

    ASSERT_TRUE(sent.has_value());
    ASSERT_EQ(sent->size(), 1u);
    EXPECT_TRUE((*sent)[0].removed);
    EXPECT_EQ(d.server->notification_addresses.back(), "notify.example.test");
    EXPECT_TRUE(d.chip->notifications().empty());
    auto list = l.list_profiles().value();
    EXPECT_EQ(list.at(0).state, asn1::profile_state::enabled);
}

} // namespace
} // namespace esimguard::lpa_test
