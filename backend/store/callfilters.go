package store

import (
	"context"
	"fmt"
	"math"
)

// Choice is one agent, team or campaign a call filter can name.
type Choice struct {
	ID   string
	Name string
}

// Choices are the filter values that have kept calls within a scope.
type Choices struct {
	Agents    []Choice
	Teams     []Choice
	Campaigns []Choice
}

// CallFilterStore lists what a call filter may name.
type CallFilterStore interface {
	// FilterChoices returns the agents, teams and campaigns having at
	// least one kept call inside scope, each sorted by name.
	FilterChoices(ctx context.Context, scope Scope) (Choices, error)
}

// FilterChoices reads, per agent/team/campaign, whether the call tally
// (migration 00061, kept up to date by triggers) has a kept call of it in
// scope: a few hundred rows, where asking the calls themselves took
// seconds at a million calls.
func (s *SQLite) FilterChoices(ctx context.Context, scope Scope) (Choices, error) {
	var out Choices
	w, args := tallyWhere(" AND ", scope, Filter{})
	for _, q := range []struct {
		kind, table, col string
		dst              *[]Choice
	}{
		{"agents", "agents", "k.agent_id", &out.Agents},
		{"teams", "teams", "k.team_id", &out.Teams},
		{"campaigns", "campaigns", "k.campaign_id", &out.Campaigns},
	} {
		query := `SELECT x.id, x.name FROM ` + q.table + ` x WHERE EXISTS (SELECT 1 FROM call_tally k WHERE ` +
			q.col + ` = x.id AND k.n > 0` + w + `) ORDER BY x.name, x.id`
		rows, err := s.query(ctx, query, args...)
		if err != nil {
			return Choices{}, fmt.Errorf("filter choices (%s): %w", q.kind, err)
		}
		for rows.Next() {
			var c Choice
			if err := rows.Scan(&c.ID, &c.Name); err != nil {
				rows.Close()
				return Choices{}, fmt.Errorf("filter choices (%s): %w", q.kind, err)
			}
			*q.dst = append(*q.dst, c)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return Choices{}, fmt.Errorf("filter choices (%s): %w", q.kind, err)
		}
	}
	return out, nil
}

// scoreCond matches calls whose submitted evaluation has a total in the
// filter's range. The evaluation is found through its UNIQUE call_id
// index, one probe per candidate call; drafts do not count, their score
// is not final.
func scoreCond(f Filter) (string, []any) {
	if f.MinScore == nil && f.MaxScore == nil {
		return "", nil
	}
	cond := `EXISTS (SELECT 1 FROM evaluations e WHERE e.call_id = c.id AND e.has_total = 1 AND e.status <> 'draft'`
	var args []any
	// Totals are stored in tenths of a percent.
	if f.MinScore != nil {
		cond += ` AND e.total_tenths >= ?`
		args = append(args, int64(math.Ceil(*f.MinScore*10-1e-9)))
	}
	if f.MaxScore != nil {
		cond += ` AND e.total_tenths <= ?`
		args = append(args, int64(math.Floor(*f.MaxScore*10+1e-9)))
	}
	return cond + ")", args
}
