// The alert value type: names, IDs, masking, its JSON form, and the
// in-memory inbox the portal will show (issue 4 §2).

#include "esimguard/defense/alerts.hpp"

#include "esimguard/core/bytes.hpp"
#include "esimguard/crypto/random.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdio>
#include <ctime>
#include <deque>
#include <mutex>
#include <random>

namespace esimguard::defense {

using json = nlohmann::json;

std::string_view to_string(alert_severity s) {
    switch (s) {
    case alert_severity::info:
        return "info";
    case alert_severity::warning:
        return "warning";
    case alert_severity::critical:
        return "critical";
    }
    return "unknown";
}

std::optional<alert_severity> parse_alert_severity(std::string_view text) {
    for (auto s : {alert_severity::info, alert_severity::warning, alert_severity::critical}) {
        if (text == to_string(s)) {
            return s;
        }
    }
    return std::nullopt;
}

std::string make_alert_id() {
    if (auto r = crypto::random_bytes(16)) {
        return to_hex(*r);
    }
    // The CSPRNG failing must not lose an alert; an ID only needs to be
    // unique, not secret, so a process-local counter mixed with the time and
    // a seeded engine does.
    static std::atomic<std::uint64_t> counter{0};
    static thread_local std::mt19937_64 engine{std::random_device{}()};
    const auto now = std::chrono::system_clock::now().time_since_epoch().count();
    return fmt::format("{:016x}{:08x}{:08x}", static_cast<std::uint64_t>(now),
                       static_cast<std::uint32_t>(counter.fetch_add(1)),
                       static_cast<std::uint32_t>(engine()));
}

std::string alert_masked_eid(std::string_view eid) {
    if (eid.size() < 12) {
        return "***";
    }
    return fmt::format("{}…{}", eid.substr(0, 8), eid.substr(eid.size() - 4));
}

std::string alert_time_text(std::chrono::system_clock::time_point t) {
    const std::time_t tt = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

namespace {

std::optional<std::chrono::system_clock::time_point> parse_time_text(const std::string& s) {
    std::tm tm{};
    char z = 0;
    int consumed = 0;
    if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                    &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &z, &consumed) != 7 ||
        z != 'Z' || static_cast<std::size_t>(consumed) != s.size()) {
        return std::nullopt;
    }
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    const std::time_t tt = timegm(&tm);
    if (tt == static_cast<std::time_t>(-1)) {
        return std::nullopt;
    }
    return std::chrono::system_clock::from_time_t(tt);
}

json party_json(const alert_party& p) {
    return json{{"id", p.id}};
}

} // namespace

