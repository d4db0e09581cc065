package core

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ecoute/ecoute/backend/directory"
	"github.com/ecoute/ecoute/backend/domain"
	"github.com/ecoute/ecoute/backend/store"
)

// ImportCounts are what an import does to one kind of entry.
type ImportCounts struct{ Created, Renamed, Moved, Ended, Unchanged int }

// ImportReport is what an import did, or would do on a dry run.
type ImportReport struct {
	Teams, Agents, Campaigns ImportCounts
	// Errors are the lines at fault; when there are any nothing is applied.
	Errors []directory.LineError
	// Changes is how many changes the file asks for; Applied how many
	// were made (0 on a dry run or when the file has errors).
	Changes, Applied int
}

func (r *ImportReport) of(kind string) *ImportCounts {
	switch kind {
	case KindTeam:
		return &r.Teams
	case KindAgent:
		return &r.Agents
	}
	return &r.Campaigns
}

// Order in which the changes of an import are applied: what a later
// change needs comes first (a team before its new agents, agents moved
// out of a team before the team ends).
const (
	phaseCreateTeam = iota
	phaseRenameTeam
	phaseCampaign
	phaseCreateAgent
	phaseUpdateAgent
	phaseEndAgent
	phaseEndCampaign
	phaseEndTeam
)

// change is one operation of the front door that a line asks for.
type change struct {
	line, phase int
	what        string
	apply       func(ctx context.Context, c Caller) error
}

// ImportDirectory applies a directory file: each line's entry is created,
// renamed, moved or ended so that the directory matches it, through the
// same operations (and audit entries, one per change) as the commands and
// DirectoryService; a line that matches the directory changes nothing, so
// importing the same file again changes nothing. Entries that the file
// does not name are left as they are. When any line is at fault (in the
// file or against the directory) nothing is applied and every such line
// is reported. dryRun plans and reports without applying.
//
// A failure while applying (the database, not the file) stops the import
// where it is: the changes already made stay, each audited, and importing
// the file again completes it.
func (b *Backend) ImportDirectory(ctx context.Context, c Caller, f directory.File, dryRun bool) (ImportReport, error) {
	rep := ImportReport{Errors: slices.Clone(f.Errors)}
	changes, err := b.planImport(ctx, f.Rows, &rep)
	if err != nil {
		return rep, err
	}
	rep.Changes = len(changes)
	if len(rep.Errors) > 0 {
		slices.SortStableFunc(rep.Errors, func(a, b directory.LineError) int { return a.Line - b.Line })
		fields := make([]domain.FieldViolation, len(rep.Errors))
		for i, e := range rep.Errors {
			fields[i] = domain.FieldViolation{Field: fmt.Sprintf("line %d", e.Line), Description: e.Msg}
			if e.Line == 0 {
				fields[i].Field = "file"
			}
		}
		return rep, domain.Problems(fmt.Sprintf("%d problem(s) in the file: nothing was changed", len(rep.Errors)), fields)
	}
	if dryRun {
		return rep, nil
	}
	slices.SortStableFunc(changes, func(a, b change) int { return a.phase - b.phase })
	c.Request = Request{} // each change is its own write
	for _, ch := range changes {
		if err := ch.apply(ctx, c); err != nil {
			return rep, fmt.Errorf("line %d: %s: %w (%d of %d changes made; import the file again to finish)",
				ch.line, ch.what, err, rep.Applied, rep.Changes)
		}
		rep.Applied++
	}
	return rep, nil
}

