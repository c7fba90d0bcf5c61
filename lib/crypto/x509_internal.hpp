#pragma once
// Private to the crypto module: the OpenSSL objects behind certificate and crl,
// and helpers shared by the x509*.cpp files.

#include "esimguard/crypto/x509.hpp"
#include "internal.hpp"

#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace esimguard::crypto {

using x509_ptr = std::unique_ptr<X509, ossl_deleter<X509_free>>;
using x509_crl_ptr = std::unique_ptr<X509_CRL, ossl_deleter<X509_CRL_free>>;

struct certificate::impl {
    x509_ptr x;
    bytes der;
    public_key key;
};

struct crl::impl {
    x509_crl_ptr x;
    bytes der;
};

/// An ASN1_TIME as seconds since the epoch; nullopt when it cannot be read.
std::optional<sys_seconds> to_sys_seconds(const ASN1_TIME* t);

/// A DER TLV header (tag, definite length) followed by `content`.
bytes der_wrap(std::uint8_t tag, byte_view content);

} // namespace esimguard::crypto
