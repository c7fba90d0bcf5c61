// SGP.22 §5.3.2 ES2+.ConfirmOrder: fix the matching ID (the operator's, or
// one generated here with at least 128 random bits), the EID and the
// confirmation code (kept as its SHA-256 only), and release the order or not.

#include "../context.hpp"

#include "esimguard/crypto/hash.hpp"
#include "esimguard/rsp/activation_code.hpp"

namespace esimguard::smdp::procedures {

namespace {

// 20 random bytes as upper-case hex in five dash-separated groups: 160
// bits, and only characters every LPA accepts (letters, digits, '-').
std::expected<std::string, rsp::status> generate_matching_id(const context& ctx) {
    auto b = ctx.random_bytes(20);
    if (!b) {
        return std::unexpected(b.error());
    }
    const std::string hex = to_hex_upper(*b);
    std::string out;
    for (std::size_t i = 0; i < hex.size(); i += 8) {
        if (!out.empty()) {
            out += '-';
        }
        out += hex.substr(i, 8);
    }
    return out;
}

} // namespace

procedure_result<rsp::confirm_order_response> confirm_order(const context& ctx,
                                                            const store::operator_record& op,
                                                            const rsp::confirm_order_request& r,
                                                            const confirm_order_options& options) {
    const bool has_cc = r.confirmation_code && !r.confirmation_code->empty();
    if (!has_cc && ctx.config.defenses.settings.require_confirmation_code &&
        !options.confirmation_code_optional) {
        // Issue 4 §3: an activation code alone must not be enough to take a
        // line. SGP.22 makes the code optional, so this SM-DP+'s policy is
        // reported as the missing element it makes mandatory.
        return std::unexpected(rsp::status::with_detail(
            rsp::codes::mandatory_element_missing,
            "confirmationCode (this SM-DP+ requires one on every order unless the order opts "
            "out with esimguardConfirmationCodeOptional)"));
    }
    const std::string iccid = r.iccid.to_string();
    auto order = ctx.db.find_order_by_iccid(iccid);
    if (!order) {
        return std::unexpected(rsp::status(order.error().code == store::errc::not_found
                                               ? rsp::codes::iccid_unknown
                                               : detail::internal_error("order store")));
    }
    if (order->operator_id != op.id) {
        return std::unexpected(rsp::status(rsp::codes::iccid_not_allowed));
    }
    std::optional<std::string> eid;
    if (r.eid) {
        eid = r.eid->to_string();
        if (order->eid && *order->eid != *eid) {
            return std::unexpected(rsp::status(rsp::codes::eid_invalid_association));
        }
    }
    std::string matching_id;
    if (r.matching_id && !r.matching_id->empty()) {
        if (!rsp::is_valid_matching_id(*r.matching_id) ||
            r.matching_id->size() > asn1::matching_id_max) {
            return std::unexpected(rsp::status(rsp::codes::matching_id_invalid));
        }
        matching_id = *r.matching_id;
    } else {
        auto m = generate_matching_id(ctx);
        if (!m) {
            return std::unexpected(m.error());
        }
        matching_id = std::move(*m);
    }

    store::confirm_request req;
    req.order_id = order->order_id;
    req.matching_id = matching_id;
    req.eid = eid;
    if (has_cc) {
        req.cc_sha256 = crypto::sha256(as_bytes(*r.confirmation_code));
    }
    req.release = r.release_flag;
    req.smds_address = r.smds_address;
    auto confirmed = ctx.db.confirm_order(req, ctx.now());
    if (!confirmed) {
        switch (confirmed.error().code) {
        case store::errc::conflict:
            return std::unexpected(rsp::status(rsp::codes::matching_id_conflict));
        case store::errc::state_mismatch:
            return std::unexpected(rsp::status(rsp::codes::iccid_invalid_transition));
        case store::errc::not_found:
            return std::unexpected(rsp::status(rsp::codes::iccid_unknown));
        default:
            ctx.log->error("confirmOrder: store failed: {}", confirmed.error().message);
            return std::unexpected(detail::internal_error("order store unavailable"));
        }
    }
    ctx.log->info("operator {} confirmed order {} (released: {}, cc: {})", op.id,
                  confirmed->order_id, r.release_flag, confirmed->cc_required);

    rsp::confirm_order_response out;
    out.matching_id = matching_id;
    if (confirmed->eid) {
        if (auto e = asn1::eid_value::parse(*confirmed->eid)) {
            out.eid = *e;
        }
    }
    out.smdp_address = ctx.config.addresses.front();
    return out;
}

} // namespace esimguard::smdp::procedures
