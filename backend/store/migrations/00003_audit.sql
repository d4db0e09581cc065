-- The audit trail (R10): an append-only hash chain. Each row carries the
-- SHA-256 of the previous one (prev_hash) and its own hash over the
-- canonical encoding documented in backend/audit/encoding.go. Hashes are
-- lower-case hex. Times are Unix milliseconds UTC.

-- +goose Up
CREATE TABLE audit_events (
    seq         INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    actor_id    TEXT NOT NULL,
    actor_login TEXT NOT NULL,
    actor_role  TEXT NOT NULL,
    source      TEXT NOT NULL,
    action      TEXT NOT NULL,
    target      TEXT NOT NULL,
    details     TEXT NOT NULL, -- JSON object of strings, keys sorted
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_events_at ON audit_events (at);
CREATE INDEX audit_events_actor ON audit_events (actor_id, seq);
CREATE INDEX audit_events_login ON audit_events (actor_login, seq);
CREATE INDEX audit_events_action ON audit_events (action, seq);

-- The signed tail of the chain (one row). Appends chain onto it, not onto
-- the last row, so deleting the newest rows leaves a gap Verify finds.
CREATE TABLE audit_head (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    seq       INTEGER NOT NULL,
    hash      TEXT NOT NULL,
    signature TEXT NOT NULL
);

-- One row per purge (R4: audit entries are connection logs): the last
-- purged entry's seq and hash, signed, so the rest of the chain can still
-- be verified from there.
CREATE TABLE audit_checkpoints (
    seq           INTEGER PRIMARY KEY,
    hash          TEXT NOT NULL,
    purged_before INTEGER NOT NULL,
    purged        INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    public_key    TEXT NOT NULL,
    signature     TEXT NOT NULL
);

-- +goose Down
DROP TABLE audit_checkpoints;
DROP TABLE audit_head;
DROP TABLE audit_events;
