-- Training (issue 13): screen captures (R11), coaching sessions (R12) and
-- blind calibration. Times are INTEGER Unix milliseconds UTC as everywhere;
-- the free text (titles, notes, comments, answers) is sealed with the data
-- key (store.SealedColumns), each row named by its id.

-- +goose Up

-- The agent's screen during a recorded call, as keyframes on the call's
-- clock. The images live in the encrypted blob store: one blob per upload,
-- each capture a range of it (blob_offset, size), read without decrypting
-- the rest. A capture is the call's content: it goes with its call (the
-- foreign key cascades from every deletion of calls: sampling, retention,
-- a customer's objection), and its blob is queued for deletion with the
-- last capture that uses it (trigger below). queued_at is the capture's
-- upload time: a trigger cannot read the server's clock, and nothing but
-- the key is read back from the queue.
CREATE TABLE screen_captures (
    id          TEXT PRIMARY KEY,
    call_id     TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    offset_ms   INTEGER NOT NULL CHECK (offset_ms >= 0),
    format      TEXT NOT NULL CHECK (format IN ('png','jpeg')),
    width       INTEGER NOT NULL,
    height      INTEGER NOT NULL,
    blob_key    TEXT NOT NULL,
    blob_offset INTEGER NOT NULL,
    size        INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (call_id, offset_ms)
);
CREATE INDEX screen_captures_blob ON screen_captures (blob_key);

-- +goose StatementBegin
CREATE TRIGGER screen_captures_blob_gone AFTER DELETE ON screen_captures
WHEN NOT EXISTS (SELECT 1 FROM screen_captures WHERE blob_key = OLD.blob_key)
BEGIN
    INSERT OR IGNORE INTO blob_deletions (key, queued_at) VALUES (OLD.blob_key, OLD.created_at);
END;
-- +goose StatementEnd

-- A trainer's coaching session with one agent. agent_id and team_id are
-- copied (no foreign key: the session lives its year whatever becomes of
-- the directory row), and trainer_id names the account.
CREATE TABLE coaching_sessions (
    id              TEXT PRIMARY KEY,
    trainer_id      TEXT NOT NULL,
    agent_id        TEXT NOT NULL,
    team_id         TEXT NOT NULL,
    title           BLOB,
    notes           BLOB,
    override_reason BLOB,
    agent_comment   BLOB,
    status          TEXT NOT NULL CHECK (status IN ('draft','shared','acknowledged','disputed')),
    version         INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    shared_at       INTEGER NOT NULL DEFAULT 0,
    answered_at     INTEGER NOT NULL DEFAULT 0,
    retained_until  INTEGER NOT NULL
);
CREATE INDEX coaching_sessions_trainer ON coaching_sessions (trainer_id, agent_id);
CREATE INDEX coaching_sessions_agent ON coaching_sessions (agent_id);
CREATE INDEX coaching_sessions_retained ON coaching_sessions (retained_until);

CREATE TABLE coaching_goals (
    id           TEXT PRIMARY KEY,
    session_id   TEXT NOT NULL REFERENCES coaching_sessions (id) ON DELETE CASCADE,
    grid_id      TEXT NOT NULL,
    grid_version INTEGER NOT NULL,
    criterion_id TEXT NOT NULL,
    target       REAL NOT NULL,
    due_at       INTEGER NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE INDEX coaching_goals_session ON coaching_goals (session_id);

-- What a session includes: clips (a time range of a call, with a note) and
-- evaluations. call_id is the clip's call, or the attached evaluation's
-- call; it has no foreign key, so that a customer's export, which follows
-- the foreign keys of their calls, does not carry the trainer's notes
-- about the agent; a clip is deleted with its call by the trigger below
-- (R4: clips expire with their recording's audio), an attached evaluation
-- stays while the evaluation does.
CREATE TABLE coaching_items (
    id            TEXT PRIMARY KEY,
    session_id    TEXT NOT NULL REFERENCES coaching_sessions (id) ON DELETE CASCADE,
    kind          TEXT NOT NULL CHECK (kind IN ('clip','evaluation')),
    call_id       TEXT NOT NULL,
    evaluation_id TEXT REFERENCES evaluations (id) ON DELETE CASCADE,
    from_ms       INTEGER NOT NULL DEFAULT 0,
    to_ms         INTEGER NOT NULL DEFAULT 0,
    note          BLOB,
    -- Why the trainer kept terms the R13 check flags in the note.
    override_reason BLOB,
    created_at    INTEGER NOT NULL
);
CREATE INDEX coaching_items_session ON coaching_items (session_id);
CREATE INDEX coaching_items_call ON coaching_items (call_id);

-- +goose StatementBegin
CREATE TRIGGER coaching_clips_gone AFTER DELETE ON calls
BEGIN
    DELETE FROM coaching_items WHERE kind = 'clip' AND call_id = OLD.id;
END;
-- +goose StatementEnd

-- Blind calibration: several evaluators score one call on one grid. The
-- scores are not evaluations (no row of evaluations, no evaluated flag):
-- nothing that reads evaluations, the agent's views and statistics
-- included, can meet them. call_id has no foreign key: the calibration
-- (an analysis document, one year) outlives the recording (six months).
CREATE TABLE calibrations (
    id             TEXT PRIMARY KEY,
    call_id        TEXT NOT NULL,
    -- What the evaluators are told of the call (never whose it is), kept
    -- after the recording is gone.
    call_started_at  INTEGER NOT NULL,
    call_duration_ms INTEGER NOT NULL,
    direction        TEXT NOT NULL,
    grid_id        TEXT NOT NULL,
    grid_version   INTEGER NOT NULL,
    created_by     TEXT NOT NULL,
    expert_id      TEXT NOT NULL DEFAULT '',
    status         TEXT NOT NULL CHECK (status IN ('open','closed')),
    created_at     INTEGER NOT NULL,
    closed_at      INTEGER NOT NULL DEFAULT 0,
    retained_until INTEGER NOT NULL
);
CREATE INDEX calibrations_grid ON calibrations (grid_id, created_at);
CREATE INDEX calibrations_retained ON calibrations (retained_until);

CREATE TABLE calibration_scores (
    id             TEXT PRIMARY KEY,
    calibration_id TEXT NOT NULL REFERENCES calibrations (id) ON DELETE CASCADE,
    evaluator_id   TEXT NOT NULL,
    answers        BLOB,
    comment        BLOB,
    override_reason BLOB,
    total_tenths   INTEGER NOT NULL DEFAULT 0,
    has_total      INTEGER NOT NULL DEFAULT 0,
    version        INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    submitted_at   INTEGER NOT NULL DEFAULT 0,
    UNIQUE (calibration_id, evaluator_id)
);
CREATE INDEX calibration_scores_evaluator ON calibration_scores (evaluator_id);

-- +goose Down
DROP TABLE calibration_scores;
DROP TABLE calibrations;
DROP TRIGGER coaching_clips_gone;
DROP TABLE coaching_items;
DROP TABLE coaching_goals;
DROP TABLE coaching_sessions;
DROP TRIGGER screen_captures_blob_gone;
DROP TABLE screen_captures;
