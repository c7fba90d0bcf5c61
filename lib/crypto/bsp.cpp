// BSP / SCP03t segment protection, SGP.22 §2.6.4.3–2.6.4.5 (see bsp.hpp for the
// exact bytes). Encrypt-then-MAC: the receiver checks the MAC before it decrypts, so
// the padding check below is not a padding oracle.

#include "esimguard/crypto/bsp.hpp"
#include "esimguard/crypto/mac.hpp"

#include "internal.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <array>

namespace esimguard::crypto {

namespace {

constexpr std::size_t block = 16;
constexpr std::size_t mac_size = 8;

using key16 = std::array<std::uint8_t, 16>;

struct wipe_guard {
    bytes& b;
    ~wipe_guard() { secure_wipe(b); }
};

void append_length(bytes& out, std::size_t len) {
    if (len < 0x80) {
        out.push_back(static_cast<std::uint8_t>(len));
    } else if (len <= 0xff) {
        out.push_back(0x81);
        out.push_back(static_cast<std::uint8_t>(len));
    } else {
        out.push_back(0x82);
        out.push_back(static_cast<std::uint8_t>(len >> 8));
        out.push_back(static_cast<std::uint8_t>(len));
    }
}

// AES-128 in ECB (one block, for the IV) or CBC, never with OpenSSL's PKCS#7 padding.
result<bytes> aes128(bool encrypt, const EVP_CIPHER* cipher, const key16& key,
                     const std::uint8_t* iv, byte_view in) {
    cipher_ctx_ptr ctx(EVP_CIPHER_CTX_new());
    bytes out(in.size() + block);
    int n1 = 0;
    int n2 = 0;
    if (!ctx ||
        EVP_CipherInit_ex(ctx.get(), cipher, nullptr, key.data(), iv, encrypt ? 1 : 0) != 1 ||
        EVP_CIPHER_CTX_set_padding(ctx.get(), 0) != 1 ||
        EVP_CipherUpdate(ctx.get(), out.data(), &n1, in.data(), static_cast<int>(in.size())) != 1 ||
        EVP_CipherFinal_ex(ctx.get(), out.data() + n1, &n2) != 1) {
        secure_wipe(out);
        return std::unexpected(error{errc::internal, "AES: " + openssl_error_string()});
    }
    out.resize(static_cast<std::size_t>(n1 + n2));
    return out;
}

struct parsed_segment {
    std::uint8_t tag;
    std::size_t header_size; // tag and length
    byte_view data;
    byte_view mac;
};

result<parsed_segment> parse_segment(byte_view seg) {
    const auto bad = [](const char* why) {
        return std::unexpected(error{errc::invalid_length, why});
    };
    if (seg.size() < 2 + mac_size || seg.size() > bsp_max_segment_size) {
        return bad("BSP segment size");
    }
    std::size_t len = 0;
    std::size_t header = 0;
    const std::uint8_t l0 = seg[1];
    // Only the minimal (DER) length form: one segment has one encoding, so the MAC
    // input is unambiguous.
    if (l0 < 0x80) {
        len = l0;
        header = 2;
    } else if (l0 == 0x81 && seg.size() >= 3 && seg[2] >= 0x80) {
        len = seg[2];
        header = 3;
    } else if (l0 == 0x82 && seg.size() >= 4 && seg[2] != 0) {
        len = (std::size_t{seg[2]} << 8) | seg[3];
        header = 4;
    } else {
        return bad("BSP segment length encoding");
    }
    if (header + len != seg.size() || len < mac_size) {
        return bad("BSP segment length does not match its size");
    }
    return parsed_segment{seg[0], header, seg.subspan(header, len - mac_size),
                          seg.subspan(seg.size() - mac_size)};
}

} // namespace

struct bsp_session::state {
    key16 s_enc{};
    key16 s_mac{};
    key16 chain{};
    std::uint64_t counter = 1;
    bool broken = false;

    ~state() {
        OPENSSL_cleanse(s_enc.data(), s_enc.size());
        OPENSSL_cleanse(s_mac.data(), s_mac.size());
        OPENSSL_cleanse(chain.data(), chain.size());
    }

    result<bytes> iv() const {
        std::uint8_t ctr[block] = {};
        for (int i = 0; i < 8; ++i) {
            ctr[block - 1 - i] = static_cast<std::uint8_t>(counter >> (8 * i));
        }
        return aes128(true, EVP_aes_128_ecb(), s_enc, nullptr, byte_view(ctr, block));
    }

    // The full CMAC over chain ‖ header ‖ data; the caller decides whether to chain on.
    result<bytes> cmac(byte_view header_and_data) const {
        bytes input(chain.begin(), chain.end());
        input.insert(input.end(), header_and_data.begin(), header_and_data.end());
        wipe_guard g{input};
        return aes_cmac(s_mac, input);
    }

    result<bytes> wrap(std::uint8_t tag, byte_view data) {
        bytes seg{tag};
        append_length(seg, data.size() + mac_size);
        seg.insert(seg.end(), data.begin(), data.end());
        auto c = cmac(seg);
        if (!c) {
            return std::unexpected(c.error());
        }
        seg.insert(seg.end(), c->begin(), c->begin() + mac_size);
        std::copy(c->begin(), c->end(), chain.begin());
        ++counter;
        return seg;
    }

    error refuse(error e) {
        broken = true;
        return e;
    }

