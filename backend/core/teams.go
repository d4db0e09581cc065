package core

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ecoute/ecoute/backend/config"
	"github.com/ecoute/ecoute/backend/domain"
	"github.com/ecoute/ecoute/backend/limits"
	"github.com/ecoute/ecoute/backend/store"
)

// Audit actions of teams and recording periods.
const (
	ActionTeamCreate   = "team.create"
	ActionPeriodCreate = "recording_period.create"
)

// NewID returns a random 128-bit identifier in hex.
func NewID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return fmt.Sprintf("%x", b)
}

// ListTeams lists the teams, by id.
func (b *Backend) ListTeams(ctx context.Context) ([]store.Team, error) {
	ts, err := b.Store.ListTeams(ctx)
	if err != nil {
		return nil, domain.Internal("list teams", err)
	}
	return ts, nil
}

// CreateTeam adds a team.
func (b *Backend) CreateTeam(ctx context.Context, c Caller, id, name string) (store.Team, error) {
	return once(ctx, b, c, "team.create", ActionTeamCreate,
		func(ctx context.Context) (store.Team, entry, error) {
			e := entry{target: id}
			if err := CheckID("team_id", id); err != nil {
				return store.Team{}, e, err
			}
			name, err := CheckName("name", name)
			if err != nil {
				return store.Team{}, e, err
			}
			if err := limits.ID("team_id", id); err != nil {
				return store.Team{}, e, err
			}
			if err := limits.Line("name", name, limits.MaxName); err != nil {
				return store.Team{}, e, err
			}
			t := store.Team{ID: id, Name: name, CreatedAt: b.Clock.Now()}
			if err := b.Store.CreateTeam(ctx, t); errors.Is(err, store.ErrDuplicate) {
				return t, e, domain.New(domain.ReasonAlreadyExists, "team_id: %q exists", id).With(domain.MetaField, "team_id")
			} else if err != nil {
				return t, e, domain.Internal("create team", err)
			}
			return t, e, nil
		},
		func(ctx context.Context, r store.Request) (store.Team, error) {
			return again(b.Store.TeamByID(ctx, r.ObjectID))
		})
}

