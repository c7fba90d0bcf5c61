// Local profile management with its notifications (SGP.22 §5.7.9-11,
// §5.7.16-18), persistence of the eUICC's state, and the ISO 7816 card side.

#include "test_server.hpp"

#include "esimguard/asn1/euicc_info.hpp"
#include "esimguard/asn1/notifications.hpp"
#include "esimguard/asn1/profile_management.hpp"
#include "esimguard/crypto/ecdsa.hpp"

namespace esimguard::euicc::testing {
namespace {

class profiles : public ::testing::Test {
protected:
    static void SetUpTestSuite() { pki_ = new pki_fixture(); }
    static void TearDownTestSuite() {
        delete pki_;
        pki_ = nullptr;
    }
    void SetUp() override { chip = create_euicc(pki_->config(), state_file()).value(); }
    fs::path state_file() const { return state.path / "euicc.json"; }

    /// A complete download of `iccid` through the ES10 entry point.
    void install(std::string_view iccid) {
        fake_server srv{*pki_};
        auto ch = asn1::decode_get_euicc_challenge_response(
                      chip->handle_es10(asn1::encode_get_euicc_challenge_request()))
                      .value();
        auto a = asn1::decode_authenticate_server_response(
                     chip->handle_es10(srv.authenticate_request(ch.euicc_challenge)))
                     .value();
        srv.euicc_signature1 = std::get<asn1::authenticate_response_ok>(a).euicc_signature1;
        auto p = asn1::decode_prepare_download_response(chip->handle_es10(srv.prepare_request()))
                     .value();
        srv.euicc_otpk = std::get<asn1::prepare_download_response_ok>(p).euicc_signed.euicc_otpk;
        bytes last;
        for (const auto& piece : srv.bpp_pieces(sample_metadata(iccid), sample_profile(300))) {
            last = chip->handle_es10(piece);
        }
        auto pir = asn1::decode_profile_installation_result(last).value();
        ASSERT_TRUE(std::holds_alternative<asn1::install_success_result>(pir.data.final_result));
    }

    std::vector<asn1::notification_metadata> listed() {
        auto r = asn1::decode_list_notification_response(
                     chip->handle_es10(asn1::encode(asn1::list_notification_request{})))
                     .value();
        return std::get<std::vector<asn1::notification_metadata>>(r.result);
    }

    asn1::iccid_value iccid(std::string_view s) { return asn1::iccid_value::parse(s).value(); }

