#pragma once
// A scripted download session for LPA tests: the messages a real SM-DP+ and
// eUICC would exchange (valid DER, made-up signatures and certificates), a
// fake eUICC answering ES10 from them and a fake SM-DP+ answering ES9+.

#include "esimguard/apdu/es10_client.hpp"
#include "esimguard/asn1/authentication.hpp"
#include "esimguard/asn1/bpp.hpp"
#include "esimguard/asn1/cancel_session.hpp"
#include "esimguard/asn1/download.hpp"
#include "esimguard/asn1/euicc_info.hpp"
#include "esimguard/asn1/install_result.hpp"
#include "esimguard/asn1/notifications.hpp"
#include "esimguard/asn1/profile_management.hpp"
#include "esimguard/lpa/lpa.hpp"
#include "fake_es10_card.hpp"
#include "fakes/fake_es9p_server.hpp"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace esimguard::lpa_test {

inline const std::string smdp_address = "smdp.example.test:8443";
inline const std::string notification_address = "notify.example.test";

/// A DER "certificate": one TLV tagged 30, which is all the codec checks.
inline bytes fake_certificate(std::uint8_t fill) {
    return {0x30, 0x03, 0x02, 0x01, fill};
}

inline asn1::iccid_value test_iccid() {
    return *asn1::iccid_value::parse("8944476500001224158");
}

inline asn1::store_metadata_request test_metadata() {
    asn1::store_metadata_request m;
    m.iccid = test_iccid();
    m.service_provider_name = "esimguard test";
    m.profile_name = "Test profile";
    return m;
}

/// A pending notification as the eUICC keeps it: an OtherSignedNotification.
inline bytes other_notification(std::uint64_t seq, std::string address, std::size_t event_bit) {
    asn1::other_signed_notification n;
    n.tbs_other_notification.seq_number = seq;
    n.tbs_other_notification.profile_management_operation =
        asn1::bit_string::from_bits({event_bit});
    n.tbs_other_notification.notification_address = std::move(address);
    n.tbs_other_notification.iccid = test_iccid();
    n.euicc_notification_signature.fill(0x5A);
    n.euicc_certificate = fake_certificate(1);
    n.eum_certificate = fake_certificate(2);
    return asn1::encode(asn1::pending_notification{n});
}

