-- SSH public keys (issue 14): the first factor of a login over SSH
-- (ecouted serve --ssh-listen), the account's password being the second.
-- A key belongs to one account; an account may have several. Only public
-- keys are kept. Times are INTEGER Unix milliseconds UTC, as everywhere.

-- +goose Up
CREATE TABLE ssh_keys (
    fingerprint  TEXT PRIMARY KEY,  -- "SHA256:…", as ssh-keygen -l prints it
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    type         TEXT NOT NULL,
    public_key   TEXT NOT NULL,     -- authorized_keys form, without the comment
    comment      TEXT NOT NULL DEFAULT '',
    added_at     INTEGER NOT NULL,
    added_by     TEXT NOT NULL DEFAULT '',
    last_used_at INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX ssh_keys_user ON ssh_keys (user_id, added_at);

-- +goose Down
DROP TABLE ssh_keys;
