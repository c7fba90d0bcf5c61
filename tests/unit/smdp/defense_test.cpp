// The defences wired into the SM-DP+ (issue 4 §1–4): decisions before any
// signature work, refusals with their SGP.22 codes, the actions of risk
// rules, the eUICC policy list, pinning, replays, step-up approvals,
// confirmation codes, and the audit trail of every call.

#include "harness.hpp"

#include "fakes/memory_defense_store.hpp"

#include "esimguard/asn1/cancel_session.hpp"
#include "esimguard/crypto/cert_builder.hpp"
#include "esimguard/defense/totp.hpp"
#include "esimguard/smdp/routes.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <mutex>
#include <regex>

namespace esimguard::smdp::testing {
namespace {

using defense::risk_action_kind;
using defense::risk_dimension;
using defense::risk_event_kind;

/// Wraps a signer and counts signatures: the proof that a refused request
/// cost the server no signature.
class counting_signer final : public crypto::signer {
public:
    explicit counting_signer(std::shared_ptr<const crypto::signer> inner)
        : inner_(std::move(inner)) {}
    crypto::curve key_curve() const override { return inner_->key_curve(); }
    crypto::public_key public_part() const override { return inner_->public_part(); }
    crypto::result<bytes> sign(byte_view m) const override {
        ++signatures;
        return inner_->sign(m);
    }
    crypto::result<bytes> sign_der(byte_view m) const override {
        ++signatures;
        return inner_->sign_der(m);
    }
    crypto::result<bytes> ecdh(const crypto::public_key& p) const override {
        return inner_->ecdh(p);
    }
    mutable std::atomic<int> signatures{0};

private:
    std::shared_ptr<const crypto::signer> inner_;
};

/// Records every alert it is given.
class recording_notifier final : public defense::alert_notifier {
public:
    void on_alert(const defense::alert& a) override {
        std::lock_guard l(m_);
        alerts_.push_back(a);
    }
    std::vector<defense::alert> alerts() const {
        std::lock_guard l(m_);
        return alerts_;
    }
    std::vector<defense::alert> by_rule(std::string_view rule) const {
        std::vector<defense::alert> out;
        for (const auto& a : alerts()) {
            if (a.rule == rule) {
                out.push_back(a);
            }
        }
        return out;
    }

private:
    mutable std::mutex m_;
    std::vector<defense::alert> alerts_;
};

class defended : public service_fixture {
protected:
    void SetUp() override { rebuild(); }

    /// Builds the service with every defence wired; `tweak` may change the
    /// rules or the policy before.
    void rebuild(std::function<void(smdp_config&)> tweak = nullptr) {
        engine.reset();
        defense::risk_engine_config rc;
        rc.rules = rules;
        rc.ipv6_prefix_length = 64;
        engine = must(defense::create_risk_engine(rc, defense::create_memory_counter_backend(),
                                                  blocks, stolen, [this] { return now.load(); }));
        defense::one_time_code_config oc;
        codes = must(defense::one_time_code_issuer::create(bytes(32, 0x42), oc, *random));
        build([this, tweak](smdp_config& c) {
            for (auto& cred : c.credentials) {
                auto a = std::make_shared<counting_signer>(cred.dpauth_signer);
                auto b = std::make_shared<counting_signer>(cred.dppb_signer);
                dpauth_signers.push_back(a);
                dppb_signers.push_back(b);
                cred.dpauth_signer = a;
                cred.dppb_signer = b;
            }
            auto& d = c.defenses;
            d.risk = engine.get();
            d.blocks = &blocks;
            d.stolen = &stolen;
            d.alerts = &alerts;
            d.code_sender = &codes_sent;
            d.store = &defenses;
            d.codes = codes.get();
            d.audit = [this](const defense::audit_entry& e) {
                std::lock_guard l(audit_mutex);
                audited.push_back(e);
            };
            if (tweak) {
                tweak(c);
            }
        });
    }

    int signatures() const {
        int n = 0;
        for (const auto& s : dpauth_signers) {
            n += s->signatures;
        }
        for (const auto& s : dppb_signers) {
            n += s->signatures;
        }
        return n;
    }

    std::uint64_t refusals(const std::string& rule) {
        return metrics
            ->counter("smdp_defense_refusals_total",
                      "ES9+/ES2+ calls refused by a defence, by rule", {{"rule", rule}})
            .value();
    }

    std::uint64_t risk_events(const std::string& kind) {
        return metrics
            ->counter("smdp_risk_events_total",
                      "Events reported to the risk engine (replay, bad_chain, ...), by kind",
                      {{"kind", kind}})
            .value();
    }

    std::uint64_t actions(const std::string& action) {
        return metrics
            ->counter("smdp_defense_actions_total",
                      "Actions carried out for risk decisions (alert, pause_order, ...)",
                      {{"action", action}})
            .value();
    }

    std::vector<defense::audit_entry> audit_of(store::audit_kind k) {
        std::lock_guard l(audit_mutex);
        std::vector<defense::audit_entry> out;
        for (const auto& e : audited) {
            if (e.kind == k) {
                out.push_back(e);
            }
        }
        return out;
    }

    /// A subscriber with a mail address and the ICCID as their line.
    void link(const std::string& iccid, bool step_up_on_new_eid = false,
              std::optional<bytes> totp = std::nullopt) {
        store::subscriber_record s;
        s.id = "sub1";
        s.display_name = "Ann";
        s.email = "ann@example.com";
        s.totp_secret = std::move(totp);
        (void)defenses.add_subscriber(s);
        must(defenses.link_line(iccid, "sub1", step_up_on_new_eid, now.load()));
    }

    static std::string code_in(const std::string& text) {
        std::smatch m;
        EXPECT_TRUE(std::regex_search(text, m, std::regex("code ([0-9]{6,12})")));
        return m.size() > 1 ? m[1].str() : "";
    }

    test_card card_for(int serial, crypto::curve c = crypto::curve::nist_p256) {
        return test_card(c, shared_pki::get().euicc(c, serial));
    }

