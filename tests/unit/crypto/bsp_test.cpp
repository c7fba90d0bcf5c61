// BSP (SCP03t) segment protection, SGP.22 §2.6.4: round trips between the SM-DP+
// side and the eUICC side, the exact wire bytes, and every refusal.

#include "esimguard/crypto/bsp.hpp"
#include "esimguard/crypto/ecdh.hpp"
#include "esimguard/crypto/kdf.hpp"
#include "esimguard/crypto/mac.hpp"
#include "test_hex.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

namespace esimguard::crypto {
namespace {

using test::hex;

// Fixed key material so that failures reproduce; any 48 bytes will do.
const bytes kdf_output = hex("000102030405060708090a0b0c0d0e0f"   // initial MAC chaining value
                             "101112131415161718191a1b1c1d1e1f"   // S-ENC
                             "202122232425262728292a2b2c2d2e2f"); // S-MAC

bsp_session new_session() {
    return bsp_session::create(kdf_output).value();
}

bytes payload(std::size_t n) {
    bytes b(n);
    for (std::size_t i = 0; i < n; ++i) {
        b[i] = static_cast<std::uint8_t>(i * 7 + 3);
    }
    return b;
}

std::vector<bytes> smdp_segments(bsp_session& s, byte_view profile) {
    return s.wrap_encrypted_segments(0x86, profile).value();
}

TEST(bsp_session_keys, come_from_the_kdf_output_in_mcv_senc_smac_order) {
    auto k = bsp_session_keys::from_kdf_output(kdf_output);
    ASSERT_TRUE(k);
    EXPECT_EQ(bytes(k->initial_mac_chaining_value.begin(), k->initial_mac_chaining_value.end()),
              hex("000102030405060708090a0b0c0d0e0f"));
    EXPECT_EQ(bytes(k->s_enc.begin(), k->s_enc.end()), hex("101112131415161718191a1b1c1d1e1f"));
    EXPECT_EQ(bytes(k->s_mac.begin(), k->s_mac.end()), hex("202122232425262728292a2b2c2d2e2f"));
}

TEST(bsp_session_keys, other_than_48_bytes_are_refused) {
    EXPECT_EQ(bsp_session::create(hex("00")).error().code, errc::invalid_length);
}

TEST(bsp_shared_info, is_key_type_length_then_length_prefixed_host_id_and_eid) {
    const bytes host_id = hex("0102030405");
    const bytes eid = hex("89049032123451234512345678901235");
    EXPECT_EQ(bsp_shared_info(host_id, eid),
              concat({hex("8810"), hex("05"), host_id, hex("10"), eid}));
}

TEST(bsp_session_keys, derivation_is_the_x963_kdf_over_the_shared_info) {
    const bytes z = hex("46fc62106420ff012e54a434fbdd2d25ccc5852060561e68040dd7778997bd7b");
    const bytes host_id = hex("0102030405");
    const bytes eid = hex("89049032123451234512345678901235");
    auto keys = derive_bsp_session_keys(z, host_id, eid);
    ASSERT_TRUE(keys);
    auto out = x963_kdf_sha256(z, bsp_shared_info(host_id, eid), 48);
    ASSERT_TRUE(out);
    EXPECT_EQ(bytes(keys->s_enc.begin(), keys->s_enc.end()),
              bytes(out->begin() + 16, out->begin() + 32));
    EXPECT_EQ(bytes(keys->s_mac.begin(), keys->s_mac.end()), bytes(out->begin() + 32, out->end()));
}

TEST(bsp_session, both_ends_of_an_ecka_derive_sessions_that_interoperate) {
    auto smdp = private_key::generate(curve::brainpool_p256r1);
    auto euicc = private_key::generate(curve::brainpool_p256r1);
    ASSERT_TRUE(smdp && euicc);
    const bytes host_id = hex("aabbcc");
    const bytes eid = hex("89049032123451234512345678901235");
    auto z1 = ecdh(*smdp, euicc->public_part());
    auto z2 = ecdh(*euicc, smdp->public_part());
    ASSERT_TRUE(z1 && z2);
    auto sender = bsp_session::create(derive_bsp_session_keys(*z1, host_id, eid).value());
    auto receiver = bsp_session::create(derive_bsp_session_keys(*z2, host_id, eid).value());
    auto seg = sender.wrap_encrypted(0x87, hex("a0030102"));
    ASSERT_TRUE(seg);
    auto back = receiver.unwrap_encrypted(*seg);
    ASSERT_TRUE(back) << back.error().detail;
    EXPECT_EQ(back->data, hex("a0030102"));
}

TEST(bsp_session, full_bpp_sequence_round_trips_including_a_payload_over_1020_bytes) {
    auto smdp = new_session();
    auto euicc = new_session();
    const bytes configure_isdp = payload(40);
    const bytes metadata = payload(300);
    const bytes profile = payload(2500); // three segments: 1007 + 1007 + 486

    auto s1 = smdp.wrap_encrypted(0x87, configure_isdp);
    auto s2 = smdp.wrap_mac_only(0x88, metadata);
    ASSERT_TRUE(s1 && s2);
    auto s3 = smdp_segments(smdp, profile);
    ASSERT_EQ(s3.size(), 3u);

    auto r1 = euicc.unwrap_encrypted(*s1);
    ASSERT_TRUE(r1) << r1.error().detail;
    EXPECT_EQ(r1->tag, 0x87);
    EXPECT_EQ(r1->data, configure_isdp);
    auto r2 = euicc.unwrap_mac_only(*s2);
    ASSERT_TRUE(r2) << r2.error().detail;
    EXPECT_EQ(r2->tag, 0x88);
    EXPECT_EQ(r2->data, metadata);
    bytes reassembled;
    for (const auto& seg : s3) {
        EXPECT_LE(seg.size(), bsp_max_segment_size);
        auto r = euicc.unwrap_encrypted(seg);
        ASSERT_TRUE(r) << r.error().detail;
        EXPECT_EQ(r->tag, 0x86);
        reassembled.insert(reassembled.end(), r->data.begin(), r->data.end());
    }
    EXPECT_EQ(reassembled, profile);
    EXPECT_EQ(euicc.next_block_counter(), 6u);
}

TEST(bsp_session, largest_encrypted_segment_is_exactly_1020_bytes_on_the_wire) {
    auto s = new_session();
    auto seg = s.wrap_encrypted(0x86, payload(bsp_max_encrypted_plaintext));
    ASSERT_TRUE(seg);
    EXPECT_EQ(seg->size(), 1020u);
    // 1008 bytes would pad to 1024 and overflow the segment.
    auto too_big = s.wrap_encrypted(0x86, payload(bsp_max_encrypted_plaintext + 1));
    ASSERT_FALSE(too_big);
    EXPECT_EQ(too_big.error().code, errc::invalid_length);
}

TEST(bsp_session, empty_and_block_aligned_plaintexts_get_a_full_padding_block) {
    auto s = new_session();
    auto r = new_session();
    auto empty = s.wrap_encrypted(0x86, {});
    auto aligned = s.wrap_encrypted(0x86, payload(16));
    ASSERT_TRUE(empty && aligned);
    EXPECT_EQ(empty->size(), 2u + 16u + 8u);
    EXPECT_EQ(aligned->size(), 2u + 32u + 8u);
    EXPECT_EQ(r.unwrap_encrypted(*empty).value().data, bytes{});
    EXPECT_EQ(r.unwrap_encrypted(*aligned).value().data, payload(16));
}

TEST(bsp_session,
     mac_only_segment_is_tag_length_data_and_first_8_bytes_of_cmac_over_mcv_and_all_that) {
    auto s = new_session();
    const bytes data = payload(200); // L = 208 needs the 81 form
    auto seg = s.wrap_mac_only(0x88, data);
    ASSERT_TRUE(seg);
    const bytes header = hex("8881d0");
    const bytes cmac = aes_cmac(hex("202122232425262728292a2b2c2d2e2f"),
                                concat({hex("000102030405060708090a0b0c0d0e0f"), header, data}))
                           .value();
    EXPECT_EQ(*seg, concat({header, data, byte_view(cmac).first(8)}));
}

TEST(bsp_session, next_segment_mac_chains_on_the_full_16_byte_cmac_of_the_previous) {
    auto s = new_session();
    auto first = s.wrap_mac_only(0x88, hex("01"));
    auto second = s.wrap_mac_only(0x88, hex("02"));
    ASSERT_TRUE(first && second);
    const bytes s_mac = hex("202122232425262728292a2b2c2d2e2f");
    const bytes c1 =
        aes_cmac(s_mac, concat({hex("000102030405060708090a0b0c0d0e0f"), hex("880901")})).value();
    const bytes c2 = aes_cmac(s_mac, concat({c1, hex("880902")})).value();
    EXPECT_EQ(bytes(second->end() - 8, second->end()), bytes(c2.begin(), c2.begin() + 8));
}

TEST(bsp_session, mac_only_segments_advance_the_block_counter) {
    auto s = new_session();
    EXPECT_EQ(s.next_block_counter(), 1u);
    ASSERT_TRUE(s.wrap_mac_only(0x88, hex("01")));
    EXPECT_EQ(s.next_block_counter(), 2u);
    ASSERT_TRUE(s.wrap_encrypted(0x86, hex("01")));
    EXPECT_EQ(s.next_block_counter(), 3u);
}

TEST(bsp_session, encrypted_segment_matches_openssl_enc_with_iv_from_the_block_counter) {
    if (std::system("openssl version >/dev/null 2>&1") != 0) {
        GTEST_SKIP() << "openssl command not available";
    }
    auto s = new_session();
    ASSERT_TRUE(s.wrap_mac_only(0x88, hex("00")));        // uses block counter 1
    auto seg = s.wrap_encrypted(0x86, hex("48656c6c6f")); // block counter 2
    ASSERT_TRUE(seg);
    ASSERT_EQ(seg->size(), 2u + 16u + 8u);
    const std::string ct = to_hex(byte_view(*seg).subspan(2, 16));
    // IV = AES-ECB(S-ENC, 00..02); plaintext "Hello" 80 00.. decrypted independently.
    const std::string cmd =
        "iv=$(printf '%s' 00000000000000000000000000000002 | xxd -r -p | "
        "openssl enc -aes-128-ecb -nopad -K 101112131415161718191a1b1c1d1e1f | xxd -p) && "
        "printf '%s' " +
        ct +
        " | xxd -r -p | openssl enc -d -aes-128-cbc -nopad "
        "-K 101112131415161718191a1b1c1d1e1f -iv $iv | xxd -p";
    FILE* p = popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr);
    char buf[128] = {};
    const std::size_t n = fread(buf, 1, sizeof buf - 1, p);
    const int rc = pclose(p);
    if (rc != 0 || n == 0) {
        GTEST_SKIP() << "xxd or openssl enc unavailable";
    }
    std::string out(buf, n);
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) {
        out.pop_back();
    }
    EXPECT_EQ(out, "48656c6c6f8000000000000000000000");
}

