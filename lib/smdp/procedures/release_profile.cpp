// SGP.22 §5.3.4 ES2+.ReleaseProfile: a confirmed order becomes downloadable.

#include "../context.hpp"

namespace esimguard::smdp::procedures {

procedure_result<void> release_profile(const context& ctx, const store::operator_record& op,
                                       const rsp::release_profile_request& r) {
    auto order = ctx.db.find_order_by_iccid(r.iccid.to_string());
    if (!order) {
        return std::unexpected(rsp::status(order.error().code == store::errc::not_found
                                               ? rsp::codes::iccid_unknown
                                               : detail::internal_error("order store")));
    }
    if (order->operator_id != op.id) {
        return std::unexpected(rsp::status(rsp::codes::iccid_not_allowed));
    }
    auto released = ctx.db.release_order(order->order_id, ctx.now());
    if (!released) {
        if (released.error().code == store::errc::state_mismatch) {
            return std::unexpected(rsp::status(rsp::codes::iccid_invalid_transition));
        }
        ctx.log->error("releaseProfile: store failed: {}", released.error().message);
        return std::unexpected(detail::internal_error("order store unavailable"));
    }
    ctx.log->info("operator {} released order {}", op.id, order->order_id);
    return {};
}

} // namespace esimguard::smdp::procedures
