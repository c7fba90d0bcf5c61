// Issuing certificates and CRLs through a `signer` (SGP.22 §4.5.2 profiles).
//
// OpenSSL's X509_sign wants the private key in the process. To go through a
// signer (whose key may sit in an HSM) the to-be-signed part is encoded here,
// signed with signer::sign_der, and the Certificate / CertificateList
// SEQUENCE { tbs, algorithm, BIT STRING signature } is assembled by hand.

#include "esimguard/crypto/cert_builder.hpp"
#include "x509_internal.hpp"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>

#include <algorithm>
#include <string>

namespace esimguard::crypto {

namespace {

using x509_name_ptr = std::unique_ptr<X509_NAME, ossl_deleter<X509_NAME_free>>;
using x509_ext_ptr = std::unique_ptr<X509_EXTENSION, ossl_deleter<X509_EXTENSION_free>>;
using asn1_time_ptr = std::unique_ptr<ASN1_TIME, ossl_deleter<ASN1_TIME_free>>;
using asn1_int_ptr = std::unique_ptr<ASN1_INTEGER, ossl_deleter<ASN1_INTEGER_free>>;
using octet_ptr = std::unique_ptr<ASN1_OCTET_STRING, ossl_deleter<ASN1_OCTET_STRING_free>>;
using akid_ptr = std::unique_ptr<AUTHORITY_KEYID, ossl_deleter<AUTHORITY_KEYID_free>>;
using nc_ptr = std::unique_ptr<NAME_CONSTRAINTS, ossl_deleter<NAME_CONSTRAINTS_free>>;
using asn1_obj_ptr = std::unique_ptr<ASN1_OBJECT, ossl_deleter<ASN1_OBJECT_free>>;
using revoked_ptr = std::unique_ptr<X509_REVOKED, ossl_deleter<X509_REVOKED_free>>;

// AlgorithmIdentifier { ecdsa-with-SHA256 } with absent parameters (RFC 5758 §3.2).
constexpr std::uint8_t ecdsa_sha256_algid[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
                                               0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};

std::unexpected<error> fail(errc code, std::string what) {
    return std::unexpected(error{code, std::move(what) + ": " + openssl_error_string()});
}

std::unexpected<error> refuse(std::string what) {
    return std::unexpected(error{errc::invalid_certificate, std::move(what)});
}

bool is_oid(std::string_view s) {
    if (s.empty() || s.front() == '.' || s.back() == '.' || s.find("..") != s.npos) {
        return false;
    }
    return std::all_of(s.begin(), s.end(),
                       [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

bool is_dns_name(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '-' || c == '*';
    });
}

// URIs go through OpenSSL's "URI:a,URI:b" syntax: a comma would split one.
bool is_safe_uri(std::string_view s) {
    return !s.empty() && std::none_of(s.begin(), s.end(), [](char c) {
        return c == ',' || c == '\n' || c == '\r' || c == ' ';
    });
}

std::string join(const std::vector<std::string>& items, std::string_view prefix) {
    std::string out;
    for (const auto& i : items) {
        if (!out.empty()) {
            out += ',';
        }
        out += prefix;
        out += i;
    }
    return out;
}

result<x509_name_ptr> make_name(const distinguished_name& dn) {
    x509_name_ptr name(X509_NAME_new());
    if (!name) {
        return fail(errc::internal, "X509_NAME_new");
    }
    for (const auto& a : dn) {
        if (X509_NAME_add_entry_by_txt(name.get(), a.type.c_str(), MBSTRING_UTF8,
                                       reinterpret_cast<const unsigned char*>(a.value.data()),
                                       static_cast<int>(a.value.size()), -1, 0) != 1) {
            return fail(errc::invalid_certificate,
                        "name attribute " + a.type + "=" + a.value + " refused");
        }
    }
    return name;
}

result<asn1_time_ptr> make_time(sys_seconds t) {
    asn1_time_ptr out(ASN1_TIME_set(nullptr, static_cast<time_t>(t.time_since_epoch().count())));
    if (!out) {
        return fail(errc::invalid_certificate, "time out of range");
    }
    return out;
}

result<asn1_int_ptr> make_serial(byte_view serial) {
    if (serial.empty() || serial.size() > 20 ||
        std::all_of(serial.begin(), serial.end(), [](std::uint8_t b) { return b == 0; })) {
        return refuse("serial must be 1..20 bytes and positive");
    }
    bn_ptr bn(BN_bin2bn(serial.data(), static_cast<int>(serial.size()), nullptr));
    asn1_int_ptr out(bn ? BN_to_ASN1_INTEGER(bn.get(), nullptr) : nullptr);
    if (!out) {
        return fail(errc::internal, "serial");
    }
    return out;
}

result<octet_ptr> make_octets(byte_view v) {
    octet_ptr os(ASN1_OCTET_STRING_new());
    if (!os || ASN1_OCTET_STRING_set(os.get(), v.data(), static_cast<int>(v.size())) != 1) {
        return fail(errc::internal, "octet string");
    }
    return os;
}

// An extension from OpenSSL's configuration syntax ("critical,CA:TRUE").
// Callers vet every value first, so that no input can reach "@section" syntax.
result<void> add_conf_ext(X509* x, X509V3_CTX* ctx, int nid, const std::string& value) {
    x509_ext_ptr ext(X509V3_EXT_nconf_nid(nullptr, ctx, nid, value.c_str()));
    if (!ext || X509_add_ext(x, ext.get(), -1) != 1) {
        return fail(errc::invalid_certificate,
                    std::string("extension ") + OBJ_nid2sn(nid) + " = " + value);
    }
    return {};
}

// certificatePolicies, critical as SGP.22 §4.5.2 marks it; built directly
// because OpenSSL's text form needs a configuration database.
result<void> add_policies(X509* x, const std::vector<std::string>& oids) {
    using policies_ptr =
        std::unique_ptr<CERTIFICATEPOLICIES, ossl_deleter<CERTIFICATEPOLICIES_free>>;
    policies_ptr pol(sk_POLICYINFO_new_null());
    if (!pol) {
        return fail(errc::internal, "certificatePolicies");
    }
    for (const auto& oid : oids) {
        POLICYINFO* info = POLICYINFO_new();
        if (info == nullptr || sk_POLICYINFO_push(pol.get(), info) == 0) {
            POLICYINFO_free(info);
            return fail(errc::internal, "certificatePolicies");
        }
        ASN1_OBJECT_free(info->policyid);
        info->policyid = OBJ_txt2obj(oid.c_str(), 1);
        if (info->policyid == nullptr) {
            return fail(errc::invalid_certificate, "policy OID " + oid);
        }
    }
    if (X509_add1_ext_i2d(x, NID_certificate_policies, pol.get(), 1, X509V3_ADD_DEFAULT) != 1) {
        return fail(errc::internal, "certificatePolicies");
    }
    return {};
}

std::string key_usage_text(unsigned ku) {
    const std::pair<unsigned, const char*> names[] = {
        {key_usage::digital_signature, "digitalSignature"},
        {key_usage::non_repudiation, "nonRepudiation"},
        {key_usage::key_encipherment, "keyEncipherment"},
        {key_usage::data_encipherment, "dataEncipherment"},
        {key_usage::key_agreement, "keyAgreement"},
        {key_usage::key_cert_sign, "keyCertSign"},
        {key_usage::crl_sign, "cRLSign"},
    };
    std::string out = "critical";
    for (auto [bit, name] : names) {
        if ((ku & bit) != 0) {
            out += ',';
            out += name;
        }
    }
    return out;
}

// nameConstraints { permittedSubtrees { directoryName { O, serialNumber = prefix } } },
// the form of SGP.22 v2 EUM certificates.
result<void> add_name_constraints(X509* x, const std::vector<std::string>& prefixes,
                                  const distinguished_name& subject) {
    nc_ptr nc(NAME_CONSTRAINTS_new());
    if (!nc) {
        return fail(errc::internal, "NAME_CONSTRAINTS_new");
    }
    nc->permittedSubtrees = sk_GENERAL_SUBTREE_new_null();
    for (const auto& prefix : prefixes) {
        distinguished_name dn;
        for (const auto& a : subject) {
            if (a.type == "O") {
                dn.push_back(a);
            }
        }
        dn.push_back({"serialNumber", prefix});
        auto name = make_name(dn);
        if (!name) {
            return std::unexpected(name.error());
        }
        GENERAL_SUBTREE* st = GENERAL_SUBTREE_new();
        if (st == nullptr || sk_GENERAL_SUBTREE_push(nc->permittedSubtrees, st) == 0) {
            GENERAL_SUBTREE_free(st);
            return fail(errc::internal, "GENERAL_SUBTREE");
        }
        if (st->base == nullptr) {
            st->base = GENERAL_NAME_new();
        }
        GENERAL_NAME_set0_value(st->base, GEN_DIRNAME, name->release());
    }
    if (X509_add1_ext_i2d(x, NID_name_constraints, nc.get(), 1, X509V3_ADD_DEFAULT) != 1) {
        return fail(errc::internal, "nameConstraints");
    }
    return {};
}

// permittedEins ::= SEQUENCE OF PrintableString (SGP.22 v3 §4.5.2.1.0.2),
// non-critical so that generic verifiers can still walk the chain.
result<void> add_permitted_eins(X509* x, const std::vector<std::string>& prefixes) {
    bytes content;
    for (const auto& p : prefixes) {
        auto s = der_wrap(0x13, as_bytes(p));
        content.insert(content.end(), s.begin(), s.end());
    }
    auto der = der_wrap(0x30, content);
    auto os = make_octets(der);
    if (!os) {
        return std::unexpected(os.error());
    }
    asn1_obj_ptr obj(OBJ_txt2obj(std::string(permitted_eins_oid).c_str(), 1));
    x509_ext_ptr ext(obj ? X509_EXTENSION_create_by_OBJ(nullptr, obj.get(), 0, os->get())
                         : nullptr);
    if (!ext || X509_add_ext(x, ext.get(), -1) != 1) {
        return fail(errc::internal, "permittedEins");
    }
    return {};
}

// A key used only to make OpenSSL fill in the signature AlgorithmIdentifier
// inside the to-be-signed part; its signature is thrown away and replaced.
result<pkey_ptr> placeholder_key(curve c) {
    const char* group = c == curve::nist_p256 ? "P-256" : "brainpoolP256r1";
    pkey_ptr key(EVP_EC_gen(group));
    if (!key) {
        return fail(errc::internal, "placeholder key");
    }
    return key;
}

// SEQUENCE { tbs, ecdsa-with-SHA256, BIT STRING (0 unused bits) signature }.
bytes assemble_signed(byte_view tbs, byte_view signature) {
    bytes bits{0x00};
    bits.insert(bits.end(), signature.begin(), signature.end());
    auto bit_string = der_wrap(0x03, bits);
    return der_wrap(0x30, concat({tbs, ecdsa_sha256_algid, bit_string}));
}

result<void> check_signer(const signer& s, const public_key& expected) {
    if (s.key_curve() != expected.key_curve()) {
        return std::unexpected(
            error{errc::unsupported_curve, "signer is on another curve than the issuer"});
    }
    if (s.public_part().point() != expected.point()) {
        return std::unexpected(error{errc::invalid_key, "signer does not hold the issuer's key"});
    }
    return {};
}

} // namespace

result<certificate> issue_certificate(const cert_request& request,
                                      const std::optional<certificate>& issuer,
                                      const signer& issuer_signer) {
    const public_key issuer_key = issuer ? issuer->key() : request.subject_key;
    if (auto ok = check_signer(issuer_signer, issuer_key); !ok) {
        return std::unexpected(ok.error());
    }
    for (const auto& oid : request.policy_oids) {
        if (!is_oid(oid)) {
            return refuse("bad policy OID " + oid);
        }
    }
    for (const auto& oid : request.extended_key_usage_oids) {
        if (!is_oid(oid)) {
            return refuse("bad extendedKeyUsage OID " + oid);
        }
    }
    for (const auto& oid : request.registered_ids) {
        if (!is_oid(oid)) {
            return refuse("bad registeredID " + oid);
        }
    }
    for (const auto& dns : request.dns_names) {
        if (!is_dns_name(dns)) {
            return refuse("bad DNS name " + dns);
        }
    }
    for (const auto& uri : request.crl_distribution_points) {
        if (!is_safe_uri(uri)) {
            return refuse("bad CRL distribution point " + uri);
        }
    }
    for (const auto& p : request.permitted_eid_prefixes) {
        if (p.empty() || p.size() > 32 ||
            !std::all_of(p.begin(), p.end(), [](char c) { return c >= '0' && c <= '9'; })) {
            return refuse("EID prefix must be 1..32 digits: " + p);
        }
    }
    if (request.not_after < request.not_before) {
        return refuse("notAfter before notBefore");
    }

    x509_ptr x(X509_new());
    if (!x || X509_set_version(x.get(), X509_VERSION_3) != 1) {
        return fail(errc::internal, "X509_new");
    }
    auto serial = make_serial(request.serial);
    if (!serial) {
        return std::unexpected(serial.error());
    }
    auto subject = make_name(request.subject);
    if (!subject) {
        return std::unexpected(subject.error());
    }
    auto nb = make_time(request.not_before);
    auto na = make_time(request.not_after);
    if (!nb || !na) {
        return std::unexpected(!nb ? nb.error() : na.error());
    }
    const X509_NAME* issuer_name =
        issuer ? X509_get_subject_name(issuer->internals().x.get()) : subject->get();
    if (X509_set_serialNumber(x.get(), serial->get()) != 1 ||
        X509_set_subject_name(x.get(), subject->get()) != 1 ||
        X509_set_issuer_name(x.get(), issuer_name) != 1 ||
        X509_set1_notBefore(x.get(), nb->get()) != 1 ||
        X509_set1_notAfter(x.get(), na->get()) != 1 ||
        X509_set_pubkey(x.get(), request.subject_key.internals().key.get()) != 1) {
        return fail(errc::internal, "certificate fields");
    }

    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer ? issuer->internals().x.get() : x.get(), x.get(), nullptr, nullptr,
                   0);