    static inline pki_fixture* pki_ = nullptr;
    temp_dir state;
    std::unique_ptr<euicc> chip;
};

constexpr std::string_view iccid1 = "89049032123451234512";
constexpr std::string_view iccid2 = "8904903212345123453";

TEST_F(profiles, enable_disable_delete_each_leave_a_signed_notification_to_the_configured_address) {
    install(iccid1);
    auto en = asn1::decode_enable_profile_response(
        chip->handle_es10(asn1::encode(asn1::enable_profile_request{iccid(iccid1), false, {}})));
    EXPECT_EQ(en->result, asn1::enable_profile_result::ok);
    EXPECT_TRUE(chip->profiles()[0].enabled);
    auto dis = asn1::decode_disable_profile_response(
        chip->handle_es10(asn1::encode(asn1::disable_profile_request{iccid(iccid1), false, {}})));
    EXPECT_EQ(dis->result, asn1::disable_profile_result::ok);
    auto del = asn1::decode_delete_profile_response(
        chip->handle_es10(asn1::encode(asn1::delete_profile_request{iccid(iccid1)})));
    EXPECT_EQ(del->result, asn1::delete_profile_result::ok);
    EXPECT_TRUE(chip->profiles().empty());

    const auto list = listed();
    ASSERT_EQ(list.size(), 4u); // install, enable, disable, delete
    const asn1::notification_event_bit order[] = {
        asn1::notification_install, asn1::notification_enable, asn1::notification_disable,
        asn1::notification_delete};
    for (std::size_t i = 0; i < 4; ++i) {
        EXPECT_TRUE(list[i].profile_management_operation.test(order[i])) << i;
        EXPECT_EQ(list[i].notification_address, server_address);
        EXPECT_EQ(list[i].iccid, iccid(iccid1));
    }
    EXPECT_LT(list[0].seq_number, list[3].seq_number);

    // The enable notification as the LPA forwards it: signed by the eUICC.
    auto rl = asn1::decode_retrieve_notifications_list_response(
                  chip->handle_es10(asn1::encode(asn1::retrieve_notifications_list_request{
                      asn1::by_seq_number{list[1].seq_number}, {}})))
                  .value();
    const auto& pend = std::get<std::vector<asn1::pending_notification>>(rl.result);
    ASSERT_EQ(pend.size(), 1u);
    const auto& other = std::get<asn1::other_signed_notification>(pend[0]);
    auto cert = crypto::certificate::from_der(other.euicc_certificate).value();
    EXPECT_TRUE(
        crypto::verify(cert.key(), other.tbs_raw, other.euicc_notification_signature).has_value());

    for (const auto& n : list) {
        auto rm = asn1::decode_remove_notification_from_list_response(chip->handle_es10(
            asn1::encode(asn1::remove_notification_from_list_request{n.seq_number, {}})));
        EXPECT_EQ(rm->status, asn1::delete_notification_status::ok);
    }
    EXPECT_TRUE(listed().empty());
    auto again = asn1::decode_remove_notification_from_list_response(chip->handle_es10(
        asn1::encode(asn1::remove_notification_from_list_request{list[0].seq_number, {}})));
    EXPECT_EQ(again->status, asn1::delete_notification_status::nothing_to_delete);
}

TEST_F(profiles, enabling_one_profile_disables_the_other_and_an_enabled_one_cannot_be_deleted) {
    install(iccid1);
    install(iccid2);
    chip->handle_es10(asn1::encode(asn1::enable_profile_request{iccid(iccid1), false, {}}));
    chip->handle_es10(asn1::encode(asn1::enable_profile_request{iccid(iccid2), false, {}}));
    auto ps = chip->profiles();
    EXPECT_FALSE(ps[0].enabled);
    EXPECT_TRUE(ps[1].enabled);
    auto del = asn1::decode_delete_profile_response(
        chip->handle_es10(asn1::encode(asn1::delete_profile_request{iccid(iccid2)})));
    EXPECT_EQ(del->result, asn1::delete_profile_result::profile_not_in_disabled_state);
    auto info = asn1::decode_profile_info_list_response(
                    chip->handle_es10(asn1::encode(asn1::profile_info_list_request{})))
                    .value();
    const auto& l = std::get<std::vector<asn1::profile_info>>(info.result);
    ASSERT_EQ(l.size(), 2u);
    EXPECT_EQ(l[1].state, asn1::profile_state::enabled);
    EXPECT_EQ(l[1].service_provider_name, "esimguard");
}

TEST_F(profiles, state_survives_recreation_from_the_file) {
    install(iccid1);
    chip->handle_es10(asn1::encode(asn1::enable_profile_request{iccid(iccid1), false, {}}));
    chip->handle_es10(asn1::encode(asn1::set_nickname_request{iccid(iccid1), "work", {}}));
    chip->handle_es10(asn1::encode(asn1::set_default_dp_address_request{"dp.example.org", {}}));
    const auto before = chip->notifications();
    chip.reset();

    auto again = create_euicc(pki_->config(), state_file()).value();
    const auto ps = again->profiles();
    ASSERT_EQ(ps.size(), 1u);
    EXPECT_TRUE(ps[0].enabled);
    EXPECT_EQ(ps[0].nickname, "work");
    ASSERT_EQ(again->notifications().size(), before.size());
    EXPECT_EQ(again->notifications().back().pending_der, before.back().pending_der);
    auto addr = asn1::decode_euicc_configured_addresses_response(
                    again->handle_es10(asn1::encode(asn1::euicc_configured_addresses_request{})))
                    .value();
    EXPECT_EQ(addr.default_dp_address, "dp.example.org");
}

TEST_F(profiles, a_volatile_card_keeps_its_state_in_memory_and_writes_no_file) {
    chip = create_euicc(pki_->config(), {}).value();
    install(iccid1);
    ASSERT_EQ(chip->profiles().size(), 1u);
    EXPECT_FALSE(chip->notifications().empty());
    EXPECT_FALSE(fs::exists(state_file()));
    EXPECT_TRUE(fs::is_empty(state.path));
    // A new volatile card starts empty: nothing of the first one remains.
    auto fresh = create_euicc(pki_->config(), {}).value();
    EXPECT_TRUE(fresh->profiles().empty());
    EXPECT_TRUE(fresh->notifications().empty());
}

TEST_F(profiles, a_corrupt_state_file_is_refused_at_creation) {
    chip.reset();
    std::ofstream(state_file()) << "{not json";
    auto r = create_euicc(pki_->config(), state_file());
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().what, euicc_error::code::state_corrupt);
}

// ---- the card side ----

bytes apdu(std::initializer_list<std::uint8_t> header, byte_view data = {}) {
    bytes c(header);
    if (!data.empty()) {
        c.push_back(static_cast<std::uint8_t>(data.size()));
        c.insert(c.end(), data.begin(), data.end());
    }
    return c;
}

std::uint16_t sw_of(const bytes& r) {
    return static_cast<std::uint16_t>((r[r.size() - 2] << 8) | r[r.size() - 1]);
}

class card_side : public profiles {
protected:
    void SetUp() override {
        profiles::SetUp();
        card = create_euicc_card(*chip);
        card->reset();
        auto open = card->transmit(bytes{0x00, 0x70, 0x00, 0x00, 0x01});
        EXPECT_EQ(sw_of(open), 0x9000);
        ch = open[0];
        auto sel = card->transmit(
            apdu({static_cast<std::uint8_t>(ch), 0xA4, 0x04, 0x00}, apdu::isd_r_aid));
        EXPECT_EQ(sw_of(sel), 0x9000);
    }

