// One-time out-of-band codes for step-up approval: generation, hashed
// storage, expiry, the attempt limit, single use and binding to a purpose.

#include "esimguard/defense/one_time_code.hpp"

#include "esimguard/crypto/hash.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <deque>

namespace esimguard::defense {
namespace {

using namespace std::chrono_literals;

const store::time_point t0{std::chrono::seconds(1704067200)};
const std::string purpose = "step-up:order:order-1";

/// Hands out queued bytes, then the system CSPRNG (or fails when told to).
class scripted_random final : public crypto::random_source {
public:
    std::deque<std::uint8_t> queued;
    bool fail = false;
    crypto::result<bytes> generate(std::size_t n) override {
        if (fail) {
            return std::unexpected(crypto::error{crypto::errc::random_failure, "told to fail"});
        }
        bytes out;
        while (out.size() < n && !queued.empty()) {
            out.push_back(queued.front());
            queued.pop_front();
        }
        if (out.size() < n) {
            auto more = crypto::random_bytes(n - out.size());
            if (!more) {
                return std::unexpected(more.error());
            }
            out.insert(out.end(), more->begin(), more->end());
        }
        return out;
    }
};

class one_time_code_test : public ::testing::Test {
protected:
    void SetUp() override {
        auto i = one_time_code_issuer::create(bytes(32, 0x4b), config, random);
        ASSERT_TRUE(i.has_value()) << i.error().message;
        issuer = std::move(*i);
    }

    issued_one_time_code issue(store::time_point now = t0) {
        auto c = issuer->issue(purpose, now);
        EXPECT_TRUE(c.has_value());
        return c.value_or(issued_one_time_code{});
    }

    one_time_code_check verify(const one_time_code_record& r, std::string_view code,
                               store::time_point now = t0 + 1min, std::string_view p = purpose) {
        auto v = issuer->verify(r, p, code, now);
        EXPECT_TRUE(v.has_value());
        return v.value_or(one_time_code_check{});
    }

    static std::string wrong_of(const std::string& code) {
        std::string w = code;
        w[0] = w[0] == '9' ? '0' : static_cast<char>(w[0] + 1);
        return w;
    }

