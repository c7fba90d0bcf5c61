// Digests (FIPS 180-4) and the SGP.22 confirmation-code hash.

#include "esimguard/crypto/hash.hpp"

#include "internal.hpp"

#include <openssl/sha.h>

namespace esimguard::crypto {

bytes sha256(byte_view data) {
    bytes out(SHA256_DIGEST_LENGTH);
    SHA256(data.data(), data.size(), out.data());
    return out;
}

bytes sha1(byte_view data) {
    bytes out(SHA_DIGEST_LENGTH);
    SHA1(data.data(), data.size(), out.data());
    return out;
}

bytes confirmation_code_hash(std::string_view code, byte_view transaction_id) {
    // SGP.22 §3.1.3.1: the LPA hashes the code once, the eUICC binds it to the session.
    bytes inner = sha256(as_bytes(code));
    inner.insert(inner.end(), transaction_id.begin(), transaction_id.end());
    bytes out = sha256(inner);
    OPENSSL_cleanse(inner.data(), inner.size());
    return out;
}

} // namespace esimguard::crypto
