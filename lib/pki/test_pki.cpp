// The test PKI that `esimguard pki init` writes: a CI, an EUM, DPauth, DPpb
// and DPtls per curve, after the certificate profiles of SGP.22 §4.5.2 as the
// SGP.26 test certificates apply them (policy OIDs, critical flags,
// registeredID values 2.999.1 for the CI and 2.999.10 for the SM-DP+).

#include "esimguard/pki/test_pki.hpp"

#include "esimguard/crypto/cert_builder.hpp"
#include "esimguard/crypto/random.hpp"
#include "esimguard/pki/eid.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace esimguard::pki {

namespace fs = std::filesystem;
using namespace std::chrono;
using crypto::cert_role;
using crypto::certificate;
using crypto::curve;
using crypto::sys_seconds;

namespace {

constexpr std::string_view server_auth_oid = "1.3.6.1.5.5.7.3.1";
constexpr std::string_view client_auth_oid = "1.3.6.1.5.5.7.3.2";
// SGP.26 test values of the subjectAltName registeredID.
constexpr std::string_view ci_registered_id = "2.999.1";
constexpr std::string_view dp_registered_id = "2.999.10";

std::unexpected<pki_error> fail(pki_errc code, std::string detail) {
    return std::unexpected(pki_error{code, std::move(detail)});
}

std::unexpected<pki_error> crypto_fail(std::string_view what, const crypto::error& e) {
    return fail(pki_errc::crypto, std::string(what) + ": " +
                                      std::string(crypto::to_string(e.code)) +
                                      (e.detail.empty() ? "" : " (" + e.detail + ")"));
}

// Clears a string that held key material before it is freed.
void wipe(std::string& s) {
    volatile char* p = s.data();
    for (std::size_t i = 0; i < s.size(); ++i) {
        p[i] = 0;
    }
    s.clear();
}

// Writes `data` with permissions `mode`, also when the file already existed
// with wider ones (umask only narrows, and open() keeps an old file's mode).
pki_result<void> write_file(const fs::path& path, std::string_view data, mode_t mode) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) {
        return fail(pki_errc::io, "cannot write " + path.string() + ": " + std::strerror(errno));
    }
    bool ok = ::fchmod(fd, mode) == 0;
    std::size_t done = 0;
    while (ok && done < data.size()) {
        const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        ok = n > 0;
        done += ok ? static_cast<std::size_t>(n) : 0;
    }
    const int saved = errno;
    ok = (::close(fd) == 0) && ok;
    if (!ok) {
        return fail(pki_errc::io, "cannot write " + path.string() + ": " + std::strerror(saved));
    }
    return {};
}

pki_result<std::string> read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return fail(pki_errc::missing_pki, "cannot read " + path.string());
    }
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

pki_result<bytes> new_serial() {
    auto r = crypto::random_bytes(16);
    if (!r) {
        return crypto_fail("serial", r.error());
    }
    // Positive (RFC 5280 §4.1.2.2) and never zero.
    (*r)[0] = static_cast<std::uint8_t>(((*r)[0] & 0x7f) | 0x01);
    return *r;
}

std::string_view curve_label(curve c) {
    return c == curve::nist_p256 ? "NIST" : "BRP";
}

// A generated key and certificate, ready to be written.
struct issued {
    std::string name;
    std::string key_pem;
    std::unique_ptr<crypto::signer> signer;
    certificate cert;
};

pki_result<issued> issue(std::string name, curve c, crypto::cert_request request,
                         const issued* issuer) {
    auto key = crypto::private_key::generate(c);
    if (!key) {
        return crypto_fail("key for " + name, key.error());
    }
    auto serial = new_serial();
    if (!serial) {
        return std::unexpected(serial.error());
    }
    request.subject_key = key->public_part();
    request.serial = std::move(*serial);
    std::string pem = key->to_pem();
    auto signer = crypto::create_software_signer(std::move(*key));
    auto cert = issuer ? crypto::issue_certificate(request, issuer->cert, *issuer->signer)
                       : crypto::issue_certificate(request, std::nullopt, *signer);
    if (!cert) {
        wipe(pem);
        return crypto_fail("certificate " + name, cert.error());
    }
    return issued{std::move(name), std::move(pem), std::move(signer), std::move(*cert)};
}

crypto::cert_request request_for(crypto::distinguished_name subject, sys_seconds from,
                                 sys_seconds until, cert_role role, unsigned usage) {
    // subject_key and serial are filled in by issue(); a placeholder key is
    // not available, so the request is completed there.
    return crypto::cert_request{
        .subject = std::move(subject),
        .subject_key = crypto::public_key(nullptr),
        .serial = {},
        .not_before = from,
        .not_after = until,
        .key_usage = usage,
        .policy_oids = {std::string(crypto::policy_oid(role))},
    };
}

