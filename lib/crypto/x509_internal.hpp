#pragma once
// Private to the crypto module: the OpenSSL objects behind certificate and crl,
// and helpers shared by the x509*.cpp files.

#include "esimguard/crypto/x509.hpp"
#include "internal.hpp"

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

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

/// A thread-safe map of at most `capacity` entries, the oldest dropped
/// first (FIFO), looked up by string_view without allocating: the caches
/// of parsed certificates and of verified signatures.
template <class Value>
class recent_fifo {
public:
    explicit recent_fifo(std::size_t capacity) : capacity_(capacity) {}

    std::optional<Value> find(std::string_view key) {
        std::lock_guard lock(mutex_);
        auto it = map_.find(key);
        if (it == map_.end()) {
            return std::nullopt;
        }
        return it->second;
    }
    /// Keeps `value` under `key` unless the key is there already.
    void add(std::string key, Value value) {
        std::lock_guard lock(mutex_);
        if (map_.contains(key)) {
            return;
        }
        if (order_.size() >= capacity_) {
            map_.erase(order_.front());
            order_.pop_front();
        }
        order_.push_back(key);
        map_.emplace(std::move(key), std::move(value));
    }

private:
    struct hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const {
            return std::hash<std::string_view>{}(s);
        }
    };
    std::size_t capacity_;
    std::mutex mutex_;
    std::unordered_map<std::string, Value, hash, std::equal_to<>> map_;
    std::deque<std::string> order_;
};

/// An ASN1_TIME as seconds since the epoch; nullopt when it cannot be read.
std::optional<sys_seconds> to_sys_seconds(const ASN1_TIME* t);

/// A DER TLV header (tag, definite length) followed by `content`.
bytes der_wrap(std::uint8_t tag, byte_view content);

} // namespace esimguard::crypto
