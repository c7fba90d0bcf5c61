-- esimguard store schema for PostgreSQL, version 3: persistent state of the
-- defences, twin of lib/store/migrations/0003_defense.sql.

CREATE TABLE blocklist (
    kind       TEXT NOT NULL CHECK (kind IN ('ip', 'ip_prefix', 'eid', 'eum', 'matching_id')),
    value      TEXT NOT NULL CHECK (length(value) > 0),
    reason     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    created_by TEXT NOT NULL,
    PRIMARY KEY (kind, value)
);

CREATE TABLE stolen_devices (
    eid         TEXT PRIMARY KEY CHECK (length(eid) > 0),
    reason      TEXT NOT NULL,
    reported_at BIGINT NOT NULL,
    reported_by TEXT NOT NULL
);

CREATE TABLE alerts (
    id              TEXT PRIMARY KEY CHECK (length(id) > 0),
    at              BIGINT NOT NULL,
    severity        TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    rule            TEXT NOT NULL,
    summary         TEXT NOT NULL,
    body            TEXT NOT NULL,
    subscriber_id   TEXT,
    operator_id     TEXT,
    iccid           TEXT,
    eid             TEXT,
    acknowledged_at BIGINT,
    acknowledged_by TEXT
);
CREATE INDEX alerts_by_time ON alerts (at);
CREATE INDEX alerts_by_subscriber ON alerts (subscriber_id, at) WHERE subscriber_id IS NOT NULL;
CREATE INDEX alerts_by_operator ON alerts (operator_id, at) WHERE operator_id IS NOT NULL;

CREATE TABLE subscribers (
    id             TEXT PRIMARY KEY CHECK (length(id) > 0),
    display_name   TEXT NOT NULL,
    email          TEXT NOT NULL,
    operator_id    TEXT,
    totp_secret    BYTEA,
    totp_last_step BIGINT,
    created_at     BIGINT NOT NULL
);

CREATE TABLE lines (
    iccid              TEXT PRIMARY KEY CHECK (length(iccid) > 0),
    subscriber_id      TEXT NOT NULL REFERENCES subscribers (id),
    frozen             SMALLINT NOT NULL DEFAULT 0 CHECK (frozen IN (0, 1)),
    frozen_reason      TEXT,
    frozen_at          BIGINT,
    step_up_on_new_eid SMALLINT NOT NULL DEFAULT 0 CHECK (step_up_on_new_eid IN (0, 1)),
    linked_at          BIGINT NOT NULL
);
CREATE INDEX lines_by_subscriber ON lines (subscriber_id, iccid);

CREATE TABLE line_known_eids (
    iccid TEXT NOT NULL REFERENCES lines (iccid) ON DELETE CASCADE,
    eid   TEXT NOT NULL CHECK (length(eid) > 0),
    PRIMARY KEY (iccid, eid)
);

CREATE TABLE approvals (
    id                TEXT PRIMARY KEY CHECK (length(id) > 0),
    -- Insertion order: breaks ties of equal created_at as SQLite's rowid does.
    row_seq           BIGINT GENERATED ALWAYS AS IDENTITY,
    order_id          TEXT NOT NULL,
    iccid             TEXT NOT NULL,
    subscriber_id     TEXT NOT NULL REFERENCES subscribers (id),
    eid               TEXT NOT NULL,
    rule              TEXT NOT NULL,
    state             TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'refused', 'expired')),
    code_salt         BYTEA NOT NULL,
    code_mac          BYTEA NOT NULL,
    code_attempts     INTEGER NOT NULL CHECK (code_attempts >= 0),
    code_max_attempts INTEGER NOT NULL CHECK (code_max_attempts >= 0),
    code_used         SMALLINT NOT NULL CHECK (code_used IN (0, 1)),
    created_at        BIGINT NOT NULL,
    expires_at        BIGINT NOT NULL,
    decided_at        BIGINT,
    decided_by        TEXT
);
CREATE INDEX approvals_by_order_eid ON approvals (order_id, eid, created_at);
CREATE INDEX approvals_by_subscriber ON approvals (subscriber_id, state, created_at);
