-- esimguard store schema, version 2: the hash-chained audit log (issue 4 §4).
-- One row per event; seq is the chain position (1, 2, 3, … with no gaps),
-- hash = SHA-256(prev_hash || canonical encoding of the event), computed by
-- the defense module (lib/defense/audit/canonical.cpp defines the encoding).
-- Times are integer microseconds since the Unix epoch, UTC.

CREATE TABLE audit_events (
    seq            INTEGER PRIMARY KEY CHECK (seq >= 1),
    at             INTEGER NOT NULL,
    actor          TEXT NOT NULL,
    kind           TEXT NOT NULL,
    eid            TEXT,
    iccid          TEXT,
    source_address TEXT,
    outcome        TEXT NOT NULL,
    reason         TEXT NOT NULL,
    -- The exact bytes that were hashed: never re-serialised on the way out.
    detail         TEXT NOT NULL,
    prev_hash      BLOB NOT NULL CHECK (length(prev_hash) = 32),
    hash           BLOB NOT NULL CHECK (length(hash) = 32)
);

-- Activation records as `esimguard audit show --iccid|--eid|--ip` reads them.
CREATE INDEX audit_events_by_iccid ON audit_events (iccid, at, seq) WHERE iccid IS NOT NULL;
CREATE INDEX audit_events_by_eid ON audit_events (eid, at, seq) WHERE eid IS NOT NULL;
CREATE INDEX audit_events_by_source ON audit_events (source_address, at, seq)
    WHERE source_address IS NOT NULL;
-- verify() asks which row carries a given hash when it classifies a break.
CREATE INDEX audit_events_by_hash ON audit_events (hash);

-- Append-only from the application's side. These guard against a bug or a
-- stray admin statement, not against someone with write access to the file
-- (who can drop them): that is what the hash chain and the head file are for.
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;
