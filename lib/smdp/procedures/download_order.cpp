// SGP.22 §5.3.1 ES2+.DownloadOrder: reserve a profile (by ICCID or by profile
// type) for an operator's order, optionally bound to one EID.

#include "../context.hpp"

#include <algorithm>

namespace esimguard::smdp::procedures {

procedure_result<rsp::download_order_response>
download_order(const context& ctx, const store::operator_record& op,
               const rsp::download_order_request& r) {
    if (!r.iccid && !r.profile_type) {
        return std::unexpected(rsp::status::with_detail(rsp::codes::mandatory_element_missing,
                                                        "iccid or profileType"));
    }
    auto id = ctx.random_bytes(16);
    if (!id) {
        return std::unexpected(id.error());
    }
    const auto now = ctx.now();
    store::order_request req;
    req.order_id = "ord-" + to_hex(*id);
    req.operator_id = op.id;
    if (r.iccid) {
        req.iccid = r.iccid->to_string();
    }
    req.profile_type = r.profile_type;
    if (r.eid) {
        req.eid = r.eid->to_string();
    }
    req.cc_failure_limit = ctx.config.cc_retry_limit;
    // Each wrong confirmation code ends the RSP session (SGP.22 §5.6.2), so
    // every retry of the code is a new authenticateClient and counts one
    // download attempt. With fewer attempts than cc retries an order would
    // run out of attempts (8.8.5 / 6.4) before the subscriber had the cc
    // retries the operator granted; the attempt limit is therefore never
    // below the cc retry limit (the defaults are 3 and 3: two wrong codes and
    // the right one fit exactly).
    req.download_attempt_limit =
        std::max(ctx.config.download_attempt_limit, ctx.config.cc_retry_limit);
    req.expires_at = now + ctx.config.default_order_ttl;

    auto order = ctx.db.create_order(req, now);
    if (!order) {
        switch (order.error().code) {
        case store::errc::not_found:
            return std::unexpected(rsp::status(r.iccid ? rsp::codes::iccid_unknown
                                                       : rsp::codes::profile_type_unknown));
        case store::errc::conflict:
            return std::unexpected(rsp::status(r.iccid ? rsp::codes::iccid_not_available
                                                       : rsp::codes::profile_type_unavailable));
        case store::errc::invalid_argument:
            return std::unexpected(rsp::status(rsp::codes::iccid_invalid));
        default:
            ctx.log->error("downloadOrder: store failed: {}", order.error().message);
            return std::unexpected(detail::internal_error("order store unavailable"));
        }
    }
    if (r.profile_type && order->profile_type != *r.profile_type && r.iccid) {
        // The operator named both and they disagree: undo the reservation.
        (void)ctx.db.cancel_order(order->order_id, store::final_profile_status::available, now);
        return std::unexpected(rsp::status(rsp::codes::profile_type_mismatch));
    }
    ctx.log->info("operator {} ordered profile {} (order {})", op.id, order->iccid,
                  order->order_id);
    auto iccid = asn1::iccid_value::parse(order->iccid);
    if (!iccid) {
        return std::unexpected(detail::internal_error("stored ICCID malformed"));
    }
    return rsp::download_order_response{*iccid};
}

} // namespace esimguard::smdp::procedures
