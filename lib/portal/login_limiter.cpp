// Failed sign-ins per address (fixed window from the first failure, LRU cap).

#include "login_limiter.hpp"

namespace esimguard::portal::detail {

void login_limiter::expire(entry& e, store::time_point now) {
    if (now - e.window_start >= window_) {
        e.failures = 0;
        e.window_start = now;
    }
}

bool login_limiter::blocked(const std::string& key, store::time_point now) {
    std::lock_guard lock(mutex_);
    auto it = map_.find(key);
    if (it == map_.end()) {
        return false;
    }
    expire(it->second, now);
    return it->second.failures >= max_failures_;
}

void login_limiter::failure(const std::string& key, store::time_point now) {
    std::lock_guard lock(mutex_);
    auto it = map_.find(key);
    if (it == map_.end()) {
        if (max_keys_ == 0) {
            return;
        }
        while (map_.size() >= max_keys_) {
            map_.erase(lru_.back());
            lru_.pop_back();
        }
        lru_.push_front(key);
        it = map_.emplace(key, entry{0, now, lru_.begin()}).first;
    } else {
        lru_.splice(lru_.begin(), lru_, it->second.lru);
        expire(it->second, now);
    }
    ++it->second.failures;
}

std::size_t login_limiter::size() {
    std::lock_guard lock(mutex_);
    return map_.size();
}

} // namespace esimguard::portal::detail
