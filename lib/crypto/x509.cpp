// X.509 certificates and CRLs: parsing and the fields SGP.22 §4.5.2 relies on.

#include "x509_internal.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include <cstring>
#include <optional>
#include <string>

namespace esimguard::crypto {

namespace {

using name_constraints_ptr = std::unique_ptr<NAME_CONSTRAINTS, ossl_deleter<NAME_CONSTRAINTS_free>>;
using policies_ptr = std::unique_ptr<CERTIFICATEPOLICIES, ossl_deleter<CERTIFICATEPOLICIES_free>>;
using eku_ptr = std::unique_ptr<EXTENDED_KEY_USAGE, ossl_deleter<EXTENDED_KEY_USAGE_free>>;
using general_names_ptr = std::unique_ptr<GENERAL_NAMES, ossl_deleter<GENERAL_NAMES_free>>;
using bio_mem_ptr = std::unique_ptr<BIO, ossl_deleter<BIO_free>>;

error cert_error(std::string what) {
    return error{errc::invalid_certificate, std::move(what) + ": " + openssl_error_string()};
}

std::string name_text(const X509_NAME* name) {
    bio_mem_ptr bio(BIO_new(BIO_s_mem()));
    if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) {
        return {};
    }
    char* data = nullptr;
    long n = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(n));
}

std::string oid_text(const ASN1_OBJECT* obj) {
    char buf[128];
    int n = OBJ_obj2txt(buf, sizeof buf, obj, 1);
    if (n <= 0 || static_cast<std::size_t>(n) >= sizeof buf) {
        return {};
    }
    return std::string(buf, static_cast<std::size_t>(n));
}

std::string string_of(const ASN1_STRING* s) {
    return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                       static_cast<std::size_t>(ASN1_STRING_length(s)));
}

std::string to_pem_text(std::string_view label, byte_view der) {
    std::string b64 = to_base64(der);
    std::string out = "-----BEGIN " + std::string(label) + "-----\n";
    for (std::size_t i = 0; i < b64.size(); i += 64) {
        out += b64.substr(i, 64);
        out += '\n';
    }
    out += "-----END " + std::string(label) + "-----\n";
    return out;
}

// Finds the body of the first PEM block labelled `label` at or after `from`;
// returns its DER and the position after its END line.
std::optional<std::pair<bytes, std::size_t>> pem_block(std::string_view pem, std::string_view label,
                                                       std::size_t from) {
    const std::string begin = "-----BEGIN " + std::string(label) + "-----";
    const std::string end = "-----END " + std::string(label) + "-----";
    auto b = pem.find(begin, from);
    if (b == std::string_view::npos) {
        return std::nullopt;
    }
    auto e = pem.find(end, b + begin.size());
    if (e == std::string_view::npos) {
        return std::nullopt;
    }
    std::string body;
    for (char ch : pem.substr(b + begin.size(), e - b - begin.size())) {
        if (ch != '\n' && ch != '\r' && ch != ' ' && ch != '\t') {
            body += ch;
        }
    }
    auto der = from_base64(body);
    if (!der) {
        return std::nullopt;
    }
    return std::pair{std::move(*der), e + end.size()};
}

const ASN1_OBJECT* permitted_eins_object() {
    // OBJ_txt2obj allocates; one shared object is enough for the process.
    static const ASN1_OBJECT* obj = OBJ_txt2obj(std::string(permitted_eins_oid).c_str(), 1);
    return obj;
}

} // namespace

std::optional<sys_seconds> to_sys_seconds(const ASN1_TIME* t) {
    std::tm tm{};
    if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) {
        return std::nullopt;
    }
    using namespace std::chrono;
    const year_month_day ymd{year{tm.tm_year + 1900}, month{static_cast<unsigned>(tm.tm_mon + 1)},
                             day{static_cast<unsigned>(tm.tm_mday)}};
    return sys_days{ymd} + hours{tm.tm_hour} + minutes{tm.tm_min} + seconds{tm.tm_sec};
}

bytes der_wrap(std::uint8_t tag, byte_view content) {
    bytes out{tag};
    const std::size_t n = content.size();
    if (n < 0x80) {
        out.push_back(static_cast<std::uint8_t>(n));
    } else {
        bytes len;
        for (std::size_t v = n; v != 0; v >>= 8) {
            len.insert(len.begin(), static_cast<std::uint8_t>(v & 0xff));
        }
        out.push_back(static_cast<std::uint8_t>(0x80 | len.size()));
        out.insert(out.end(), len.begin(), len.end());
    }
    out.insert(out.end(), content.begin(), content.end());
    return out;
}

