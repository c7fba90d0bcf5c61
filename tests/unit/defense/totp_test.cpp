// TOTP (RFC 6238) and its base32 secrets (RFC 4648): the published vectors,
// the drift window, replay refusal and the provisioning URI.

#include "esimguard/defense/totp.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <deque>
#include <string>

namespace esimguard::defense {
namespace {

using std::chrono::seconds;
using std::chrono::sys_seconds;

/// RFC 6238 Appendix B seeds: ASCII "1234567890" repeated to the hash size.
bytes seed(std::size_t n) {
    bytes out;
    for (std::size_t i = 0; i < n; ++i) {
        out.push_back(static_cast<std::uint8_t>('0' + (i + 1) % 10));
    }
    return out;
}

sys_seconds at(std::int64_t unix_seconds) {
    return sys_seconds(seconds(unix_seconds));
}

std::string code_at(byte_view secret, std::int64_t unix_seconds, const totp_params& p) {
    auto step = totp_time_step(at(unix_seconds), p);
    EXPECT_TRUE(step.has_value());
    auto c = totp_code(secret, step.value_or(0), p);
    EXPECT_TRUE(c.has_value());
    return c.value_or("");
}

/// Hands out queued bytes, then fails: a deterministic random source.
class scripted_random final : public crypto::random_source {
public:
    explicit scripted_random(bytes b) : bytes_(b.begin(), b.end()) {}
    crypto::result<bytes> generate(std::size_t n) override {
        if (bytes_.size() < n) {
            return std::unexpected(crypto::error{crypto::errc::random_failure, "empty"});
        }
        bytes out(bytes_.begin(), bytes_.begin() + static_cast<std::ptrdiff_t>(n));
        bytes_.erase(bytes_.begin(), bytes_.begin() + static_cast<std::ptrdiff_t>(n));
        return out;
    }

private:
    std::deque<std::uint8_t> bytes_;
};

TEST(totp, when_given_the_rfc6238_appendix_b_times_then_sha1_codes_match) {
    totp_params p;
    p.digits = 8;
    const auto key = seed(20);
    EXPECT_EQ(code_at(key, 59, p), "94287082");
    EXPECT_EQ(code_at(key, 1111111109, p), "07081804");
    EXPECT_EQ(code_at(key, 1111111111, p), "14050471");
    EXPECT_EQ(code_at(key, 1234567890, p), "89005924");
    EXPECT_EQ(code_at(key, 2000000000, p), "69279037");
    EXPECT_EQ(code_at(key, 20000000000, p), "65353130");
}

TEST(totp, when_given_the_rfc6238_appendix_b_times_then_sha256_codes_match) {
    totp_params p;
    p.digits = 8;
    p.algorithm = totp_algorithm::sha256;
    const auto key = seed(32);
    EXPECT_EQ(code_at(key, 59, p), "46119246");
    EXPECT_EQ(code_at(key, 1111111109, p), "68084774");
    EXPECT_EQ(code_at(key, 1111111111, p), "67062674");
    EXPECT_EQ(code_at(key, 1234567890, p), "91819424");
    EXPECT_EQ(code_at(key, 2000000000, p), "90698825");
    EXPECT_EQ(code_at(key, 20000000000, p), "77737706");
}

TEST(totp, when_six_digits_are_asked_then_the_code_is_the_low_six_digits_zero_padded) {
    // 07081804 at T=1111111109: six digits are "081804", the leading zero kept.
    EXPECT_EQ(code_at(seed(20), 1111111109, {}), "081804");
}

class totp_verify_test : public ::testing::Test {
protected:
    const bytes key = seed(20);
    const std::int64_t now = 1111111111; // RFC 6238 Appendix B, step 37037037
    std::int64_t step() const { return totp_time_step(at(now)).value(); }
    std::string code_for_step(std::int64_t s) const { return totp_code(key, s).value(); }
    totp_verification check(const std::string& code, std::optional<std::int64_t> last = {},
                            totp_verify_options o = {}) const {
        auto v = verify_totp(key, code, at(now), last, o);
        EXPECT_TRUE(v.has_value());
        return v.value_or(totp_verification{});
    }
};

TEST_F(totp_verify_test, when_the_current_code_is_given_then_it_is_accepted_with_its_step) {
    auto v = check(code_for_step(step()));
    EXPECT_EQ(v.outcome, totp_outcome::accepted);
    EXPECT_EQ(v.time_step, step());
}

TEST_F(totp_verify_test, when_the_code_is_one_step_off_either_way_then_it_is_accepted) {
    auto before = check(code_for_step(step() - 1));
    EXPECT_EQ(before.outcome, totp_outcome::accepted);
    EXPECT_EQ(before.time_step, step() - 1);
    auto after = check(code_for_step(step() + 1));
    EXPECT_EQ(after.outcome, totp_outcome::accepted);
    EXPECT_EQ(after.time_step, step() + 1);
}

TEST_F(totp_verify_test, when_the_code_is_two_steps_off_either_way_then_it_is_refused) {
    EXPECT_EQ(check(code_for_step(step() - 2)).outcome, totp_outcome::wrong);
    EXPECT_EQ(check(code_for_step(step() + 2)).outcome, totp_outcome::wrong);
}

TEST_F(totp_verify_test, when_the_window_is_zero_then_only_the_current_step_passes) {
    totp_verify_options o;
    o.window = 0;
    EXPECT_EQ(check(code_for_step(step()), {}, o).outcome, totp_outcome::accepted);
    EXPECT_EQ(check(code_for_step(step() - 1), {}, o).outcome, totp_outcome::wrong);
}

TEST_F(totp_verify_test, when_an_accepted_code_is_given_again_then_it_is_refused_as_a_replay) {
    auto first = check(code_for_step(step()));
    ASSERT_EQ(first.outcome, totp_outcome::accepted);
    auto again = check(code_for_step(step()), first.time_step);
    EXPECT_EQ(again.outcome, totp_outcome::replayed);
    EXPECT_FALSE(again.time_step.has_value());
}

TEST_F(totp_verify_test, when_an_older_code_in_the_window_follows_a_newer_one_then_it_is_refused) {
    auto v = check(code_for_step(step() - 1), step());
    EXPECT_EQ(v.outcome, totp_outcome::replayed);
}

TEST_F(totp_verify_test, when_a_newer_code_follows_the_last_used_step_then_it_is_accepted) {
    auto v = check(code_for_step(step() + 1), step());
    EXPECT_EQ(v.outcome, totp_outcome::accepted);
    EXPECT_EQ(v.time_step, step() + 1);
}

TEST_F(totp_verify_test, when_the_code_is_wrong_then_it_is_refused) {
    auto right = code_for_step(step());
    std::string wrong = right;
    wrong[5] = wrong[5] == '9' ? '0' : static_cast<char>(wrong[5] + 1);
    EXPECT_EQ(check(wrong).outcome, totp_outcome::wrong);
}

TEST_F(totp_verify_test, when_the_code_is_not_six_digits_then_it_is_malformed) {
    EXPECT_EQ(check("12345").outcome, totp_outcome::malformed);
    EXPECT_EQ(check("1234567").outcome, totp_outcome::malformed);
    EXPECT_EQ(check("12a456").outcome, totp_outcome::malformed);
    EXPECT_EQ(check("").outcome, totp_outcome::malformed);
}

TEST_F(totp_verify_test, when_the_secret_is_another_one_then_the_code_is_refused) {
    auto other = seed(20);
    other[0] ^= 1;
    auto v = verify_totp(other, code_for_step(step()), at(now), std::nullopt);
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(v->outcome, totp_outcome::wrong);
}

TEST(totp, when_parameters_are_out_of_range_then_they_are_refused) {
    totp_params p;
    p.digits = 5;
    EXPECT_FALSE(totp_code(seed(20), 1, p).has_value());
    p.digits = 9;
    EXPECT_FALSE(totp_code(seed(20), 1, p).has_value());
    p = {};
    p.step = seconds(0);
    EXPECT_FALSE(totp_time_step(at(100), p).has_value());
    p = {};
    p.t0 = 200;
    EXPECT_FALSE(totp_time_step(at(100), p).has_value());
    totp_verify_options o;
    o.window = 6;
    EXPECT_FALSE(verify_totp(seed(20), "123456", at(100), std::nullopt, o).has_value());
    EXPECT_FALSE(verify_totp({}, "123456", at(100), std::nullopt).has_value());
}

TEST(totp, when_a_secret_is_generated_then_it_has_at_least_160_bits_from_the_source) {
    scripted_random random(bytes(40, 0x5a));
    auto s = generate_totp_secret(random);
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(*s, bytes(20, 0x5a));
    EXPECT_FALSE(generate_totp_secret(random, 19).has_value());
    auto real = crypto::create_system_random_source();
    auto a = generate_totp_secret(*real, 32);
    auto b = generate_totp_secret(*real, 32);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->size(), 32u);
    EXPECT_NE(*a, *b);
}

TEST(totp, when_the_random_source_fails_then_no_secret_is_made) {
    scripted_random random({});
    auto s = generate_totp_secret(random);
    ASSERT_FALSE(s.has_value());
    EXPECT_EQ(s.error().code, twofactor_errc::random_failure);
}

TEST(totp, when_a_provisioning_uri_is_made_then_it_carries_the_secret_and_parameters) {
    auto uri = totp_provisioning_uri("esimguard Op", "alice@example.com", seed(20));
    ASSERT_TRUE(uri.has_value());
    EXPECT_EQ(*uri, "otpauth://totp/esimguard%20Op:alice%40example.com"
                    "?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=esimguard%20Op"
                    "&algorithm=SHA1&digits=6&period=30");
    totp_params p;
    p.algorithm = totp_algorithm::sha256;
    p.digits = 8;
    p.step = seconds(60);
    auto u2 = totp_provisioning_uri("Op", "bob", seed(32), p);
    ASSERT_TRUE(u2.has_value());
    EXPECT_NE(u2->find("&algorithm=SHA256&digits=8&period=60"), std::string::npos);
}

TEST(totp, when_issuer_or_account_hold_a_colon_or_are_empty_then_no_uri_is_made) {
    EXPECT_FALSE(totp_provisioning_uri("a:b", "alice", seed(20)).has_value());
    EXPECT_FALSE(totp_provisioning_uri("Op", "al:ice", seed(20)).has_value());
    EXPECT_FALSE(totp_provisioning_uri("", "alice", seed(20)).has_value());
    EXPECT_FALSE(totp_provisioning_uri("Op", "alice", seed(10)).has_value());
}

TEST(totp_base32, when_given_the_rfc4648_vectors_then_encoding_and_decoding_match) {
    const std::pair<std::string_view, std::string_view> vectors[] = {
        {"", ""},
        {"f", "MY======"},
        {"fo", "MZXQ===="},
        {"foo", "MZXW6==="},
        {"foob", "MZXW6YQ="},
        {"fooba", "MZXW6YTB"},
        {"foobar", "MZXW6YTBOI======"},
    };
    for (auto [plain, encoded] : vectors) {
        EXPECT_EQ(base32_encode(as_bytes(plain)), encoded);
        auto d = base32_decode(encoded);
        ASSERT_TRUE(d.has_value()) << encoded;
        EXPECT_EQ(*d, to_bytes(as_bytes(plain))) << encoded;
    }
}

TEST(totp_base32, when_unpadded_or_lower_case_then_it_still_decodes) {
    EXPECT_EQ(base32_encode(as_bytes("foobar"), false), "MZXW6YTBOI");
    auto d = base32_decode("mzxw6ytboi");
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(*d, to_bytes(as_bytes("foobar")));
}

TEST(totp_base32, when_the_text_is_not_canonical_base32_then_it_is_refused) {
    EXPECT_FALSE(base32_decode("MZXW6YT1").has_value());  // '1' is not in the alphabet
    EXPECT_FALSE(base32_decode("M").has_value());         // impossible length
    EXPECT_FALSE(base32_decode("MZX").has_value());       // impossible length
    EXPECT_FALSE(base32_decode("MZ=====").has_value());   // padding not to 8
    EXPECT_FALSE(base32_decode("MZ=====A").has_value());  // data after padding
    EXPECT_FALSE(base32_decode("========").has_value());  // padding only
    EXPECT_FALSE(base32_decode("MZ======").has_value());  // non-zero unused bits ('Z')
    EXPECT_FALSE(base32_decode("MZXW 6YTB").has_value()); // whitespace
}

} // namespace
} // namespace esimguard::defense
