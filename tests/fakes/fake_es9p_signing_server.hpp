#pragma once
/// A hand-written SM-DP+ behind lpa::es9p_client that does the real
/// cryptography of one download with the keys of a test PKI (DPauth signs
/// serverSigned1, DPpb signs smdpSigned2 and InitialiseSecureChannel, the
/// profile is bound with ECKA + BSP), so that an LPA can install a profile on
/// the real simulated eUICC without a server process. It records every call
/// and checks hashCc like a server would. Not a model of order lifecycle.

#include "esimguard/asn1/bpp.hpp"
#include "esimguard/asn1/download.hpp"
#include "esimguard/asn1/iccid.hpp"
#include "esimguard/crypto/bsp.hpp"
#include "esimguard/crypto/ecdh.hpp"
#include "esimguard/crypto/hash.hpp"
#include "esimguard/crypto/kdf.hpp"
#include "esimguard/crypto/keys.hpp"
#include "esimguard/crypto/x509.hpp"
#include "esimguard/lpa/es9p_client.hpp"

#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace esimguard::fakes {

class fake_es9p_signing_server final : public lpa::es9p_client {
public:
    /// Loads DPauth, DPpb and the CI of DIR/<curve dir> (e.g. ".../nist").
    explicit fake_es9p_signing_server(const std::filesystem::path& curve_dir, std::string eid)
        : eid_(std::move(eid)) {
        dpauth_ = crypto::create_software_signer(
            crypto::private_key::from_pem(text(curve_dir / "dpauth.key.pem")).value());
        dppb_ = crypto::create_software_signer(
            crypto::private_key::from_pem(text(curve_dir / "dppb.key.pem")).value());
        dpauth_der_ = binary(curve_dir / "dpauth.der");
        dppb_der_ = binary(curve_dir / "dppb.der");
        auto ci = crypto::certificate::from_der(binary(curve_dir / "ci.der")).value();
        ci_pkid_ = ci.subject_key_id().value_or(ci.key().key_id());
    }

