#pragma once
/// EC keys on the two SGP.22 curves, and the signer interface behind which the
/// server's private keys live (in memory today, in an HSM over PKCS#11 later).
/// No OpenSSL type appears here: keys are opaque RAII handles.

#include "esimguard/core/bytes.hpp"

#include <expected>
#include <memory>
#include <string>
#include <string_view>

namespace esimguard::crypto {

/// The curves SGP.22 allows.
enum class curve { nist_p256, brainpool_p256r1 };

std::string_view to_string(curve c);

/// Why a crypto operation failed.
enum class errc {
    invalid_key,         ///< bytes that are not a key on a supported curve
    unsupported_curve,   ///< a key on a curve SGP.22 does not allow
    invalid_signature,   ///< a signature that is malformed (not that fails to verify)
    signature_mismatch,  ///< a well-formed signature that does not verify
    bad_mac,             ///< a BSP segment whose MAC does not match
    bad_counter,         ///< a BSP segment out of sequence
    bad_padding,         ///< decrypted data without valid 80 00.. padding
    invalid_length,      ///< input of a length the operation cannot take
    invalid_certificate, ///< bytes that are not an X.509 certificate or CRL
    chain_invalid,       ///< a chain that fails validation (see chain_errc)
    random_failure,      ///< the random source failed
    internal,            ///< an OpenSSL failure with no better description
};

std::string_view to_string(errc e);

/// A failure with a short human-readable detail (never key material).
struct error {
    errc code;
    std::string detail = {};
};

template <typename T>
using result = std::expected<T, error>;

/// A public EC key. Copyable; cheap to copy (shared, immutable).
class public_key {
public:
    /// From an uncompressed SEC1 point (04 ‖ X ‖ Y, 65 bytes) on `c`.
    [[nodiscard]] static result<public_key> from_point(curve c, byte_view point);
    /// From a DER SubjectPublicKeyInfo.
    [[nodiscard]] static result<public_key> from_spki_der(byte_view der);

    curve key_curve() const;
    /// The uncompressed SEC1 point, 65 bytes.
    bytes point() const;
    /// DER SubjectPublicKeyInfo.
    bytes spki_der() const;
    /// SHA-1 of the point: the SubjectKeyIdentifier method 1 of RFC 5280,
    /// which SGP.22 uses to name CI keys (euiccCiPKId).
    bytes key_id() const;

    struct impl;
    explicit public_key(std::shared_ptr<const impl> p) : p_(std::move(p)) {}
    const impl& internals() const { return *p_; }

private:
    std::shared_ptr<const impl> p_;
};

/// A private EC key held in memory. Move-only; wiped on destruction.
class private_key {
public:
    [[nodiscard]] static result<private_key> generate(curve c);
    /// From PEM (PKCS#8 or SEC1 "EC PRIVATE KEY").
    [[nodiscard]] static result<private_key> from_pem(std::string_view pem);
    /// From DER PKCS#8.
    [[nodiscard]] static result<private_key> from_der(byte_view der);
    /// From the raw private scalar (32 bytes, big-endian, 1 ≤ d < order), as test
    /// vectors give keys. The caller must wipe its copy of `scalar`.
    [[nodiscard]] static result<private_key> from_scalar(curve c, byte_view scalar);

    curve key_curve() const;
    public_key public_part() const;
    /// PKCS#8 PEM, unencrypted. The caller must protect the result.
    std::string to_pem() const;

    private_key(private_key&&) noexcept;
    private_key& operator=(private_key&&) noexcept;
    ~private_key();

    struct impl;
    explicit private_key(std::unique_ptr<impl> p);
    const impl& internals() const { return *p_; }

private:
    std::unique_ptr<impl> p_;
};

/// Private-key operations. Callers hold a signer, never a key, so that the
/// key may live in an HSM (SGP.22 keys never need to leave it).
class signer {
public:
    virtual ~signer() = default;
    virtual curve key_curve() const = 0;
    virtual public_key public_part() const = 0;
    /// ECDSA-SHA256 over `message`; the signature as raw r‖s (64 bytes, TR-03111).
    [[nodiscard]] virtual result<bytes> sign(byte_view message) const = 0;
    /// ECDSA-SHA256; the signature DER-encoded (as in X.509).
    [[nodiscard]] virtual result<bytes> sign_der(byte_view message) const = 0;
    /// ECKA: the x-coordinate of the shared point with `peer` (32 bytes).
    [[nodiscard]] virtual result<bytes> ecdh(const public_key& peer) const = 0;
};

/// A signer over a key held in process memory.
std::unique_ptr<signer> create_software_signer(private_key key);

} // namespace esimguard::crypto
