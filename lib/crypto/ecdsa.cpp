// ECDSA-SHA256 verification and signature encodings (SGP.22 §2.6.5, BSI TR-03111
// §5.2.1 plain r‖s, RFC 5480 / X9.62 ECDSA-Sig-Value).

#include "esimguard/crypto/ecdsa.hpp"

#include "internal.hpp"

#include <openssl/ec.h>
#include <openssl/err.h>

namespace esimguard::crypto {

namespace {

constexpr int half = raw_signature_size / 2;

result<void> verify_strict_der(const public_key& key, byte_view message, byte_view der) {
    md_ctx_ptr ctx(EVP_MD_CTX_new());
    if (!ctx || EVP_DigestVerifyInit_ex(ctx.get(), nullptr, "SHA256", nullptr, nullptr,
                                        key.internals().key.get(), nullptr) != 1) {
        return std::unexpected(
            error{errc::internal, "EVP_DigestVerifyInit_ex: " + openssl_error_string()});
    }
    const int rc =
        EVP_DigestVerify(ctx.get(), der.data(), der.size(), message.data(), message.size());
    // OpenSSL puts the reason for a failed verification on its error queue; it is
    // expected here and must not leak into an unrelated later error report.
    ERR_clear_error();
    if (rc != 1) {
        return std::unexpected(error{errc::signature_mismatch, "ECDSA signature does not verify"});
    }
    return {};
}

} // namespace

result<bytes> signature_der_to_raw(byte_view der) {
    const unsigned char* p = der.data();
    ecdsa_sig_ptr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
    if (!sig || p != der.data() + der.size()) {
        ERR_clear_error();
        return std::unexpected(error{errc::invalid_signature, "not a DER ECDSA-Sig-Value"});
    }
    // BER leniency (long-form lengths, padded integers) would let one signature take
    // many encodings; only the DER re-encoding of what we parsed is accepted.
    unsigned char* re = nullptr;
    const int re_len = i2d_ECDSA_SIG(sig.get(), &re);
    const bool canonical = re_len > 0 && static_cast<std::size_t>(re_len) == der.size() &&
                           std::equal(der.begin(), der.end(), re);
    OPENSSL_free(re);
    if (!canonical) {
        return std::unexpected(error{errc::invalid_signature, "ECDSA-Sig-Value is not strict DER"});
    }
    const BIGNUM* r = nullptr;
    const BIGNUM* s = nullptr;
    ECDSA_SIG_get0(sig.get(), &r, &s);
    if (BN_is_negative(r) || BN_is_negative(s) || BN_num_bytes(r) > half ||
        BN_num_bytes(s) > half) {
        return std::unexpected(error{errc::invalid_signature, "r or s does not fit 32 bytes"});
    }
    bytes raw(raw_signature_size);
    if (BN_bn2binpad(r, raw.data(), half) != half ||
        BN_bn2binpad(s, raw.data() + half, half) != half) {
        return std::unexpected(error{errc::internal, "BN_bn2binpad"});
    }
    return raw;
}

result<bytes> signature_raw_to_der(byte_view raw) {
    if (raw.size() != raw_signature_size) {
        return std::unexpected(error{errc::invalid_signature, "raw signature must be 64 bytes"});
    }
    bn_ptr r(BN_bin2bn(raw.data(), half, nullptr));
    bn_ptr s(BN_bin2bn(raw.data() + half, half, nullptr));
    ecdsa_sig_ptr sig(ECDSA_SIG_new());
    if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) {
        return std::unexpected(error{errc::internal, "ECDSA_SIG_set0"});
    }
    // ECDSA_SIG_set0 took ownership of both numbers.
    (void)r.release();
    (void)s.release();
    unsigned char* out = nullptr;
    const int len = i2d_ECDSA_SIG(sig.get(), &out);
    if (len <= 0) {
        return std::unexpected(error{errc::internal, "i2d_ECDSA_SIG"});
    }
    bytes der(out, out + len);
    OPENSSL_free(out);
    return der;
}

result<void> verify(const public_key& key, byte_view message, byte_view raw_signature) {
    auto der = signature_raw_to_der(raw_signature);
    if (!der) {
        return std::unexpected(der.error());
    }
    return verify_strict_der(key, message, *der);
}

result<void> verify_der(const public_key& key, byte_view message, byte_view der_signature) {
    // Parsing first separates malformed input (invalid_signature) from a failed check.
    if (auto raw = signature_der_to_raw(der_signature); !raw) {
        return std::unexpected(raw.error());
    }
    return verify_strict_der(key, message, der_signature);
}

} // namespace esimguard::crypto