std::string alert_to_json(const alert& a) {
    json ev = json::object();
    const auto& e = a.evidence;
    if (e.ip) {
        ev["ip"] = *e.ip;
    }
    if (e.eid) {
        ev["eid"] = *e.eid;
    }
    if (e.iccid) {
        ev["iccid"] = *e.iccid;
    }
    if (e.count) {
        ev["count"] = *e.count;
    }
    if (e.window) {
        ev["window_seconds"] = e.window->count();
    }
    if (!e.details.empty()) {
        json d = json::object();
        for (const auto& [k, v] : e.details) {
            d[k] = v;
        }
        ev["details"] = std::move(d);
    }
    json j{{"id", a.id},
           {"time", alert_time_text(a.time)},
           {"severity", to_string(a.severity)},
           {"rule", a.rule},
           {"summary", a.summary},
           {"evidence", std::move(ev)}};
    if (a.subscriber) {
        j["subscriber"] = party_json(*a.subscriber);
    }
    if (a.operator_party) {
        j["operator"] = party_json(*a.operator_party);
    }
    // Invalid UTF-8 from a rule's text must not make delivery throw.
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::expected<alert, std::string> parse_alert_json(std::string_view text) {
    const json j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        return std::unexpected(std::string("not a JSON object"));
    }
    auto str = [&](const json& o, const char* key) -> std::optional<std::string> {
        const auto it = o.find(key);
        if (it == o.end() || !it->is_string()) {
            return std::nullopt;
        }
        return it->get<std::string>();
    };
    alert a;
    auto id = str(j, "id");
    auto time = str(j, "time");
    auto sev = str(j, "severity");
    auto rule = str(j, "rule");
    auto summary = str(j, "summary");
    if (!id || !time || !sev || !rule || !summary) {
        return std::unexpected(std::string("id, time, severity, rule and summary are required"));
    }
    a.id = *id;
    const auto t = parse_time_text(*time);
    if (!t) {
        return std::unexpected(std::string("time is not RFC 3339 UTC"));
    }
    a.time = *t;
    const auto s = parse_alert_severity(*sev);
    if (!s) {
        return std::unexpected(std::string("unknown severity"));
    }
    a.severity = *s;
    a.rule = *rule;
    a.summary = *summary;
    if (const auto ev = j.find("evidence"); ev != j.end()) {
        if (!ev->is_object()) {
            return std::unexpected(std::string("evidence is not an object"));
        }
        a.evidence.ip = str(*ev, "ip");
        a.evidence.eid = str(*ev, "eid");
        a.evidence.iccid = str(*ev, "iccid");
        if (const auto c = ev->find("count"); c != ev->end()) {
            if (!c->is_number_unsigned()) {
                return std::unexpected(std::string("evidence.count is not a count"));
            }
            a.evidence.count = c->get<std::uint64_t>();
        }
        if (const auto w = ev->find("window_seconds"); w != ev->end()) {
            if (!w->is_number_integer()) {
                return std::unexpected(std::string("evidence.window_seconds is not an integer"));
            }
            a.evidence.window = std::chrono::seconds{w->get<std::int64_t>()};
        }
        if (const auto d = ev->find("details"); d != ev->end()) {
            if (!d->is_object()) {
                return std::unexpected(std::string("evidence.details is not an object"));
            }
            for (const auto& [k, v] : d->items()) {
                if (!v.is_string()) {
                    return std::unexpected(fmt::format("evidence.details.{} is not a string", k));
                }
                a.evidence.details.emplace_back(k, v.get<std::string>());
            }
        }
    }
    auto party = [&](const char* key) -> std::expected<std::optional<alert_party>, std::string> {
        const auto p = j.find(key);
        if (p == j.end()) {
            return std::optional<alert_party>{};
        }
        auto pid = p->is_object() ? str(*p, "id") : std::nullopt;
        if (!pid) {
            return std::unexpected(fmt::format("{}.id is required", key));
        }
        return std::optional<alert_party>{alert_party{*pid}};
    };
    auto sub = party("subscriber");
    if (!sub) {
        return std::unexpected(sub.error());
    }
    a.subscriber = *sub;
    auto op = party("operator");
    if (!op) {
        return std::unexpected(op.error());
    }
    a.operator_party = *op;
    return a;
}

namespace {

class memory_alert_inbox final : public alert_inbox {
public:
    explicit memory_alert_inbox(std::size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

    void append(const alert& a) override {
        std::lock_guard lock(mutex_);
        if (alerts_.size() == capacity_) {
            alerts_.pop_front();
        }
        alerts_.push_back(a);
    }

    std::vector<alert> recent(const query& q) const override {
        std::lock_guard lock(mutex_);
        std::vector<alert> out;
        for (auto it = alerts_.rbegin(); it != alerts_.rend() && out.size() < q.limit; ++it) {
            if (q.subscriber_id && (!it->subscriber || it->subscriber->id != *q.subscriber_id)) {
                continue;
            }
            if (q.operator_id &&
                (!it->operator_party || it->operator_party->id != *q.operator_id)) {
                continue;
            }
            if (q.min_severity && it->severity < *q.min_severity) {
                continue;
            }
            out.push_back(*it);
        }
        return out;
    }

private:
    const std::size_t capacity_;
    mutable std::mutex mutex_;
    std::deque<alert> alerts_;
};

class inbox_channel final : public alert_channel {
public:
    inbox_channel(std::shared_ptr<alert_inbox> inbox, std::string name)
        : inbox_(std::move(inbox)), name_(std::move(name)) {}
    std::string_view name() const override { return name_; }
    delivery_result deliver(const alert& a) override {
        inbox_->append(a);
        return {delivery_status::delivered, {}};
    }

private:
    std::shared_ptr<alert_inbox> inbox_;
    std::string name_;
};

} // namespace

std::unique_ptr<alert_inbox> create_memory_alert_inbox(std::size_t capacity) {
    return std::make_unique<memory_alert_inbox>(capacity);
}

std::unique_ptr<alert_channel> create_inbox_channel(std::shared_ptr<alert_inbox> inbox,
                                                    std::string name) {
    return std::make_unique<inbox_channel>(std::move(inbox), std::move(name));
}

} // namespace esimguard::defense
