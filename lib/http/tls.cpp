#include "tls.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <fstream>
#include <iterator>
#include <memory>

namespace esimguard::http::detail {

namespace {

struct bio_free {
    void operator()(BIO* b) const { BIO_free(b); }
};
struct x509_free {
    void operator()(X509* x) const { X509_free(x); }
};

error config_error(std::string what) {
    return error{errc::bad_config, what + ": " + openssl_errors()};
}

result<void> add_cert(boost::asio::ssl::context& ctx, X509* cert) {
    if (X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx.native_handle()), cert) != 1) {
        // A CA given twice is harmless.
        const auto e = ERR_peek_last_error();
        if (ERR_GET_REASON(e) == X509_R_CERT_ALREADY_IN_HASH_TABLE) {
            ERR_clear_error();
            return {};
        }
        return std::unexpected(config_error("trust store refused a CA certificate"));
    }
    return {};
}

} // namespace

std::string openssl_errors() {
    std::string out;
    while (const auto e = ERR_get_error()) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        if (!out.empty()) {
            out += "; ";
        }
        out += buf;
    }
    return out.empty() ? std::string("no OpenSSL detail") : out;
}

result<void> apply_protocol_policy(boost::asio::ssl::context& ctx) {
    SSL_CTX* c = ctx.native_handle();
    if (SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION) != 1 ||
        SSL_CTX_set_max_proto_version(c, 0) != 1) {
        return std::unexpected(config_error("cannot restrict TLS versions"));
    }
    // TLS 1.2: ECDHE only (forward secrecy), AEAD first; CBC-SHA256 kept for
    // the SGP.22 mandatory suite. TLS 1.3 suites are all ECDHE/AEAD already.
    static constexpr const char* tls12_ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256:"
                                                 "ECDHE-ECDSA-AES256-GCM-SHA384:"
                                                 "ECDHE-ECDSA-CHACHA20-POLY1305:"
                                                 "ECDHE-RSA-AES128-GCM-SHA256:"
                                                 "ECDHE-RSA-AES256-GCM-SHA384:"
                                                 "ECDHE-RSA-CHACHA20-POLY1305:"
                                                 "ECDHE-ECDSA-AES128-SHA256";
    if (SSL_CTX_set_cipher_list(c, tls12_ciphers) != 1) {
        return std::unexpected(config_error("cipher list refused"));
    }
    SSL_CTX_set_options(c, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                               SSL_OP_CIPHER_SERVER_PREFERENCE);
    return {};
}

result<void> add_trusted_pem(boost::asio::ssl::context& ctx, std::string_view pem) {
    std::unique_ptr<BIO, bio_free> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (!bio) {
        return std::unexpected(config_error("out of memory"));
    }
    int added = 0;
    while (true) {
        std::unique_ptr<X509, x509_free> cert(
            PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
        if (!cert) {
            break;
        }
        if (auto r = add_cert(ctx, cert.get()); !r) {
            return r;
        }
        ++added;
    }
    // The loop ends on a "no start line" error at the end of input.
    ERR_clear_error();
    if (added == 0) {
        return std::unexpected(error{errc::bad_config, "no CERTIFICATE block in CA PEM"});
    }
    return {};
}

result<void> add_trusted_der(boost::asio::ssl::context& ctx, byte_view der) {
    const unsigned char* p = der.data();
    std::unique_ptr<X509, x509_free> cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
    if (!cert || p != der.data() + der.size()) {
        return std::unexpected(config_error("CA DER is not one X.509 certificate"));
    }
    return add_cert(ctx, cert.get());
}

result<void> add_trusted_file(boost::asio::ssl::context& ctx, const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        return std::unexpected(error{errc::bad_config, "cannot read CA file " + file.string()});
    }
    const std::string content((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
    if (content.find("-----BEGIN") != std::string::npos) {
        return add_trusted_pem(ctx, content);
    }
    return add_trusted_der(ctx, as_bytes(content));
}

result<void> use_chain_and_key(boost::asio::ssl::context& ctx, const std::filesystem::path& chain,
                               const std::filesystem::path& key) {
    SSL_CTX* c = ctx.native_handle();
    if (SSL_CTX_use_certificate_chain_file(c, chain.c_str()) != 1) {
        return std::unexpected(config_error("certificate chain " + chain.string()));
    }
    if (SSL_CTX_use_PrivateKey_file(c, key.c_str(), SSL_FILETYPE_PEM) != 1) {
        return std::unexpected(config_error("private key " + key.string()));
    }
    if (SSL_CTX_check_private_key(c) != 1) {
        return std::unexpected(config_error("key does not match the certificate"));
    }
    return {};
}

} // namespace esimguard::http::detail
