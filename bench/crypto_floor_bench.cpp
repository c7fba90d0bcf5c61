// Micro-benchmarks of the operations that make up one download's crypto
// floor on the SM-DP+ (see apps/esimguard/bench_floor.cpp for the sequence):
// ECDSA sign and verify, one-time key generation, ECDH + X9.63 KDF, and BSP
// over a segment, on both SGP.22 curves.

#include "esimguard/crypto/bsp.hpp"
#include "esimguard/crypto/ecdh.hpp"
#include "esimguard/crypto/ecdsa.hpp"
#include "esimguard/crypto/hash.hpp"
#include "esimguard/crypto/kdf.hpp"
#include "esimguard/crypto/keys.hpp"
#include "esimguard/crypto/random.hpp"

#include <benchmark/benchmark.h>

#include <cstdlib>

namespace {

using namespace esimguard;

crypto::curve curve_of(const benchmark::State& state) {
    return state.range(0) == 0 ? crypto::curve::nist_p256 : crypto::curve::brainpool_p256r1;
}

// A benchmark that cannot set up its inputs is a broken build: stop loudly.
template <typename T>
T must(std::expected<T, crypto::error> r) {
    if (!r) {
        std::abort();
    }
    return std::move(*r);
}

void sign(benchmark::State& state) {
    auto signer =
        crypto::create_software_signer(must(crypto::private_key::generate(curve_of(state))));
    const bytes msg = must(crypto::random_bytes(120));
    for (auto _ : state) {
        benchmark::DoNotOptimize(signer->sign(msg));
    }
}

void verify(benchmark::State& state) {
    const bytes msg = must(crypto::random_bytes(120));
    auto signer =
        crypto::create_software_signer(must(crypto::private_key::generate(curve_of(state))));
    const bytes sig = must(signer->sign(msg));
    const auto pub = signer->public_part();
    for (auto _ : state) {
        auto ok = crypto::verify(pub, msg, sig);
        if (!ok) {
            state.SkipWithError("signature did not verify");
            break;
        }
    }
}

void keygen(benchmark::State& state) {
    for (auto _ : state) {
        auto k = crypto::private_key::generate(curve_of(state));
        benchmark::DoNotOptimize(k);
    }
}

void ecdh_kdf(benchmark::State& state) {
    auto own = must(crypto::private_key::generate(curve_of(state)));
    auto peer = must(crypto::private_key::generate(curve_of(state))).public_part();
    const bytes host = {'e', 's', 'i', 'm', 'g', 'u', 'a', 'r', 'd'};
    const bytes eid = must(crypto::random_bytes(16));
    for (auto _ : state) {
        auto shared = crypto::ecdh(own, peer);
        if (!shared) {
            state.SkipWithError("ecdh failed");
            break;
        }
        benchmark::DoNotOptimize(crypto::derive_bsp_session_keys(*shared, host, eid));
    }
}

// BSP encryption + MAC of `range(0)` bytes of profile package.
void bsp_encrypt(benchmark::State& state) {
    const bytes kdf_out = must(crypto::random_bytes(48));
    const bytes data = must(crypto::random_bytes(static_cast<std::size_t>(state.range(0))));
    for (auto _ : state) {
        auto s = must(crypto::bsp_session::create(kdf_out));
        benchmark::DoNotOptimize(s.wrap_encrypted_segments(0x86, data));
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}

void sha256_hash_cc(benchmark::State& state) {
    const bytes cc = crypto::sha256(bytes{'1', '2', '3', '4', '5', '6', '7', '8'});
    const bytes txid = must(crypto::random_bytes(16));
    for (auto _ : state) {
        benchmark::DoNotOptimize(crypto::sha256(concat({cc, txid})));
    }
}

BENCHMARK(sign)->Arg(0)->Arg(1)->ArgName("brainpool");
BENCHMARK(verify)->Arg(0)->Arg(1)->ArgName("brainpool");
BENCHMARK(keygen)->Arg(0)->Arg(1)->ArgName("brainpool");
BENCHMARK(ecdh_kdf)->Arg(0)->Arg(1)->ArgName("brainpool");
BENCHMARK(bsp_encrypt)->Arg(1000)->Arg(16 * 1024)->Arg(64 * 1024);
BENCHMARK(sha256_hash_cc);

} // namespace
