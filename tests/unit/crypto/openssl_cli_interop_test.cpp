// Interoperability with the `openssl` command: signatures it makes verify with our
// code, and signatures we make verify with it. Skipped if the command is missing.

#include "esimguard/crypto/ecdsa.hpp"
#include "esimguard/crypto/keys.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace esimguard::crypto {
namespace {

namespace fs = std::filesystem;

class temp_dir {
public:
    temp_dir() {
        std::string tmpl = (fs::temp_directory_path() / "esimguard-crypto-XXXXXX").string();
        if (mkdtemp(tmpl.data()) == nullptr) {
            throw std::runtime_error("mkdtemp");
        }
        path_ = tmpl;
    }
    ~temp_dir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    fs::path operator/(const char* name) const { return path_ / name; }

private:
    fs::path path_;
};

int run(const std::string& cmd) {
    return std::system((cmd + " >/dev/null 2>&1").c_str());
}

bool have_openssl() {
    return run("openssl version") == 0;
}

bytes read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return bytes(std::istreambuf_iterator<char>(in), {});
}

void write_file(const fs::path& p, byte_view data) {
    std::ofstream out(p, std::ios::binary);
    out.write(reinterpret_cast<const char*>(data.data()),
              static_cast<std::streamsize>(data.size()));
}

std::string pem_of_spki(byte_view der) {
    const std::string b64 = to_base64(der);
    std::string pem = "-----BEGIN PUBLIC KEY-----\n";
    for (std::size_t i = 0; i < b64.size(); i += 64) {
        pem += b64.substr(i, 64) + "\n";
    }
    return pem + "-----END PUBLIC KEY-----\n";
}

struct cli_curve {
    curve c;
    const char* openssl_name;
};

class openssl_cli_interop : public ::testing::TestWithParam<cli_curve> {
protected:
    void SetUp() override {
        if (!have_openssl()) {
            GTEST_SKIP() << "openssl command not available";
        }
    }
};

TEST_P(openssl_cli_interop, signature_made_by_openssl_dgst_verifies_with_our_code) {
    temp_dir dir;
    const std::string key = (dir / "key.pem").string();
    const std::string msg = (dir / "msg.bin").string();
    const std::string sig = (dir / "sig.der").string();
    const std::string pub = (dir / "pub.der").string();
    write_file(msg, as_bytes("serverSigned1 stand-in"));
    ASSERT_EQ(run("openssl ecparam -name " + std::string(GetParam().openssl_name) +
                  " -genkey -noout -out " + key),
              0);
    ASSERT_EQ(run("openssl dgst -sha256 -sign " + key + " -out " + sig + " " + msg), 0);
    ASSERT_EQ(run("openssl ec -in " + key + " -pubout -outform DER -out " + pub), 0);

    auto pk = public_key::from_spki_der(read_file(pub));
    ASSERT_TRUE(pk) << pk.error().detail;
    EXPECT_EQ(pk->key_curve(), GetParam().c);
    const bytes der = read_file(sig);
    EXPECT_TRUE(verify_der(*pk, as_bytes("serverSigned1 stand-in"), der));
    auto raw = signature_der_to_raw(der);
    ASSERT_TRUE(raw);
    EXPECT_TRUE(verify(*pk, as_bytes("serverSigned1 stand-in"), *raw));
    EXPECT_FALSE(verify(*pk, as_bytes("serverSigned1 stand-in!"), *raw));

    // The SEC1 "EC PRIVATE KEY" file openssl wrote loads as the same key.
    std::ifstream in(key);
    const std::string pem((std::istreambuf_iterator<char>(in)), {});
    auto sk = private_key::from_pem(pem);
    ASSERT_TRUE(sk) << sk.error().detail;
    EXPECT_EQ(sk->public_part().point(), pk->point());
}

TEST_P(openssl_cli_interop, our_raw_signature_converted_to_der_verifies_with_openssl_dgst) {
    temp_dir dir;
    auto sk = private_key::generate(GetParam().c);
    ASSERT_TRUE(sk);
    auto s = create_software_signer(std::move(*sk));
    const bytes message = {'s', 'm', 'd', 'p', 0x00, 0xff};
    auto raw = s->sign(message);
    ASSERT_TRUE(raw);
    auto der = signature_raw_to_der(*raw);
    ASSERT_TRUE(der);
    write_file(dir / "msg.bin", message);
    write_file(dir / "sig.der", *der);
    {
        std::ofstream out(dir / "pub.pem");
        out << pem_of_spki(s->public_part().spki_der());
    }
    const std::string verify_cmd = "openssl dgst -sha256 -verify " + (dir / "pub.pem").string() +
                                   " -signature " + (dir / "sig.der").string() + " ";
    EXPECT_EQ(run(verify_cmd + (dir / "msg.bin").string()), 0);
    // And openssl refuses it for another message, so the check above means something.
    write_file(dir / "other.bin", as_bytes("other"));
    EXPECT_NE(run(verify_cmd + (dir / "other.bin").string()), 0);
}

TEST_P(openssl_cli_interop, our_pkcs8_pem_is_read_by_openssl) {
    temp_dir dir;
    auto sk = private_key::generate(GetParam().c);
    ASSERT_TRUE(sk);
    {
        std::ofstream out(dir / "key.pem");
        out << sk->to_pem();
    }
    ASSERT_EQ(run("openssl pkey -in " + (dir / "key.pem").string() + " -pubout -outform DER -out " +
                  (dir / "pub.der").string()),
              0);
    EXPECT_EQ(read_file(dir / "pub.der"), sk->public_part().spki_der());
}

INSTANTIATE_TEST_SUITE_P(sgp22_curves, openssl_cli_interop,
                         ::testing::Values(cli_curve{curve::nist_p256, "prime256v1"},
                                           cli_curve{curve::brainpool_p256r1, "brainpoolP256r1"}));

} // namespace
} // namespace esimguard::crypto
