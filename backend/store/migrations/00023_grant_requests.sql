-- Four-eyes for privileged grants (issue 12, R8, R9): an account created
-- with a role that reads call content or personal data, teams added to a
-- supervisor or trainer, and a password reset wait for a second person's
-- approval. A pending account cannot log in (users.pending_grant). The
-- second half of a reset password waits here, sealed with the data key
-- (secret), until it is given to the approver once, or destroyed.

-- +goose Up
ALTER TABLE users ADD COLUMN pending_grant TEXT NOT NULL DEFAULT '';

CREATE TABLE grant_requests (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL CHECK (kind IN ('account','teams','password_reset')),
    user_id      TEXT NOT NULL,
    login        TEXT NOT NULL,
    role         TEXT NOT NULL,
    team_ids     TEXT NOT NULL DEFAULT '', -- comma-separated, for kind 'teams'
    secret       BLOB,                     -- sealed, for kind 'password_reset'
    requested_by TEXT NOT NULL,            -- user id, '' for the command line
    requested_by_login TEXT NOT NULL,
    requested_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('pending','approved','refused','expired')),
    decided_by   TEXT NOT NULL DEFAULT '',
    decided_by_login TEXT NOT NULL DEFAULT '',
    decided_at   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX grant_requests_status ON grant_requests (status, requested_at);

-- +goose Down
DROP TABLE grant_requests;
ALTER TABLE users DROP COLUMN pending_grant;
