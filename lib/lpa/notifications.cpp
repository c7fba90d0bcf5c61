// Notifications (SGP.22 §3.5, §5.7.9 ListNotification, §5.7.10
// RetrieveNotificationsList, §5.7.11 RemoveNotificationFromList, §5.6.4
// ES9+.HandleNotification): the LPA fetches each pending notification's
// signed DER from the eUICC, delivers it to the notificationAddress its
// metadata names, and removes it from the eUICC once the SM-DP+ has it.

#include "esimguard/asn1/notifications.hpp"
#include "esimguard/lpa/lpa.hpp"
#include "internal.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace esimguard::lpa {

namespace {

/// The metadata of a pending notification, whichever kind it is.
const asn1::notification_metadata& metadata_of(const asn1::pending_notification& n) {
    if (const auto* pir = std::get_if<asn1::profile_installation_result>(&n)) {
        return pir->data.notification;
    }
    return std::get<asn1::other_signed_notification>(n).tbs_other_notification;
}

/// The exact bytes of every PendingNotification in a BF2B response: the
/// signatures cover bytes, so they are forwarded as received rather than
/// re-encoded from decoded values.
asn1::result<std::vector<bytes>> pending_ders(byte_view response) {
    auto top = asn1::decode_single(response);
    if (!top) {
        return std::unexpected(top.error());
    }
    asn1::reader outer(response);
    auto bf2b = outer.next();
    if (!bf2b) {
        return std::unexpected(bf2b.error());
    }
    auto in = outer.enter(*bf2b);
    if (!in) {
        return std::unexpected(in.error());
    }
    auto choice = in->next();
    if (!choice) {
        return std::unexpected(choice.error());
    }
    std::vector<bytes> out;
    if (choice->tag != 0xA0) {
        return out;
    }
    auto list = in->enter(*choice);
    if (!list) {
        return std::unexpected(list.error());
    }
    while (!list->at_end()) {
        auto item = list->next();
        if (!item) {
            return std::unexpected(item.error());
        }
        out.push_back(to_bytes(item->raw));
    }
    return out;
}

} // namespace

result<std::vector<asn1::notification_metadata>> lpa::list_notifications() {
    auto der = call(asn1::encode(asn1::list_notification_request{}), "ListNotification");
    if (!der) {
        return std::unexpected(der.error());
    }
    auto r = asn1::decode_list_notification_response(*der);
    if (!r) {
        return std::unexpected(detail::card_malformed("ListNotification", r.error()));
    }
    if (auto* err = std::get_if<asn1::list_notification_error>(&r->result)) {
        return std::unexpected(detail::card_refused(
            "ListNotification", static_cast<std::uint32_t>(*err), "undefined error"));
    }
    return std::get<std::vector<asn1::notification_metadata>>(std::move(r->result));
}

result<void> lpa::remove_notification(std::uint64_t seq_number) {
    auto der = call(asn1::encode(asn1::remove_notification_from_list_request{
                        .seq_number = seq_number, .extensions = {}}),
                    "RemoveNotificationFromList");
    if (!der) {
        return std::unexpected(der.error());
    }
    auto r = asn1::decode_remove_notification_from_list_response(*der);
    if (!r) {
        return std::unexpected(detail::card_malformed("RemoveNotificationFromList", r.error()));
    }
    if (r->status != asn1::delete_notification_status::ok) {
        return std::unexpected(detail::card_refused(
            "RemoveNotificationFromList", static_cast<std::uint32_t>(r->status),
            r->status == asn1::delete_notification_status::nothing_to_delete
                ? "no notification with this sequence number"
                : "undefined error"));
    }
    return {};
}

notification_outcome lpa::send_notification(byte_view pending_der) {
    notification_outcome out;
    auto decoded = asn1::decode_pending_notification(pending_der);
    if (!decoded) {
        out.failure = detail::card_malformed("RetrieveNotificationsList", decoded.error());
        return out;
    }
    const auto& meta = metadata_of(*decoded);
    out.seq_number = meta.seq_number;
    out.address = meta.notification_address;
    out.operation = meta.profile_management_operation;
    if (meta.iccid) {
        out.iccid = meta.iccid->to_string();
    }

    auto sent = server_.handle_notification(
        meta.notification_address,
        rsp::handle_notification_request{.pending_notification_der = to_bytes(pending_der),
                                         .pending_notification = *decoded});
    if (!sent) {
        out.failure = detail::server_failure("HandleNotification", sent.error());
        detail::logger()->warn("notification {} to {} not delivered: {}", out.seq_number,
                               out.address, describe(*out.failure));
        return out;
    }
    out.sent = true;
    // Only now: a notification the SM-DP+ has not acknowledged must stay on
    // the card so that it can be sent again later (SGP.22 §3.5).
    if (auto removed = remove_notification(out.seq_number); !removed) {
        out.failure = removed.error();
        return out;
    }
    out.removed = true;
    detail::logger()->info("notification {} delivered to {} and removed", out.seq_number,
                           out.address);
    return out;
}

result<std::vector<notification_outcome>>
lpa::process_notifications(std::optional<std::uint64_t> only_seq) {
    asn1::retrieve_notifications_list_request req;
    if (only_seq) {
        req.search_criteria = asn1::by_seq_number{.seq_number = *only_seq};
    }
    auto der = call(asn1::encode(req), "RetrieveNotificationsList");
    if (!der) {
        return std::unexpected(der.error());
    }
    auto decoded = asn1::decode_retrieve_notifications_list_response(*der);
    if (!decoded) {
        return std::unexpected(
            detail::card_malformed("RetrieveNotificationsList", decoded.error()));
    }
    std::vector<notification_outcome> outcomes;
    if (const auto* err = std::get_if<asn1::retrieve_notifications_error>(&decoded->result)) {
        if (*err == asn1::retrieve_notifications_error::no_result_available) {
            return outcomes;
        }
        return std::unexpected(detail::card_refused(
            "RetrieveNotificationsList", static_cast<std::uint32_t>(*err), "undefined error"));
    }
    auto items = pending_ders(*der);
    if (!items) {
        return std::unexpected(detail::card_malformed("RetrieveNotificationsList", items.error()));
    }
    for (const auto& item : *items) {
        if (only_seq) {
            // A card that ignores the search criteria must not make us send others.
            auto d = asn1::decode_pending_notification(item);
            if (d && metadata_of(*d).seq_number != *only_seq) {
                continue;
            }
        }
        outcomes.push_back(send_notification(item));
    }
    return outcomes;
}

} // namespace esimguard::lpa
