-- esimguard store schema, version 4: the portal (issue 5). Accounts of
-- subscribers and operator staff, their one-time recovery codes, and browser
-- sessions. No secret in clear: Argon2id password strings, SHA-256 of
-- recovery codes and session tokens. Times are integer microseconds, UTC.

CREATE TABLE portal_accounts (
    id                  TEXT PRIMARY KEY,
    name                TEXT NOT NULL UNIQUE,
    role                TEXT NOT NULL CHECK (role IN ('subscriber', 'operator', 'admin')),
    subscriber_id       TEXT,
    operator_id         TEXT,
    password_hash       TEXT NOT NULL,
    totp_secret         BLOB,
    totp_last_step      INTEGER,
    totp_pending_secret BLOB,
    failed_attempts     INTEGER NOT NULL DEFAULT 0,
    last_failure_at     INTEGER,
    created_at          INTEGER NOT NULL
);

CREATE TABLE portal_recovery_codes (
    account_id TEXT NOT NULL REFERENCES portal_accounts (id) ON DELETE CASCADE,
    code_hash  BLOB NOT NULL CHECK (length(code_hash) = 32),
    used_at    INTEGER,
    PRIMARY KEY (account_id, code_hash)
);

CREATE TABLE portal_sessions (
    token_hash   BLOB PRIMARY KEY CHECK (length(token_hash) = 32),
    account_id   TEXT NOT NULL REFERENCES portal_accounts (id) ON DELETE CASCADE,
    csrf_token   TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX portal_sessions_by_account ON portal_sessions (account_id);
CREATE INDEX portal_sessions_by_expiry ON portal_sessions (expires_at);
