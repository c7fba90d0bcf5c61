// The eUICC's side of a profile download (SGP.22 §3.1.2, §3.1.3): server
// authentication, PrepareDownload, LoadBoundProfilePackage, against a
// hand-made SM-DP+ side.

#include "test_server.hpp"

#include "esimguard/asn1/cancel_session.hpp"
#include "esimguard/asn1/euicc_info.hpp"
#include "esimguard/asn1/notifications.hpp"
#include "esimguard/crypto/ecdsa.hpp"
#include "esimguard/crypto/hash.hpp"

namespace esimguard::euicc::testing {
namespace {

class download : public ::testing::Test {
protected:
    static void SetUpTestSuite() { pki_ = new pki_fixture(); }
    static void TearDownTestSuite() {
        delete pki_;
        pki_ = nullptr;
    }

    void SetUp() override {
        chip = create_euicc(pki_->config(), state.path / "euicc.json").value();
    }

    asn1::challenge challenge() {
        auto r = asn1::decode_get_euicc_challenge_response(
            chip->handle_es10(asn1::encode_get_euicc_challenge_request()));
        EXPECT_TRUE(r.has_value());
        return r->euicc_challenge;
    }

    asn1::authenticate_server_response authenticate(fake_server& srv) {
        auto r = asn1::decode_authenticate_server_response(
            chip->handle_es10(srv.authenticate_request(challenge())));
        EXPECT_TRUE(r.has_value());
        if (auto* ok = std::get_if<asn1::authenticate_response_ok>(&*r)) {
            srv.euicc_signature1 = ok->euicc_signature1;
        }
        return *r;
    }

    asn1::prepare_download_response prepare(fake_server& srv, bool corrupt = false) {
        auto r =
            asn1::decode_prepare_download_response(chip->handle_es10(srv.prepare_request(corrupt)));
        EXPECT_TRUE(r.has_value());
        if (auto* ok = std::get_if<asn1::prepare_download_response_ok>(&*r)) {
            srv.euicc_otpk = ok->euicc_signed.euicc_otpk;
        }
        return *r;
    }

    /// Feeds every piece; returns the responses.
    std::vector<bytes> load(const std::vector<bytes>& pieces) {
        std::vector<bytes> out;
        for (const auto& p : pieces) {
            out.push_back(chip->handle_es10(p));
            if (!out.back().empty()) {
                break;
            }
        }
        return out;
    }

    static asn1::authenticate_error_code error_of(const asn1::authenticate_server_response& r) {
        EXPECT_TRUE(std::holds_alternative<asn1::authenticate_response_error>(r));
        return std::holds_alternative<asn1::authenticate_response_error>(r)
                   ? std::get<asn1::authenticate_response_error>(r).code
                   : asn1::authenticate_error_code::undefined_error;
    }

