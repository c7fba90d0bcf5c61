#pragma once
/// The LPA's side of ES9+ (SGP.22 §5.6): typed calls to an SM-DP+, and an
/// implementation over HTTPS (rsp JSON binding on http::client). The download
/// procedure only sees this interface, so that tests can put a hand-written
/// fake server behind it.

#include "esimguard/core/bytes.hpp"
#include "esimguard/rsp/es9p.hpp"
#include "esimguard/rsp/status.hpp"

#include <chrono>
#include <expected>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace esimguard::lpa {

/// Why an ES9+ call failed.
struct es9p_error {
    enum class kind {
        transport, ///< no answer: connect, TLS verification, timeout, or a non-2xx HTTP status
        malformed, ///< an answer that does not parse as the function's response
        refused,   ///< the SM-DP+ answered "Failed" with statusCodeData (`status`)
    } what = kind::transport;
    /// A short sentence for the user; never carries a secret.
    std::string detail;
    /// The server's subject/reason code and message when `what` is refused.
    std::optional<rsp::status> status;
};

template <typename T>
using es9p_result = std::expected<T, es9p_error>;

/// An SM-DP+ as the LPA calls it. `smdp_address` is the FQDN (optionally with
/// ":port") taken from the activation code or a notification's address.
/// Implementations need not be thread-safe.
class es9p_client {
public:
    virtual ~es9p_client() = default;

    /// ES9+.InitiateAuthentication (SGP.22 §5.6.1).
    [[nodiscard]] virtual es9p_result<rsp::initiate_authentication_response>
    initiate_authentication(std::string_view smdp_address,
                            const rsp::initiate_authentication_request& request) = 0;
    /// ES9+.AuthenticateClient (SGP.22 §5.6.3).
    [[nodiscard]] virtual es9p_result<rsp::authenticate_client_response>
    authenticate_client(std::string_view smdp_address,
                        const rsp::authenticate_client_request& request) = 0;
    /// ES9+.GetBoundProfilePackage (SGP.22 §5.6.2).
    [[nodiscard]] virtual es9p_result<rsp::get_bound_profile_package_response>
    get_bound_profile_package(std::string_view smdp_address,
                              const rsp::get_bound_profile_package_request& request) = 0;
    /// ES9+.HandleNotification (SGP.22 §5.6.4): success is any 2xx answer.
    [[nodiscard]] virtual es9p_result<void>
    handle_notification(std::string_view smdp_address,
                        const rsp::handle_notification_request& request) = 0;
    /// ES9+.CancelSession (SGP.22 §5.6.5).
    [[nodiscard]] virtual es9p_result<void>
    cancel_session(std::string_view smdp_address, const rsp::cancel_session_request& request) = 0;
};

/// Trust and limits of the HTTPS ES9+ client.
struct https_es9p_config {
    /// Trust anchors for the server's DPtls chain: CI certificates as DER, and
    /// files (PEM or DER). When both are empty the system trust store is used.
    std::vector<bytes> trusted_ca_der = {};
    std::vector<std::filesystem::path> trusted_ca_files = {};
    /// Skip chain and host name checks (labs only): the caller must warn the user.
    bool insecure = false;
    /// One whole call, connect to last body byte.
    std::chrono::milliseconds request_timeout{60'000};
    /// Sent as X-Admin-Protocol.
    std::string admin_protocol = std::string(rsp::admin_protocol_value);
    /// Sent as User-Agent; the value real LPAs send.
    std::string user_agent = "gsma-rsp-lpad";
    /// Source IP address to connect from; empty lets the kernel choose
    /// (http::client_config::local_address).
    std::string local_address = {};
};

/// An ES9+ client over HTTPS: `POST https://<address>/gsma/rsp2/es9plus/<function>`
/// with the headers of SGP.22 §6.5, verifying the server's chain against the
/// configured anchors and its host name. Fails (kind::transport) only when a
/// trust file cannot be loaded.
[[nodiscard]] es9p_result<std::unique_ptr<es9p_client>>
create_https_es9p_client(https_es9p_config config);

} // namespace esimguard::lpa
