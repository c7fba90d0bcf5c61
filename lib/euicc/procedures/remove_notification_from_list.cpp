// ES10b.RemoveNotificationFromList (SGP.22 §5.7.11): the LPA delivered a
// notification; the eUICC forgets it.

#include "context.hpp"

#include "esimguard/asn1/notifications.hpp"

#include <algorithm>

namespace esimguard::euicc::detail {

bytes remove_notification_from_list(context& ctx, byte_view request) {
    asn1::remove_notification_from_list_response r;
    auto req = asn1::decode_remove_notification_from_list_request(request);
    if (!req) {
        r.status = asn1::delete_notification_status::undefined_error;
        return asn1::encode(r);
    }
    auto& list = ctx.state.notifications;
    const auto before = list.size();
    std::erase_if(list,
                  [&](const stored_notification& n) { return n.seq_number == req->seq_number; });
    if (list.size() == before) {
        r.status = asn1::delete_notification_status::nothing_to_delete;
        return asn1::encode(r);
    }
    ctx.save();
    return asn1::encode(r);
}

} // namespace esimguard::euicc::detail
