#pragma once
/// Notifications: ES10b ListNotification (BF28), RetrieveNotificationsList
/// (BF2B), RemoveNotificationFromList (BF30) and the PendingNotification an
/// LPA forwards to the SM-DP+ in ES9+.HandleNotification
/// (SGP.22 §5.7.9, §5.7.10, §5.7.11, §5.6.4, §3.5).

#include "esimguard/asn1/install_result.hpp"
#include "esimguard/asn1/metadata.hpp"
#include "esimguard/asn1/rsp_types.hpp"
#include "esimguard/asn1/tlv.hpp"

#include <cstdint>
#include <optional>
#include <variant>
#include <vector>

namespace esimguard::asn1 {

/// ListNotificationRequest (BF28) { profileManagementOperation [1]? }.
struct list_notification_request {
    std::optional<bit_string> profile_management_operation; ///< notification_event_bit filter
    extension_list extensions;
    bool operator==(const list_notification_request&) const = default;
};

/// listNotificationsResultError codes.
enum class list_notification_error : std::uint8_t { undefined_error = 127 };

/// ListNotificationResponse (BF28) CHOICE { notificationMetadataList [0] | error [1] }.
struct list_notification_response {
    std::variant<std::vector<notification_metadata>, list_notification_error> result;
    bool operator==(const list_notification_response&) const = default;
};

/// RetrieveNotificationsList searchCriteria alternatives.
struct by_seq_number {
    std::uint64_t seq_number = 0;
    bool operator==(const by_seq_number&) const = default;
};
struct by_operation {
    bit_string profile_management_operation;
    bool operator==(const by_operation&) const = default;
};

/// RetrieveNotificationsListRequest (BF2B) { searchCriteria [0] CHOICE {
/// seqNumber [0] | profileManagementOperation [1] }? }.
struct retrieve_notifications_list_request {
    std::optional<std::variant<by_seq_number, by_operation>> search_criteria;
    extension_list extensions;
    bool operator==(const retrieve_notifications_list_request&) const = default;
};

/// OtherSignedNotification ::= SEQUENCE { tbsOtherNotification BF2F,
/// euiccNotificationSignature 5F37, euiccCertificate, eumCertificate }: the
/// signed enable/disable/delete notification.
struct other_signed_notification {
    notification_metadata tbs_other_notification;
    /// The BF2F TLV exactly as received: the signature is over these bytes.
    /// Empty on a value built for encoding.
    bytes tbs_raw;
    raw_signature euicc_notification_signature{};
    der_certificate euicc_certificate; ///< whole 30 TLV
    der_certificate eum_certificate;   ///< whole 30 TLV
    extension_list extensions;
    /// Compares the decoded content, not tbs_raw.
    bool operator==(const other_signed_notification& o) const {
        return tbs_other_notification == o.tbs_other_notification &&
               euicc_notification_signature == o.euicc_notification_signature &&
               euicc_certificate == o.euicc_certificate && eum_certificate == o.eum_certificate &&
               extensions == o.extensions;
    }
};

/// PendingNotification ::= CHOICE { profileInstallationResult BF37,
/// otherSignedNotification 30 }: what ES9+.HandleNotification carries.
using pending_notification = std::variant<profile_installation_result, other_signed_notification>;

/// notificationsListResultError codes.
enum class retrieve_notifications_error : std::uint8_t {
    no_result_available = 1,
    undefined_error = 127,
};

/// RetrieveNotificationsListResponse (BF2B) CHOICE { notificationList [0] | error [1] }.
struct retrieve_notifications_list_response {
    std::variant<std::vector<pending_notification>, retrieve_notifications_error> result;
    bool operator==(const retrieve_notifications_list_response&) const = default;
};

/// NotificationSentRequest (BF30) { seqNumber [0] }: RemoveNotificationFromList.
struct remove_notification_from_list_request {
    std::uint64_t seq_number = 0;
    extension_list extensions;
    bool operator==(const remove_notification_from_list_request&) const = default;
};

/// deleteNotificationStatus codes.
enum class delete_notification_status : std::uint8_t {
    ok = 0,
    nothing_to_delete = 1,
    undefined_error = 127,
};

/// NotificationSentResponse (BF30) { deleteNotificationStatus [0] }.
struct remove_notification_from_list_response {
    delete_notification_status status = delete_notification_status::ok;
    extension_list extensions;
    bool operator==(const remove_notification_from_list_response&) const = default;
};

// Decoders refuse wrong tags, missing fields and trailing bytes; result codes
// outside the named list are kept as their number (0..255).

/// Decodes BF28 (request).
[[nodiscard]] result<list_notification_request> decode_list_notification_request(byte_view der);
/// Decodes BF28 (response).
[[nodiscard]] result<list_notification_response> decode_list_notification_response(byte_view der);
/// Decodes BF2B (request).
[[nodiscard]] result<retrieve_notifications_list_request>
decode_retrieve_notifications_list_request(byte_view der);
/// Decodes BF2B (response).
[[nodiscard]] result<retrieve_notifications_list_response>
decode_retrieve_notifications_list_response(byte_view der);
/// Decodes BF30 (request).
[[nodiscard]] result<remove_notification_from_list_request>
decode_remove_notification_from_list_request(byte_view der);
/// Decodes BF30 (response).
[[nodiscard]] result<remove_notification_from_list_response>
decode_remove_notification_from_list_response(byte_view der);
/// Decodes an OtherSignedNotification (30), keeping the BF2F bytes.
[[nodiscard]] result<other_signed_notification> decode_other_signed_notification(byte_view der);
/// Decodes a PendingNotification: BF37 or 30, by its tag. The entry point
/// of ES9+.HandleNotification.
[[nodiscard]] result<pending_notification> decode_pending_notification(byte_view der);

/// Encodes BF28 (request).
[[nodiscard]] bytes encode(const list_notification_request& m);
/// Encodes BF28 (response).
[[nodiscard]] bytes encode(const list_notification_response& m);
/// Encodes BF2B (request).
[[nodiscard]] bytes encode(const retrieve_notifications_list_request& m);
/// Encodes BF2B (response).
[[nodiscard]] bytes encode(const retrieve_notifications_list_response& m);
/// Encodes BF30 (request).
[[nodiscard]] bytes encode(const remove_notification_from_list_request& m);
/// Encodes BF30 (response).
[[nodiscard]] bytes encode(const remove_notification_from_list_response& m);
/// Encodes an OtherSignedNotification (30) from its fields (tbs_raw unused).
[[nodiscard]] bytes encode(const other_signed_notification& m);
/// Encodes a PendingNotification (BF37 or 30).
[[nodiscard]] bytes encode(const pending_notification& m);

} // namespace esimguard::asn1
