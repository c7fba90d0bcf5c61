// The risk engine: counts events per rule, fires rules at their thresholds,
// applies blocks, and answers prechecks from the blocklist (issue 4 §2).

#include "esimguard/defense/risk_engine.hpp"

#include "risk/ip_address.hpp"

#include <algorithm>

#include <fmt/core.h>

namespace esimguard::defense {

namespace {

std::optional<std::string> nonempty(const std::optional<std::string>& v) {
    if (v && !v->empty()) {
        return v;
    }
    return std::nullopt;
}

// Half of an activation code must not travel in alerts and logs whole.
std::string mask_matching_id(std::string_view id) {
    return fmt::format("{}***({} chars)", id.substr(0, 4), id.size());
}

class risk_engine_impl final : public risk_engine {
public:
    risk_engine_impl(risk_engine_config config, std::shared_ptr<counter_backend> counters,
                     blocklist& blocks, stolen_devices& stolen, risk_clock clock)
        : config_(std::move(config)), counters_(std::move(counters)), blocks_(blocks),
          stolen_(stolen), clock_(std::move(clock)) {}

    risk_decision precheck(const risk_precheck_request& request) const override {
        risk_decision d;
        if (auto e = blocks_.match_ip(request.source_ip)) {
            return blocked(*e, risk_dimension::source_ip, source_key(request.source_ip));
        }
        if (auto eid = nonempty(request.eid)) {
            if (auto rule = stolen_rule(); rule != nullptr && stolen_.contains(*eid)) {
                risk_event ev{.kind = rule->kind, .source_ip = request.source_ip, .eid = eid};
                const risk_rule* primary = nullptr;
                fire(d, primary, *rule, *eid, 1, true, ev, clock_());
                return d;
            }
            if (auto e = blocks_.match_eid(*eid)) {
                return blocked(*e, risk_dimension::eid, *eid);
            }
        }
        if (auto id = nonempty(request.matching_id)) {
            if (auto e = blocks_.match_matching_id(*id)) {
                return blocked(*e, risk_dimension::matching_id, mask_matching_id(*id));
            }
        }
        return d;
    }

    risk_decision record(const risk_event& event) override {
        risk_decision d;
        const risk_rule* primary = nullptr;
        const auto now = clock_();
        counted_series counted;
        for (const auto& rule : config_.rules) {
            if (rule.kind != event.kind) {
                continue;
            }
            auto key = key_of(rule.dimension, event);
            if (!key) {
                continue;
            }
            if (rule.match == risk_match::stolen_eid) {
                if (stolen_.contains(*key)) {
                    fire(d, primary, rule, *key, 1, true, event, now);
                }
                continue;
            }
            auto total = count_once(rule, *key, event, now, counted);
            if (!total) {
                d.degraded = true;
                if (config_.fail_closed) {
                    d.verdict = risk_verdict::refuse;
                    d.rule = d.rule.value_or(rule.name);
                }
                continue;
            }
            if (total->value >= rule.threshold) {
                // Actions go out once, on the event that brings the count to
                // the threshold; later ones are only refused, so that an
                // attack in progress does not flood the alert channels.
                const bool reached = total->counted && total->value == rule.threshold;
                fire(d, primary, rule, *key, total->value, reached, event, now);
            }
        }
        return d;
    }

    std::string source_key(std::string_view source_ip) const override {
        auto a = detail::parse_ip(source_ip);
        if (!a) {
            // Only a bug or a test sends a non-address; count it as given
            // (the backend folds long keys).
            return std::string(source_ip);
        }
        if (a->v6 && config_.ipv6_prefix_length < 128) {
            return detail::to_string(detail::ip_network{
                detail::masked(*a, config_.ipv6_prefix_length), config_.ipv6_prefix_length});
        }
        return detail::to_string(*a);
    }

    bool reset(std::string_view rule_name, std::string_view key) override {
        auto it = std::ranges::find(config_.rules, rule_name, &risk_rule::name);
        if (it == config_.rules.end()) {
            return false;
        }
        const std::string k =
            it->dimension == risk_dimension::source_ip ? source_key(key) : std::string(key);
        counters_->reset(series_of(*it), k);
        return true;
    }

private:
    static counter_series series_of(const risk_rule& r) {
        return {.kind = r.kind, .dimension = r.dimension, .window = r.window};
    }