    std::vector<defense::risk_rule> rules = defense::default_risk_rules();
    defense::blocklist blocks{[this] { return now.load(); }};
    defense::stolen_devices stolen;
    recording_notifier alerts;
    recording_notifier codes_sent;
    esimguard::testing::memory_defense_store defenses;
    std::shared_ptr<crypto::random_source> random{crypto::create_system_random_source()};
    std::unique_ptr<defense::one_time_code_issuer> codes;
    std::unique_ptr<defense::risk_engine> engine;
    std::vector<std::shared_ptr<counting_signer>> dpauth_signers;
    std::vector<std::shared_ptr<counting_signer>> dppb_signers;
    std::mutex audit_mutex;
    std::vector<defense::audit_entry> audited;
};

// ---- decisions before any signature work --------------------------------

TEST_F(defended, when_the_source_address_is_blocked_then_initiate_is_refused_without_signing) {
    must(blocks.add({.kind = defense::block_kind::ip, .value = client.address}));
    auto card = card_for(1);
    auto r = service->initiate_authentication(card.initiate(smdp_address), client);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().subject_code, "1.1");
    EXPECT_EQ(r.error().reason_code, "1.2");
    EXPECT_EQ(signatures(), 0) << "a blocked address must cost no signature";
    EXPECT_EQ(refusals("blocklist:ip"), 1u);
    auto calls = audit_of(store::audit_kind::es9p_call);
    ASSERT_EQ(calls.size(), 1u);
    EXPECT_EQ(calls[0].outcome, "blocked");
    EXPECT_EQ(calls[0].source_address, client.address);
}

TEST_F(defended, when_another_address_is_blocked_then_this_one_is_served) {
    must(blocks.add({.kind = defense::block_kind::ip, .value = "198.51.100.7"}));
    auto card = card_for(1);
    EXPECT_TRUE(service->initiate_authentication(card.initiate(smdp_address), client));
    EXPECT_EQ(signatures(), 1);
}

TEST_F(defended, when_a_device_keeps_sending_bad_signatures_then_its_address_is_blocked) {
    rules = defense::default_risk_rules();
    rebuild();
    const std::string iccid = "8944000000000000101";
    add_profile(iccid);
    auto o = order(iccid);
    for (int i = 0; i < 5; ++i) {
        auto card = card_for(1);
        card.tamper_signature1 = true;
        auto r = authenticate(card, o.activation_code.matching_id);
        ASSERT_FALSE(r);
        EXPECT_TRUE(r.error().is(rsp::codes::euicc_signature_invalid)) << i;
    }
    ASSERT_TRUE(blocks.match_ip(client.address).has_value());
    ASSERT_EQ(alerts.by_rule("forged_device_signature").size(), 1u);
    EXPECT_EQ(alerts.by_rule("forged_device_signature")[0].severity,
              defense::alert_severity::critical);
    const int before = signatures();
    auto card = card_for(1);
    auto r = service->initiate_authentication(card.initiate(smdp_address), client);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().subject_code, "1.1");
    EXPECT_EQ(signatures(), before);
    bool block_audited = false;
    for (const auto& e : audit_of(store::audit_kind::decision)) {
        block_audited =
            block_audited || (e.outcome == "blocked" && e.reason == "forged_device_signature");
    }
    EXPECT_TRUE(block_audited);
}

TEST_F(defended, when_a_forged_chain_keeps_coming_then_its_address_is_blocked) {
    const std::string iccid = "8944000000000000333";
    add_profile(iccid);
    auto o = order(iccid);
    auto ours = card_for(1);
    for (int i = 0; i < 5; ++i) {
        // A self-made CI/EUM/eUICC chain that names our CI to get past
        // initiateAuthentication.
        test_card forged(crypto::curve::nist_p256,
                         shared_pki::get().euicc(crypto::curve::nist_p256, 1, true), true);
        forged.ci_pkid = ours.ci_pkid;
        auto r = authenticate(forged, o.activation_code.matching_id);
        ASSERT_FALSE(r);
    }
    EXPECT_TRUE(blocks.match_ip(client.address).has_value());
    EXPECT_EQ(alerts.by_rule("forged_device_chain").size(), 1u);
    EXPECT_EQ(find_order(o.order.order_id).download_attempts, 0);
}

TEST_F(defended, when_matching_ids_are_guessed_then_the_guesser_is_blocked_and_others_are_not) {
    rules = {{.name = "matching_id_guessing",
              .kind = risk_event_kind::unknown_matching_id,
              .dimension = risk_dimension::source_ip,
              .threshold = 3,
              .window = std::chrono::minutes(10),
              .actions = {risk_action_kind::alert, risk_action_kind::block_source}}};
    rebuild();
    for (int i = 0; i < 3; ++i) {
        auto card = card_for(1);
        auto r = authenticate(card, "GUESS-" + std::to_string(i));
        ASSERT_FALSE(r);
    }
    EXPECT_TRUE(blocks.match_ip(client.address).has_value());
    const std::string iccid = "8944000000000000119";
    add_profile(iccid);
    auto o = order(iccid);
    auto card = card_for(1);
    client = client_info{"203.0.113.9"};
    EXPECT_TRUE(authenticate(card, o.activation_code.matching_id));
}

TEST_F(defended, when_the_eid_is_reported_stolen_then_authenticate_is_refused_and_alerted) {
    const std::string iccid = "8944000000000000127";
    add_profile(iccid);
    auto o = order(iccid);
    auto card = card_for(2);
    ASSERT_TRUE(stolen.add({.eid = card.eid, .reason = "lost on a train"}));
    auto r = authenticate(card, o.activation_code.matching_id);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().subject_code, "8.1.1");
    EXPECT_EQ(r.error().reason_code, "3.8");
    EXPECT_NE(r.error().message.find("stolen"), std::string::npos);
    auto raised = alerts.by_rule("download_to_stolen_eid");
    ASSERT_EQ(raised.size(), 1u);
    EXPECT_EQ(raised[0].severity, defense::alert_severity::critical);
    EXPECT_EQ(raised[0].evidence.eid, card.eid);
    for (const auto& s : dppb_signers) {
        EXPECT_EQ(s->signatures, 0) << "nothing is signed for a stolen device";
    }
    EXPECT_EQ(find_order(o.order.order_id).download_attempts, 0);
}

