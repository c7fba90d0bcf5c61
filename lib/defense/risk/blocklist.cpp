// The blocklist and the stolen device list: hash maps for exact values, a
// short list scanned for CIDR prefixes and EUM ranges (operators block a
// handful of networks, not thousands; a trie would pay off only then).

#include "esimguard/defense/blocklist.hpp"

#include "risk/ip_address.hpp"

#include <algorithm>
#include <mutex>
#include <tuple>

#include <fmt/core.h>

namespace esimguard::defense {

namespace {

bool all_digits(std::string_view s) {
    return std::ranges::all_of(s, [](char c) { return c >= '0' && c <= '9'; });
}

bool valid_eid(std::string_view eid) {
    return eid.size() == 32 && all_digits(eid);
}

risk_error invalid(std::string_view what) {
    return {risk_errc::invalid_argument, std::string(what)};
}

// Rewrites the value into the one form lookups use, or refuses it.
risk_result<std::string> canonical(block_kind kind, std::string_view value) {
    switch (kind) {
    case block_kind::ip: {
        auto a = detail::parse_ip(value);
        if (!a) {
            return std::unexpected(invalid("not an IP address"));
        }
        return detail::to_string(*a);
    }
    case block_kind::ip_prefix: {
        auto n = detail::parse_network(value);
        if (!n) {
            return std::unexpected(invalid("not a CIDR prefix"));
        }
        return detail::to_string(*n);
    }
    case block_kind::eid:
        if (!valid_eid(value)) {
            return std::unexpected(invalid("an EID is 32 decimal digits"));
        }
        return std::string(value);
    case block_kind::eum:
        if (value.empty() || value.size() > 32 || !all_digits(value)) {
            return std::unexpected(invalid("an EUM range is 1 to 32 leading EID digits"));
        }
        return std::string(value);
    case block_kind::matching_id:
        // SGP.22 matching IDs are short printable strings; anything else
        // could not have been issued.
        if (value.empty() || value.size() > 255 ||
            !std::ranges::all_of(value, [](char c) { return c > 0x20 && c < 0x7f; })) {
            return std::unexpected(invalid("not a matching ID"));
        }
        return std::string(value);
    }
    return std::unexpected(invalid("unknown block kind"));
}

std::string exact_key(block_kind kind, std::string_view value) {
    std::string k;
    k.reserve(value.size() + 1);
    k.push_back(static_cast<char>(kind));
    k.append(value);
    return k;
}

bool live(const block_entry& e, risk_time_point now) {
    return !e.expires || *e.expires > now;
}

} // namespace

struct blocklist::state {
    // ip, eid and matching_id entries, keyed by kind byte + canonical value.
    std::unordered_map<std::string, block_entry> exact;
    struct prefix {
        detail::ip_network network;
        block_entry entry;
    };
    std::vector<prefix> prefixes;
    std::vector<block_entry> eums;

    void put(block_entry e) {
        if (e.kind == block_kind::ip_prefix) {
            auto net = *detail::parse_network(e.value);
            std::erase_if(prefixes, [&](const prefix& p) { return p.entry.value == e.value; });
            prefixes.push_back({net, std::move(e)});
        } else if (e.kind == block_kind::eum) {
            std::erase_if(eums, [&](const block_entry& x) { return x.value == e.value; });
            eums.push_back(std::move(e));
        } else {
            auto k = exact_key(e.kind, e.value);
            exact.insert_or_assign(std::move(k), std::move(e));
        }
    }

    bool erase(block_kind kind, const std::string& value) {
        if (kind == block_kind::ip_prefix) {
            return std::erase_if(prefixes,
                                 [&](const prefix& p) { return p.entry.value == value; }) > 0;
        }
        if (kind == block_kind::eum) {
            return std::erase_if(eums, [&](const block_entry& x) { return x.value == value; }) > 0;
        }
        return exact.erase(exact_key(kind, value)) > 0;
    }

