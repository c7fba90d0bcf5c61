-- esimguard store schema for PostgreSQL, version 1: the twin of
-- lib/store/migrations/0001_initial.sql with the same tables, columns and
-- constraints. Times are BIGINT microseconds since the Unix epoch, UTC;
-- flags are SMALLINT 0/1, as in SQLite, so that both backends read rows alike.

CREATE TABLE operators (
    id                    TEXT PRIMARY KEY,
    display_name          TEXT NOT NULL,
    token_sha256          TEXT NOT NULL UNIQUE,
    client_cert_sha256    TEXT UNIQUE,
    download_progress_url TEXT,
    created_at            BIGINT NOT NULL
);

CREATE TABLE profiles (
    iccid                 TEXT PRIMARY KEY CHECK (iccid ~ '^[0-9]{18,20}$'),
    operator_id           TEXT NOT NULL REFERENCES operators(id),
    profile_type          TEXT NOT NULL,
    service_provider_name TEXT NOT NULL,
    profile_name          TEXT NOT NULL,
    profile_class         SMALLINT NOT NULL CHECK (profile_class IN (0, 1, 2)),
    package               BYTEA NOT NULL,
    state                 TEXT NOT NULL CHECK (state IN ('available', 'allocated', 'linked',
                              'confirmed', 'released', 'downloaded', 'installed', 'enabled',
                              'disabled', 'deleted', 'cancelled', 'expired', 'error')),
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL
);
CREATE INDEX profiles_by_stock ON profiles (operator_id, profile_type, state, created_at);

CREATE TABLE orders (
    order_id               TEXT PRIMARY KEY,
    -- Insertion order, the tie-break SQLite's rowid gives for equal created_at.
    row_seq                BIGINT GENERATED ALWAYS AS IDENTITY,
    iccid                  TEXT NOT NULL REFERENCES profiles(iccid),
    operator_id            TEXT NOT NULL REFERENCES operators(id),
    profile_type           TEXT NOT NULL,
    eid                    TEXT,
    -- Unique among all orders ever: a matching ID is never reused.
    matching_id            TEXT UNIQUE,
    cc_sha256              BYTEA CHECK (cc_sha256 IS NULL OR length(cc_sha256) = 32),
    cc_required            SMALLINT NOT NULL CHECK (cc_required IN (0, 1)),
    cc_failures            INTEGER NOT NULL DEFAULT 0,
    cc_failure_limit       INTEGER NOT NULL CHECK (cc_failure_limit >= 1),
    download_attempts      INTEGER NOT NULL DEFAULT 0,
    download_attempt_limit INTEGER NOT NULL CHECK (download_attempt_limit >= 1),
    expires_at             BIGINT NOT NULL,
    state                  TEXT NOT NULL CHECK (state IN ('allocated', 'linked', 'confirmed',
                               'released', 'downloaded', 'installed', 'enabled', 'disabled',
                               'deleted', 'cancelled', 'expired', 'error')),
    locked                 SMALLINT NOT NULL DEFAULT 0 CHECK (locked IN (0, 1)),
    lock_reason            TEXT,
    smds_address           TEXT,
    created_at             BIGINT NOT NULL,
    updated_at             BIGINT NOT NULL,
    CHECK (cc_required = 0 OR cc_sha256 IS NOT NULL)
);
-- At most one live order holds a profile: the last line behind the store's
-- row locks, and what makes two nodes' create_order on one ICCID conflict.
CREATE UNIQUE INDEX orders_live_per_profile ON orders (iccid)
    WHERE state NOT IN ('cancelled', 'expired', 'error', 'deleted');
CREATE INDEX orders_by_profile ON orders (iccid, created_at);
CREATE INDEX orders_by_expiry ON orders (state, expires_at);

CREATE TABLE order_events (
    id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id TEXT NOT NULL REFERENCES orders(order_id),
    at       BIGINT NOT NULL,
    name     TEXT NOT NULL,
    detail   TEXT NOT NULL
);
CREATE INDEX order_events_by_order ON order_events (order_id, id);

CREATE TABLE used_transaction_ids (
    transaction_id TEXT PRIMARY KEY,
    used_at        BIGINT NOT NULL
);

CREATE TABLE sessions (
    transaction_id    TEXT PRIMARY KEY REFERENCES used_transaction_ids(transaction_id),
    state             TEXT NOT NULL CHECK (state IN ('initiated', 'authenticated', 'bpp_sent', 'ended')),
    created_at        BIGINT NOT NULL,
    expires_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    euicc_challenge   BYTEA NOT NULL,
    server_challenge  BYTEA NOT NULL,
    server_address    TEXT NOT NULL,
    ci_pkid           BYTEA NOT NULL,
    client_address    TEXT,
    euicc_certificate BYTEA,
    eid               TEXT,
    order_id          TEXT REFERENCES orders(order_id),
    smdp_signed2      BYTEA,
    smdp_signature2   BYTEA,
    euicc_otpk        BYTEA,
    smdp_otsk         BYTEA,
    smdp_otpk         BYTEA,
    cc_attempts       INTEGER NOT NULL DEFAULT 0,
    end_reason        TEXT
);
CREATE INDEX sessions_by_expiry ON sessions (state, expires_at);
CREATE INDEX sessions_by_order ON sessions (order_id);

CREATE TABLE outbox (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    operator_id     TEXT NOT NULL REFERENCES operators(id),
    order_id        TEXT REFERENCES orders(order_id),
    body            TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    last_error      TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at, id);