    std::string bc = request.is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE";
    if (request.is_ca && request.path_len) {
        bc += ",pathlen:" + std::to_string(*request.path_len);
    }
    // SGP.22 leaves basicConstraints out of end-entity certificates but an
    // explicit cA=FALSE is harmless; CA certificates must carry it.
    if (request.is_ca) {
        if (auto r = add_conf_ext(x.get(), &ctx, NID_basic_constraints, bc); !r) {
            return std::unexpected(r.error());
        }
    }
    if (request.key_usage != 0) {
        if (auto r = add_conf_ext(x.get(), &ctx, NID_key_usage, key_usage_text(request.key_usage));
            !r) {
            return std::unexpected(r.error());
        }
    }
    if (!request.policy_oids.empty()) {
        if (auto r = add_policies(x.get(), request.policy_oids); !r) {
            return std::unexpected(r.error());
        }
    }
    if (!request.extended_key_usage_oids.empty()) {
        if (auto r = add_conf_ext(x.get(), &ctx, NID_ext_key_usage,
                                  "critical," + join(request.extended_key_usage_oids, ""));
            !r) {
            return std::unexpected(r.error());
        }
    }
    auto ski = make_octets(request.subject_key.key_id());
    if (!ski || X509_add1_ext_i2d(x.get(), NID_subject_key_identifier, ski->get(), 0,
                                  X509V3_ADD_DEFAULT) != 1) {
        return fail(errc::internal, "subjectKeyIdentifier");
    }
    // A self-signed CI names itself through its SKI; SGP.26 CI certificates
    // carry no AKI, and RFC 5280 §4.2.1.1 allows leaving it out.
    if (issuer) {
        akid_ptr akid(AUTHORITY_KEYID_new());
        auto id = make_octets(issuer->subject_key_id().value_or(issuer->key().key_id()));
        if (!akid || !id) {
            return fail(errc::internal, "authorityKeyIdentifier");
        }
        akid->keyid = id->release();
        if (X509_add1_ext_i2d(x.get(), NID_authority_key_identifier, akid.get(), 0,
                              X509V3_ADD_DEFAULT) != 1) {
            return fail(errc::internal, "authorityKeyIdentifier");
        }
    }
    if (!request.dns_names.empty() || !request.registered_ids.empty()) {
        std::string san = join(request.dns_names, "DNS:");
        if (!request.registered_ids.empty()) {
            san += (san.empty() ? "" : ",") + join(request.registered_ids, "RID:");
        }
        if (auto r = add_conf_ext(x.get(), &ctx, NID_subject_alt_name, san); !r) {
            return std::unexpected(r.error());
        }
    }
    if (!request.permitted_eid_prefixes.empty()) {
        auto r =
            request.eid_form == eid_range_form::permitted_eins
                ? add_permitted_eins(x.get(), request.permitted_eid_prefixes)
                : add_name_constraints(x.get(), request.permitted_eid_prefixes, request.subject);
        if (!r) {
            return std::unexpected(r.error());
        }
    }
    if (!request.crl_distribution_points.empty()) {
        if (auto r = add_conf_ext(x.get(), &ctx, NID_crl_distribution_points,
                                  join(request.crl_distribution_points, "URI:"));
            !r) {
            return std::unexpected(r.error());
        }
    }

