// EC keys on the SGP.22 curves (SGP.22 §2.6.5: NIST P-256 and brainpoolP256r1)
// and the in-memory signer. Every OpenSSL object is owned by an RAII handle.

#include "esimguard/crypto/ecdh.hpp"
#include "esimguard/crypto/ecdsa.hpp"
#include "esimguard/crypto/hash.hpp"
#include "internal.hpp"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdlib>

namespace esimguard::crypto {

namespace {

constexpr std::size_t point_size = 65;
constexpr std::size_t scalar_size = 32;

const char* group_name(curve c) {
    return c == curve::nist_p256 ? SN_X9_62_prime256v1 : SN_brainpoolP256r1;
}

int nid_of(curve c) {
    return c == curve::nist_p256 ? NID_X9_62_prime256v1 : NID_brainpoolP256r1;
}

error ossl_error(errc code, std::string_view what) {
    return error{code, std::string(what) + ": " + openssl_error_string()};
}

// A password callback that refuses: without it OpenSSL would prompt on the terminal
// for an encrypted PEM, which a server must never do.
int refuse_password(char*, int, int, void*) {
    return -1;
}

result<pkey_ptr> pkey_from_params(curve c, const OSSL_PARAM* params, int selection) {
    pkey_ctx_ptr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
    if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) {
        return std::unexpected(ossl_error(errc::internal, "EVP_PKEY_fromdata_init"));
    }
    EVP_PKEY* raw = nullptr;
    if (EVP_PKEY_fromdata(ctx.get(), &raw, selection, const_cast<OSSL_PARAM*>(params)) != 1) {
        return std::unexpected(ossl_error(errc::invalid_key, "key not on curve"));
    }
    pkey_ptr key(raw);
    (void)c;
    return key;
}

// Checks the public point (on the curve, not infinity) and, for a key pair,
// that the private scalar matches it. Both SGP.22 curves (P-256 and
// brainpoolP256r1) have cofactor 1, so a point on the curve other than
// infinity already lies in the prime-order group: the quick check is as
// strong as the full one, whose extra order check (a scalar multiplication)
// cost more than a signature verification on every certificate parsed.
result<void> check_key(EVP_PKEY* key, bool with_private) {
    pkey_ctx_ptr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
    if (!ctx) {
        return std::unexpected(ossl_error(errc::internal, "EVP_PKEY_CTX_new_from_pkey"));
    }
    int ok =
        with_private ? EVP_PKEY_pairwise_check(ctx.get()) : EVP_PKEY_public_check_quick(ctx.get());
    if (ok != 1) {
        return std::unexpected(ossl_error(errc::invalid_key, "key check failed"));
    }
    return {};
}

result<bytes> encoded_point(const EVP_PKEY* key) {
    bytes out(point_size);
    std::size_t len = 0;
    if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, out.data(),
                                        out.size(), &len) != 1 ||
        len != point_size || out[0] != 0x04) {
        return std::unexpected(ossl_error(errc::internal, "public point"));
    }
    return out;
}

} // namespace

std::string_view to_string(curve c) {
    switch (c) {
    case curve::nist_p256:
        return "NIST P-256";
    case curve::brainpool_p256r1:
        return "brainpoolP256r1";
    }
    return "unknown";
}

std::string_view to_string(errc e) {
    switch (e) {
    case errc::invalid_key:
        return "invalid key";
    case errc::unsupported_curve:
        return "unsupported curve";
    case errc::invalid_signature:
        return "malformed signature";
    case errc::signature_mismatch:
        return "signature does not verify";
    case errc::bad_mac:
        return "BSP MAC mismatch";
    case errc::bad_counter:
        return "BSP segment out of sequence";
    case errc::bad_padding:
        return "bad padding";
    case errc::invalid_length:
        return "invalid length";
    case errc::invalid_certificate:
        return "invalid certificate";
    case errc::chain_invalid:
        return "certificate chain invalid";
    case errc::random_failure:
        return "random source failure";
    case errc::internal:
        return "internal crypto failure";
    }
    return "unknown";
}

std::string openssl_error_string() {
    std::string out;
    unsigned long e = 0;
    while ((e = ERR_get_error()) != 0) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        if (!out.empty()) {
            out += "; ";
        }
        out += buf;
    }
    return out.empty() ? std::string("no OpenSSL detail") : out;
}

result<curve> curve_of(const EVP_PKEY* key) {
    if (key == nullptr || EVP_PKEY_is_a(key, "EC") != 1) {
        return std::unexpected(error{errc::unsupported_curve, "not an EC key"});
    }
    char name[64] = {};
    std::size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof name, &len) !=
        1) {
        ERR_clear_error();
        // Explicit curve parameters carry no name; SGP.22 only uses named curves.
        return std::unexpected(error{errc::unsupported_curve, "EC key without a named curve"});
    }
    const std::string_view n(name, len);
    if (OBJ_sn2nid(name) == NID_X9_62_prime256v1 || n == "P-256") {
        return curve::nist_p256;
    }
    if (OBJ_sn2nid(name) == NID_brainpoolP256r1) {
        return curve::brainpool_p256r1;
    }
    return std::unexpected(error{errc::unsupported_curve, std::string("curve ") + std::string(n)});
}

