-- esimguard store schema for PostgreSQL, version 2: the hash-chained audit
-- log, twin of lib/store/migrations/0002_audit.sql.

CREATE TABLE audit_events (
    seq            BIGINT PRIMARY KEY CHECK (seq >= 1),
    at             BIGINT NOT NULL,
    actor          TEXT NOT NULL,
    kind           TEXT NOT NULL,
    eid            TEXT,
    iccid          TEXT,
    source_address TEXT,
    outcome        TEXT NOT NULL,
    reason         TEXT NOT NULL,
    detail         TEXT NOT NULL,
    prev_hash      BYTEA NOT NULL CHECK (length(prev_hash) = 32),
    hash           BYTEA NOT NULL CHECK (length(hash) = 32)
);
CREATE INDEX audit_events_by_iccid ON audit_events (iccid, at, seq) WHERE iccid IS NOT NULL;
CREATE INDEX audit_events_by_eid ON audit_events (eid, at, seq) WHERE eid IS NOT NULL;
CREATE INDEX audit_events_by_source ON audit_events (source_address, at, seq)
    WHERE source_address IS NOT NULL;
CREATE INDEX audit_events_by_hash ON audit_events (hash);

-- One row whose lock every append takes (SELECT … FOR UPDATE) before it
-- reads the last event: appenders on every node queue here, so no two read
-- the same head, and the chain stays linear. seq as primary key would turn
-- a slip into a unique violation rather than a fork.
CREATE TABLE audit_append_lock (
    id SMALLINT PRIMARY KEY CHECK (id = 1)
);
INSERT INTO audit_append_lock (id) VALUES (1);

CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only';
END;
$$;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
