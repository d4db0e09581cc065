package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrInUse means an object cannot be ended while others depend on it (a
// team with active agents).
var ErrInUse = errors.New("in use")

// Directory is the life of teams, agents and campaigns beyond their
// creation: listing, renaming, moving, ending, and the erasure of ended
// agents' names (R4). Each change records the request of ctx (see
// WithRequest) in its own transaction.
type Directory interface {
	// ListAgents lists the agents of the given teams (nil: every team),
	// by id; ended ones only with ended.
	ListAgents(ctx context.Context, teamIDs []string, ended bool) ([]Agent, error)
	// ListCampaigns lists the campaigns by id; ended ones only with ended.
	ListCampaigns(ctx context.Context, ended bool) ([]Campaign, error)
	// UpdateAgent sets an agent's name and team.
	UpdateAgent(ctx context.Context, id, name, teamID string) error
	// EndAgent ends an agent at at, disables the accounts linked to the
	// agent and ends their sessions; it returns how many accounts it
	// disabled.
	EndAgent(ctx context.Context, id string, at time.Time) (accounts int, err error)
	// RenameTeam sets a team's name.
	RenameTeam(ctx context.Context, id, name string) error
	// EndTeam ends a team at at; ErrInUse (with the count) while it has
	// active agents.
	EndTeam(ctx context.Context, id string, at time.Time) error
	// UpdateCampaign sets a campaign's name and client.
	UpdateCampaign(ctx context.Context, id, name, client string) error
	// EndCampaign ends a campaign at at.
	EndCampaign(ctx context.Context, id string, at time.Time) error
	// EraseAgentNames replaces by a random pseudonym ("former agent
	// 3fa09c1e") the name of every agent ended at or before now that no
	// call and no evaluation of a call started after cutoff names
	// any more; it returns how many names it erased.
	EraseAgentNames(ctx context.Context, cutoff, now time.Time) (int, error)
	// DeleteForgottenAgents deletes the rows of ended agents whose name is
	// erased and that no call, evaluation or account refers to.
	DeleteForgottenAgents(ctx context.Context) (int, error)
}

var _ Directory = (*SQLite)(nil)

// FormerAgentPrefix starts the pseudonym that replaces an erased name.
const FormerAgentPrefix = "former agent "

const (
	teamCols     = `id, name, created_at, ended_at`
	agentCols    = `id, name, team_id, created_at, ended_at, name_erased_at`
	campaignCols = `id, name, client_name, created_at, ended_at`
)

func scanTeam(r scanner) (Team, error) {
	var t Team
	var c, e int64
	if err := r.Scan(&t.ID, &t.Name, &c, &e); err != nil {
		return Team{}, err
	}
	t.CreatedAt, t.EndedAt = fromMS(c), fromMS(e)
	return t, nil
}

func scanAgent(r scanner) (Agent, error) {
	var a Agent
	var c, e, x int64
	if err := r.Scan(&a.ID, &a.Name, &a.TeamID, &c, &e, &x); err != nil {
		return Agent{}, err
	}
	a.CreatedAt, a.EndedAt, a.NameErasedAt = fromMS(c), fromMS(e), fromMS(x)
	return a, nil
}

func scanCampaign(r scanner) (Campaign, error) {
	var p Campaign
	var c, e int64
	if err := r.Scan(&p.ID, &p.Name, &p.ClientName, &c, &e); err != nil {
		return Campaign{}, err
	}
	p.CreatedAt, p.EndedAt = fromMS(c), fromMS(e)
	return p, nil
}

// ListAgents implements Directory.
func (s *SQLite) ListAgents(ctx context.Context, teamIDs []string, ended bool) ([]Agent, error) {
	q := `SELECT ` + agentCols + ` FROM agents WHERE (? OR ended_at = 0)`
	args := []any{ended}
	if teamIDs != nil {
		if len(teamIDs) == 0 {
			return nil, nil
		}
		q += ` AND team_id IN (` + strings.TrimSuffix(strings.Repeat("?,", len(teamIDs)), ",") + `)`
		for _, t := range teamIDs {
			args = append(args, t)
		}
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list agents: %w", err)
	}
	defer rows.Close()
	var out []Agent
	for rows.Next() {
		a, err := scanAgent(rows)
		if err != nil {
			return nil, fmt.Errorf("list agents: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// ListCampaigns implements Directory.
func (s *SQLite) ListCampaigns(ctx context.Context, ended bool) ([]Campaign, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+campaignCols+` FROM campaigns WHERE (? OR ended_at = 0) ORDER BY id`, ended)
	if err != nil {
		return nil, fmt.Errorf("list campaigns: %w", err)
	}
	defer rows.Close()
	var out []Campaign
	for rows.Next() {
		c, err := scanCampaign(rows)
		if err != nil {
			return nil, fmt.Errorf("list campaigns: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// update runs one UPDATE of one row (ErrNotFound when none matched) and
// records the request of ctx with it.
func (s *SQLite) update(ctx context.Context, what, id, q string, args ...any) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, q, args...)
		if err := s.mustUpdate(res, err, what); err != nil {
			return err
		}
		return recordRequest(ctx, tx, id, 0)
	})
}

// UpdateAgent implements Directory.
func (s *SQLite) UpdateAgent(ctx context.Context, id, name, teamID string) error {
	return s.update(ctx, "update agent "+id, id, `UPDATE agents SET name = ?, team_id = ? WHERE id = ?`, name, teamID, id)
}

// EndAgent implements Directory.
func (s *SQLite) EndAgent(ctx context.Context, id string, at time.Time) (int, error) {
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE agents SET ended_at = ? WHERE id = ? AND ended_at = 0`, ms(at), id)
		if err := s.mustUpdate(res, err, "end agent "+id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE agent_id = ?)`, id); err != nil {
			return fmt.Errorf("end sessions of agent %s: %w", id, err)
		}
		res, err = tx.ExecContext(ctx, `UPDATE users SET disabled = 1, disabled_at = ? WHERE agent_id = ? AND disabled = 0`, ms(at), id)
		if err != nil {
			return fmt.Errorf("disable accounts of agent %s: %w", id, err)
		}
		n, _ = res.RowsAffected()
		return recordRequest(ctx, tx, id, n)
	})
	return int(n), err
}

// RenameTeam implements Directory.
func (s *SQLite) RenameTeam(ctx context.Context, id, name string) error {
	return s.update(ctx, "rename team "+id, id, `UPDATE teams SET name = ? WHERE id = ?`, name, id)
}

// EndTeam implements Directory.
func (s *SQLite) EndTeam(ctx context.Context, id string, at time.Time) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM agents WHERE team_id = ? AND ended_at = 0`, id).Scan(&n); err != nil {
			return fmt.Errorf("end team %s: %w", id, err)
		}
		if n > 0 {
			return fmt.Errorf("end team %s: %d active agents: %w", id, n, ErrInUse)
		}
		res, err := tx.ExecContext(ctx, `UPDATE teams SET ended_at = ? WHERE id = ? AND ended_at = 0`, ms(at), id)
		if err := s.mustUpdate(res, err, "end team "+id); err != nil {
			return err
		}
		return recordRequest(ctx, tx, id, 0)
	})
}

// UpdateCampaign implements Directory.
func (s *SQLite) UpdateCampaign(ctx context.Context, id, name, client string) error {
	return s.update(ctx, "update campaign "+id, id, `UPDATE campaigns SET name = ?, client_name = ? WHERE id = ?`,
		name, client, id)
}

// EndCampaign implements Directory.
func (s *SQLite) EndCampaign(ctx context.Context, id string, at time.Time) error {
	return s.update(ctx, "end campaign "+id, id, `UPDATE campaigns SET ended_at = ? WHERE id = ? AND ended_at = 0`, ms(at), id)
}

// EraseAgentNames implements Directory.
func (s *SQLite) EraseAgentNames(ctx context.Context, cutoff, now time.Time) (int, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE agents SET name = ? || lower(hex(randomblob(4))), name_erased_at = ?
		WHERE ended_at > 0 AND ended_at <= ? AND name_erased_at = 0
		AND NOT EXISTS (SELECT 1 FROM calls c WHERE c.agent_id = agents.id AND c.started_at > ?)
		AND NOT EXISTS (SELECT 1 FROM evaluations e WHERE e.agent_id = agents.id AND e.call_started_at > ?)`,
		FormerAgentPrefix, ms(now), ms(now), ms(cutoff), ms(cutoff))
	if err != nil {
		return 0, fmt.Errorf("erase agent names: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// DeleteForgottenAgents implements Directory.
func (s *SQLite) DeleteForgottenAgents(ctx context.Context) (int, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM agents WHERE ended_at > 0 AND name_erased_at > 0
		AND NOT EXISTS (SELECT 1 FROM calls c WHERE c.agent_id = agents.id)
		AND NOT EXISTS (SELECT 1 FROM evaluations e WHERE e.agent_id = agents.id)
		AND NOT EXISTS (SELECT 1 FROM users u WHERE u.agent_id = agents.id)
		AND NOT EXISTS (SELECT 1 FROM activity_intervals x WHERE x.agent_id = agents.id)`)
	if err != nil {
		return 0, fmt.Errorf("delete forgotten agents: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}
