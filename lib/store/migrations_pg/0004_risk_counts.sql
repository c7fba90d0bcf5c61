-- esimguard store schema for PostgreSQL, version 4: the risk engine's
-- sliding-window counters shared by every node (design in
-- include/esimguard/defense/risk_counters.hpp). One row per (series, key,
-- time bucket); add() is an INSERT … ON CONFLICT DO UPDATE n = n + amount, so
-- concurrent nodes never lose an increment. Old buckets are swept.

CREATE TABLE risk_counts (
    series TEXT NOT NULL,
    key    TEXT NOT NULL,
    bucket BIGINT NOT NULL,
    n      BIGINT NOT NULL CHECK (n >= 0),
    PRIMARY KEY (series, key, bucket)
);
-- The sweep deletes by series and oldest bucket.
CREATE INDEX risk_counts_by_bucket ON risk_counts (series, bucket);
