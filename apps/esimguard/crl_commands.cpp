// `esimguard pki crl add|list|issue`: certificate revocation lists in the PKI
// directory the SM-DP+ loads (include/esimguard/pki/crl_store.hpp).
//
//   add FILE    a CRL from a CI or EUM (PEM or DER), validated against the
//               directory's CAs and stored where esimguard-smdpp reads it;
//   list        the stored CRLs and how many certificates each revokes;
//   issue       for the TEST PKI only: sign a CRL with the test CI's or
//               EUM's key from the directory (to try revocation end to end).

#include "commands.hpp"

#include "esimguard/crypto/cert_builder.hpp"
#include "esimguard/pki/crl_store.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace esimguard::app {

namespace {

namespace fs = std::filesystem;

crypto::sys_seconds now() {
    return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
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

struct crl_args {
    std::string dir;
    std::string file;
    std::string curve = "nist";
    std::string issuer = "eum";
    std::vector<std::string> revoke;
    std::string out;
    int days = 7;
    std::uint64_t number = 0;
};

int crl_add(const crl_args& a) {
    auto text = read_file(a.file);
    if (!text) {
        fmt::print(stderr, "esimguard pki crl add: cannot read {}\n", a.file);
        return 2;
    }
    auto crl = pki::parse_crl(as_bytes(*text));
    if (!crl) {
        fmt::print(stderr, "esimguard pki crl add: {}: {}\n", a.file, crl.error().detail);
        return 1;
    }
    auto stored = pki::add_crl(a.dir, *crl, now());
    if (!stored) {
        fmt::print(stderr, "esimguard pki crl add: {}\n", stored.error().detail);
        return 1;
    }
    fmt::print("stored the CRL of {} as {}\n", crl->issuer(), stored->string());
    fmt::print("esimguard-smdpp checks it from its next start (or CRL refresh)\n");
    return 0;
}

int crl_list(const crl_args& a) {
    auto all = pki::load_stored_crls(a.dir);
    if (!all) {
        fmt::print(stderr, "esimguard pki crl list: {}\n", all.error().detail);
        return 1;
    }
    if (all->empty()) {
        fmt::print("no CRLs stored under {}\n", a.dir);
        return 0;
    }
    for (const auto& c : *all) {
        auto t = std::chrono::system_clock::to_time_t(c.this_update());
        char buf[32];
        std::tm tm{};
        gmtime_r(&t, &tm);
        std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
        fmt::print("{}  thisUpdate {}\n", c.issuer(), buf);
    }
    return 0;
}

int crl_issue(const crl_args& a) {
    auto c = pki::parse_curve(a.curve);
    if (!c) {
        fmt::print(stderr, "esimguard pki crl issue: --curve must be nist or brainpool\n");
        return 2;
    }
    const auto d = fs::path(a.dir) / std::string(pki::curve_dir_name(*c));
    auto cert_text = read_file(d / (a.issuer + ".pem"));
    auto key_text = read_file(d / (a.issuer + ".key.pem"));
    if (!cert_text || !key_text) {
        fmt::print(stderr, "esimguard pki crl issue: no {}.pem and {}.key.pem in {}\n", a.issuer,
                   a.issuer, d.string());
        return 2;
    }
    auto issuer = crypto::certificate::from_pem(*cert_text);
    auto key = crypto::private_key::from_pem(*key_text);
    std::fill(key_text->begin(), key_text->end(), '\0');
    if (!issuer || !key) {
        fmt::print(stderr, "esimguard pki crl issue: unusable {} certificate or key\n", a.issuer);
        return 2;
    }
    crypto::crl_request req;
    req.this_update = now();
    req.next_update = req.this_update + std::chrono::days(a.days);
    // A later CRL must carry a higher cRLNumber; the time does that unless
    // one is given.
    req.number = a.number != 0
                     ? a.number
                     : static_cast<std::uint64_t>(req.this_update.time_since_epoch().count());
    for (const auto& f : a.revoke) {
        auto t = read_file(f);
        std::optional<crypto::certificate> cert;
        if (t) {
            if (auto parsed = crypto::certificate::from_pem(*t); parsed) {
                cert = *parsed;
            }
        }
        if (!cert) {
            fmt::print(stderr, "esimguard pki crl issue: {} is not a PEM certificate\n", f);
            return 2;
        }
        req.revoked.push_back({cert->serial(), req.this_update});
    }
    auto signer = crypto::create_software_signer(std::move(*key));
    auto crl = crypto::issue_crl(req, *issuer, *signer);
    if (!crl) {
        fmt::print(stderr, "esimguard pki crl issue: {}\n", crl.error().detail);
        return 1;
    }
    std::ofstream out(a.out, std::ios::binary | std::ios::trunc);
    out << crl->pem();
    if (!out) {
        fmt::print(stderr, "esimguard pki crl issue: cannot write {}\n", a.out);
        return 2;
    }
    fmt::print("wrote {} ({} revoked, signed by the test {})\n", a.out, req.revoked.size(),
               a.issuer);
    return 0;
}

} // namespace

void register_crl_commands(CLI::App& app) {
    CLI::App* pki_cmd = nullptr;
    try {
        pki_cmd = app.get_subcommand("pki");
    } catch (const CLI::OptionNotFound&) {
        pki_cmd = app.add_subcommand("pki", "PKI");
    }
    auto* crl = pki_cmd->add_subcommand("crl", "certificate revocation lists the SM-DP+ checks");
    crl->require_subcommand(1);
    {
        auto a = std::make_shared<crl_args>();
        auto* c = crl->add_subcommand(
            "add", "store a CRL of a CI or EUM of the PKI directory (validated first)");
        c->add_option("--dir", a->dir, "the PKI directory of esimguard-smdpp")->required();
        c->add_option("file", a->file, "the CRL, PEM or DER")->required();
        c->callback([a] { set_exit_code(crl_add(*a)); });
    }
    {
        auto a = std::make_shared<crl_args>();
        auto* c = crl->add_subcommand("list", "the CRLs stored in the PKI directory");
        c->add_option("--dir", a->dir, "the PKI directory")->required();
        c->callback([a] { set_exit_code(crl_list(*a)); });
    }
    {
        auto a = std::make_shared<crl_args>();
        auto* c = crl->add_subcommand(
            "issue", "TEST PKI ONLY: sign a CRL with the directory's test CI or EUM key");
        c->add_option("--dir", a->dir, "the test PKI directory")->required();
        c->add_option("--curve", a->curve, "nist or brainpool");
        c->add_option("--issuer", a->issuer, "eum or ci")->check(CLI::IsMember({"eum", "ci"}));
        c->add_option("--revoke", a->revoke, "PEM certificate(s) to list as revoked");
        c->add_option("--days", a->days, "validity (nextUpdate) in days")
            ->check(CLI::Range(1, 365));
        c->add_option("--number", a->number, "cRLNumber (default: the current time)");
        c->add_option("--out", a->out, "where to write the CRL (PEM)")->required();
        c->callback([a] { set_exit_code(crl_issue(*a)); });
    }
}

} // namespace esimguard::app