    // Checks the MAC of the next segment and, if it matches, chains on and returns it
    // parsed; the counter value it used is returned too.
    result<std::pair<parsed_segment, std::uint64_t>> check(byte_view seg) {
        if (broken) {
            return std::unexpected(
                error{errc::bad_counter, "BSP session aborted after a refused segment"});
        }
        auto p = parse_segment(seg);
        if (!p) {
            return std::unexpected(refuse(p.error()));
        }
        auto c = cmac(seg.first(seg.size() - mac_size));
        if (!c) {
            return std::unexpected(refuse(c.error()));
        }
        if (!constant_time_equal(byte_view(c->data(), mac_size), p->mac)) {
            return std::unexpected(refuse(error{errc::bad_mac, "BSP segment MAC mismatch"}));
        }
        std::copy(c->begin(), c->end(), chain.begin());
        return std::pair{*p, counter++};
    }
};

bsp_session::bsp_session(std::unique_ptr<state> s) : s_(std::move(s)) {}
bsp_session::bsp_session(bsp_session&&) noexcept = default;
bsp_session& bsp_session::operator=(bsp_session&&) noexcept = default;
bsp_session::~bsp_session() = default;

bsp_session bsp_session::create(const bsp_session_keys& keys) {
    auto s = std::make_unique<state>();
    s->s_enc = keys.s_enc;
    s->s_mac = keys.s_mac;
    s->chain = keys.initial_mac_chaining_value;
    return bsp_session(std::move(s));
}

result<bsp_session> bsp_session::create(byte_view kdf_output) {
    auto keys = bsp_session_keys::from_kdf_output(kdf_output);
    if (!keys) {
        return std::unexpected(keys.error());
    }
    return create(*keys);
}

std::uint64_t bsp_session::next_block_counter() const {
    return s_->counter;
}

result<bytes> bsp_session::wrap_encrypted(std::uint8_t tag, byte_view plaintext) {
    if (plaintext.size() > bsp_max_encrypted_plaintext) {
        return std::unexpected(error{errc::invalid_length, "BSP plaintext over 1007 bytes"});
    }
    bytes padded(plaintext.begin(), plaintext.end());
    wipe_guard g{padded};
    padded.push_back(0x80);
    padded.resize((padded.size() + block - 1) / block * block, 0x00);
    auto iv = s_->iv();
    if (!iv) {
        return std::unexpected(iv.error());
    }
    auto ct = aes128(true, EVP_aes_128_cbc(), s_->s_enc, iv->data(), padded);
    if (!ct) {
        return std::unexpected(ct.error());
    }
    return s_->wrap(tag, *ct);
}

result<bytes> bsp_session::wrap_mac_only(std::uint8_t tag, byte_view data) {
    if (data.size() > bsp_max_mac_only_data) {
        return std::unexpected(error{errc::invalid_length, "BSP MAC-only data over 1008 bytes"});
    }
    return s_->wrap(tag, data);
}

result<std::vector<bytes>> bsp_session::wrap_encrypted_segments(std::uint8_t tag,
                                                                byte_view plaintext) {
    std::vector<bytes> out;
    std::size_t off = 0;
    do {
        const std::size_t n = std::min(bsp_max_encrypted_plaintext, plaintext.size() - off);
        auto seg = wrap_encrypted(tag, plaintext.subspan(off, n));
        if (!seg) {
            return std::unexpected(seg.error());
        }
        out.push_back(std::move(*seg));
        off += n;
    } while (off < plaintext.size());
    return out;
}

result<std::vector<bytes>> bsp_session::wrap_mac_only_segments(std::uint8_t tag, byte_view data) {
    std::vector<bytes> out;
    std::size_t off = 0;
    do {
        const std::size_t n = std::min(bsp_max_mac_only_data, data.size() - off);
        auto seg = wrap_mac_only(tag, data.subspan(off, n));
        if (!seg) {
            return std::unexpected(seg.error());
        }
        out.push_back(std::move(*seg));
        off += n;
    } while (off < data.size());
    return out;
}

result<bsp_segment> bsp_session::unwrap_encrypted(byte_view segment) {
    auto checked = s_->check(segment);
    if (!checked) {
        return std::unexpected(checked.error());
    }
    const auto& [p, counter] = *checked;
    if (p.data.empty() || p.data.size() % block != 0) {
        return std::unexpected(
            s_->refuse(error{errc::bad_padding, "BSP ciphertext is not whole AES blocks"}));
    }
    // The IV belongs to the counter value this segment used.
    const std::uint64_t next = s_->counter;
    s_->counter = counter;
    auto iv = s_->iv();
    s_->counter = next;
    if (!iv) {
        return std::unexpected(s_->refuse(iv.error()));
    }
    auto pt = aes128(false, EVP_aes_128_cbc(), s_->s_enc, iv->data(), p.data);
    if (!pt) {
        return std::unexpected(s_->refuse(pt.error()));
    }
    // ISO/IEC 9797-1 method 2: up to 15 zero bytes after a single 80, all in the last block.
    std::size_t end = pt->size();
    while (end > 0 && pt->size() - end < block - 1 && (*pt)[end - 1] == 0x00) {
        --end;
    }
    if (end == 0 || (*pt)[end - 1] != 0x80) {
        secure_wipe(*pt);
        return std::unexpected(s_->refuse(error{errc::bad_padding, "BSP padding invalid"}));
    }
    OPENSSL_cleanse(pt->data() + end - 1, pt->size() - (end - 1));
    pt->resize(end - 1);
    return bsp_segment{p.tag, std::move(*pt)};
}

result<bsp_segment> bsp_session::unwrap_mac_only(byte_view segment) {
    auto checked = s_->check(segment);
    if (!checked) {
        return std::unexpected(checked.error());
    }
    return bsp_segment{checked->first.tag, to_bytes(checked->first.data)};
}

} // namespace esimguard::crypto