// 9999-12-31T23:59:59Z: "no well-defined expiration date" (RFC 5280
// §4.1.2.5), the notAfter SGP.22 gives eUICC certificates.
sys_seconds forever() {
    return sys_days{year{9999} / 12 / 31} + hours{23} + minutes{59} + seconds{59};
}

bool valid_host(std::string_view h) {
    return !h.empty() && h.size() <= 253 && std::all_of(h.begin(), h.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '-';
    });
}

pki_result<void> check_chain(const certificate& leaf, const std::vector<certificate>& inter,
                             const certificate& ci, sys_seconds at, cert_role role) {
    std::vector<certificate> anchors{ci};
    auto r = crypto::validate_chain(leaf, inter, anchors, {}, at, role);
    if (!r) {
        return fail(pki_errc::crypto,
                    "self-check of the " + std::string(crypto::to_string(role)) +
                        " chain failed: " + std::string(crypto::to_string(r.error().code)) + " (" +
                        r.error().detail + ")");
    }
    return {};
}

const char* readme_text =
    R"(esimguard test PKI (esimguard pki init). FOR TESTS ONLY: these keys are not
protected by anything but file permissions, and no GSMA CI trusts them.

One directory per curve: nist/ (NIST P-256) and brainpool/ (brainpoolP256r1).
In each, every certificate as PEM and DER, and its private key as PKCS#8 PEM
(mode 0600):

  ci.{pem,der}, ci.key.pem      CI root, self-signed; policy 2.23.146.1.2.1.0
  ci.crl.{pem,der}              empty CRL issued by the CI
  eum.{pem,der}, eum.key.pem    EUM; policy 2.23.146.1.2.1.2; may certify EIDs
                                starting 89049032 (permittedEins extension)
  dpauth.{pem,der,key.pem}      SM-DP+ authentication; policy 2.23.146.1.2.1.4
  dppb.{pem,der,key.pem}        SM-DP+ profile binding; policy 2.23.146.1.2.1.5
  dptls.{pem,der,key.pem}       SM-DP+ TLS; policy 2.23.146.1.2.1.3, serverAuth,
                                subjectAltName DNS = the --host given
  dptls-chain.pem               dptls then ci, for a TLS listener
  euicc/<EID>.{pem,der,key.pem} eUICC certificates (esimguard pki issue-euicc);
                                policy 2.23.146.1.2.1.1, subject serialNumber = EID

Check a chain:  openssl verify -CAfile ci.pem -untrusted eum.pem euicc/<EID>.pem
)";

