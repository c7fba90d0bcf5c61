// smdp_service: the procedures behind one thread-safe object, the admin
// functions, and the checks that make a config usable.

#include "context.hpp"
#include "defense.hpp"

#include "esimguard/crypto/hash.hpp"
#include "esimguard/rsp/saip.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <algorithm>

namespace esimguard::smdp {

namespace {

std::shared_ptr<spdlog::logger> smdp_logger() {
    if (auto l = spdlog::get("smdp")) {
        return l;
    }
    // Another thread may register it between get and create.
    try {
        return spdlog::stderr_color_mt("smdp");
    } catch (const spdlog::spdlog_ex&) {
        return spdlog::get("smdp");
    }
}

// Every ES9+ call: the source address is checked before anything else
// (no signature is computed or verified for a blocked address), the call is
// counted as a request event, and its outcome audited.
template <typename Procedure>
auto es9p_call(const detail::context& ctx, std::string_view function, const client_info& client,
               Procedure procedure) -> decltype(procedure(std::declval<detail::call_trace&>())) {
    using result_type = decltype(procedure(std::declval<detail::call_trace&>()));
    detail::call_trace trace{.client = client, .function = function};
    result_type r = [&]() -> result_type {
        if (auto refusal = detail::precheck(ctx, trace)) {
            return std::unexpected(*refusal);
        }
        if (auto refusal = detail::record(ctx, trace, defense::risk_event_kind::request)) {
            return std::unexpected(*refusal);
        }
        return procedure(trace);
    }();
    if (r) {
        std::string reason;
        if constexpr (std::is_same_v<result_type, procedure_result<notification_outcome>>) {
            reason = std::string(to_string(*r));
        }
        detail::audit_call(ctx, trace, store::audit_kind::es9p_call, "lpa", nullptr, reason);
    } else {
        detail::audit_call(ctx, trace, store::audit_kind::es9p_call, "lpa", &r.error());
    }
    return r;
}

// Every ES2+ call of an authenticated operator: audited with the ICCID it names.
template <typename Procedure>
auto es2p_call(const detail::context& ctx, std::string_view function,
               const store::operator_record& op, std::optional<std::string> iccid,
               Procedure procedure) -> decltype(procedure()) {
    detail::call_trace trace{.client = {}, .function = function};
    trace.operator_id = op.id;
    trace.iccid = std::move(iccid);
    auto r = procedure();
    if constexpr (std::is_same_v<decltype(r), procedure_result<rsp::download_order_response>>) {
        if (r) {
            trace.iccid = r->iccid.to_string();
        }
    }
    detail::audit_call(ctx, trace, store::audit_kind::es2p_call, "operator:" + op.id,
                       r ? nullptr : &r.error());
    return r;
}

class service_impl final : public smdp_service {
public:
    explicit service_impl(detail::context ctx) : ctx_(std::move(ctx)) {}

    procedure_result<rsp::initiate_authentication_response>
    initiate_authentication(const rsp::initiate_authentication_request& r,
                            const client_info& client) override {
        return es9p_call(ctx_, "initiateAuthentication", client, [&](detail::call_trace& t) {
            return procedures::initiate_authentication(ctx_, r, t);
        });
    }
    procedure_result<rsp::authenticate_client_response>
    authenticate_client(const rsp::authenticate_client_request& r,
                        const client_info& client) override {
        return es9p_call(ctx_, "authenticateClient", client, [&](detail::call_trace& t) {
            return procedures::authenticate_client(ctx_, r, t);
        });
    }
    procedure_result<rsp::get_bound_profile_package_response>
    get_bound_profile_package(const rsp::get_bound_profile_package_request& r,
                              const client_info& client) override {
        return es9p_call(ctx_, "getBoundProfilePackage", client, [&](detail::call_trace& t) {
            return procedures::get_bound_profile_package(ctx_, r, t);
        });
    }
    procedure_result<notification_outcome>
    handle_notification(const rsp::handle_notification_request& r,
                        const client_info& client) override {
        return es9p_call(ctx_, "handleNotification", client, [&](detail::call_trace& t) {
            return procedures::handle_notification(ctx_, r, t);
        });
    }
    procedure_result<void> cancel_session(const rsp::cancel_session_request& r,
                                          const client_info& client) override {
        return es9p_call(ctx_, "cancelSession", client, [&](detail::call_trace& t) {
            return procedures::cancel_session(ctx_, r, t);
        });
    }

