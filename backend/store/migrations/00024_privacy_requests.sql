-- The dpo's register of the requests of the people concerned (issue 12,
-- R7): access, rectification, objection, erasure; received when, by which
-- channel, how the identity was checked, due one month later, closed with
-- an outcome. The requester, the identity check, the subject's phone, the
-- note and the outcome are sealed with the data key (BLOBs); the phone is
-- found by its keyed hash. agent_id names the agent concerned (no foreign
-- key: the register outlives the agent's row).

-- +goose Up
CREATE TABLE privacy_requests (
    id                 TEXT PRIMARY KEY,
    kind               TEXT NOT NULL CHECK (kind IN ('access','rectification','objection','erasure')),
    received_at        INTEGER NOT NULL,
    channel            TEXT NOT NULL CHECK (channel IN ('letter','email','phone','in_person','web','other')),
    identity_check     BLOB,
    agent_id           TEXT NOT NULL DEFAULT '',
    subject_phone      BLOB,
    subject_phone_hash TEXT NOT NULL DEFAULT '',
    requester          BLOB,
    note               BLOB,
    due_at             INTEGER NOT NULL,
    status             TEXT NOT NULL CHECK (status IN ('open','closed')),
    closed_at          INTEGER NOT NULL DEFAULT 0,
    outcome            BLOB,
    closed_by          TEXT NOT NULL DEFAULT '',
    recorded_at        INTEGER NOT NULL,
    recorded_by        TEXT NOT NULL
);
CREATE INDEX privacy_requests_open ON privacy_requests (status, due_at);

-- +goose Down
DROP TABLE privacy_requests;
