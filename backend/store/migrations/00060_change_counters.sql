-- Change counters (issue 19): a number per area that every change of the
-- area's rows raises, in the same transaction, through triggers, whichever
-- process or code path makes it. A cache keyed by the number is never
-- stale: the session check keeps who a token belongs to for as long as
-- 'auth' (users, their teams, sessions) has not moved, instead of three
-- queries and a write per request; the listing keeps the exact count of a
-- filter with dates, durations or scores for as long as 'calls' (kept
-- calls, evaluation totals) has not moved. A session's last use
-- (last_used_at) does not count as a change.
--
-- Triggers are SQLite's; a PostgreSQL store would use trigger functions
-- with the same effect.

-- +goose Up
CREATE TABLE change_counters (
    name TEXT PRIMARY KEY,
    n    INTEGER NOT NULL
);
INSERT INTO change_counters (name, n) VALUES ('auth', 0), ('calls', 0);

-- +goose StatementBegin
CREATE TRIGGER auth_users_updated AFTER UPDATE ON users
BEGIN UPDATE change_counters SET n = n + 1 WHERE name = 'auth'; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER auth_users_deleted AFTER DELETE ON users
BEGIN UPDATE change_counters SET n = n + 1 WHERE name = 'auth'; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER auth_user_teams_added AFTER INSERT ON user_teams
BEGIN UPDATE change_counters SET n = n + 1 WHERE name = 'auth'; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER auth_user_teams_updated AFTER UPDATE ON user_teams
BEGIN UPDATE change_counters SET n = n + 1 WHERE name = 'auth'; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER auth_user_teams_deleted AFTER DELETE ON user_teams
BEGIN UPDATE change_counters SET n = n + 1 WHERE name = 'auth'; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER auth_sessions_updated AFTER UPDATE OF token_hash, user_id, source_addr, created_at, expires_at ON sessions
BEGIN UPDATE change_counters SET n = n + 1 WHERE name = 'auth'; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER auth_sessions_deleted AFTER DELETE ON sessions
BEGIN UPDATE change_counters SET n = n + 1 WHERE name = 'auth'; END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER auth_sessions_deleted;
DROP TRIGGER auth_sessions_updated;
DROP TRIGGER auth_user_teams_deleted;
DROP TRIGGER auth_user_teams_updated;
DROP TRIGGER auth_user_teams_added;
DROP TRIGGER auth_users_deleted;
DROP TRIGGER auth_users_updated;
DROP TABLE change_counters;
