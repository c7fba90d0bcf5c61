// ES10b.ListNotification (SGP.22 §5.7.9): the metadata of the pending
// notifications, optionally only those of the given operations.

#include "context.hpp"

#include "esimguard/asn1/notifications.hpp"

namespace esimguard::euicc::detail {

namespace {
bool operation_matches(const asn1::bit_string& filter, const asn1::notification_metadata& m) {
    for (std::size_t bit = 0; bit < 4; ++bit) {
        if (filter.test(bit) && m.profile_management_operation.test(bit)) {
            return true;
        }
    }
    return false;
}
} // namespace

bytes list_notification(context& ctx, byte_view request) {
    asn1::list_notification_response r;
    auto req = asn1::decode_list_notification_request(request);
    if (!req) {
        r.result = asn1::list_notification_error::undefined_error;
        return asn1::encode(r);
    }
    std::vector<asn1::notification_metadata> list;
    for (const auto& n : ctx.state.notifications) {
        auto m = asn1::decode_notification_metadata(n.metadata_der);
        if (!m) {
            continue;
        }
        if (req->profile_management_operation &&
            !operation_matches(*req->profile_management_operation, *m)) {
            continue;
        }
        list.push_back(std::move(*m));
    }
    r.result = std::move(list);
    return asn1::encode(r);
}

} // namespace esimguard::euicc::detail
