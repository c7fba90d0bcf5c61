#pragma once
/// The server's CRL refresh (issue 4 §1): fetch each configured CRL
/// distribution point, keep what a CA of the PKI directory signed
/// (pki::add_crl: issuer, signature, freshness, no roll-back), and hand the
/// complete current set back for the service to swap in.

#include "esimguard/crypto/x509.hpp"
#include "esimguard/http/client.hpp"

#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace esimguard::defense {

/// What one refresh did.
struct crl_refresh_result {
    std::size_t fetched = 0; ///< URLs that answered 200
    std::size_t stored = 0;  ///< CRLs validated and stored
    std::size_t failed = 0;  ///< URLs that failed (network, status, not a CRL, bad issuer, stale)
    /// One line per failure, naming the URL (never a secret; URLs are config).
    std::vector<std::string> errors;
    /// Every CRL now stored under the PKI directory (pki::load_stored_crls)
    /// plus the CIs' own ci.crl.pem as load_pki_material reads it: what the
    /// service should check chains against from now on. Empty with
    /// `load_error` set when the stored set cannot be read; then keep the
    /// previous set.
    std::vector<crypto::crl> crls;
    std::string load_error;
};

/// Fetches every URL with `client` (GET; PEM or DER body up to the client's
/// limit), stores each valid CRL under `pki_dir`, and returns the current
/// set. A failing URL never removes a stored CRL: the last good list stays
/// in force. Blocking; run it on a timer thread, not a request thread.
[[nodiscard]] crl_refresh_result refresh_crls(const std::filesystem::path& pki_dir,
                                              std::span<const std::string> urls,
                                              http::client& client, crypto::sys_seconds now);

} // namespace esimguard::defense
