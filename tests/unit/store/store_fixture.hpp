#pragma once
// A fresh SQLite store in its own temporary directory, with an injected clock
// and helpers that put an operator, profiles and orders in place.

#include "esimguard/store/defense_store.hpp"
#include "esimguard/store/sqlite_store.hpp"
#ifdef ESIMGUARD_STORE_TEST_POSTGRES
#include "pg_fixture.hpp"
#endif

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>

#include <unistd.h>

namespace esimguard::store::testing {

using namespace std::chrono_literals;

/// 2024-01-01T00:00:00Z: every test starts at the same instant.
inline time_point t0() {
    return time_point(std::chrono::seconds(1704067200));
}

/// A temporary directory removed at the end of the test.
class temp_dir {
public:
    temp_dir() {
        static std::atomic<int> counter{0};
        path_ = std::filesystem::temp_directory_path() /
                ("esimguard-store-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
        std::filesystem::remove_all(path_);
        std::filesystem::create_directories(path_);
    }
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

inline const std::string operator_id = "op1";
inline const std::string eid_a = "89049032123451234512345678901235";
inline const std::string eid_b = "89049032123451234512345678901299";

inline std::string iccid(int n) {
    return "894400000000000" + std::to_string(10000 + n); // 20 digits
}

inline bytes cc_hash() {
    return bytes(32, 0xC5);
}

/// The defence store under test: the SQLite file at `c.path`, or, in
/// unit_store_pg, a PostgreSQL schema named after that path, so that a
/// reopen of the same fixture finds its rows again.
inline result<std::unique_ptr<defense_store>> open_test_defense_store(const sqlite_config& c) {
#ifdef ESIMGUARD_STORE_TEST_POSTGRES
    postgres_config pg;
    pg.url = pg_url();
    std::uint64_t h = 1469598103934665603ULL;
    for (unsigned char ch : c.path) {
        h = (h ^ ch) * 1099511628211ULL;
    }
    pg.schema = "d" + std::to_string(h);
    return create_postgres_defense_store(pg);
#else
    return create_sqlite_defense_store(c);
#endif
}

class store_test : public ::testing::Test {
protected:
    void SetUp() override {
        config_.path = (dir_.path() / "store.db").string();
        reopen();
        operator_record op;
        op.id = operator_id;
        op.display_name = "Operator One";
        op.token_sha256_hex = std::string(64, 'a');
        op.download_progress_url = "https://op.example/es2plus";
        op.created_at = t0();
        ASSERT_TRUE(db().add_operator(op).has_value());
    }

    void reopen() {
        store_.reset();
#ifdef ESIMGUARD_STORE_TEST_POSTGRES
        // unit_store_pg: the same contract tests against PostgreSQL; a
        // reopen keeps the fixture's schema, as the SQLite one keeps its file.
        if (pg_config_.schema.empty()) {
            pg_config_ = fresh_pg_config();
        }
        auto s = create_postgres_store(pg_config_);
#else
        auto s = create_sqlite_store(config_);
#endif
        ASSERT_TRUE(s.has_value()) << s.error().message;
        store_ = std::move(*s);
    }

    store& db() {
        return *store_;
    }

    void add_profile(const std::string& icc, const std::string& type = "gold") {
        profile_record p;
        p.iccid = icc;
        p.operator_id = operator_id;
        p.profile_type = type;
        p.metadata = {"Operator One", "One Gold", profile_class::operational};
        p.package = {0x30, 0x03, 0x02, 0x01, 0x01};
        auto r = db().add_profile(p, t0());
        ASSERT_TRUE(r.has_value()) << r.error().message;
    }

    /// A released order for profile `n` with matching ID "MID-<n>".
    order_record released_order(int n, int attempts = 3, std::optional<std::string> eid = {},
                                time_point expires = t0() + 24h) {
        add_profile(iccid(n));
        order_request req;
        req.order_id = "order-" + std::to_string(n);
        req.operator_id = operator_id;
        req.iccid = iccid(n);
        req.eid = eid;
        req.download_attempt_limit = attempts;
        req.expires_at = expires;
        auto o = db().create_order(req, t0());
        EXPECT_TRUE(o.has_value()) << o.error().message;
        confirm_request c;
        c.order_id = req.order_id;
        c.matching_id = "MID-" + std::to_string(n);
        c.cc_sha256 = cc_hash();
        c.release = true;
        auto confirmed = db().confirm_order(c, t0());
        EXPECT_TRUE(confirmed.has_value()) << confirmed.error().message;
        return confirmed.value_or(order_record{});
    }

    temp_dir dir_;
    sqlite_config config_;
#ifdef ESIMGUARD_STORE_TEST_POSTGRES
    postgres_config pg_config_;
#endif
    std::unique_ptr<store> store_;
};

} // namespace esimguard::store::testing
