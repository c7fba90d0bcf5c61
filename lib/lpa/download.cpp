// Profile download and installation, LPA side (SGP.22 §3.1.3): common mutual
// authentication (§3.1.2: ES10b GetEUICCChallenge/GetEUICCInfo1, ES9+
// InitiateAuthentication, ES10b AuthenticateServer, ES9+ AuthenticateClient),
// download confirmation (§3.1.3.1: ES10b PrepareDownload with hashCc), ES9+
// GetBoundProfilePackage, ES10b LoadBoundProfilePackage segment by segment
// (§3.1.3.3, §2.5.5) and the ProfileInstallationResult delivered through ES9+
// HandleNotification; a failure cancels the session on both ends (§3.1.3.2,
// ES10b CancelSession §5.7.14, ES9+ CancelSession §5.6.5).
//
// The matching ID and the confirmation code never reach a log line.

#include "esimguard/asn1/download.hpp"
#include "esimguard/asn1/authentication.hpp"
#include "esimguard/asn1/bpp.hpp"
#include "esimguard/asn1/cancel_session.hpp"
#include "esimguard/asn1/euicc_info.hpp"
#include "esimguard/asn1/install_result.hpp"
#include "esimguard/crypto/hash.hpp"
#include "esimguard/lpa/lpa.hpp"
#include "esimguard/rsp/activation_code.hpp"
#include "internal.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace esimguard::lpa {

