// A simulated eUICC's identity from the files pki::issue_euicc writes.

#include "esimguard/euicc/euicc.hpp"
#include "esimguard/pki/test_pki.hpp"

#include <fstream>
#include <sstream>

namespace esimguard::euicc {
namespace {

std::optional<std::string> read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) {
        return std::nullopt;
    }
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

} // namespace

euicc_result<euicc_config> load_euicc_from_pki(const std::filesystem::path& pki_dir,
                                               crypto::curve c, std::string_view eid) {
    const auto dir = pki_dir / std::string(pki::curve_dir_name(c));
    const auto base = dir / "euicc" / std::string(eid);
    auto cert = read_file(base.string() + ".der");
    auto key = read_file(base.string() + ".key.pem");
    auto eum = read_file(dir / "eum.der");
    auto ci = read_file(dir / "ci.der");
    if (!cert || !key || !eum || !ci) {
        return std::unexpected(euicc_error{euicc_error::code::bad_config,
                                           "missing eUICC, EUM or CI files under " + dir.string()});
    }
    euicc_config cfg;
    cfg.eid = std::string(eid);
    cfg.private_key_pem = std::move(*key);
    cfg.euicc_certificate_der = bytes(cert->begin(), cert->end());
    cfg.eum_certificate_der = bytes(eum->begin(), eum->end());
    cfg.trusted_ci_certificates_der.push_back(bytes(ci->begin(), ci->end()));
    return cfg;
}

} // namespace esimguard::euicc