result<public_key> wrap_public(pkey_ptr key) {
    auto c = curve_of(key.get());
    if (!c) {
        return std::unexpected(c.error());
    }
    // A key read from an SPKI may carry a compressed point; we always hand out the
    // uncompressed form that SGP.22 structures carry.
    if (EVP_PKEY_set_utf8_string_param(key.get(), OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
                                       OSSL_PKEY_EC_POINT_CONVERSION_FORMAT_UNCOMPRESSED) != 1) {
        return std::unexpected(ossl_error(errc::internal, "point conversion format"));
    }
    if (auto ok = check_key(key.get(), false); !ok) {
        return std::unexpected(ok.error());
    }
    auto p = std::make_shared<public_key::impl>();
    p->key = std::move(key);
    p->c = *c;
    return public_key(std::move(p));
}

result<private_key> wrap_private(pkey_ptr key) {
    auto c = curve_of(key.get());
    if (!c) {
        return std::unexpected(c.error());
    }
    if (EVP_PKEY_set_utf8_string_param(key.get(), OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
                                       OSSL_PKEY_EC_POINT_CONVERSION_FORMAT_UNCOMPRESSED) != 1) {
        return std::unexpected(ossl_error(errc::internal, "point conversion format"));
    }
    if (auto ok = check_key(key.get(), true); !ok) {
        return std::unexpected(ok.error());
    }
    auto p = std::make_unique<private_key::impl>();
    p->key = std::move(key);
    p->c = *c;
    return private_key(std::move(p));
}

// ---- public_key ----

result<public_key> public_key::from_point(curve c, byte_view point) {
    if (point.size() != point_size || point[0] != 0x04) {
        return std::unexpected(error{errc::invalid_key, "not a 65-byte uncompressed point"});
    }
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
                                         const_cast<char*>(group_name(c)), 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
                                          const_cast<std::uint8_t*>(point.data()), point.size()),
        OSSL_PARAM_construct_end(),
    };
    auto key = pkey_from_params(c, params, EVP_PKEY_PUBLIC_KEY);
    if (!key) {
        return std::unexpected(key.error());
    }
    return wrap_public(std::move(*key));
}

result<public_key> public_key::from_spki_der(byte_view der) {
    const unsigned char* p = der.data();
    pkey_ptr key(d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
    if (!key) {
        return std::unexpected(ossl_error(errc::invalid_key, "not a SubjectPublicKeyInfo"));
    }
    if (p != der.data() + der.size()) {
        return std::unexpected(
            error{errc::invalid_key, "trailing bytes after SubjectPublicKeyInfo"});
    }
    return wrap_public(std::move(key));
}

curve public_key::key_curve() const {
    return p_->c;
}

bytes public_key::point() const {
    auto p = encoded_point(p_->key.get());
    // A public_key is only ever built from a checked EC key, so this cannot fail
    // short of memory exhaustion.
    return p ? std::move(*p) : bytes{};
}

bytes public_key::spki_der() const {
    unsigned char* out = nullptr;
    const int len = i2d_PUBKEY(p_->key.get(), &out);
    if (len <= 0) {
        return {};
    }
    bytes der(out, out + len);
    OPENSSL_free(out);
    return der;
}

bytes public_key::key_id() const {
    return sha1(point());
}

// ---- private_key ----

private_key::private_key(std::unique_ptr<impl> p) : p_(std::move(p)) {}
private_key::private_key(private_key&&) noexcept = default;
private_key& private_key::operator=(private_key&&) noexcept = default;
private_key::~private_key() = default;

result<private_key> private_key::generate(curve c) {
    pkey_ctx_ptr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
    if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1) {
        return std::unexpected(ossl_error(errc::internal, "EVP_PKEY_keygen_init"));
    }
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
                                         const_cast<char*>(group_name(c)), 0),
        OSSL_PARAM_construct_end(),
    };
    EVP_PKEY* raw = nullptr;
    if (EVP_PKEY_CTX_set_params(ctx.get(), params) != 1 ||
        EVP_PKEY_generate(ctx.get(), &raw) != 1) {
        // RAND failure is the only realistic cause once the context is set up.
        return std::unexpected(ossl_error(errc::random_failure, "EC key generation"));
    }
    return wrap_private(pkey_ptr(raw));
}

