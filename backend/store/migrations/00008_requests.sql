-- Request ids (issue 10): a write a client may send again carries an id of
-- the client's choosing; the row written in the same transaction as the
-- change says the request was applied, so a resent request is answered
-- from it (by re-reading object_id) instead of being applied twice. Only
-- ids, a hash of the request and a count are kept, no personal text; rows
-- go after 24 hours (config.RequestIDs) with the daily purge.

-- +goose Up
CREATE TABLE requests (
    user_id     TEXT NOT NULL,
    method      TEXT NOT NULL,
    request_id  TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    object_id   TEXT NOT NULL,
    count       INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (user_id, method, request_id)
) WITHOUT ROWID;
CREATE INDEX requests_created ON requests (created_at);

-- +goose Down
DROP TABLE requests;
