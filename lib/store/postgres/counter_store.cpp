// The shared risk counters on PostgreSQL: one row per (series, key, bucket),
// incremented by an atomic upsert (INSERT … ON CONFLICT DO UPDATE n = n + …),
// which PostgreSQL applies under the row's lock, so increments from every
// node add up and none is lost.

#include "esimguard/store/counter_store.hpp"
#include "postgres/migrations.hpp"
#include "postgres/pg.hpp"

#include <cstdint>

namespace esimguard::store::postgres {

namespace {

class postgres_counter_store_impl final : public shared_counter_store {
public:
    explicit postgres_counter_store_impl(postgres_config config) : pool_(std::move(config)) {}

    result<std::uint64_t> add(std::string_view series, std::string_view key, std::int64_t bucket,
                              std::uint32_t amount, std::int64_t first_bucket) override {
        return single_statement(pool_, [&](connection& c) -> result<std::uint64_t> {
            // One statement: the CTE's upsert and the sum run in one snapshot
            // that cannot see the upsert's own row, so the sum is taken over
            // the other buckets and the upserted bucket's new value is added.
            auto r = c.query("WITH up AS ("
                             " INSERT INTO risk_counts (series, key, bucket, n)"
                             " VALUES ($1, $2, $3, $4)"
                             " ON CONFLICT (series, key, bucket)"
                             " DO UPDATE SET n = risk_counts.n + EXCLUDED.n"
                             " RETURNING n)"
                             " SELECT (SELECT n FROM up) + coalesce((SELECT sum(n) FROM risk_counts"
                             " WHERE series = $1 AND key = $2 AND bucket >= $5 AND bucket < $3),"
                             " 0)",
                             series, key, bucket, static_cast<std::int64_t>(amount), first_bucket);
            if (!r) {
                return std::unexpected(r.error());
            }
            return static_cast<std::uint64_t>(r->at(0).int64(0));
        });
    }

    result<std::uint64_t> sum(std::string_view series, std::string_view key,
                              std::int64_t first_bucket, std::int64_t last_bucket) override {
        return single_statement(pool_, [&](connection& c) -> result<std::uint64_t> {
            auto r = c.query("SELECT coalesce(sum(n), 0) FROM risk_counts"
                             " WHERE series = $1 AND key = $2 AND bucket BETWEEN $3 AND $4",
                             series, key, first_bucket, last_bucket);
            if (!r) {
                return std::unexpected(r.error());
            }
            return static_cast<std::uint64_t>(r->at(0).int64(0));
        });
    }

    result<void> reset(std::string_view series, std::string_view key) override {
        return single_statement(pool_, [&](connection& c) -> result<void> {
            auto r = c.query("DELETE FROM risk_counts WHERE series = $1 AND key = $2", series, key);
            if (!r) {
                return std::unexpected(r.error());
            }
            return {};
        });
    }

    result<std::size_t> sweep(std::string_view series, std::int64_t first_bucket,
                              std::size_t max_rows) override {
        return single_statement(pool_, [&](connection& c) -> result<std::size_t> {
            auto old = c.query("DELETE FROM risk_counts WHERE series = $1 AND bucket < $2", series,
                               first_bucket);
            if (!old) {
                return std::unexpected(old.error());
            }
            auto n = static_cast<std::size_t>(old->affected());
            // Beyond the row bound, the oldest buckets go first: a spray of
            // fresh keys then evicts old counts rather than growing the table.
            auto over = c.query("DELETE FROM risk_counts WHERE ctid IN ("
                                " SELECT ctid FROM risk_counts WHERE series = $1"
                                " ORDER BY bucket DESC OFFSET $2)",
                                series, max_rows);
            if (!over) {
                return std::unexpected(over.error());
            }
            return n + static_cast<std::size_t>(over->affected());
        });
    }

    result<std::size_t> keys(std::string_view series) override {
        return single_statement(pool_, [&](connection& c) -> result<std::size_t> {
            auto r =
                c.query("SELECT count(DISTINCT key) FROM risk_counts WHERE series = $1", series);
            if (!r) {
                return std::unexpected(r.error());
            }
            return static_cast<std::size_t>(r->at(0).int64(0));
        });
    }

private:
    pool pool_;
};

} // namespace

} // namespace esimguard::store::postgres

namespace esimguard::store {

result<std::unique_ptr<shared_counter_store>>
create_postgres_counter_store(const postgres_config& config) {
    if (auto m = postgres::prepare_database(config); !m) {
        return std::unexpected(m.error());
    }
    return std::make_unique<postgres::postgres_counter_store_impl>(config);
}

} // namespace esimguard::store
