-- The directory (issue 11): teams, agents and campaigns are created,
-- renamed and ended by the administrator. Ending keeps the row (recordings,
-- evaluations and accounts refer to it) and stops new recordings, members
-- and changes. An ended agent's name is replaced by a pseudonym once no
-- recording or evaluation collected within the last year names them (R4);
-- name_erased_at says when. Times are INTEGER Unix milliseconds UTC, 0 =
-- not yet, as everywhere.

-- +goose Up
ALTER TABLE teams ADD COLUMN ended_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE agents ADD COLUMN ended_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE agents ADD COLUMN name_erased_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE campaigns ADD COLUMN ended_at INTEGER NOT NULL DEFAULT 0;
CREATE INDEX agents_team ON agents (team_id, ended_at);
CREATE INDEX agents_ended ON agents (ended_at, name_erased_at);

-- +goose Down
DROP INDEX agents_ended;
DROP INDEX agents_team;
ALTER TABLE campaigns DROP COLUMN ended_at;
ALTER TABLE agents DROP COLUMN name_erased_at;
ALTER TABLE agents DROP COLUMN ended_at;
ALTER TABLE teams DROP COLUMN ended_at;