namespace {

constexpr std::uint32_t tag_signature = 0x5F37;
constexpr std::uint32_t tag_octet_string = 0x04;
/// The MAC that ends every BSP segment (SGP.22 §2.6.4.4): 8 bytes.
constexpr std::size_t bsp_mac_size = 8;

std::string_view authenticate_meaning(asn1::authenticate_error_code c) {
    switch (c) {
    case asn1::authenticate_error_code::invalid_certificate:
        return "the SM-DP+ certificate is invalid";
    case asn1::authenticate_error_code::invalid_signature:
        return "the SM-DP+ signature is invalid";
    case asn1::authenticate_error_code::unsupported_curve:
        return "unsupported curve";
    case asn1::authenticate_error_code::no_session_context:
        return "no session context";
    case asn1::authenticate_error_code::invalid_oid:
        return "invalid SM-DP+ OID";
    case asn1::authenticate_error_code::euicc_challenge_mismatch:
        return "eUICC challenge mismatch";
    case asn1::authenticate_error_code::ci_pk_unknown:
        return "unknown CI public key";
    case asn1::authenticate_error_code::undefined_error:
        break;
    }
    return "undefined error";
}

std::string_view download_meaning(asn1::download_error_code c) {
    switch (c) {
    case asn1::download_error_code::invalid_certificate:
        return "the SM-DP+ certificate is invalid";
    case asn1::download_error_code::invalid_signature:
        return "the SM-DP+ signature is invalid";
    case asn1::download_error_code::unsupported_curve:
        return "unsupported curve";
    case asn1::download_error_code::no_session_context:
        return "no session context";
    case asn1::download_error_code::invalid_transaction_id:
        return "invalid transaction ID";
    case asn1::download_error_code::undefined_error:
        break;
    }
    return "undefined error";
}

std::string_view install_meaning(asn1::install_error_reason r) {
    using R = asn1::install_error_reason;
    switch (r) {
    case R::incorrect_input_values:
        return "incorrect input values";
    case R::invalid_signature:
        return "invalid signature";
    case R::invalid_transaction_id:
        return "invalid transaction ID";
    case R::unsupported_crt_values:
        return "unsupported CRT values";
    case R::unsupported_remote_operation_type:
        return "unsupported remote operation type";
    case R::unsupported_profile_class:
        return "unsupported profile class";
    case R::scp03t_structure_error:
        return "SCP03t structure error";
    case R::scp03t_security_error:
        return "SCP03t security error (bad MAC or decryption)";
    case R::install_failed_due_to_iccid_already_exists_on_euicc:
        return "a profile with this ICCID is already installed";
    case R::install_failed_due_to_insufficient_memory_for_profile:
        return "insufficient memory for the profile";
    case R::install_failed_due_to_interruption:
        return "installation interrupted";
    case R::install_failed_due_to_pe_processing_error:
        return "profile element processing error";
    case R::install_failed_due_to_iccid_mismatch:
        return "ICCID mismatch";
    case R::test_profile_install_failed_due_to_invalid_naa_key:
        return "invalid NAA key in a test profile";
    case R::ppr_not_allowed:
        return "profile policy rules not allowed";
    case R::install_failed_due_to_unknown_error:
        break;
    }
    return "unknown error";
}

std::string_view reason_name(asn1::cancel_session_reason r) {
    using R = asn1::cancel_session_reason;
    switch (r) {
    case R::end_user_rejection:
        return "endUserRejection";
    case R::postponed:
        return "postponed";
    case R::timeout:
        return "timeout";
    case R::ppr_not_allowed:
        return "pprNotAllowed";
    case R::metadata_mismatch:
        return "metadataMismatch";
    case R::load_bpp_execution_error:
        return "loadBppExecutionError";
    case R::undefined_reason:
        break;
    }
    return "undefinedReason";
}

/// BF38 AuthenticateServerRequest from the SM-DP+'s exact serverSigned1
/// bytes: the eUICC verifies serverSignature1 over them, so they are relayed,
/// never re-encoded.
bytes authenticate_server_request(const rsp::initiate_authentication_response& ia,
                                  const asn1::ctx_params1& ctx) {
    asn1::writer w;
    w.begin(asn1::tag_authenticate_server);
    w.add_raw(ia.server_signed1_der);
    w.add(tag_signature, ia.server_signature1);
    w.add(tag_octet_string, ia.euicc_ci_pkid_to_be_used);
    w.add_raw(ia.server_certificate);
    w.add_raw(asn1::encode(ctx));
    w.end();
    return std::move(w).finish();
}

/// BF21 PrepareDownloadRequest from the exact smdpSigned2 bytes.
bytes prepare_download_request(const rsp::authenticate_client_response& ac,
                               const std::optional<asn1::hash_cc>& hash) {
    asn1::writer w;
    w.begin(asn1::tag_prepare_download);
    w.add_raw(ac.smdp_signed2_der);
    w.add(tag_signature, ac.smdp_signature2);
    if (hash) {
        w.add(tag_octet_string, *hash);
    }
    w.add_raw(ac.smdp_certificate);
    w.end();
    return std::move(w).finish();
}

/// The StoreMetadataRequest carried by the BPP's 88 segments, which are
/// MAC-only (SGP.22 §2.5.5): each is a piece of plaintext followed by its MAC.
std::optional<asn1::store_metadata_request>
metadata_in_package(const asn1::bound_profile_package& bpp) {
    bytes plain;
    for (const auto& seg : bpp.sequence_of_88) {
        if (seg.size() < bsp_mac_size) {
            return std::nullopt;
        }
        plain.insert(plain.end(), seg.begin(), seg.end() - bsp_mac_size);
    }
    auto m = asn1::decode_store_metadata_request(plain);
    if (!m) {
        return std::nullopt;
    }
    return std::move(*m);
}

} // namespace