TEST_F(defended, when_a_genuine_stolen_card_asks_then_one_alert_says_it_proved_possession) {
    const std::string iccid = "8944000000000000128";
    add_profile(iccid);
    auto o = order(iccid);
    ASSERT_TRUE(stolen.add({.eid = card_for(2).eid, .reason = "lost on a train"}));
    // Five tries: a genuine card is no forgery, so its refusals count no bad
    // signature toward blocking its address (the default rule's threshold).
    for (int i = 0; i < 5; ++i) {
        auto card = card_for(2);
        auto r = authenticate(card, o.activation_code.matching_id);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().subject_code, "8.1.1");
        EXPECT_EQ(r.error().reason_code, "3.8");
        auto raised = alerts.by_rule("download_to_stolen_eid");
        ASSERT_EQ(raised.size(), static_cast<std::size_t>(i + 1)) << "one alert per request";
        EXPECT_EQ(raised.back().severity, defense::alert_severity::critical);
    }
    EXPECT_FALSE(blocks.match_ip(client.address).has_value());
    EXPECT_TRUE(alerts.by_rule("forged_device_signature").empty());
    int proven = 0;
    for (const auto& e : audit_of(store::audit_kind::decision)) {
        if (e.reason == "download_to_stolen_eid") {
            EXPECT_EQ(e.outcome, "refused");
            auto d = nlohmann::json::parse(e.detail_json);
            EXPECT_EQ(d.value("possession_proven", false), true);
            ++proven;
        }
    }
    EXPECT_EQ(proven, 5);
}

TEST_F(defended, when_a_stolen_cards_certificate_is_presented_with_another_key_then_no_alert) {
    const std::string iccid = "8944000000000000129";
    add_profile(iccid);
    auto o = order(iccid);
    auto victim = card_for(2);
    ASSERT_TRUE(stolen.add({.eid = victim.eid, .reason = "lost on a train"}));
    // The genuine card's answer, to compare the forger's with.
    auto genuine = authenticate(victim, o.activation_code.matching_id);
    ASSERT_FALSE(genuine);
    ASSERT_EQ(alerts.by_rule("download_to_stolen_eid").size(), 1u);
    client = client_info{"203.0.113.66"};
    // The default rules block an address after 5 bad signatures in an hour.
    for (int i = 0; i < 5; ++i) {
        auto forger = card_for(3);
        forger.present_certificates_of(victim);
        auto r = authenticate(forger, o.activation_code.matching_id);
        ASSERT_FALSE(r) << i;
        EXPECT_EQ(r.error().subject_code, genuine.error().subject_code) << i;
        EXPECT_EQ(r.error().reason_code, genuine.error().reason_code) << i;
        EXPECT_EQ(r.error().message, genuine.error().message) << i;
        EXPECT_EQ(alerts.by_rule("download_to_stolen_eid").size(), 1u)
            << "no stolen alert without the card's key (" << i << ")";
        EXPECT_EQ(blocks.match_ip(client.address).has_value(), i == 4) << i;
    }
    EXPECT_EQ(alerts.by_rule("forged_device_signature").size(), 1u);
    int unproven = 0;
    for (const auto& e : audit_of(store::audit_kind::decision)) {
        if (e.reason == "download_to_stolen_eid" && e.source_address == client.address) {
            EXPECT_EQ(e.outcome, "refused");
            auto d = nlohmann::json::parse(e.detail_json);
            EXPECT_EQ(d.value("possession_proven", true), false);
            ++unproven;
        }
    }
    EXPECT_EQ(unproven, 5);
    EXPECT_EQ(find_order(o.order.order_id).download_attempts, 0);
}

TEST_F(defended, when_a_notification_names_a_stolen_card_then_only_its_real_key_raises_the_alert) {
    const std::string iccid = "8944000000000000291";
    auto victim = card_for(4);
    ASSERT_TRUE(stolen.add({.eid = victim.eid, .reason = "stolen from a car"}));
    auto forger = card_for(5);
    forger.present_certificates_of(victim);
    auto forged = service->handle_notification(
        forger.other_notification(iccid, asn1::notification_enable), client);
    ASSERT_FALSE(forged);
    EXPECT_TRUE(alerts.by_rule("download_to_stolen_eid").empty())
        << "a stolen card's public certificate alone must not raise the alert";
    auto genuine = service->handle_notification(
        victim.other_notification(iccid, asn1::notification_enable), client);
    ASSERT_FALSE(genuine);
    EXPECT_EQ(genuine.error().subject_code, forged.error().subject_code);
    EXPECT_EQ(genuine.error().reason_code, forged.error().reason_code);
    EXPECT_EQ(alerts.by_rule("download_to_stolen_eid").size(), 1u);
}

TEST_F(defended, when_the_eum_range_is_blocked_then_its_cards_are_refused_8_1_2) {
    must(blocks.add({.kind = defense::block_kind::eum, .value = "89049032"}));
    const std::string iccid = "8944000000000000135";
    add_profile(iccid);
    auto o = order(iccid);
    auto card = card_for(1);
    auto r = authenticate(card, o.activation_code.matching_id);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().subject_code, "8.1.2");
    EXPECT_EQ(r.error().reason_code, "3.8");
}

// ---- lines, step-up, confirmation codes ---------------------------------

TEST_F(defended, when_the_line_is_frozen_then_authenticate_is_refused_saying_so) {
    const std::string iccid = "8944000000000000143";
    add_profile(iccid);
    auto o = order(iccid);
    link(iccid);
    must(defenses.set_line_frozen(iccid, "frozen by subscriber", now.load()));
    auto card = card_for(1);
    auto r = authenticate(card, o.activation_code.matching_id);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().subject_code, "8.2");
    EXPECT_EQ(r.error().reason_code, "1.2");
    EXPECT_NE(r.error().message.find("frozen by its subscriber"), std::string::npos);
    EXPECT_EQ(find_order(o.order.order_id).download_attempts, 0);
    must(defenses.set_line_frozen(iccid, std::nullopt, now.load()));
    auto again = card_for(1);
    EXPECT_TRUE(authenticate(again, o.activation_code.matching_id));
}