pki_result<std::vector<fs::path>> init_curve(const test_pki_options& o, curve c) {
    const fs::path dir = o.dir / std::string(curve_dir_name(c));
    std::error_code ec;
    if (!o.overwrite && fs::exists(dir / "ci.pem", ec)) {
        return fail(pki_errc::already_exists,
                    (dir / "ci.pem").string() + " exists; pass overwrite (--force) to replace it");
    }
    fs::create_directories(dir / "euicc", ec);
    if (ec) {
        return fail(pki_errc::io, "cannot create " + dir.string() + ": " + ec.message());
    }

    const sys_seconds from = o.now - hours{1};
    const std::string label(curve_label(c));
    const std::string crl_uri =
        "http://" + o.host + "/esimguard-ci-" + std::string(curve_dir_name(c)) + ".crl";

    auto ci_req = request_for(
        {{"O", "esimguard test"}, {"OU", "TESTCERT"}, {"CN", "esimguard Test CI " + label}}, from,
        o.now + days{365 * 35}, cert_role::ci,
        crypto::key_usage::key_cert_sign | crypto::key_usage::crl_sign);
    ci_req.is_ca = true;
    ci_req.registered_ids = {std::string(ci_registered_id)};
    auto ci = issue("ci", c, std::move(ci_req), nullptr);
    if (!ci) {
        return std::unexpected(ci.error());
    }

    auto eum_req = request_for({{"O", "esimguard test EUM"}, {"CN", "esimguard Test EUM " + label}},
                               from, o.now + days{365 * 30}, cert_role::eum,
                               crypto::key_usage::key_cert_sign | crypto::key_usage::crl_sign);
    eum_req.is_ca = true;
    eum_req.path_len = 0;
    eum_req.permitted_eid_prefixes = {std::string(test_eid_prefix)};
    eum_req.crl_distribution_points = {crl_uri};
    auto eum = issue("eum", c, std::move(eum_req), &*ci);
    if (!eum) {
        return std::unexpected(eum.error());
    }

    auto dp_request = [&](cert_role role, days life) {
        auto r = request_for({{"O", "esimguard"}, {"CN", o.host}}, from, o.now + life, role,
                             crypto::key_usage::digital_signature);
        r.dns_names = {o.host};
        r.registered_ids = {std::string(dp_registered_id)};
        r.crl_distribution_points = {crl_uri};
        return r;
    };
    auto dpauth = issue("dpauth", c, dp_request(cert_role::dp_auth, days{365 * 10}), &*ci);
    auto dppb = dpauth ? issue("dppb", c, dp_request(cert_role::dp_pb, days{365 * 10}), &*ci)
                       : std::unexpected(dpauth.error());
    // TLS clients cap server certificate lifetimes at 398 days.
    auto tls_req = dp_request(cert_role::dp_tls, days{397});
    tls_req.extended_key_usage_oids = {std::string(server_auth_oid), std::string(client_auth_oid)};
    auto dptls = dppb ? issue("dptls", c, std::move(tls_req), &*ci) : std::unexpected(dppb.error());
    if (!dptls) {
        return std::unexpected(dptls.error());
    }

    auto crl =
        crypto::issue_crl({o.now - hours{1}, o.now + days{365}, 1, {}}, ci->cert, *ci->signer);
    if (!crl) {
        return crypto_fail("CI CRL", crl.error());
    }

    for (auto [cert, role] :
         {std::pair{&dpauth->cert, cert_role::dp_auth}, std::pair{&dppb->cert, cert_role::dp_pb},
          std::pair{&dptls->cert, cert_role::dp_tls}}) {
        if (auto r = check_chain(*cert, {}, ci->cert, o.now, role); !r) {
            return std::unexpected(r.error());
        }
    }

    std::vector<fs::path> written;
    auto put = [&](const fs::path& p, std::string_view data, mode_t mode) -> pki_result<void> {
        if (auto r = write_file(p, data, mode); !r) {
            return r;
        }
        written.push_back(p);
        return {};
    };
    for (issued* item : {&*ci, &*eum, &*dpauth, &*dppb, &*dptls}) {
        const auto& der = item->cert.der();
        auto r1 = put(dir / (item->name + ".pem"), item->cert.pem(), 0644);
        auto r2 =
            r1 ? put(dir / (item->name + ".der"),
                     std::string_view(reinterpret_cast<const char*>(der.data()), der.size()), 0644)
               : r1;
        auto r3 = r2 ? put(dir / (item->name + ".key.pem"), item->key_pem, 0600) : r2;
        wipe(item->key_pem);
        if (!r3) {
            return std::unexpected(r3.error());
        }
    }
    const auto& crl_der = crl->der();
    if (auto r = put(dir / "ci.crl.pem", crl->pem(), 0644); !r) {
        return std::unexpected(r.error());
    }
    if (auto r = put(
            dir / "ci.crl.der",
            std::string_view(reinterpret_cast<const char*>(crl_der.data()), crl_der.size()), 0644);
        !r) {
        return std::unexpected(r.error());
    }
    if (auto r = put(dir / "dptls-chain.pem", dptls->cert.pem() + ci->cert.pem(), 0644); !r) {
        return std::unexpected(r.error());
    }
    return written;
}

} // namespace

std::optional<curve_set> parse_curve_set(std::string_view text) {
    if (text == "nist") {
        return curve_set::nist;
    }
    if (text == "brainpool") {
        return curve_set::brainpool;
    }
    if (text == "both") {
        return curve_set::both;
    }
    return std::nullopt;
}

std::optional<curve> parse_curve(std::string_view text) {
    if (text == "nist") {
        return curve::nist_p256;
    }
    if (text == "brainpool") {
        return curve::brainpool_p256r1;
    }
    return std::nullopt;
}

std::string_view curve_dir_name(curve c) {
    return c == curve::nist_p256 ? "nist" : "brainpool";
}

std::string_view to_string(pki_errc e) {
    switch (e) {
    case pki_errc::io:
        return "io";
    case pki_errc::already_exists:
        return "already_exists";
    case pki_errc::missing_pki:
        return "missing_pki";
    case pki_errc::malformed_eid:
        return "malformed_eid";
    case pki_errc::eid_out_of_range:
        return "eid_out_of_range";
    case pki_errc::bad_input:
        return "bad_input";
    case pki_errc::crypto:
        return "crypto";
    }
    return "?";
}

