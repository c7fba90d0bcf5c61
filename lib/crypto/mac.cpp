// AES-CMAC (RFC 4493), HMAC-SHA256 and HMAC-SHA1 (RFC 2104) through the OpenSSL 3 EVP_MAC API.

#include "esimguard/crypto/mac.hpp"

#include "internal.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>

namespace esimguard::crypto {

namespace {

result<bytes> compute_mac(const char* algorithm, const OSSL_PARAM* params, byte_view key,
                          byte_view data) {
    mac_ptr mac(EVP_MAC_fetch(nullptr, algorithm, nullptr));
    mac_ctx_ptr ctx(mac ? EVP_MAC_CTX_new(mac.get()) : nullptr);
    if (!ctx || EVP_MAC_init(ctx.get(), key.data(), key.size(), params) != 1 ||
        EVP_MAC_update(ctx.get(), data.data(), data.size()) != 1) {
        return std::unexpected(
            error{errc::internal, std::string(algorithm) + ": " + openssl_error_string()});
    }
    bytes out(EVP_MAC_CTX_get_mac_size(ctx.get()));
    std::size_t len = 0;
    if (EVP_MAC_final(ctx.get(), out.data(), &len, out.size()) != 1) {
        return std::unexpected(
            error{errc::internal, std::string(algorithm) + " final: " + openssl_error_string()});
    }
    out.resize(len);
    return out;
}

} // namespace

result<bytes> aes_cmac(byte_view key, byte_view data) {
    if (key.size() != 16) {
        return std::unexpected(error{errc::invalid_length, "AES-128 key must be 16 bytes"});
    }
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, const_cast<char*>("AES-128-CBC"),
                                         0),
        OSSL_PARAM_construct_end(),
    };
    return compute_mac("CMAC", params, key, data);
}

result<bytes> hmac_sha256(byte_view key, byte_view data) {
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>("SHA256"), 0),
        OSSL_PARAM_construct_end(),
    };
    return compute_mac("HMAC", params, key, data);
}

result<bytes> hmac_sha1(byte_view key, byte_view data) {
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>("SHA1"), 0),
        OSSL_PARAM_construct_end(),
    };
    return compute_mac("HMAC", params, key, data);
}

bool constant_time_equal(byte_view a, byte_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    return a.empty() || CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

void secure_wipe(bytes& b) {
    if (!b.empty()) {
        OPENSSL_cleanse(b.data(), b.size());
    }
}

} // namespace esimguard::crypto
