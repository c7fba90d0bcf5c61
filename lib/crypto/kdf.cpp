// ANSI X9.63 KDF (SEC 1 v2 §3.6.1) and the BSP key derivation of SGP.22 §2.6.4.2.

#include "esimguard/crypto/kdf.hpp"

#include "internal.hpp"

#include <openssl/crypto.h>

#include <algorithm>

namespace esimguard::crypto {

namespace {

constexpr std::size_t max_kdf_output = 64 * 1024;
constexpr std::uint8_t bsp_key_type = 0x88;   // AES, SGP.22 §2.6.4.2
constexpr std::uint8_t bsp_key_length = 0x10; // 16 bytes

void append_ber_length(bytes& out, std::size_t len) {
    if (len < 0x80) {
        out.push_back(static_cast<std::uint8_t>(len));
    } else if (len <= 0xff) {
        out.push_back(0x81);
        out.push_back(static_cast<std::uint8_t>(len));
    } else {
        out.push_back(0x82);
        out.push_back(static_cast<std::uint8_t>(len >> 8));
        out.push_back(static_cast<std::uint8_t>(len));
    }
}

} // namespace

result<bytes> x963_kdf_sha256(byte_view shared_secret, byte_view shared_info, std::size_t length) {
    if (length == 0 || length > max_kdf_output) {
        return std::unexpected(error{errc::invalid_length, "X9.63 KDF output length"});
    }
    md_ctx_ptr ctx(EVP_MD_CTX_new());
    if (!ctx) {
        return std::unexpected(error{errc::internal, "EVP_MD_CTX_new"});
    }
    bytes out;
    out.reserve(length + 32);
    std::uint8_t block[32];
    for (std::uint32_t counter = 1; out.size() < length; ++counter) {
        const std::uint8_t be[4] = {
            static_cast<std::uint8_t>(counter >> 24), static_cast<std::uint8_t>(counter >> 16),
            static_cast<std::uint8_t>(counter >> 8), static_cast<std::uint8_t>(counter)};
        unsigned int n = 0;
        if (EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1 ||
            EVP_DigestUpdate(ctx.get(), shared_secret.data(), shared_secret.size()) != 1 ||
            EVP_DigestUpdate(ctx.get(), be, sizeof be) != 1 ||
            EVP_DigestUpdate(ctx.get(), shared_info.data(), shared_info.size()) != 1 ||
            EVP_DigestFinal_ex(ctx.get(), block, &n) != 1 || n != sizeof block) {
            OPENSSL_cleanse(out.data(), out.size());
            return std::unexpected(error{errc::internal, "SHA-256: " + openssl_error_string()});
        }
        out.insert(out.end(), block, block + sizeof block);
    }
    OPENSSL_cleanse(block, sizeof block);
    // Wipe the tail beyond `length` before it is dropped.
    OPENSSL_cleanse(out.data() + length, out.size() - length);
    out.resize(length);
    return out;
}

bsp_session_keys::~bsp_session_keys() {
    OPENSSL_cleanse(initial_mac_chaining_value.data(), initial_mac_chaining_value.size());
    OPENSSL_cleanse(s_enc.data(), s_enc.size());
    OPENSSL_cleanse(s_mac.data(), s_mac.size());
}

result<bsp_session_keys> bsp_session_keys::from_kdf_output(byte_view kdf_output) {
    if (kdf_output.size() != 48) {
        return std::unexpected(error{errc::invalid_length, "BSP key material must be 48 bytes"});
    }
    bsp_session_keys k;
    std::copy_n(kdf_output.begin(), 16, k.initial_mac_chaining_value.begin());
    std::copy_n(kdf_output.begin() + 16, 16, k.s_enc.begin());
    std::copy_n(kdf_output.begin() + 32, 16, k.s_mac.begin());
    return k;
}

bytes bsp_shared_info(byte_view host_id, byte_view eid) {
    bytes info{bsp_key_type, bsp_key_length};
    append_ber_length(info, host_id.size());
    info.insert(info.end(), host_id.begin(), host_id.end());
    append_ber_length(info, eid.size());
    info.insert(info.end(), eid.begin(), eid.end());
    return info;
}

result<bsp_session_keys> derive_bsp_session_keys(byte_view shared_secret, byte_view host_id,
                                                 byte_view eid) {
    auto out = x963_kdf_sha256(shared_secret, bsp_shared_info(host_id, eid), 48);
    if (!out) {
        return std::unexpected(out.error());
    }
    auto keys = bsp_session_keys::from_kdf_output(*out);
    OPENSSL_cleanse(out->data(), out->size());
    return keys;
}

} // namespace esimguard::crypto