pki_result<std::vector<fs::path>> init_test_pki(const test_pki_options& options) {
    if (options.dir.empty()) {
        return fail(pki_errc::bad_input, "no directory given");
    }
    if (!valid_host(options.host)) {
        return fail(pki_errc::bad_input,
                    "host must be a DNS name (letters, digits, '.', '-'): " + options.host);
    }
    std::vector<curve> curves;
    if (options.curves != curve_set::brainpool) {
        curves.push_back(curve::nist_p256);
    }
    if (options.curves != curve_set::nist) {
        curves.push_back(curve::brainpool_p256r1);
    }
    std::vector<fs::path> written;
    for (curve c : curves) {
        auto r = init_curve(options, c);
        if (!r) {
            return r;
        }
        written.insert(written.end(), r->begin(), r->end());
    }
    const fs::path readme = options.dir / "README.txt";
    if (auto r = write_file(readme, readme_text, 0644); !r) {
        return std::unexpected(r.error());
    }
    written.push_back(readme);
    return written;
}

pki_result<std::vector<fs::path>> issue_euicc(const fs::path& dir, std::string_view eid, curve c,
                                              sys_seconds now) {
    if (!eid_is_valid(eid)) {
        return fail(pki_errc::malformed_eid,
                    "EID must be 32 digits with valid check digits (SGP.29): " + std::string(eid));
    }
    const fs::path base = dir / std::string(curve_dir_name(c));
    auto ci_pem = read_file(base / "ci.pem");
    auto eum_pem = ci_pem ? read_file(base / "eum.pem") : ci_pem;
    auto eum_key_pem = eum_pem ? read_file(base / "eum.key.pem") : eum_pem;
    if (!eum_key_pem) {
        return fail(pki_errc::missing_pki,
                    eum_key_pem.error().detail + " (run `esimguard pki init` first)");
    }
    auto ci = certificate::from_pem(*ci_pem);
    auto eum = certificate::from_pem(*eum_pem);
    auto eum_key = crypto::private_key::from_pem(*eum_key_pem);
    wipe(*eum_key_pem);
    if (!ci || !eum || !eum_key) {
        return fail(pki_errc::missing_pki, "unreadable CI/EUM files under " + base.string());
    }
    auto prefixes = eum->permitted_eid_prefixes();
    if (std::none_of(prefixes.begin(), prefixes.end(),
                     [&](const std::string& p) { return !p.empty() && eid.starts_with(p); })) {
        std::string allowed;
        for (const auto& p : prefixes) {
            allowed += (allowed.empty() ? "" : ", ") + p;
        }
        return fail(pki_errc::eid_out_of_range,
                    "EID " + std::string(eid) +
                        " is outside the EUM's permitted range (prefixes: " + allowed + ")");
    }
    const fs::path out = base / "euicc" / std::string(eid);
    std::error_code ec;
    if (fs::exists(out.string() + ".pem", ec)) {
        return fail(pki_errc::already_exists, out.string() + ".pem exists: one key per eUICC");
    }
    fs::create_directories(base / "euicc", ec);
    if (ec) {
        return fail(pki_errc::io,
                    "cannot create " + (base / "euicc").string() + ": " + ec.message());
    }

    issued eum_issuer{"eum", {}, crypto::create_software_signer(std::move(*eum_key)), *eum};
    std::string org = "esimguard test EUM";
    auto req = request_for(
        {{"O", org}, {"serialNumber", std::string(eid)}, {"CN", "esimguard test eUICC"}},
        now - hours{1}, forever(), cert_role::euicc, crypto::key_usage::digital_signature);
    auto card = issue("euicc", c, std::move(req), &eum_issuer);
    if (!card) {
        return std::unexpected(card.error());
    }
    if (auto r = check_chain(card->cert, {*eum}, *ci, now, cert_role::euicc); !r) {
        wipe(card->key_pem);
        return std::unexpected(r.error());
    }
    std::vector<fs::path> written{out.string() + ".pem", out.string() + ".der",
                                  out.string() + ".key.pem"};
    const auto& der = card->cert.der();
    auto r1 = write_file(written[0], card->cert.pem(), 0644);
    auto r2 =
        r1 ? write_file(written[1],
                        std::string_view(reinterpret_cast<const char*>(der.data()), der.size()),
                        0644)
           : r1;
    auto r3 = r2 ? write_file(written[2], card->key_pem, 0600) : r2;
    wipe(card->key_pem);
    if (!r3) {
        return std::unexpected(r3.error());
    }
    return written;
}

} // namespace esimguard::pki
