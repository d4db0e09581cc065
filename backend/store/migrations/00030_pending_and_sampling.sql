-- Ingest at telephony speed and a sample nobody can game (issue 18).
-- Times are INTEGER Unix milliseconds UTC, as everywhere.

-- +goose Up

-- Uploads wait for the daily sampling (R2) here, not in calls: 95 % of
-- them are deleted the next night, and a row here costs four B-trees to
-- write and delete where calls, indexed for the console, costs seven or
-- more. The sampling copies the kept ones into calls and deletes the
-- day's rows. The columns are calls' own, taken when this migration runs:
-- a later migration that adds a column to calls adds it here too.
CREATE TABLE pending_calls AS SELECT * FROM calls WHERE 0;
-- The keyed hash of the external id (see sampled_out), computed at upload.
ALTER TABLE pending_calls ADD COLUMN id_hash INTEGER NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX pending_calls_external ON pending_calls (external_id);
-- The sampling reads a day's rows from this index alone.
CREATE INDEX pending_calls_started ON pending_calls (started_at, id_hash, agent_id);
-- The few uploads whose audio is a file of its own, not in a pack.
CREATE INDEX pending_calls_alone ON pending_calls (started_at) WHERE instr(audio_key, '@') = 0;
-- Uploads of an earlier version move here with a hash of 0: their re-upload
-- after sampling is not recognised (they were uploaded before the rule).
INSERT INTO pending_calls SELECT *, 0 FROM calls WHERE state = 'pending';
DELETE FROM calls WHERE state = 'pending';

-- Kept calls whose waveform is still to be computed: decoding waits for
-- the sampling, for the 5 % kept (peak_bucket_ms = 0 until the peaks are
-- in), and happens on the first open or in the daily job.
CREATE INDEX calls_without_peaks ON calls (started_at) WHERE peak_bucket_ms = 0;

-- The calls the sampling deleted, by a keyed hash of their external id
-- only (the first 8 bytes of HMAC-SHA-256 with a key derived from the data
-- key, which is never in the database): an upload of one of them again is
-- refused (SAMPLED_OUT), so a retry is not another draw. day is the UTC
-- day of the call (00:00); the purge deletes the hashes of a day once
-- every recording of it is past its retention. stratum is round << 16 |
-- the agent's index in that round's record (sampling_rounds.strata), so
-- an auditor can recompute the draw.
CREATE TABLE sampled_out (
    h       INTEGER PRIMARY KEY,
    day     INTEGER NOT NULL,
    stratum INTEGER NOT NULL
);
CREATE INDEX sampled_out_day ON sampled_out (day);

-- One row per sampling of a day (a round: late uploads of a day already
-- sampled make another), for an auditor to check afterwards that the day
-- was sampled once, at the declared rate: the counts, the rate, the
-- per-agent figures and kept hashes (strata, JSON), the seed the draw was
-- made from and its commitment, which the audit trail received before the
-- draw (action sampling.commit).
CREATE TABLE sampling_rounds (
    day        INTEGER NOT NULL,
    round      INTEGER NOT NULL,
    rate       REAL NOT NULL,
    received   INTEGER NOT NULL,
    kept       INTEGER NOT NULL,
    strata     TEXT NOT NULL,
    seed       BLOB NOT NULL,
    commitment TEXT NOT NULL,
    run_for    INTEGER NOT NULL,
    sampled_at INTEGER NOT NULL,
    PRIMARY KEY (day, round)
) WITHOUT ROWID;

-- The teams an agent was moved out of, so a recording made before a move
-- and uploaded after it still names a team the agent was in.
CREATE TABLE agent_past_teams (
    agent_id TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    team_id  TEXT NOT NULL REFERENCES teams(id),
    PRIMARY KEY (agent_id, team_id)
) WITHOUT ROWID;
-- +goose StatementBegin
CREATE TRIGGER agents_moved AFTER UPDATE OF team_id ON agents WHEN OLD.team_id <> NEW.team_id
BEGIN
    INSERT OR IGNORE INTO agent_past_teams (agent_id, team_id) VALUES (OLD.id, OLD.team_id);
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER agents_moved;
DROP TABLE agent_past_teams;
DROP TABLE sampling_rounds;
DROP TABLE sampled_out;
DROP INDEX calls_without_peaks;
ALTER TABLE pending_calls DROP COLUMN id_hash;
INSERT INTO calls SELECT * FROM pending_calls;
DROP TABLE pending_calls;