    std::optional<block_entry> find_exact(block_kind kind, std::string_view value,
                                          risk_time_point now) const {
        auto it = exact.find(exact_key(kind, value));
        if (it == exact.end() || !live(it->second, now)) {
            return std::nullopt;
        }
        return it->second;
    }
};

blocklist::blocklist(risk_clock clock, blocklist_store* store)
    : clock_(std::move(clock)), store_(store), state_(std::make_unique<state>()) {}

blocklist::~blocklist() = default;

risk_result<std::size_t> blocklist::load() {
    if (store_ == nullptr) {
        return 0;
    }
    auto entries = store_->load();
    if (!entries) {
        return std::unexpected(entries.error());
    }
    const auto now = clock_();
    auto fresh = std::make_unique<state>();
    std::size_t n = 0;
    for (auto& e : *entries) {
        auto value = canonical(e.kind, e.value);
        // A row another version wrote in a form this one refuses is skipped
        // rather than failing the whole load: the other entries still protect.
        if (!value || !live(e, now)) {
            continue;
        }
        e.value = std::move(*value);
        fresh->put(std::move(e));
        ++n;
    }
    std::unique_lock lock(mutex_);
    state_ = std::move(fresh);
    return n;
}

risk_result<block_entry> blocklist::add(block_entry entry) {
    auto value = canonical(entry.kind, entry.value);
    if (!value) {
        return std::unexpected(value.error());
    }
    entry.value = std::move(*value);
    {
        std::unique_lock lock(mutex_);
        state_->put(entry);
    }
    if (store_ != nullptr) {
        if (auto saved = store_->save(entry); !saved) {
            return std::unexpected(saved.error());
        }
    }
    return entry;
}

risk_result<bool> blocklist::remove(block_kind kind, std::string_view value) {
    auto canon = canonical(kind, value);
    if (!canon) {
        return std::unexpected(canon.error());
    }
    bool removed;
    {
        std::unique_lock lock(mutex_);
        removed = state_->erase(kind, *canon);
    }
    if (store_ != nullptr) {
        if (auto r = store_->remove(kind, *canon); !r) {
            return std::unexpected(r.error());
        }
    }
    return removed;
}

std::optional<block_entry> blocklist::match_ip(std::string_view address) const {
    auto a = detail::parse_ip(address);
    if (!a) {
        return std::nullopt;
    }
    const auto now = clock_();
    std::shared_lock lock(mutex_);
    if (auto e = state_->find_exact(block_kind::ip, detail::to_string(*a), now)) {
        return e;
    }
    const state::prefix* best = nullptr;
    for (const auto& p : state_->prefixes) {
        if (live(p.entry, now) && detail::contains(p.network, *a) &&
            (best == nullptr || p.network.prefix > best->network.prefix)) {
            best = &p;
        }
    }
    if (best == nullptr) {
        return std::nullopt;
    }
    return best->entry;
}

std::optional<block_entry> blocklist::match_eid(std::string_view eid) const {
    const auto now = clock_();
    std::shared_lock lock(mutex_);
    if (auto e = state_->find_exact(block_kind::eid, eid, now)) {
        return e;
    }
    const block_entry* best = nullptr;
    for (const auto& e : state_->eums) {
        if (live(e, now) && eid.starts_with(e.value) &&
            (best == nullptr || e.value.size() > best->value.size())) {
            best = &e;
        }
    }
    if (best == nullptr) {
        return std::nullopt;
    }
    return *best;
}

std::optional<block_entry> blocklist::match_matching_id(std::string_view matching_id) const {
    const auto now = clock_();
    std::shared_lock lock(mutex_);
    return state_->find_exact(block_kind::matching_id, matching_id, now);
}

std::vector<block_entry> blocklist::list() const {
    const auto now = clock_();
    std::vector<block_entry> out;
    {
        std::shared_lock lock(mutex_);
        for (const auto& [k, e] : state_->exact) {
            if (live(e, now)) {
                out.push_back(e);
            }
        }
        for (const auto& p : state_->prefixes) {
            if (live(p.entry, now)) {
                out.push_back(p.entry);
            }
        }
        for (const auto& e : state_->eums) {
            if (live(e, now)) {
                out.push_back(e);
            }
        }
    }
    std::ranges::sort(out, [](const block_entry& a, const block_entry& b) {
        return std::tie(a.kind, a.value) < std::tie(b.kind, b.value);
    });
    return out;
}

std::size_t blocklist::purge_expired() {
    const auto now = clock_();
    std::vector<block_entry> gone;
    {
        std::unique_lock lock(mutex_);
        auto& st = *state_;
        for (auto it = st.exact.begin(); it != st.exact.end();) {
            if (!live(it->second, now)) {
                gone.push_back(std::move(it->second));
                it = st.exact.erase(it);
            } else {
                ++it;
            }
        }
        std::erase_if(st.prefixes, [&](state::prefix& p) {
            if (live(p.entry, now)) {
                return false;
            }
            gone.push_back(p.entry);
            return true;
        });
        std::erase_if(st.eums, [&](block_entry& e) {
            if (live(e, now)) {
                return false;
            }
            gone.push_back(e);
            return true;
        });
    }
    if (store_ != nullptr) {
        for (const auto& e : gone) {
            // Best effort: a stored expired entry is skipped by load() anyway.
            (void)store_->remove(e.kind, e.value);
        }
    }
    return gone.size();
}

stolen_devices::stolen_devices(stolen_devices_store* store) : store_(store) {}

stolen_devices::~stolen_devices() = default;

risk_result<std::size_t> stolen_devices::load() {
    if (store_ == nullptr) {
        return 0;
    }
    auto devices = store_->load();
    if (!devices) {
        return std::unexpected(devices.error());
    }
    std::unordered_map<std::string, stolen_device> fresh;
    for (auto& d : *devices) {
        if (valid_eid(d.eid)) {
            auto eid = d.eid;
            fresh.insert_or_assign(std::move(eid), std::move(d));
        }
    }
    std::unique_lock lock(mutex_);
    devices_ = std::move(fresh);
    return devices_.size();
}

risk_result<void> stolen_devices::add(stolen_device device) {
    if (!valid_eid(device.eid)) {
        return std::unexpected(invalid("an EID is 32 decimal digits"));
    }
    {
        std::unique_lock lock(mutex_);
        devices_.insert_or_assign(device.eid, device);
    }
    if (store_ != nullptr) {
        return store_->save(device);
    }
    return {};
}

risk_result<bool> stolen_devices::remove(std::string_view eid) {
    bool removed;
    {
        std::unique_lock lock(mutex_);
        removed = devices_.erase(std::string(eid)) > 0;
    }
    if (store_ != nullptr) {
        if (auto r = store_->remove(eid); !r) {
            return std::unexpected(r.error());
        }
    }
    return removed;
}

std::optional<stolen_device> stolen_devices::find(std::string_view eid) const {
    std::shared_lock lock(mutex_);
    auto it = devices_.find(std::string(eid));
    if (it == devices_.end()) {
        return std::nullopt;
    }
    return it->second;
}

std::vector<stolen_device> stolen_devices::list() const {
    std::vector<stolen_device> out;
    {
        std::shared_lock lock(mutex_);
        for (const auto& [eid, d] : devices_) {
            out.push_back(d);
        }
    }
    std::ranges::sort(out, [](const auto& a, const auto& b) { return a.eid < b.eid; });
    return out;
}

} // namespace esimguard::defense
