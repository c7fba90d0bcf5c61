-- esimguard store schema, version 3: persistent state of the defences
-- (issue 4): blocklist, stolen devices, the alerts inbox, subscribers and
-- their lines, step-up approvals. Times are integer microseconds since the
-- Unix epoch, UTC. Kept to portable SQL (no AUTOINCREMENT, no SQLite-only
-- types) so that the PostgreSQL backend can use the same shape.

CREATE TABLE blocklist (
    kind       TEXT NOT NULL CHECK (kind IN ('ip', 'ip_prefix', 'eid', 'eum', 'matching_id')),
    value      TEXT NOT NULL CHECK (length(value) > 0),
    reason     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    -- NULL: until removed.
    expires_at INTEGER,
    created_by TEXT NOT NULL,
    PRIMARY KEY (kind, value)
);

CREATE TABLE stolen_devices (
    eid         TEXT PRIMARY KEY CHECK (length(eid) > 0),
    reason      TEXT NOT NULL,
    reported_at INTEGER NOT NULL,
    reported_by TEXT NOT NULL
);

CREATE TABLE alerts (
    id              TEXT PRIMARY KEY CHECK (length(id) > 0),
    at              INTEGER NOT NULL,
    severity        TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    rule            TEXT NOT NULL,
    summary         TEXT NOT NULL,
    -- defense::alert_to_json of the whole alert, evidence included.
    body            TEXT NOT NULL,
    subscriber_id   TEXT,
    operator_id     TEXT,
    iccid           TEXT,
    eid             TEXT,
    acknowledged_at INTEGER,
    acknowledged_by TEXT
);
-- The inbox lists newest first, usually for one subscriber or operator.
CREATE INDEX alerts_by_time ON alerts (at);
CREATE INDEX alerts_by_subscriber ON alerts (subscriber_id, at) WHERE subscriber_id IS NOT NULL;
CREATE INDEX alerts_by_operator ON alerts (operator_id, at) WHERE operator_id IS NOT NULL;

CREATE TABLE subscribers (
    id             TEXT PRIMARY KEY CHECK (length(id) > 0),
    display_name   TEXT NOT NULL,
    email          TEXT NOT NULL,
    operator_id    TEXT,
    totp_secret    BLOB,
    -- Last accepted RFC 6238 step; changed only by compare-and-set.
    totp_last_step INTEGER,
    created_at     INTEGER NOT NULL
);

-- No foreign key to profiles: a line may be linked before its profile
-- package is uploaded, and profiles may be archived while the line stays.
CREATE TABLE lines (
    iccid              TEXT PRIMARY KEY CHECK (length(iccid) > 0),
    subscriber_id      TEXT NOT NULL REFERENCES subscribers (id),
    frozen             INTEGER NOT NULL DEFAULT 0 CHECK (frozen IN (0, 1)),
    frozen_reason      TEXT,
    frozen_at          INTEGER,
    step_up_on_new_eid INTEGER NOT NULL DEFAULT 0 CHECK (step_up_on_new_eid IN (0, 1)),
    linked_at          INTEGER NOT NULL
);
CREATE INDEX lines_by_subscriber ON lines (subscriber_id, iccid);

-- EIDs that already held a line: a download to one of them is not "new".
CREATE TABLE line_known_eids (
    iccid    TEXT NOT NULL REFERENCES lines (iccid) ON DELETE CASCADE,
    eid      TEXT NOT NULL CHECK (length(eid) > 0),
    PRIMARY KEY (iccid, eid)
);

CREATE TABLE approvals (
    id                 TEXT PRIMARY KEY CHECK (length(id) > 0),
    order_id           TEXT NOT NULL,
    iccid              TEXT NOT NULL,
    subscriber_id      TEXT NOT NULL REFERENCES subscribers (id),
    eid                TEXT NOT NULL,
    rule               TEXT NOT NULL,
    state              TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'refused', 'expired')),
    -- defense::one_time_code_record: only a salted MAC of the code, never the code.
    code_salt          BLOB NOT NULL,
    code_mac           BLOB NOT NULL,
    code_attempts      INTEGER NOT NULL CHECK (code_attempts >= 0),
    code_max_attempts  INTEGER NOT NULL CHECK (code_max_attempts >= 0),
    code_used          INTEGER NOT NULL CHECK (code_used IN (0, 1)),
    created_at         INTEGER NOT NULL,
    expires_at         INTEGER NOT NULL,
    decided_at         INTEGER,
    decided_by         TEXT
);
CREATE INDEX approvals_by_order_eid ON approvals (order_id, eid, created_at);
CREATE INDEX approvals_by_subscriber ON approvals (subscriber_id, state, created_at);
