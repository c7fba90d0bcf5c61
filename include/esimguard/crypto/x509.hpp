#pragma once
/// X.509 certificates and CRLs of the SGP.22 PKI, and validation of the chains
/// CI → EUM → eUICC and CI → DPauth / DPpb / DPtls (SGP.22 §4.5.2).
/// No OpenSSL type appears here: certificates are opaque, immutable handles.

#include "esimguard/core/bytes.hpp"
#include "esimguard/crypto/keys.hpp"

#include <chrono>
#include <cstdint>
#include <expected>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace esimguard::crypto {

/// Time with one-second resolution. Certificates run to 9999-12-31 (SGP.22
/// eUICC certificates), past what a nanosecond system_clock can hold.
using sys_seconds = std::chrono::sys_seconds;

/// The role a certificate plays in the SGP.22 PKI; each has its own policy OID.
enum class cert_role { ci, eum, euicc, dp_tls, dp_auth, dp_pb };

std::string_view to_string(cert_role r);

/// The certificatePolicies OID of a role (id-rspRole, 2.23.146.1.2.1.x).
std::string_view policy_oid(cert_role r);

/// The OID of the GSMA permittedEins extension (SEQUENCE OF PrintableString
/// of EID prefixes) that newer EUM certificates carry instead of nameConstraints.
inline constexpr std::string_view permitted_eins_oid = "2.23.146.1.2.2.0";

/// Key usage bits of RFC 5280 §4.2.1.3, as a bit set.
namespace key_usage {
inline constexpr unsigned digital_signature = 1U << 0;
inline constexpr unsigned non_repudiation = 1U << 1;
inline constexpr unsigned key_encipherment = 1U << 2;
inline constexpr unsigned data_encipherment = 1U << 3;
inline constexpr unsigned key_agreement = 1U << 4;
inline constexpr unsigned key_cert_sign = 1U << 5;
inline constexpr unsigned crl_sign = 1U << 6;
} // namespace key_usage

/// An X.509 certificate. Copyable; cheap to copy (shared, immutable).
class certificate {
public:
    /// From DER. Fails with errc::invalid_certificate on anything else, or on
    /// a key that is not on an SGP.22 curve (errc::unsupported_curve).
    [[nodiscard]] static result<certificate> from_der(byte_view der);
    /// From the first "CERTIFICATE" block of a PEM text.
    [[nodiscard]] static result<certificate> from_pem(std::string_view pem);
    /// Every "CERTIFICATE" block of a PEM text, in order (a chain file).
    [[nodiscard]] static result<std::vector<certificate>> all_from_pem(std::string_view pem);

    /// The DER encoding, byte for byte as it was parsed or issued.
    const bytes& der() const;
    /// PEM text ("-----BEGIN CERTIFICATE-----"), with a final newline.
    std::string pem() const;

    /// Subject and issuer as RFC 2253 text (e.g. "CN=Test CI,O=RSPTEST,C=IT").
    std::string subject() const;
    std::string issuer() const;
    /// The serial number, big-endian, without leading zero bytes.
    bytes serial() const;
    sys_seconds not_before() const;
    sys_seconds not_after() const;
    public_key key() const;
    curve key_curve() const;

    /// SubjectKeyIdentifier / AuthorityKeyIdentifier keyIdentifier, if present.
    std::optional<bytes> subject_key_id() const;
    std::optional<bytes> authority_key_id() const;
    /// certificatePolicies OIDs in dotted form.
    std::vector<std::string> policy_oids() const;
    /// keyUsage as key_usage:: bits; nullopt when the extension is absent.
    std::optional<unsigned> key_usage_bits() const;
    /// basicConstraints cA.
    bool is_ca() const;
    /// extendedKeyUsage OIDs in dotted form.
    std::vector<std::string> extended_key_usage_oids() const;
    /// subjectAltName dNSName entries.
    std::vector<std::string> dns_names() const;
    /// The subject's serialNumber attribute (2.5.4.5): the EID in an eUICC
    /// certificate (SGP.22 §4.5.2.1.0.2).
    std::optional<std::string> subject_serial_number() const;
    /// The EID prefixes an EUM may certify: the serialNumber of each
    /// directoryName in nameConstraints' permittedSubtrees, and every entry of
    /// the permittedEins extension. Empty when the certificate declares none.
    std::vector<std::string> permitted_eid_prefixes() const;
    /// True when the certificate carries a critical extension this module
    /// does not understand (RFC 5280 §4.2: it must then be refused).
    bool has_unknown_critical_extension() const;

