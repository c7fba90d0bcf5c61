#pragma once
/// A simulated eUICC: the ISD-R's ES10a/b/c functions (SGP.22 §5.7) behind one
/// DER-in/DER-out entry point, its persistent state, and the ISO 7816 card
/// side (SELECT, MANAGE CHANNEL, STORE DATA, GET RESPONSE) that LPAs and the
/// `esimguard-euicc` binary talk to.
///
/// State file: JSON (nlohmann), written atomically (temp file, fsync, rename,
/// fsync of the directory) after every change. Binary values are hex. It holds
/// the installed profiles (ICCID, ISD-P AID, state, nickname, the
/// StoreMetadataRequest DER, SHA-256 and size of the decrypted profile
/// package), the pending notifications (sequence number and the signed DER the
/// LPA forwards), the next sequence number and the default SM-DP+ address.
/// Keys are never written to it.

#include "esimguard/apdu/card.hpp"
#include "esimguard/asn1/rsp_types.hpp"
#include "esimguard/core/bytes.hpp"
#include "esimguard/crypto/keys.hpp"
#include "esimguard/crypto/random.hpp"
#include "esimguard/crypto/x509.hpp"

#include <cstdint>
#include <expected>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace esimguard::euicc {

/// The values EUICCInfo1/EUICCInfo2 report (SGP.22 §5.7.8) that are not
/// derived from the certificates. Defaults describe an SGP.22 v2.2.2 card.
struct euicc_info_values {
    asn1::version_type svn{2, 2, 2};                    ///< SGP.22 version
    asn1::version_type firmware_version{1, 0, 0};       ///< euiccFirmwareVer
    asn1::version_type profile_version{2, 3, 1};        ///< SIMalliance profile package version
    asn1::version_type pp_version{0, 0, 1};             ///< Protection Profile version
    asn1::version_type ts102241_version{9, 2, 0};       ///< javacardVersion
    asn1::version_type globalplatform_version{2, 3, 0}; ///< GlobalPlatform version
    std::string sas_accreditation_number = "ESIMGUARD-SIMULATED";
    /// extCardResource (ETSI TS 102 226 TLVs); empty gives a plausible default.
    bytes ext_card_resource;
    /// euiccCategory (asn1::euicc_category); nullopt omits it.
    std::optional<std::uint32_t> category = 2;
    /// rootDsAddress of GetEuiccConfiguredAddresses.
    std::string root_ds_address = "lpa.ds.gsma.com";
    /// defaultDpAddress before any SetDefaultDpAddress (the state file wins).
    std::optional<std::string> default_dp_address;
};

/// Everything a simulated eUICC is made of besides its state file.
struct euicc_config {
    /// The EID, 32 decimal digits; must match the eUICC certificate's serialNumber.
    std::string eid;
    /// SK.EUICC.ECDSA behind a signer. When null, `private_key_pem` is used.
    std::shared_ptr<const crypto::signer> key;
    /// SK.EUICC.ECDSA as PEM, used only when `key` is null. Never logged.
    std::string private_key_pem;
    /// CERT.EUICC.ECDSA and CERT.EUM.ECDSA, DER.
    bytes euicc_certificate_der;
    bytes eum_certificate_der;
    /// The CI certificates (DER) whose keys the eUICC trusts to verify the
    /// SM-DP+ (DPauth, DPpb) and lists in euiccCiPKIdListForVerification/Signing.
    std::vector<bytes> trusted_ci_certificates_der;
    euicc_info_values info;
    /// Challenges and one-time keys' randomness source; null means the system CSPRNG.
    /// Note: one-time ECKA key pairs come from OpenSSL key generation.
    std::shared_ptr<crypto::random_source> random;
    /// Time for certificate validity checks; null means the system clock.
    std::function<crypto::sys_seconds()> clock;
};

/// Why an eUICC could not be created or loaded.
struct euicc_error {
    enum class code { bad_config, bad_key, bad_certificate, state_io, state_corrupt } what;
    std::string detail;
};

template <typename T>
using euicc_result = std::expected<T, euicc_error>;

/// One installed profile, as kept in the state file.
struct installed_profile {
    std::string iccid;              ///< digits
    bytes isdp_aid;                 ///< ISD-P AID, 16 bytes
    bool enabled = false;           ///< ProfileState
    std::string nickname;           ///< empty when none
    bytes metadata_der;             ///< StoreMetadataRequest (BF25) as received
    bytes dp_oid;                   ///< SM-DP+ OID content octets, from ConfigureISDP or DPpb
    bytes package_sha256;           ///< SHA-256 of the decrypted profile elements (86 plaintexts)
    std::uint64_t package_size = 0; ///< bytes of decrypted profile elements
};

/// One pending notification, as kept in the state file.
struct stored_notification {
    std::uint64_t seq_number = 0;
    bytes pending_der;  ///< PendingNotification: BF37 or OtherSignedNotification (30)
    bytes metadata_der; ///< its NotificationMetadata (BF2F), for ListNotification
};

/// The simulated ISD-R. Not thread-safe: one LPA drives it at a time.
class euicc {
public:
    virtual ~euicc() = default;

    /// One complete ES10 command (after STORE DATA reassembly) → its DER
    /// response. Malformed input gets the function's error response, or an
    /// empty response when not even the function can be recognised (the card
    /// layer turns that into 6A80). Never throws.
    virtual bytes handle_es10(byte_view request_der) = 0;
    /// As handle_es10(), but nullopt when the input is not an ES10 command at
    /// all (no known tag, or a BPP piece with no download under way), so that
    /// the card side can answer 6A80 instead of an empty 9000.
    virtual std::optional<bytes> try_handle_es10(byte_view request_der) = 0;

    /// The EID digits.
    virtual const std::string& eid() const = 0;
    /// Installed profiles (snapshot).
    virtual std::vector<installed_profile> profiles() const = 0;
    /// Pending notifications (snapshot), oldest first.
    virtual std::vector<stored_notification> notifications() const = 0;
    /// Drops the volatile RSP session (challenge, keys, partial BPP), as a
    /// power cycle does.
    virtual void reset_session() = 0;
};

/// Builds an eUICC from `config`, loading `state_path` if it exists (else
/// starting empty; the file is created on the first change). An empty
/// `state_path` makes a volatile card: it starts empty and keeps its state in
/// memory only (load generators, which would otherwise time the file). Fails on an
/// unusable key or certificate, or an unreadable or corrupt state file.
[[nodiscard]] euicc_result<std::unique_ptr<euicc>>
create_euicc(euicc_config config, const std::filesystem::path& state_path);

/// The ISO 7816 card side of `chip` (which must outlive it): basic channel 0
/// and logical channels 1..3; SELECT by AID (ISD-R only), MANAGE CHANNEL
/// open/close, STORE DATA (INS E2, P1 11/91, P2 block number) reassembled
/// and passed to handle_es10, responses over 256 bytes through 61xx + GET
/// RESPONSE (INS C0). Errors are status words (6D00, 6E00, 6A82, 6881, 6700, ...).
[[nodiscard]] std::unique_ptr<apdu::card> create_euicc_card(euicc& chip);

/// A config from a test PKI (pki::init_test_pki + pki::issue_euicc):
/// DIR/<curve>/euicc/<EID>.{der,key.pem}, DIR/<curve>/eum.der and
/// DIR/<curve>/ci.der. Random and clock are left to their defaults.
[[nodiscard]] euicc_result<euicc_config> load_euicc_from_pki(const std::filesystem::path& pki_dir,
                                                             crypto::curve c, std::string_view eid);

} // namespace esimguard::euicc
