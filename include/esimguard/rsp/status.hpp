#pragma once
/// SGP.22 status codes of ES9+ and ES2+ (SGP.22 §5.2.6 subject and reason
/// codes, and the per-function tables of §5.3 and §5.6): the
/// `statusCodeData` a failed function reports, with a human-readable message
/// that clients show to the user.

#include <string>
#include <string_view>

namespace esimguard::rsp {

/// A named status code: subject code, reason code and the default message.
/// Constants of this type below are the codes esimguard emits or recognises.
struct status_code {
    std::string_view subject;
    std::string_view reason;
    std::string_view default_message;
};

/// The statusCodeData of a failed ES9+/ES2+ function: what the SM-DP+ sends
/// and what an LPA or operator receives. `message` is always filled when
/// esimguard builds one (clients show it to the user); one received from a
/// peer may carry any text, or none.
struct status {
    std::string subject_code; ///< e.g. "8.1.1"
    std::string reason_code;  ///< e.g. "3.8"
    std::string message;      ///< shown to the user; never a secret

    status() = default;
    status(std::string subject, std::string reason, std::string msg)
        : subject_code(std::move(subject)), reason_code(std::move(reason)),
          message(std::move(msg)) {}
    /// The code with its default message.
    status(const status_code& c) // NOLINT(google-explicit-constructor): constants convert freely
        : subject_code(c.subject), reason_code(c.reason), message(c.default_message) {}

    /// The code with a more precise message, e.g. which field was missing.
    static status with_detail(const status_code& c, std::string_view detail) {
        status s(c);
        if (!detail.empty()) {
            s.message += ": ";
            s.message += detail;
        }
        return s;
    }

    /// Whether this carries the subject and reason of `c` (the message is free text).
    bool is(const status_code& c) const {
        return subject_code == c.subject && reason_code == c.reason;
    }

