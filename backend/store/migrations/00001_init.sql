-- Every time is INTEGER Unix milliseconds UTC (R14): no date strings, no
-- driver-dependent time parsing. Booleans are INTEGER 0/1. The schema sticks
-- to types and statements PostgreSQL has too (BLOB becomes BYTEA there).

-- +goose Up
CREATE TABLE teams (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE agents (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    team_id    TEXT NOT NULL REFERENCES teams(id),
    created_at INTEGER NOT NULL
);

CREATE TABLE campaigns (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    client_name TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE users (
    id                       TEXT PRIMARY KEY,
    login                    TEXT NOT NULL UNIQUE,
    display_name             TEXT NOT NULL,
    role                     TEXT NOT NULL CHECK (role IN ('supervisor','trainer','agent','hr','client','maintenance','dpo','admin','telephony')),
    password_hash            TEXT NOT NULL,
    password_change_required INTEGER NOT NULL DEFAULT 0,
    agent_id                 TEXT REFERENCES agents(id),
    disabled                 INTEGER NOT NULL DEFAULT 0,
    created_at               INTEGER NOT NULL
);

CREATE TABLE user_teams (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    team_id TEXT NOT NULL REFERENCES teams(id),
    PRIMARY KEY (user_id, team_id)
);

CREATE TABLE calls (
    id                    TEXT PRIMARY KEY,
    external_id           TEXT NOT NULL UNIQUE,
    started_at            INTEGER NOT NULL,
    ended_at              INTEGER NOT NULL,
    agent_id              TEXT NOT NULL REFERENCES agents(id),
    team_id               TEXT NOT NULL REFERENCES teams(id),
    campaign_id           TEXT NOT NULL REFERENCES campaigns(id),
    direction             TEXT NOT NULL CHECK (direction IN ('inbound','outbound')),
    customer_name         TEXT NOT NULL DEFAULT '',
    customer_phone        TEXT NOT NULL DEFAULT '',
    customer_address      TEXT NOT NULL DEFAULT '',
    customer_number       TEXT NOT NULL DEFAULT '',
    consent_requested_at  INTEGER NOT NULL,
    consent_answered_at   INTEGER,
    consent_accepted      INTEGER NOT NULL,
    ring_ms               INTEGER NOT NULL DEFAULT 0,
    talk_ms               INTEGER NOT NULL DEFAULT 0,
    back_office_ms        INTEGER NOT NULL DEFAULT 0,
    activity_type         TEXT NOT NULL DEFAULT '',
    lost                  INTEGER NOT NULL DEFAULT 0,
    state                 TEXT NOT NULL CHECK (state IN ('pending','kept')),
    retained_until        INTEGER NOT NULL,
    audio_key             TEXT NOT NULL,
    audio_size            INTEGER NOT NULL,
    audio_codec           TEXT NOT NULL,
    audio_sample_rate     INTEGER NOT NULL,
    audio_channels        INTEGER NOT NULL,
    audio_bitrate_kbps    INTEGER NOT NULL,
    audio_frame_count     INTEGER NOT NULL,
    audio_samples_per_frame INTEGER NOT NULL,
    duration_ms           INTEGER NOT NULL,
    peak_bucket_ms        INTEGER NOT NULL,
    peaks                 BLOB NOT NULL,
    frame_offsets         BLOB NOT NULL,
    evaluated             INTEGER NOT NULL DEFAULT 0,
    created_at            INTEGER NOT NULL
);
CREATE INDEX calls_state_started ON calls (state, started_at, id);
CREATE INDEX calls_team_started ON calls (team_id, started_at);
CREATE INDEX calls_agent_started ON calls (agent_id, started_at);

CREATE TABLE sessions (
    token_hash   TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    source_addr  TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Opted-out calls are never stored (R3); only how many there were per day.
-- day is the Unix millisecond of 00:00 UTC.
CREATE TABLE optout_counts (
    day   INTEGER PRIMARY KEY,
    count INTEGER NOT NULL
);

-- How many recordings a day received and how many the sampling kept (R2).
CREATE TABLE sampling_counts (
    day      INTEGER PRIMARY KEY,
    received INTEGER NOT NULL,
    kept     INTEGER NOT NULL
);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- +goose Down
DROP TABLE settings;
DROP TABLE sampling_counts;
DROP TABLE optout_counts;
DROP TABLE sessions;
DROP TABLE calls;
DROP TABLE user_teams;
DROP TABLE users;
DROP TABLE campaigns;
DROP TABLE agents;
DROP TABLE teams;