TEST(bsp_session, altered_mac_is_refused_as_bad_mac) {
    auto smdp = new_session();
    auto euicc = new_session();
    auto seg = smdp.wrap_encrypted(0x86, payload(100)).value();
    seg.back() ^= 0x01;
    auto r = euicc.unwrap_encrypted(seg);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::bad_mac);
}

TEST(bsp_session, altered_ciphertext_byte_is_refused_as_bad_mac) {
    auto smdp = new_session();
    auto euicc = new_session();
    auto seg = smdp.wrap_encrypted(0x86, payload(100)).value();
    seg[10] ^= 0x80;
    auto r = euicc.unwrap_encrypted(seg);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::bad_mac);
}

TEST(bsp_session, altered_tag_is_refused_as_bad_mac) {
    auto smdp = new_session();
    auto euicc = new_session();
    auto seg = smdp.wrap_encrypted(0x87, payload(10)).value();
    seg[0] = 0x86;
    EXPECT_EQ(euicc.unwrap_encrypted(seg).error().code, errc::bad_mac);
}

TEST(bsp_session, altered_mac_only_data_is_refused_as_bad_mac) {
    auto smdp = new_session();
    auto euicc = new_session();
    auto seg = smdp.wrap_mac_only(0x88, payload(50)).value();
    seg[5] ^= 0x01;
    EXPECT_EQ(euicc.unwrap_mac_only(seg).error().code, errc::bad_mac);
}

