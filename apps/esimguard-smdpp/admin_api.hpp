#pragma once
// The small admin API of esimguard-smdpp (JSON over the same HTTPS listener,
// bearer token): operators, profile packages, orders and their history. It is
// the operator's own channel: an order's answer carries its activation code
// and confirmation code, which is why neither is ever logged here.
//
//   POST /admin/operators     {"id", "display_name"?, "es2_token"?, "download_progress_url"?}
//   POST /admin/profiles      {"operator", "package" (base64 SAIP DER), "profile_type"?,
//                              "profile_name"?, "service_provider_name"?, "class"?}
//   POST /admin/orders        {"operator", "iccid"? | "profile_type"?, "eid"?, "matching_id"?,
//                              "confirmation_code"?, "confirmation_code_required"? (default
//                              true: one is generated), "release"? (default true)}
//   GET  /admin/orders/<id>   the order's state and history
//
// The defences (issue 4); each answers 503 while its context pointer is null,
// and each change is an audit event (kind admin_action, actor
// "admin:<X-Esimguard-Actor header, or token>"):
//   GET|POST|DELETE /admin/blocklist   {"kind", "value", "reason"?, "ttl_s"?}
//                                      (DELETE: kind, value in the query or body)
//   GET  /admin/alerts?subscriber=&operator=&iccid=&severity=&unacknowledged=&limit=
//   POST /admin/alerts/<id>/ack
//   GET|POST|DELETE /admin/stolen      {"eid", "reason"?}
//   POST /admin/subscribers            {"id", "display_name"?, "email"?, "operator"?}
//   POST /admin/lines                  {"iccid", "subscriber", "step_up_on_new_eid"?}
//   POST /admin/lines/<iccid>/freeze   {"reason"?}  |  /admin/lines/<iccid>/thaw
//   POST /admin/orders/<id>/release    {"rule"?}: lifts the lock, resets the risk counts
//   GET  /admin/audit?iccid=|eid=|ip=[&limit=]   activation records, oldest first
//   GET  /admin/audit/verify           {"ok", "kind", "seq", "events_checked", "message"}

#include "esimguard/core/bytes.hpp"
#include "esimguard/defense/alerts.hpp"
#include "esimguard/defense/audit_chain.hpp"
#include "esimguard/defense/blocklist.hpp"
#include "esimguard/defense/risk_engine.hpp"
#include "esimguard/http/message.hpp"
#include "esimguard/http/metrics.hpp"
#include "esimguard/http/server.hpp"
#include "esimguard/smdp/service.hpp"
#include "esimguard/store/defense_store.hpp"
#include "esimguard/store/store.hpp"

#include <atomic>
#include <memory>

namespace esimguard::smdpp {

/// The service, set once it exists: routes are registered before the server
/// binds, the service is built after (its address may name the bound port).
/// Until it is set, ES9+/ES2+/admin calls are answered 503.
struct service_slot {
    std::atomic<smdp::smdp_service*> service{nullptr};
};

/// What the admin handlers need. `token_sha256` is SHA-256 of the admin token
/// (the token itself is not kept); empty disables the admin API (404).
struct admin_api_context {
    service_slot* slot = nullptr;
    store::store* db = nullptr;
    bytes token_sha256;
    std::shared_ptr<http::metrics_registry> metrics;
    // The defences (issue 4), set by main() when they run. A null one makes
    // its endpoints answer 503, so the API works before every piece is wired.
    defense::blocklist* blocks = nullptr;
    defense::stolen_devices* stolen = nullptr;
    store::defense_store* defenses = nullptr;
    defense::audit_chain* audit = nullptr;
    defense::risk_engine* risk = nullptr;
    defense::alert_notifier* alerts = nullptr;
};

/// Adds the admin routes; `ctx` must outlive the server. GET /admin/orders/<id>
/// is answered by the returned handler, which the caller installs as (part of)
/// the server's fallback since routes match exact paths only.
[[nodiscard]] http::request_handler register_admin_routes(http::server& server,
                                                          std::shared_ptr<admin_api_context> ctx);

} // namespace esimguard::smdpp
