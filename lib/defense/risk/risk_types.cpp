// Text names of the risk module's enums, as config files and alerts spell them.

#include "esimguard/defense/risk_types.hpp"
#include "esimguard/defense/blocklist.hpp"
#include "esimguard/defense/risk_rules.hpp"

#include <array>
#include <utility>

namespace esimguard::defense {

namespace {

template <class E, std::size_t N>
std::string_view name_of(const std::array<std::pair<E, std::string_view>, N>& names, E value) {
    for (const auto& [e, n] : names) {
        if (e == value) {
            return n;
        }
    }
    return "unknown";
}

template <class E, std::size_t N>
std::optional<E> parse_name(const std::array<std::pair<E, std::string_view>, N>& names,
                            std::string_view text) {
    for (const auto& [e, n] : names) {
        if (n == text) {
            return e;
        }
    }
    return std::nullopt;
}

constexpr std::array<std::pair<risk_dimension, std::string_view>, risk_dimension_count>
    dimension_names{{
        {risk_dimension::source_ip, "source_ip"},
        {risk_dimension::eid, "eid"},
        {risk_dimension::matching_id, "matching_id"},
        {risk_dimension::iccid, "iccid"},
        {risk_dimension::order, "order"},
        {risk_dimension::subscriber, "subscriber"},
        {risk_dimension::operator_id, "operator"},
    }};

constexpr std::array<std::pair<risk_event_kind, std::string_view>, 10> kind_names{{
    {risk_event_kind::request, "request"},
    {risk_event_kind::unknown_matching_id, "unknown_matching_id"},
    {risk_event_kind::bad_signature, "bad_signature"},
    {risk_event_kind::bad_chain, "bad_chain"},
    {risk_event_kind::cc_failure, "cc_failure"},
    {risk_event_kind::download_started, "download_started"},
    {risk_event_kind::profile_tried_by_eid, "profile_tried_by_eid"},
    {risk_event_kind::replay, "replay"},
    {risk_event_kind::operator_auth_failure, "operator_auth_failure"},
    {risk_event_kind::portal_login_failure, "portal_login_failure"},
}};

constexpr std::array<std::pair<risk_severity, std::string_view>, 3> severity_names{{
    {risk_severity::info, "info"},
    {risk_severity::warning, "warning"},
    {risk_severity::critical, "critical"},
}};

constexpr std::array<std::pair<risk_action_kind, std::string_view>, 6> action_names{{
    {risk_action_kind::alert, "alert"},
    {risk_action_kind::pause_order, "pause_order"},
    {risk_action_kind::block_source, "block_source"},
    {risk_action_kind::lock_subscriber_line, "lock_subscriber_line"},
    {risk_action_kind::require_step_up, "require_step_up"},
    {risk_action_kind::notify_subscriber, "notify_subscriber"},
}};

constexpr std::array<std::pair<block_kind, std::string_view>, 5> block_kind_names{{
    {block_kind::ip, "ip"},
    {block_kind::ip_prefix, "ip_prefix"},
    {block_kind::eid, "eid"},
    {block_kind::eum, "eum"},
    {block_kind::matching_id, "matching_id"},
}};

} // namespace

std::string_view to_string(risk_errc e) {
    switch (e) {
    case risk_errc::invalid_argument:
        return "invalid_argument";
    case risk_errc::unavailable:
        return "unavailable";
    case risk_errc::capacity:
        return "capacity";
    }
    return "unknown";
}

std::string_view to_string(risk_dimension d) {
    return name_of(dimension_names, d);
}
std::optional<risk_dimension> parse_risk_dimension(std::string_view text) {
    return parse_name(dimension_names, text);
}

std::string_view to_string(risk_event_kind k) {
    return name_of(kind_names, k);
}
std::optional<risk_event_kind> parse_risk_event_kind(std::string_view text) {
    return parse_name(kind_names, text);
}

std::string_view to_string(risk_severity s) {
    return name_of(severity_names, s);
}
std::optional<risk_severity> parse_risk_severity(std::string_view text) {
    return parse_name(severity_names, text);
}

std::string_view to_string(risk_action_kind k) {
    return name_of(action_names, k);
}
std::optional<risk_action_kind> parse_risk_action_kind(std::string_view text) {
    return parse_name(action_names, text);
}

std::string_view to_string(block_kind k) {
    return name_of(block_kind_names, k);
}
std::optional<block_kind> parse_block_kind(std::string_view text) {
    return parse_name(block_kind_names, text);
}

} // namespace esimguard::defense
