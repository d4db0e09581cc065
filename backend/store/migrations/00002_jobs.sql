-- Data-life jobs (R2, R4): the daily sampling and the retention purge.
--
-- NO TRANSACTION because VACUUM cannot run inside one: switching an existing
-- database to auto_vacuum = INCREMENTAL only takes effect through a VACUUM.
-- Incremental mode lets each purge hand freed pages back to the file system
-- (PRAGMA incremental_vacuum) without rewriting the whole database the way a
-- full VACUUM would. The statements are idempotent in case a crash
-- interrupts them.

-- +goose NO TRANSACTION
-- +goose Up

-- One row per job run: what ran, for which "now", and counts only. Never
-- the ids of deleted calls (R2: the trail says how many, not which).
CREATE TABLE IF NOT EXISTS job_runs (
    id          INTEGER PRIMARY KEY,
    job         TEXT NOT NULL,
    run_for     INTEGER NOT NULL, -- the clock's "now" the job used
    started_at  INTEGER NOT NULL,
    finished_at INTEGER NOT NULL,
    error       TEXT NOT NULL DEFAULT '',
    summary     TEXT NOT NULL     -- JSON object of counts
);
CREATE INDEX IF NOT EXISTS job_runs_job ON job_runs (job, run_for);

-- Blob keys whose rows are already deleted and whose files must go. The row
-- deletion and the queueing commit together; files are removed afterwards
-- and the key forgotten, so a crash in between leaves work to finish, never
-- an orphan file nor a row without its file.
CREATE TABLE IF NOT EXISTS blob_deletions (
    key       TEXT PRIMARY KEY,
    queued_at INTEGER NOT NULL
);

PRAGMA auto_vacuum = INCREMENTAL;
VACUUM;

-- +goose Down
DROP TABLE IF EXISTS blob_deletions;
DROP TABLE IF EXISTS job_runs;