    std::optional<std::string> key_of(risk_dimension d, const risk_event& ev) const {
        switch (d) {
        case risk_dimension::source_ip:
            if (ev.source_ip.empty()) {
                return std::nullopt;
            }
            return source_key(ev.source_ip);
        case risk_dimension::eid:
            return nonempty(ev.eid);
        case risk_dimension::matching_id:
            return nonempty(ev.matching_id);
        case risk_dimension::iccid:
            return nonempty(ev.iccid);
        case risk_dimension::order:
            return nonempty(ev.order_id);
        case risk_dimension::subscriber:
            return nonempty(ev.subscriber_id);
        case risk_dimension::operator_id:
            return nonempty(ev.operator_id);
        }
        return std::nullopt;
    }

    struct rule_count {
        std::uint64_t value;
        bool counted; // this event added to it (false: a distinct value seen before)
    };

    // The counts one event produced, by series (a distinct count's helper
    // series included): rules that count the same series share its counter.
    using counted_series = std::vector<std::pair<counter_series, std::optional<rule_count>>>;

    // count_event() once per series and event: two rules on the same kind,
    // dimension and window (one alerting early, one blocking later) must not
    // add the event twice to the counter they share.
    std::optional<rule_count> count_once(const risk_rule& rule, const std::string& key,
                                         const risk_event& ev, risk_time_point now,
                                         counted_series& counted) {
        auto series = series_of(rule);
        series.distinct = rule.distinct;
        auto it = std::ranges::find(counted, series, &counted_series::value_type::first);
        if (it != counted.end()) {
            return it->second;
        }
        auto total = count_event(rule, key, ev, now);
        counted.emplace_back(series, total);
        return total;
    }

    // The rule's windowed count after this event; nullopt when the backend failed.
    std::optional<rule_count> count_event(const risk_rule& rule, const std::string& key,
                                          const risk_event& ev, risk_time_point now) {
        const auto series = series_of(rule);
        if (!rule.distinct) {
            auto total = counters_->add(series, key, 1, now);
            return total ? std::optional(rule_count{*total, true}) : std::nullopt;
        }
        auto value = key_of(*rule.distinct, ev);
        if (!value) {
            auto total = counters_->count(series, key, now);
            return total ? std::optional(rule_count{*total, false}) : std::nullopt;
        }
        // A distinct count is two counters: one per (key, value) pair, whose
        // first event within the window is what adds 1 to the key's count.
        // Both are plain adds, so a shared backend needs nothing more.
        auto pair_series = series;
        pair_series.distinct = rule.distinct;
        std::string pair_key = key;
        pair_key += '\x1f';
        pair_key += *value;
        auto seen = counters_->add(pair_series, pair_key, 1, now);
        if (!seen) {
            return std::nullopt;
        }
        const bool first = *seen == 1;
        auto total =
            first ? counters_->add(series, key, 1, now) : counters_->count(series, key, now);
        return total ? std::optional(rule_count{*total, first}) : std::nullopt;
    }

    const risk_rule* stolen_rule() const {
        auto it = std::ranges::find(config_.rules, risk_match::stolen_eid, &risk_rule::match);
        return it == config_.rules.end() ? nullptr : &*it;
    }

    risk_decision blocked(const block_entry& e, risk_dimension dim, std::string key) const {
        risk_decision d;
        d.verdict = risk_verdict::refuse;
        d.rule = fmt::format("blocklist:{}", to_string(e.kind));
        d.evidence =
            risk_evidence{.rule = *d.rule,
                          .dimension = dim,
                          .key = std::move(key),
                          .count = 0,
                          .threshold = 0,
                          .window = std::chrono::seconds(0),
                          .at = clock_(),
                          .source_ip = e.kind == block_kind::ip || e.kind == block_kind::ip_prefix
                                           ? e.value
                                           : std::string()};
        return d;
    }

