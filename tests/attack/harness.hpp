#pragma once
// What every attack test stands on (issue 4 §5): a test PKI made once per
// program, a forged eUICC chain, the REAL esimguard-smdpp binary started as a
// child process on loopback with a TOML config written per test, the admin
// API and /metrics over HTTPS, the esimguard CLI run as a subprocess, and
// simulated eUICCs driven by the real LPA library from a chosen source
// address (127.0.0.0/8 all reaches the server's 127.0.0.1 listener).

#include "esimguard/apdu/es10_client.hpp"
#include "esimguard/apdu/transports.hpp"
#include "esimguard/asn1/iccid.hpp"
#include "esimguard/crypto/cert_builder.hpp"
#include "esimguard/crypto/keys.hpp"
#include "esimguard/crypto/x509.hpp"
#include "esimguard/euicc/euicc.hpp"
#include "esimguard/http/client.hpp"
#include "esimguard/lpa/es9p_client.hpp"
#include "esimguard/lpa/lpa.hpp"
#include "esimguard/pki/eid.hpp"
#include "esimguard/pki/test_pki.hpp"
#include "esimguard/rsp/activation_code.hpp"
#include "esimguard/rsp/saip.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace esimguard::attack {

namespace fs = std::filesystem;
using nlohmann::json;

inline std::string read_text(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

inline bytes read_bytes(const fs::path& p) {
    const std::string s = read_text(p);
    return bytes(s.begin(), s.end());
}

inline void write_text(const fs::path& p, std::string_view text, fs::perms mode = fs::perms(0644)) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    fs::permissions(p, mode);
}

inline std::string eid_for(int serial) {
    return pki::eid_with_check_digits(fmt::format("{}{:022}", pki::test_eid_prefix, serial))
        .value();
}

/// The subscriber's own phone, a bystander's, the attacker's genuine phone, a
/// phone reported stolen, and the EID the forged chain claims (never issued
/// by the real EUM).
inline const std::string victim_eid = eid_for(4101);
inline const std::string bystander_eid = eid_for(4102);
inline const std::string attacker_eid = eid_for(4103);
inline const std::string stolen_eid = eid_for(4104);
inline const std::string forged_eid = eid_for(4105);

