#pragma once
/// Configuration of the SM-DP+ procedures: who the server is (addresses,
/// DPauth/DPpb credentials per CI), whom it trusts (CIs, CRLs for eUICC
/// chains), the limits it enforces, and the injectable clock and randomness.
/// Plain values with defaults; only apps/ parse files into it.

#include "esimguard/asn1/rsp_types.hpp"
#include "esimguard/core/bytes.hpp"
#include "esimguard/crypto/keys.hpp"
#include "esimguard/crypto/random.hpp"
#include "esimguard/crypto/x509.hpp"
#include "esimguard/smdp/defenses.hpp"
#include "esimguard/store/types.hpp"

#include <chrono>
#include <expected>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace esimguard::http {
class metrics_registry;
}

namespace esimguard::smdp {

/// The certificates and keys the SM-DP+ holds under one CI (SGP.22 §4.5.2):
/// DPauth signs serverSigned1, DPpb signs smdpSigned2 and the BPP.
/// Signers may sit in an HSM; the service never sees a private key.
struct ci_credentials {
    /// The CI root (trust anchor) both certificates chain to. Its key ID is
    /// what euiccCiPKIdToBeUsed names.
    crypto::certificate ci;
    crypto::certificate dpauth_certificate;
    std::shared_ptr<const crypto::signer> dpauth_signer;
    crypto::certificate dppb_certificate;
    std::shared_ptr<const crypto::signer> dppb_signer;
    /// Sub-CA certificates between DPauth/DPpb and the CI, if any (SGP.22 v2
    /// test PKIs have none).
    std::vector<crypto::certificate> intermediates = {};
};

/// Returns the current time; injected so that tests control expiry.
using clock_function = std::function<store::time_point()>;

/// Everything create_smdp_service needs besides the store.
struct smdp_config {
    /// The SM-DP+ addresses (FQDN, optionally ":port") this server answers
    /// for, compared case-insensitively with smdpAddress (SGP.22 §5.6.1).
    /// The first one is put in serverSigned1 and in ES2+ confirmOrder answers.
    /// Must not be empty.
    std::vector<std::string> addresses;
    /// One entry per CI this SM-DP+ holds certificates under (both curves may
    /// be present). Must not be empty.
    std::vector<ci_credentials> credentials;
    /// CI certificates trusted as roots of eUICC chains, besides the CIs of
    /// `credentials` (which are always trusted).
    std::vector<crypto::certificate> trusted_cis = {};
    /// CRLs checked when validating eUICC chains (EUM and eUICC revocation).
    std::vector<crypto::crl> crls = {};

    /// How long an RSP session lives after initiateAuthentication.
    std::chrono::seconds session_ttl = std::chrono::minutes(10);
    /// Time to live of an order created through ES2+ downloadOrder.
    std::chrono::seconds default_order_ttl = std::chrono::hours(24 * 30);
    /// Downloads (authenticateClient grants) allowed per order.
    int download_attempt_limit = 3;
    /// Wrong confirmation codes allowed per order before it is locked.
    int cc_retry_limit = 3;
    /// Oldest SGP.22 version accepted from an eUICC (EUICCInfo1 svn); versions
    /// with a major above `max_svn_major` are refused too (8.8.3 / 3.1).
    asn1::version_type min_svn{2, 0, 0};
    std::uint8_t max_svn_major = 3;

    /// The SM-DP+ OID (dotted), written into ConfigureISDP's dpProprietaryData
    /// and compared with smdpOid in CancelSession when set.
    std::optional<std::string> smdp_oid = std::nullopt;
    /// hostId of the BPP's ControlRefTemplate (1..16 bytes; SGP.22 §5.5.1).
    bytes host_id = bytes{'e', 's', 'i', 'm', 'g', 'u', 'a', 'r', 'd'};

    /// Current time; null means the system clock.
    clock_function clock = nullptr;
    /// Challenges, transaction IDs, matching IDs and order IDs; null means the
    /// system CSPRNG. Shared because the service keeps it.
    std::shared_ptr<crypto::random_source> random = nullptr;
    /// Where counters and histograms go; null makes the service keep its own
    /// (see smdp_service::metrics()).
    std::shared_ptr<http::metrics_registry> metrics = nullptr;

    /// The defences (risk engine, alerts, audit, step-up, eUICC policy); all
    /// off by default. See defenses.hpp.
    smdp_defenses defenses = {};
};

/// What a PKI directory gives the SM-DP+.
struct pki_material {
    std::vector<ci_credentials> credentials;
    std::vector<crypto::certificate> trusted_cis;
    std::vector<crypto::crl> crls;
};

/// Loads DPauth/DPpb credentials, the CI and its CRL for each curve directory
/// present under `dir` ("nist", "brainpool"; the layout of pki::init_test_pki).
/// Keys are wrapped in software signers. A curve directory that is missing is
/// skipped; one that is incomplete or unreadable is an error (its text says
/// which file). Fails when no curve directory is found.
[[nodiscard]] std::expected<pki_material, std::string>
load_pki_material(const std::filesystem::path& dir);

} // namespace esimguard::smdp
