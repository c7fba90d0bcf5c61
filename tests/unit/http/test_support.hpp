#pragma once
// Shared pieces of the http tests: a throw-away PKI on disk (root CA →
// intermediate → server leaf, written through the crypto module), raw
// sockets for misbehaving clients, and polling with a deadline.

#include "esimguard/crypto/cert_builder.hpp"
#include "esimguard/crypto/keys.hpp"
#include "esimguard/crypto/x509.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>

namespace esimguard::http::test {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

/// A temporary directory removed at the end of the test.
class temp_dir {
public:
    temp_dir() {
        std::string tmpl = (fs::temp_directory_path() / "esimguard-http-XXXXXX").string();
        if (::mkdtemp(tmpl.data()) == nullptr) {
            ADD_FAILURE() << "mkdtemp failed";
        }
        path_ = tmpl;
    }
    ~temp_dir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    const fs::path& path() const { return path_; }

private:
    fs::path path_;
};

inline void write_file(const fs::path& p, const std::string& content) {
    std::ofstream out(p, std::ios::binary);
    out << content;
}

/// A CA and what it signs with.
struct authority {
    std::unique_ptr<crypto::signer> sign;
    crypto::certificate cert;
};

/// A server identity: chain file (leaf + intermediate), key file, and the certificates.
struct server_identity {
    fs::path chain_file;
    fs::path key_file;
    crypto::certificate leaf;
    crypto::certificate intermediate;
};

/// Root CA → intermediate CA → TLS leaves, all on P-256, valid around now.
class test_pki {
public:
    explicit test_pki(const fs::path& dir, const std::string& name = "root")
        : dir_(dir), root_(make_ca(name + " CA", nullptr, 1)),
          intermediate_(make_ca(name + " intermediate CA", &root_, 2)),
          root_pem_file_(dir_ / "root-ca.pem") {
        write_file(root_pem_file_, root_.cert.pem());
    }

    const crypto::certificate& root() const { return root_.cert; }
    const fs::path& root_pem_file() const { return root_pem_file_; }

    /// A leaf for `dns_name` signed by the intermediate, written with its chain.
    server_identity issue_server(const std::string& dns_name) {
        auto key = crypto::private_key::generate(crypto::curve::nist_p256);
        EXPECT_TRUE(key.has_value());
        const std::string key_pem = key->to_pem();
        auto s = crypto::create_software_signer(std::move(*key));
        auto r = request_for(*s, dns_name, ++serial_);
        r.key_usage = crypto::key_usage::digital_signature;
        r.extended_key_usage_oids = {"1.3.6.1.5.5.7.3.1"};
        r.dns_names = {dns_name};
        auto leaf = crypto::issue_certificate(r, intermediate_.cert, *intermediate_.sign);
        EXPECT_TRUE(leaf.has_value()) << leaf.error().detail;
        server_identity id{dir_ / (dns_name + "-chain.pem"), dir_ / (dns_name + ".key.pem"), *leaf,
                           intermediate_.cert};
        write_file(id.chain_file, leaf->pem() + intermediate_.cert.pem());
        write_file(id.key_file, key_pem);
        return id;
    }

private:
    static crypto::cert_request request_for(const crypto::signer& s, std::string cn,
                                            std::uint8_t serial) {
        const auto now =
            std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
        return crypto::cert_request{
            .subject = {{"C", "DE"}, {"O", "esimguard http test"}, {"CN", std::move(cn)}},
            .subject_key = s.public_part(),
            .serial = {serial, 0x17},
            .not_before = now - std::chrono::hours(1),
            .not_after = now + std::chrono::hours(24),
        };
    }

    static authority make_ca(std::string cn, const authority* issuer, std::uint8_t serial) {
        auto key = crypto::private_key::generate(crypto::curve::nist_p256);
        EXPECT_TRUE(key.has_value());
        auto s = crypto::create_software_signer(std::move(*key));
        auto r = request_for(*s, std::move(cn), serial);
        r.is_ca = true;
        r.key_usage = crypto::key_usage::key_cert_sign | crypto::key_usage::crl_sign;
        auto cert = issuer ? crypto::issue_certificate(r, issuer->cert, *issuer->sign)
                           : crypto::issue_certificate(r, std::nullopt, *s);
        EXPECT_TRUE(cert.has_value()) << cert.error().detail;
        return {std::move(s), std::move(*cert)};
    }

    fs::path dir_;
    authority root_;
    authority intermediate_;
    fs::path root_pem_file_;
    std::uint8_t serial_ = 10;
};

/// Polls `condition` until it holds or `limit` passes; true when it held.
inline bool eventually(const std::function<bool()>& condition,
                       std::chrono::milliseconds limit = 5000ms) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        if (condition()) {
            return true;
        }
        std::this_thread::yield();
        std::this_thread::sleep_for(5ms); // polling interval, not a wait for an event
    }
    return condition();
}

/// A raw TCP connection to 127.0.0.1:port, for clients that misbehave.
class raw_socket {
public:
    explicit raw_socket(std::uint16_t port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
        // Bound every read so that a broken server fails the test, not hangs it.
        timeval tv{.tv_sec = 10, .tv_usec = 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
    ~raw_socket() { close(); }
    raw_socket(const raw_socket&) = delete;
    raw_socket& operator=(const raw_socket&) = delete;

    bool connected() const { return connected_; }
    bool send(std::string_view data) {
        return ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL) ==
               static_cast<ssize_t>(data.size());
    }
    /// Everything until the peer closes (or the 10 s read bound).
    /// `closed` tells whether the peer closed (EOF or reset) rather than timing out.
    std::string read_until_closed(bool* closed = nullptr) {
        std::string out;
        char buf[4096];
        while (true) {
            const auto n = ::recv(fd_, buf, sizeof buf, 0);
            if (n > 0) {
                out.append(buf, static_cast<std::size_t>(n));
                continue;
            }
            if (closed) {
                *closed = n == 0 || errno == ECONNRESET;
            }
            return out;
        }
    }
    void close() {
        if (fd_ >= 0) {
            ::close(fd_);
            fd_ = -1;
        }
    }

private:
    int fd_ = -1;
    bool connected_ = false;
};

/// Runs a shell command; returns its exit status and combined output.
inline std::pair<int, std::string> run_command(const std::string& command) {
    std::string out;
    FILE* p = ::popen((command + " 2>&1").c_str(), "r");
    if (p == nullptr) {
        return {-1, out};
    }
    char buf[4096];
    while (const auto n = std::fread(buf, 1, sizeof buf, p)) {
        out.append(buf, n);
    }
    const int status = ::pclose(p);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

} // namespace esimguard::http::test
