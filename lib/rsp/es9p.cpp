// ES9+ JSON binding (SGP.22 §5.6 functions, §6.5 JSON encoding): request and
// response bodies of initiateAuthentication, authenticateClient,
// getBoundProfilePackage, handleNotification and cancelSession.

#include "esimguard/rsp/es9p.hpp"

#include "json_fields.hpp"

#include <algorithm>
#include <cctype>

namespace esimguard::rsp {

using detail::guarded;
using detail::guarded_response;
using detail::invalid;
using detail::json;
using detail::malformed;
using detail::missing;
using detail::response_body;

namespace {

// Tag of a raw ECDSA signature inside SGP.22 structures (5F37, 64 bytes).
constexpr std::uint32_t tag_signature = 0x5F37;
constexpr std::uint32_t tag_octet_string = 0x04;
constexpr std::uint32_t tag_sequence = 0x30;
constexpr std::uint32_t tag_bpp = 0xBF36;

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
        s.remove_suffix(1);
    }
    return s;
}

// One TLV filling the field, with the expected tag.
parse_result<asn1::tlv> single_tlv(byte_view der, std::uint32_t tag, const char* field) {
    auto t = asn1::decode_single(der);
    if (!t) {
        return std::unexpected(invalid(field, detail::der_failure(t.error())));
    }
    if (t->tag != tag) {
        return std::unexpected(invalid(field, "has an unexpected tag"));
    }
    return *t;
}

parse_result<asn1::raw_signature> signature_field(const json& o, const char* field) {
    auto b = detail::base64_member(o, field, 128);
    if (!b) {
        return std::unexpected(b.error());
    }
    auto t = single_tlv(*b, tag_signature, field);
    if (!t) {
        return std::unexpected(t.error());
    }
    asn1::raw_signature sig{};
    if (t->value.size() != sig.size()) {
        return std::unexpected(invalid(field, "is not a 64-byte r||s signature"));
    }
    std::copy(t->value.begin(), t->value.end(), sig.begin());
    return sig;
}

parse_result<asn1::der_certificate> certificate_field(const json& o, const char* field) {
    auto b = detail::base64_member(o, field);
    if (!b) {
        return std::unexpected(b.error());
    }
    auto t = single_tlv(*b, tag_sequence, field);
    if (!t) {
        return std::unexpected(t.error());
    }
    return std::move(*b);
}

// Decodes a base64 DER field with an asn1 decoder, keeping the exact bytes.
template <typename Decode>
auto der_field(const json& o, const char* field, Decode&& decode, std::size_t max)
    -> parse_result<std::pair<bytes, typename decltype(decode(byte_view{}))::value_type>> {
    using value_type = typename decltype(decode(byte_view{}))::value_type;
    auto b = detail::base64_member(o, field, max);
    if (!b) {
        return std::unexpected(b.error());
    }
    auto v = decode(byte_view(*b));
    if (!v) {
        return std::unexpected(invalid(field, detail::der_failure(v.error())));
    }
    return std::pair<bytes, value_type>{std::move(*b), std::move(*v)};
}

std::string b64(byte_view v) {
    return to_base64(v);
}

std::string signature_b64(const asn1::raw_signature& sig) {
    return to_base64(asn1::encode(tag_signature, sig));
}

std::string guarded_dump(const json& j) {
    return detail::dump(j);
}

} // namespace

std::string_view to_string(execution_status s) {
    switch (s) {
    case execution_status::executed_success:
        return "Executed-Success";
    case execution_status::executed_with_warning:
        return "Executed-WithWarning";
    case execution_status::failed:
        return "Failed";
    case execution_status::expired:
        return "Expired";
    }
    return "Failed";
}

std::expected<void, status> check_request_headers(std::string_view content_type,
                                                  std::string_view admin_protocol) {
    // "application/json" with optional parameters such as "; charset=UTF-8".
    std::string_view media = content_type.substr(0, content_type.find(';'));
    if (lower(trim(media)) != "application/json") {
        return std::unexpected(status(codes::content_type_invalid));
    }
    const std::string proto = lower(trim(admin_protocol));
    const bool ok = proto.starts_with("gsma/rsp/v2.") || proto.starts_with("gsma/rsp/v3.");
    if (!ok) {
        return std::unexpected(status(codes::admin_protocol_unsupported));
    }
    return {};
}

