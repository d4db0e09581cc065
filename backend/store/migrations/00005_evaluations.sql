-- Evaluation grids and evaluations (issue 6, R12, R13). Times are INTEGER
-- Unix milliseconds UTC as everywhere. An evaluation has no foreign key to
-- its call: the recording goes after 6 months, the evaluation stays until
-- its own retained_until (1 year after creation), so it copies what it
-- needs of the call (agent, team, start).

-- +goose Up
CREATE TABLE grids (
    id         TEXT NOT NULL,
    version    INTEGER NOT NULL,
    name       TEXT NOT NULL,
    direction  TEXT NOT NULL DEFAULT '',
    -- The grid as JSON (sections, criteria, choices): read and written
    -- whole, never queried inside.
    body       TEXT NOT NULL,
    created_by TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (id, version)
);

CREATE TABLE evaluations (
    id                TEXT PRIMARY KEY,
    call_id           TEXT NOT NULL UNIQUE,
    call_started_at   INTEGER NOT NULL,
    grid_id           TEXT NOT NULL,
    grid_version      INTEGER NOT NULL,
    agent_id          TEXT NOT NULL,
    team_id           TEXT NOT NULL,
    evaluator_id      TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('draft','submitted','acknowledged','disputed','resolved')),
    version           INTEGER NOT NULL,
    -- Answers as JSON [{criterion_id, value, comment}].
    answers           TEXT NOT NULL,
    comment           TEXT NOT NULL DEFAULT '',
    -- Total in tenths of a percent (scoring rounds to one decimal).
    total_tenths      INTEGER NOT NULL DEFAULT 0,
    has_total         INTEGER NOT NULL DEFAULT 0,
    critical_failed   INTEGER NOT NULL DEFAULT 0,
    override_reason   TEXT NOT NULL DEFAULT '',
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    submitted_at      INTEGER NOT NULL DEFAULT 0,
    retained_until    INTEGER NOT NULL,
    acknowledged_at   INTEGER NOT NULL DEFAULT 0,
    disputed_at       INTEGER NOT NULL DEFAULT 0,
    agent_comment     TEXT NOT NULL DEFAULT '',
    resolved_at       INTEGER NOT NULL DEFAULT 0,
    resolution        TEXT NOT NULL DEFAULT '' CHECK (resolution IN ('','kept','revised')),
    resolution_reason TEXT NOT NULL DEFAULT '',
    resolved_by       TEXT NOT NULL DEFAULT '',
    FOREIGN KEY (grid_id, grid_version) REFERENCES grids (id, version)
);
CREATE INDEX evaluations_team ON evaluations (team_id, call_started_at);
CREATE INDEX evaluations_agent ON evaluations (agent_id, call_started_at);
CREATE INDEX evaluations_retained ON evaluations (retained_until);

-- +goose Down
DROP TABLE evaluations;
DROP TABLE grids;
