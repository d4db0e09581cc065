-- Identity (issue 4): named accounts, password life, lockout, recording
-- periods. Times are INTEGER Unix milliseconds UTC, as everywhere.

-- +goose Up
ALTER TABLE users ADD COLUMN first_name TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN last_name TEXT NOT NULL DEFAULT '';
-- When the current password was set; expiry counts from it. 0 = unknown,
-- treated as "set at account creation".
ALTER TABLE users ADD COLUMN password_changed_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN locked_until INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN disabled_at INTEGER NOT NULL DEFAULT 0;

-- The previous password hashes, so a new password cannot be an old one.
CREATE TABLE password_history (
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    hash       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX password_history_user ON password_history (user_id, created_at);

-- When a team may be recorded (R6): an upload outside every period of its
-- team is refused. [starts_at, ends_at).
CREATE TABLE recording_periods (
    id         TEXT PRIMARY KEY,
    team_id    TEXT NOT NULL REFERENCES teams(id),
    starts_at  INTEGER NOT NULL,
    ends_at    INTEGER NOT NULL CHECK (ends_at > starts_at),
    note       TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);
CREATE INDEX recording_periods_team ON recording_periods (team_id, starts_at);

-- +goose Down
DROP TABLE recording_periods;
DROP TABLE password_history;
ALTER TABLE users DROP COLUMN disabled_at;
ALTER TABLE users DROP COLUMN locked_until;
ALTER TABLE users DROP COLUMN failed_logins;
ALTER TABLE users DROP COLUMN password_changed_at;
ALTER TABLE users DROP COLUMN last_name;
ALTER TABLE users DROP COLUMN first_name;