/// Everything one download exchanges, built once per test.
struct scenario {
    bytes transaction_id = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
                            0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xF0, 0x01};
    asn1::challenge euicc_challenge{};
    asn1::store_metadata_request metadata = test_metadata();
    /// Metadata the package carries (the announced one unless a test swaps it).
    asn1::store_metadata_request package_metadata = test_metadata();
    bool cc_required = false;
    /// Whether the eUICC reports a failed installation.
    bool install_fails = false;
    std::uint64_t pir_seq = 7;

    /// Pending notifications on the card, by sequence number (exact DER).
    std::map<std::uint64_t, bytes> pending;
    /// Sequence numbers the card was asked to remove.
    std::vector<std::uint64_t> removed;
    /// Reasons of CancelSession requests the card received.
    std::vector<asn1::cancel_session_reason> cancel_reasons;

    bytes bpp_der;
    std::size_t bpp_pieces = 0;
    std::size_t bpp_pieces_seen = 0;

    fakes::fake_es9p_server server;
    std::unique_ptr<fake_es10_card> card;
    std::unique_ptr<apdu::es10_client> es10;

    scenario() {
        for (std::size_t i = 0; i < euicc_challenge.size(); ++i) {
            euicc_challenge[i] = static_cast<std::uint8_t>(0xC0 + i);
        }
        card =
            std::make_unique<fake_es10_card>([this](byte_view command) { return answer(command); });
        es10 = std::make_unique<apdu::es10_client>(*card);
    }

    /// Fills the fake SM-DP+'s answers; call after changing the knobs above.
    void prepare() {
        rsp::initiate_authentication_response ia;
        ia.transaction_id = transaction_id;
        ia.server_signed1.transaction_id = transaction_id;
        ia.server_signed1.euicc_challenge = euicc_challenge;
        ia.server_signed1.server_address = "smdp.example.test";
        ia.server_signed1.server_challenge.fill(0x5C);
        ia.server_signed1_der = asn1::encode(ia.server_signed1);
        ia.server_signature1.fill(0xA1);
        ia.euicc_ci_pkid_to_be_used = bytes(20, 0xC1);
        ia.server_certificate = fake_certificate(3);
        server.initiate_authentication_answer = ia;

        rsp::authenticate_client_response ac;
        ac.transaction_id = transaction_id;
        ac.profile_metadata = metadata;
        ac.profile_metadata_der = asn1::encode(metadata);
        ac.smdp_signed2.transaction_id = transaction_id;
        ac.smdp_signed2.cc_required = cc_required;
        ac.smdp_signed2_der = asn1::encode(ac.smdp_signed2);
        ac.smdp_signature2.fill(0xA2);
        ac.smdp_certificate = fake_certificate(4);
        server.authenticate_client_answer = ac;

        asn1::bound_profile_package bpp;
        bpp.initialise_secure_channel.transaction_id = transaction_id;
        bpp.initialise_secure_channel.crt.host_id = {0x01, 0x02};
        bpp.initialise_secure_channel.smdp_otpk = bytes(65, 0x04);
        bpp.initialise_secure_channel.smdp_sign.fill(0xA3);
        bpp.first_sequence_of_87 = {bytes(40, 0x87)};
        bytes seg88 = asn1::encode(package_metadata);
        seg88.insert(seg88.end(), 8, 0x3A); // the segment's MAC
        bpp.sequence_of_88 = {seg88};
        bpp.sequence_of_86 = {bytes(300, 0x86), bytes(500, 0x86), bytes(120, 0x86)};
        bpp_der = asn1::encode(bpp);
        bpp_pieces = asn1::split_bound_profile_package(bpp_der)->size();
        server.get_bound_profile_package_answer =
            rsp::get_bound_profile_package_response{transaction_id, bpp_der};
    }

    bytes installation_result() const {
        asn1::profile_installation_result pir;
        pir.data.transaction_id = transaction_id;
        pir.data.notification.seq_number = pir_seq;
        pir.data.notification.profile_management_operation =
            asn1::bit_string::from_bits({asn1::notification_install});
        pir.data.notification.notification_address = notification_address;
        pir.data.notification.iccid = metadata.iccid;
        if (install_fails) {
            pir.data.final_result = asn1::install_error_result{
                .bpp_command = asn1::bpp_command_id::load_profile_elements,
                .reason = asn1::install_error_reason::scp03t_security_error,
                .sima_response = std::nullopt,
                .extensions = {}};
        } else {
            pir.data.final_result = asn1::install_success_result{
                .aid = bytes{0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0x01},
                .sima_response = bytes{0x30, 0x00},
                .extensions = {}};
        }
        pir.euicc_sign_pir.fill(0xA4);
        return asn1::encode(pir);
    }

    /// The fake eUICC's ES10 behaviour.
    std::optional<bytes> answer(byte_view command) {
        switch (leading_tag(command)) {
        case 0xBF2E:
            return asn1::encode(asn1::get_euicc_challenge_response{euicc_challenge, {}});
        case 0xBF20: {
            asn1::euicc_info1 info;
            info.svn = {2, 2, 2};
            info.ci_pkid_list_for_verification = {bytes(20, 0xC1)};
            info.ci_pkid_list_for_signing = {bytes(20, 0xC1)};
            return asn1::encode(info);
        }
        case 0xBF38: {
            asn1::authenticate_response_ok ok;
            ok.euicc_signed.transaction_id = transaction_id;
            ok.euicc_signed.server_address = "smdp.example.test";
            ok.euicc_signed.server_challenge.fill(0x5C);
            ok.euicc_signed.info2.svn = {2, 2, 2};
            ok.euicc_signed.info2.ci_pkid_list_for_verification = {bytes(20, 0xC1)};
            ok.euicc_signed.info2.ci_pkid_list_for_signing = {bytes(20, 0xC1)};
            ok.euicc_signed.info2.sas_accreditation_number = "TEST";
            auto req = asn1::decode_authenticate_server_request(command);
            if (req) {
                ok.euicc_signed.ctx_params = req->ctx_params;
            }
            ok.euicc_signature1.fill(0xB1);
            ok.euicc_certificate = fake_certificate(5);
            ok.eum_certificate = fake_certificate(6);
            return asn1::encode(asn1::authenticate_server_response{ok});
        }
        case 0xBF21: {
            auto req = asn1::decode_prepare_download_request(command);
            asn1::prepare_download_response_ok ok;
            ok.euicc_signed.transaction_id = transaction_id;
            ok.euicc_signed.euicc_otpk = bytes(65, 0x04);
            if (req) {
                ok.euicc_signed.hash = req->hash;
            }
            ok.euicc_signature2.fill(0xB2);
            return asn1::encode(asn1::prepare_download_response{ok});
        }
        case 0xBF41: {
            auto req = asn1::decode_cancel_session_request(command);
            if (!req) {
                return std::nullopt;
            }
            cancel_reasons.push_back(req->reason);
            asn1::cancel_session_response_ok ok;
            ok.cancel_signed.transaction_id = req->transaction_id;
            ok.cancel_signed.smdp_oid = {0x2B, 0x06, 0x01, 0x04};
            ok.cancel_signed.reason = req->reason;
            ok.euicc_cancel_session_signature.fill(0xB3);
            return asn1::encode(asn1::cancel_session_response{ok});
        }
        case 0xBF28: {
            std::vector<asn1::notification_metadata> list;
            for (const auto& [seq, der] : pending) {
                auto n = asn1::decode_pending_notification(der);
                if (auto* o = std::get_if<asn1::other_signed_notification>(&*n)) {
                    list.push_back(o->tbs_other_notification);
                } else {
                    list.push_back(
                        std::get<asn1::profile_installation_result>(*n).data.notification);
                }
            }
            return asn1::encode(asn1::list_notification_response{list});
        }
        case 0xBF2B: {
            auto req = asn1::decode_retrieve_notifications_list_request(command);
            std::vector<asn1::pending_notification> list;
            for (const auto& [seq, der] : pending) {
                if (req && req->search_criteria) {
                    const auto* by = std::get_if<asn1::by_seq_number>(&*req->search_criteria);
                    if (by && by->seq_number != seq) {
                        continue;
                    }
                }
                list.push_back(*asn1::decode_pending_notification(der));
            }
            if (list.empty()) {
                return asn1::encode(asn1::retrieve_notifications_list_response{
                    asn1::retrieve_notifications_error::no_result_available});
            }
            return asn1::encode(asn1::retrieve_notifications_list_response{list});
        }
        case 0xBF30: {
            auto req = asn1::decode_remove_notification_from_list_request(command);
            if (!req) {
                return std::nullopt;
            }
            removed.push_back(req->seq_number);
            const bool had = pending.erase(req->seq_number) == 1;
            return asn1::encode(asn1::remove_notification_from_list_response{
                had ? asn1::delete_notification_status::ok
                    : asn1::delete_notification_status::nothing_to_delete,
                {}});
        }
        default:
            break;
        }
        if (!bpp_der.empty() && bpp_pieces_seen < bpp_pieces) {
            // A piece of the bound profile package: silence until the last.
            ++bpp_pieces_seen;
            if (bpp_pieces_seen == bpp_pieces) {
                auto pir = installation_result();
                pending[pir_seq] = pir;
                return pir;
            }
            return bytes{};
        }
        return std::nullopt;
    }
};

} // namespace esimguard::lpa_test
