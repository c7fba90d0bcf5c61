// `esimguard bench` crypto floor: the cryptography the SM-DP+ must do for one
// download, timed in this process with the run's own keys and certificates,
// so that the server's CPU per download can be set against it. The sequence
// mirrors lib/smdp/procedures:
//   initiateAuthentication  sign serverSigned1 (DPauth)
//   authenticateClient      validate_chain (CI → EUM → eUICC with the CI's
//                           CRL: the eUICC certificate's signature; those
//                           of the EUM, the CI and the CRL are verified once
//                           and remembered, in the floor as in the server),
//                           verify euiccSignature1, sign smdpSigned2 (DPpb)
//   getBoundProfilePackage  verify euiccSignature2, hashCc, generate
//                           otSK.DP.ECKA, ECKA + X9.63 KDF, sign
//                           InitialiseSecureChannel (DPpb), BSP: ConfigureISDP
//                           encrypted, StoreMetadata MAC-only, the profile
//                           package in encrypted segments
//   handleNotification      verify the PIR signature
// Neither X.509 parsing nor TLS is part of the floor: the issue defines it as
// signatures, verifications, key generation, ECDH and BSP; with keep-alive a
// TLS handshake is shared by many downloads. Both count as overhead.

#include "bench.hpp"

#include "esimguard/crypto/bsp.hpp"
#include "esimguard/crypto/ecdh.hpp"
#include "esimguard/crypto/ecdsa.hpp"
#include "esimguard/crypto/hash.hpp"
#include "esimguard/crypto/kdf.hpp"
#include "esimguard/crypto/random.hpp"
#include "esimguard/crypto/x509.hpp"
#include "esimguard/pki/test_pki.hpp"

#include <fmt/format.h>

#include <ctime>
#include <fstream>
#include <iterator>

namespace esimguard::app::bench {

namespace {

step<std::string> read_text(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) {
        return fail(fmt::format("cannot read {}", p.string()));
    }
    return std::string(std::istreambuf_iterator<char>(in), {});
}

step<std::unique_ptr<crypto::signer>> load_signer(const fs::path& p) {
    auto pem = read_text(p);
    if (!pem) {
        return std::unexpected(pem.error());
    }
    auto k = crypto::private_key::from_pem(*pem);
    if (!k) {
        return fail(fmt::format("bad key {}", p.string()));
    }
    return crypto::create_software_signer(std::move(*k));
}

step<bytes> random_of(std::size_t n) {
    auto b = crypto::random_bytes(n);
    if (!b) {
        return fail("no randomness");
    }
    return std::move(*b);
}

// Keeps the optimiser from dropping work whose result is unused.
void keep(const auto& v) {
    asm volatile("" : : "g"(&v) : "memory");
}

} // namespace

