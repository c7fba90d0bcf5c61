#pragma once
// Test harness for the SM-DP+ procedures: a test PKI in a temp dir, an
// in-memory SQLite store, a service with an injected clock, and a hand-built
// eUICC side (crypto + asn1) that plays ES10b the way a card does, checking
// every signature the server sends.

#include "esimguard/asn1/bpp.hpp"
#include "esimguard/crypto/bsp.hpp"
#include "esimguard/crypto/ecdh.hpp"
#include "esimguard/crypto/ecdsa.hpp"
#include "esimguard/crypto/hash.hpp"
#include "esimguard/crypto/kdf.hpp"
#include "esimguard/http/metrics.hpp"
#include "esimguard/pki/eid.hpp"
#include "esimguard/pki/test_pki.hpp"
#include "esimguard/rsp/saip.hpp"
#include "esimguard/smdp/config.hpp"
#include "esimguard/smdp/service.hpp"
#include "esimguard/store/sqlite_store.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>

namespace esimguard::smdp::testing {

inline const crypto::sys_seconds pki_time{std::chrono::seconds(1'750'000'000)};

inline std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

/// Unwraps an expected in a test, failing loudly with the status.
template <typename T>
T must(std::expected<T, rsp::status> r) {
    if (!r) {
        ADD_FAILURE() << "unexpected refusal: " << rsp::to_string(r.error());
        throw std::runtime_error("refused");
    }
    return std::move(*r);
}
template <typename T, typename E>
T must(std::expected<T, E> r) {
    if (!r) {
        ADD_FAILURE() << "unexpected failure";
        throw std::runtime_error("failed");
    }
    return std::move(*r);
}

/// One PKI for the whole test program (generation is slow): both curves,
/// plus a second, unrelated PKI for "foreign" certificates.
class shared_pki {
public:
    static shared_pki& get() {
        static shared_pki p;
        return p;
    }
    std::filesystem::path dir;
    std::filesystem::path foreign_dir;

    /// Issues (once) an eUICC with the EID made from `serial` (up to 22 digits).
    std::string euicc(crypto::curve c, int serial, bool foreign = false) {
        char body[32];
        std::snprintf(body, sizeof body, "%022d", serial);
        const std::string eid =
            *pki::eid_with_check_digits(std::string(pki::test_eid_prefix) + body);
        const auto& d = foreign ? foreign_dir : dir;
        const auto key = fmt(c, foreign) + eid;
        if (!issued_.count(key)) {
            auto r = pki::issue_euicc(d, eid, c, pki_time);
            if (!r) {
                ADD_FAILURE() << "issue_euicc: " << r.error().detail;
            }
            issued_[key] = true;
        }
        return eid;
    }

private:
    static std::string fmt(crypto::curve c, bool foreign) {
        return std::string(pki::curve_dir_name(c)) + (foreign ? "F" : "") + ":";
    }
    shared_pki() {
        dir = std::filesystem::temp_directory_path() /
              ("esimguard-smdp-test-" + std::to_string(::getpid()));
        foreign_dir = dir / "foreign";
        std::filesystem::remove_all(dir);
        pki::test_pki_options o;
        o.dir = dir / "pki";
        o.now = pki_time;
        o.host = "smdp.example.com";
        auto r = pki::init_test_pki(o);
        if (!r) {
            ADD_FAILURE() << "init_test_pki: " << r.error().detail;
        }
        o.dir = foreign_dir;
        if (auto f = pki::init_test_pki(o); !f) {
            ADD_FAILURE() << "init_test_pki (foreign): " << f.error().detail;
        }
        dir = dir / "pki";
    }
    ~shared_pki() { std::filesystem::remove_all(dir.parent_path()); }
    std::map<std::string, bool> issued_;
};

/// The eUICC side of one card, built from crypto and asn1 only.
class test_card {
public:
    test_card(crypto::curve c, std::string eid_digits, bool foreign = false)
        : curve_(c), eid(std::move(eid_digits)) {
        auto& p = shared_pki::get();
        const auto base = (foreign ? p.foreign_dir : p.dir) / std::string(pki::curve_dir_name(c));
        euicc_cert = to_bytes(as_bytes(read_file(base / "euicc" / (eid + ".der"))));
        eum_cert = to_bytes(as_bytes(read_file(base / "eum.der")));
        auto key =
            must(crypto::private_key::from_pem(read_file(base / "euicc" / (eid + ".key.pem"))));
        signer_ = crypto::create_software_signer(std::move(key));
        auto ci =
            must(crypto::certificate::from_der(to_bytes(as_bytes(read_file(base / "ci.der")))));
        ci_pkid = ci.key().key_id();
    }

    /// Replaces the certificates this card presents (to present another card's chain).
    void present_certificates_of(const test_card& other) {
        euicc_cert = other.euicc_cert;
        eum_cert = other.eum_cert;
    }

    asn1::euicc_info1 info1() const {
        asn1::euicc_info1 i;
        i.svn = svn;
        i.ci_pkid_list_for_verification = {ci_pkid};
        i.ci_pkid_list_for_signing = {ci_pkid};
        return i;
    }

    rsp::initiate_authentication_request initiate(const std::string& address) {
        rsp::initiate_authentication_request r;
        r.smdp_address = address;
        auto ch = must(crypto::random_bytes(16));
        std::copy_n(ch.begin(), 16, euicc_challenge.begin());
        r.euicc_challenge = euicc_challenge;
        auto info = info1();
        if (info1_override) {
            info = *info1_override;
        }
        r.euicc_info1_der = asn1::encode(info);
        return must(rsp::parse_initiate_authentication_request(rsp::to_json(r)));
    }

    /// ES10b.AuthenticateServer: checks serverSignature1 (DPauth) and signs euiccSigned1.
    rsp::authenticate_client_request
    authenticate_server(const rsp::initiate_authentication_response& a,
                        const std::optional<std::string>& matching_id) {
        auto dpauth = must(crypto::certificate::from_der(a.server_certificate));
        EXPECT_TRUE(crypto::verify(dpauth.key(), a.server_signed1_der, a.server_signature1))
            << "serverSignature1 must verify with the DPauth key";
        EXPECT_EQ(a.server_signed1.euicc_challenge, euicc_challenge);
        EXPECT_EQ(a.euicc_ci_pkid_to_be_used, ci_pkid);
        transaction_id = a.transaction_id;

        asn1::euicc_signed1 s;
        s.transaction_id = a.server_signed1.transaction_id;
        s.server_address = a.server_signed1.server_address;
        s.server_challenge = a.server_signed1.server_challenge;
        if (tamper_server_challenge) {
            s.server_challenge[0] ^= 0xFF;
        }
        s.info2.svn = svn;
        s.info2.profile_version = {2, 3, 1};
        s.info2.euicc_firmware_ver = {1, 0, 0};
        s.info2.ext_card_resource = {0x81, 0x01, 0x00};
        s.info2.uicc_capability = asn1::bit_string::from_bits({0, 1});
        s.info2.rsp_capability = asn1::bit_string::from_bits({0});
        s.info2.ci_pkid_list_for_verification = {ci_pkid};
        s.info2.ci_pkid_list_for_signing = {ci_pkid};
        s.info2.pp_version = {0, 0, 1};
        s.info2.sas_accreditation_number = "TEST";
        s.ctx_params.matching_id = matching_id;
        s.ctx_params.device.tac = {0x35, 0x29, 0x06, 0x11};
        const bytes signed_der = asn1::encode(s);
        auto sig = must(signer_->sign(signed_der));
        if (tamper_signature1) {
            sig[5] ^= 0x01;
        }
        asn1::authenticate_response_ok ok;
        ok.euicc_signed = must(asn1::decode_euicc_signed1(signed_der));
        std::copy_n(sig.begin(), 64, ok.euicc_signature1.begin());
        euicc_signature1 = ok.euicc_signature1;
        ok.euicc_certificate = euicc_cert;
        ok.eum_certificate = eum_cert;
        rsp::authenticate_client_request r;
        r.transaction_id = a.transaction_id;
        r.authenticate_server_response_der = asn1::encode(asn1::authenticate_server_response{ok});
        return must(rsp::parse_authenticate_client_request(rsp::to_json(r)));
    }

    /// ES10b.PrepareDownload: checks smdpSignature2 (DPpb) and signs euiccSigned2.
    rsp::get_bound_profile_package_request
    prepare_download(const rsp::authenticate_client_response& a,
                     const std::optional<std::string>& confirmation_code) {
        auto dppb = must(crypto::certificate::from_der(a.smdp_certificate));
        dppb_key = dppb.key();
        bytes sig1_tlv{0x5F, 0x37, 0x40};
        sig1_tlv.insert(sig1_tlv.end(), euicc_signature1.begin(), euicc_signature1.end());
        EXPECT_TRUE(
            crypto::verify(dppb.key(), concat({a.smdp_signed2_der, sig1_tlv}), a.smdp_signature2))
            << "smdpSignature2 must cover smdpSigned2 ‖ 5F37 40 ‖ euiccSignature1";
        metadata_der = a.profile_metadata_der;
        cc_required = a.smdp_signed2.cc_required;

        otsk = must(crypto::private_key::generate(curve_));
        asn1::euicc_signed2 s;
        s.transaction_id = a.transaction_id;
        s.euicc_otpk = otsk->public_part().point();
        if (confirmation_code) {
            auto h = crypto::confirmation_code_hash(*confirmation_code, a.transaction_id);
            asn1::hash_cc hc{};
            std::copy_n(h.begin(), 32, hc.begin());
            s.hash = hc;
        }
        const bytes signed_der = asn1::encode(s);
        bytes sig2_tlv{0x5F, 0x37, 0x40};
        sig2_tlv.insert(sig2_tlv.end(), a.smdp_signature2.begin(), a.smdp_signature2.end());
        auto sig = must(signer_->sign(concat({signed_der, sig2_tlv})));
        asn1::prepare_download_response_ok ok;
        ok.euicc_signed = must(asn1::decode_euicc_signed2(signed_der));
        std::copy_n(sig.begin(), 64, ok.euicc_signature2.begin());
        rsp::get_bound_profile_package_request r;
        r.transaction_id = a.transaction_id;
        r.prepare_download_response_der = asn1::encode(asn1::prepare_download_response{ok});
        return must(rsp::parse_get_bound_profile_package_request(rsp::to_json(r)));
    }

    /// ES8+ on the card: verifies BF23's smdpSign, derives the session keys,
    /// checks every MAC and returns the decrypted profile package.
    bytes load_bpp(const rsp::get_bound_profile_package_response& r) {
        auto bpp = must(asn1::decode_bound_profile_package(r.bound_profile_package_der));
        const auto& isc = bpp.initialise_secure_channel;
        EXPECT_EQ(isc.transaction_id, transaction_id);
        EXPECT_TRUE(crypto::verify(*dppb_key,
                                   concat({asn1::encode_isc_signed_part(isc),
                                           asn1::encode(0x5F49, otsk->public_part().point())}),
                                   isc.smdp_sign))
            << "smdpSign must cover BF23's fields ‖ 5F49 ‖ otPK.EUICC.ECKA";
        auto peer = must(crypto::public_key::from_point(curve_, isc.smdp_otpk));
        auto shared = must(crypto::ecdh(*otsk, peer));
        auto eid_value = must(asn1::eid_value::parse(eid));
        auto keys =
            must(crypto::derive_bsp_session_keys(shared, isc.crt.host_id, eid_value.value()));
        auto bsp = crypto::bsp_session::create(keys);
        for (const auto& s : bpp.first_sequence_of_87) {
            auto wire = asn1::encode(0x87, s);
            EXPECT_LE(wire.size(), crypto::bsp_max_segment_size);
            auto plain = must(bsp.unwrap_encrypted(wire));
            EXPECT_TRUE(asn1::decode_configure_isdp_request(plain.data).has_value());
        }
        bytes metadata;
        for (const auto& s : bpp.sequence_of_88) {
            auto plain = must(bsp.unwrap_mac_only(asn1::encode(0x88, s)));
            metadata.insert(metadata.end(), plain.data.begin(), plain.data.end());
        }
        EXPECT_EQ(metadata, metadata_der) << "StoreMetadata must equal the profileMetadata sent";
        bytes profile;
        for (const auto& s : bpp.sequence_of_86) {
            auto wire = asn1::encode(0x86, s);
            EXPECT_LE(wire.size(), crypto::bsp_max_segment_size);
            auto plain = must(bsp.unwrap_encrypted(wire));
            profile.insert(profile.end(), plain.data.begin(), plain.data.end());
        }
        segments_86 = bpp.sequence_of_86.size();
        return profile;
    }

    /// A signed ProfileInstallationResult (BF37) for the current transaction.
    rsp::handle_notification_request installation_result(const std::string& iccid, bool success,
                                                         bool tamper = false) {
        asn1::profile_installation_result_data d;
        d.transaction_id = transaction_id;
        d.notification.seq_number = ++seq_;
        d.notification.profile_management_operation =
            asn1::bit_string::from_bits({asn1::notification_install});
        d.notification.notification_address = "smdp.example.com";
        d.notification.iccid = must(asn1::iccid_value::parse(iccid));
        if (success) {
            d.final_result = asn1::install_success_result{bytes(16, 0xA0), {}, {}};
        } else {
            asn1::install_error_result e;
            e.bpp_command = asn1::bpp_command_id::load_profile_elements;
            e.reason = asn1::install_error_reason::scp03t_security_error;
            d.final_result = e;
        }
        asn1::profile_installation_result pir;
        pir.data = d;
        auto sig = must(signer_->sign(asn1::encode(d)));
        if (tamper) {
            sig[0] ^= 0x01;
        }
        std::copy_n(sig.begin(), 64, pir.euicc_sign_pir.begin());
        rsp::handle_notification_request r;
        r.pending_notification_der = asn1::encode(asn1::pending_notification{pir});
        return must(rsp::parse_handle_notification_request(rsp::to_json(r)));
    }

    /// A signed enable/disable/delete notification.
    rsp::handle_notification_request other_notification(const std::string& iccid,
                                                        asn1::notification_event_bit op) {
        asn1::other_signed_notification n;
        n.tbs_other_notification.seq_number = ++seq_;
        n.tbs_other_notification.profile_management_operation = asn1::bit_string::from_bits({op});
        n.tbs_other_notification.notification_address = "smdp.example.com";
        n.tbs_other_notification.iccid = must(asn1::iccid_value::parse(iccid));
        auto sig = must(signer_->sign(asn1::encode(n.tbs_other_notification)));
        std::copy_n(sig.begin(), 64, n.euicc_notification_signature.begin());
        n.euicc_certificate = euicc_cert;
        n.eum_certificate = eum_cert;
        rsp::handle_notification_request r;
        r.pending_notification_der = asn1::encode(asn1::pending_notification{n});
        return must(rsp::parse_handle_notification_request(rsp::to_json(r)));
    }

    /// A signed CancelSession response (BF41) for the current transaction.
    rsp::cancel_session_request cancel(asn1::cancel_session_reason reason) {
        asn1::euicc_cancel_session_signed s;
        s.transaction_id = transaction_id;
        s.smdp_oid = {0x2B, 0x06, 0x01, 0x04, 0x01};
        s.reason = reason;
        const bytes der = asn1::encode(s);
        auto sig = must(signer_->sign(der));
        asn1::cancel_session_response_ok ok;
        ok.cancel_signed = must(asn1::decode_euicc_cancel_session_signed(der));
        std::copy_n(sig.begin(), 64, ok.euicc_cancel_session_signature.begin());
        rsp::cancel_session_request r;
        r.transaction_id = transaction_id;
        r.cancel_session_response_der = asn1::encode(asn1::cancel_session_response{ok});
        return must(rsp::parse_cancel_session_request(rsp::to_json(r)));
    }

    crypto::curve curve_;
    std::string eid;
    bytes euicc_cert;
    bytes eum_cert;
    bytes ci_pkid;
    asn1::version_type svn{2, 2, 2};
    std::optional<asn1::euicc_info1> info1_override;
    bool tamper_signature1 = false;
    bool tamper_server_challenge = false;
    asn1::challenge euicc_challenge{};
    asn1::raw_signature euicc_signature1{};
    bytes transaction_id;
    bytes metadata_der;
    bool cc_required = false;
    std::size_t segments_86 = 0;
    std::optional<crypto::public_key> dppb_key;
    std::optional<crypto::private_key> otsk;

private:
    std::unique_ptr<crypto::signer> signer_;
    std::uint64_t seq_ = 0;
};

inline const std::string smdp_address = "smdp.example.com";
inline const std::string operator_token = "op-token-0123456789";

/// A service over an in-memory store with a clock the test moves.
class service_fixture : public ::testing::Test {
protected:
    void SetUp() override { build({}); }

    void build(std::function<void(smdp_config&)> tweak) {
        service.reset();
        db.reset();
        store::sqlite_config sc;
        sc.path = ":memory:";
        sc.connections = 1;
        db = must(store::create_sqlite_store(sc));
        auto material = load_pki_material(shared_pki::get().dir);
        ASSERT_TRUE(material.has_value()) << material.error();
        smdp_config c;
        c.addresses = {smdp_address};
        c.credentials = material->credentials;
        c.crls = material->crls;
        c.clock = [this] { return now.load(); };
        c.metrics = metrics;
        if (tweak) {
            tweak(c);
        }
        auto s = create_smdp_service(std::move(c), *db);
        ASSERT_TRUE(s.has_value()) << s.error();
        service = std::move(*s);
        operator_ = must(service->add_operator(
            {"op1", "Operator One", operator_token, std::nullopt, progress_url}));
    }

    /// Adds a profile with this ICCID and returns its package.
    bytes add_profile(const std::string& iccid, std::size_t filler_imsi_digits = 15) {
        rsp::profile_package_params p;
        p.iccid = must(asn1::iccid_value::parse(iccid));
        p.imsi = std::string(filler_imsi_digits, '1');
        auto pkg = rsp::make_profile_package(p);
        EXPECT_TRUE(pkg.has_value());
        profile_package_info info;
        info.service_provider_name = "Test Operator";
        must(service->add_profile_package("op1", *pkg, info));
        return *pkg;
    }

    admin_order order(const std::string& iccid, std::optional<std::string> eid = std::nullopt,
                      std::optional<std::string> cc = std::nullopt, bool release = true) {
        admin_order_request r;
        r.operator_id = "op1";
        r.iccid = iccid;
        r.eid = std::move(eid);
        r.confirmation_code = std::move(cc);
        r.release = release;
        return must(service->admin_create_order(r));
    }

    store::order_record find_order(const std::string& id) { return must(db->find_order(id)); }

    /// initiateAuthentication + authenticateClient for `card`.
    procedure_result<rsp::authenticate_client_response>
    authenticate(test_card& card, const std::optional<std::string>& matching_id) {
        auto init = service->initiate_authentication(card.initiate(smdp_address), client);
        if (!init) {
            return std::unexpected(init.error());
        }
        return service->authenticate_client(card.authenticate_server(*init, matching_id), client);
    }

    std::atomic<store::time_point> now{std::chrono::system_clock::time_point(pki_time) +
                                       std::chrono::hours(2)};
    std::shared_ptr<http::metrics_registry> metrics = std::make_shared<http::metrics_registry>();
    std::optional<std::string> progress_url = std::nullopt;
    std::unique_ptr<store::store> db;
    std::unique_ptr<smdp_service> service;
    store::operator_record operator_;
    client_info client{"192.0.2.10"};
};

} // namespace esimguard::smdp::testing
