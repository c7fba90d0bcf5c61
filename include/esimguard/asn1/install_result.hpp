#pragma once
/// ProfileInstallationResult (BF37): the eUICC's signed report of a profile
/// download, sent to the SM-DP+ through ES9+.HandleNotification
/// (SGP.22 §5.5.4 ES8+.LoadBoundProfilePackage, §5.6.4 ES9+.HandleNotification).

#include "esimguard/asn1/metadata.hpp"
#include "esimguard/asn1/rsp_types.hpp"
#include "esimguard/asn1/tlv.hpp"

#include <cstdint>
#include <optional>
#include <variant>

namespace esimguard::asn1 {

/// BppCommandId: the part of the bound profile package that failed.
/// Codes outside the list are kept as their number.
enum class bpp_command_id : std::uint8_t {
    initialise_secure_channel = 0,
    configure_isdp = 1,
    store_metadata = 2,
    store_metadata2 = 3,
    replace_session_keys = 4,
    load_profile_elements = 5,
};

/// ErrorReason of a failed installation. Codes outside the list (later
/// versions add some) are kept as their number.
enum class install_error_reason : std::uint8_t {
    incorrect_input_values = 1,
    invalid_signature = 2,
    invalid_transaction_id = 3,
    unsupported_crt_values = 4,
    unsupported_remote_operation_type = 5,
    unsupported_profile_class = 6,
    scp03t_structure_error = 7,
    scp03t_security_error = 8,
    install_failed_due_to_iccid_already_exists_on_euicc = 9,
    install_failed_due_to_insufficient_memory_for_profile = 10,
    install_failed_due_to_interruption = 11,
    install_failed_due_to_pe_processing_error = 12,
    install_failed_due_to_iccid_mismatch = 13,
    test_profile_install_failed_due_to_invalid_naa_key = 14,
    ppr_not_allowed = 15,
    install_failed_due_to_unknown_error = 127,
};

/// SuccessResult ::= SEQUENCE { aid 4F (5..16 bytes), simaResponse 04 }.
struct install_success_result {
    bytes aid;           ///< AID of the ISD-P
    bytes sima_response; ///< EUICCResponse(s) of the SIMalliance profile package
    extension_list extensions;
    bool operator==(const install_success_result&) const = default;
};

/// ErrorResult ::= SEQUENCE { bppCommandId [0], errorReason [1], simaResponse [2]? }.
struct install_error_result {
    bpp_command_id bpp_command = bpp_command_id::initialise_secure_channel;
    install_error_reason reason = install_error_reason::install_failed_due_to_unknown_error;
    std::optional<bytes> sima_response;
    extension_list extensions;
    bool operator==(const install_error_result&) const = default;
};

/// ProfileInstallationResultData (BF27): what the eUICC signs.
struct profile_installation_result_data {
    bytes transaction_id;               ///< 80, 1..16 bytes
    notification_metadata notification; ///< BF2F
    std::optional<bytes> smdp_oid;      ///< 06, OID content octets
    std::variant<install_success_result, install_error_result> final_result; ///< A2 {A0 | A1}
    extension_list extensions;
    bool operator==(const profile_installation_result_data&) const = default;
};

/// ProfileInstallationResult (BF37) ::= SEQUENCE { BF27 data, 5F37 euiccSignPIR }.
struct profile_installation_result {
    profile_installation_result_data data;
    /// The BF27 TLV exactly as received: euiccSignPIR is over these bytes
    /// (SGP.22 §5.5.4). Empty on a value built for encoding.
    bytes data_raw;
    raw_signature euicc_sign_pir{}; ///< 5F37, r‖s
    extension_list extensions;
    /// Compares the decoded content, not data_raw.
    bool operator==(const profile_installation_result& o) const {
        return data == o.data && euicc_sign_pir == o.euicc_sign_pir && extensions == o.extensions;
    }
};

/// Decodes BF37, keeping the BF27 bytes for signature verification.
[[nodiscard]] result<profile_installation_result> decode_profile_installation_result(byte_view der);
/// Encodes BF37 from its fields (data_raw is not used).
[[nodiscard]] bytes encode(const profile_installation_result& p);

/// Decodes BF27 alone.
[[nodiscard]] result<profile_installation_result_data>
decode_profile_installation_result_data(byte_view der);
/// Encodes BF27: the bytes an eUICC (or a test) signs for euiccSignPIR.
[[nodiscard]] bytes encode(const profile_installation_result_data& d);

} // namespace esimguard::asn1
