#pragma once
/// The bound profile package (BF36) and its typed plaintext parts
/// (SGP.22 §2.5.5 Profile protection and binding, §5.5 ES8+).
///
/// Layout: BF36 { BF23 InitialiseSecureChannelRequest; A0 { 87 ConfigureISDP };
/// A1 { 88 StoreMetadata... }; A2 { 87 ReplaceSessionKeys }?; A3 { 86 profile... } }.
/// Segments stay byte strings here: encrypting and MACing them is the crypto
/// module's job.

#include "esimguard/asn1/metadata.hpp"
#include "esimguard/asn1/rsp_types.hpp"
#include "esimguard/asn1/tlv.hpp"

#include <cstdint>
#include <optional>
#include <vector>

namespace esimguard::asn1 {

/// RemoteOpId ::= [2] INTEGER {installBoundProfilePackage(1)}.
enum class remote_op_id : std::uint8_t { install_bound_profile_package = 1 };

/// ControlRefTemplate (A6): key agreement parameters (GlobalPlatform CRT).
struct control_ref_template {
    std::uint8_t key_type = 0x88; ///< 80, AES
    std::uint8_t key_len = 0x10;  ///< 81, bytes
    bytes host_id;                ///< 84, 1..16 bytes
    extension_list extensions;
    bool operator==(const control_ref_template&) const = default;
};

/// InitialiseSecureChannelRequest (BF23), ES8+.InitialiseSecureChannel (SGP.22 §5.5.1).
struct initialise_secure_channel_request {
    remote_op_id remote_op = remote_op_id::install_bound_profile_package; ///< 82
    bytes transaction_id;                                                 ///< 80, 1..16 bytes
    control_ref_template crt;                                             ///< A6
    bytes smdp_otpk;           ///< 5F49, otPK.DP.ECKA (uncompressed point)
    raw_signature smdp_sign{}; ///< 5F37, r‖s
    /// The received bytes of remoteOpId, transactionId, controlRefTemplate
    /// and smdpOtpk, in order: smdpSign is over these followed by 5F49 and
    /// the eUICC's one-time key (SGP.22 §5.5.1). Empty on a value built for
    /// encoding; see encode_isc_signed_part().
    bytes signed_raw;
    extension_list extensions;
    /// Compares the decoded content, not signed_raw.
    bool operator==(const initialise_secure_channel_request& o) const {
        return remote_op == o.remote_op && transaction_id == o.transaction_id && crt == o.crt &&
               smdp_otpk == o.smdp_otpk && smdp_sign == o.smdp_sign && extensions == o.extensions;
    }
};

/// ConfigureISDPRequest (BF24) { dpProprietaryData B8? } (SGP.22 §5.5.2).
struct configure_isdp_request {
    std::optional<dp_proprietary_data> dp_proprietary;
    extension_list extensions;
    bool operator==(const configure_isdp_request&) const = default;
};

/// ReplaceSessionKeysRequest (BF26) (SGP.22 §5.5.5): the profile protection keys.
struct replace_session_keys_request {
    bytes initial_mac_chaining_value; ///< 80, 16 bytes
    bytes ppk_enc;                    ///< 81, 16 bytes (AES-128)
    bytes ppk_cmac;                   ///< 82, 16 bytes (AES-128)
    extension_list extensions;
    bool operator==(const replace_session_keys_request&) const = default;
};

/// BoundProfilePackage (BF36). Each segment is the content of one 87/88/86
/// TLV as it travels (ciphertext and MAC).
struct bound_profile_package {
    initialise_secure_channel_request initialise_secure_channel; ///< BF23
    std::vector<bytes> first_sequence_of_87;                 ///< A0: ConfigureISDP, at least one
    std::vector<bytes> sequence_of_88;                       ///< A1: StoreMetadata, at least one
    std::optional<std::vector<bytes>> second_sequence_of_87; ///< A2: ReplaceSessionKeys
    std::vector<bytes> sequence_of_86;                       ///< A3: profile elements, at least one
    extension_list extensions;
    bool operator==(const bound_profile_package&) const = default;
};

/// Decodes BF23, keeping the signed bytes in signed_raw.
[[nodiscard]] result<initialise_secure_channel_request>
decode_initialise_secure_channel_request(byte_view der);
/// Encodes BF23 from its fields (signed_raw is not used).
[[nodiscard]] bytes encode(const initialise_secure_channel_request& m);
/// The concatenated 82, 80, A6 and 5F49 TLVs of `m`: what the SM-DP+ signs,
/// followed by 5F49 ‖ otPK.EUICC.ECKA, for smdpSign (SGP.22 §5.5.1).
[[nodiscard]] bytes encode_isc_signed_part(const initialise_secure_channel_request& m);

/// Decodes BF24 (the plaintext of the first 87 segment).
[[nodiscard]] result<configure_isdp_request> decode_configure_isdp_request(byte_view der);
/// Encodes BF24.
[[nodiscard]] bytes encode(const configure_isdp_request& m);

/// Decodes BF26 (the plaintext of the A2 87 segment).
[[nodiscard]] result<replace_session_keys_request>
decode_replace_session_keys_request(byte_view der);
/// Encodes BF26.
[[nodiscard]] bytes encode(const replace_session_keys_request& m);

/// Decodes BF36. Refuses an empty A0, A1 or A3, and any element inside them
/// that is not 87, 88 or 86 respectively.
[[nodiscard]] result<bound_profile_package> decode_bound_profile_package(byte_view der);
/// Encodes BF36.
[[nodiscard]] bytes encode(const bound_profile_package& m);

/// Splits a received BF36 into the pieces an LPA sends to the eUICC one
/// STORE DATA sequence at a time, in order (SGP.22 §2.5.5,
/// ES8+.LoadBoundProfilePackage): the BF36 tag and length with the whole
/// BF23; A0 whole; the A1 tag and length, then each 88; A2 whole if
/// present; the A3 tag and length, then each 86. Every piece is exact
/// received bytes. The input is decoded (and so validated) first;
/// extension elements after A3 are not part of any piece.
[[nodiscard]] result<std::vector<bytes>> split_bound_profile_package(byte_view der);

} // namespace esimguard::asn1
