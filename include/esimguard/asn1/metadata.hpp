#pragma once
/// Profile metadata as the SM-DP+ sends it and the eUICC stores it:
/// StoreMetadataRequest (BF25, SGP.22 §5.5.3 and §5.7.x ES8+.StoreMetadata)
/// and its parts, plus NotificationMetadata (BF2F), which names a profile in
/// every notification (SGP.22 §5.7.9, §5.7.10).

#include "esimguard/asn1/iccid.hpp"
#include "esimguard/asn1/rsp_types.hpp"
#include "esimguard/asn1/tlv.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace esimguard::asn1 {

/// IconType ::= INTEGER {jpg(0), png(1)}.
enum class icon_type : std::uint8_t { jpg = 0, png = 1 };

/// ProfileClass ::= INTEGER {test(0), provisioning(1), operational(2)}.
enum class profile_class : std::uint8_t { test = 0, provisioning = 1, operational = 2 };

/// Named bits of NotificationEvent (a bit_string; use bit_string::from_bits).
enum notification_event_bit : std::size_t {
    notification_install = 0,
    notification_enable = 1,
    notification_disable = 2,
    notification_delete = 3,
};

/// Named bits of PprIds (profilePolicyRules).
enum ppr_bit : std::size_t {
    ppr_update_control = 0,
    ppr1_disabling_not_allowed = 1,
    ppr2_deletion_not_allowed = 2,
    ppr3_delete_on_disable = 3,
};

/// Longest strings and icon the decoders accept (SIZE constraints of RSPDefinitions).
inline constexpr std::size_t service_provider_name_max = 32; ///< characters
inline constexpr std::size_t profile_name_max = 64;          ///< characters
inline constexpr std::size_t profile_nickname_max = 64;      ///< characters
inline constexpr std::size_t icon_max = 1024;                ///< bytes

/// OperatorID ::= SEQUENCE { mccMnc [0] (3 bytes, TS 24.008 coding), gid1 [1]?, gid2 [2]? }.
struct operator_id {
    bytes mcc_mnc; ///< exactly 3 bytes
    std::optional<bytes> gid1;
    std::optional<bytes> gid2;
    extension_list extensions;
    bool operator==(const operator_id&) const = default;
};

/// NotificationConfigurationInformation ::= SEQUENCE { profileManagementOperation [0]
/// NotificationEvent, notificationAddress [1] UTF8String }: where to send
/// which notifications for this profile.
struct notification_configuration_information {
    bit_string profile_management_operation;
    std::string notification_address; ///< FQDN
    extension_list extensions;
    bool operator==(const notification_configuration_information&) const = default;
};

/// DpProprietaryData (B8) ::= SEQUENCE { dpOid OBJECT IDENTIFIER, ... }; at
/// most 128 bytes with tag and length.
struct dp_proprietary_data {
    bytes dp_oid;              ///< OBJECT IDENTIFIER content octets (e.g. 2B 06 01 ...)
    extension_list additional; ///< further data objects of the SM-DP+, kept raw
    bool operator==(const dp_proprietary_data&) const = default;
};

/// StoreMetadataRequest (BF25), the profileMetadata of ES9+.AuthenticateClient
/// and the plaintext of the BPP's 88 segments (SGP.22 §5.5.3).
struct store_metadata_request {
    iccid_value iccid;                  ///< 5A
    std::string service_provider_name;  ///< 91, at most 32 characters
    std::string profile_name;           ///< 92, at most 64 characters
    std::optional<icon_type> icon_kind; ///< 93
    std::optional<bytes> icon;          ///< 94, at most 1024 bytes; only with icon_kind
    std::optional<profile_class> klass; ///< 95, operational when absent
    std::optional<std::vector<notification_configuration_information>>
        notification_configuration_info;            ///< B6
    std::optional<operator_id> profile_owner;       ///< B7
    std::optional<bit_string> profile_policy_rules; ///< 99, ppr_bit
    extension_list extensions; ///< later-version fields (e.g. SGP.22 v3), kept raw
    bool operator==(const store_metadata_request&) const = default;
};

/// Decodes BF25. Refuses a missing iccid/name, strings over their size,
/// an icon without iconType, unknown iconType/profileClass values.
[[nodiscard]] result<store_metadata_request> decode_store_metadata_request(byte_view der);
/// Encodes BF25. Strings and sizes are the caller's to keep within limits.
[[nodiscard]] bytes encode(const store_metadata_request& m);

/// NotificationMetadata (BF2F): which notification, for which profile, to
/// which address (SGP.22 §5.7.10 and §2.6). The exact bytes matter: the eUICC
/// signs them inside OtherSignedNotification and ProfileInstallationResult.
struct notification_metadata {
    std::uint64_t seq_number = 0;            ///< 80
    bit_string profile_management_operation; ///< 81, one notification_event_bit set
    std::string notification_address;        ///< 0C, FQDN
    std::optional<iccid_value> iccid;        ///< 5A
    extension_list extensions;
    bool operator==(const notification_metadata&) const = default;
};

/// Decodes BF2F. Refuses an operation with other than exactly one bit set.
[[nodiscard]] result<notification_metadata> decode_notification_metadata(byte_view der);
/// Encodes BF2F.
[[nodiscard]] bytes encode(const notification_metadata& m);

} // namespace esimguard::asn1
