// Loads the SM-DP+'s credentials from a PKI directory laid out as
// pki::init_test_pki writes it (one directory per curve).

#include "esimguard/pki/test_pki.hpp"
#include "esimguard/smdp/config.hpp"

#include <fmt/format.h>

#include <fstream>
#include <sstream>

namespace esimguard::smdp {

namespace {

std::expected<std::string, std::string> read_text(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) {
        return std::unexpected(fmt::format("cannot read {}", p.string()));
    }
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::expected<crypto::certificate, std::string> load_cert(const std::filesystem::path& p) {
    auto text = read_text(p);
    if (!text) {
        return std::unexpected(text.error());
    }
    auto c = crypto::certificate::from_pem(*text);
    if (!c) {
        return std::unexpected(
            fmt::format("{}: not a certificate ({})", p.string(), c.error().detail));
    }
    return *c;
}

std::expected<std::shared_ptr<const crypto::signer>, std::string>
load_signer(const std::filesystem::path& p) {
    auto text = read_text(p);
    if (!text) {
        return std::unexpected(text.error());
    }
    auto k = crypto::private_key::from_pem(*text);
    std::fill(text->begin(), text->end(), '\0');
    if (!k) {
        return std::unexpected(fmt::format("{}: not a private key", p.string()));
    }
    return std::shared_ptr<const crypto::signer>(crypto::create_software_signer(std::move(*k)));
}

} // namespace

std::expected<pki_material, std::string> load_pki_material(const std::filesystem::path& dir) {
    pki_material out;
    for (auto c : {crypto::curve::nist_p256, crypto::curve::brainpool_p256r1}) {
        const auto d = dir / std::string(pki::curve_dir_name(c));
        if (!std::filesystem::is_directory(d)) {
            continue;
        }
        auto ci = load_cert(d / "ci.pem");
        auto dpauth = load_cert(d / "dpauth.pem");
        auto dppb = load_cert(d / "dppb.pem");
        auto dpauth_key = load_signer(d / "dpauth.key.pem");
        auto dppb_key = load_signer(d / "dppb.key.pem");
        for (const std::string* e :
             {ci ? nullptr : &ci.error(), dpauth ? nullptr : &dpauth.error(),
              dppb ? nullptr : &dppb.error(), dpauth_key ? nullptr : &dpauth_key.error(),
              dppb_key ? nullptr : &dppb_key.error()}) {
            if (e) {
                return std::unexpected(*e);
            }
        }
        out.credentials.push_back(ci_credentials{*ci, *dpauth, *dpauth_key, *dppb, *dppb_key, {}});
        if (std::filesystem::exists(d / "ci.crl.pem")) {
            auto text = read_text(d / "ci.crl.pem");
            if (!text) {
                return std::unexpected(text.error());
            }
            auto crl = crypto::crl::from_pem(*text);
            if (!crl) {
                return std::unexpected(fmt::format("{}: not a CRL", (d / "ci.crl.pem").string()));
            }
            out.crls.push_back(*crl);
        }
    }
    if (out.credentials.empty()) {
        return std::unexpected(
            fmt::format("no curve directory (nist, brainpool) under {}", dir.string()));
    }
    return out;
}

} // namespace esimguard::smdp