TEST_F(defended,
       when_a_new_eid_needs_step_up_then_the_download_waits_until_approved_with_the_mailed_code) {
    const std::string iccid = "8944000000000000150";
    const bytes package = add_profile(iccid);
    auto o = order(iccid);
    link(iccid, true);
    auto card = card_for(3);
    auto r = authenticate(card, o.activation_code.matching_id);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().subject_code, "8.2");
    EXPECT_NE(r.error().message.find("approval"), std::string::npos);
    auto approvals = defenses.approvals();
    ASSERT_EQ(approvals.size(), 1u);
    EXPECT_EQ(approvals[0].eid, card.eid);
    EXPECT_EQ(approvals[0].state, store::approval_state::pending);
    auto sent = codes_sent.alerts();
    ASSERT_EQ(sent.size(), 1u);
    ASSERT_TRUE(sent[0].subscriber.has_value());
    EXPECT_EQ(sent[0].subscriber->email, "ann@example.com");
    const std::string code = code_in(sent[0].summary);
    for (const auto& e : audited) {
        EXPECT_EQ(e.detail_json.find(code), std::string::npos) << "the code is never audited";
    }

    // A retry while pending sends no second code.
    auto retry = card_for(3);
    EXPECT_FALSE(authenticate(retry, o.activation_code.matching_id));
    EXPECT_EQ(codes_sent.alerts().size(), 1u);

    auto wrong =
        service->approve_step_up(approvals[0].id, code == "00000000" ? "11111111" : "00000000",
                                 step_up_factor::one_time_code, "subscriber:sub1");
    ASSERT_FALSE(wrong);
    EXPECT_EQ(wrong.error().code, step_up_error::kind::wrong_code);
    auto ok = service->approve_step_up(approvals[0].id, code, step_up_factor::one_time_code,
                                       "subscriber:sub1");
    ASSERT_TRUE(ok) << ok.error().message;
    EXPECT_EQ(ok->state, store::approval_state::approved);
    auto reuse = service->approve_step_up(approvals[0].id, code, step_up_factor::one_time_code,
                                          "subscriber:sub1");
    EXPECT_FALSE(reuse);

    auto approved_card = card_for(3);
    auto auth = must(authenticate(approved_card, o.activation_code.matching_id));
    auto bpp = must(service->get_bound_profile_package(
        approved_card.prepare_download(auth, std::nullopt), client));
    EXPECT_EQ(approved_card.load_bpp(bpp), package);
    EXPECT_EQ(
        must(service->handle_notification(approved_card.installation_result(iccid, true), client)),
        notification_outcome::install_success);
    auto line = must(defenses.find_line(iccid));
    EXPECT_EQ(line.known_eids, std::vector<std::string>{card.eid});
}

TEST_F(defended, when_a_rule_asks_for_step_up_then_later_attempts_wait_until_it_is_approved) {
    rules = {{.name = "second_device",
              .kind = risk_event_kind::profile_tried_by_eid,
              .dimension = risk_dimension::iccid,
              .distinct = risk_dimension::eid,
              .threshold = 1,
              .window = std::chrono::hours(24),
              .actions = {risk_action_kind::require_step_up},
              .refuse = false}};
    rebuild();
    const std::string iccid = "8944000000000000317";
    add_profile(iccid);
    auto o = order(iccid);
    link(iccid);
    auto card = card_for(8);
    auto first = authenticate(card, o.activation_code.matching_id);
    ASSERT_FALSE(first);
    EXPECT_EQ(first.error().subject_code, "8.2");
    ASSERT_EQ(defenses.approvals().size(), 1u);
    EXPECT_EQ(defenses.approvals()[0].rule, "second_device");
    // The rule does not fire again, but the pending approval still holds.
    auto second = card_for(8);
    ASSERT_FALSE(authenticate(second, o.activation_code.matching_id));
    EXPECT_EQ(codes_sent.alerts().size(), 1u);
    const std::string code = code_in(codes_sent.alerts()[0].summary);
    ASSERT_TRUE(service->approve_step_up(defenses.approvals()[0].id, code,
                                         step_up_factor::one_time_code, "subscriber:sub1"));
    auto third = card_for(8);
    EXPECT_TRUE(authenticate(third, o.activation_code.matching_id));
}

TEST_F(defended, when_the_subscriber_refuses_the_step_up_then_the_order_is_paused) {
    const std::string iccid = "8944000000000000168";
    add_profile(iccid);
    auto o = order(iccid);
    link(iccid, true);
    auto card = card_for(3);
    ASSERT_FALSE(authenticate(card, o.activation_code.matching_id));
    auto id = defenses.approvals().at(0).id;
    ASSERT_TRUE(service->refuse_step_up(id, "subscriber:sub1"));
    EXPECT_TRUE(find_order(o.order.order_id).locked);
    EXPECT_EQ(alerts.by_rule("step_up_refused").size(), 1u);
    auto again = card_for(3);
    auto r = authenticate(again, o.activation_code.matching_id);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().subject_code, "8.2");
}

TEST_F(defended, when_a_totp_code_is_used_twice_then_the_second_approval_is_refused_as_replay) {
    const bytes secret(20, 0x5A);
    const std::string iccid = "8944000000000000176";
    add_profile(iccid);
    link(iccid, true, secret);
    for (const char* id : {"apr-1", "apr-2"}) {
        store::approval_record a;
        a.id = id;
        a.order_id = std::string("ord-") + id;
        a.iccid = iccid;
        a.subscriber_id = "sub1";
        a.eid = shared_pki::get().euicc(crypto::curve::nist_p256, 4);
        a.rule = "step_up_on_new_eid";
        a.created_at = now.load();
        a.expires_at = now.load() + std::chrono::minutes(10);
        ASSERT_TRUE(defenses.add_approval(a));
    }
    const auto secs = std::chrono::time_point_cast<std::chrono::seconds>(now.load());
    const auto step = must(defense::totp_time_step(secs));
    const auto code = must(defense::totp_code(secret, step));
    auto first = service->approve_step_up("apr-1", code, step_up_factor::totp, "subscriber:sub1");
    ASSERT_TRUE(first) << first.error().message;
    auto second = service->approve_step_up("apr-2", code, step_up_factor::totp, "subscriber:sub1");
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().code, step_up_error::kind::replayed);
    EXPECT_EQ(must(defenses.find_approval("apr-2")).state, store::approval_state::pending);
}

TEST_F(defended, when_an_es2p_order_has_no_confirmation_code_then_it_is_refused_unless_opted_out) {
    const std::string iccid = "8944000000000000184";
    add_profile(iccid);
    rsp::download_order_request d;
    d.iccid = must(asn1::iccid_value::parse(iccid));
    must(service->download_order(operator_, d));
    rsp::confirm_order_request c;
    c.iccid = *d.iccid;
    c.release_flag = true;
    auto r = service->confirm_order(operator_, c);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().is(rsp::codes::mandatory_element_missing));
    EXPECT_NE(r.error().message.find("confirmationCode"), std::string::npos);
    auto opted = service->confirm_order(operator_, c, {.confirmation_code_optional = true});
    ASSERT_TRUE(opted);
    EXPECT_FALSE(must(db->find_order_by_matching_id(opted->matching_id)).cc_required);
}

