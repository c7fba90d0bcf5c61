#pragma once
// Private to the crypto module: the OpenSSL objects behind the opaque handles.

#include "esimguard/crypto/keys.hpp"

#include <openssl/evp.h>

namespace esimguard::crypto {

struct pkey_deleter {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_deleter>;

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

/// The last OpenSSL error as a detail string, clearing the error queue.
std::string openssl_error_string();

} // namespace esimguard::crypto
