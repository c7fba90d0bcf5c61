#pragma once
/// The Local Profile Assistant (SGP.22 §3): drives the eUICC over ES10a/b/c
/// and the SM-DP+ over ES9+. Chip information, local profile management,
/// notifications, and the profile download and installation procedure
/// (SGP.22 §3.1.3).
///
/// Nothing here prints or logs a confirmation code, a matching ID or a key.

#include "esimguard/apdu/es10_client.hpp"
#include "esimguard/asn1/authentication.hpp"
#include "esimguard/asn1/cancel_session.hpp"
#include "esimguard/asn1/euicc_info.hpp"
#include "esimguard/asn1/metadata.hpp"
#include "esimguard/asn1/profile_management.hpp"
#include "esimguard/core/bytes.hpp"
#include "esimguard/lpa/es9p_client.hpp"
#include "esimguard/rsp/status.hpp"

#include <cstddef>
#include <cstdint>
#include <expected>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace esimguard::lpa {

/// What kind of failure an LPA operation met.
enum class errc {
    invalid_argument,  ///< the caller's input: activation code, ICCID, AID, nickname
    card_transport,    ///< the link to the card failed, or the card answered an error SW
    card_malformed,    ///< the card's answer does not decode
    card_refused,      ///< the card answered with an ES10 result/error code (`card_code`)
    server_transport,  ///< the SM-DP+ could not be reached, or answered a non-2xx status
    server_malformed,  ///< the SM-DP+'s answer does not parse
    server_refused,    ///< the SM-DP+ reported a failure (`server_status`)
    declined,          ///< the user declined (profile consent, confirmation code)
    install_failed,    ///< the eUICC refused the bound profile package (`card_code`: errorReason)
    metadata_mismatch, ///< the package's metadata differs from what the SM-DP+ announced
};

/// A stable short name of an errc, for --json output and tests.
[[nodiscard]] std::string_view to_string(errc e);

/// A failure, with what the user needs to act on it.
struct error {
    errc code = errc::invalid_argument;
    /// One sentence for the user (which step, what went wrong). No secrets.
    std::string message;
    /// The SM-DP+'s subject code, reason code and message (server_refused).
    std::optional<rsp::status> server_status;
    /// The ES10 result or error code the card gave (card_refused, install_failed).
    std::optional<std::uint32_t> card_code;
    /// The session was cancelled on the card (and the SM-DP+ told) with this reason.
    std::optional<asn1::cancel_session_reason> cancelled_with;
};

template <typename T>
using result = std::expected<T, error>;

/// "message (SM-DP+ 8.2.7/3.8: The confirmation code is wrong)" style text.
[[nodiscard]] std::string describe(const error& e);

/// What the LPA tells the SM-DP+ about the device, and its defaults.
struct lpa_config {
    /// DeviceInfo in ctxParams1 (SGP.22 §5.7.13). Default: TAC 35290611 (as
    /// lpac), GSM/UTRAN/E-UTRAN release 15 capabilities.
    asn1::device_info device = default_device_info();

    /// The DeviceInfo used when none is configured.
    [[nodiscard]] static asn1::device_info default_device_info();
};

/// Everything `chip info` shows.
struct chip_info {
    std::string eid;                                     ///< 32 digits
    asn1::euicc_info1 info1;                             ///< GetEUICCInfo1
    asn1::euicc_info2 info2;                             ///< GetEUICCInfo2
    asn1::euicc_configured_addresses_response addresses; ///< default SM-DP+, root SM-DS
};

/// Which profile a management command is about.
using profile_ref = asn1::profile_identifier;

/// Parses a profile reference as users type it: 18 to 20 digits (with an
/// optional trailing 'F' padding) is an ICCID, 2 to 32 hex characters an
/// ISD-P AID. errc::invalid_argument otherwise.
[[nodiscard]] result<profile_ref> parse_profile_ref(std::string_view text);

/// What to download: the SM-DP+ and matching ID, from an activation code or
/// given apart, and the confirmation code when the caller already has it.
struct download_request {
    std::string smdp_address;
    std::string matching_id; ///< may be empty (default SM-DP+ address use)
    std::optional<std::string> confirmation_code;

    /// From `LPA:1$addr$matchingId[$oid[$1]]` (errc::invalid_argument, with
    /// the parser's reason, on a malformed code).
    [[nodiscard]] static result<download_request> from_activation_code(std::string_view code);
};