// AddRecordingPeriod declares that team may be recorded during [from, to)
// (R6). Agents are told in advance: a period starts at least
// config.RecordingPeriodNotice after they were told (informed; zero: now,
// the declaration itself; otherwise not in the future and at most
// config.MaxNoticeAge ago — told by letter or at a meeting before the
// period was typed in), and lasts at most config.MaxRecordingPeriod
// (declare the next one in time). The notice date is kept in the audit
// entry.
func (b *Backend) AddRecordingPeriod(ctx context.Context, c Caller, team string, from, to time.Time, note string, informed time.Time) (store.RecordingPeriod, error) {
	return once(ctx, b, c, "recording_period.create", ActionPeriodCreate,
		func(ctx context.Context) (store.RecordingPeriod, entry, error) {
			e := entry{target: team}
			switch {
			case strings.TrimSpace(team) == "":
				return store.RecordingPeriod{}, e, domain.Invalid("team_id", "is required")
			case from.IsZero():
				return store.RecordingPeriod{}, e, domain.Invalid("starts_at", "is required")
			case to.IsZero():
				return store.RecordingPeriod{}, e, domain.Invalid("ends_at", "is required")
			case !to.After(from):
				return store.RecordingPeriod{}, e, domain.Invalid("ends_at", "must be after starts_at")
			}
			for _, err := range []error{limits.ID("team_id", team), limits.Instant("starts_at", from),
				limits.Instant("ends_at", to), limits.Line("note", note, limits.MaxNote)} {
				if err != nil {
					return store.RecordingPeriod{}, e, err
				}
			}
			if t, err := b.Store.TeamByID(ctx, team); errors.Is(err, store.ErrNotFound) {
				return store.RecordingPeriod{}, e, domain.NotFound("team_id: no team %q", team)
			} else if err != nil {
				return store.RecordingPeriod{}, e, domain.Internal("add recording period", err)
			} else if !t.EndedAt.IsZero() {
				return store.RecordingPeriod{}, e, Ended(KindTeam, team, t.EndedAt)
			}
			now := b.Clock.Now()
			switch {
			case informed.IsZero():
				informed = now
			case informed.After(now):
				return store.RecordingPeriod{}, e, domain.Invalid("informed_at", "%s is in the future: say when the agents were told",
					informed.UTC().Format(time.RFC3339))
			case informed.Before(config.MaxNoticeAge.Before(now.UTC())):
				return store.RecordingPeriod{}, e, domain.Invalid("informed_at", "%s is more than %s ago: tell the agents again",
					informed.UTC().Format(time.RFC3339), config.MaxNoticeAge)
			}
			if earliest := config.EarliestRecordingStart(informed); from.Before(earliest) {
				return store.RecordingPeriod{}, e, domain.Invalid("starts_at",
					"%s is too soon: agents are told in advance (R6), so a period starts at least %s after they were told (from %s)",
					from.UTC().Format(time.RFC3339), config.RecordingPeriodNotice, earliest.Format(time.RFC3339))
			}
			if last := config.MaxRecordingPeriod.After(from.UTC()); to.After(last) {
				return store.RecordingPeriod{}, e, domain.Invalid("ends_at",
					"a period lasts at most %s (until %s): declare the next one in time", config.MaxRecordingPeriod,
					last.Format(time.RFC3339))
			}
			p := store.RecordingPeriod{ID: NewID(), TeamID: team, StartsAt: from.UTC(), EndsAt: to.UTC(), Note: note,
				CreatedBy: c.User.Login, CreatedAt: b.Clock.Now()}
			e = entry{target: p.ID, details: map[string]string{"team": p.TeamID,
				"from": p.StartsAt.Format(time.RFC3339), "to": p.EndsAt.Format(time.RFC3339),
				"informed": informed.UTC().Format(time.RFC3339)}}
			if err := b.Store.AddRecordingPeriod(ctx, p); err != nil {
				return p, e, domain.Internal("add recording period", err)
			}
			return p, e, nil
		},
		func(ctx context.Context, r store.Request) (store.RecordingPeriod, error) {
			return again(b.Store.RecordingPeriod(ctx, r.ObjectID))
		})
}

// ListRecordingPeriods lists the periods of a team ("" = every team)
// ending after endingAfter (zero = all), in start order.
func (b *Backend) ListRecordingPeriods(ctx context.Context, team string, endingAfter time.Time) ([]store.RecordingPeriod, error) {
	if err := limits.ID("team_id", team); err != nil {
		return nil, err
	}
	ps, err := b.Store.RecordingPeriods(ctx, team, endingAfter)
	if err != nil {
		return nil, domain.Internal("list recording periods", err)
	}
	return ps, nil
}

// TeamPeriods is what one team's members are told: the period in force
// now and the next one, if any.
type TeamPeriods struct {
	Team          store.Team
	Current, Next *store.RecordingPeriod
}

// MyRecordingPeriods gives, for each team of the caller (an agent's team,
// a supervisor's or trainer's teams), the current and next periods (R6).
func (b *Backend) MyRecordingPeriods(ctx context.Context, c Caller) ([]TeamPeriods, error) {
	teams := c.User.TeamIDs
	if c.User.AgentID != "" {
		a, err := b.Store.AgentByID(ctx, c.User.AgentID)
		if err != nil {
			return nil, domain.Internal("my recording periods", err)
		}
		teams = []string{a.TeamID}
	}
	now := b.Clock.Now()
	var out []TeamPeriods
	for _, id := range teams {
		team, err := b.Store.TeamByID(ctx, id)
		if err != nil {
			return nil, domain.Internal("my recording periods", err)
		}
		ps, err := b.Store.RecordingPeriods(ctx, id, now)
		if err != nil {
			return nil, domain.Internal("my recording periods", err)
		}
		tp := TeamPeriods{Team: team}
		for i, rp := range ps {
			switch {
			case !rp.StartsAt.After(now) && tp.Current == nil:
				tp.Current = &ps[i]
			case rp.StartsAt.After(now) && tp.Next == nil:
				tp.Next = &ps[i]
			}
		}
		out = append(out, tp)
	}
	return out, nil
}