// --- Requests -------------------------------------------------------------------

parse_result<initiate_authentication_request>
parse_initiate_authentication_request(std::string_view body) {
    return guarded<initiate_authentication_request>(
        [&]() -> parse_result<initiate_authentication_request> {
            auto j = detail::parse_object(body);
            if (!j) {
                return std::unexpected(j.error());
            }
            initiate_authentication_request r;
            auto addr = detail::string_member(*j, "smdpAddress", asn1::address_max);
            if (!addr) {
                return std::unexpected(addr.error());
            }
            if (addr->empty()) {
                return std::unexpected(missing("smdpAddress"));
            }
            r.smdp_address = std::move(*addr);
            auto ch = detail::base64_member(*j, "euiccChallenge", 64);
            if (!ch) {
                return std::unexpected(ch.error());
            }
            if (ch->size() != r.euicc_challenge.size()) {
                return std::unexpected(invalid("euiccChallenge", "is not 16 bytes"));
            }
            std::copy(ch->begin(), ch->end(), r.euicc_challenge.begin());
            auto info =
                der_field(*j, "euiccInfo1", asn1::decode_euicc_info1, detail::max_field_bytes);
            if (!info) {
                return std::unexpected(info.error());
            }
            r.euicc_info1_der = std::move(info->first);
            r.euicc_info1 = std::move(info->second);
            return r;
        });
}

parse_result<authenticate_client_request> parse_authenticate_client_request(std::string_view body) {
    return guarded<authenticate_client_request>([&]() -> parse_result<authenticate_client_request> {
        auto j = detail::parse_object(body);
        if (!j) {
            return std::unexpected(j.error());
        }
        authenticate_client_request r;
        auto tid = detail::transaction_id_member(*j, "transactionId");
        if (!tid) {
            return std::unexpected(tid.error());
        }
        r.transaction_id = std::move(*tid);
        auto asr = der_field(*j, "authenticateServerResponse",
                             asn1::decode_authenticate_server_response, detail::max_field_bytes);
        if (!asr) {
            return std::unexpected(asr.error());
        }
        r.authenticate_server_response_der = std::move(asr->first);
        r.authenticate_server_response = std::move(asr->second);
        return r;
    });
}

parse_result<get_bound_profile_package_request>
parse_get_bound_profile_package_request(std::string_view body) {
    return guarded<get_bound_profile_package_request>(
        [&]() -> parse_result<get_bound_profile_package_request> {
            auto j = detail::parse_object(body);
            if (!j) {
                return std::unexpected(j.error());
            }
            get_bound_profile_package_request r;
            auto tid = detail::transaction_id_member(*j, "transactionId");
            if (!tid) {
                return std::unexpected(tid.error());
            }
            r.transaction_id = std::move(*tid);
            auto pdr = der_field(*j, "prepareDownloadResponse",
                                 asn1::decode_prepare_download_response, detail::max_field_bytes);
            if (!pdr) {
                return std::unexpected(pdr.error());
            }
            r.prepare_download_response_der = std::move(pdr->first);
            r.prepare_download_response = std::move(pdr->second);
            return r;
        });
}

parse_result<handle_notification_request> parse_handle_notification_request(std::string_view body) {
    return guarded<handle_notification_request>([&]() -> parse_result<handle_notification_request> {
        auto j = detail::parse_object(body);
        if (!j) {
            return std::unexpected(j.error());
        }
        handle_notification_request r;
        auto pn = der_field(*j, "pendingNotification", asn1::decode_pending_notification,
                            detail::max_field_bytes);
        if (!pn) {
            return std::unexpected(pn.error());
        }
        r.pending_notification_der = std::move(pn->first);
        r.pending_notification = std::move(pn->second);
        return r;
    });
}