/// "CN=a,O=b" (RFC 2253, most specific first) → {{O,b},{CN,a}}. Test PKI
/// names hold no escaped commas.
inline crypto::distinguished_name parse_rfc2253(std::string_view text) {
    crypto::distinguished_name out;
    std::size_t start = 0;
    while (start <= text.size()) {
        const auto comma = text.find(',', start);
        const auto part = text.substr(
            start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
        const auto eq = part.find('=');
        if (eq != std::string_view::npos) {
            out.insert(out.begin(),
                       {std::string(part.substr(0, eq)), std::string(part.substr(eq + 1))});
        }
        if (comma == std::string_view::npos) {
            break;
        }
        start = comma + 1;
    }
    return out;
}

/// An eUICC's certificates and key as an attacker without any GSMA key makes
/// them: a self-signed CI with the real CI's name, an EUM with the real EUM's
/// name, policy and permitted EID range, and an eUICC certificate with an EID
/// in that range, each with the attacker's own keys. The names all look
/// right; only the key identifiers and signatures give it away. (The
/// certificate builder checks that its signer holds the issuer's key, so a
/// certificate claiming the real CI's key identifier cannot be made with it.)
struct forged_chain {
    bytes eum_der;
    /// The same EUM certificate with its authority key identifier patched to
    /// the real CI's: it now names the real CI by key too, and only its
    /// signature is wrong.
    bytes eum_claiming_real_ci_der;
    bytes euicc_der;
    std::string euicc_key_pem;
};

inline std::optional<forged_chain> forge_chain(const fs::path& curve_dir, std::string_view eid,
                                               crypto::sys_seconds now) {
    auto real_ci = crypto::certificate::from_der(read_bytes(curve_dir / "ci.der"));
    auto real_eum = crypto::certificate::from_der(read_bytes(curve_dir / "eum.der"));
    auto ci_key = crypto::private_key::generate(crypto::curve::nist_p256);
    auto eum_key = crypto::private_key::generate(crypto::curve::nist_p256);
    auto card_key = crypto::private_key::generate(crypto::curve::nist_p256);
    if (!real_ci || !real_eum || !ci_key || !eum_key || !card_key) {
        return std::nullopt;
    }
    const auto eum_public = eum_key->public_part();
    crypto::cert_request ci_req{
        .subject = parse_rfc2253(real_ci->subject()),
        .subject_key = ci_key->public_part(),
        .serial = {0x4e, 0x10},
        .not_before = now - std::chrono::hours{1},
        .not_after = now + std::chrono::days{3650},
        .is_ca = true,
        .key_usage = crypto::key_usage::key_cert_sign | crypto::key_usage::crl_sign,
        .policy_oids = {std::string(crypto::policy_oid(crypto::cert_role::ci))},
    };
    auto ci_signer = crypto::create_software_signer(std::move(*ci_key));
    auto ci = crypto::issue_certificate(ci_req, std::nullopt, *ci_signer);
    if (!ci) {
        ADD_FAILURE() << "forging the CI: " << ci.error().detail;
        return std::nullopt;
    }
    crypto::cert_request eum_req{
        .subject = parse_rfc2253(real_eum->subject()),
        .subject_key = eum_public,
        .serial = {0x4e, 0x11},
        .not_before = now - std::chrono::hours{1},
        .not_after = now + std::chrono::days{3650},
        .is_ca = true,
        .path_len = 0,
        .key_usage = crypto::key_usage::key_cert_sign | crypto::key_usage::crl_sign,
        .policy_oids = {std::string(crypto::policy_oid(crypto::cert_role::eum))},
        .permitted_eid_prefixes = {std::string(pki::test_eid_prefix)},
    };
    auto eum = crypto::issue_certificate(eum_req, *ci, *ci_signer);
    if (!eum) {
        ADD_FAILURE() << "forging the EUM: " << eum.error().detail;
        return std::nullopt;
    }
    auto eum_signer = crypto::create_software_signer(std::move(*eum_key));
    crypto::cert_request card_req{
        .subject = {{"O", parse_rfc2253(real_eum->subject()).front().value},
                    {"serialNumber", std::string(eid)},
                    {"CN", "esimguard test eUICC"}},
        .subject_key = card_key->public_part(),
        .serial = {0x4e, 0x12},
        .not_before = now - std::chrono::hours{1},
        .not_after = now + std::chrono::days{3650},
        .key_usage = crypto::key_usage::digital_signature,
        .policy_oids = {std::string(crypto::policy_oid(crypto::cert_role::euicc))},
    };
    auto card = crypto::issue_certificate(card_req, *eum, *eum_signer);
    if (!card) {
        ADD_FAILURE() << "forging the eUICC certificate: " << card.error().detail;
        return std::nullopt;
    }
    // Both identifiers are SHA-1 hashes (20 bytes), so the DER keeps its shape.
    bytes patched = eum->der();
    const auto fake_id = ci->subject_key_id();
    const auto real_id = real_ci->subject_key_id();
    if (!fake_id || !real_id || fake_id->size() != real_id->size()) {
        ADD_FAILURE() << "CI key identifiers missing or of different lengths";
        return std::nullopt;
    }
    auto at = std::search(patched.begin(), patched.end(), fake_id->begin(), fake_id->end());
    if (at == patched.end()) {
        ADD_FAILURE() << "the forged EUM does not carry its CI's key identifier";
        return std::nullopt;
    }
    std::copy(real_id->begin(), real_id->end(), at);
    return forged_chain{eum->der(), std::move(patched), card->der(), card_key->to_pem()};
}

/// One test PKI (NIST only: it is the slow part) and the forged chain, made
/// once for the whole program and removed at exit.
struct shared_pki {
    fs::path root;
    fs::path dir;
    forged_chain forged;

    static shared_pki& get() {
        static shared_pki p;
        return p;
    }
    fs::path curve_dir() const { return dir / "nist"; }

private:
    shared_pki() {
        root = fs::temp_directory_path() / fmt::format("esimguard-attack-pki-{}", ::getpid());
        fs::remove_all(root);
        dir = root / "pki";
        const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
        pki::test_pki_options o;
        o.dir = dir;
        o.curves = pki::curve_set::nist;
        o.host = "localhost";
        o.now = now;
        auto made = pki::init_test_pki(o);
        EXPECT_TRUE(made.has_value()) << (made ? "" : made.error().detail);
        for (const auto& eid : {victim_eid, bystander_eid, attacker_eid, stolen_eid}) {
            EXPECT_TRUE(pki::issue_euicc(dir, eid, crypto::curve::nist_p256, now).has_value());
        }
        auto f = forge_chain(curve_dir(), forged_eid, now);
        EXPECT_TRUE(f.has_value());
        if (f) {
            forged = std::move(*f);
        }
    }
    ~shared_pki() {
        std::error_code ec;
        fs::remove_all(root, ec);
    }
};

/// A simulated eUICC in this process, reached through the APDU card transport.
struct device {
    std::unique_ptr<euicc::euicc> chip;
    std::unique_ptr<apdu::card> card;
    std::unique_ptr<apdu::transport> link;
    std::unique_ptr<apdu::es10_client> es10;

    device(euicc::euicc_config config, const fs::path& state) {
        auto made = euicc::create_euicc(std::move(config), state);
        if (!made) {
            ADD_FAILURE() << "create_euicc: " << made.error().detail;
            return;
        }
        chip = std::move(*made);
        card = euicc::create_euicc_card(*chip);
        link = apdu::create_card_transport(*card);
        es10 = std::make_unique<apdu::es10_client>(*link);
    }
};

/// What a command printed (stdout and stderr together) and its exit status.
struct command_result {
    int exit_code = -1;
    std::string output;
};

/// Runs `argv` (argv[0] looked up in PATH) to completion with its output
/// captured in `log`.
inline command_result run_command(const std::vector<std::string>& argv, const fs::path& log) {
    std::vector<char*> args;
    std::vector<std::string> copy = argv;
    for (auto& a : copy) {
        args.push_back(a.data());
    }
    args.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    pid_t pid = -1;
    const int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    command_result out;
    if (rc != 0) {
        out.output = fmt::format("cannot start {}: {}", argv[0], std::strerror(rc));
        return out;
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    out.output = read_text(log);
    return out;
}

/// esimguard-smdpp as a child process: started with a config file, its port
/// read from the port file, stopped with SIGTERM (SIGKILL after 10 s).
class smdpp_process {
public:
    smdpp_process() = default;
    smdpp_process(const smdpp_process&) = delete;
    smdpp_process& operator=(const smdpp_process&) = delete;
    ~smdpp_process() { stop(); }

    /// Starts `binary --config config`; false (with the log in `error`) when it
    /// exits or does not write `port_file` within 20 s.
    bool start(const std::string& binary, const fs::path& config, const fs::path& port_file,
               const fs::path& log, std::string& error) {
        std::vector<std::string> argv = {binary, "--config", config.string()};
        std::vector<char*> args;
        for (auto& a : argv) {
            args.push_back(a.data());
        }
        args.push_back(nullptr);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
        posix_spawn_file_actions_adddup2(&fa, 1, 2);
        const int rc = posix_spawn(&pid_, args[0], &fa, nullptr, args.data(), environ);
        posix_spawn_file_actions_destroy(&fa);
        if (rc != 0) {
            pid_ = -1;
            error = fmt::format("cannot start {}: {}", binary, std::strerror(rc));
            return false;
        }
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{20};
        while (std::chrono::steady_clock::now() < deadline) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                error = "esimguard-smdpp exited at start:\n" + read_text(log);
                return false;
            }
            const std::string text = read_text(port_file);
            if (!text.empty() && text.back() == '\n') {
                port_ = static_cast<std::uint16_t>(std::stoi(text));
                return true;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds{10});
        }
        error = "esimguard-smdpp wrote no port file:\n" + read_text(log);
        stop();
        return false;
    }

    /// SIGTERM then wait; the exit status (or 128 + signal), -1 when not running.
    int stop() {
        if (pid_ <= 0) {
            return -1;
        }
        ::kill(pid_, SIGTERM);
        int status = 0;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{10};
        while (::waitpid(pid_, &status, WNOHANG) == 0) {
            if (std::chrono::steady_clock::now() > deadline) {
                ::kill(pid_, SIGKILL);
                ::waitpid(pid_, &status, 0);
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds{10});
        }
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }

    [[nodiscard]] pid_t pid() const { return pid_; }
    [[nodiscard]] std::uint16_t port() const { return port_; }

    /// Resident set size in KiB (VmRSS of /proc/<pid>/status); 0 if unknown.
    [[nodiscard]] long rss_kib() const {
        std::ifstream in(fmt::format("/proc/{}/status", pid_));
        std::string line;
        while (std::getline(in, line)) {
            if (line.starts_with("VmRSS:")) {
                return std::stol(line.substr(6));
            }
        }
        return 0;
    }

private:
    pid_t pid_ = -1;
    std::uint16_t port_ = 0;
};

/// The value of a Prometheus sample: the sum over the lines of `name` whose
/// labels contain every `label="value"` of `labels` (any labels when empty).
inline double metric_value(const std::string& text, std::string_view name,
                           const std::vector<std::string>& labels = {}) {
    double sum = 0;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#' || !line.starts_with(name)) {
            continue;
        }
        const char next = line.size() > name.size() ? line[name.size()] : '\0';
        if (next != '{' && next != ' ') {
            continue;
        }
        const auto space = line.rfind(' ');
        const std::string series = line.substr(0, space);
        bool match = true;
        for (const auto& l : labels) {
            match = match && series.find(l) != std::string::npos;
        }
        if (match) {
            sum += std::stod(line.substr(space + 1));
        }
    }
    return sum;
}

} // namespace esimguard::attack
