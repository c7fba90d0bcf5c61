#include "esimguard/store/store.hpp"

#include <array>
#include <utility>

namespace esimguard::store {

namespace {

constexpr std::array<std::pair<profile_state, std::string_view>, 13> profile_states{{
    {profile_state::available, "available"},
    {profile_state::allocated, "allocated"},
    {profile_state::linked, "linked"},
    {profile_state::confirmed, "confirmed"},
    {profile_state::released, "released"},
    {profile_state::downloaded, "downloaded"},
    {profile_state::installed, "installed"},
    {profile_state::enabled, "enabled"},
    {profile_state::disabled, "disabled"},
    {profile_state::deleted, "deleted"},
    {profile_state::cancelled, "cancelled"},
    {profile_state::expired, "expired"},
    {profile_state::error, "error"},
}};

constexpr std::array<std::pair<session_state, std::string_view>, 4> session_states{{
    {session_state::initiated, "initiated"},
    {session_state::authenticated, "authenticated"},
    {session_state::bpp_sent, "bpp_sent"},
    {session_state::ended, "ended"},
}};

constexpr std::array<std::pair<outbox_state, std::string_view>, 3> outbox_states{{
    {outbox_state::pending, "pending"},
    {outbox_state::delivered, "delivered"},
    {outbox_state::failed, "failed"},
}};

template <class E, std::size_t N>
std::string_view name_of(const std::array<std::pair<E, std::string_view>, N>& table, E e) {
    for (const auto& [v, n] : table) {
        if (v == e) {
            return n;
        }
    }
    return "unknown";
}

template <class E, std::size_t N>
std::optional<E> value_of(const std::array<std::pair<E, std::string_view>, N>& table,
                          std::string_view s) {
    for (const auto& [v, n] : table) {
        if (n == s) {
            return v;
        }
    }
    return std::nullopt;
}

} // namespace

std::string_view to_string(errc e) {
    switch (e) {
    case errc::not_found:
        return "not_found";
    case errc::conflict:
        return "conflict";
    case errc::state_mismatch:
        return "state_mismatch";
    case errc::invalid_argument:
        return "invalid_argument";
    case errc::io:
        return "io";
    case errc::corrupt:
        return "corrupt";
    case errc::schema_too_new:
        return "schema_too_new";
    }
    return "unknown";
}

std::string_view to_string(profile_state s) {
    return name_of(profile_states, s);
}

std::optional<profile_state> profile_state_from_string(std::string_view s) {
    return value_of(profile_states, s);
}

std::string_view to_string(session_state s) {
    return name_of(session_states, s);
}

std::optional<session_state> session_state_from_string(std::string_view s) {
    return value_of(session_states, s);
}

std::string_view to_string(outbox_state s) {
    return name_of(outbox_states, s);
}

std::optional<outbox_state> outbox_state_from_string(std::string_view s) {
    return value_of(outbox_states, s);
}

std::string_view to_string(download_refusal r) {
    switch (r) {
    case download_refusal::unknown_matching_id:
        return "unknown_matching_id";
    case download_refusal::not_released:
        return "not_released";
    case download_refusal::expired:
        return "expired";
    case download_refusal::attempts_exceeded:
        return "attempts_exceeded";
    case download_refusal::eid_mismatch:
        return "eid_mismatch";
    case download_refusal::already_downloaded:
        return "already_downloaded";
    case download_refusal::cancelled:
        return "cancelled";
    case download_refusal::locked:
        return "locked";
    }
    return "unknown";
}

std::chrono::microseconds backoff_delay(const retry_policy& p, int attempts) {
    auto d = p.initial_delay;
    // Doubling stops at max_delay, so the loop is short and cannot overflow.
    for (int i = 1; i < attempts && d < p.max_delay; ++i) {
        d *= 2;
    }
    return d < p.max_delay ? d : p.max_delay;
}

} // namespace esimguard::store
