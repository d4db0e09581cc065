-- Login throttling (issue 12): failures are counted per login tried AND
-- source address, so that guessing from one address slows that address
-- down without locking the account for its owner elsewhere. The login may
-- name no account (the answer is the same). Rows are connection data: the
-- daily purge drops them a day after their last failure, once unlocked.

-- +goose Up
CREATE TABLE login_throttles (
    login           TEXT NOT NULL,
    source          TEXT NOT NULL,
    failures        INTEGER NOT NULL,
    locked_until    INTEGER NOT NULL DEFAULT 0,
    last_failure_at INTEGER NOT NULL,
    PRIMARY KEY (login, source)
) WITHOUT ROWID;
CREATE INDEX login_throttles_last ON login_throttles (last_failure_at);

-- +goose Down
DROP TABLE login_throttles;