    bool operator==(const status&) const = default;
};

/// "subject/reason message", for logs.
std::string to_string(const status& s);

/// Every named code, for tables and tests.
namespace codes {

// --- Generic (SGP.22 §5.2.6) --------------------------------------------------
/// 1.2.1 / 2.1: the request's Content-Type is not application/json.
inline constexpr status_code content_type_invalid{"1.2.1", "2.1",
                                                  "Unsupported Content-Type; use application/json"};
/// 1.2.2 / 2.1: X-Admin-Protocol absent or not gsma/rsp/v2.x or v3.x.
inline constexpr status_code admin_protocol_unsupported{
    "1.2.2", "2.1", "Unsupported X-Admin-Protocol; use gsma/rsp/v2.x.y"};
/// 1.3.1 / 2.2: a mandatory element is missing from the request.
inline constexpr status_code mandatory_element_missing{"1.3.1", "2.2",
                                                       "A mandatory element is missing"};
/// 1.3.1 / 2.1: the body is not valid JSON, or an element has the wrong type,
/// bad base64, a wrong size or DER that does not decode.
inline constexpr status_code invalid_format{"1.3.1", "2.1", "An element has an invalid format"};

// --- eUICC (8.1) -------------------------------------------------------------
/// 8.1 / 6.1: the eUICC's signature does not verify, or it signed another challenge.
inline constexpr status_code euicc_signature_invalid{
    "8.1", "6.1", "eUICC signature is invalid or the server challenge does not match"};
/// 8.1.1 / 3.8: the order is bound to another EID.
inline constexpr status_code eid_refused{"8.1.1", "3.8",
                                         "This profile is reserved for another device (EID)"};
/// 8.1.1 / 2.2 (ES2+): the EID is required in the context of this order.
inline constexpr status_code eid_missing{"8.1.1", "2.2", "The EID is missing for this order"};
/// 8.1.1 / 2.1 (ES2+): the EID is not 32 decimal digits.
inline constexpr status_code eid_invalid{"8.1.1", "2.1", "The EID is not 32 decimal digits"};
/// 8.1.1 / 3.9 (ES2+): the eUICC is unknown to the SM-DP+.
inline constexpr status_code eid_unknown{"8.1.1", "3.9", "The eUICC (EID) is unknown"};
/// 8.1.1 / 3.10 (ES2+): a different EID is already associated with the ICCID.
inline constexpr status_code eid_invalid_association{
    "8.1.1", "3.10", "A different EID is already associated with this profile"};
/// 8.1.2 / 6.1: the EUM certificate does not verify.
inline constexpr status_code eum_certificate_invalid{"8.1.2", "6.1", "EUM certificate is invalid"};
/// 8.1.2 / 6.3: the EUM certificate has expired.
inline constexpr status_code eum_certificate_expired{"8.1.2", "6.3", "EUM certificate has expired"};
/// 8.1.3 / 6.1: the eUICC certificate does not verify.
inline constexpr status_code euicc_certificate_invalid{"8.1.3", "6.1",
                                                       "eUICC certificate is invalid"};
/// 8.1.3 / 6.3: the eUICC certificate has expired.
inline constexpr status_code euicc_certificate_expired{"8.1.3", "6.3",
                                                       "eUICC certificate has expired"};

// --- Profile (8.2) -----------------------------------------------------------
/// 8.2 / 1.2: the profile has not been released by the operator.
inline constexpr status_code profile_not_released{
    "8.2", "1.2", "The profile is not yet released for download; contact your operator"};
/// 8.2.1 / 2.1 (ES2+): the ICCID is not 18 to 20 decimal digits.
inline constexpr status_code iccid_invalid{"8.2.1", "2.1",
                                           "The ICCID is not 18 to 20 decimal digits"};
/// 8.2.1 / 2.2 (ES2+): ICCID or finalProfileStatusIndicator missing when cancelling.
inline constexpr status_code iccid_missing{"8.2.1", "2.2", "The ICCID is missing"};
/// 8.2.1 / 1.2 (ES2+): the caller may not act on this profile.
inline constexpr status_code iccid_not_allowed{
    "8.2.1", "1.2", "The function caller is not allowed to act on this profile"};
/// 8.2.1 / 3.3 (ES2+): the profile is not available (already in use or downloaded).
inline constexpr status_code iccid_not_available{"8.2.1", "3.3",
                                                 "The profile (ICCID) is not available"};
/// 8.2.1 / 3.5 (ES2+): the profile cannot make this state change (e.g. release).
inline constexpr status_code iccid_invalid_transition{
    "8.2.1", "3.5", "The profile cannot change to the requested state"};
/// 8.2.1 / 3.9 (ES2+): the ICCID is unknown to the SM-DP+.
inline constexpr status_code iccid_unknown{"8.2.1", "3.9", "The profile (ICCID) is unknown"};
/// 8.2.1 / 3.10 (ES2+): a different EID is associated with this ICCID.
inline constexpr status_code iccid_invalid_association{
    "8.2.1", "3.10", "A different EID is associated with this profile"};
/// 8.2.5 / 3.9 (ES2+): the profile type is unknown.
inline constexpr status_code profile_type_unknown{"8.2.5", "3.9", "The profile type is unknown"};
/// 8.2.5 / 3.7 (ES2+): no profile of the requested type is left.
inline constexpr status_code profile_type_unavailable{
    "8.2.5", "3.7", "No more profiles are available for this profile type"};
/// 8.2.5 / 3.8 (ES2+): the profile type does not match the ICCID's.
inline constexpr status_code profile_type_mismatch{
    "8.2.5", "3.8", "The profile type does not match the profile identified by the ICCID"};
/// 8.2.6 / 2.1 (ES2+): the operator's matching ID has characters other than
/// letters, digits and '-'.
inline constexpr status_code matching_id_invalid{"8.2.6", "2.1", "The matching ID is not valid"};
/// 8.2.6 / 3.8: the activation code's matching ID is refused.
inline constexpr status_code matching_id_refused{
    "8.2.6", "3.8", "The activation code is not valid; check it or contact your operator"};
/// 8.2.6 / 3.3 (ES2+): the operator's matching ID is already in use.
inline constexpr status_code matching_id_conflict{"8.2.6", "3.3",
                                                  "The matching ID is already in use"};
/// 8.2.7 / 2.2: a confirmation code is required and none was given.
inline constexpr status_code confirmation_code_missing{"8.2.7", "2.2",
                                                       "A confirmation code is required"};
/// 8.2.7 / 3.8: the confirmation code is wrong.
inline constexpr status_code confirmation_code_refused{"8.2.7", "3.8",
                                                       "The confirmation code is wrong"};
/// 8.2.7 / 6.4: too many wrong confirmation codes; the order is locked.
inline constexpr status_code confirmation_code_retries_exceeded{
    "8.2.7", "6.4", "Too many wrong confirmation codes; contact your operator"};

// --- SM-DP+ (8.8) ------------------------------------------------------------
/// 8.8.1 / 3.8: the request names another SM-DP+ address.
inline constexpr status_code smdp_address_mismatch{"8.8.1", "3.8",
                                                   "The SM-DP+ address does not match this server"};
/// 8.8.2 / 3.1: none of the eUICC's CI key IDs is supported here.
inline constexpr status_code security_configuration_unsupported{
    "8.8.2", "3.1", "None of the eUICC's certificate issuers is supported by this server"};
/// 8.8.3 / 3.1: the eUICC's SGP.22 version is not supported.
inline constexpr status_code svn_unsupported{"8.8.3", "3.1",
                                             "The eUICC's specification version is not supported"};
/// 8.8.4 / 3.7: no DPauth certificate for the CI the eUICC named.
inline constexpr status_code smdp_certificate_unavailable{
    "8.8.4", "3.7", "This server has no certificate for the eUICC's certificate issuer"};
/// 8.8.5 / 4.10: the download order has expired.
inline constexpr status_code download_order_expired{
    "8.8.5", "4.10", "The download order has expired; contact your operator"};
/// 8.8.5 / 6.4: too many download attempts for this order.
inline constexpr status_code download_retries_exceeded{
    "8.8.5", "6.4", "Too many download attempts for this profile; contact your operator"};

// --- SM-DS (8.9) (ES2+) ------------------------------------------------------
/// 8.9 / 5.1: the SM-DS address is invalid or unreachable.
inline constexpr status_code smds_inaccessible{"8.9", "5.1",
                                               "The SM-DS address is invalid or unreachable"};

// --- RSP operation (8.10) and eSIM CA (8.11) -----------------------------------
/// 8.10.1 / 3.9: the transactionId is unknown (or its session has ended).
inline constexpr status_code transaction_id_unknown{"8.10.1", "3.9",
                                                    "Unknown or expired transaction"};
/// 8.11.1 / 3.9: the CI public key named is unknown.
inline constexpr status_code ci_public_key_unknown{"8.11.1", "3.9",
                                                   "Unknown certificate issuer public key"};

} // namespace codes

} // namespace esimguard::rsp
