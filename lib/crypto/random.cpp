// Secure random bytes from OpenSSL's DRBG.

#include "esimguard/crypto/random.hpp"

#include "internal.hpp"

#include <openssl/rand.h>

#include <limits>

namespace esimguard::crypto {

result<bytes> random_bytes(std::size_t n) {
    if (n > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
        return std::unexpected(error{errc::invalid_length, "too many random bytes requested"});
    }
    bytes out(n);
    if (n != 0 && RAND_bytes(out.data(), static_cast<int>(n)) != 1) {
        return std::unexpected(error{errc::random_failure, openssl_error_string()});
    }
    return out;
}

namespace {

class system_random_source_impl final : public random_source {
public:
    result<bytes> generate(std::size_t n) override { return random_bytes(n); }
};

} // namespace

std::unique_ptr<random_source> create_system_random_source() {
    return std::make_unique<system_random_source_impl>();
}

} // namespace esimguard::crypto
