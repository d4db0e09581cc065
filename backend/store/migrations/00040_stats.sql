-- Statistics (issue 17). Times are INTEGER Unix milliseconds UTC.
--
-- Evaluations gain the campaign of their call (copied, like agent and
-- team, because the recording goes long before the evaluation) and a kind:
-- 'normal', or 'calibration' (the training issue's calibration sessions),
-- which never counts in any statistic.
--
-- evaluation_parts is what scoring found in each evaluation, per section
-- (score) and per criterion (counted, failed), written with the
-- evaluation; the statistics count from it without parsing answers.
--
-- activity_intervals is the telephony side's activity feed (R5), kept 12
-- months like connection logs (R4; config.ActivityKeptUntil).
--
-- stat_scores, stat_parts and stat_activity are pre-aggregates per agent
-- and bucket, stored in key order (WITHOUT ROWID: a dashboard's range is
-- read from contiguous pages): span 'd' (day), 'w' (week from Monday) or 'm' (calendar
-- month), all UTC; rows with agent_id '' sum a team (the parts, and the
-- activity per type), so that a dashboard of every team reads one row per
-- team, not per agent. They are recomputed from the rows above, in the same
-- transaction, for every agent-month a write touches (store/stats.go), so
-- they are never out of step: a revision or a purge changes them at once.
--
-- client_companies links a client account to its company (the campaigns'
-- client_name); client_tables holds the published monthly tables of each
-- company, computed once when the month closes and never changed, so two
-- requests cannot be subtracted. They hold only published figures, never a
-- suppressed value nor anything about one agent.

-- +goose Up
ALTER TABLE evaluations ADD COLUMN campaign_id TEXT NOT NULL DEFAULT '';
ALTER TABLE evaluations ADD COLUMN kind TEXT NOT NULL DEFAULT 'normal' CHECK (kind IN ('normal','calibration'));
UPDATE evaluations SET campaign_id = COALESCE((SELECT c.campaign_id FROM calls c WHERE c.id = evaluations.call_id), '');
-- The drill-down of hr (every team) walks the evaluations by call date.
CREATE INDEX evaluations_started ON evaluations (call_started_at);

CREATE TABLE evaluation_parts (
    evaluation_id TEXT NOT NULL REFERENCES evaluations(id) ON DELETE CASCADE,
    -- 's' section, 'c' criterion
    kind          TEXT NOT NULL CHECK (kind IN ('s','c')),
    part_id       TEXT NOT NULL,
    section_id    TEXT NOT NULL,
    -- criterion: answered and not N/A; section: has a score
    counted       INTEGER NOT NULL,
    failed        INTEGER NOT NULL,
    -- section score in tenths of a percent
    score_tenths  INTEGER NOT NULL,
    PRIMARY KEY (evaluation_id, kind, part_id)
) WITHOUT ROWID;

CREATE TABLE activity_intervals (
    agent_id       TEXT NOT NULL REFERENCES agents(id),
    team_id        TEXT NOT NULL,
    campaign_id    TEXT NOT NULL REFERENCES campaigns(id),
    activity_type  TEXT NOT NULL,
    started_at     INTEGER NOT NULL,
    ended_at       INTEGER NOT NULL,
    calls_handled  INTEGER NOT NULL,
    calls_lost     INTEGER NOT NULL,
    talk_ms        INTEGER NOT NULL,
    back_office_ms INTEGER NOT NULL,
    ring_ms        INTEGER NOT NULL,
    imported_at    INTEGER NOT NULL,
    PRIMARY KEY (agent_id, campaign_id, activity_type, started_at)
);
CREATE INDEX activity_intervals_started ON activity_intervals (started_at);
CREATE INDEX activity_intervals_team ON activity_intervals (team_id, started_at);

CREATE TABLE stat_scores (
    span            TEXT NOT NULL,
    start           INTEGER NOT NULL,
    agent_id        TEXT NOT NULL,
    team_id         TEXT NOT NULL,
    campaign_id     TEXT NOT NULL,
    grid_id         TEXT NOT NULL,
    evaluator_id    TEXT NOT NULL,
    n               INTEGER NOT NULL,
    sum_tenths      INTEGER NOT NULL,
    critical_failed INTEGER NOT NULL,
    -- how many totals fell in each 10-point bin: [0,10) … [90,100]
    b0 INTEGER NOT NULL, b1 INTEGER NOT NULL, b2 INTEGER NOT NULL, b3 INTEGER NOT NULL, b4 INTEGER NOT NULL,
    b5 INTEGER NOT NULL, b6 INTEGER NOT NULL, b7 INTEGER NOT NULL, b8 INTEGER NOT NULL, b9 INTEGER NOT NULL,
    -- in the order a dashboard groups them (bucket, agent, team,
    -- evaluator): the sums stream out of the key without sorting
    PRIMARY KEY (span, start, agent_id, team_id, evaluator_id, campaign_id, grid_id)
) WITHOUT ROWID;
CREATE INDEX stat_scores_team ON stat_scores (span, team_id, start);

CREATE TABLE stat_parts (
    span        TEXT NOT NULL,
    start       INTEGER NOT NULL,
    agent_id    TEXT NOT NULL,
    team_id     TEXT NOT NULL,
    campaign_id TEXT NOT NULL,
    grid_id     TEXT NOT NULL,
    kind        TEXT NOT NULL,
    part_id     TEXT NOT NULL,
    section_id  TEXT NOT NULL,
    counted     INTEGER NOT NULL,
    failed      INTEGER NOT NULL,
    sum_tenths  INTEGER NOT NULL,
    -- agent first: the team rows (agent_id '') of a period are contiguous
    PRIMARY KEY (span, agent_id, start, team_id, campaign_id, grid_id, kind, part_id)
) WITHOUT ROWID;

CREATE TABLE stat_activity (
    span           TEXT NOT NULL,
    start          INTEGER NOT NULL,
    agent_id       TEXT NOT NULL,
    team_id        TEXT NOT NULL,
    campaign_id    TEXT NOT NULL,
    activity_type  TEXT NOT NULL,
    intervals      INTEGER NOT NULL,
    calls_handled  INTEGER NOT NULL,
    calls_lost     INTEGER NOT NULL,
    talk_ms        INTEGER NOT NULL,
    back_office_ms INTEGER NOT NULL,
    ring_ms        INTEGER NOT NULL,
    PRIMARY KEY (span, start, agent_id, team_id, campaign_id, activity_type)
) WITHOUT ROWID;
CREATE INDEX stat_activity_team ON stat_activity (span, team_id, start);

CREATE TABLE client_companies (
    user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    company TEXT NOT NULL
);

CREATE TABLE client_tables (
    company     TEXT NOT NULL,
    month       INTEGER NOT NULL,
    computed_at INTEGER NOT NULL,
    -- the published table as JSON: cells with their figures or their
    -- suppression reason
    body        TEXT NOT NULL,
    PRIMARY KEY (company, month)
);

-- +goose Down
DROP INDEX evaluations_started;
DROP TABLE client_tables;
DROP TABLE client_companies;
DROP TABLE stat_activity;
DROP TABLE stat_parts;
DROP TABLE stat_scores;
DROP TABLE activity_intervals;
DROP TABLE evaluation_parts;
ALTER TABLE evaluations DROP COLUMN kind;
ALTER TABLE evaluations DROP COLUMN campaign_id;
