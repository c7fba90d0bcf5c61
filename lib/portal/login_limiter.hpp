#pragma once
// Failed sign-ins per source address, in memory with a cap: a spray from
// many addresses evicts the least recently seen ones instead of growing
// without bound. Per-account failures are in the portal store instead, so
// that they survive restarts and add up across server nodes.

#include "esimguard/store/types.hpp"

#include <chrono>
#include <cstddef>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>

namespace esimguard::portal::detail {

class login_limiter {
public:
    login_limiter(std::size_t max_keys, int max_failures, std::chrono::seconds window)
        : max_keys_(max_keys), max_failures_(max_failures), window_(window) {}

    /// Whether `key` has reached the limit within the window ending at `now`.
    bool blocked(const std::string& key, store::time_point now);
    /// Counts one failure of `key` at `now`.
    void failure(const std::string& key, store::time_point now);
    /// Keys tracked now (for tests and metrics).
    std::size_t size();

private:
    struct entry {
        int failures = 0;
        store::time_point window_start{};
        std::list<std::string>::iterator lru;
    };
    void expire(entry& e, store::time_point now);

    std::mutex mutex_;
    std::size_t max_keys_;
    int max_failures_;
    std::chrono::seconds window_;
    std::list<std::string> lru_; // most recent at the front
    std::unordered_map<std::string, entry> map_;
};

} // namespace esimguard::portal::detail
