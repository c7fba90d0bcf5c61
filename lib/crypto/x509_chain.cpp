// Chain validation for the SGP.22 PKI (SGP.22 §4.5.2, §5.6.2 step "verify the
// eUICC certificate chain"): CI → EUM → eUICC and CI → DPauth / DPpb / DPtls.
// Written out rather than delegated to X509_verify_cert because SGP.22 needs
// checks generic path validation lacks (role policy per position, EID prefix
// range, one curve for the chain) and a distinct reason for every refusal.

#include "x509_internal.hpp"

#include <openssl/err.h>

#include <algorithm>
#include <string>

namespace esimguard::crypto {

namespace {

using chain_result = std::expected<void, chain_error>;

std::unexpected<chain_error> refuse(chain_errc code, std::size_t depth, std::string detail) {
    return std::unexpected(chain_error{code, depth, std::move(detail)});
}

bool same_name(const certificate& subject_of, const X509_NAME* name) {
    return X509_NAME_cmp(X509_get_subject_name(subject_of.internals().x.get()), name) == 0;
}

// Whether `candidate` may be the issuer of `child`: names match and, when
// both key identifiers are present, AKI == SKI (RFC 5280 §4.2.1.1).
bool issued(const certificate& child, const certificate& candidate) {
    if (!same_name(candidate, X509_get_issuer_name(child.internals().x.get()))) {
        return false;
    }
    auto aki = child.authority_key_id();
    auto ski = candidate.subject_key_id();
    return !aki || !ski || *aki == *ski;
}

bool has_policy(const certificate& c, cert_role role) {
    auto oids = c.policy_oids();
    return std::find(oids.begin(), oids.end(), policy_oid(role)) != oids.end();
}

chain_result check_validity(const certificate& c, std::size_t depth, sys_seconds at) {
    if (at < c.not_before()) {
        return refuse(chain_errc::not_yet_valid, depth, c.subject() + " is not yet valid");
    }
    if (at > c.not_after()) {
        return refuse(chain_errc::expired, depth, c.subject() + " has expired");
    }
    return {};
}

chain_result check_ca(const certificate& c, std::size_t depth, unsigned needed_usage) {
    if (!c.is_ca()) {
        return refuse(chain_errc::not_a_ca, depth, c.subject() + " is not a CA");
    }
    auto ku = c.key_usage_bits();
    if (!ku || (*ku & needed_usage) != needed_usage) {
        return refuse(chain_errc::key_usage, depth,
                      c.subject() + " lacks keyCertSign/cRLSign key usage");
    }
    return {};
}

bool is_eid(std::string_view s) {
    return s.size() == 32 &&
           std::all_of(s.begin(), s.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
}

chain_result check_eid_range(const certificate& euicc, const certificate& eum) {
    auto eid = euicc.subject_serial_number();
    if (!eid || !is_eid(*eid)) {
        return refuse(chain_errc::malformed_eid, 0,
                      "eUICC certificate subject has no 32-digit serialNumber (EID)");
    }
    auto prefixes = eum.permitted_eid_prefixes();
    if (prefixes.empty()) {
        return refuse(chain_errc::eid_out_of_range, 1,
                      "EUM certificate declares no permitted EID range");
    }
    for (const auto& prefix : prefixes) {
        if (!prefix.empty() && eid->starts_with(prefix)) {
            return {};
        }
    }
    return refuse(chain_errc::eid_out_of_range, 0,
                  "EID " + *eid + " outside the EUM's permitted prefixes");
}

// Signatures already verified on certificates and CRLs that recur in every
// chain: an eUICC's EUM and CI and the CI's CRL on an SM-DP+ (the same for
// millions of cards), the SM-DP+'s own DPauth/DPpb chain on an eUICC. The key
// is the whole signed object (DER) and the whole issuer public key, so a hit
// is exactly the answer a fresh verification would give; only successes are
// kept. Validity, policy and revocation are still checked on every call:
// they depend on the time and on the CRLs of that call. FIFO, bounded.
class verified_signatures {
public:
    static verified_signatures& instance() {
        static verified_signatures cache;
        return cache;
    }
    // The signed object's DER, the issuer key's curve and its point, with
    // the lengths, so that no two (object, key) pairs share a key. (The SPKI
    // DER would say the same, but OpenSSL 3 encodes it through its provider
    // encoders, which cost as much as a third of a verification.)
    static std::string key(const bytes& der, const public_key& issuer) {
        const bytes point = issuer.point();
        if (point.empty()) {
            return {}; // not encodable (out of memory): never remembered
        }
        std::string k;
        k.reserve(der.size() + point.size() + 32);
        k.append(std::to_string(der.size())).push_back(':');
        k.append(der.begin(), der.end());
        k.append(to_string(issuer.key_curve())).push_back(':');
        k.append(point.begin(), point.end());
        return k;
    }
    bool contains(const std::string& k) { return !k.empty() && seen_.find(k).has_value(); }
    void add(std::string k) {
        if (!k.empty()) {
            seen_.add(std::move(k), true);
        }
    }

private:
    recent_fifo<bool> seen_{256};
};

// X509_verify, remembered for certificates that recur (`remember`).
bool certificate_signed_by(const certificate& c, const certificate& issuer, bool remember) {
    std::string k;
    if (remember) {
        k = verified_signatures::key(c.der(), issuer.key());
        if (verified_signatures::instance().contains(k)) {
            return true;
        }
    }
    const int ok = X509_verify(c.internals().x.get(), issuer.internals().key.internals().key.get());
    ERR_clear_error();
    if (ok != 1) {
        return false;
    }
    if (remember) {
        verified_signatures::instance().add(std::move(k));
    }
    return true;
}

bool crl_signed_by(const crl& l, const certificate& issuer) {
    std::string k = verified_signatures::key(l.der(), issuer.key());
    if (verified_signatures::instance().contains(k)) {
        return true;
    }
    if (!l.signed_by(issuer.key())) {
        return false;
    }
    verified_signatures::instance().add(std::move(k));
    return true;
}

// Revocation of `c` by the CRLs of `issuer`. A CRL names its issuer; one
// that claims this issuer but does not verify is refused, not skipped, so
// that a forged CRL cannot pass silently.
chain_result check_revocation(const certificate& c, std::size_t depth, const certificate& issuer,
                              std::span<const crl> crls) {
    const X509_NAME* issuer_name = X509_get_subject_name(issuer.internals().x.get());
    for (const crl& l : crls) {
        if (X509_NAME_cmp(X509_CRL_get_issuer(l.internals().x.get()), issuer_name) != 0) {
            continue;
        }
        if (!crl_signed_by(l, issuer)) {
            return refuse(chain_errc::bad_crl, depth + 1,
                          "CRL of " + issuer.subject() + " has a bad signature");
        }
        auto ku = issuer.key_usage_bits();
        if (!ku || (*ku & key_usage::crl_sign) == 0) {
            return refuse(chain_errc::key_usage, depth + 1,
                          issuer.subject() + " issued a CRL without cRLSign key usage");
        }
        if (l.lists(c.serial())) {
            return refuse(chain_errc::revoked, depth,
                          c.subject() + " (serial " + to_hex(c.serial()) + ") is revoked");
        }
    }
    return {};
}

} // namespace

std::string_view to_string(chain_errc e) {
    switch (e) {
    case chain_errc::wrong_issuer:
        return "wrong_issuer";
    case chain_errc::unexpected_path:
        return "unexpected_path";
    case chain_errc::bad_signature:
        return "bad_signature";
    case chain_errc::expired:
        return "expired";
    case chain_errc::not_yet_valid:
        return "not_yet_valid";
    case chain_errc::wrong_policy:
        return "wrong_policy";
    case chain_errc::key_usage:
        return "key_usage";
    case chain_errc::not_a_ca:
        return "not_a_ca";
    case chain_errc::eid_out_of_range:
        return "eid_out_of_range";
    case chain_errc::malformed_eid:
        return "malformed_eid";
    case chain_errc::revoked:
        return "revoked";
    case chain_errc::bad_crl:
        return "bad_crl";
    case chain_errc::mixed_curves:
        return "mixed_curves";
    case chain_errc::unknown_critical_extension:
        return "unknown_critical_extension";
    }
    return "?";
}

std::expected<void, chain_error> validate_chain(const certificate& leaf,
                                                std::span<const certificate> intermediates,
                                                std::span<const certificate> anchors,
                                                std::span<const crl> crls, sys_seconds at,
                                                cert_role role) {
    if (role == cert_role::ci || role == cert_role::eum) {
        return refuse(chain_errc::unexpected_path, 0,
                      std::string(to_string(role)) + " is not a leaf role");
    }
    // SGP.22 v2 paths have a fixed shape: one EUM between an eUICC and its CI,
    // none between an SM-DP+ certificate and its CI.
    const std::size_t wanted_intermediates = role == cert_role::euicc ? 1 : 0;

    std::vector<const certificate*> path{&leaf};
    const certificate* anchor = nullptr;
    while (anchor == nullptr) {
        const certificate& child = *path.back();
        auto a = std::find_if(anchors.begin(), anchors.end(),
                              [&](const certificate& c) { return issued(child, c); });
        if (a != anchors.end()) {
            anchor = &*a;
            break;
        }
        if (path.size() > wanted_intermediates) {
            // Either the issuer is unknown, or the path is longer than the role allows.
            auto i = std::find_if(intermediates.begin(), intermediates.end(),
                                  [&](const certificate& c) { return issued(child, c); });
            if (i == intermediates.end()) {
                return refuse(chain_errc::wrong_issuer, path.size() - 1,
                              "no trusted issuer for " + child.subject());
            }
            return refuse(chain_errc::unexpected_path, path.size(),
                          "a " + std::string(to_string(role)) + " chain has " +
                              std::to_string(wanted_intermediates) +
                              " intermediate certificate(s)");
        }
        auto i = std::find_if(intermediates.begin(), intermediates.end(),
                              [&](const certificate& c) { return issued(child, c); });
        if (i == intermediates.end()) {
            return refuse(chain_errc::wrong_issuer, path.size() - 1,
                          "no issuer among the given certificates for " + child.subject());
        }
        path.push_back(&*i);
    }
    if (path.size() - 1 != wanted_intermediates) {
        return refuse(chain_errc::unexpected_path, path.size() - 1,
                      "a " + std::string(to_string(role)) + " chain needs " +
                          std::to_string(wanted_intermediates) + " intermediate certificate(s)");
    }
    path.push_back(anchor);

    // SGP.22 §4.5.2: all certificates of a chain on the same curve.
    for (std::size_t d = 1; d < path.size(); ++d) {
        if (path[d]->key_curve() != leaf.key_curve()) {
            return refuse(chain_errc::mixed_curves, d,
                          path[d]->subject() + " is on " +
                              std::string(to_string(path[d]->key_curve())) + ", the leaf on " +
                              std::string(to_string(leaf.key_curve())));
        }
    }

    for (std::size_t d = 0; d < path.size(); ++d) {
        const certificate& c = *path[d];
        const bool is_anchor = d + 1 == path.size();
        const certificate& issuer = is_anchor ? c : *path[d + 1];

        if (c.has_unknown_critical_extension()) {
            return refuse(chain_errc::unknown_critical_extension, d,
                          c.subject() + " has an unknown critical extension");
        }
        // The anchor is trusted as configured, but a self-signed CI whose
        // signature fails is a corrupt file, not a root to trust.
        // An eUICC certificate is seen once per download; everything else
        // in a chain recurs (the EUM and CI, the SM-DP+'s own certificates).
        const bool recurs = d > 0 || role != cert_role::euicc;
        if (!certificate_signed_by(c, issuer, recurs)) {
            return refuse(chain_errc::bad_signature, d, "signature of " + c.subject() + " fails");
        }
        if (auto r = check_validity(c, d, at); !r) {
            return r;
        }

        const cert_role want = d == 0 ? role : (is_anchor ? cert_role::ci : cert_role::eum);
        if (!has_policy(c, want)) {
            return refuse(chain_errc::wrong_policy, d,
                          c.subject() + " lacks the " + std::string(to_string(want)) + " policy " +
                              std::string(policy_oid(want)));
        }
        if (d == 0) {
            auto ku = c.key_usage_bits();
            if (!ku || (*ku & key_usage::digital_signature) == 0) {
                return refuse(chain_errc::key_usage, 0,
                              c.subject() + " lacks digitalSignature key usage");
            }
        } else {
            const unsigned needed = is_anchor ? key_usage::key_cert_sign | key_usage::crl_sign
                                              : key_usage::key_cert_sign;
            if (auto r = check_ca(c, d, needed); !r) {
                return r;
            }
        }
        if (!is_anchor) {
            if (auto r = check_revocation(c, d, issuer, crls); !r) {
                return r;
            }
        }
    }

    if (role == cert_role::euicc) {
        return check_eid_range(leaf, *path[1]);
    }
    return {};
}

} // namespace esimguard::crypto
