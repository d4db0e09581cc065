-- Indexes of the call list at a million calls (issue 19).
--
-- A page in date or duration order walks (state, key, id) and tests each
-- call against the filter: the filter's columns are now in those indexes
-- too, so the test reads the index entry, not the call's row (a random
-- read per entry in duration order).
--
-- Sorting by agent name joined and sorted every kept call: 10 to 20 s a
-- page. The listing now takes the agents in name order (those with calls
-- in the scope, from call_tally) and reads each agent's kept calls in id
-- order from calls_agent_state_id, so a page reads about as many rows as
-- it shows.
--
-- A filter that keeps few calls (a small campaign, an agent's week) is
-- read through its own index and sorted instead: calls_campaign_started
-- for campaigns (agents and teams had theirs).

-- +goose Up
DROP INDEX calls_state_started;
CREATE INDEX calls_state_started ON calls (state, started_at, id, team_id, agent_id, campaign_id, evaluated, duration_ms);
DROP INDEX calls_state_duration;
CREATE INDEX calls_state_duration ON calls (state, duration_ms, id, team_id, agent_id, campaign_id, evaluated, started_at);
CREATE INDEX calls_agent_state_id ON calls (agent_id, state, id, team_id, campaign_id, evaluated, started_at, duration_ms);
CREATE INDEX calls_campaign_started ON calls (campaign_id, started_at);

-- +goose Down
DROP INDEX calls_campaign_started;
DROP INDEX calls_agent_state_id;
DROP INDEX calls_state_duration;
CREATE INDEX calls_state_duration ON calls (state, duration_ms, id);
DROP INDEX calls_state_started;
CREATE INDEX calls_state_started ON calls (state, started_at, id);
