// ES10b.RetrieveNotificationsList (SGP.22 §5.7.10): the signed pending
// notifications, all of them or those matching a sequence number or an
// operation. The stored DER is sent as it was signed, never re-encoded.

#include "context.hpp"

#include "esimguard/asn1/notifications.hpp"

namespace esimguard::euicc::detail {

bytes retrieve_notifications_list(context& ctx, byte_view request) {
    auto req = asn1::decode_retrieve_notifications_list_request(request);
    if (!req) {
        asn1::retrieve_notifications_list_response r;
        r.result = asn1::retrieve_notifications_error::undefined_error;
        return asn1::encode(r);
    }
    asn1::writer w;
    w.begin(0xBF2B).begin(0xA0);
    bool any = false;
    for (const auto& n : ctx.state.notifications) {
        if (req->search_criteria) {
            auto m = asn1::decode_notification_metadata(n.metadata_der);
            if (!m) {
                continue;
            }
            bool match = false;
            if (const auto* s = std::get_if<asn1::by_seq_number>(&*req->search_criteria)) {
                match = s->seq_number == m->seq_number;
            } else {
                const auto& op = std::get<asn1::by_operation>(*req->search_criteria);
                for (std::size_t bit = 0; bit < 4; ++bit) {
                    match = match || (op.profile_management_operation.test(bit) &&
                                      m->profile_management_operation.test(bit));
                }
            }
            if (!match) {
                continue;
            }
        }
        w.add_raw(n.pending_der);
        any = true;
    }
    w.end().end();
    if (!any && req->search_criteria) {
        asn1::retrieve_notifications_list_response r;
        r.result = asn1::retrieve_notifications_error::no_result_available;
        return asn1::encode(r);
    }
    return std::move(w).finish();
}

} // namespace esimguard::euicc::detail