std::string_view to_string(cert_role r) {
    switch (r) {
    case cert_role::ci:
        return "CI";
    case cert_role::eum:
        return "EUM";
    case cert_role::euicc:
        return "eUICC";
    case cert_role::dp_tls:
        return "DPtls";
    case cert_role::dp_auth:
        return "DPauth";
    case cert_role::dp_pb:
        return "DPpb";
    }
    return "?";
}

std::string_view policy_oid(cert_role r) {
    // id-rspRole (SGP.22 §A.2), the v2 values that GSMA-issued certificates use.
    switch (r) {
    case cert_role::ci:
        return "2.23.146.1.2.1.0";
    case cert_role::euicc:
        return "2.23.146.1.2.1.1";
    case cert_role::eum:
        return "2.23.146.1.2.1.2";
    case cert_role::dp_tls:
        return "2.23.146.1.2.1.3";
    case cert_role::dp_auth:
        return "2.23.146.1.2.1.4";
    case cert_role::dp_pb:
        return "2.23.146.1.2.1.5";
    }
    return "";
}

// ---- certificate ----------------------------------------------------------

namespace {

// Parsing a certificate costs OpenSSL 3 more than verifying a signature (its
// public key goes through the provider decoders). An SM-DP+ parses the same
// EUM certificate in every download and each eUICC's certificate in every
// call of its session, so recent successful parses are kept. A parsed
// certificate is immutable and the DER is compared in full, so a hit returns
// exactly what a fresh parse would. FIFO eviction keeps it bounded.
recent_fifo<certificate>& recent_certificates() {
    static recent_fifo<certificate> cache(1024);
    return cache;
}

std::string_view as_key(byte_view der) {
    return {reinterpret_cast<const char*>(der.data()), der.size()};
}

} // namespace