    auto placeholder = placeholder_key(issuer_key.key_curve());
    if (!placeholder) {
        return std::unexpected(placeholder.error());
    }
    if (X509_sign(x.get(), placeholder->get(), EVP_sha256()) <= 0) {
        return fail(errc::internal, "encoding the certificate");
    }
    unsigned char* tbs_raw = nullptr;
    const int tbs_len = i2d_re_X509_tbs(x.get(), &tbs_raw);
    if (tbs_len <= 0) {
        return fail(errc::internal, "encoding tbsCertificate");
    }
    bytes tbs(tbs_raw, tbs_raw + tbs_len);
    OPENSSL_free(tbs_raw);

    auto sig = issuer_signer.sign_der(tbs);
    if (!sig) {
        return std::unexpected(sig.error());
    }
    auto cert = certificate::from_der(assemble_signed(tbs, *sig));
    if (!cert) {
        return cert;
    }
    // A signer that returns a wrong signature would otherwise be found out only
    // by whoever validates the certificate later.
    if (X509_verify(cert->internals().x.get(), issuer_key.internals().key.get()) != 1) {
        return fail(errc::internal, "the signer produced a signature that does not verify");
    }
    return cert;
}

result<crl> issue_crl(const crl_request& request, const certificate& issuer,
                      const signer& issuer_signer) {
    if (auto ok = check_signer(issuer_signer, issuer.key()); !ok) {
        return std::unexpected(ok.error());
    }
    x509_crl_ptr l(X509_CRL_new());
    auto tu = make_time(request.this_update);
    auto nu = make_time(request.next_update);
    if (!tu || !nu) {
        return std::unexpected(!tu ? tu.error() : nu.error());
    }
    if (!l || X509_CRL_set_version(l.get(), X509_CRL_VERSION_2) != 1 ||
        X509_CRL_set_issuer_name(l.get(), X509_get_subject_name(issuer.internals().x.get())) != 1 ||
        X509_CRL_set1_lastUpdate(l.get(), tu->get()) != 1 ||
        X509_CRL_set1_nextUpdate(l.get(), nu->get()) != 1) {
        return fail(errc::internal, "CRL fields");
    }
    for (const auto& entry : request.revoked) {
        auto serial = make_serial(entry.serial);
        if (!serial) {
            return std::unexpected(serial.error());
        }
        auto when = make_time(entry.when);
        if (!when) {
            return std::unexpected(when.error());
        }
        revoked_ptr r(X509_REVOKED_new());
        if (!r || X509_REVOKED_set_serialNumber(r.get(), serial->get()) != 1 ||
            X509_REVOKED_set_revocationDate(r.get(), when->get()) != 1 ||
            X509_CRL_add0_revoked(l.get(), r.get()) != 1) {
            return fail(errc::internal, "revoked entry");
        }
        r.release(); // now owned by the CRL
    }
    akid_ptr akid(AUTHORITY_KEYID_new());
    auto id = make_octets(issuer.subject_key_id().value_or(issuer.key().key_id()));
    if (!akid || !id) {
        return fail(errc::internal, "authorityKeyIdentifier");
    }
    akid->keyid = id->release();
    asn1_int_ptr number(ASN1_INTEGER_new());
    if (!number || ASN1_INTEGER_set_uint64(number.get(), request.number) != 1 ||
        X509_CRL_add1_ext_i2d(l.get(), NID_authority_key_identifier, akid.get(), 0,
                              X509V3_ADD_DEFAULT) != 1 ||
        X509_CRL_add1_ext_i2d(l.get(), NID_crl_number, number.get(), 0, X509V3_ADD_DEFAULT) != 1) {
        return fail(errc::internal, "CRL extensions");
    }
    X509_CRL_sort(l.get());

    auto placeholder = placeholder_key(issuer.key_curve());
    if (!placeholder) {
        return std::unexpected(placeholder.error());
    }
    if (X509_CRL_sign(l.get(), placeholder->get(), EVP_sha256()) <= 0) {
        return fail(errc::internal, "encoding the CRL");
    }
    unsigned char* tbs_raw = nullptr;
    const int tbs_len = i2d_re_X509_CRL_tbs(l.get(), &tbs_raw);
    if (tbs_len <= 0) {
        return fail(errc::internal, "encoding tbsCertList");
    }
    bytes tbs(tbs_raw, tbs_raw + tbs_len);
    OPENSSL_free(tbs_raw);

    auto sig = issuer_signer.sign_der(tbs);
    if (!sig) {
        return std::unexpected(sig.error());
    }
    auto out = crl::from_der(assemble_signed(tbs, *sig));
    if (out && !out->signed_by(issuer.key())) {
        return fail(errc::internal, "the signer produced a CRL signature that does not verify");
    }
    return out;
}

} // namespace esimguard::crypto