step<crypto_floor> measure_crypto_floor(const environment& env, std::size_t iterations) {
    const fs::path dir = env.pki_dir / pki::curve_dir_name(env.curve);
    auto dpauth = load_signer(dir / "dpauth.key.pem");
    auto dppb = load_signer(dir / "dppb.key.pem");
    if (!dpauth || !dppb) {
        return fail(fmt::format("cannot load DPauth/DPpb keys from {}", dir.string()));
    }
    auto ci_pem = read_text(dir / "ci.pem");
    auto eum_pem = read_text(dir / "eum.pem");
    auto crl_pem = read_text(dir / "ci.crl.pem");
    if (!ci_pem || !eum_pem || !crl_pem) {
        return fail(fmt::format("cannot read the CI, EUM or CRL in {}", dir.string()));
    }
    auto ci = crypto::certificate::from_pem(*ci_pem);
    auto eum = crypto::certificate::from_pem(*eum_pem);
    auto crl = crypto::crl::from_pem(*crl_pem);
    if (!ci || !eum || !crl) {
        return fail("cannot parse the CI, EUM or CRL");
    }
    const device_card& card = env.cards.front();
    std::shared_ptr<const crypto::signer> euicc_key = card.config.key;
    if (!euicc_key) {
        auto k = crypto::private_key::from_pem(card.config.private_key_pem);
        if (!k) {
            return fail("cannot load the eUICC key");
        }
        euicc_key = crypto::create_software_signer(std::move(*k));
    }
    // X.509 parsing is not cryptography: certificates are parsed once here.
    auto euicc_cert = crypto::certificate::from_der(card.config.euicc_certificate_der);
    if (!euicc_cert) {
        return fail("cannot parse the eUICC certificate");
    }
    const std::vector<crypto::certificate> inter{*eum};
    const crypto::public_key euicc_pk = euicc_cert->key();
    const std::vector<crypto::certificate> anchors{*ci};
    const std::vector<crypto::crl> crls{*crl};

    // Messages of the sizes the procedures sign; their content does not matter.
    auto signed1 = random_of(110);
    auto euicc_signed1 = random_of(150);
    auto smdp_signed2 = random_of(100);
    auto euicc_signed2 = random_of(180);
    auto isc = random_of(120);
    auto pir = random_of(140);
    auto metadata = random_of(120);
    auto configure = random_of(30);
    auto package = random_of(std::max<std::size_t>(env.package_bytes, 1));
    auto txid = random_of(16);
    if (!signed1 || !euicc_signed1 || !smdp_signed2 || !euicc_signed2 || !isc || !pir ||
        !metadata || !configure || !package || !txid) {
        return fail("no randomness");
    }
    auto sig1 = euicc_key->sign(*euicc_signed1);
    auto sig2 = euicc_key->sign(*euicc_signed2);
    auto sig_pir = euicc_key->sign(*pir);
    auto euicc_ot = crypto::private_key::generate(env.curve);
    if (!sig1 || !sig2 || !sig_pir || !euicc_ot) {
        return fail("cannot prepare the eUICC side of the floor");
    }
    const crypto::public_key euicc_otpk = euicc_ot->public_part();
    const bytes cc_sha = crypto::sha256(as_bytes(std::string_view("12345678")));
    const bytes host_id = to_bytes(as_bytes(std::string_view("esimguard")));
    const auto at = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());

    // Thread CPU time, not wall time: the server's side is CPU time too
    // (utime+stime), and a busy machine preempting this thread would
    // otherwise inflate the floor.
    struct clk {
        using duration = std::chrono::nanoseconds;
        static duration now() {
            timespec ts{};
            ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
            return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
        }
    };
    clk::duration sign{}, verify{}, keygen{}, ecdh{}, bsp{};
    auto timed = [](clk::duration& acc, auto&& f) {
        const auto t0 = clk::now();
        const bool ok = f();
        acc += clk::now() - t0;
        return ok;
    };
    const std::size_t n = std::max<std::size_t>(1, iterations);
    for (std::size_t i = 0; i < n; ++i) {
        bool ok = true;
        ok &= timed(sign, [&] { return (*dpauth)->sign(*signed1).has_value(); });
        ok &= timed(verify, [&] {
            return crypto::validate_chain(*euicc_cert, inter, anchors, crls, at,
                                          crypto::cert_role::euicc)
                       .has_value() &&
                   crypto::verify(euicc_pk, *euicc_signed1, *sig1).has_value();
        });
        ok &= timed(sign, [&] { return (*dppb)->sign(*smdp_signed2).has_value(); });
        ok &= timed(verify,
                    [&] { return crypto::verify(euicc_pk, *euicc_signed2, *sig2).has_value(); });
        std::optional<crypto::private_key> otsk;
        ok &= timed(keygen, [&] {
            auto k = crypto::private_key::generate(env.curve);
            if (!k) {
                return false;
            }
            keep(k->public_part().point());
            otsk.emplace(std::move(*k));
            return true;
        });
        std::optional<crypto::bsp_session_keys> keys;
        ok &= otsk && timed(ecdh, [&] {
                  auto shared = crypto::ecdh(*otsk, euicc_otpk);
                  if (!shared) {
                      return false;
                  }
                  auto k = crypto::derive_bsp_session_keys(
                      *shared, host_id, as_bytes(std::string_view(env.first_eid)));
                  if (!k) {
                      return false;
                  }
                  keys = *k;
                  return true;
              });
        ok &= timed(sign, [&] { return (*dppb)->sign(*isc).has_value(); });
        ok &= keys && timed(bsp, [&] {
                  const bytes hash_cc = crypto::sha256(concat({cc_sha, *txid}));
                  keep(hash_cc);
                  auto s = crypto::bsp_session::create(*keys);
                  auto a = s.wrap_encrypted_segments(0x87, *configure);
                  auto b = s.wrap_mac_only_segments(0x88, *metadata);
                  auto c = s.wrap_encrypted_segments(0x86, *package);
                  keep(c);
                  return a.has_value() && b.has_value() && c.has_value();
              });
        ok &= timed(verify, [&] { return crypto::verify(euicc_pk, *pir, *sig_pir).has_value(); });
        if (!ok) {
            return fail("a step of the crypto floor failed");
        }
    }
    auto us = [n](clk::duration d) {
        return std::chrono::duration<double, std::micro>(d).count() / static_cast<double>(n);
    };
    crypto_floor f;
    f.sign_us = us(sign);
    f.verify_us = us(verify);
    f.keygen_us = us(keygen);
    f.ecdh_us = us(ecdh);
    f.bsp_us = us(bsp);
    f.total_us = f.sign_us + f.verify_us + f.keygen_us + f.ecdh_us + f.bsp_us;
    f.iterations = n;
    return f;
}

} // namespace esimguard::app::bench
