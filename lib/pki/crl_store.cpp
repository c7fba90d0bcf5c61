// CRLs kept in a PKI directory: validation against the directory's CAs,
// atomic replacement per issuer, loading for the SM-DP+.

#include "esimguard/pki/crl_store.hpp"

#include "esimguard/crypto/hash.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include <unistd.h>

namespace esimguard::pki {

namespace {

namespace fs = std::filesystem;

constexpr std::string_view crl_dir_name = "crls";

pki_error bad(std::string detail) {
    return {pki_errc::bad_input, std::move(detail)};
}

std::optional<std::string> read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) {
        return std::nullopt;
    }
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

/// The CA certificates of one curve directory.
std::vector<std::pair<fs::path, crypto::certificate>> cas_of(const fs::path& curve_dir) {
    std::vector<fs::path> files{curve_dir / "ci.pem", curve_dir / "eum.pem"};
    std::error_code ec;
    if (fs::is_directory(curve_dir / "eums", ec)) {
        for (const auto& e : fs::directory_iterator(curve_dir / "eums", ec)) {
            if (e.path().extension() == ".pem" && e.path().stem().extension() != ".key") {
                files.push_back(e.path());
            }
        }
    }
    std::vector<std::pair<fs::path, crypto::certificate>> out;
    for (const auto& f : files) {
        auto text = read_file(f);
        if (!text) {
            continue;
        }
        if (auto c = crypto::certificate::from_pem(*text); c && c->is_ca()) {
            out.emplace_back(f, *c);
        }
    }
    return out;
}

std::vector<fs::path> curve_dirs(const fs::path& dir) {
    std::vector<fs::path> out;
    for (auto c : {crypto::curve::nist_p256, crypto::curve::brainpool_p256r1}) {
        auto d = dir / std::string(curve_dir_name(c));
        std::error_code ec;
        if (fs::is_directory(d, ec)) {
            out.push_back(d);
        }
    }
    return out;
}

/// One file name per issuing CA: its key identifier (or a hash of its
/// name), so that a newer CRL of the same CA replaces the older.
std::string file_name_for(const crypto::certificate& ca) {
    auto id = ca.subject_key_id();
    bytes key = id ? *id : crypto::sha256(as_bytes(ca.subject()));
    return to_hex(key) + ".crl.pem";
}

} // namespace

pki_result<crypto::crl> parse_crl(byte_view pem_or_der) {
    std::string_view text(reinterpret_cast<const char*>(pem_or_der.data()), pem_or_der.size());
    if (text.find("-----BEGIN X509 CRL-----") != std::string_view::npos) {
        auto c = crypto::crl::from_pem(text);
        if (!c) {
            return std::unexpected(bad("not a CRL: the PEM block does not parse"));
        }
        return *c;
    }
    auto c = crypto::crl::from_der(pem_or_der);
    if (!c) {
        return std::unexpected(bad("not a CRL (neither PEM \"X509 CRL\" nor DER)"));
    }
    return *c;
}

pki_result<crl_issuer> find_crl_issuer(const fs::path& dir, const crypto::crl& crl,
                                       crypto::sys_seconds now) {
    auto dirs = curve_dirs(dir);
    if (dirs.empty()) {
        return std::unexpected(pki_error{
            pki_errc::missing_pki, fmt::format("no PKI (nist, brainpool) under {}", dir.string())});
    }
    bool name_matched = false;
    for (const auto& d : dirs) {
        for (const auto& [file, ca] : cas_of(d)) {
            if (ca.subject() != crl.issuer()) {
                continue;
            }
            name_matched = true;
            if (!crl.signed_by(ca.key())) {
                continue;
            }
            if (auto next = crl.next_update(); next && *next < now) {
                return std::unexpected(bad(
                    fmt::format("the CRL of {} is stale (nextUpdate has passed); get a fresh one",
                                crl.issuer())));
            }
            return crl_issuer{file, ca, d};
        }
    }
    if (name_matched) {
        return std::unexpected(bad(fmt::format(
            "the CRL names {} as issuer but its signature does not verify under that CA",
            crl.issuer())));
    }
    return std::unexpected(
        bad(fmt::format("the CRL's issuer {} is no CI or EUM of {}", crl.issuer(), dir.string())));
}

pki_result<fs::path> add_crl(const fs::path& dir, const crypto::crl& crl, crypto::sys_seconds now) {
    auto issuer = find_crl_issuer(dir, crl, now);
    if (!issuer) {
        return std::unexpected(issuer.error());
    }
    const auto target_dir = issuer->curve_dir / std::string(crl_dir_name);
    const auto target = target_dir / file_name_for(issuer->certificate);
    std::error_code ec;
    fs::create_directories(target_dir, ec);
    if (ec) {
        return std::unexpected(pki_error{
            pki_errc::io, fmt::format("cannot create {}: {}", target_dir.string(), ec.message())});
    }
    if (auto old_text = read_file(target)) {
        if (auto old = crypto::crl::from_pem(*old_text); old) {
            if (crl.this_update() < old->this_update()) {
                return std::unexpected(
                    bad("this CRL is older than the one stored for the same CA; refusing to roll "
                        "revocations back"));
            }
        }
    }
    const auto tmp = target_dir / fmt::format(".{}.tmp.{}", target.filename().string(), ::getpid());
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << crl.pem();
        out.flush();
        if (!out) {
            fs::remove(tmp, ec);
            return std::unexpected(
                pki_error{pki_errc::io, fmt::format("cannot write {}", tmp.string())});
        }
    }
    fs::rename(tmp, target, ec);
    if (ec) {
        fs::remove(tmp, ec);
        return std::unexpected(pki_error{
            pki_errc::io, fmt::format("cannot replace {}: {}", target.string(), ec.message())});
    }
    return target;
}

pki_result<std::vector<crypto::crl>> load_stored_crls(const fs::path& dir) {
    std::vector<crypto::crl> out;
    for (const auto& d : curve_dirs(dir)) {
        const auto cd = d / std::string(crl_dir_name);
        std::error_code ec;
        if (!fs::is_directory(cd, ec)) {
            continue;
        }
        auto cas = cas_of(d);
        std::vector<fs::path> files;
        for (const auto& e : fs::directory_iterator(cd, ec)) {
            const auto name = e.path().filename().string();
            if (name.ends_with(".crl.pem") && !name.starts_with(".")) {
                files.push_back(e.path());
            }
        }
        std::sort(files.begin(), files.end());
        for (const auto& f : files) {
            auto text = read_file(f);
            if (!text) {
                return std::unexpected(
                    pki_error{pki_errc::io, fmt::format("cannot read {}", f.string())});
            }
            auto crl = crypto::crl::from_pem(*text);
            if (!crl) {
                return std::unexpected(bad(fmt::format("{}: not a CRL", f.string())));
            }
            bool verified = false;
            for (const auto& [file, ca] : cas) {
                if (ca.subject() == crl->issuer() && crl->signed_by(ca.key())) {
                    verified = true;
                    break;
                }
            }
            if (!verified) {
                return std::unexpected(bad(fmt::format(
                    "{}: not signed by a CA of this PKI directory (edited on disk?)", f.string())));
            }
            out.push_back(*crl);
        }
    }
    return out;
}

} // namespace esimguard::pki