/// The caller's part in a download. Every member may be left empty.
struct download_callbacks {
    /// Asked only when the SM-DP+ sets ccRequiredFlag and the request holds
    /// no code. nullopt means the user declined: the session is cancelled with
    /// reason endUserRejection. When this is empty and a code is needed the
    /// session is cancelled with reason postponed.
    std::function<std::optional<std::string>()> confirmation_code;
    /// Shown the profile's metadata before it is bound to this eUICC;
    /// returning false cancels with reason endUserRejection. Empty accepts.
    std::function<bool(const asn1::store_metadata_request& metadata)> confirm_profile;
    /// Progress of LoadBoundProfilePackage: bytes handed to the card so far and
    /// in all. Called after each piece; the last call has done == total.
    std::function<void(std::size_t done, std::size_t total)> progress;
};

/// A completed download.
struct download_result {
    asn1::store_metadata_request metadata; ///< the installed profile's metadata
    bytes transaction_id;                  ///< of the RSP session
    bytes isdp_aid;                        ///< where the eUICC installed it
    /// Whether the ProfileInstallationResult reached the SM-DP+ (and was removed
    /// from the card); when not, it stays pending for `notification process`.
    bool notification_sent = false;
    std::optional<error> notification_failure;
};

/// The outcome of sending one pending notification.
struct notification_outcome {
    std::uint64_t seq_number = 0;
    std::string address;              ///< where it was sent
    asn1::bit_string operation;       ///< notification_event_bit
    std::optional<std::string> iccid; ///< the profile it is about, when known
    bool sent = false;                ///< the SM-DP+ answered 2xx
    bool removed = false;             ///< RemoveNotificationFromList succeeded
    std::optional<error> failure;
};

/// The LPA. Holds references to the card and the SM-DP+ client, which must
/// outlive it. Opens the ES10 channel on first use. Not thread-safe.
class lpa {
public:
    lpa(apdu::es10_client& card, es9p_client& server, lpa_config config = {});

    /// GetEID, GetEUICCInfo1/2 and GetEuiccConfiguredAddresses.
    [[nodiscard]] result<chip_info> get_chip_info();
    /// GetEID (ES10c).
    [[nodiscard]] result<std::string> get_eid();

    /// GetProfilesInfo (ES10c), every profile.
    [[nodiscard]] result<std::vector<asn1::profile_info>> list_profiles();
    /// EnableProfile; card_refused with the enableResult on refusal.
    [[nodiscard]] result<void> enable_profile(const profile_ref& profile, bool refresh = false);
    /// DisableProfile; card_refused with the disableResult on refusal.
    [[nodiscard]] result<void> disable_profile(const profile_ref& profile, bool refresh = false);
    /// DeleteProfile; card_refused with the deleteResult on refusal.
    [[nodiscard]] result<void> delete_profile(const profile_ref& profile);
    /// SetNickname (at most 64 characters; empty clears it).
    [[nodiscard]] result<void> set_nickname(std::string_view iccid, std::string_view nickname);

    /// ListNotification (ES10b): metadata of every pending notification.
    [[nodiscard]] result<std::vector<asn1::notification_metadata>> list_notifications();
    /// Sends pending notifications (all, or only `only_seq`) to their
    /// notificationAddress through ES9+.HandleNotification and removes each
    /// one the SM-DP+ accepted (2xx) from the card. One failure does not stop
    /// the others: each outcome says what happened. An error only when the
    /// card cannot list them.
    [[nodiscard]] result<std::vector<notification_outcome>>
    process_notifications(std::optional<std::uint64_t> only_seq = std::nullopt);
    /// RemoveNotificationFromList without sending it.
    [[nodiscard]] result<void> remove_notification(std::uint64_t seq_number);

    /// The profile download and installation procedure (SGP.22 §3.1.3):
    /// mutual authentication, PrepareDownload (with hashCc when the SM-DP+
    /// asks for a confirmation code), the bound profile package loaded piece
    /// by piece, and the ProfileInstallationResult sent to the SM-DP+. A
    /// failure after the session exists cancels it on the card and on the
    /// SM-DP+ (error::cancelled_with says with which reason); an SM-DP+
    /// refusal is returned with its status code and message.
    [[nodiscard]] result<download_result>
    download_profile(const download_request& request, const download_callbacks& callbacks = {});

private:
    /// One ES10 command → its DER response; `function` names it in errors.
    [[nodiscard]] result<bytes> call(byte_view command, std::string_view function);
    /// Sends one pending notification (exact DER) and removes it on success.
    notification_outcome send_notification(byte_view pending_der);
    /// CancelSession on the card, then ES9+.CancelSession with its answer;
    /// true when the card cancelled.
    bool cancel_session(std::string_view smdp_address, const bytes& transaction_id,
                        asn1::cancel_session_reason reason);

    apdu::es10_client& card_;
    es9p_client& server_;
    lpa_config config_;
};

} // namespace esimguard::lpa
