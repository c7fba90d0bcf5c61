#pragma once
// A hand-made SM-DP+ side for the eUICC tests, built directly on asn1 and
// crypto (the real SM-DP+ is written elsewhere): it signs serverSigned1,
// smdpSigned2 and InitialiseSecureChannel, and binds profile packages.

#include "esimguard/asn1/authentication.hpp"
#include "esimguard/asn1/bpp.hpp"
#include "esimguard/asn1/download.hpp"
#include "esimguard/asn1/install_result.hpp"
#include "esimguard/asn1/metadata.hpp"
#include "esimguard/crypto/bsp.hpp"
#include "esimguard/crypto/ecdh.hpp"
#include "esimguard/crypto/kdf.hpp"
#include "esimguard/crypto/keys.hpp"
#include "esimguard/crypto/x509.hpp"
#include "esimguard/euicc/euicc.hpp"
#include "esimguard/pki/eid.hpp"
#include "esimguard/pki/test_pki.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace esimguard::euicc::testing {

namespace fs = std::filesystem;

inline const crypto::sys_seconds test_now = std::chrono::sys_days{std::chrono::year{2031} / 3 / 14};
inline const std::string test_eid = "89049032123451234512345678901235";
inline const std::string server_address = "smdp.example.com";

inline std::string read_text(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

inline bytes read_bytes(const fs::path& p) {
    const auto t = read_text(p);
    return bytes(t.begin(), t.end());
}

/// A fresh temporary directory, removed at the end of the test.
struct temp_dir {
    fs::path path;
    temp_dir() {
        static std::atomic<int> n{0};
        path = fs::temp_directory_path() /
               ("euicc-test-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~temp_dir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

/// One test PKI (NIST curve) with one eUICC issued, and the SM-DP+ keys.
struct pki_fixture {
    temp_dir dir;
    std::unique_ptr<crypto::signer> dpauth;
    std::unique_ptr<crypto::signer> dppb;
    bytes dpauth_der, dppb_der, ci_der;
    std::optional<crypto::certificate> ci;

    explicit pki_fixture(bool issue = true) {
        make(dir.path, issue);
        const auto d = dir.path / "nist";
        ci = crypto::certificate::from_der(read_bytes(d / "ci.der")).value();
        dpauth = crypto::create_software_signer(
            crypto::private_key::from_pem(read_text(d / "dpauth.key.pem")).value());
        dppb = crypto::create_software_signer(
            crypto::private_key::from_pem(read_text(d / "dppb.key.pem")).value());
        dpauth_der = read_bytes(d / "dpauth.der");
        dppb_der = read_bytes(d / "dppb.der");
        ci_der = read_bytes(d / "ci.der");
    }

    static void make(const fs::path& p, bool issue) {
        pki::test_pki_options o;
        o.dir = p;
        o.curves = pki::curve_set::nist;
        o.now = test_now;
        o.overwrite = true;
        EXPECT_TRUE(pki::init_test_pki(o).has_value());
        if (issue) {
            EXPECT_TRUE(
                pki::issue_euicc(p, test_eid, crypto::curve::nist_p256, test_now).has_value());
        }
    }

    bytes ci_pkid() const { return ci->subject_key_id().value_or(ci->key().key_id()); }

    euicc_config config() const {
        auto c = load_euicc_from_pki(dir.path, crypto::curve::nist_p256, test_eid).value();
        c.clock = [] { return test_now; };
        return c;
    }
};

inline asn1::raw_signature to_raw(const bytes& b) {
    asn1::raw_signature r{};
    std::copy(b.begin(), b.end(), r.begin());
    return r;
}

inline std::vector<bytes> contents(const std::vector<bytes>& segments) {
    std::vector<bytes> out;
    for (const auto& seg : segments) {
        out.push_back(to_bytes(asn1::decode_single(seg).value().value));
    }
    return out;
}

/// The SM-DP+ half of one download.
struct fake_server {
    const pki_fixture& pki;
    bytes transaction_id = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};
    asn1::challenge server_challenge{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    asn1::raw_signature euicc_signature1{};
    asn1::raw_signature smdp_signature2{};
    bytes euicc_otpk;

    /// AuthenticateServerRequest for `euicc_challenge`, signed by DPauth.
    bytes authenticate_request(const asn1::challenge& euicc_challenge,
                               const crypto::signer* signer = nullptr,
                               std::optional<bytes> cert = std::nullopt,
                               std::optional<bytes> pkid = std::nullopt) const {
        asn1::authenticate_server_request r;
        r.server_signed.transaction_id = transaction_id;
        r.server_signed.euicc_challenge = euicc_challenge;
        r.server_signed.server_address = server_address;
        r.server_signed.server_challenge = server_challenge;
        const auto& s = signer ? *signer : *pki.dpauth;
        r.server_signature1 = to_raw(s.sign(asn1::encode(r.server_signed)).value());
        r.euicc_ci_pkid_to_be_used = pkid.value_or(pki.ci_pkid());
        r.server_certificate = cert.value_or(pki.dpauth_der);
        r.ctx_params.matching_id = "MATCHING-1";
        r.ctx_params.device.tac = {0x35, 0x29, 0x06, 0x11};
        return asn1::encode(r);
    }

    /// PrepareDownloadRequest over the euiccSignature1 seen, signed by DPpb.
    bytes prepare_request(bool corrupt_signature = false) {
        asn1::prepare_download_request r;
        r.smdp_signed.transaction_id = transaction_id;
        const bytes signed_part =
            concat({asn1::encode(r.smdp_signed), bytes{0x5F, 0x37, 0x40}, euicc_signature1});
        r.smdp_signature2 = to_raw(pki.dppb->sign(signed_part).value());
        if (corrupt_signature) {
            r.smdp_signature2[5] ^= 0x01;
        }
        smdp_signature2 = r.smdp_signature2;
        r.smdp_certificate = pki.dppb_der;
        return asn1::encode(r);
    }

    /// The bound profile package of `profile` with `metadata`, in the pieces
    /// an LPA sends.
    std::vector<bytes> bpp_pieces(const asn1::store_metadata_request& metadata,
                                  const bytes& profile) const {
        auto otsk = crypto::private_key::generate(crypto::curve::nist_p256).value();
        asn1::bound_profile_package bpp;
        auto& isc = bpp.initialise_secure_channel;
        isc.transaction_id = transaction_id;
        isc.crt.host_id = {'h', 'o', 's', 't', 'i', 'd'};
        isc.smdp_otpk = otsk.public_part().point();
        const bytes signed_part =
            concat({asn1::encode_isc_signed_part(isc), asn1::encode(0x5F49, euicc_otpk)});
        isc.smdp_sign = to_raw(pki.dppb->sign(signed_part).value());

        auto peer = crypto::public_key::from_point(crypto::curve::nist_p256, euicc_otpk).value();
        auto shared = crypto::ecdh(otsk, peer).value();
        auto eid = asn1::eid_value::parse(test_eid).value();
        auto keys = crypto::derive_bsp_session_keys(shared, isc.crt.host_id, eid.value()).value();
        auto bsp = crypto::bsp_session::create(keys);
        // crypto returns whole segments (tag, length, data, MAC); the asn1
        // BPP holds their contents.
        bpp.first_sequence_of_87 =
            contents(bsp.wrap_encrypted_segments(0x87, asn1::encode(asn1::configure_isdp_request{}))
                         .value());
        bpp.sequence_of_88 =
            contents(bsp.wrap_mac_only_segments(0x88, asn1::encode(metadata)).value());
        bpp.sequence_of_86 = contents(bsp.wrap_encrypted_segments(0x86, profile).value());
        return asn1::split_bound_profile_package(asn1::encode(bpp)).value();
    }
};

inline asn1::store_metadata_request
sample_metadata(std::string_view iccid = "89049032123451234512") {
    asn1::store_metadata_request m;
    m.iccid = asn1::iccid_value::parse(iccid).value();
    m.service_provider_name = "esimguard";
    m.profile_name = "Test profile";
    m.notification_configuration_info = std::vector<asn1::notification_configuration_information>{
        {asn1::bit_string::from_bits({asn1::notification_install, asn1::notification_enable,
                                      asn1::notification_disable, asn1::notification_delete}),
         server_address,
         {}}};
    return m;
}

inline bytes sample_profile(std::size_t n = 2500) {
    bytes p(n);
    for (std::size_t i = 0; i < n; ++i) {
        p[i] = static_cast<std::uint8_t>(i * 7 + 3);
    }
    return p;
}

} // namespace esimguard::euicc::testing
