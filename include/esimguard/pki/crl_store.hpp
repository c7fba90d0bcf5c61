#pragma once
/// Certificate revocation lists kept in a PKI directory (issue 4 §1): what
/// `esimguard pki crl add` and the server's CRL refresh write, and what the
/// SM-DP+ loads into smdp_config::crls so that a revoked EUM or eUICC
/// certificate is refused (SGP.22 §5.6.2/§5.6.3: 8.1.2 or 8.1.3, 6.1).
///
/// Layout: DIR/<curve>/crls/<issuer>.crl.pem, one file per issuing CA (the
/// newest CRL of that CA replaces the older one), beside the CI's own
/// DIR/<curve>/ci.crl.pem that init_test_pki writes.
///
/// A CRL is only stored when a CA of the directory issued it: DIR/<curve>/ci.pem,
/// DIR/<curve>/eum.pem or DIR/<curve>/eums/*.pem, matched by issuer name AND
/// a verifying signature. A CRL older than the stored one of the same CA is
/// refused, so that a replayed old list cannot un-revoke a certificate.

#include "esimguard/crypto/x509.hpp"
#include "esimguard/pki/test_pki.hpp"

#include <filesystem>
#include <vector>

namespace esimguard::pki {

/// The CA of a PKI directory that issued a CRL.
struct crl_issuer {
    std::filesystem::path certificate_file;
    crypto::certificate certificate;
    /// The curve directory it lives in, e.g. DIR/nist.
    std::filesystem::path curve_dir;
};

/// A CRL from PEM ("X509 CRL") or DER bytes; bad_input otherwise.
[[nodiscard]] pki_result<crypto::crl> parse_crl(byte_view pem_or_der);

/// Finds the CA of `dir` that issued and signed `crl`. bad_input when no CA
/// of the directory has its issuer name, when the signature does not verify
/// under the one that has, or when nextUpdate is before `now` (a stale list
/// is no evidence of the present).
[[nodiscard]] pki_result<crl_issuer>
find_crl_issuer(const std::filesystem::path& dir, const crypto::crl& crl, crypto::sys_seconds now);

/// Validates `crl` (find_crl_issuer) and stores it as the current CRL of its
/// issuer; returns the file written. bad_input when it is older (thisUpdate)
/// than the stored CRL of the same CA. Written to a temporary file and
/// renamed, so a reader never sees half a list.
[[nodiscard]] pki_result<std::filesystem::path>
add_crl(const std::filesystem::path& dir, const crypto::crl& crl, crypto::sys_seconds now);

/// Every CRL stored by add_crl under `dir` that still parses and verifies
/// against its CA (a file edited on disk is refused, with its name in the
/// error, rather than silently skipped: the server must not start believing
/// nothing is revoked).
[[nodiscard]] pki_result<std::vector<crypto::crl>>
load_stored_crls(const std::filesystem::path& dir);

} // namespace esimguard::pki