bool lpa::cancel_session(std::string_view smdp_address, const bytes& transaction_id,
                         asn1::cancel_session_reason reason) {
    auto log = detail::logger();
    log->info("cancelling the RSP session with reason {}", reason_name(reason));
    auto der = call(asn1::encode(asn1::cancel_session_request{
                        .transaction_id = transaction_id, .reason = reason, .extensions = {}}),
                    "CancelSession");
    if (!der) {
        log->warn("CancelSession on the eUICC failed: {}", der.error().message);
        return false;
    }
    auto r = asn1::decode_cancel_session_response(*der);
    if (!r) {
        log->warn("CancelSession: the eUICC's answer does not decode");
        return false;
    }
    if (const auto* code = std::get_if<asn1::cancel_session_error_code>(&*r)) {
        log->warn("CancelSession: the eUICC answered error {}", static_cast<unsigned>(*code));
        return false;
    }
    auto told = server_.cancel_session(
        smdp_address, rsp::cancel_session_request{.transaction_id = transaction_id,
                                                  .cancel_session_response_der = *der,
                                                  .cancel_session_response = *r});
    if (!told && told.error().status &&
        told.error().status->is(rsp::codes::transaction_id_unknown)) {
        // Unknown transaction: the SM-DP+ ended the session itself when it
        // refused the previous call, as SGP.22 lets it.
        log->info("the SM-DP+ had already ended the session");
    } else if (!told) {
        // The card's session is gone either way; the SM-DP+'s expires on its own.
        log->warn("ES9+ CancelSession failed: {}",
                  describe(detail::server_failure("CancelSession", told.error())));
    }
    return true;
}

