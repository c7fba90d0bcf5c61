#pragma once
/// The SM-DP+ service: the ES9+ procedures a device drives (SGP.22 §5.6), the
/// ES2+ procedures an operator drives (SGP.22 §5.3) and the admin functions
/// the server program and CLI need, all on typed messages (rsp:: structs).
/// JSON, HTTP and DER parsing are done before: see routes.hpp.
///
/// Every refusal is an rsp::status with its SGP.22 subject/reason code and a
/// message a user can read. State lives in the store only, so that several
/// service instances (threads, nodes) may share one store.

#include "esimguard/rsp/activation_code.hpp"
#include "esimguard/rsp/es2p.hpp"
#include "esimguard/rsp/es9p.hpp"
#include "esimguard/rsp/status.hpp"
#include "esimguard/smdp/config.hpp"
#include "esimguard/store/store.hpp"

#include <cstddef>
#include <cstdint>
#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace esimguard::smdp {

/// A procedure's answer: the typed response, or the SGP.22 status to send.
template <typename T>
using procedure_result = std::expected<T, rsp::status>;

/// What the transport knows about the caller of an ES9+/ES2+ function.
struct client_info {
    /// Remote IP address, without port: what the risk engine counts and
    /// blocks, and what the audit trail records.
    std::string address;
};

/// esimguard's per-order choices on ES2+ confirmOrder, beyond SGP.22.
struct confirm_order_options {
    /// The operator opts this order out of the confirmation code that
    /// smdp_defenses::settings.require_confirmation_code asks for. Over
    /// HTTP: `"esimguardConfirmationCodeOptional": true` in the body.
    bool confirmation_code_optional = false;
};

/// How a subscriber proves a step-up approval.
enum class step_up_factor {
    one_time_code, ///< the code sent out of band when the download asked
    totp,          ///< the subscriber's RFC 6238 authenticator
};

/// Why approve_step_up / refuse_step_up did not act.
struct step_up_error {
    enum class kind {
        not_found,   ///< no such approval
        not_pending, ///< already approved, refused or expired
        expired,     ///< past its expiry (now marked expired)
        wrong_code,  ///< the code is wrong (attempts_left more allowed)
        locked,      ///< too many wrong codes: ask for a new download attempt
        replayed,    ///< the TOTP code (or an older one) was already used
        no_factor,   ///< no code issuer configured, or the subscriber has no TOTP
        conflict,    ///< another try changed the approval first: try again
        unavailable, ///< the defence store failed, or step-up is not configured
    };
    kind code = kind::unavailable;
    /// For people; never holds the code.
    std::string message;
    int attempts_left = 0;
};

[[nodiscard]] std::string_view to_string(step_up_error::kind k);

/// What handleNotification made of a notification (its HTTP answer is 204
/// whatever this says; the outcome is for logs, metrics and tests).
enum class notification_outcome {
    install_success, ///< order → installed
    install_failure, ///< order → error, with the eUICC's reason
    profile_enabled,
    profile_disabled,
    profile_deleted,
    ignored, ///< well formed but not ours (unknown session/profile, wrong card)
};

std::string_view to_string(notification_outcome o);

/// ES2+ handleDownloadProgressInfo notification points (SGP.22 §5.3.5). 1–4
/// are the spec's; 5 and 8–10 are the points esimguard reports for cancelled
/// sessions and later profile state changes.
enum class notification_point : std::uint32_t {
    eligibility_and_retry_limit = 1,
    confirmation_failure = 2,
    bpp_download = 3,
    bpp_installation = 4,
    session_cancelled = 5,
    profile_enabled = 8,
    profile_disabled = 9,
    profile_deleted = 10,
};

