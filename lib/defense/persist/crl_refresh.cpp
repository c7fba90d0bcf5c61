// CRL refresh from distribution points: fetch, validate against the PKI
// directory's CAs, store, reload the full set.

#include "esimguard/defense/crl_refresh.hpp"

#include "esimguard/pki/crl_store.hpp"

#include <fmt/format.h>

#include <fstream>
#include <sstream>

namespace esimguard::defense {

crl_refresh_result refresh_crls(const std::filesystem::path& pki_dir,
                                std::span<const std::string> urls, http::client& client,
                                crypto::sys_seconds now) {
    crl_refresh_result out;
    for (const auto& url : urls) {
        auto r = client.get(url);
        if (!r) {
            ++out.failed;
            out.errors.push_back(fmt::format("{}: {}", url, r.error().detail));
            continue;
        }
        if (r->status != 200) {
            ++out.failed;
            out.errors.push_back(fmt::format("{}: HTTP {}", url, r->status));
            continue;
        }
        ++out.fetched;
        auto crl = pki::parse_crl(as_bytes(r->body));
        if (!crl) {
            ++out.failed;
            out.errors.push_back(fmt::format("{}: {}", url, crl.error().detail));
            continue;
        }
        auto stored = pki::add_crl(pki_dir, *crl, now);
        if (!stored) {
            ++out.failed;
            out.errors.push_back(fmt::format("{}: {}", url, stored.error().detail));
            continue;
        }
        ++out.stored;
    }
    auto all = pki::load_stored_crls(pki_dir);
    if (!all) {
        out.load_error = all.error().detail;
        return out;
    }
    out.crls = std::move(*all);
    // The CIs' own lists, as load_pki_material reads them at start.
    for (auto c : {crypto::curve::nist_p256, crypto::curve::brainpool_p256r1}) {
        auto f = pki_dir / std::string(pki::curve_dir_name(c)) / "ci.crl.pem";
        std::ifstream in(f, std::ios::binary);
        if (!in) {
            continue;
        }
        std::ostringstream s;
        s << in.rdbuf();
        if (auto crl = crypto::crl::from_pem(s.str()); crl) {
            out.crls.push_back(*crl);
        }
    }
    return out;
}

} // namespace esimguard::defense
