#pragma once
/// Issuing certificates and CRLs of the SGP.22 PKI (profiles of SGP.22 §4.5.2,
/// as the SGP.26 test certificates apply them). The issuer's key is reached
/// only through a `signer`, so that it may live in an HSM.

#include "esimguard/core/bytes.hpp"
#include "esimguard/crypto/keys.hpp"
#include "esimguard/crypto/x509.hpp"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace esimguard::crypto {

/// One attribute of a distinguished name: a short name OpenSSL knows ("C",
/// "O", "OU", "CN", "serialNumber") or a dotted OID, and its value.
struct name_attribute {
    std::string type;
    std::string value;
};

/// A distinguished name, most significant attribute first (C, O, ..., CN).
using distinguished_name = std::vector<name_attribute>;

/// How an EUM certificate states its permitted EID prefixes.
enum class eid_range_form {
    /// The GSMA permittedEins extension (2.23.146.1.2.2.0), non-critical.
    /// Generic X.509 verifiers (openssl verify) accept such chains.
    permitted_eins,
    /// nameConstraints with a directoryName { O, serialNumber = prefix }, as
    /// older EUM certificates do. RFC 5280 compares RDNs whole, not as
    /// prefixes, so generic verifiers refuse the eUICC certificates below it.
    name_constraints,
};

/// What to put in a certificate. Extensions are added only when set.
struct cert_request {
    distinguished_name subject;
    public_key subject_key;
    /// Positive, big-endian, at most 20 bytes; a leading zero is added if needed.
    bytes serial;
    sys_seconds not_before;
    sys_seconds not_after;

    /// basicConstraints (critical): cA, and pathLenConstraint when set.
    bool is_ca = false;
    std::optional<int> path_len = std::nullopt;
    /// keyUsage (critical) as key_usage:: bits; 0 leaves it out.
    unsigned key_usage = 0;
    /// certificatePolicies (critical, as SGP.22 marks it).
    std::vector<std::string> policy_oids = {};
    /// extendedKeyUsage OIDs (critical when present), e.g. serverAuth 1.3.6.1.5.5.7.3.1.
    std::vector<std::string> extended_key_usage_oids = {};
    /// subjectAltName: dNSName and registeredID entries.
    std::vector<std::string> dns_names = {};
    std::vector<std::string> registered_ids = {};
    /// The EID prefixes an EUM may certify, in the form chosen.
    std::vector<std::string> permitted_eid_prefixes = {};
    eid_range_form eid_form = eid_range_form::permitted_eins;
    /// cRLDistributionPoints URIs.
    std::vector<std::string> crl_distribution_points = {};
};

/// Issues a certificate. `issuer` is the issuer's certificate, or nullopt for a
/// self-signed one (a CI), in which case `issuer_signer` must hold the key of
/// `request.subject_key`. SubjectKeyIdentifier is the SHA-1 of the point
/// (public_key::key_id); AuthorityKeyIdentifier the issuer's SKI.
/// Fails with invalid_certificate on a request OpenSSL refuses (a bad OID or
/// attribute name, a serial out of range) and unsupported_curve when the
/// signer is on another curve than the issuer certificate.
[[nodiscard]] result<certificate> issue_certificate(const cert_request& request,
                                                    const std::optional<certificate>& issuer,
                                                    const signer& issuer_signer);

/// One entry of a CRL.
struct revoked_entry {
    bytes serial;
    sys_seconds when;
};

/// What to put in a CRL (v2, with AuthorityKeyIdentifier and cRLNumber).
struct crl_request {
    sys_seconds this_update;
    sys_seconds next_update;
    std::uint64_t number = 1;
    std::vector<revoked_entry> revoked = {};
};

/// Issues a CRL signed through `issuer_signer`, whose key must be `issuer`'s.
[[nodiscard]] result<crl> issue_crl(const crl_request& request, const certificate& issuer,
                                    const signer& issuer_signer);

} // namespace esimguard::crypto