parse_result<cancel_session_request> parse_cancel_session_request(std::string_view body) {
    return guarded<cancel_session_request>([&]() -> parse_result<cancel_session_request> {
        auto j = detail::parse_object(body);
        if (!j) {
            return std::unexpected(j.error());
        }
        cancel_session_request r;
        auto tid = detail::transaction_id_member(*j, "transactionId");
        if (!tid) {
            return std::unexpected(tid.error());
        }
        r.transaction_id = std::move(*tid);
        auto csr = der_field(*j, "cancelSessionResponse", asn1::decode_cancel_session_response,
                             detail::max_field_bytes);
        if (!csr) {
            return std::unexpected(csr.error());
        }
        r.cancel_session_response_der = std::move(csr->first);
        r.cancel_session_response = std::move(csr->second);
        return r;
    });
}

std::string to_json(const initiate_authentication_request& r) {
    return guarded_dump(json{{"smdpAddress", r.smdp_address},
                             {"euiccChallenge", b64(r.euicc_challenge)},
                             {"euiccInfo1", b64(r.euicc_info1_der)}});
}

std::string to_json(const authenticate_client_request& r) {
    return guarded_dump(
        json{{"transactionId", to_hex_upper(r.transaction_id)},
             {"authenticateServerResponse", b64(r.authenticate_server_response_der)}});
}

std::string to_json(const get_bound_profile_package_request& r) {
    return guarded_dump(json{{"transactionId", to_hex_upper(r.transaction_id)},
                             {"prepareDownloadResponse", b64(r.prepare_download_response_der)}});
}

std::string to_json(const handle_notification_request& r) {
    return guarded_dump(json{{"pendingNotification", b64(r.pending_notification_der)}});
}

std::string to_json(const cancel_session_request& r) {
    return guarded_dump(json{{"transactionId", to_hex_upper(r.transaction_id)},
                             {"cancelSessionResponse", b64(r.cancel_session_response_der)}});
}

// --- Responses ------------------------------------------------------------------

std::string to_json(const initiate_authentication_response& r) {
    json j = detail::success_envelope();
    j["transactionId"] = to_hex_upper(r.transaction_id);
    j["serverSigned1"] = b64(r.server_signed1_der);
    j["serverSignature1"] = signature_b64(r.server_signature1);
    j["euiccCiPKIdToBeUsed"] = b64(asn1::encode(tag_octet_string, r.euicc_ci_pkid_to_be_used));
    j["serverCertificate"] = b64(r.server_certificate);
    return guarded_dump(j);
}

std::string to_json(const authenticate_client_response& r) {
    json j = detail::success_envelope();
    j["transactionId"] = to_hex_upper(r.transaction_id);
    j["profileMetadata"] = b64(r.profile_metadata_der);
    j["smdpSigned2"] = b64(r.smdp_signed2_der);
    j["smdpSignature2"] = signature_b64(r.smdp_signature2);
    j["smdpCertificate"] = b64(r.smdp_certificate);
    return guarded_dump(j);
}

std::string to_json(const get_bound_profile_package_response& r) {
    json j = detail::success_envelope();
    j["transactionId"] = to_hex_upper(r.transaction_id);
    j["boundProfilePackage"] = b64(r.bound_profile_package_der);
    return guarded_dump(j);
}

std::string success_response_json() {
    return guarded_dump(detail::success_envelope());
}

std::string failed_response_json(const status& s) {
    function_execution_status fes;
    fes.status = execution_status::failed;
    fes.status_code_data = s;
    return guarded_dump(
        json{{"header", {{"functionExecutionStatus", detail::execution_status_json(fes)}}}});
}

