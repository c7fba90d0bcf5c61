#pragma once
/// The defences the SM-DP+ procedures consult (issue 4 §1–4): the risk
/// engine, blocklist and stolen list, alert delivery, the defence store
/// (subscribers, lines, step-up approvals), one-time codes, the audit trail
/// and the eUICC policy list. Held by smdp_config; every member is optional
/// and a null one turns its defence off, so that a bare service (tests,
/// tools) runs without any of them.
///
/// Pointers are borrowed: whatever they point to must outlive the service.

#include "esimguard/asn1/rsp_types.hpp"
#include "esimguard/core/bytes.hpp"
#include "esimguard/defense/alerts.hpp"
#include "esimguard/defense/audit_chain.hpp"
#include "esimguard/defense/blocklist.hpp"
#include "esimguard/defense/one_time_code.hpp"
#include "esimguard/defense/risk_engine.hpp"
#include "esimguard/store/defense_store.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace esimguard::smdp {

/// One entry of the eUICC policy list: cards it matches are refused at
/// authenticateClient, after their chain and signature verified. An entry
/// matches when every criterion it sets matches (so "EUM X with firmware
/// below 1.2.0" is one entry); an entry that sets none matches nothing.
/// Versions compare as (major, minor, revision).
struct euicc_policy_entry {
    /// Named in the refusal message, the audit trail and logs.
    std::string name;
    /// Why, for the operator (audit detail); not sent to the device.
    std::string reason = {};
    /// The EUM certificate's subject key identifier (raw bytes).
    std::optional<bytes> eum_key_id = std::nullopt;
    /// EIDs starting with these digits (an EUM's range, 1..32 digits).
    std::optional<std::string> eid_prefix = std::nullopt;
    /// EIDs from `eid_from` to `eid_to`, both included (32 digits each,
    /// compared as numbers).
    std::optional<std::string> eid_from = std::nullopt;
    std::optional<std::string> eid_to = std::nullopt;
    /// EUICCInfo2 euiccFirmwareVer below this.
    std::optional<asn1::version_type> firmware_below = std::nullopt;
    /// EUICCInfo2 svn (SGP.22 version) below this.
    std::optional<asn1::version_type> svn_below = std::nullopt;
    /// EUICCInfo2 profileVersion (SIMalliance profile package version) below this.
    std::optional<asn1::version_type> profile_version_below = std::nullopt;
};

/// Checks one entry: empty name, nothing to match, an EID bound that is not
/// 32 digits, a prefix that is not 1..32 digits, from > to. The error names
/// the entry.
[[nodiscard]] std::expected<void, std::string>
validate_euicc_policy(const std::vector<euicc_policy_entry>& entries);

/// Settings of the wired defences.
struct defense_settings {
    /// ES2+ confirmOrder without a confirmationCode is refused unless the
    /// operator opts out for that order (see confirm_order_options).
    bool require_confirmation_code = true;
};

/// Receives one audit event per ES9+/ES2+ call, decision and alert. Must
/// return quickly (it runs on request threads): the server binds it to an
/// asynchronous writer of the audit chain. Never given a code or key.
using audit_sink = std::function<void(const defense::audit_entry&)>;

/// The collaborators. All borrowed, all optional.
struct smdp_defenses {
    /// Prechecks before any signature work, and record() of what the
    /// procedures saw; its actions are carried out by the service.
    defense::risk_engine* risk = nullptr;
    /// Consulted directly only when `risk` is null (the engine consults it itself).
    defense::blocklist* blocks = nullptr;
    /// Consulted directly when `risk` is null; with an engine, only to word
    /// the refusal of a stolen device.
    defense::stolen_devices* stolen = nullptr;
    /// Where alerts go (the dispatcher: webhook, mail, inbox).
    defense::alert_notifier* alerts = nullptr;
    /// Where one-time step-up codes go; they are mailed to the subscriber
    /// only, so this should reach a subscriber mail channel and nothing that
    /// stores or forwards alerts. Null: `alerts` is used.
    defense::alert_notifier* code_sender = nullptr;
    /// Subscribers, lines (frozen, step-up on new EID, known EIDs) and
    /// step-up approvals. Null: no line checks and no step-up.
    store::defense_store* store = nullptr;
    /// Issues and verifies step-up codes. Null: step-up by TOTP only (a
    /// download needing approval still waits).
    defense::one_time_code_issuer* codes = nullptr;
    /// The audit trail; null: nothing audited.
    audit_sink audit = nullptr;
    /// Cards refused by policy (known-vulnerable eUICCs).
    std::vector<euicc_policy_entry> euicc_policy = {};
    defense_settings settings = {};
};

} // namespace esimguard::smdp