/// An order made by the admin API or CLI in one step (downloadOrder then
/// confirmOrder), as `esimguard order create` does.
struct admin_order_request {
    std::string operator_id;
    std::optional<std::string> iccid;        ///< a specific profile, or
    std::optional<std::string> profile_type; ///< any available profile of a type
    std::optional<std::string> eid;          ///< bind to one eUICC
    std::optional<std::string> matching_id;  ///< chosen; generated when absent
    std::optional<std::string> confirmation_code;
    bool release = true;
};

/// The result of admin_create_order: what to hand the subscriber.
struct admin_order {
    store::order_record order;
    rsp::activation_code activation_code;
};

/// An operator as the admin API registers it.
struct operator_spec {
    std::string id;
    std::string display_name;
    /// The ES2+ bearer token; only its SHA-256 is stored. May be empty when
    /// the operator authenticates with a client certificate only.
    std::string bearer_token;
    /// DER of the operator's TLS client certificate, if it uses mutual TLS.
    std::optional<bytes> client_certificate_der;
    /// Where handleDownloadProgressInfo goes (https://…), if anywhere.
    std::optional<std::string> download_progress_url;
};

/// Profile metadata an operator gives with a package (StoreMetadataRequest
/// fields); defaults are used for what is left empty.
struct profile_package_info {
    std::string service_provider_name = "esimguard";
    std::string profile_name; ///< default: "Profile <ICCID>"
    std::string profile_type; ///< default: the SAIP header's profileType
    store::profile_class klass = store::profile_class::operational;
};

/// The SM-DP+. Thread-safe: handlers on every worker thread call one instance.
class smdp_service {
public:
    virtual ~smdp_service() = default;

    // ---- ES9+ (SGP.22 §5.6) ------------------------------------------------

    /// ES9+.InitiateAuthentication (§5.6.1).
    [[nodiscard]] virtual procedure_result<rsp::initiate_authentication_response>
    initiate_authentication(const rsp::initiate_authentication_request& r,
                            const client_info& client) = 0;
    /// ES9+.AuthenticateClient (§5.6.3).
    [[nodiscard]] virtual procedure_result<rsp::authenticate_client_response>
    authenticate_client(const rsp::authenticate_client_request& r, const client_info& client) = 0;
    /// ES9+.GetBoundProfilePackage (§5.6.2).
    [[nodiscard]] virtual procedure_result<rsp::get_bound_profile_package_response>
    get_bound_profile_package(const rsp::get_bound_profile_package_request& r,
                              const client_info& client) = 0;
    /// ES9+.HandleNotification (§5.6.4). A refusal (bad signature, …) is a
    /// status for logs and metrics; the HTTP answer is 204 either way.
    [[nodiscard]] virtual procedure_result<notification_outcome>
    handle_notification(const rsp::handle_notification_request& r, const client_info& client) = 0;
    /// ES9+.CancelSession (§5.6.5).
    [[nodiscard]] virtual procedure_result<void>
    cancel_session(const rsp::cancel_session_request& r, const client_info& client) = 0;

    // ---- ES2+ (SGP.22 §5.3), for an authenticated operator ------------------

    /// The operator behind a bearer token (the text after "Bearer ") or a
    /// verified TLS client certificate (DER). Unknown → nullopt.
    /// A refusal (unknown credentials, or a source address the risk engine
    /// blocks) is counted as operator_auth_failure and audited.
    [[nodiscard]] virtual std::optional<store::operator_record>
    authenticate_operator(std::optional<std::string_view> bearer_token,
                          std::optional<byte_view> client_certificate_der,
                          const client_info& client) = 0;

