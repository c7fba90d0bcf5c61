#pragma once
// Private to the crypto module: the OpenSSL objects behind the opaque handles.

#include "esimguard/crypto/keys.hpp"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

namespace esimguard::crypto {

struct pkey_deleter {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_deleter>;

/// A deleter calling the OpenSSL free function F, for one-line RAII aliases.
template <auto F>
struct ossl_deleter {
    template <typename T>
    void operator()(T* p) const {
        F(p);
    }
};

using pkey_ctx_ptr = std::unique_ptr<EVP_PKEY_CTX, ossl_deleter<EVP_PKEY_CTX_free>>;
using md_ctx_ptr = std::unique_ptr<EVP_MD_CTX, ossl_deleter<EVP_MD_CTX_free>>;
using cipher_ctx_ptr = std::unique_ptr<EVP_CIPHER_CTX, ossl_deleter<EVP_CIPHER_CTX_free>>;
using mac_ptr = std::unique_ptr<EVP_MAC, ossl_deleter<EVP_MAC_free>>;
using mac_ctx_ptr = std::unique_ptr<EVP_MAC_CTX, ossl_deleter<EVP_MAC_CTX_free>>;
using bio_ptr = std::unique_ptr<BIO, ossl_deleter<BIO_free_all>>;
/// BIGNUMs may hold private scalars: always cleared on free.
using bn_ptr = std::unique_ptr<BIGNUM, ossl_deleter<BN_clear_free>>;
using bn_ctx_ptr = std::unique_ptr<BN_CTX, ossl_deleter<BN_CTX_free>>;
using ec_group_ptr = std::unique_ptr<EC_GROUP, ossl_deleter<EC_GROUP_free>>;
using ec_point_ptr = std::unique_ptr<EC_POINT, ossl_deleter<EC_POINT_free>>;
using ecdsa_sig_ptr = std::unique_ptr<ECDSA_SIG, ossl_deleter<ECDSA_SIG_free>>;
using param_bld_ptr = std::unique_ptr<OSSL_PARAM_BLD, ossl_deleter<OSSL_PARAM_BLD_free>>;
using param_ptr = std::unique_ptr<OSSL_PARAM, ossl_deleter<OSSL_PARAM_free>>;
using p8inf_ptr = std::unique_ptr<PKCS8_PRIV_KEY_INFO, ossl_deleter<PKCS8_PRIV_KEY_INFO_free>>;

struct public_key::impl {
    pkey_ptr key;
    curve c;
};

struct private_key::impl {
    pkey_ptr key;
    curve c;
};

/// The curve of an EC key, if it is one SGP.22 allows.
result<curve> curve_of(const EVP_PKEY* key);

/// Wraps an EVP_PKEY (taking ownership) as a public_key.
result<public_key> wrap_public(pkey_ptr key);

/// Wraps an EVP_PKEY key pair (taking ownership) as a private_key, after checking
/// that it is on an SGP.22 curve and that its halves match.
result<private_key> wrap_private(pkey_ptr key);

/// The last OpenSSL error as a detail string, clearing the error queue.
std::string openssl_error_string();

} // namespace esimguard::crypto