    lpa::es9p_result<rsp::initiate_authentication_response>
    initiate_authentication(std::string_view address,
                            const rsp::initiate_authentication_request& request) override {
        functions.push_back("initiateAuthentication");
        rsp::initiate_authentication_response r;
        r.transaction_id = transaction_id;
        r.server_signed1.transaction_id = transaction_id;
        r.server_signed1.euicc_challenge = request.euicc_challenge;
        r.server_signed1.server_address = std::string(address);
        r.server_signed1.server_challenge = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6};
        r.server_signed1_der = asn1::encode(r.server_signed1);
        r.server_signature1 = raw(dpauth_->sign(r.server_signed1_der).value());
        r.euicc_ci_pkid_to_be_used = ci_pkid_;
        r.server_certificate = dpauth_der_;
        return r;
    }

    lpa::es9p_result<rsp::authenticate_client_response>
    authenticate_client(std::string_view,
                        const rsp::authenticate_client_request& request) override {
        functions.push_back("authenticateClient");
        const auto* ok =
            std::get_if<asn1::authenticate_response_ok>(&request.authenticate_server_response);
        if (!ok) {
            return std::unexpected(refusal("8.1", "6.1", "eUICC refused the server"));
        }
        matching_id_seen = ok->euicc_signed.ctx_params.matching_id;
        rsp::authenticate_client_response r;
        r.transaction_id = transaction_id;
        r.profile_metadata = metadata;
        r.profile_metadata_der = asn1::encode(metadata);
        r.smdp_signed2.transaction_id = transaction_id;
        r.smdp_signed2.cc_required = confirmation_code.has_value();
        r.smdp_signed2_der = asn1::encode(r.smdp_signed2);
        const bytes signed_part =
            concat({r.smdp_signed2_der, bytes{0x5F, 0x37, 0x40}, ok->euicc_signature1});
        r.smdp_signature2 = raw(dppb_->sign(signed_part).value());
        r.smdp_certificate = dppb_der_;
        return r;
    }

    lpa::es9p_result<rsp::get_bound_profile_package_response>
    get_bound_profile_package(std::string_view,
                              const rsp::get_bound_profile_package_request& request) override {
        functions.push_back("getBoundProfilePackage");
        const auto* ok =
            std::get_if<asn1::prepare_download_response_ok>(&request.prepare_download_response);
        if (!ok) {
            return std::unexpected(refusal("8.2", "1.2", "eUICC refused the download"));
        }
        if (confirmation_code) {
            const bytes expected =
                crypto::confirmation_code_hash(*confirmation_code, transaction_id);
            const auto& got = ok->euicc_signed.hash;
            if (!got || bytes(got->begin(), got->end()) != expected) {
                return std::unexpected(refusal("8.2.7", "3.8", "The confirmation code is wrong"));
            }
        }
        auto otsk = crypto::private_key::generate(crypto::curve::nist_p256).value();
        asn1::bound_profile_package bpp;
        auto& isc = bpp.initialise_secure_channel;
        isc.transaction_id = transaction_id;
        isc.crt.host_id = {'h', 'o', 's', 't', 'i', 'd'};
        isc.smdp_otpk = otsk.public_part().point();
        const bytes signed_part = concat(
            {asn1::encode_isc_signed_part(isc), asn1::encode(0x5F49, ok->euicc_signed.euicc_otpk)});
        isc.smdp_sign = raw(dppb_->sign(signed_part).value());
        auto peer =
            crypto::public_key::from_point(crypto::curve::nist_p256, ok->euicc_signed.euicc_otpk)
                .value();
        auto shared = crypto::ecdh(otsk, peer).value();
        auto eid = asn1::eid_value::parse(eid_).value();
        auto keys = crypto::derive_bsp_session_keys(shared, isc.crt.host_id, eid.value()).value();
        auto bsp = crypto::bsp_session::create(keys);
        bpp.first_sequence_of_87 =
            contents(bsp.wrap_encrypted_segments(0x87, asn1::encode(asn1::configure_isdp_request{}))
                         .value());
        bpp.sequence_of_88 =
            contents(bsp.wrap_mac_only_segments(0x88, asn1::encode(metadata)).value());
        bpp.sequence_of_86 = contents(bsp.wrap_encrypted_segments(0x86, profile).value());
        return rsp::get_bound_profile_package_response{transaction_id, asn1::encode(bpp)};
    }

    lpa::es9p_result<void> handle_notification(std::string_view address,
                                               const rsp::handle_notification_request& r) override {
        functions.push_back("handleNotification");
        notification_addresses.emplace_back(address);
        notifications.push_back(r.pending_notification_der);
        return {};
    }

    lpa::es9p_result<void> cancel_session(std::string_view,
                                          const rsp::cancel_session_request& r) override {
        functions.push_back("cancelSession");
        cancels.push_back(r);
        return {};
    }

    static lpa::es9p_error refusal(std::string subject, std::string reason, std::string message) {
        return lpa::es9p_error{
            .what = lpa::es9p_error::kind::refused,
            .detail = subject + "/" + reason,
            .status = rsp::status(std::move(subject), std::move(reason), std::move(message))};
    }

    bytes transaction_id = {0xA1, 0xB2, 0xC3, 0xD4, 0xE5, 0xF6, 0x07, 0x18};
    asn1::store_metadata_request metadata;
    bytes profile;
    /// When set, ccRequiredFlag is raised and hashCc must match this code.
    std::optional<std::string> confirmation_code;

    std::vector<std::string> functions;
    std::vector<std::string> notification_addresses;
    std::vector<bytes> notifications;
    std::vector<rsp::cancel_session_request> cancels;
    std::optional<std::string> matching_id_seen;

private:
    static std::string text(const std::filesystem::path& p) {
        std::ifstream in(p, std::ios::binary);
        std::ostringstream s;
        s << in.rdbuf();
        return s.str();
    }
    static bytes binary(const std::filesystem::path& p) {
        const auto t = text(p);
        return bytes(t.begin(), t.end());
    }
    static asn1::raw_signature raw(const bytes& b) {
        asn1::raw_signature r{};
        std::copy_n(b.begin(), std::min(b.size(), r.size()), r.begin());
        return r;
    }
    /// crypto returns whole segments; the asn1 BPP holds their contents.
    static std::vector<bytes> contents(const std::vector<bytes>& segments) {
        std::vector<bytes> out;
        for (const auto& seg : segments) {
            out.push_back(to_bytes(asn1::decode_single(seg).value().value));
        }
        return out;
    }

    std::string eid_;
    std::unique_ptr<crypto::signer> dpauth_;
    std::unique_ptr<crypto::signer> dppb_;
    bytes dpauth_der_;
    bytes dppb_der_;
    bytes ci_pkid_;
};

} // namespace esimguard::fakes
