// SGP.22 §5.6.1 ES9+.InitiateAuthentication: check the address and version
// the eUICC came with, pick the CI whose DPauth the eUICC can verify, open an
// RSP session in the store and answer with serverSigned1 signed by DPauth.

#include "../context.hpp"

#include <algorithm>
#include <cctype>

namespace esimguard::smdp::procedures {

namespace {

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

bool trusted(const context& ctx, const asn1::key_identifier& pkid) {
    return std::any_of(ctx.anchors.begin(), ctx.anchors.end(),
                       [&](const crypto::certificate& c) { return c.key().key_id() == pkid; });
}

} // namespace

procedure_result<rsp::initiate_authentication_response>
initiate_authentication(const context& ctx, const rsp::initiate_authentication_request& r,
                        call_trace& trace) {
    const auto& client = trace.client;
    const bool ours = std::any_of(ctx.config.addresses.begin(), ctx.config.addresses.end(),
                                  [&](const std::string& a) { return iequals(a, r.smdp_address); });
    if (!ours) {
        ctx.log->info("initiateAuthentication refused: address '{}' is not served here",
                      r.smdp_address.substr(0, 64));
        return std::unexpected(rsp::status(rsp::codes::smdp_address_mismatch));
    }

    const auto& info = r.euicc_info1;
    if (info.svn < ctx.config.min_svn || info.svn[0] > ctx.config.max_svn_major) {
        return std::unexpected(rsp::status::with_detail(
            rsp::codes::svn_unsupported,
            fmt::format("v{}.{}.{}", info.svn[0], info.svn[1], info.svn[2])));
    }

    // The eUICC verifies our DPauth with a CI from its verification list; we
    // verify its chain with a CI from its signing list. Both must be known.
    const ci_credentials* chosen = nullptr;
    bool some_trusted = false;
    for (const auto& pkid : info.ci_pkid_list_for_verification) {
        some_trusted = some_trusted || trusted(ctx, pkid);
        if (!chosen) {
            chosen = ctx.credentials_for(pkid);
        }
    }
    const bool can_verify_euicc =
        std::any_of(info.ci_pkid_list_for_signing.begin(), info.ci_pkid_list_for_signing.end(),
                    [&](const auto& pkid) { return trusted(ctx, pkid); });
    if (!chosen) {
        return std::unexpected(rsp::status(some_trusted
                                               ? rsp::codes::smdp_certificate_unavailable
                                               : rsp::codes::security_configuration_unsupported));
    }
    if (!can_verify_euicc) {
        return std::unexpected(rsp::status(rsp::codes::security_configuration_unsupported));
    }

    auto challenge = ctx.random_bytes(16);
    if (!challenge) {
        return std::unexpected(challenge.error());
    }
    const auto now = ctx.now();
    store::session_record s;
    s.state = store::session_state::initiated;
    s.created_at = now;
    s.updated_at = now;
    s.expires_at = now + ctx.config.session_ttl;
    s.euicc_challenge = to_bytes(r.euicc_challenge);
    s.server_challenge = *challenge;
    s.server_address = r.smdp_address;
    s.ci_pkid = chosen->ci.key().key_id();
    if (!client.address.empty()) {
        s.client_address = client.address;
    }

    // Transaction IDs must never repeat (the store remembers every one); a
    // collision of 128 random bits means a broken source, so give up quickly.
    bytes tid;
    for (int attempt = 0;; ++attempt) {
        auto t = ctx.random_bytes(16);
        if (!t) {
            return std::unexpected(t.error());
        }
        tid = std::move(*t);
        s.transaction_id = to_hex_upper(tid);
        auto created = ctx.db.create_session(s);
        if (created) {
            break;
        }
        if (created.error().code != store::errc::conflict || attempt >= 2) {
            ctx.log->error("session not stored: {}", created.error().message);
            return std::unexpected(detail::internal_error("session store unavailable"));
        }
    }

    asn1::server_signed1 signed1;
    signed1.transaction_id = tid;
    signed1.euicc_challenge = r.euicc_challenge;
    signed1.server_address = r.smdp_address;
    std::copy_n(s.server_challenge.begin(), 16, signed1.server_challenge.begin());
    const bytes signed1_der = asn1::encode(signed1);
    auto sig = chosen->dpauth_signer->sign(signed1_der);
    if (!sig || sig->size() != 64) {
        ctx.log->error("{} DPauth signing failed", detail::session_prefix(s.transaction_id, {}));
        (void)ctx.db.end_session(s.transaction_id, "internal_error", now);
        return std::unexpected(detail::internal_error("signing failed"));
    }

    rsp::initiate_authentication_response out;
    out.transaction_id = tid;
    out.server_signed1_der = signed1_der;
    out.server_signed1 = signed1;
    std::copy_n(sig->begin(), 64, out.server_signature1.begin());
    out.euicc_ci_pkid_to_be_used = s.ci_pkid;
    out.server_certificate = chosen->dpauth_certificate.der();
    ctx.log->info("{} session opened (CI curve {})", detail::session_prefix(s.transaction_id, {}),
                  crypto::to_string(chosen->ci.key_curve()));
    return out;
}

} // namespace esimguard::smdp::procedures