// planImport compares the rows with the directory in force: it counts
// what each row does, returns the changes to make, and adds to rep.Errors
// the rows that cannot be applied.
func (b *Backend) planImport(ctx context.Context, rows []directory.Row, rep *ImportReport) ([]change, error) {
	teams, err := b.Store.ListTeams(ctx)
	if err != nil {
		return nil, domain.Internal("read the teams", err)
	}
	agents, err := b.Store.ListAgents(ctx, nil, true)
	if err != nil {
		return nil, domain.Internal("read the agents", err)
	}
	camps, err := b.Store.ListCampaigns(ctx, true)
	if err != nil {
		return nil, domain.Internal("read the campaigns", err)
	}
	teamByID := index(teams, func(t store.Team) string { return t.ID })
	agentByID := index(agents, func(a store.Agent) string { return a.ID })
	campByID := index(camps, func(p store.Campaign) string { return p.ID })

	var changes []change
	add := func(r directory.Row, phase int, what string, apply func(ctx context.Context, c Caller) error) {
		changes = append(changes, change{line: r.Line, phase: phase, what: what, apply: apply})
	}
	fail := func(r directory.Row, format string, a ...any) {
		rep.Errors = append(rep.Errors, directory.LineError{Line: r.Line,
			Msg: r.Kind + " " + r.ID + ": " + fmt.Sprintf(format, a...)})
	}
	// check validates a row's id and, for an active row, its name.
	check := func(r *directory.Row, field string) bool {
		if err := CheckID(field, r.ID); err != nil {
			fail(*r, "%v", err)
			return false
		}
		if r.Ended {
			return true
		}
		name, err := CheckName("name", r.Name)
		if err != nil {
			fail(*r, "%v", err)
			return false
		}
		r.Name = name
		return true
	}
	byKind := func(kind string) []directory.Row {
		var out []directory.Row
		for _, r := range rows {
			if r.Kind == kind {
				out = append(out, r)
			}
		}
		return out
	}
	reopen := func(r directory.Row, ended time.Time) {
		fail(r, "was ended on %s and is not reopened: an ended %s's id is not reused; give it a new id",
			ended.UTC().Format(time.DateOnly), r.Kind)
	}

	// Teams: which are active once the file is applied, and which it ends.
	teamActive := map[string]bool{}
	for _, t := range teams {
		teamActive[t.ID] = t.EndedAt.IsZero()
	}
	teamEnds := map[string]directory.Row{}
	for _, r := range byKind(KindTeam) {
		if !check(&r, "team_id") {
			continue
		}
		n := rep.of(KindTeam)
		cur, exists := teamByID[r.ID]
		switch {
		case !exists && r.Ended, exists && r.Ended && !cur.EndedAt.IsZero():
			n.Unchanged++
		case exists && !cur.EndedAt.IsZero():
			reopen(r, cur.EndedAt)
		case !exists:
			n.Created++
			teamActive[r.ID] = true
			add(r, phaseCreateTeam, "create team", func(ctx context.Context, c Caller) error {
				_, err := b.CreateTeam(ctx, c, r.ID, r.Name)
				return err
			})
		case r.Ended:
			n.Ended++
			teamActive[r.ID] = false
			teamEnds[r.ID] = r
			add(r, phaseEndTeam, "end team", func(ctx context.Context, c Caller) error {
				_, err := b.EndTeam(ctx, c, r.ID)
				return err
			})
		case r.Name != cur.Name:
			n.Renamed++
			add(r, phaseRenameTeam, "rename team", func(ctx context.Context, c Caller) error {
				_, err := b.RenameTeam(ctx, c, r.ID, r.Name)
				return err
			})
		default:
			n.Unchanged++
		}
	}

	for _, r := range byKind(KindCampaign) {
		if !check(&r, "campaign_id") {
			continue
		}
		if _, err := checkClient(r.Client); err != nil {
			fail(r, "%v", err)
			continue
		}
		n := rep.of(KindCampaign)
		cur, exists := campByID[r.ID]
		switch {
		case !exists && r.Ended, exists && r.Ended && !cur.EndedAt.IsZero():
			n.Unchanged++
		case exists && !cur.EndedAt.IsZero():
			reopen(r, cur.EndedAt)
		case !exists:
			n.Created++
			add(r, phaseCampaign, "create campaign", func(ctx context.Context, c Caller) error {
				_, err := b.CreateCampaign(ctx, c, r.ID, r.Name, r.Client)
				return err
			})
		case r.Ended:
			n.Ended++
			add(r, phaseEndCampaign, "end campaign", func(ctx context.Context, c Caller) error {
				_, err := b.EndCampaign(ctx, c, r.ID)
				return err
			})
		case r.Name != cur.Name || (r.Client != "" && strings.TrimSpace(r.Client) != cur.ClientName):
			n.Renamed++
			add(r, phaseCampaign, "rename campaign", func(ctx context.Context, c Caller) error {
				_, err := b.RenameCampaign(ctx, c, r.ID, r.Name, r.Client)
				return err
			})
		default:
			n.Unchanged++
		}
	}

	// Agents: the team each active agent is in once the file is applied.
	teamOf := map[string]string{}
	for _, a := range agents {
		if a.EndedAt.IsZero() {
			teamOf[a.ID] = a.TeamID
		}
	}
	joinable := func(r directory.Row) bool {
		active, known := teamActive[r.Team]
		switch {
		case !known:
			fail(r, "team %q is neither in the directory nor in the file", r.Team)
		case !active:
			fail(r, "team %q is ended (or ended by this file): an agent cannot join it", r.Team)
		}
		return known && active
	}
	for _, r := range byKind(KindAgent) {
		if !check(&r, "agent_id") {
			continue
		}
		if !r.Ended {
			if err := CheckID("team_id", r.Team); err != nil {
				fail(r, "%v", err)
				continue
			}
		}
		n := rep.of(KindAgent)
		cur, exists := agentByID[r.ID]
		switch {
		case !exists && r.Ended, exists && r.Ended && !cur.EndedAt.IsZero():
			n.Unchanged++
		case exists && !cur.EndedAt.IsZero():
			reopen(r, cur.EndedAt)
		case !exists:
			if !joinable(r) {
				continue
			}
			n.Created++
			teamOf[r.ID] = r.Team
			add(r, phaseCreateAgent, "create agent", func(ctx context.Context, c Caller) error {
				_, err := b.CreateAgent(ctx, c, r.ID, r.Name, r.Team)
				return err
			})
		case r.Ended:
			n.Ended++
			delete(teamOf, r.ID)
			add(r, phaseEndAgent, "end agent", func(ctx context.Context, c Caller) error {
				_, err := b.EndAgent(ctx, c, r.ID)
				return err
			})
		default:
			changed := false
			if r.Name != cur.Name {
				changed = true
				n.Renamed++
				add(r, phaseUpdateAgent, "rename agent", func(ctx context.Context, c Caller) error {
					_, err := b.RenameAgent(ctx, c, r.ID, r.Name)
					return err
				})
			}
			if r.Team != cur.TeamID {
				if !joinable(r) {
					continue
				}
				changed = true
				n.Moved++
				teamOf[r.ID] = r.Team
				add(r, phaseUpdateAgent, "move agent", func(ctx context.Context, c Caller) error {
					_, err := b.MoveAgent(ctx, c, r.ID, r.Team)
					return err
				})
			}
			if !changed {
				n.Unchanged++
			}
		}
	}

	// A team the file ends must have no active agent left.
	for id, r := range teamEnds {
		left := 0
		for _, t := range teamOf {
			if t == id {
				left++
			}
		}
		if left > 0 {
			fail(r, "still has %d active agent(s) once the file is applied: end them or move them to another team", left)
		}
	}
	return changes, nil
}

func index[T any](xs []T, key func(T) string) map[string]T {
	m := make(map[string]T, len(xs))
	for _, x := range xs {
		m[key(x)] = x
	}
	return m
}