    std::optional<store::operator_record>
    authenticate_operator(std::optional<std::string_view> bearer_token,
                          std::optional<byte_view> client_certificate_der,
                          const client_info& client) override {
        detail::call_trace trace{.client = client, .function = "es2p_authentication"};
        if (auto refusal = detail::precheck(ctx_, trace)) {
            detail::audit_call(ctx_, trace, store::audit_kind::es2p_call, "operator:-", &*refusal);
            return std::nullopt;
        }
        if (bearer_token && !bearer_token->empty()) {
            if (auto op = ctx_.db.find_operator_by_token_hash(
                    detail::sha256_hex(as_bytes(*bearer_token)))) {
                return *op;
            }
        }
        if (client_certificate_der && !client_certificate_der->empty()) {
            if (auto op = ctx_.db.find_operator_by_client_cert(
                    detail::sha256_hex(*client_certificate_der))) {
                return *op;
            }
        }
        detail::report(ctx_, trace, defense::risk_event_kind::operator_auth_failure);
        const rsp::status refused("1.1", "1.1", "Unknown function requester (bad credentials)");
        detail::audit_call(ctx_, trace, store::audit_kind::es2p_call, "operator:-", &refused);
        return std::nullopt;
    }

    procedure_result<rsp::download_order_response>
    download_order(const store::operator_record& op,
                   const rsp::download_order_request& r) override {
        return es2p_call(ctx_, "downloadOrder", op,
                         r.iccid ? std::optional(r.iccid->to_string()) : std::nullopt,
                         [&] { return procedures::download_order(ctx_, op, r); });
    }
    procedure_result<rsp::confirm_order_response>
    confirm_order(const store::operator_record& op, const rsp::confirm_order_request& r,
                  const confirm_order_options& options) override {
        return es2p_call(ctx_, "confirmOrder", op, r.iccid.to_string(),
                         [&] { return procedures::confirm_order(ctx_, op, r, options); });
    }
    procedure_result<void> cancel_order(const store::operator_record& op,
                                        const rsp::cancel_order_request& r) override {
        return es2p_call(ctx_, "cancelOrder", op, r.iccid.to_string(),
                         [&] { return procedures::cancel_order(ctx_, op, r); });
    }
    procedure_result<void> release_profile(const store::operator_record& op,
                                           const rsp::release_profile_request& r) override {
        return es2p_call(ctx_, "releaseProfile", op, r.iccid.to_string(),
                         [&] { return procedures::release_profile(ctx_, op, r); });
    }

    std::expected<store::approval_record, step_up_error>
    approve_step_up(std::string_view approval_id, std::string_view code, step_up_factor factor,
                    std::string_view actor) override {
        return detail::approve_step_up(ctx_, approval_id, code, factor, actor);
    }
    std::expected<store::approval_record, step_up_error>
    refuse_step_up(std::string_view approval_id, std::string_view actor) override {
        return detail::refuse_step_up(ctx_, approval_id, actor);
    }

    procedure_result<store::operator_record> add_operator(const operator_spec& spec) override {
        if (spec.id.empty() || (spec.bearer_token.empty() && !spec.client_certificate_der)) {
            return std::unexpected(rsp::status::with_detail(
                rsp::codes::mandatory_element_missing, "operator id and a token or certificate"));
        }
        store::operator_record op;
        op.id = spec.id;
        op.display_name = spec.display_name.empty() ? spec.id : spec.display_name;
        // An operator without a token still needs a unique, unguessable hash.
        if (spec.bearer_token.empty()) {
            auto filler = ctx_.random_bytes(32);
            if (!filler) {
                return std::unexpected(filler.error());
            }
            op.token_sha256_hex = detail::sha256_hex(*filler);
        } else {
            op.token_sha256_hex = detail::sha256_hex(as_bytes(spec.bearer_token));
        }
        if (spec.client_certificate_der) {
            op.client_cert_sha256_hex = detail::sha256_hex(*spec.client_certificate_der);
        }
        op.download_progress_url = spec.download_progress_url;
        op.created_at = ctx_.now();
        if (auto r = ctx_.db.add_operator(op); !r) {
            if (r.error().code == store::errc::conflict) {
                return std::unexpected(rsp::status::with_detail(
                    rsp::codes::invalid_format, "operator id or token already registered"));
            }
            return std::unexpected(detail::internal_error("operator store"));
        }
        return op;
    }