TEST(bsp_session, skipped_segment_is_refused) {
    auto smdp = new_session();
    auto euicc = new_session();
    auto segs = smdp_segments(smdp, payload(2500));
    ASSERT_EQ(segs.size(), 3u);
    ASSERT_TRUE(euicc.unwrap_encrypted(segs[0]));
    // segs[1] dropped: the chaining value no longer matches (no counter on the wire).
    auto r = euicc.unwrap_encrypted(segs[2]);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::bad_mac);
}

TEST(bsp_session, reordered_segments_are_refused) {
    auto smdp = new_session();
    auto euicc = new_session();
    auto segs = smdp_segments(smdp, payload(2500));
    ASSERT_TRUE(euicc.unwrap_encrypted(segs[0]));
    auto r = euicc.unwrap_encrypted(segs[2]);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::bad_mac);
}

TEST(bsp_session, replayed_segment_is_refused) {
    auto smdp = new_session();
    auto euicc = new_session();
    auto segs = smdp_segments(smdp, payload(2500));
    ASSERT_TRUE(euicc.unwrap_encrypted(segs[0]));
    EXPECT_EQ(euicc.unwrap_encrypted(segs[0]).error().code, errc::bad_mac);
}

TEST(bsp_session, after_a_refused_segment_even_the_right_one_is_refused) {
    auto smdp = new_session();
    auto euicc = new_session();
    auto segs = smdp_segments(smdp, payload(2500));
    bytes bad = segs[0];
    bad[20] ^= 0x01;
    ASSERT_FALSE(euicc.unwrap_encrypted(bad));
    auto r = euicc.unwrap_encrypted(segs[0]);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::bad_counter);
}