    one_time_code_config config;
    scripted_random random;
    std::unique_ptr<one_time_code_issuer> issuer;
};

TEST_F(one_time_code_test, when_a_code_is_issued_then_it_has_the_configured_number_of_digits) {
    auto c = issue();
    EXPECT_EQ(c.code.size(), 8u);
    EXPECT_EQ(c.code.find_first_not_of("0123456789"), std::string::npos);
    EXPECT_EQ(c.record.expires_at, t0 + 10min);
    EXPECT_EQ(c.record.attempts, 0);
    EXPECT_EQ(c.record.max_attempts, 5);
    EXPECT_FALSE(c.record.used);
}

TEST_F(one_time_code_test, when_random_bytes_are_250_or_more_then_they_are_skipped_not_folded) {
    // 250..255 would bias towards 0..5 if reduced mod 10; they must be dropped.
    random.queued = {250, 255, 3, 251, 14, 25, 36, 47, 58, 69, 70};
    auto c = issue();
    EXPECT_EQ(c.code, "34567890");
}

TEST_F(one_time_code_test,
       when_the_record_is_stored_then_it_holds_neither_the_code_nor_its_plain_hash) {
    auto c = issue();
    EXPECT_EQ(c.record.salt.size(), 16u);
    EXPECT_EQ(c.record.mac.size(), 32u);
    auto code_bytes = to_bytes(as_bytes(c.code));
    EXPECT_EQ(
        std::search(c.record.mac.begin(), c.record.mac.end(), code_bytes.begin(), code_bytes.end()),
        c.record.mac.end());
    EXPECT_NE(c.record.mac, crypto::sha256(as_bytes(c.code)));
}

TEST_F(one_time_code_test, when_the_same_code_is_issued_twice_then_the_salts_make_the_macs_differ) {
    std::array<std::uint8_t, 8> digits{1, 2, 3, 4, 5, 6, 7, 8};
    random.queued.assign(digits.begin(), digits.end());
    auto a = issue();
    random.queued.assign(digits.begin(), digits.end());
    auto b = issue();
    ASSERT_EQ(a.code, b.code);
    EXPECT_NE(a.record.salt, b.record.salt);
    EXPECT_NE(a.record.mac, b.record.mac);
}

TEST_F(one_time_code_test, when_the_right_code_is_given_in_time_then_it_is_accepted_and_spent) {
    auto c = issue();
    auto v = verify(c.record, c.code);
    EXPECT_EQ(v.outcome, one_time_code_outcome::accepted);
    EXPECT_TRUE(v.record.used);
    EXPECT_EQ(v.record.attempts, 1);
}

TEST_F(one_time_code_test, when_an_accepted_code_is_given_again_then_it_is_refused_as_used) {
    auto c = issue();
    auto first = verify(c.record, c.code);
    ASSERT_EQ(first.outcome, one_time_code_outcome::accepted);
    auto second = verify(first.record, c.code);
    EXPECT_EQ(second.outcome, one_time_code_outcome::used);
    EXPECT_EQ(second.record.attempts, first.record.attempts);
}

TEST_F(one_time_code_test, when_the_code_has_expired_then_even_the_right_one_is_refused) {
    auto c = issue();
    EXPECT_EQ(verify(c.record, c.code, t0 + 10min).outcome, one_time_code_outcome::expired);
    EXPECT_EQ(verify(c.record, c.code, t0 + 10min - 1s).outcome, one_time_code_outcome::accepted);
}

TEST_F(one_time_code_test, when_a_wrong_code_is_given_then_an_attempt_is_counted) {
    auto c = issue();
    auto v = verify(c.record, wrong_of(c.code));
    EXPECT_EQ(v.outcome, one_time_code_outcome::wrong);
    EXPECT_EQ(v.record.attempts, 1);
    EXPECT_EQ(v.attempts_left, 4);
    EXPECT_FALSE(v.record.used);
}

TEST_F(one_time_code_test, when_the_attempt_limit_is_reached_then_even_the_right_code_is_refused) {
    auto c = issue();
    auto r = c.record;
    for (int i = 0; i < 5; ++i) {
        auto v = verify(r, wrong_of(c.code));
        ASSERT_EQ(v.outcome, one_time_code_outcome::wrong);
        r = v.record;
    }
    EXPECT_EQ(r.attempts, 5);
    auto v = verify(r, c.code);
    EXPECT_EQ(v.outcome, one_time_code_outcome::locked);
    EXPECT_FALSE(v.record.used);
    EXPECT_EQ(v.attempts_left, 0);
}

TEST_F(one_time_code_test, when_a_malformed_code_is_given_then_it_counts_as_a_wrong_attempt) {
    auto c = issue();
    for (std::string_view bad : {"", "1234567", "123456789", "1234567a"}) {
        auto v = verify(c.record, bad);
        EXPECT_EQ(v.outcome, one_time_code_outcome::wrong) << bad;
        EXPECT_EQ(v.record.attempts, 1) << bad;
    }
}

TEST_F(one_time_code_test, when_the_code_is_given_for_another_purpose_then_it_is_refused) {
    auto c = issue();
    auto v = verify(c.record, c.code, t0 + 1min, "step-up:order:order-2");
    EXPECT_EQ(v.outcome, one_time_code_outcome::wrong);
}

TEST_F(one_time_code_test, when_another_server_key_checks_the_code_then_it_is_refused) {
    auto c = issue();
    auto other = one_time_code_issuer::create(bytes(32, 0x4c), config, random);
    ASSERT_TRUE(other.has_value());
    auto v = (*other)->verify(c.record, purpose, c.code, t0 + 1min);
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(v->outcome, one_time_code_outcome::wrong);
}

TEST_F(one_time_code_test, when_the_random_source_fails_then_no_code_is_issued) {
    random.fail = true;
    auto c = issuer->issue(purpose, t0);
    ASSERT_FALSE(c.has_value());
    EXPECT_EQ(c.error().code, twofactor_errc::random_failure);
}

TEST_F(one_time_code_test, when_many_codes_are_issued_then_every_digit_appears) {
    // A coarse check that the real CSPRNG path produces all digits; a stuck
    // or biased generator (e.g. always 0..5) fails it.
    std::array<int, 10> seen{};
    for (int i = 0; i < 200; ++i) {
        for (char ch : issue().code) {
            seen[static_cast<std::size_t>(ch - '0')]++;
        }
    }
    for (int d = 0; d < 10; ++d) {
        EXPECT_GT(seen[static_cast<std::size_t>(d)], 80) << d; // expected 160 each
    }
}

TEST(one_time_code_config_check, when_the_key_or_config_is_out_of_range_then_creation_fails) {
    scripted_random random;
    EXPECT_FALSE(one_time_code_issuer::create(bytes(31, 1), {}, random).has_value());
    one_time_code_config c;
    c.digits = 5;
    EXPECT_FALSE(one_time_code_issuer::create(bytes(32, 1), c, random).has_value());
    c = {};
    c.lifetime = 10s;
    EXPECT_FALSE(one_time_code_issuer::create(bytes(32, 1), c, random).has_value());
    c = {};
    c.max_attempts = 0;
    EXPECT_FALSE(one_time_code_issuer::create(bytes(32, 1), c, random).has_value());
}

} // namespace
} // namespace esimguard::defense