result<private_key> private_key::from_scalar(curve c, byte_view scalar) {
    if (scalar.size() != scalar_size) {
        return std::unexpected(error{errc::invalid_key, "private scalar must be 32 bytes"});
    }
    ec_group_ptr group(EC_GROUP_new_by_curve_name(nid_of(c)));
    bn_ctx_ptr bnctx(BN_CTX_secure_new());
    bn_ptr d(BN_secure_new());
    if (!group || !bnctx || !d ||
        BN_bin2bn(scalar.data(), static_cast<int>(scalar.size()), d.get()) == nullptr) {
        return std::unexpected(ossl_error(errc::internal, "scalar"));
    }
    if (BN_is_zero(d.get()) || BN_cmp(d.get(), EC_GROUP_get0_order(group.get())) >= 0) {
        return std::unexpected(error{errc::invalid_key, "private scalar out of range"});
    }
    ec_point_ptr q(EC_POINT_new(group.get()));
    std::uint8_t pub[point_size];
    if (!q || EC_POINT_mul(group.get(), q.get(), d.get(), nullptr, nullptr, bnctx.get()) != 1 ||
        EC_POINT_point2oct(group.get(), q.get(), POINT_CONVERSION_UNCOMPRESSED, pub, sizeof pub,
                           bnctx.get()) != sizeof pub) {
        return std::unexpected(ossl_error(errc::internal, "public point from scalar"));
    }
    param_bld_ptr bld(OSSL_PARAM_BLD_new());
    if (!bld ||
        OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group_name(c), 0) !=
            1 ||
        OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof pub) !=
            1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, d.get()) != 1) {
        return std::unexpected(ossl_error(errc::internal, "OSSL_PARAM_BLD"));
    }
    // The builder copies a secure BIGNUM into secure memory, which OSSL_PARAM_free clears.
    param_ptr params(OSSL_PARAM_BLD_to_param(bld.get()));
    if (!params) {
        return std::unexpected(ossl_error(errc::internal, "OSSL_PARAM_BLD_to_param"));
    }
    auto key = pkey_from_params(c, params.get(), EVP_PKEY_KEYPAIR);
    if (!key) {
        return std::unexpected(key.error());
    }
    return wrap_private(std::move(*key));
}

result<private_key> private_key::from_pem(std::string_view pem) {
    bio_ptr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (!bio) {
        return std::unexpected(ossl_error(errc::internal, "BIO_new_mem_buf"));
    }
    pkey_ptr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, refuse_password, nullptr));
    if (!key) {
        return std::unexpected(ossl_error(errc::invalid_key, "not an unencrypted PEM private key"));
    }
    return wrap_private(std::move(key));
}

result<private_key> private_key::from_der(byte_view der) {
    const unsigned char* p = der.data();
    p8inf_ptr info(d2i_PKCS8_PRIV_KEY_INFO(nullptr, &p, static_cast<long>(der.size())));
    if (!info || p != der.data() + der.size()) {
        return std::unexpected(ossl_error(errc::invalid_key, "not a DER PKCS#8 private key"));
    }
    pkey_ptr key(EVP_PKCS82PKEY(info.get()));
    if (!key) {
        return std::unexpected(ossl_error(errc::invalid_key, "PKCS#8 content"));
    }
    return wrap_private(std::move(key));
}

curve private_key::key_curve() const {
    return p_->c;
}

public_key private_key::public_part() const {
    auto point = encoded_point(p_->key.get());
    // The key pair was checked on construction, so its public half is valid: a
    // failure here is a bug (or memory exhaustion), not bad input.
    if (!point) {
        std::abort();
    }
    auto pub = public_key::from_point(p_->c, *point);
    if (!pub) {
        std::abort();
    }
    return std::move(*pub);
}

std::string private_key::to_pem() const {
    // Secure memory BIO: its buffer is cleared when freed.
    bio_ptr bio(BIO_new(BIO_s_secmem()));
    if (!bio || PEM_write_bio_PrivateKey(bio.get(), p_->key.get(), nullptr, nullptr, 0, nullptr,
                                         nullptr) != 1) {
        return {};
    }
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(len));
}

// ---- software signer ----

namespace {

class software_signer_impl final : public signer {
public:
    explicit software_signer_impl(private_key key) : key_(std::move(key)) {}

    curve key_curve() const override { return key_.key_curve(); }
    public_key public_part() const override { return key_.public_part(); }

    result<bytes> sign(byte_view message) const override {
        auto der = sign_der(message);
        if (!der) {
            return der;
        }
        return signature_der_to_raw(*der);
    }

    result<bytes> sign_der(byte_view message) const override {
        md_ctx_ptr ctx(EVP_MD_CTX_new());
        if (!ctx || EVP_DigestSignInit_ex(ctx.get(), nullptr, "SHA256", nullptr, nullptr,
                                          key_.internals().key.get(), nullptr) != 1) {
            return std::unexpected(ossl_error(errc::internal, "EVP_DigestSignInit_ex"));
        }
        std::size_t len = 0;
        if (EVP_DigestSign(ctx.get(), nullptr, &len, message.data(), message.size()) != 1) {
            return std::unexpected(ossl_error(errc::internal, "EVP_DigestSign size"));
        }
        bytes sig(len);
        if (EVP_DigestSign(ctx.get(), sig.data(), &len, message.data(), message.size()) != 1) {
            return std::unexpected(ossl_error(errc::internal, "EVP_DigestSign"));
        }
        sig.resize(len);
        return sig;
    }

    result<bytes> ecdh(const public_key& peer) const override { return crypto::ecdh(key_, peer); }

private:
    private_key key_;
};

} // namespace

std::unique_ptr<signer> create_software_signer(private_key key) {
    return std::make_unique<software_signer_impl>(std::move(key));
}

} // namespace esimguard::crypto
