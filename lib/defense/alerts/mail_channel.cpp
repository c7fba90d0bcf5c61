// The mail alert channels (issue 4 §2): one writes to the subscriber whose
// line is concerned, one to the operator (or its security team). Two
// channels rather than one, so that each recipient's delivery is retried and
// counted on its own: a subscriber mail is never sent twice because the
// operator's relay failed.

#include "esimguard/defense/smtp.hpp"

#include "mail_address.hpp"

#include <fmt/format.h>

namespace esimguard::defense {

namespace {

std::string evidence_lines(const alert_evidence& e) {
    std::string out;
    auto line = [&](std::string_view label, std::string_view value) {
        out += fmt::format("  {:<16}{}\n", label, value);
    };
    if (e.ip) {
        line("Source address:", *e.ip);
    }
    if (e.eid) {
        line("EID:", alert_masked_eid(*e.eid));
    }
    if (e.iccid) {
        line("ICCID:", *e.iccid);
    }
    if (e.count) {
        line("Count:", e.window ? fmt::format("{} within {} s", *e.count, e.window->count())
                                : std::to_string(*e.count));
    } else if (e.window) {
        line("Window:", fmt::format("{} s", e.window->count()));
    }
    for (const auto& [k, v] : e.details) {
        line(k + ":", v);
    }
    return out;
}

std::string operator_body(const alert& a) {
    std::string out = "esimguard raised an alert.\n\n";
    out += fmt::format("Severity:  {}\nRule:      {}\nTime:      {}\nAlert ID:  {}\n",
                       to_string(a.severity), a.rule, alert_time_text(a.time), a.id);
    if (a.subscriber) {
        out += fmt::format("Subscriber: {}\n", a.subscriber->id);
    }
    if (a.operator_party) {
        out += fmt::format("Operator:  {}\n", a.operator_party->id);
    }
    out += "\n" + a.summary + "\n";
    const std::string ev = evidence_lines(a.evidence);
    if (!ev.empty()) {
        out += "\nEvidence:\n" + ev;
    }
    return out;
}

std::string subscriber_body(const alert& a) {
    std::string out = "We noticed activity on your mobile line that may not have been you.\n\n";
    out += a.summary + "\n\n";
    out += fmt::format("When:    {}\n", alert_time_text(a.time));
    if (a.evidence.eid) {
        out += fmt::format("Device:  EID {}\n", alert_masked_eid(*a.evidence.eid));
    }
    if (a.evidence.ip) {
        out += fmt::format("From:    {}\n", *a.evidence.ip);
    }
    out += "\nIf this was not you, sign in to your portal to freeze transfers of your line, "
           "or contact your operator.\n\n";
    out += fmt::format("Reference: {}\n", a.id);
    return out;
}

class mail_channel final : public alert_channel {
public:
    explicit mail_channel(mail_channel_config config) : config_(std::move(config)) {}

    std::string_view name() const override { return config_.name; }

    delivery_result deliver(const alert& a) override {
        std::string to;
        if (config_.audience == mail_audience::subscriber) {
            if (a.subscriber && !a.subscriber->email.empty()) {
                to = a.subscriber->email;
            }
        } else if (a.operator_party && !a.operator_party->email.empty()) {
            to = a.operator_party->email;
        } else {
            to = config_.fallback_operator_address;
        }
        if (to.empty()) {
            return {delivery_status::skipped, "no address"};
        }
        auto m = alert_mail(a, config_.audience, config_.from, std::move(to));
        if (!m) {
            return {delivery_status::permanent_failure, m.error().detail};
        }
        auto r = send_mail(config_.smtp, *m);
        if (!r) {
            return {r.error().retryable() ? delivery_status::retryable_failure
                                          : delivery_status::permanent_failure,
                    fmt::format("{}: {}", to_string(r.error().code), r.error().detail)};
        }
        return {delivery_status::delivered, {}};
    }

private:
    mail_channel_config config_;
};

} // namespace

std::expected<mail_message, smtp_error> alert_mail(const alert& a, mail_audience audience,
                                                   std::string from, std::string to) {
    mail_message m;
    m.from = std::move(from);
    m.to = {std::move(to)};
    m.date = a.time;
    if (audience == mail_audience::subscriber) {
        m.subject = "[esimguard] Security alert on your mobile line";
        m.body = subscriber_body(a);
    } else {
        m.subject = fmt::format("[esimguard] {}: {}", to_string(a.severity), a.rule);
        m.body = operator_body(a);
    }
    // Rendering here refuses what send_mail would refuse (a CR/LF in the rule
    // name or an address) before the channel counts an attempt.
    if (auto text = render_mail(m); !text) {
        return std::unexpected(text.error());
    }
    return m;
}

std::expected<std::unique_ptr<alert_channel>, std::string>
create_mail_channel(mail_channel_config config) {
    if (!alerts_detail::valid_mail_address(config.from)) {
        return std::unexpected(std::string("mail From is not a plain address"));
    }
    if (!config.fallback_operator_address.empty() &&
        !alerts_detail::valid_mail_address(config.fallback_operator_address)) {
        return std::unexpected(std::string("fallback operator address is not a plain address"));
    }
    if (config.smtp.host.empty()) {
        return std::unexpected(std::string("no SMTP host"));
    }
    if (config.name.empty()) {
        config.name =
            config.audience == mail_audience::subscriber ? "mail_subscriber" : "mail_operator";
    }
    return std::make_unique<mail_channel>(std::move(config));
}

} // namespace esimguard::defense
