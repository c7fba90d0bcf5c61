#pragma once
/// Domain records of the SM-DP+ store: operators, profiles, orders, RSP
/// sessions, the operator notification outbox and order history.
/// Plain values only: no database type appears here, so that the SQLite and
/// (later) PostgreSQL implementations share them. Times are UTC time points;
/// implementations keep them with microsecond resolution.

#include "esimguard/core/bytes.hpp"

#include <chrono>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

namespace esimguard::store {

/// A point in time, UTC. Stored as integer microseconds since the epoch, so a
/// value read back is truncated to whole microseconds.
using time_point = std::chrono::system_clock::time_point;

/// What went wrong in a store call.
enum class errc {
    not_found,        ///< no row with that key
    conflict,         ///< a unique key is taken (operator id, ICCID, matching ID, transaction ID)
    state_mismatch,   ///< a conditional transition found the row in another state
    invalid_argument, ///< malformed input (ICCID not 18–20 digits, hash not 32 bytes, …)
    io,               ///< the database could not be reached, was busy too long, disk full
    corrupt,          ///< the database holds something this code cannot read
    schema_too_new,   ///< the database was migrated by a newer esimguard
};

std::string_view to_string(errc e);

/// A store error. `message` is for logs: it never holds codes, matching IDs or keys.
struct error {
    errc code;
    std::string message;
};

/// Every store call returns one of these.
template <class T>
using result = std::expected<T, error>;

/// Lifecycle state of a profile, and of the order that holds it (SGP.22 §3.2,
/// PRODUCT.md): available → allocated → linked → confirmed → released →
/// downloaded → installed / enabled / disabled / deleted, or cancelled /
/// expired / error. An order mirrors the state of its profile while it holds it.
enum class profile_state {
    available,  ///< in stock, no order
    allocated,  ///< downloadOrder without EID
    linked,     ///< downloadOrder (or confirmOrder) named an EID
    confirmed,  ///< confirmOrder with releaseFlag false
    released,   ///< may be downloaded
    downloaded, ///< the BPP was sent to the device
    installed,  ///< the eUICC reported successful installation
    enabled,
    disabled,
    deleted,
    cancelled, ///< ES2+ cancelOrder
    expired,   ///< the order passed expires_at before a download
    error,     ///< installation failed, or an operator/engine put it aside
};

/// Orders follow the same state machine as their profile.
using order_state = profile_state;

std::string_view to_string(profile_state s);
std::optional<profile_state> profile_state_from_string(std::string_view s);

/// ProfileClass of SGP.22 §2.4a (ProfileInfo): test, provisioning, operational.
enum class profile_class { test = 0, provisioning = 1, operational = 2 };

/// An operator (ES2+ client) allowed to order downloads.
struct operator_record {
    std::string id;
    std::string display_name;
    /// Lower-case hex SHA-256 of the bearer token; the token itself is never stored.
    std::string token_sha256_hex;
    /// Lower-case hex SHA-256 of the operator's TLS client certificate DER, when
    /// it authenticates with mutual TLS.
    std::optional<std::string> client_cert_sha256_hex;
    /// Where handleDownloadProgressInfo goes; none when the operator takes no callbacks.
    std::optional<std::string> download_progress_url;
    time_point created_at{};
};

/// Descriptive metadata of a profile (what StoreMetadataRequest carries).
struct profile_metadata {
    std::string service_provider_name;
    std::string profile_name;
    profile_class klass = profile_class::operational;
};

/// A profile in the SM-DP+'s inventory.
struct profile_record {
    /// 18–20 decimal digits, as ES2+ writes it (no F padding).
    std::string iccid;
    std::string operator_id;
    std::string profile_type;
    profile_metadata metadata;
    /// The unprotected profile package (SAIP DER). Empty in list results:
    /// load it with store::find_profile.
    bytes package;
    profile_state state = profile_state::available;
    time_point created_at{};
    time_point updated_at{};
};

/// One ES2+ downloadOrder and everything that happens to it afterwards.
struct order_record {
    std::string order_id;
    std::string iccid;
    std::string operator_id;
    std::string profile_type;
    /// When set, only this eUICC (32 digits) may download.
    std::optional<std::string> eid;
    /// Set by confirmOrder; unique among all orders, ever.
    std::optional<std::string> matching_id;
    /// SHA-256(confirmation code as ASCII), 32 bytes; the code itself is never
    /// stored. hashCc = SHA-256(cc_sha256 ‖ transactionId) is computed from it.
    std::optional<bytes> cc_sha256;
    bool cc_required = false;
    int cc_failures = 0;
    int cc_failure_limit = 3;
    int download_attempts = 0;
    int download_attempt_limit = 3;
    time_point expires_at{};
    order_state state = order_state::allocated;
    /// A locked order refuses downloads (confirmation-code retries exceeded,
    /// or paused by the risk engine) until unlocked or cancelled.
    bool locked = false;
    /// Why it is locked, e.g. "cc_retries_exceeded"; never a secret.
    std::optional<std::string> lock_reason;
    std::optional<std::string> smds_address;
    time_point created_at{};
    time_point updated_at{};
};

/// State of an ES9+ RSP session (SGP.22 §3.1.3).
enum class session_state {
    initiated,     ///< after initiateAuthentication
    authenticated, ///< after authenticateClient: eUICC known, order bound
    bpp_sent,      ///< after getBoundProfilePackage
    ended,         ///< finished, cancelled or expired; secrets wiped
};

std::string_view to_string(session_state s);
std::optional<session_state> session_state_from_string(std::string_view s);

/// An RSP session, shared by every server node through the store.
struct session_record {
    /// Hex of the TransactionId; unique for the lifetime of the SM-DP+.
    std::string transaction_id;
    session_state state = session_state::initiated;
    time_point created_at{};
    time_point expires_at{};
    time_point updated_at{};
    bytes euicc_challenge;
    bytes server_challenge;
    /// The SM-DP+ address the eUICC was told (serverSigned1).
    std::string server_address;
    /// The CI public key identifier chosen (euiccCiPKIdToBeUsed).
    bytes ci_pkid;
    /// Remote address of the LPA, for history and risk decisions.
    std::optional<std::string> client_address;
    /// Set when authenticated.
    std::optional<bytes> euicc_certificate;
    std::optional<std::string> eid;
    std::optional<std::string> order_id;
    /// smdpSigned2 and smdpSignature2 as sent: euiccSignature2 covers the latter.
    std::optional<bytes> smdp_signed2;
    std::optional<bytes> smdp_signature2;
    /// otPK.EUICC.ECKA from PrepareDownloadResponse.
    std::optional<bytes> euicc_otpk;
    /// otSK.DP.ECKA: a secret. Wiped by store::clear_session_secret as soon as
    /// the BPP is built, and on end/expiry.
    std::optional<bytes> smdp_otsk;
    /// otPK.DP.ECKA, kept so that a repeated getBoundProfilePackage can be recognised.
    std::optional<bytes> smdp_otpk;
    /// hashCc checks made in this session.
    int cc_attempts = 0;
    /// Why it ended ("completed", "cancelled", "expired", an error name).
    std::optional<std::string> end_reason;
};

/// Changes to a session in one conditional update: fields left empty keep
/// their value. To erase the one-time secret use store::clear_session_secret.
struct session_update {
    std::optional<session_state> state;
    std::optional<time_point> expires_at;
    std::optional<bytes> euicc_certificate;
    std::optional<std::string> eid;
    std::optional<std::string> order_id;
    std::optional<bytes> smdp_signed2;
    std::optional<bytes> smdp_signature2;
    std::optional<bytes> euicc_otpk;
    std::optional<bytes> smdp_otsk;
    std::optional<bytes> smdp_otpk;
    std::optional<std::string> end_reason;
    /// A line for an order's history (order_event: order_id, name, detail),
    /// written in the same transaction when, and only when, the update
    /// applies: one commit instead of two on the ES9+ path.
    struct history_line {
        std::string order_id;
        std::string name;
        std::string detail;
    };
    std::optional<history_line> history;
};

/// Delivery state of an outbox message.
enum class outbox_state { pending, delivered, failed };

std::string_view to_string(outbox_state s);
std::optional<outbox_state> outbox_state_from_string(std::string_view s);

/// A handleDownloadProgressInfo call to an operator, waiting to be delivered.
struct outbox_message {
    std::int64_t id = 0;
    std::string operator_id;
    /// The order it reports on, if any (for history).
    std::optional<std::string> order_id;
    /// The ES2+ JSON request body.
    std::string body;
    /// Deliveries tried so far (a claim counts as a try).
    int attempts = 0;
    time_point next_attempt_at{};
    outbox_state state = outbox_state::pending;
    std::optional<std::string> last_error;
    time_point created_at{};
    time_point updated_at{};
};

/// How a failed delivery is retried: the n-th failure waits
/// min(initial_delay · 2^(n−1), max_delay); after max_attempts it is failed.
struct retry_policy {
    std::chrono::microseconds initial_delay = std::chrono::seconds(10);
    std::chrono::microseconds max_delay = std::chrono::hours(1);
    int max_attempts = 10;
};

/// The wait after the `attempts`-th failed delivery (attempts ≥ 1) under `p`.
std::chrono::microseconds backoff_delay(const retry_policy& p, int attempts);

/// One line of an order's history.
struct order_event {
    std::int64_t id = 0;
    std::string order_id;
    time_point at{};
    /// A short fixed name: "created", "confirmed", "download_started", …
    std::string name;
    /// Free text for people; never a code, matching ID or key.
    std::string detail;
};

} // namespace esimguard::store
