#pragma once
/// The subscriber and operator portal (issue 5), served by esimguard-smdpp
/// under a path prefix: a JSON API under <prefix>/api/ and the static pages
/// of web/ under <prefix>/.
///
/// Security of the portal itself: session cookie `__Host-esimguard`
/// (HttpOnly, Secure, SameSite=Strict, Path=/) holding a random 32-byte
/// token of which only the SHA-256 is stored, rotated at sign-in, with idle
/// and absolute expiry; a per-session CSRF token required in X-CSRF-Token on
/// every POST; the role checked on every request, and a subscriber's lines,
/// records, approvals, alerts and paused orders looked up through their own
/// subscriber id only (another's answer 404, whatever the URL); operator
/// staff scoped to their own operator's profiles, orders, subscribers, audit
/// records, statistics and alerts (admins see every operator's); CSP `default-src 'self'`
/// without inline script, X-Frame-Options DENY, Referrer-Policy no-referrer
/// on every answer; every action appended to the audit chain.

#include "esimguard/defense/audit_chain.hpp"
#include "esimguard/http/message.hpp"
#include "esimguard/http/metrics.hpp"
#include "esimguard/smdp/service.hpp"
#include "esimguard/store/defense_store.hpp"
#include "esimguard/store/portal_store.hpp"
#include "esimguard/store/store.hpp"

#include <chrono>
#include <cstddef>
#include <expected>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace esimguard::crypto {
class random_source;
}

namespace esimguard::portal {

/// Limits and names; the defaults suit a public deployment.
struct portal_config {
    /// Where the portal is mounted; every path starts with it. No trailing '/'.
    std::string prefix = "/portal";
    /// The directory holding web/ (index.html, *.js, *.css).
    std::filesystem::path web_root;
    /// A session ends after this long without a request...
    std::chrono::seconds session_idle{15 * 60};
    /// ...and this long after sign-in whatever happens.
    std::chrono::seconds session_absolute{12 * 60 * 60};
    /// Failed sign-ins of one account before it is refused for `lockout`.
    int max_failures_per_account = 5;
    /// Failed sign-ins from one address within `lockout` before it is refused.
    int max_failures_per_address = 20;
    std::chrono::seconds lockout{15 * 60};
    /// Addresses tracked for sign-in failures at most (least recent go first).
    std::size_t max_tracked_addresses = 100'000;
    /// The issuer shown in authenticator apps.
    std::string totp_issuer = "esimguard";
    /// Recovery codes issued at TOTP enrolment.
    int recovery_codes = 10;
    /// Whether subscribers may sign up themselves (operators never can).
    bool allow_sign_up = true;
    /// SHA-256 of the admin bearer token that may create operator accounts
    /// (POST <prefix>/api/admin/accounts); empty disables that route.
    bytes admin_token_sha256;
    /// The clock; system_clock when unset (tests inject one).
    std::function<store::time_point()> clock = nullptr;
};

/// What the portal asks of the defences that are not plain store calls, so
/// that the server can route them through the running risk engine and the
/// smdp service. Each returns a sentence on failure, for the user.
struct portal_hooks {
    using outcome = std::expected<void, std::string>;
    /// Approves a pending step-up with a TOTP or one-time code. Unset: the
    /// portal answers 501.
    std::function<outcome(std::string_view approval_id, std::string_view subscriber_id,
                          std::string_view code, std::string_view actor)>
        approve;
    /// Refuses a pending step-up. Unset: 501.
    std::function<outcome(std::string_view approval_id, std::string_view subscriber_id,
                          std::string_view actor)>
        refuse;
    /// Reports an EID stolen (refused from then on, alert raised). Unset: the
    /// portal writes the stolen row and an inbox alert to the defense store.
    std::function<outcome(std::string_view eid, std::string_view reason, std::string_view actor,
                          std::optional<std::string> subscriber_id)>
        report_stolen;
    /// Adds a blocklist entry. Unset: written to the defense store.
    std::function<outcome(const store::blocklist_row& row)> add_block;
    /// Removes a blocklist entry. Unset: removed from the defense store.
    std::function<outcome(std::string_view kind, std::string_view value, std::string_view actor)>
        remove_block;
    /// Forgets what risk rule `rule` counted for `key` (an order id, ICCID or
    /// EID) when a subscriber releases an order that rule paused, so that the
    /// next attempt is not paused again at once; true for a known rule. The
    /// same reset as the admin API's order release. Unset: only the lock is
    /// lifted.
    std::function<bool(std::string_view rule, std::string_view key)> reset_risk;
};

/// What the portal works on. Pointers must outlive the portal; `audit` and
/// `main_store` may be null (then audit search, records and operator views
/// answer 503), `service` returns null until the SM-DP+ service is up.
struct portal_deps {
    store::portal_store* accounts = nullptr;
    store::defense_store* defense = nullptr;
    store::store* main_store = nullptr;
    defense::audit_chain* audit = nullptr;
    std::function<smdp::smdp_service*()> service = nullptr;
    crypto::random_source* random = nullptr;
    /// Where the portal's counters go; may be null.
    std::shared_ptr<http::metrics_registry> metrics = nullptr;
    portal_hooks hooks;
};

/// The portal: one handler for every request under the prefix.
class portal {
public:
    virtual ~portal() = default;
    /// Answers a request whose path starts with config().prefix. Never
    /// throws; bad input is a 4xx with a JSON {"error": sentence}.
    [[nodiscard]] virtual http::response handle(const http::request& req) = 0;
    [[nodiscard]] virtual const portal_config& config() const = 0;
};

/// Builds the portal. Fails with a sentence when a required dependency
/// (accounts, defense, random) is missing.
[[nodiscard]] std::expected<std::unique_ptr<portal>, std::string>
create_portal(portal_config config, portal_deps deps);

/// Creates an account with the password rule applied (used by the admin
/// route, the first-run bootstrap and tests). For role subscriber a
/// defense-store subscriber is created too unless `subscriber_id` is given,
/// with `email` as where its alerts and step-up codes are mailed.
/// Returns the account, or a sentence (weak password, name taken, …).
[[nodiscard]] std::expected<store::portal_account, std::string>
create_account(store::portal_store& accounts, store::defense_store* defense,
               crypto::random_source& random, std::string_view name, std::string_view password,
               store::portal_role role, std::optional<std::string> subscriber_id,
               std::optional<std::string> operator_id, store::time_point now,
               std::string_view email = {});

} // namespace esimguard::portal
