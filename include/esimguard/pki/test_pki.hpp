#pragma once
/// A complete SGP.22 test PKI on disk, for trying esimguard without
/// GSMA-issued certificates, and eUICC certificates for simulated cards.
///
/// Layout under DIR, one directory per curve ("nist", "brainpool"):
///
///   DIR/README.txt                     this layout, and what each file is
///   DIR/<curve>/ci.{pem,der}           CI root, self-signed (policy .1.2.1.0)
///   DIR/<curve>/ci.crl.{pem,der}       an empty CRL issued by the CI
///   DIR/<curve>/eum.{pem,der}          EUM, permitted EID prefix 89049032
///   DIR/<curve>/dpauth.{pem,der}       SM-DP+ authentication (policy .4)
///   DIR/<curve>/dppb.{pem,der}         SM-DP+ profile binding (policy .5)
///   DIR/<curve>/dptls.{pem,der}        SM-DP+ TLS server (policy .3, serverAuth, SAN = host)
///   DIR/<curve>/dptls-chain.pem        dptls then ci, for a TLS listener
///   DIR/<curve>/<name>.key.pem         the private key of each (PKCS#8, mode 0600)
///   DIR/<curve>/euicc/<EID>.{pem,der,key.pem}  eUICC certificates from issue_euicc
///
/// The EUM states its range with the permittedEins extension (not
/// nameConstraints), so that `openssl verify` accepts the eUICC chains too.

#include "esimguard/crypto/keys.hpp"
#include "esimguard/crypto/x509.hpp"

#include <expected>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace esimguard::pki {

/// The EID prefix (IIN 89 049 032) the test EUM may certify. 8 digits, as
/// SGP.22 v2 tools (and osmo-smdpp) expect of an EUM's permitted prefix.
inline constexpr std::string_view test_eid_prefix = "89049032";

/// Which curves a test PKI covers.
enum class curve_set { nist, brainpool, both };

/// Parses "nist", "brainpool" or "both".
[[nodiscard]] std::optional<curve_set> parse_curve_set(std::string_view text);
/// Parses "nist" or "brainpool" into a single curve.
[[nodiscard]] std::optional<crypto::curve> parse_curve(std::string_view text);
/// The directory name of a curve under DIR: "nist" or "brainpool".
std::string_view curve_dir_name(crypto::curve c);

/// Why a PKI operation failed.
enum class pki_errc {
    io,               ///< a file could not be read or written
    already_exists,   ///< the PKI is there already and overwriting was not asked for
    missing_pki,      ///< no EUM (or CI) under DIR for that curve: run init first
    malformed_eid,    ///< not 32 digits, or wrong check digits
    eid_out_of_range, ///< an EID the EUM may not certify
    bad_input,        ///< an unusable host name or option
    crypto,           ///< key generation, issuance or self-check failed
};

std::string_view to_string(pki_errc e);

struct pki_error {
    pki_errc code;
    std::string detail = {};
};

template <typename T>
using pki_result = std::expected<T, pki_error>;

/// What init_test_pki writes.
struct test_pki_options {
    std::filesystem::path dir;
    curve_set curves = curve_set::both;
    /// The SM-DP+ host name: subjectAltName dNSName and CN of the DP certificates.
    std::string host = "localhost";
    /// Issuance time (an injected clock); validity periods start an hour before it.
    crypto::sys_seconds now;
    /// Replace an existing PKI (keys included) instead of refusing.
    bool overwrite = false;
};

/// Generates and writes the test PKI for each curve; returns the files written.
/// Every chain is validated with crypto::validate_chain before it is written.
[[nodiscard]] pki_result<std::vector<std::filesystem::path>>
init_test_pki(const test_pki_options& options);

/// Issues an eUICC key and certificate for `eid` under the EUM in DIR/<curve>
/// and writes DIR/<curve>/euicc/<EID>.{pem,der,key.pem}; returns the files.
/// Refuses a malformed EID and one outside the EUM's permitted range.
[[nodiscard]] pki_result<std::vector<std::filesystem::path>>
issue_euicc(const std::filesystem::path& dir, std::string_view eid, crypto::curve c,
            crypto::sys_seconds now);

} // namespace esimguard::pki
