#pragma once
// Private to the euicc module: the ISD-R's state as the procedures see it,
// and the procedures themselves (one per file under procedures/).

#include "esimguard/asn1/bpp.hpp"
#include "esimguard/asn1/euicc_info.hpp"
#include "esimguard/asn1/iccid.hpp"
#include "esimguard/asn1/metadata.hpp"
#include "esimguard/asn1/profile_management.hpp"
#include "esimguard/crypto/bsp.hpp"
#include "esimguard/crypto/keys.hpp"
#include "esimguard/crypto/random.hpp"
#include "esimguard/crypto/x509.hpp"
#include "esimguard/euicc/euicc.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace esimguard::euicc::detail {

/// What survives a power cycle: exactly what the state file holds.
struct persistent_state {
    std::vector<installed_profile> profiles;
    std::vector<stored_notification> notifications;
    std::uint64_t next_seq_number = 1;
    std::optional<std::string> default_dp_address;
};

/// Where a LoadBoundProfilePackage stands (SGP.22 §5.7.6): the LPA sends the
/// BPP in the pieces asn1::split_bound_profile_package yields, in order.
enum class bpp_stage {
    idle,      // no BF36 seen
    after_isc, // BF36 header + BF23 accepted; A0 next
    after_a0,  // ConfigureISDP done; A1 header next
    in_a1,     // inside A1: 88 segments
    after_a1,  // StoreMetadata done; A2 or A3 header next
    after_a2,  // ReplaceSessionKeys done; A3 header next
    in_a3,     // inside A3: 86 segments
};

struct bpp_progress {
    bpp_stage stage = bpp_stage::idle;
    std::size_t remaining = 0; // bytes of the current A1/A3 content not yet received
    std::optional<crypto::bsp_session> bsp;
    bytes metadata_plain;
    std::optional<asn1::store_metadata_request> metadata;
    bytes metadata_der;
    bytes dp_oid;
    bytes profile_plain;
};

/// The volatile RSP session of one download (SGP.22 §3.1.2, §3.1.3).
struct rsp_session {
    std::optional<asn1::challenge> euicc_challenge;
    bool authenticated = false;
    bytes transaction_id;
    std::string server_address;
    std::optional<crypto::certificate> ci; // the CI the DPauth chained to
    bytes smdp_oid;                        // registeredID of CERT.DPauth, when present
    asn1::raw_signature euicc_signature1{};
    bool prepared = false;
    std::optional<crypto::certificate> dppb;
    std::optional<crypto::private_key> otsk; // otSK.EUICC.ECKA
    bytes euicc_otpk;
    bpp_progress bpp;
};

class context {
public:
    euicc_config config;
    std::shared_ptr<const crypto::signer> key;
    crypto::certificate euicc_cert;
    crypto::certificate eum_cert;
    std::vector<crypto::certificate> cis;
    asn1::eid_value eid;
    std::filesystem::path state_path;
    persistent_state state;
    rsp_session session;
    std::shared_ptr<crypto::random_source> random;

    context(euicc_config c, std::shared_ptr<const crypto::signer> k, crypto::certificate ec,
            crypto::certificate um, std::vector<crypto::certificate> ci_certs, asn1::eid_value e,
            std::filesystem::path path)
        : config(std::move(c)), key(std::move(k)), euicc_cert(std::move(ec)),
          eum_cert(std::move(um)), cis(std::move(ci_certs)), eid(e), state_path(std::move(path)) {}

    crypto::sys_seconds now() const;
    /// eUICC signature (raw r‖s) over `message`; nullopt if the signer failed.
    std::optional<asn1::raw_signature> sign(byte_view message) const;
    /// Writes the state file atomically; false (and logged) on an I/O error.
    bool save();
    /// The key identifiers of the trusted CIs (euiccCiPKIdList...).
    std::vector<bytes> ci_key_ids() const;
    asn1::euicc_info1 info1() const;
    asn1::euicc_info2 info2() const;
    installed_profile* find_profile(const asn1::profile_identifier& id);
    installed_profile* find_profile_by_iccid(const std::string& iccid);
    /// Stores an OtherSignedNotification (SGP.22 §5.7.16-18) for `p` and
    /// `event` towards each address its notificationConfigurationInfo names.
    void add_profile_notification(const installed_profile& p, asn1::notification_event_bit event);
    /// Ends the RSP session, wiping its keys.
    void end_session() { session = rsp_session{}; }
};

/// The DER header of a (possibly incomplete) TLV: tag, header size, content length.
struct tlv_header {
    std::uint32_t tag = 0;
    std::size_t header_size = 0;
    std::size_t length = 0;
};
std::optional<tlv_header> parse_tlv_header(byte_view data);

/// subjectAltName registeredID of a certificate (the SM-DP+ OID), content octets.
std::optional<bytes> registered_id(byte_view certificate_der);

/// Profile metadata as stored, decoded (nullopt if the stored bytes are bad).
std::optional<asn1::store_metadata_request> stored_metadata(const installed_profile& p);

// One procedure per file under procedures/, each named after its ES10 function.
bytes get_euicc_challenge(context& ctx, byte_view request);
bytes get_euicc_info1(context& ctx, byte_view request);
bytes get_euicc_info2(context& ctx, byte_view request);
bytes authenticate_server(context& ctx, byte_view request);
bytes prepare_download(context& ctx, byte_view request);
std::optional<bytes> load_bound_profile_package(context& ctx, byte_view piece);
bytes cancel_session(context& ctx, byte_view request);
bytes list_notification(context& ctx, byte_view request);
bytes retrieve_notifications_list(context& ctx, byte_view request);
bytes remove_notification_from_list(context& ctx, byte_view request);
bytes get_profiles_info(context& ctx, byte_view request);
bytes enable_profile(context& ctx, byte_view request);
bytes disable_profile(context& ctx, byte_view request);
bytes delete_profile(context& ctx, byte_view request);
bytes euicc_memory_reset(context& ctx, byte_view request);
bytes get_eid(context& ctx, byte_view request);
bytes set_nickname(context& ctx, byte_view request);
bytes get_euicc_configured_addresses(context& ctx, byte_view request);
bytes set_default_dp_address(context& ctx, byte_view request);
bytes get_rat(context& ctx, byte_view request);

// State file (JSON), see euicc.hpp.
euicc_result<persistent_state> load_state(const std::filesystem::path& path);
bool save_state(const std::filesystem::path& path, const persistent_state& s);

} // namespace esimguard::euicc::detail
