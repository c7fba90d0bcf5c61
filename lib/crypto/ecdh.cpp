// ECKA-DH (BSI TR-03111 §4.3.1) for the BSP session keys, SGP.22 §2.6.4.2.

#include "esimguard/crypto/ecdh.hpp"
#include "esimguard/crypto/mac.hpp"

#include "internal.hpp"

#include <openssl/crypto.h>

namespace esimguard::crypto {

result<bytes> ecdh(const private_key& own, const public_key& peer) {
    if (own.key_curve() != peer.key_curve()) {
        return std::unexpected(error{errc::invalid_key, "peer key is on another curve"});
    }
    pkey_ctx_ptr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, own.internals().key.get(), nullptr));
    // validate_peer = 1: the peer point is checked again (on curve, right order)
    // before it is multiplied with our scalar.
    if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 ||
        EVP_PKEY_derive_set_peer_ex(ctx.get(), peer.internals().key.get(), 1) != 1) {
        return std::unexpected(error{errc::invalid_key, "ECDH setup: " + openssl_error_string()});
    }
    std::size_t len = 0;
    if (EVP_PKEY_derive(ctx.get(), nullptr, &len) != 1 || len != shared_secret_size) {
        return std::unexpected(error{errc::internal, "ECDH size: " + openssl_error_string()});
    }
    bytes secret(len);
    if (EVP_PKEY_derive(ctx.get(), secret.data(), &len) != 1 || len != shared_secret_size) {
        secure_wipe(secret);
        return std::unexpected(error{errc::internal, "ECDH: " + openssl_error_string()});
    }
    return secret;
}

} // namespace esimguard::crypto
