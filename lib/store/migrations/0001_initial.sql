-- esimguard store schema, version 1.
-- Times are integer microseconds since the Unix epoch, UTC.
-- States are the lower-case names of the C++ enums (types.hpp).

CREATE TABLE operators (
    id                    TEXT PRIMARY KEY,
    display_name          TEXT NOT NULL,
    token_sha256          TEXT NOT NULL UNIQUE,
    client_cert_sha256    TEXT UNIQUE,
    download_progress_url TEXT,
    created_at            INTEGER NOT NULL
);

CREATE TABLE profiles (
    iccid                 TEXT PRIMARY KEY CHECK (length(iccid) BETWEEN 18 AND 20 AND iccid NOT GLOB '*[^0-9]*'),
    operator_id           TEXT NOT NULL REFERENCES operators(id),
    profile_type          TEXT NOT NULL,
    service_provider_name TEXT NOT NULL,
    profile_name          TEXT NOT NULL,
    profile_class         INTEGER NOT NULL CHECK (profile_class IN (0, 1, 2)),
    package               BLOB NOT NULL,
    state                 TEXT NOT NULL CHECK (state IN ('available', 'allocated', 'linked',
                              'confirmed', 'released', 'downloaded', 'installed', 'enabled',
                              'disabled', 'deleted', 'cancelled', 'expired', 'error')),
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL
);
-- downloadOrder by profile type picks the oldest available profile.
CREATE INDEX profiles_by_stock ON profiles (operator_id, profile_type, state, created_at);

CREATE TABLE orders (
    order_id               TEXT PRIMARY KEY,
    iccid                  TEXT NOT NULL REFERENCES profiles(iccid),
    operator_id            TEXT NOT NULL REFERENCES operators(id),
    profile_type           TEXT NOT NULL,
    eid                    TEXT,
    -- Unique among all orders ever, cancelled ones included: a matching ID
    -- is never reused (SGP.22 8.2.6/3.3 on a duplicate).
    matching_id            TEXT UNIQUE,
    cc_sha256              BLOB CHECK (cc_sha256 IS NULL OR length(cc_sha256) = 32),
    cc_required            INTEGER NOT NULL CHECK (cc_required IN (0, 1)),
    cc_failures            INTEGER NOT NULL DEFAULT 0,
    cc_failure_limit       INTEGER NOT NULL CHECK (cc_failure_limit >= 1),
    download_attempts      INTEGER NOT NULL DEFAULT 0,
    download_attempt_limit INTEGER NOT NULL CHECK (download_attempt_limit >= 1),
    expires_at             INTEGER NOT NULL,
    state                  TEXT NOT NULL CHECK (state IN ('allocated', 'linked', 'confirmed',
                               'released', 'downloaded', 'installed', 'enabled', 'disabled',
                               'deleted', 'cancelled', 'expired', 'error')),
    locked                 INTEGER NOT NULL DEFAULT 0 CHECK (locked IN (0, 1)),
    lock_reason            TEXT,
    smds_address           TEXT,
    created_at             INTEGER NOT NULL,
    updated_at             INTEGER NOT NULL,
    CHECK (cc_required = 0 OR cc_sha256 IS NOT NULL)
);
-- At most one live order holds a profile; the store's own checks come
-- first, this is the last line.
CREATE UNIQUE INDEX orders_live_per_profile ON orders (iccid)
    WHERE state NOT IN ('cancelled', 'expired', 'error', 'deleted');
CREATE INDEX orders_by_profile ON orders (iccid, created_at);
CREATE INDEX orders_by_expiry ON orders (state, expires_at);

CREATE TABLE order_events (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id TEXT NOT NULL REFERENCES orders(order_id),
    at       INTEGER NOT NULL,
    name     TEXT NOT NULL,
    detail   TEXT NOT NULL
);
CREATE INDEX order_events_by_order ON order_events (order_id, id);

-- Every transaction ID ever handed out, so that it stays unique after its
-- session row is purged (SGP.22: unique for the lifetime of the SM-DP+).
CREATE TABLE used_transaction_ids (
    transaction_id TEXT PRIMARY KEY,
    used_at        INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE sessions (
    transaction_id    TEXT PRIMARY KEY REFERENCES used_transaction_ids(transaction_id),
    state             TEXT NOT NULL CHECK (state IN ('initiated', 'authenticated', 'bpp_sent', 'ended')),
    created_at        INTEGER NOT NULL,
    expires_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    euicc_challenge   BLOB NOT NULL,
    server_challenge  BLOB NOT NULL,
    server_address    TEXT NOT NULL,
    ci_pkid           BLOB NOT NULL,
    client_address    TEXT,
    euicc_certificate BLOB,
    eid               TEXT,
    order_id          TEXT REFERENCES orders(order_id),
    smdp_signed2      BLOB,
    smdp_signature2   BLOB,
    euicc_otpk        BLOB,
    smdp_otsk         BLOB,
    smdp_otpk         BLOB,
    cc_attempts       INTEGER NOT NULL DEFAULT 0,
    end_reason        TEXT
);
CREATE INDEX sessions_by_expiry ON sessions (state, expires_at);
CREATE INDEX sessions_by_order ON sessions (order_id);

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    operator_id     TEXT NOT NULL REFERENCES operators(id),
    order_id        TEXT REFERENCES orders(order_id),
    body            TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at, id);