    static inline pki_fixture* pki_ = nullptr;
    temp_dir state;
    std::unique_ptr<euicc> chip;
};

TEST_F(download, authenticate_server_accepts_a_correct_server_and_signs_euicc_signed1) {
    fake_server srv{*pki_};
    auto r = authenticate(srv);
    ASSERT_TRUE(std::holds_alternative<asn1::authenticate_response_ok>(r));
    const auto& ok = std::get<asn1::authenticate_response_ok>(r);
    EXPECT_EQ(ok.euicc_signed.transaction_id, srv.transaction_id);
    EXPECT_EQ(ok.euicc_signed.server_challenge, srv.server_challenge);
    EXPECT_EQ(ok.euicc_signed.ctx_params.matching_id, "MATCHING-1");
    auto cert = crypto::certificate::from_der(ok.euicc_certificate).value();
    EXPECT_EQ(cert.subject_serial_number(), test_eid);
    EXPECT_TRUE(crypto::verify(cert.key(), ok.euicc_signed.raw, ok.euicc_signature1).has_value());
}

TEST_F(download, authenticate_server_refuses_another_euicc_challenge_with_code_6) {
    fake_server srv{*pki_};
    auto c = challenge();
    c[0] ^= 0xFF;
    auto r =
        asn1::decode_authenticate_server_response(chip->handle_es10(srv.authenticate_request(c)));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(error_of(*r), asn1::authenticate_error_code::euicc_challenge_mismatch);
}

TEST_F(download, authenticate_server_refuses_a_server_signature_by_another_key_with_code_2) {
    fake_server srv{*pki_};
    // DPpb is a real key of the same SM-DP+, but not the one in the certificate.
    auto r = asn1::decode_authenticate_server_response(
        chip->handle_es10(srv.authenticate_request(challenge(), pki_->dppb.get())));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(error_of(*r), asn1::authenticate_error_code::invalid_signature);
}

TEST_F(download, authenticate_server_refuses_an_unknown_ci_key_id_with_code_7) {
    fake_server srv{*pki_};
    auto r = asn1::decode_authenticate_server_response(chip->handle_es10(
        srv.authenticate_request(challenge(), nullptr, std::nullopt, bytes(20, 0xAB))));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(error_of(*r), asn1::authenticate_error_code::ci_pk_unknown);
}

TEST_F(download, authenticate_server_refuses_a_dpauth_of_an_untrusted_ci) {
    pki_fixture other(false);
    fake_server srv{other};
    // The rogue server claims the trusted CI but its DPauth chains to another.
    auto r = asn1::decode_authenticate_server_response(chip->handle_es10(
        srv.authenticate_request(challenge(), nullptr, std::nullopt, pki_->ci_pkid())));
    ASSERT_TRUE(r.has_value());
    const auto code = error_of(*r);
    EXPECT_TRUE(code == asn1::authenticate_error_code::ci_pk_unknown ||
                code == asn1::authenticate_error_code::invalid_certificate)
        << static_cast<unsigned>(code);
}

TEST_F(download, authenticate_server_refuses_a_dppb_certificate_in_place_of_dpauth_with_code_5) {
    fake_server srv{*pki_};
    auto r = asn1::decode_authenticate_server_response(
        chip->handle_es10(srv.authenticate_request(challenge(), pki_->dppb.get(), pki_->dppb_der)));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(error_of(*r), asn1::authenticate_error_code::invalid_oid);
}

TEST_F(download, authenticate_server_without_a_challenge_is_refused) {
    fake_server srv{*pki_};
    auto r =
        asn1::decode_authenticate_server_response(chip->handle_es10(srv.authenticate_request({})));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(error_of(*r), asn1::authenticate_error_code::no_session_context);
}

TEST_F(download, prepare_download_signs_euicc_signed2_over_smdp_signature2) {
    fake_server srv{*pki_};
    ASSERT_TRUE(std::holds_alternative<asn1::authenticate_response_ok>(authenticate(srv)));
    auto r = prepare(srv);
    ASSERT_TRUE(std::holds_alternative<asn1::prepare_download_response_ok>(r));
    const auto& ok = std::get<asn1::prepare_download_response_ok>(r);
    EXPECT_EQ(ok.euicc_signed.transaction_id, srv.transaction_id);
    EXPECT_EQ(ok.euicc_signed.euicc_otpk.size(), 65u);
    auto cert = crypto::certificate::from_der(pki_->config().euicc_certificate_der).value();
    const bytes signed_part =
        concat({ok.euicc_signed.raw, bytes{0x5F, 0x37, 0x40}, srv.smdp_signature2});
    EXPECT_TRUE(crypto::verify(cert.key(), signed_part, ok.euicc_signature2).has_value());
}

TEST_F(download, prepare_download_refuses_a_bad_smdp_signature2_with_code_2) {
    fake_server srv{*pki_};
    ASSERT_TRUE(std::holds_alternative<asn1::authenticate_response_ok>(authenticate(srv)));
    auto r = prepare(srv, true);
    ASSERT_TRUE(std::holds_alternative<asn1::prepare_download_response_error>(r));
    EXPECT_EQ(std::get<asn1::prepare_download_response_error>(r).code,
              asn1::download_error_code::invalid_signature);
}

TEST_F(download, prepare_download_without_authentication_is_refused_with_no_session_context) {
    fake_server srv{*pki_};
    auto r = prepare(srv);
    ASSERT_TRUE(std::holds_alternative<asn1::prepare_download_response_error>(r));
    EXPECT_EQ(std::get<asn1::prepare_download_response_error>(r).code,
              asn1::download_error_code::no_session_context);
}

TEST_F(download, a_bound_profile_package_installs_a_disabled_profile_with_a_signed_result) {
    fake_server srv{*pki_};
    authenticate(srv);
    prepare(srv);
    const auto profile = sample_profile();
    auto responses = load(srv.bpp_pieces(sample_metadata(), profile));
    ASSERT_FALSE(responses.empty());
    auto pir = asn1::decode_profile_installation_result(responses.back());
    ASSERT_TRUE(pir.has_value());
    ASSERT_TRUE(std::holds_alternative<asn1::install_success_result>(pir->data.final_result));
    auto cert = crypto::certificate::from_der(pki_->config().euicc_certificate_der).value();
    EXPECT_TRUE(crypto::verify(cert.key(), pir->data_raw, pir->euicc_sign_pir).has_value());
    EXPECT_EQ(pir->data.transaction_id, srv.transaction_id);

    const auto profiles = chip->profiles();
    ASSERT_EQ(profiles.size(), 1u);
    EXPECT_EQ(profiles[0].iccid, "89049032123451234512");
    EXPECT_FALSE(profiles[0].enabled);
    EXPECT_EQ(profiles[0].package_sha256, crypto::sha256(profile));
    EXPECT_EQ(std::get<asn1::install_success_result>(pir->data.final_result).aid,
              profiles[0].isdp_aid);

    const auto notes = chip->notifications();
    ASSERT_EQ(notes.size(), 1u);
    EXPECT_EQ(notes[0].pending_der, responses.back());
}

TEST_F(download, a_profile_segment_with_one_altered_byte_is_refused_and_nothing_installed) {
    fake_server srv{*pki_};
    authenticate(srv);
    prepare(srv);
    auto pieces = srv.bpp_pieces(sample_metadata(), sample_profile());
    // The last pieces are the 86 segments; alter the data of the first one.
    std::size_t first86 = 0;
    while (pieces[first86][0] != 0x86) {
        ++first86;
    }
    pieces[first86][20] ^= 0x01;
    auto responses = load(pieces);
    auto pir = asn1::decode_profile_installation_result(responses.back());
    ASSERT_TRUE(pir.has_value());
    ASSERT_TRUE(std::holds_alternative<asn1::install_error_result>(pir->data.final_result));
    const auto& err = std::get<asn1::install_error_result>(pir->data.final_result);
    EXPECT_EQ(err.bpp_command, asn1::bpp_command_id::load_profile_elements);
    EXPECT_EQ(err.reason, asn1::install_error_reason::scp03t_security_error);
    EXPECT_EQ(responses.size(), first86 + 1) << "the eUICC must stop at the altered segment";
    EXPECT_TRUE(chip->profiles().empty());
}

TEST_F(download, a_bpp_for_another_transaction_is_refused_at_initialise_secure_channel) {
    fake_server srv{*pki_};
    authenticate(srv);
    prepare(srv);
    srv.transaction_id[0] ^= 0xFF;
    auto responses = load(srv.bpp_pieces(sample_metadata(), sample_profile()));
    ASSERT_EQ(responses.size(), 1u);
    auto pir = asn1::decode_profile_installation_result(responses.back()).value();
    const auto& err = std::get<asn1::install_error_result>(pir.data.final_result);
    EXPECT_EQ(err.bpp_command, asn1::bpp_command_id::initialise_secure_channel);
    EXPECT_EQ(err.reason, asn1::install_error_reason::invalid_transaction_id);
}

TEST_F(download, the_one_time_key_is_gone_after_initialise_secure_channel_so_a_replay_is_refused) {
    fake_server srv{*pki_};
    authenticate(srv);
    prepare(srv);
    const auto pieces = srv.bpp_pieces(sample_metadata(), sample_profile());
    ASSERT_FALSE(pieces.empty());
    EXPECT_TRUE(chip->handle_es10(pieces.front()).empty());
    // The same InitialiseSecureChannel again: no otSK.EUICC.ECKA is left to
    // agree keys with, so it cannot restart the secure channel.
    const auto replay = chip->handle_es10(pieces.front());
    ASSERT_FALSE(replay.empty());
    auto pir = asn1::decode_profile_installation_result(replay).value();
    const auto& err = std::get<asn1::install_error_result>(pir.data.final_result);
    EXPECT_EQ(err.bpp_command, asn1::bpp_command_id::initialise_secure_channel);
    EXPECT_TRUE(chip->profiles().empty());
}

TEST_F(download, the_same_iccid_cannot_be_installed_twice) {
    for (int round = 0; round < 2; ++round) {
        fake_server srv{*pki_};
        authenticate(srv);
        prepare(srv);
        auto responses = load(srv.bpp_pieces(sample_metadata(), sample_profile(100)));
        auto pir = asn1::decode_profile_installation_result(responses.back()).value();
        if (round == 1) {
            const auto& err = std::get<asn1::install_error_result>(pir.data.final_result);
            EXPECT_EQ(
                err.reason,
                asn1::install_error_reason::install_failed_due_to_iccid_already_exists_on_euicc);
        }
    }
    EXPECT_EQ(chip->profiles().size(), 1u);
}

TEST_F(download, cancel_session_signs_the_reason_and_ends_the_session) {
    fake_server srv{*pki_};
    authenticate(srv);
    asn1::cancel_session_request req;
    req.transaction_id = srv.transaction_id;
    req.reason = asn1::cancel_session_reason::end_user_rejection;
    auto r = asn1::decode_cancel_session_response(chip->handle_es10(asn1::encode(req)));
    ASSERT_TRUE(r.has_value());
    ASSERT_TRUE(std::holds_alternative<asn1::cancel_session_response_ok>(*r));
    const auto& ok = std::get<asn1::cancel_session_response_ok>(*r);
    auto cert = crypto::certificate::from_der(pki_->config().euicc_certificate_der).value();
    EXPECT_TRUE(crypto::verify(cert.key(), ok.cancel_signed.raw, ok.euicc_cancel_session_signature)
                    .has_value());
    EXPECT_EQ(ok.cancel_signed.smdp_oid, (bytes{0x88, 0x37, 0x0A})); // 2.999.10
    // The session is gone: PrepareDownload has nothing to bind to.
    auto p = prepare(srv);
    EXPECT_TRUE(std::holds_alternative<asn1::prepare_download_response_error>(p));
}

TEST_F(download, malformed_commands_get_error_responses_not_crashes) {
    for (std::uint32_t tag : {0xBF38u, 0xBF21u, 0xBF41u, 0xBF31u, 0xBF33u, 0xBF29u, 0xBF2Bu}) {
        bytes junk = asn1::encode(tag, bytes{0x01, 0x02, 0x03});
        EXPECT_FALSE(chip->handle_es10(junk).empty()) << std::hex << tag;
    }
    EXPECT_FALSE(chip->try_handle_es10(bytes{0x86, 0x02, 0x00, 0x00}).has_value());
    EXPECT_FALSE(chip->try_handle_es10(bytes{0xBF}).has_value());
}

} // namespace
} // namespace esimguard::euicc::testing