result<download_result> lpa::download_profile(const download_request& request,
                                              const download_callbacks& callbacks) {
    auto log = detail::logger();
    const std::string& address = request.smdp_address;
    if (address.empty()) {
        return std::unexpected(
            error{.code = errc::invalid_argument, .message = "no SM-DP+ address given"});
    }
    if (!rsp::is_valid_matching_id(request.matching_id)) {
        return std::unexpected(
            error{.code = errc::invalid_argument,
                  .message = "the matching ID may only contain letters, digits and '-'"});
    }
    log->info("profile download from {}", address);

    // --- Common mutual authentication (SGP.22 §3.1.2) -----------------------
    auto challenge_der = call(asn1::encode_get_euicc_challenge_request(), "GetEUICCChallenge");
    if (!challenge_der) {
        return std::unexpected(challenge_der.error());
    }
    auto challenge = asn1::decode_get_euicc_challenge_response(*challenge_der);
    if (!challenge) {
        return std::unexpected(detail::card_malformed("GetEUICCChallenge", challenge.error()));
    }
    auto info1_der = call(asn1::encode_get_euicc_info1_request(), "GetEUICCInfo1");
    if (!info1_der) {
        return std::unexpected(info1_der.error());
    }
    auto info1 = asn1::decode_euicc_info1(*info1_der);
    if (!info1) {
        return std::unexpected(detail::card_malformed("GetEUICCInfo1", info1.error()));
    }

    auto init = server_.initiate_authentication(
        address, rsp::initiate_authentication_request{.smdp_address = address,
                                                      .euicc_challenge = challenge->euicc_challenge,
                                                      .euicc_info1_der = *info1_der,
                                                      .euicc_info1 = *info1});
    if (!init) {
        // No transaction exists yet on either end: nothing to cancel.
        return std::unexpected(detail::server_failure("InitiateAuthentication", init.error()));
    }
    const bytes transaction_id = init->transaction_id;
    log->info("RSP session txn={}", to_hex_upper(transaction_id));

    // Every failure from here on leaves a session to end on both sides.
    auto fail = [&](error e, asn1::cancel_session_reason reason) -> result<download_result> {
        if (cancel_session(address, transaction_id, reason)) {
            e.cancelled_with = reason;
        }
        return std::unexpected(std::move(e));
    };

    if (init->server_signed1.transaction_id != transaction_id) {
        return std::unexpected(error{
            .code = errc::server_malformed,
            .message =
                "InitiateAuthentication: the signed transaction ID differs from the outer one"});
    }

    asn1::ctx_params1 ctx;
    if (!request.matching_id.empty()) {
        ctx.matching_id = request.matching_id;
    }
    ctx.device = config_.device;
    auto auth_der = call(authenticate_server_request(*init, ctx), "AuthenticateServer");
    if (!auth_der) {
        return fail(auth_der.error(), asn1::cancel_session_reason::undefined_reason);
    }
    auto auth = asn1::decode_authenticate_server_response(*auth_der);
    if (!auth) {
        return fail(detail::card_malformed("AuthenticateServer", auth.error()),
                    asn1::cancel_session_reason::undefined_reason);
    }
    if (const auto* refused = std::get_if<asn1::authenticate_response_error>(&*auth)) {
        // The SM-DP+ learns why through AuthenticateClient, which ends its
        // session (SGP.22 §3.1.2); its answer adds nothing for the user.
        auto relayed = server_.authenticate_client(
            address, rsp::authenticate_client_request{.transaction_id = transaction_id,
                                                      .authenticate_server_response_der = *auth_der,
                                                      .authenticate_server_response = *auth});
        (void)relayed;
        return std::unexpected(detail::card_refused("AuthenticateServer",
                                                    static_cast<std::uint32_t>(refused->code),
                                                    authenticate_meaning(refused->code)));
    }

    auto client = server_.authenticate_client(
        address, rsp::authenticate_client_request{.transaction_id = transaction_id,
                                                  .authenticate_server_response_der = *auth_der,
                                                  .authenticate_server_response = *auth});
    if (!client) {
        return fail(detail::server_failure("AuthenticateClient", client.error()),
                    asn1::cancel_session_reason::undefined_reason);
    }
    if (client->transaction_id != transaction_id ||
        client->smdp_signed2.transaction_id != transaction_id) {
        return fail(error{.code = errc::server_malformed,
                          .message = "AuthenticateClient: the SM-DP+ answered for another "
                                     "transaction"},
                    asn1::cancel_session_reason::undefined_reason);
    }
    log->info("profile offered: ICCID {}, '{}' from '{}'",
              client->profile_metadata.iccid.to_string(), client->profile_metadata.profile_name,
              client->profile_metadata.service_provider_name);

    // --- Download confirmation (SGP.22 §3.1.3.1) ------------------------------
    if (callbacks.confirm_profile && !callbacks.confirm_profile(client->profile_metadata)) {
        return fail(error{.code = errc::declined, .message = "the download was declined"},
                    asn1::cancel_session_reason::end_user_rejection);
    }
    std::optional<asn1::hash_cc> hash;
    if (client->smdp_signed2.cc_required) {
        std::optional<std::string> code = request.confirmation_code;
        if (!code) {
            if (!callbacks.confirmation_code) {
                return fail(error{.code = errc::declined,
                                  .message = "the SM-DP+ requires a confirmation code and none "
                                             "was given"},
                            asn1::cancel_session_reason::postponed);
            }
            code = callbacks.confirmation_code();
            if (!code) {
                return fail(
                    error{.code = errc::declined, .message = "no confirmation code was entered"},
                    asn1::cancel_session_reason::end_user_rejection);
            }
        }
        const bytes h = crypto::confirmation_code_hash(*code, transaction_id);
        asn1::hash_cc value{};
        std::copy_n(h.begin(), std::min(h.size(), value.size()), value.begin());
        hash = value;
    }

    auto prepare_der = call(prepare_download_request(*client, hash), "PrepareDownload");
    if (!prepare_der) {
        return fail(prepare_der.error(), asn1::cancel_session_reason::undefined_reason);
    }
    auto prepare = asn1::decode_prepare_download_response(*prepare_der);
    if (!prepare) {
        return fail(detail::card_malformed("PrepareDownload", prepare.error()),
                    asn1::cancel_session_reason::undefined_reason);
    }
    if (const auto* refused = std::get_if<asn1::prepare_download_response_error>(&*prepare)) {
        // As with AuthenticateServer: the SM-DP+ is told through the next call.
        auto relayed = server_.get_bound_profile_package(
            address,
            rsp::get_bound_profile_package_request{.transaction_id = transaction_id,
                                                   .prepare_download_response_der = *prepare_der,
                                                   .prepare_download_response = *prepare});
        (void)relayed;
        return std::unexpected(detail::card_refused("PrepareDownload",
                                                    static_cast<std::uint32_t>(refused->code),
                                                    download_meaning(refused->code)));
    }

    auto package = server_.get_bound_profile_package(
        address,
        rsp::get_bound_profile_package_request{.transaction_id = transaction_id,
                                               .prepare_download_response_der = *prepare_der,
                                               .prepare_download_response = *prepare});
    if (!package) {
        return fail(detail::server_failure("GetBoundProfilePackage", package.error()),
                    asn1::cancel_session_reason::undefined_reason);
    }

    // --- Installation (SGP.22 §3.1.3.3) ---------------------------------------
    const bytes& bpp_der = package->bound_profile_package_der;
    auto bpp = asn1::decode_bound_profile_package(bpp_der);
    if (!bpp) {
        return fail(error{.code = errc::server_malformed,
                          .message = fmt::format("GetBoundProfilePackage: the bound profile "
                                                 "package does not decode ({})",
                                                 asn1::to_string(bpp.error().code))},
                    asn1::cancel_session_reason::load_bpp_execution_error);
    }
    if (bpp->initialise_secure_channel.transaction_id != transaction_id) {
        return fail(error{.code = errc::server_malformed,
                          .message = "GetBoundProfilePackage: the package belongs to another "
                                     "transaction"},
                    asn1::cancel_session_reason::undefined_reason);
    }
    // The user consented to the profile AuthenticateClient described; a
    // package carrying other metadata is refused before the card sees it.
    if (auto in_package = metadata_in_package(*bpp);
        !in_package || *in_package != client->profile_metadata) {
        return fail(error{.code = errc::metadata_mismatch,
                          .message = "the profile package's metadata differs from the profile "
                                     "the SM-DP+ announced"},
                    asn1::cancel_session_reason::metadata_mismatch);
    }
    auto pieces = asn1::split_bound_profile_package(bpp_der);
    if (!pieces) {
        return fail(error{.code = errc::server_malformed,
                          .message = "GetBoundProfilePackage: the package cannot be split"},
                    asn1::cancel_session_reason::load_bpp_execution_error);
    }

    std::size_t total = 0;
    for (const auto& p : *pieces) {
        total += p.size();
    }
    std::size_t done = 0;
    bytes result_der;
    for (const auto& piece : *pieces) {
        auto answer = call(piece, "LoadBoundProfilePackage");
        if (!answer) {
            return fail(answer.error(), asn1::cancel_session_reason::load_bpp_execution_error);
        }
        done += piece.size();
        if (callbacks.progress) {
            callbacks.progress(done, total);
        }
        if (!answer->empty()) {
            // The ProfileInstallationResult: after the last piece, or earlier
            // when the eUICC stops on an error.
            result_der = std::move(*answer);
            break;
        }
    }
    if (result_der.empty()) {
        return fail(error{.code = errc::card_malformed,
                          .message = "LoadBoundProfilePackage: the eUICC gave no "
                                     "ProfileInstallationResult"},
                    asn1::cancel_session_reason::load_bpp_execution_error);
    }
    auto pir = asn1::decode_profile_installation_result(result_der);
    if (!pir) {
        return std::unexpected(detail::card_malformed("LoadBoundProfilePackage", pir.error()));
    }

    // The result goes to the SM-DP+ whatever it says (SGP.22 §3.1.3.3).
    auto delivered = send_notification(result_der);

    if (const auto* failed = std::get_if<asn1::install_error_result>(&pir->data.final_result)) {
        error e{.code = errc::install_failed,
                .message = fmt::format("the eUICC refused the profile package at step {}: {}",
                                       static_cast<unsigned>(failed->bpp_command),
                                       install_meaning(failed->reason)),
                .card_code = static_cast<std::uint32_t>(failed->reason)};
        return std::unexpected(std::move(e));
    }
    const auto& ok = std::get<asn1::install_success_result>(pir->data.final_result);
    log->info("profile {} installed", client->profile_metadata.iccid.to_string());
    download_result out;
    out.metadata = client->profile_metadata;
    out.transaction_id = transaction_id;
    out.isdp_aid = ok.aid;
    out.notification_sent = delivered.sent && delivered.removed;
    out.notification_failure = delivered.failure;
    return out;
}

} // namespace esimguard::lpa