TEST_F(defended, when_the_opt_out_is_sent_over_http_then_the_order_needs_no_code) {
    const std::string iccid = "8944000000000000192";
    add_profile(iccid);
    rsp::download_order_request d;
    d.iccid = must(asn1::iccid_value::parse(iccid));
    must(service->download_order(operator_, d));
    auto post = [&](bool opt_out) {
        http::request req;
        req.method = "POST";
        req.peer_address = "192.0.2.1";
        req.headers = {{"Content-Type", "application/json"},
                       {"X-Admin-Protocol", "gsma/rsp/v2.2.0"},
                       {"Authorization", "Bearer " + operator_token}};
        nlohmann::json j = {
            {"header", {{"functionRequesterIdentifier", "op1"}, {"functionCallIdentifier", "1"}}},
            {"iccid", iccid},
            {"releaseFlag", true}};
        if (opt_out) {
            j["esimguardConfirmationCodeOptional"] = true;
        }
        req.body = j.dump();
        return nlohmann::json::parse(handle_es2p_request(*service, "confirmOrder", req).body);
    };
    EXPECT_EQ(post(false)["header"]["functionExecutionStatus"]["status"], "Failed");
    EXPECT_EQ(post(true)["header"]["functionExecutionStatus"]["status"], "Executed-Success");
}

TEST_F(defended, when_the_cc_retry_limit_locks_the_order_then_the_subscriber_is_told) {
    const std::string iccid = "8944000000000000200";
    add_profile(iccid);
    auto o = order(iccid, std::nullopt, std::string("2468"));
    link(iccid);
    for (int i = 0; i < 3; ++i) {
        auto card = card_for(1);
        auto auth = must(authenticate(card, o.activation_code.matching_id));
        auto r = service->get_bound_profile_package(card.prepare_download(auth, "0000"), client);
        ASSERT_FALSE(r);
        if (i < 2) {
            EXPECT_TRUE(r.error().is(rsp::codes::confirmation_code_refused)) << i;
        } else {
            EXPECT_TRUE(r.error().is(rsp::codes::confirmation_code_retries_exceeded));
        }
    }
    EXPECT_TRUE(find_order(o.order.order_id).locked);
    auto told = alerts.by_rule("cc_retries_exceeded");
    ASSERT_EQ(told.size(), 1u);
    ASSERT_TRUE(told[0].subscriber.has_value());
    EXPECT_EQ(told[0].subscriber->email, "ann@example.com");
    EXPECT_GE(alerts.by_rule("cc_brute_force").size(), 1u);
}

// ---- the eUICC policy list ------------------------------------------------

struct policy_case {
    std::string name;
    std::function<void(euicc_policy_entry&, const std::string& eid, const bytes& eum_kid)> set;
    std::string subject;
    std::string reason;
};

class policy : public defended, public ::testing::WithParamInterface<policy_case> {};

TEST_P(policy, when_the_card_matches_a_policy_entry_then_it_is_refused_naming_the_entry) {
    const auto& p = GetParam();
    auto card = card_for(5);
    auto eum = must(crypto::certificate::from_der(card.eum_cert));
    euicc_policy_entry e;
    e.name = "deny-" + p.name;
    p.set(e, card.eid, *eum.subject_key_id());
    rebuild([&](smdp_config& c) { c.defenses.euicc_policy = {e}; });
    const std::string iccid = "8944000000000000218";
    add_profile(iccid);
    auto o = order(iccid);
    auto r = authenticate(card, o.activation_code.matching_id);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().subject_code, p.subject);
    EXPECT_EQ(r.error().reason_code, p.reason);
    EXPECT_NE(r.error().message.find(e.name), std::string::npos) << r.error().message;
    EXPECT_EQ(find_order(o.order.order_id).download_attempts, 0);
}

TEST_P(policy, when_the_card_does_not_match_then_it_is_served) {
    const auto& p = GetParam();
    auto card = card_for(5);
    auto other = card_for(6);
    euicc_policy_entry e;
    e.name = "deny-other";
    // An entry built for a card of a foreign EUM, another EID and old versions.
    p.set(e, other.eid, bytes(20, 0x01));
    if (e.firmware_below) {
        e.firmware_below = asn1::version_type{1, 0, 0};
    }
    if (e.svn_below) {
        e.svn_below = asn1::version_type{2, 0, 0};
    }
    if (e.profile_version_below) {
        e.profile_version_below = asn1::version_type{2, 0, 0};
    }
    rebuild([&](smdp_config& c) { c.defenses.euicc_policy = {e}; });
    const std::string iccid = "8944000000000000226";
    add_profile(iccid);
    auto o = order(iccid);
    EXPECT_TRUE(authenticate(card, o.activation_code.matching_id));
}

INSTANTIATE_TEST_SUITE_P(
    criteria, policy,
    ::testing::Values(policy_case{"firmware",
                                  [](auto& e, const auto&, const auto&) {
                                      e.firmware_below = asn1::version_type{1, 2, 0};
                                  },
                                  "8.1", "3.1"},
                      policy_case{"svn",
                                  [](auto& e, const auto&, const auto&) {
                                      e.svn_below = asn1::version_type{2, 3, 0};
                                  },
                                  "8.1", "3.1"},
                      policy_case{"profile_version",
                                  [](auto& e, const auto&, const auto&) {
                                      e.profile_version_below = asn1::version_type{2, 3, 2};
                                  },
                                  "8.1", "3.1"},
                      policy_case{"eid_range",
                                  [](auto& e, const std::string& eid, const auto&) {
                                      e.eid_from = eid;
                                      e.eid_to = eid;
                                  },
                                  "8.1.1", "3.8"},
                      policy_case{"eid_prefix",
                                  [](auto& e, const std::string& eid, const auto&) {
                                      e.eid_prefix = eid.substr(0, 30);
                                  },
                                  "8.1.2", "3.8"},
                      policy_case{
                          "eum", [](auto& e, const auto&, const bytes& kid) { e.eum_key_id = kid; },
                          "8.1.2", "3.8"}),
    [](const auto& param_info) { return param_info.param.name; });