    struct impl;
    explicit certificate(std::shared_ptr<const impl> p) : p_(std::move(p)) {}
    const impl& internals() const { return *p_; }

private:
    std::shared_ptr<const impl> p_;
};

/// A certificate revocation list. Copyable; cheap to copy (shared, immutable).
class crl {
public:
    [[nodiscard]] static result<crl> from_der(byte_view der);
    /// From the first "X509 CRL" block of a PEM text.
    [[nodiscard]] static result<crl> from_pem(std::string_view pem);

    const bytes& der() const;
    std::string pem() const;
    /// Issuer as RFC 2253 text.
    std::string issuer() const;
    sys_seconds this_update() const;
    std::optional<sys_seconds> next_update() const;
    /// Whether `serial` (big-endian, as certificate::serial()) is listed.
    bool lists(byte_view serial) const;
    /// Whether the CRL's signature verifies under `issuer_key`.
    bool signed_by(const public_key& issuer_key) const;

    struct impl;
    explicit crl(std::shared_ptr<const impl> p) : p_(std::move(p)) {}
    const impl& internals() const { return *p_; }

private:
    std::shared_ptr<const impl> p_;
};

/// Why a chain was refused. Each reason is distinct so that the SM-DP+ can map
/// it to an SGP.22 status (8.1.2 EUM / 8.1.3 eUICC with 6.1 invalid, 6.3 expired).
enum class chain_errc {
    wrong_issuer,               ///< no issuer found by name and key identifier
    unexpected_path,            ///< a chain of the wrong shape for the role
    bad_signature,              ///< a certificate's signature does not verify
    expired,                    ///< notAfter is before the validation time
    not_yet_valid,              ///< notBefore is after the validation time
    wrong_policy,               ///< the policy OID does not match the role
    key_usage,                  ///< keyUsage missing a required bit
    not_a_ca,                   ///< an issuer without basicConstraints cA
    eid_out_of_range,           ///< the EID is not in the EUM's permitted range
    malformed_eid,              ///< an eUICC certificate without a 32-digit EID
    revoked,                    ///< listed on a CRL of its issuer
    bad_crl,                    ///< a CRL of the issuer whose signature fails
    mixed_curves,               ///< certificates of the chain on different curves
    unknown_critical_extension, ///< a critical extension we cannot process
};

std::string_view to_string(chain_errc e);

/// A refused chain: the reason, the position of the certificate at fault
/// (0 = leaf, counting up towards the trust anchor), and a short detail.
struct chain_error {
    chain_errc code;
    std::size_t depth = 0;
    std::string detail = {};
};

/// Validates `leaf` for `role` at time `at`, building the path through
/// `intermediates` to one of `anchors` (CI certificates, trusted as given but
/// still checked for validity, policy and CA key usage).
/// The path must be leaf → EUM → CI for role euicc and leaf → CI otherwise.
/// `crls` may be empty; a CRL only counts for the certificates of its issuer,
/// and one whose signature fails refuses the chain (bad_crl).
[[nodiscard]] std::expected<void, chain_error>
validate_chain(const certificate& leaf, std::span<const certificate> intermediates,
               std::span<const certificate> anchors, std::span<const crl> crls, sys_seconds at,
               cert_role role);

} // namespace esimguard::crypto
