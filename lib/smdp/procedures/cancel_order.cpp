// SGP.22 §5.3.3 ES2+.CancelOrder: the operator withdraws an order before the
// download; the profile goes back to stock or is burnt
// (finalProfileStatusIndicator).

#include "../context.hpp"

namespace esimguard::smdp::procedures {

procedure_result<void> cancel_order(const context& ctx, const store::operator_record& op,
                                    const rsp::cancel_order_request& r) {
    auto order = ctx.db.find_order_by_iccid(r.iccid.to_string());
    if (!order) {
        return std::unexpected(rsp::status(order.error().code == store::errc::not_found
                                               ? rsp::codes::iccid_unknown
                                               : detail::internal_error("order store")));
    }
    if (order->operator_id != op.id) {
        return std::unexpected(rsp::status(rsp::codes::iccid_not_allowed));
    }
    if (r.eid && order->eid && r.eid->to_string() != *order->eid) {
        return std::unexpected(rsp::status(rsp::codes::eid_invalid_association));
    }
    if (r.matching_id && order->matching_id && *r.matching_id != *order->matching_id) {
        return std::unexpected(rsp::status(rsp::codes::matching_id_refused));
    }
    const auto final_status =
        r.final_profile_status_indicator == rsp::final_profile_status::available
            ? store::final_profile_status::available
            : store::final_profile_status::unavailable;
    auto done = ctx.db.cancel_order(order->order_id, final_status, ctx.now());
    if (!done) {
        if (done.error().code == store::errc::state_mismatch) {
            return std::unexpected(rsp::status(rsp::codes::iccid_invalid_transition));
        }
        ctx.log->error("cancelOrder: store failed: {}", done.error().message);
        return std::unexpected(detail::internal_error("order store unavailable"));
    }
    ctx.log->info("operator {} cancelled order {}", op.id, order->order_id);
    return {};
}

} // namespace esimguard::smdp::procedures