TEST(euicc_policy_validation, when_an_entry_matches_nothing_or_has_a_bad_range_then_it_is_refused) {
    EXPECT_FALSE(validate_euicc_policy({{.name = "empty"}}));
    euicc_policy_entry bad{.name = "short"};
    bad.eid_from = "8904";
    EXPECT_FALSE(validate_euicc_policy({bad}));
    euicc_policy_entry ok{.name = "fw"};
    ok.firmware_below = asn1::version_type{1, 0, 0};
    EXPECT_TRUE(validate_euicc_policy({ok}));
}

/// A CRL of the test PKI's `issuer` (its key in nist/`issuer_key_file`)
/// revoking `revoked` from pki_time on.
crypto::crl crl_revoking(const crypto::certificate& revoked, const crypto::certificate& issuer,
                         const char* issuer_key_file) {
    const auto base = shared_pki::get().dir / "nist";
    auto key = must(crypto::private_key::from_pem(read_file(base / issuer_key_file)));
    auto signer = crypto::create_software_signer(std::move(key));
    crypto::crl_request req;
    req.this_update = pki_time;
    req.next_update = pki_time + std::chrono::hours(24 * 365);
    req.revoked = {{revoked.serial(), pki_time}};
    return must(crypto::issue_crl(req, issuer, *signer));
}

TEST_F(defended, when_the_euicc_certificate_is_revoked_then_authenticate_is_refused_8_1_3) {
    auto card = card_for(7);
    auto euicc = must(crypto::certificate::from_der(card.euicc_cert));
    auto eum = must(crypto::certificate::from_der(card.eum_cert));
    auto crl = crl_revoking(euicc, eum, "eum.key.pem");
    rebuild([&](smdp_config& c) { c.crls.push_back(crl); });
    const std::string iccid = "8944000000000000234";
    add_profile(iccid);
    auto o = order(iccid);
    auto r = authenticate(card, o.activation_code.matching_id);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().is(rsp::codes::euicc_certificate_invalid)) << rsp::to_string(r.error());
    EXPECT_NE(r.error().message.find("revoked"), std::string::npos);
}

TEST_F(defended, when_the_eum_certificate_is_revoked_then_authenticate_is_refused_8_1_2) {
    auto card = card_for(7);
    auto eum = must(crypto::certificate::from_der(card.eum_cert));
    const auto base = shared_pki::get().dir / "nist";
    auto ci = must(crypto::certificate::from_der(to_bytes(as_bytes(read_file(base / "ci.der")))));
    auto crl = crl_revoking(eum, ci, "ci.key.pem");
    rebuild([&](smdp_config& c) { c.crls.push_back(crl); });
    const std::string iccid = "8944000000000000234";
    add_profile(iccid);
    auto o = order(iccid);
    auto r = authenticate(card, o.activation_code.matching_id);
    ASSERT_FALSE(r);
    // SGP.22 §5.6.3: the EUM certificate is the one refused, not the card's.
    EXPECT_TRUE(r.error().is(rsp::codes::eum_certificate_invalid)) << rsp::to_string(r.error());
    EXPECT_NE(r.error().message.find("revoked"), std::string::npos) << r.error().message;
    EXPECT_EQ(find_order(o.order.order_id).download_attempts, 0);
    for (const auto& s : dppb_signers) {
        EXPECT_EQ(s->signatures, 0) << "nothing is signed for a card of a revoked EUM";
    }
    EXPECT_EQ(risk_events("bad_chain"), 1u);
}

// ---- pinning and replays ---------------------------------------------------

class replays : public defended {
protected:
    void SetUp() override {
        rules = {{.name = "replay_seen",
                  .kind = risk_event_kind::replay,
                  .dimension = risk_dimension::source_ip,
                  .threshold = 1,
                  .window = std::chrono::minutes(10),
                  .actions = {risk_action_kind::alert},
                  .refuse = false}};
        rebuild();
    }
};

TEST_F(replays,
       when_another_card_answers_in_a_pinned_session_then_get_bpp_is_refused_and_recorded) {
    const std::string iccid = "8944000000000000242";
    add_profile(iccid);
    auto o = order(iccid);
    auto a = card_for(1);
    auto auth = must(authenticate(a, o.activation_code.matching_id));
    auto b = card_for(2);
    b.euicc_signature1 = a.euicc_signature1;
    auto r = service->get_bound_profile_package(b.prepare_download(auth, std::nullopt), client);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().is(rsp::codes::euicc_signature_invalid));
    EXPECT_EQ(alerts.by_rule("replay_seen").size(), 1u);
    EXPECT_EQ(find_order(o.order.order_id).state, store::order_state::released);
}

TEST_F(replays, when_another_card_reports_the_installation_then_it_is_refused_and_recorded) {
    const std::string iccid = "8944000000000000259";
    add_profile(iccid);
    auto o = order(iccid);
    auto a = card_for(1);
    auto auth = must(authenticate(a, o.activation_code.matching_id));
    must(service->get_bound_profile_package(a.prepare_download(auth, std::nullopt), client));
    auto b = card_for(2);
    b.transaction_id = a.transaction_id;
    auto r = service->handle_notification(b.installation_result(iccid, true), client);
    ASSERT_FALSE(r);
    EXPECT_EQ(alerts.by_rule("replay_seen").size(), 1u);
    EXPECT_EQ(find_order(o.order.order_id).state, store::order_state::downloaded);
}

TEST_F(replays, when_authenticate_client_is_replayed_then_it_is_refused_and_recorded) {
    const std::string iccid = "8944000000000000267";
    add_profile(iccid);
    auto o = order(iccid);
    auto card = card_for(1);
    auto init = must(service->initiate_authentication(card.initiate(smdp_address), client));
    auto req = card.authenticate_server(init, o.activation_code.matching_id);
    ASSERT_TRUE(service->authenticate_client(req, client));
    auto again = service->authenticate_client(req, client);
    ASSERT_FALSE(again);
    EXPECT_TRUE(again.error().is(rsp::codes::transaction_id_unknown));
    EXPECT_EQ(alerts.by_rule("replay_seen").size(), 1u);
}