    procedure_result<store::profile_record>
    add_profile_package(std::string_view operator_id, byte_view package_der,
                        const profile_package_info& info) override {
        return smdp::add_profile_package(ctx_.db, operator_id, package_der, info, ctx_.now());
    }

    procedure_result<admin_order> admin_create_order(const admin_order_request& r) override {
        auto op = ctx_.db.find_operator(r.operator_id);
        if (!op) {
            return std::unexpected(
                rsp::status::with_detail(rsp::codes::iccid_not_allowed, "unknown operator"));
        }
        rsp::download_order_request d;
        if (r.iccid) {
            auto i = asn1::iccid_value::parse(*r.iccid);
            if (!i) {
                return std::unexpected(rsp::status(rsp::codes::iccid_invalid));
            }
            d.iccid = *i;
        }
        d.profile_type = r.profile_type;
        if (r.eid) {
            auto e = asn1::eid_value::parse(*r.eid);
            if (!e) {
                return std::unexpected(rsp::status(rsp::codes::eid_invalid));
            }
            d.eid = *e;
        }
        auto ordered = procedures::download_order(ctx_, *op, d);
        if (!ordered) {
            return std::unexpected(ordered.error());
        }
        rsp::confirm_order_request c;
        c.iccid = ordered->iccid;
        c.eid = d.eid;
        c.matching_id = r.matching_id;
        c.confirmation_code = r.confirmation_code;
        c.release_flag = r.release;
        // The admin chose: the admin API generates a code unless told not to.
        auto confirmed =
            procedures::confirm_order(ctx_, *op, c, {.confirmation_code_optional = true});
        if (!confirmed) {
            return std::unexpected(confirmed.error());
        }
        auto order = ctx_.db.find_order_by_matching_id(confirmed->matching_id);
        if (!order) {
            return std::unexpected(detail::internal_error("order store"));
        }
        admin_order out{*order, {}};
        out.activation_code.smdp_address = ctx_.config.addresses.front();
        out.activation_code.matching_id = confirmed->matching_id;
        out.activation_code.confirmation_code_required = order->cc_required;
        return out;
    }

    void set_crls(std::vector<crypto::crl> crls) override {
        auto next = std::make_shared<const std::vector<crypto::crl>>(std::move(crls));
        std::lock_guard lock(ctx_.crls_live->mutex);
        ctx_.crls_live->set = std::move(next);
    }

    std::size_t run_housekeeping() override {
        const auto now = ctx_.now();
        std::size_t n = 0;
        if (auto s = ctx_.db.expire_sessions(now)) {
            n += *s;
        }
        if (auto orders = ctx_.db.expire_orders(now)) {
            for (const auto& o : *orders) {
                ctx_.notify_operator(o, notification_point::eligibility_and_retry_limit,
                                     {rsp::execution_status::failed,
                                      rsp::status(rsp::codes::download_order_expired)},
                                     std::nullopt, std::nullopt);
            }
            n += orders->size();
        }
        return n;
    }