TEST(bsp_session, segment_from_another_session_key_is_refused) {
    bytes other = kdf_output;
    other[40] ^= 0x01; // another S-MAC
    auto smdp = bsp_session::create(other).value();
    auto euicc = new_session();
    auto seg = smdp.wrap_encrypted(0x86, payload(10)).value();
    EXPECT_EQ(euicc.unwrap_encrypted(seg).error().code, errc::bad_mac);
}

TEST(bsp_session, validly_maced_ciphertext_without_80_padding_is_refused_as_bad_padding) {
    // A MAC-only segment under tag 86 carries our chosen bytes as "ciphertext" with a
    // valid MAC; these 16 bytes decrypt (under this key and counter 1) to a block that
    // does not end in 80 00...
    auto smdp = new_session();
    auto euicc = new_session();
    auto seg = smdp.wrap_mac_only(0x86, hex("00112233445566778899aabbccddeeff")).value();
    auto r = euicc.unwrap_encrypted(seg);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::bad_padding);
}

TEST(bsp_session, truncated_or_oversized_segment_is_refused_as_invalid_length) {
    auto smdp = new_session();
    auto seg = smdp.wrap_encrypted(0x86, payload(10)).value();
    {
        auto euicc = new_session();
        bytes cut(seg.begin(), seg.end() - 1);
        EXPECT_EQ(euicc.unwrap_encrypted(cut).error().code, errc::invalid_length);
    }
    {
        auto euicc = new_session();
        EXPECT_EQ(euicc.unwrap_encrypted(bytes(1021, 0x86)).error().code, errc::invalid_length);
    }
    {
        auto euicc = new_session();
        EXPECT_EQ(euicc.unwrap_encrypted(hex("86")).error().code, errc::invalid_length);
    }
}

} // namespace
} // namespace esimguard::crypto