result<certificate> certificate::from_der(byte_view der) {
    if (auto hit = recent_certificates().find(as_key(der))) {
        return *hit;
    }
    const unsigned char* p = der.data();
    x509_ptr x(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
    if (!x) {
        return std::unexpected(cert_error("not a DER certificate"));
    }
    if (p != der.data() + der.size()) {
        return std::unexpected(
            error{errc::invalid_certificate, "trailing bytes after certificate"});
    }
    // Computes the cached extension flags now, so that const accessors and
    // concurrent readers never trigger OpenSSL's lazy caching.
    if (X509_check_purpose(x.get(), -1, 0) != 1 ||
        (X509_get_extension_flags(x.get()) & EXFLAG_INVALID) != 0) {
        return std::unexpected(cert_error("certificate with invalid extensions"));
    }
    pkey_ptr pk(X509_get_pubkey(x.get()));
    if (!pk) {
        return std::unexpected(cert_error("certificate without a readable public key"));
    }
    auto key = wrap_public(std::move(pk));
    if (!key) {
        return std::unexpected(key.error());
    }
    auto im = std::make_shared<impl>(impl{std::move(x), to_bytes(der), std::move(*key)});
    certificate out(std::move(im));
    recent_certificates().add(std::string(as_key(out.der())), out);
    return out;
}

result<certificate> certificate::from_pem(std::string_view pem) {
    auto block = pem_block(pem, "CERTIFICATE", 0);
    if (!block) {
        return std::unexpected(error{errc::invalid_certificate, "no PEM CERTIFICATE block"});
    }
    return from_der(block->first);
}

result<std::vector<certificate>> certificate::all_from_pem(std::string_view pem) {
    std::vector<certificate> out;
    std::size_t pos = 0;
    while (auto block = pem_block(pem, "CERTIFICATE", pos)) {
        auto c = from_der(block->first);
        if (!c) {
            return std::unexpected(c.error());
        }
        out.push_back(std::move(*c));
        pos = block->second;
    }
    if (out.empty()) {
        return std::unexpected(error{errc::invalid_certificate, "no PEM CERTIFICATE block"});
    }
    return out;
}

const bytes& certificate::der() const {
    return p_->der;
}
std::string certificate::pem() const {
    return to_pem_text("CERTIFICATE", p_->der);
}
std::string certificate::subject() const {
    return name_text(X509_get_subject_name(p_->x.get()));
}
std::string certificate::issuer() const {
    return name_text(X509_get_issuer_name(p_->x.get()));
}

bytes certificate::serial() const {
    const ASN1_INTEGER* s = X509_get0_serialNumber(p_->x.get());
    bytes out(ASN1_STRING_get0_data(s), ASN1_STRING_get0_data(s) + ASN1_STRING_length(s));
    while (out.size() > 1 && out.front() == 0) {
        out.erase(out.begin());
    }
    return out;
}

sys_seconds certificate::not_before() const {
    // from_der succeeded, so OpenSSL parsed the times; the fallback is unreachable.
    return to_sys_seconds(X509_get0_notBefore(p_->x.get())).value_or(sys_seconds::max());
}

sys_seconds certificate::not_after() const {
    return to_sys_seconds(X509_get0_notAfter(p_->x.get())).value_or(sys_seconds::min());
}

public_key certificate::key() const {
    return p_->key;
}
curve certificate::key_curve() const {
    return p_->key.key_curve();
}

std::optional<bytes> certificate::subject_key_id() const {
    const ASN1_OCTET_STRING* s = X509_get0_subject_key_id(p_->x.get());
    if (s == nullptr) {
        return std::nullopt;
    }
    return bytes(ASN1_STRING_get0_data(s), ASN1_STRING_get0_data(s) + ASN1_STRING_length(s));
}

std::optional<bytes> certificate::authority_key_id() const {
    const ASN1_OCTET_STRING* s = X509_get0_authority_key_id(p_->x.get());
    if (s == nullptr) {
        return std::nullopt;
    }
    return bytes(ASN1_STRING_get0_data(s), ASN1_STRING_get0_data(s) + ASN1_STRING_length(s));
}

std::vector<std::string> certificate::policy_oids() const {
    std::vector<std::string> out;
    policies_ptr pol(static_cast<CERTIFICATEPOLICIES*>(
        X509_get_ext_d2i(p_->x.get(), NID_certificate_policies, nullptr, nullptr)));
    if (!pol) {
        return out;
    }
    for (int i = 0; i < sk_POLICYINFO_num(pol.get()); ++i) {
        out.push_back(oid_text(sk_POLICYINFO_value(pol.get(), i)->policyid));
    }
    return out;
}

std::optional<unsigned> certificate::key_usage_bits() const {
    if ((X509_get_extension_flags(p_->x.get()) & EXFLAG_KUSAGE) == 0) {
        return std::nullopt;
    }
    const std::uint32_t ku = X509_get_key_usage(p_->x.get());
    unsigned out = 0;
    const std::pair<std::uint32_t, unsigned> map[] = {
        {KU_DIGITAL_SIGNATURE, key_usage::digital_signature},
        {KU_NON_REPUDIATION, key_usage::non_repudiation},
        {KU_KEY_ENCIPHERMENT, key_usage::key_encipherment},
        {KU_DATA_ENCIPHERMENT, key_usage::data_encipherment},
        {KU_KEY_AGREEMENT, key_usage::key_agreement},
        {KU_KEY_CERT_SIGN, key_usage::key_cert_sign},
        {KU_CRL_SIGN, key_usage::crl_sign},
    };
    for (auto [ossl, ours] : map) {
        if ((ku & ossl) != 0) {
            out |= ours;
        }
    }
    return out;
}

bool certificate::is_ca() const {
    return (X509_get_extension_flags(p_->x.get()) & EXFLAG_CA) != 0;
}

std::vector<std::string> certificate::extended_key_usage_oids() const {
    std::vector<std::string> out;
    eku_ptr eku(static_cast<EXTENDED_KEY_USAGE*>(
        X509_get_ext_d2i(p_->x.get(), NID_ext_key_usage, nullptr, nullptr)));
    if (!eku) {
        return out;
    }
    for (int i = 0; i < sk_ASN1_OBJECT_num(eku.get()); ++i) {
        out.push_back(oid_text(sk_ASN1_OBJECT_value(eku.get(), i)));
    }
    return out;
}

std::vector<std::string> certificate::dns_names() const {
    std::vector<std::string> out;
    general_names_ptr names(static_cast<GENERAL_NAMES*>(
        X509_get_ext_d2i(p_->x.get(), NID_subject_alt_name, nullptr, nullptr)));
    if (!names) {
        return out;
    }
    for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
        const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names.get(), i);
        if (gn->type == GEN_DNS) {
            out.push_back(string_of(gn->d.dNSName));
        }
    }
    return out;
}

std::optional<std::string> certificate::subject_serial_number() const {
    const X509_NAME* name = X509_get_subject_name(p_->x.get());
    int idx = X509_NAME_get_index_by_NID(name, NID_serialNumber, -1);
    if (idx < 0) {
        return std::nullopt;
    }
    // A second serialNumber would make "the EID" ambiguous: refuse to pick one.
    if (X509_NAME_get_index_by_NID(name, NID_serialNumber, idx) >= 0) {
        return std::nullopt;
    }
    return string_of(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx)));
}