TEST_F(replays, when_get_bpp_is_replayed_then_it_is_refused_and_recorded) {
    const std::string iccid = "8944000000000000275";
    add_profile(iccid);
    auto o = order(iccid);
    auto card = card_for(1);
    auto auth = must(authenticate(card, o.activation_code.matching_id));
    auto req = card.prepare_download(auth, std::nullopt);
    ASSERT_TRUE(service->get_bound_profile_package(req, client));
    const int signed_before = signatures();
    auto again = service->get_bound_profile_package(req, client);
    ASSERT_FALSE(again);
    EXPECT_TRUE(again.error().is(rsp::codes::transaction_id_unknown));
    EXPECT_EQ(signatures(), signed_before);
    EXPECT_EQ(alerts.by_rule("replay_seen").size(), 1u);
}

TEST_F(replays, when_the_lpa_cancels_a_session_ended_by_a_wrong_code_then_no_replay_is_recorded) {
    const std::string iccid = "8944000000000000325";
    add_profile(iccid);
    auto o = order(iccid, std::nullopt, std::string("2468"));
    auto card = card_for(1);
    auto auth = must(authenticate(card, o.activation_code.matching_id));
    ASSERT_FALSE(service->get_bound_profile_package(card.prepare_download(auth, "1111"), client));
    auto r =
        service->cancel_session(card.cancel(asn1::cancel_session_reason::undefined_reason), client);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().is(rsp::codes::transaction_id_unknown));
    EXPECT_TRUE(alerts.by_rule("replay_seen").empty());
}

TEST_F(defended,
       when_get_bpp_is_replayed_then_the_default_rule_alerts_naming_address_eid_and_call) {
    const std::string iccid = "8944000000000000275";
    add_profile(iccid);
    auto o = order(iccid);
    auto card = card_for(1);
    auto auth = must(authenticate(card, o.activation_code.matching_id));
    auto req = card.prepare_download(auth, std::nullopt);
    ASSERT_TRUE(service->get_bound_profile_package(req, client));
    EXPECT_TRUE(alerts.alerts().empty());
    auto again = service->get_bound_profile_package(req, client);
    ASSERT_FALSE(again);
    EXPECT_TRUE(again.error().is(rsp::codes::transaction_id_unknown));
    auto raised = alerts.by_rule("replayed_session");
    ASSERT_EQ(raised.size(), 1u);
    EXPECT_EQ(raised[0].severity, defense::alert_severity::critical);
    EXPECT_EQ(raised[0].evidence.ip, client.address);
    EXPECT_EQ(raised[0].evidence.eid, card.eid);
    const auto& details = raised[0].evidence.details;
    EXPECT_NE(std::find(details.begin(), details.end(),
                        std::pair<std::string, std::string>{"function", "getBoundProfilePackage"}),
              details.end());
    EXPECT_EQ(risk_events("replay"), 1u);
    // The refusal stays the procedure's: the rule refuses nothing itself.
    auto calls = audit_of(store::audit_kind::es9p_call);
    ASSERT_FALSE(calls.empty());
    EXPECT_EQ(calls.back().outcome, "refused");
    EXPECT_EQ(calls.back().reason, "8.10.1/3.9");
}

TEST_F(defended, when_an_address_keeps_replaying_then_it_is_blocked_at_the_fifth_replay) {
    const std::string iccid = "8944000000000000267";
    add_profile(iccid);
    auto o = order(iccid);
    auto card = card_for(1);
    auto init = must(service->initiate_authentication(card.initiate(smdp_address), client));
    auto req = card.authenticate_server(init, o.activation_code.matching_id);
    ASSERT_TRUE(service->authenticate_client(req, client));
    for (int i = 1; i <= 5; ++i) {
        EXPECT_EQ(blocks.match_ip(client.address).has_value(), false) << i;
        auto again = service->authenticate_client(req, client);
        ASSERT_FALSE(again) << i;
        EXPECT_TRUE(again.error().is(rsp::codes::transaction_id_unknown)) << i;
    }
    EXPECT_TRUE(blocks.match_ip(client.address).has_value());
    EXPECT_EQ(alerts.by_rule("replayed_session").size(), 1u);
    EXPECT_EQ(alerts.by_rule("replays_from_address").size(), 1u);
    EXPECT_EQ(risk_events("replay"), 5u);
    auto next = card_for(2);
    auto r = service->initiate_authentication(next.initiate(smdp_address), client);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().subject_code, "1.1");
    EXPECT_EQ(r.error().reason_code, "1.2");
}

TEST_F(defended, when_a_rule_locks_the_subscriber_line_then_a_later_download_is_refused_8_2) {
    rules = {{.name = "wrong_code_freezes_line",
              .kind = risk_event_kind::cc_failure,
              .dimension = risk_dimension::iccid,
              .threshold = 1,
              .window = std::chrono::hours(24),
              .actions = {risk_action_kind::lock_subscriber_line},
              .refuse = false}};
    rebuild();
    const std::string iccid = "8944000000000000200";
    add_profile(iccid);
    auto o = order(iccid, std::nullopt, std::string("2468"));
    link(iccid);
    auto card = card_for(1);
    auto auth = must(authenticate(card, o.activation_code.matching_id));
    auto wrong = service->get_bound_profile_package(card.prepare_download(auth, "0000"), client);
    ASSERT_FALSE(wrong);
    EXPECT_TRUE(wrong.error().is(rsp::codes::confirmation_code_refused));
    auto line = must(defenses.find_line(iccid));
    EXPECT_TRUE(line.frozen);
    EXPECT_EQ(line.frozen_reason, "risk:wrong_code_freezes_line");
    EXPECT_EQ(actions("lock_subscriber_line"), 1u);
    bool audited_freeze = false;
    for (const auto& e : audit_of(store::audit_kind::decision)) {
        audited_freeze =
            audited_freeze || (e.outcome == "line_frozen" && e.reason == "wrong_code_freezes_line");
    }
    EXPECT_TRUE(audited_freeze);

    // The order itself is not locked (one wrong code of three), but the line is.
    EXPECT_FALSE(find_order(o.order.order_id).locked);
    const int attempts = find_order(o.order.order_id).download_attempts;
    auto later = card_for(1);
    auto r = authenticate(later, o.activation_code.matching_id);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().subject_code, "8.2");
    EXPECT_EQ(r.error().reason_code, "1.2");
    EXPECT_NE(r.error().message.find("frozen"), std::string::npos) << r.error().message;
    EXPECT_EQ(find_order(o.order.order_id).download_attempts, attempts);
    EXPECT_EQ(refusals("line_frozen"), 1u);
}