    const smdp_config& config() const override { return ctx_.config; }
    http::metrics_registry& metrics() override { return *ctx_.metrics; }

private:
    detail::context ctx_;
};

} // namespace

std::expected<std::unique_ptr<smdp_service>, std::string> create_smdp_service(smdp_config config,
                                                                              store::store& db) {
    if (config.addresses.empty()) {
        return std::unexpected("no SM-DP+ address configured");
    }
    if (config.credentials.empty()) {
        return std::unexpected("no DPauth/DPpb credentials configured");
    }
    if (config.host_id.empty() || config.host_id.size() > 16) {
        return std::unexpected("hostId must be 1 to 16 bytes");
    }
    if (config.smdp_oid && !detail::encode_oid(*config.smdp_oid)) {
        return std::unexpected("the SM-DP+ OID is not dotted decimal");
    }
    if (auto p = validate_euicc_policy(config.defenses.euicc_policy); !p) {
        return std::unexpected(p.error());
    }
    const auto now = config.clock ? config.clock() : std::chrono::system_clock::now();
    const auto at = std::chrono::time_point_cast<std::chrono::seconds>(now);
    std::vector<crypto::certificate> anchors = config.trusted_cis;
    for (const auto& c : config.credentials) {
        if (!c.dpauth_signer || !c.dppb_signer) {
            return std::unexpected("credentials without a signer");
        }
        if (c.dpauth_signer->public_part().point() != c.dpauth_certificate.key().point()) {
            return std::unexpected("the DPauth key does not match its certificate");
        }
        if (c.dppb_signer->public_part().point() != c.dppb_certificate.key().point()) {
            return std::unexpected("the DPpb key does not match its certificate");
        }
        const std::vector<crypto::certificate> ci{c.ci};
        if (auto v = crypto::validate_chain(c.dpauth_certificate, c.intermediates, ci, {}, at,
                                            crypto::cert_role::dp_auth);
            !v) {
            return std::unexpected(fmt::format("DPauth certificate refused: {} ({})",
                                               crypto::to_string(v.error().code),
                                               v.error().detail));
        }
        if (auto v = crypto::validate_chain(c.dppb_certificate, c.intermediates, ci, {}, at,
                                            crypto::cert_role::dp_pb);
            !v) {
            return std::unexpected(fmt::format("DPpb certificate refused: {} ({})",
                                               crypto::to_string(v.error().code),
                                               v.error().detail));
        }
        anchors.push_back(c.ci);
    }
    auto random =
        config.random
            ? config.random
            : std::shared_ptr<crypto::random_source>(crypto::create_system_random_source());
    auto metrics = config.metrics ? config.metrics : std::make_shared<http::metrics_registry>();
    detail::context ctx{std::move(config), db, std::move(random), std::move(metrics), smdp_logger(),
                        std::move(anchors)};
    ctx.crls_live->set = std::make_shared<const std::vector<crypto::crl>>(ctx.config.crls);
    return std::make_unique<service_impl>(std::move(ctx));
}

procedure_result<store::profile_record>
add_profile_package(store::store& db, std::string_view operator_id, byte_view package_der,
                    const profile_package_info& info, store::time_point now) {
    auto header = rsp::read_profile_header(package_der);
    if (!header) {
        return std::unexpected(
            rsp::status::with_detail(rsp::codes::invalid_format, header.error().message));
    }
    store::profile_record p;
    p.iccid = header->iccid.to_string();
    p.operator_id = std::string(operator_id);
    p.profile_type = info.profile_type.empty()
                         ? (header->profile_type.empty() ? "default" : header->profile_type)
                         : info.profile_type;
    p.metadata.service_provider_name = info.service_provider_name;
    p.metadata.profile_name = info.profile_name.empty() ? "Profile " + p.iccid : info.profile_name;
    p.metadata.klass = info.klass;
    p.package = to_bytes(package_der);
    if (auto r = db.add_profile(p, now); !r) {
        switch (r.error().code) {
        case store::errc::conflict:
            return std::unexpected(
                rsp::status::with_detail(rsp::codes::iccid_not_available, "ICCID already stored"));
        case store::errc::not_found:
            return std::unexpected(
                rsp::status::with_detail(rsp::codes::iccid_not_allowed, "unknown operator"));
        case store::errc::invalid_argument:
            return std::unexpected(rsp::status(rsp::codes::iccid_invalid));
        default:
            return std::unexpected(detail::internal_error("profile store"));
        }
    }
    auto stored = db.find_profile(p.iccid);
    if (!stored) {
        return std::unexpected(detail::internal_error("profile store"));
    }
    return *stored;
}

} // namespace esimguard::smdp
