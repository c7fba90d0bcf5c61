#pragma once
// Private to lib/smdp: what every procedure shares (config, store, clock,
// randomness, logger, metrics) and small helpers for status codes and logs.

#include "esimguard/http/metrics.hpp"
#include "esimguard/rsp/es2p.hpp"
#include "esimguard/rsp/es9p.hpp"
#include "esimguard/smdp/service.hpp"
#include "esimguard/store/store.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace esimguard::smdp::detail {

/// The swappable CRL set (see context::crls_live).
struct live_crls {
    mutable std::mutex mutex;
    std::shared_ptr<const std::vector<crypto::crl>> set =
        std::make_shared<const std::vector<crypto::crl>>();
};

/// What one ES9+/ES2+ call learnt on its way, for its audit event and the
/// risk events it reports. Filled by the procedures as they parse and look up.
struct call_trace {
    client_info client;
    std::string_view function;
    std::optional<std::string> eid = std::nullopt;
    std::optional<std::string> iccid = std::nullopt;
    std::optional<std::string> order_id = std::nullopt;
    std::optional<std::string> operator_id = std::nullopt;
    /// Never audited or logged: only counted by the risk engine.
    std::optional<std::string> matching_id = std::nullopt;
    /// The subscriber of the ICCID's line, once looked up.
    std::optional<std::string> subscriber_id = std::nullopt;
    bool subscriber_looked_up = false;
    /// The rule or blocklist entry that refused the call, if a defence did.
    std::optional<std::string> refused_by = std::nullopt;
};

struct context {
    smdp_config config;
    store::store& db;
    std::shared_ptr<crypto::random_source> random;
    std::shared_ptr<http::metrics_registry> metrics;
    std::shared_ptr<spdlog::logger> log;
    /// credentials' CIs plus config.trusted_cis: anchors of eUICC chains.
    std::vector<crypto::certificate> anchors;
    /// The CRLs chains are checked against: config.crls at start, replaced
    /// as a whole by smdp_service::set_crls (a refresh thread) while request
    /// threads read it; a request keeps the snapshot it took.
    std::shared_ptr<live_crls> crls_live = std::make_shared<live_crls>();

    /// The current CRL set.
    [[nodiscard]] std::shared_ptr<const std::vector<crypto::crl>> crls() const;

    store::time_point now() const;
    /// `n` random bytes; a failing source is an internal error (no weaker fallback).
    [[nodiscard]] std::expected<bytes, rsp::status> random_bytes(std::size_t n) const;
    /// The credentials whose CI has key identifier `ci_pkid`, if any.
    const ci_credentials* credentials_for(byte_view ci_pkid) const;
    /// Counts one download outcome (smdp_downloads_total{outcome}).
    void count_download(std::string_view outcome) const;
    /// Queues a handleDownloadProgressInfo for the order's operator. Failures
    /// are logged only: a device never fails because an operator is unreachable.
    void notify_operator(const store::order_record& order, notification_point point,
                         const rsp::progress_status& status, std::optional<bytes> result_data,
                         std::optional<std::string> eid) const;
    /// Appends to the order history; failures logged only.
    void add_event(std::string_view order_id, std::string_view name, std::string_view detail) const;
};

/// A status for an unexpected failure (store down, crypto failure): never a
/// 500, the device sees a generic SGP.22 failure with a plain message.
rsp::status internal_error(std::string_view what);

/// The answer to a download of a locked order: 8.2.7/6.4 when the
/// confirmation-code retry limit locked it, otherwise 8.2/1.2 (paused).
rsp::status locked_order_status(const store::order_record& order);

/// "txn=<hex> eid=<masked>", the prefix of every per-session log line.
std::string session_prefix(std::string_view transaction_id_hex,
                           std::optional<std::string_view> eid);

/// ISO 8601 UTC with seconds, e.g. "2024-05-01T10:00:00Z".
std::string iso8601(store::time_point t);

/// Lower-case hex SHA-256 of the bytes.
std::string sha256_hex(byte_view data);

/// The StoreMetadataRequest the SM-DP+ sends for a profile: the same bytes in
/// authenticateClient and in the BPP (the eUICC compares them).
[[nodiscard]] std::expected<asn1::store_metadata_request, rsp::status>
profile_metadata_for(const context& ctx, const store::profile_record& profile);

/// The DER content octets of a dotted OID ("1.3.6.1…"); nullopt when malformed.
std::optional<bytes> encode_oid(std::string_view dotted);

/// The signature TLV the spec chains signatures with: 5F37 40 ‖ r‖s.
bytes signature_tlv(byte_view raw_signature);

} // namespace esimguard::smdp::detail

namespace esimguard::smdp::procedures {

using detail::context;

using detail::call_trace;

procedure_result<rsp::initiate_authentication_response>
initiate_authentication(const context& ctx, const rsp::initiate_authentication_request& r,
                        call_trace& trace);
procedure_result<rsp::authenticate_client_response>
authenticate_client(const context& ctx, const rsp::authenticate_client_request& r,
                    call_trace& trace);
procedure_result<rsp::get_bound_profile_package_response>
get_bound_profile_package(const context& ctx, const rsp::get_bound_profile_package_request& r,
                          call_trace& trace);
procedure_result<notification_outcome>
handle_notification(const context& ctx, const rsp::handle_notification_request& r,
                    call_trace& trace);
procedure_result<void> cancel_session(const context& ctx, const rsp::cancel_session_request& r,
                                      call_trace& trace);

procedure_result<rsp::download_order_response> download_order(const context& ctx,
                                                              const store::operator_record& op,
                                                              const rsp::download_order_request& r);
/// `generated` tells whether the matching ID was made here (for the admin path).
procedure_result<rsp::confirm_order_response> confirm_order(const context& ctx,
                                                            const store::operator_record& op,
                                                            const rsp::confirm_order_request& r,
                                                            const confirm_order_options& options);
procedure_result<void> cancel_order(const context& ctx, const store::operator_record& op,
                                    const rsp::cancel_order_request& r);
procedure_result<void> release_profile(const context& ctx, const store::operator_record& op,
                                       const rsp::release_profile_request& r);

} // namespace esimguard::smdp::procedures