TEST_F(defended, when_a_rule_raises_an_alert_then_the_alert_is_an_audit_event_with_its_id) {
    rules = {{.name = "one_guess_is_enough",
              .kind = risk_event_kind::unknown_matching_id,
              .dimension = risk_dimension::source_ip,
              .threshold = 1,
              .window = std::chrono::minutes(10),
              .actions = {risk_action_kind::alert},
              .refuse = false,
              .severity = defense::risk_severity::critical}};
    rebuild();
    auto card = card_for(1);
    ASSERT_FALSE(authenticate(card, "NO-SUCH-ORDER"));
    auto raised = alerts.by_rule("one_guess_is_enough");
    ASSERT_EQ(raised.size(), 1u);
    ASSERT_FALSE(raised[0].id.empty());
    auto events = audit_of(store::audit_kind::alert);
    ASSERT_EQ(events.size(), 1u);
    const auto& e = events[0];
    EXPECT_EQ(e.actor, "engine");
    EXPECT_EQ(e.outcome, "sent");
    EXPECT_EQ(e.reason, "one_guess_is_enough");
    EXPECT_EQ(e.source_address, client.address);
    EXPECT_EQ(e.eid, card.eid);
    auto d = nlohmann::json::parse(e.detail_json);
    EXPECT_EQ(d.value("alert_id", ""), raised[0].id);
    EXPECT_EQ(d.value("severity", ""), "critical");
    EXPECT_NE(d.value("summary", "").find("one_guess_is_enough"), std::string::npos);
}

// ---- the audit trail and ES2+ ----------------------------------------------

TEST_F(defended, when_a_download_runs_then_every_call_is_audited_without_the_matching_id) {
    const std::string iccid = "8944000000000000283";
    add_profile(iccid);
    auto o = order(iccid, std::nullopt, std::string("8642"));
    auto card = card_for(1);
    auto auth = must(authenticate(card, o.activation_code.matching_id));
    must(service->get_bound_profile_package(card.prepare_download(auth, "8642"), client));
    must(service->handle_notification(card.installation_result(iccid, true), client));
    auto calls = audit_of(store::audit_kind::es9p_call);
    ASSERT_EQ(calls.size(), 4u);
    for (const auto& c : calls) {
        EXPECT_EQ(c.actor, "lpa");
        EXPECT_EQ(c.outcome, "ok");
        EXPECT_EQ(c.source_address, client.address);
    }
    EXPECT_EQ(calls[1].eid, card.eid);
    EXPECT_EQ(calls[1].iccid, iccid);
    EXPECT_EQ(calls[3].reason, "install_success");
    std::lock_guard l(audit_mutex);
    for (const auto& e : audited) {
        EXPECT_EQ(e.detail_json.find(o.activation_code.matching_id), std::string::npos);
        EXPECT_EQ(e.reason.find(o.activation_code.matching_id), std::string::npos);
        EXPECT_EQ(e.detail_json.find("8642"), std::string::npos);
    }
}

TEST_F(defended, when_a_refusal_is_answered_then_its_audit_event_carries_the_sgp22_status) {
    auto card = card_for(1);
    auto r = authenticate(card, "NO-SUCH-ORDER");
    ASSERT_FALSE(r);
    auto calls = audit_of(store::audit_kind::es9p_call);
    ASSERT_EQ(calls.size(), 2u);
    EXPECT_EQ(calls[1].outcome, "refused");
    EXPECT_EQ(calls[1].reason, "8.2.6/3.8");
}

TEST_F(defended, when_operator_credentials_are_wrong_then_the_failure_is_counted_and_audited) {
    rules = {{.name = "operator_guessing",
              .kind = risk_event_kind::operator_auth_failure,
              .dimension = risk_dimension::source_ip,
              .threshold = 2,
              .window = std::chrono::minutes(10),
              .actions = {risk_action_kind::block_source}}};
    rebuild();
    http::request req;
    req.method = "POST";
    req.peer_address = "192.0.2.77";
    req.headers = {{"Content-Type", "application/json"},
                   {"X-Admin-Protocol", "gsma/rsp/v2.2.0"},
                   {"Authorization", "Bearer wrong-token"}};
    req.body = "{}";
    EXPECT_EQ(handle_es2p_request(*service, "downloadOrder", req).status, 401);
    EXPECT_EQ(handle_es2p_request(*service, "downloadOrder", req).status, 401);
    EXPECT_TRUE(blocks.match_ip("192.0.2.77").has_value());
    // Blocked now: even the right token is refused from there.
    req.headers[2].value = "Bearer " + operator_token;
    EXPECT_EQ(handle_es2p_request(*service, "downloadOrder", req).status, 401);
    auto calls = audit_of(store::audit_kind::es2p_call);
    ASSERT_EQ(calls.size(), 3u);
    EXPECT_EQ(calls[2].outcome, "blocked");
}

TEST_F(defended, when_an_operator_orders_then_the_es2p_call_is_audited_with_the_operator) {
    const std::string iccid = "8944000000000000291";
    add_profile(iccid);
    rsp::download_order_request d;
    d.iccid = must(asn1::iccid_value::parse(iccid));
    must(service->download_order(operator_, d));
    auto calls = audit_of(store::audit_kind::es2p_call);
    ASSERT_EQ(calls.size(), 1u);
    EXPECT_EQ(calls[0].actor, "operator:op1");
    EXPECT_EQ(calls[0].iccid, iccid);
    EXPECT_EQ(calls[0].outcome, "ok");
}

TEST_F(defended,
       when_one_profile_is_tried_by_many_eids_then_the_order_is_paused_and_the_subscriber_told) {
    const std::string iccid = "8944000000000000309";
    add_profile(iccid);
    auto o = order(iccid, std::nullopt, std::string("1357"));
    link(iccid);
    for (int serial : {11, 12}) {
        auto card = card_for(serial);
        ASSERT_TRUE(authenticate(card, o.activation_code.matching_id));
    }
    auto third = card_for(13);
    auto r = authenticate(third, o.activation_code.matching_id);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().subject_code, "8.2");
    EXPECT_TRUE(find_order(o.order.order_id).locked);
    auto told = alerts.by_rule("profile_tried_by_many_eids");
    ASSERT_GE(told.size(), 1u);
    bool subscriber_told = false;
    for (const auto& a : told) {
        subscriber_told =
            subscriber_told || (a.subscriber && a.subscriber->email == "ann@example.com");
    }
    EXPECT_TRUE(subscriber_told);
}

} // namespace
} // namespace esimguard::smdp::testing
