-- Sorting the call list by duration (console `s` key) walked the whole
-- table: 143 ms a page at 100,000 calls. The started_at order already has
-- calls_state_started. (Number 00004 was never used: migrations go up from
-- 00007.)

-- +goose Up
CREATE INDEX calls_state_duration ON calls (state, duration_ms, id);

-- +goose Down
DROP INDEX calls_state_duration;