response_result<initiate_authentication_response>
parse_initiate_authentication_response(std::string_view body) {
    return guarded_response<initiate_authentication_response>(
        [&]() -> response_result<initiate_authentication_response> {
            auto j = response_body(body);
            if (!j) {
                return std::unexpected(j.error());
            }
            initiate_authentication_response r;
            auto tid = detail::transaction_id_member(*j, "transactionId");
            if (!tid) {
                return std::unexpected(malformed(tid.error()));
            }
            r.transaction_id = std::move(*tid);
            auto ss1 = der_field(*j, "serverSigned1", asn1::decode_server_signed1,
                                 detail::max_field_bytes);
            if (!ss1) {
                return std::unexpected(malformed(ss1.error()));
            }
            r.server_signed1_der = std::move(ss1->first);
            r.server_signed1 = std::move(ss1->second);
            auto sig = signature_field(*j, "serverSignature1");
            if (!sig) {
                return std::unexpected(malformed(sig.error()));
            }
            r.server_signature1 = *sig;
            auto pk = detail::base64_member(*j, "euiccCiPKIdToBeUsed", 128);
            if (!pk) {
                return std::unexpected(malformed(pk.error()));
            }
            auto pkt = single_tlv(*pk, tag_octet_string, "euiccCiPKIdToBeUsed");
            if (!pkt) {
                return std::unexpected(malformed(pkt.error()));
            }
            if (pkt->value.empty()) {
                return std::unexpected(malformed(invalid("euiccCiPKIdToBeUsed", "is empty")));
            }
            r.euicc_ci_pkid_to_be_used = to_bytes(pkt->value);
            auto cert = certificate_field(*j, "serverCertificate");
            if (!cert) {
                return std::unexpected(malformed(cert.error()));
            }
            r.server_certificate = std::move(*cert);
            return r;
        });
}

response_result<authenticate_client_response>
parse_authenticate_client_response(std::string_view body) {
    return guarded_response<authenticate_client_response>(
        [&]() -> response_result<authenticate_client_response> {
            auto j = response_body(body);
            if (!j) {
                return std::unexpected(j.error());
            }
            authenticate_client_response r;
            auto tid = detail::transaction_id_member(*j, "transactionId");
            if (!tid) {
                return std::unexpected(malformed(tid.error()));
            }
            r.transaction_id = std::move(*tid);
            auto md = der_field(*j, "profileMetadata", asn1::decode_store_metadata_request,
                                detail::max_field_bytes);
            if (!md) {
                return std::unexpected(malformed(md.error()));
            }
            r.profile_metadata_der = std::move(md->first);
            r.profile_metadata = std::move(md->second);
            auto s2 =
                der_field(*j, "smdpSigned2", asn1::decode_smdp_signed2, detail::max_field_bytes);
            if (!s2) {
                return std::unexpected(malformed(s2.error()));
            }
            r.smdp_signed2_der = std::move(s2->first);
            r.smdp_signed2 = std::move(s2->second);
            auto sig = signature_field(*j, "smdpSignature2");
            if (!sig) {
                return std::unexpected(malformed(sig.error()));
            }
            r.smdp_signature2 = *sig;
            auto cert = certificate_field(*j, "smdpCertificate");
            if (!cert) {
                return std::unexpected(malformed(cert.error()));
            }
            r.smdp_certificate = std::move(*cert);
            return r;
        });
}

response_result<get_bound_profile_package_response>
parse_get_bound_profile_package_response(std::string_view body) {
    return guarded_response<get_bound_profile_package_response>(
        [&]() -> response_result<get_bound_profile_package_response> {
            auto j = response_body(body);
            if (!j) {
                return std::unexpected(j.error());
            }
            get_bound_profile_package_response r;
            auto tid = detail::transaction_id_member(*j, "transactionId");
            if (!tid) {
                return std::unexpected(malformed(tid.error()));
            }
            r.transaction_id = std::move(*tid);
            auto bpp = detail::base64_member(*j, "boundProfilePackage", max_body_size);
            if (!bpp) {
                return std::unexpected(malformed(bpp.error()));
            }
            auto t = single_tlv(*bpp, tag_bpp, "boundProfilePackage");
            if (!t) {
                return std::unexpected(malformed(t.error()));
            }
            r.bound_profile_package_der = std::move(*bpp);
            return r;
        });
}

response_result<function_execution_status> parse_header_only_response(std::string_view body) {
    return guarded_response<function_execution_status>(
        [&]() -> response_result<function_execution_status> {
            auto j = detail::parse_object(body);
            if (!j) {
                return std::unexpected(malformed(j.error()));
            }
            return detail::read_response_header(*j);
        });
}

} // namespace esimguard::rsp