    /// ES2+.DownloadOrder (§5.3.1).
    [[nodiscard]] virtual procedure_result<rsp::download_order_response>
    download_order(const store::operator_record& op, const rsp::download_order_request& r) = 0;
    /// ES2+.ConfirmOrder (§5.3.2).
    [[nodiscard]] virtual procedure_result<rsp::confirm_order_response>
    confirm_order(const store::operator_record& op, const rsp::confirm_order_request& r,
                  const confirm_order_options& options) = 0;
    /// ES2+.ConfirmOrder with the default options.
    [[nodiscard]] procedure_result<rsp::confirm_order_response>
    confirm_order(const store::operator_record& op, const rsp::confirm_order_request& r) {
        return confirm_order(op, r, confirm_order_options{});
    }
    /// ES2+.CancelOrder (§5.3.3).
    [[nodiscard]] virtual procedure_result<void>
    cancel_order(const store::operator_record& op, const rsp::cancel_order_request& r) = 0;
    /// ES2+.ReleaseProfile (§5.3.4).
    [[nodiscard]] virtual procedure_result<void>
    release_profile(const store::operator_record& op, const rsp::release_profile_request& r) = 0;

    // ---- admin ------------------------------------------------------------

    /// Registers an operator (its token stored as SHA-256 only).
    [[nodiscard]] virtual procedure_result<store::operator_record>
    add_operator(const operator_spec& spec) = 0;
    /// Stores an unprotected profile package (SAIP DER) for `operator_id`; the
    /// ICCID comes from the package's header.
    [[nodiscard]] virtual procedure_result<store::profile_record>
    add_profile_package(std::string_view operator_id, byte_view package_der,
                        const profile_package_info& info) = 0;
    /// downloadOrder + confirmOrder in one call, with the activation code.
    /// An admin order without a confirmation code is the admin's explicit
    /// opt-out (the admin API generates a code unless told not to).
    [[nodiscard]] virtual procedure_result<admin_order>
    admin_create_order(const admin_order_request& r) = 0;

    // ---- step-up approvals (issue 4 §3), for the portal and admin API --------

    /// Approves a pending step-up with the one-time code sent for it or the
    /// subscriber's TOTP code; the device's next authenticateClient then
    /// proceeds. `actor` ("subscriber:<id>", "admin:<name>") goes to the
    /// audit trail. Each try is a compare-and-set, so one code is never
    /// accepted twice, even by two nodes at once.
    [[nodiscard]] virtual std::expected<store::approval_record, step_up_error>
    approve_step_up(std::string_view approval_id, std::string_view code, step_up_factor factor,
                    std::string_view actor) = 0;
    /// Refuses a pending step-up: the order is paused (lock "step_up_refused")
    /// until the operator releases it, and the operator is alerted.
    [[nodiscard]] virtual std::expected<store::approval_record, step_up_error>
    refuse_step_up(std::string_view approval_id, std::string_view actor) = 0;

    /// Ends expired sessions and expires orders past their time to live,
    /// queueing operator notifications; call it periodically. Returns how many
    /// sessions plus orders it expired.
    virtual std::size_t run_housekeeping() = 0;

    /// Replaces the CRLs eUICC chains are checked against (a CRL refresh).
    /// Thread-safe; calls already validating a chain finish with the old set.
    virtual void set_crls(std::vector<crypto::crl> crls) = 0;

    /// The configuration the service runs with.
    [[nodiscard]] virtual const smdp_config& config() const = 0;
    /// The registry its metrics go to (config().metrics or its own).
    [[nodiscard]] virtual http::metrics_registry& metrics() = 0;
};

/// Builds the service. `db` must outlive it. Fails (with a sentence) on an
/// unusable config: no address, no credentials, a DPauth/DPpb certificate
/// that does not match its signer's key or does not chain to its CI.
[[nodiscard]] std::expected<std::unique_ptr<smdp_service>, std::string>
create_smdp_service(smdp_config config, store::store& db);

/// Stores a profile package for an operator without a service (CLI use):
/// reads the ICCID from the SAIP header with rsp::read_profile_header.
[[nodiscard]] procedure_result<store::profile_record>
add_profile_package(store::store& db, std::string_view operator_id, byte_view package_der,
                    const profile_package_info& info, store::time_point now);

/// Masks an EID for logs: the first 8 digits (the issuer) and the last 4.
[[nodiscard]] std::string mask_eid(std::string_view eid);

} // namespace esimguard::smdp