    /// STORE DATA in `block`-byte blocks, then GET RESPONSE until 9000.
    bytes es10(const bytes& command, std::size_t block = 120) {
        std::uint8_t n = 0;
        bytes r;
        for (std::size_t off = 0; off < command.size(); off += block, ++n) {
            const bool last = off + block >= command.size();
            const auto part =
                byte_view(command).subspan(off, std::min(block, command.size() - off));
            r = card->transmit(apdu({static_cast<std::uint8_t>(0x80 | ch), 0xE2,
                                     static_cast<std::uint8_t>(last ? 0x91 : 0x11), n},
                                    part));
            if (!last) {
                EXPECT_EQ(sw_of(r), 0x9000);
            }
        }
        store_data_sw = sw_of(r);
        bytes out(r.begin(), r.end() - 2);
        while ((sw_of(r) >> 8) == 0x61) {
            r = card->transmit(bytes{static_cast<std::uint8_t>(ch), 0xC0, 0x00, 0x00,
                                     static_cast<std::uint8_t>(sw_of(r) & 0xFF)});
            out.insert(out.end(), r.begin(), r.end() - 2);
        }
        EXPECT_EQ(sw_of(r), 0x9000);
        last_sw = sw_of(r);
        return out;
    }

    std::unique_ptr<apdu::card> card;
    int ch = 0;
    std::uint16_t last_sw = 0;
    std::uint16_t store_data_sw = 0; // status of the last STORE DATA block
};

TEST_F(card_side, store_data_chained_in_120_byte_blocks_reaches_authenticate_server) {
    fake_server srv{*pki_};
    auto c =
        asn1::decode_get_euicc_challenge_response(es10(asn1::encode_get_euicc_challenge_request()))
            .value();
    const bytes req = srv.authenticate_request(c.euicc_challenge);
    ASSERT_GT(req.size(), 240u); // at least three blocks
    auto r = asn1::decode_authenticate_server_response(es10(req));
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(std::holds_alternative<asn1::authenticate_response_ok>(*r));
}

TEST_F(card_side, a_response_over_256_bytes_comes_through_61xx_and_get_response) {
    fake_server srv{*pki_};
    auto c =
        asn1::decode_get_euicc_challenge_response(es10(asn1::encode_get_euicc_challenge_request()))
            .value();
    // AuthenticateServerResponse carries two certificates: well over 256 bytes.
    const bytes whole = es10(srv.authenticate_request(c.euicc_challenge));
    EXPECT_EQ(store_data_sw, 0x6100) << "256 or more bytes wait for GET RESPONSE";
    ASSERT_GT(whole.size(), 256u);
    auto r = asn1::decode_authenticate_server_response(whole);
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(std::holds_alternative<asn1::authenticate_response_ok>(*r));
}

TEST_F(card_side, a_wrong_block_number_is_refused_and_restarts_the_command) {
    const bytes cmd = asn1::encode_get_euicc_challenge_request();
    auto r = card->transmit(
        apdu({static_cast<std::uint8_t>(0x80 | ch), 0xE2, 0x11, 0x00}, bytes{cmd[0]}));
    EXPECT_EQ(sw_of(r), 0x9000);
    r = card->transmit(
        apdu({static_cast<std::uint8_t>(0x80 | ch), 0xE2, 0x91, 0x02}, byte_view(cmd).subspan(1)));
    EXPECT_EQ(sw_of(r), 0x6A86);
    // After the refusal, block 0 starts a fresh command.
    EXPECT_EQ(es10(cmd).size(), 3u + 2u + 16u); // BF2E 12 { 80 10 challenge }
}

TEST_F(card_side, logical_channels_open_and_close) {
    auto second = card->transmit(bytes{0x00, 0x70, 0x00, 0x00, 0x01});
    ASSERT_EQ(sw_of(second), 0x9000);
    const auto ch2 = second[0];
    EXPECT_NE(ch2, ch);
    EXPECT_EQ(sw_of(card->transmit(bytes{0x00, 0x70, 0x80, ch2})), 0x9000);
    // A closed channel refuses commands.
    EXPECT_EQ(sw_of(card->transmit(apdu({static_cast<std::uint8_t>(0x80 | ch2), 0xE2, 0x91, 0x00},
                                        asn1::encode_get_euicc_challenge_request()))),
              0x6881);
    // Channels 1..3 only: the fourth open fails.
    card->transmit(bytes{0x00, 0x70, 0x00, 0x00, 0x01});
    card->transmit(bytes{0x00, 0x70, 0x00, 0x00, 0x01});
    EXPECT_EQ(sw_of(card->transmit(bytes{0x00, 0x70, 0x00, 0x00, 0x01})), 0x6A81);
}

TEST_F(card_side, unknown_instruction_class_and_aid_get_their_status_words) {
    EXPECT_EQ(sw_of(card->transmit(bytes{static_cast<std::uint8_t>(ch), 0x12, 0x00, 0x00})),
              0x6D00);
    EXPECT_EQ(sw_of(card->transmit(bytes{0xFF, 0xA4, 0x04, 0x00})), 0x6E00);
    EXPECT_EQ(sw_of(card->transmit(bytes{0x00, 0xA4})), 0x6700);
    EXPECT_EQ(
        sw_of(card->transmit(apdu({0x00, 0xA4, 0x04, 0x00}, bytes{0xA0, 0x00, 0x00, 0x00, 0x87}))),
        0x6A82);
    // STORE DATA before SELECT on the basic channel is refused.
    EXPECT_EQ(sw_of(card->transmit(
                  apdu({0x80, 0xE2, 0x91, 0x00}, asn1::encode_get_euicc_challenge_request()))),
              0x6985);
}

} // namespace
} // namespace esimguard::euicc::testing
