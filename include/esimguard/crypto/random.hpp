#pragma once
/// Random bytes for challenges, transaction IDs and keys.

#include "esimguard/core/bytes.hpp"
#include "esimguard/crypto/keys.hpp"

#include <memory>

namespace esimguard::crypto {

/// `n` bytes from OpenSSL's CSPRNG (RAND_bytes). errc::random_failure if it fails:
/// the caller must then refuse the operation, never fall back to weaker bytes.
[[nodiscard]] result<bytes> random_bytes(std::size_t n);

/// A source of random bytes that procedures take by reference, so that tests can
/// inject a deterministic one.
class random_source {
public:
    virtual ~random_source() = default;
    /// `n` random bytes, or errc::random_failure.
    [[nodiscard]] virtual result<bytes> generate(std::size_t n) = 0;
};

/// The production source: random_bytes(). Thread-safe.
std::unique_ptr<random_source> create_system_random_source();

} // namespace esimguard::crypto