    // `primary` is the rule the decision names so far (per call, not shared).
    void fire(risk_decision& d, const risk_rule*& primary, const risk_rule& rule,
              const std::string& key, std::uint64_t total, bool act, const risk_event& ev,
              risk_time_point now) const {
        risk_evidence evidence{
            .rule = rule.name,
            .dimension = rule.dimension,
            .key = rule.dimension == risk_dimension::matching_id ? mask_matching_id(key) : key,
            .count = total,
            .threshold = rule.threshold,
            .window = rule.window,
            .at = now,
            .source_ip = ev.source_ip.empty() ? std::string() : source_key(ev.source_ip),
            .eid = nonempty(ev.eid),
            .iccid = nonempty(ev.iccid),
            .order_id = nonempty(ev.order_id),
            .subscriber_id = nonempty(ev.subscriber_id),
            .operator_id = nonempty(ev.operator_id),
        };
        // The decision names the most severe rule, a refusing one before one
        // that only acts.
        const auto rank = [](const risk_rule& r) { return std::pair(r.refuse, r.severity); };
        if (primary == nullptr || rank(rule) > rank(*primary)) {
            primary = &rule;
            d.rule = rule.name;
            d.evidence = evidence;
        }
        if (rule.refuse) {
            d.verdict = risk_verdict::refuse;
        }
        if (!act) {
            return;
        }
        for (auto kind : rule.actions) {
            switch (kind) {
            case risk_action_kind::alert:
                d.actions.emplace_back(risk_alert_action{rule.severity, rule.name, evidence});
                break;
            case risk_action_kind::pause_order:
                d.actions.emplace_back(risk_pause_order_action{rule.name, nonempty(ev.order_id),
                                                               nonempty(ev.iccid),
                                                               nonempty(ev.matching_id)});
                break;
            case risk_action_kind::block_source:
                if (auto entry = block_source(rule, ev, total, now, d.degraded)) {
                    d.actions.emplace_back(risk_block_source_action{rule.name, std::move(*entry)});
                }
                break;
            case risk_action_kind::lock_subscriber_line:
                d.actions.emplace_back(risk_lock_line_action{rule.name, nonempty(ev.subscriber_id),
                                                             nonempty(ev.iccid)});
                break;
            case risk_action_kind::require_step_up:
                d.actions.emplace_back(risk_step_up_action{rule.name, nonempty(ev.subscriber_id),
                                                           nonempty(ev.order_id),
                                                           nonempty(ev.iccid)});
                break;
            case risk_action_kind::notify_subscriber:
                d.actions.emplace_back(risk_notify_subscriber_action{
                    rule.name, nonempty(ev.subscriber_id), nonempty(ev.iccid)});
                break;
            }
        }
    }

    // Blocks the event's source (its IPv6 network) unless a block at least as
    // long is already in place. The block applies in memory even when the
    // blocklist store fails; that sets `store_failed` (the decision's degraded).
    std::optional<block_entry> block_source(const risk_rule& rule, const risk_event& ev,
                                            std::uint64_t total, risk_time_point now,
                                            bool& store_failed) const {
        if (ev.source_ip.empty()) {
            return std::nullopt;
        }
        const std::string key = source_key(ev.source_ip);
        const auto expires = now + rule.block_ttl;
        if (auto existing = blocks_.match_ip(ev.source_ip);
            existing && (!existing->expires || *existing->expires >= expires)) {
            return existing;
        }
        block_entry entry{
            .kind = key.find('/') == std::string::npos ? block_kind::ip : block_kind::ip_prefix,
            .value = key,
            .reason = fmt::format("{}: {} {} within {}s", rule.name, total, to_string(rule.kind),
                                  rule.window.count()),
            .created = now,
            .expires = expires,
            .created_by = "risk:" + rule.name,
        };
        auto added = blocks_.add(entry);
        if (added) {
            return *added;
        }
        if (added.error().code == risk_errc::invalid_argument) {
            // A source that is no address (only a bug sends one) cannot be blocked.
            return std::nullopt;
        }
        store_failed = true;
        return entry;
    }

    risk_engine_config config_;
    std::shared_ptr<counter_backend> counters_;
    blocklist& blocks_;
    stolen_devices& stolen_;
    risk_clock clock_;
};

} // namespace

risk_result<std::unique_ptr<risk_engine>>
create_risk_engine(risk_engine_config config, std::shared_ptr<counter_backend> counters,
                   blocklist& blocks, stolen_devices& stolen, risk_clock clock) {
    if (auto ok = validate_risk_rules(config.rules); !ok) {
        return std::unexpected(ok.error());
    }
    if (config.ipv6_prefix_length < 1 || config.ipv6_prefix_length > 128) {
        return std::unexpected(
            risk_error{risk_errc::invalid_argument, "ipv6_prefix_length must be 1..128"});
    }
    if (!counters || !clock) {
        return std::unexpected(
            risk_error{risk_errc::invalid_argument, "a counter backend and a clock are required"});
    }
    return std::make_unique<risk_engine_impl>(std::move(config), std::move(counters), blocks,
                                              stolen, std::move(clock));
}

} // namespace esimguard::defense