std::vector<std::string> certificate::permitted_eid_prefixes() const {
    std::vector<std::string> out;
    name_constraints_ptr nc(static_cast<NAME_CONSTRAINTS*>(
        X509_get_ext_d2i(p_->x.get(), NID_name_constraints, nullptr, nullptr)));
    if (nc && nc->permittedSubtrees != nullptr) {
        for (int i = 0; i < sk_GENERAL_SUBTREE_num(nc->permittedSubtrees); ++i) {
            const GENERAL_SUBTREE* st = sk_GENERAL_SUBTREE_value(nc->permittedSubtrees, i);
            if (st->base == nullptr || st->base->type != GEN_DIRNAME) {
                continue;
            }
            const X509_NAME* dn = st->base->d.directoryName;
            for (int idx = X509_NAME_get_index_by_NID(dn, NID_serialNumber, -1); idx >= 0;
                 idx = X509_NAME_get_index_by_NID(dn, NID_serialNumber, idx)) {
                out.push_back(string_of(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(dn, idx))));
            }
        }
    }
    int pos = X509_get_ext_by_OBJ(p_->x.get(), permitted_eins_object(), -1);
    if (pos >= 0) {
        const ASN1_OCTET_STRING* data = X509_EXTENSION_get_data(X509_get_ext(p_->x.get(), pos));
        const unsigned char* p = ASN1_STRING_get0_data(data);
        using seq_ptr = std::unique_ptr<ASN1_SEQUENCE_ANY, decltype([](ASN1_SEQUENCE_ANY* s) {
                                            sk_ASN1_TYPE_pop_free(s, ASN1_TYPE_free);
                                        })>;
        seq_ptr seq(d2i_ASN1_SEQUENCE_ANY(nullptr, &p, ASN1_STRING_length(data)));
        if (seq) {
            for (int i = 0; i < sk_ASN1_TYPE_num(seq.get()); ++i) {
                const ASN1_TYPE* t = sk_ASN1_TYPE_value(seq.get(), i);
                // SGP.22 defines PermittedEins as SEQUENCE OF PrintableString;
                // anything else is not a prefix we can trust.
                if (t->type == V_ASN1_PRINTABLESTRING) {
                    out.push_back(string_of(t->value.printablestring));
                }
            }
        }
    }
    return out;
}

bool certificate::has_unknown_critical_extension() const {
    if ((X509_get_extension_flags(p_->x.get()) & EXFLAG_CRITICAL) == 0) {
        return false;
    }
    // OpenSSL flags every critical extension it does not handle. permittedEins
    // is ours to handle; any other is truly unknown.
    const X509* x = p_->x.get();
    for (int i = 0; i < X509_get_ext_count(x); ++i) {
        X509_EXTENSION* ext = X509_get_ext(x, i);
        if (X509_EXTENSION_get_critical(ext) == 0 || X509_supported_extension(ext) == 1) {
            continue;
        }
        if (OBJ_cmp(X509_EXTENSION_get_object(ext), permitted_eins_object()) == 0) {
            continue;
        }
        return true;
    }
    return false;
}

// ---- crl ------------------------------------------------------------------

result<crl> crl::from_der(byte_view der) {
    const unsigned char* p = der.data();
    x509_crl_ptr x(d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size())));
    if (!x) {
        return std::unexpected(cert_error("not a DER CRL"));
    }
    if (p != der.data() + der.size()) {
        return std::unexpected(error{errc::invalid_certificate, "trailing bytes after CRL"});
    }
    return crl(std::make_shared<impl>(impl{std::move(x), to_bytes(der)}));
}

result<crl> crl::from_pem(std::string_view pem) {
    auto block = pem_block(pem, "X509 CRL", 0);
    if (!block) {
        return std::unexpected(error{errc::invalid_certificate, "no PEM X509 CRL block"});
    }
    return from_der(block->first);
}

const bytes& crl::der() const {
    return p_->der;
}
std::string crl::pem() const {
    return to_pem_text("X509 CRL", p_->der);
}
std::string crl::issuer() const {
    return name_text(X509_CRL_get_issuer(p_->x.get()));
}

sys_seconds crl::this_update() const {
    return to_sys_seconds(X509_CRL_get0_lastUpdate(p_->x.get())).value_or(sys_seconds::max());
}

std::optional<sys_seconds> crl::next_update() const {
    return to_sys_seconds(X509_CRL_get0_nextUpdate(p_->x.get()));
}

bool crl::lists(byte_view serial) const {
    STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(p_->x.get());
    for (int i = 0; i < sk_X509_REVOKED_num(revoked); ++i) {
        const ASN1_INTEGER* s = X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(revoked, i));
        const unsigned char* d = ASN1_STRING_get0_data(s);
        std::size_t n = static_cast<std::size_t>(ASN1_STRING_length(s));
        while (n > 1 && *d == 0) {
            ++d;
            --n;
        }
        if (n == serial.size() && std::memcmp(d, serial.data(), n) == 0) {
            return true;
        }
    }
    return false;
}

bool crl::signed_by(const public_key& issuer_key) const {
    const int ok = X509_CRL_verify(p_->x.get(), issuer_key.internals().key.get());
    ERR_clear_error();
    return ok == 1;
}

} // namespace esimguard::crypto
