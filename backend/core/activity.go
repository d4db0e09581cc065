package core

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/ecoute/ecoute/backend/config"
	"github.com/ecoute/ecoute/backend/domain"
	"github.com/ecoute/ecoute/backend/limits"
	"github.com/ecoute/ecoute/backend/store"
)

// MaxActivityBatch bounds one upload of activity intervals.
const MaxActivityBatch = 10000

// MaxActivityInterval is the longest interval one row may cover.
const MaxActivityInterval = 24 * time.Hour

// ActivityRow is one interval of the activity feed as the telephony side
// sends it (R5).
type ActivityRow struct {
	AgentID, CampaignID, ActivityType string
	StartedAt, EndedAt                time.Time
	Handled, Lost                     int64
	Talk, BackOffice, Ring            time.Duration
}

// ImportActivity checks a batch of intervals whole (R14) and stores it
// whole, or refuses it naming the first bad row (field prefix, e.g.
// "intervals" over gRPC, "line" for a CSV file, whose rows are numbered
// from lineBase): bad input loses nothing and stores nothing. An interval
// sent again replaces the stored one.
func (b *Backend) ImportActivity(ctx context.Context, c Caller, rows []ActivityRow, field string, lineBase int) (int, error) {
	return once(ctx, b, c, "activity.import", ActionActivityImport,
		func(ctx context.Context) (int, entry, error) {
			e := entry{details: map[string]string{"rows": strconv.Itoa(len(rows))}}
			in, err := b.checkActivity(ctx, rows, field, lineBase)
			if err != nil {
				return 0, e, err
			}
			if err := b.Store.PutActivity(ctx, in); err != nil {
				return 0, e, domain.Internal("store activity", err)
			}
			return len(in), e, nil
		},
		func(ctx context.Context, r store.Request) (int, error) { return int(r.Count), nil })
}

func (b *Backend) checkActivity(ctx context.Context, rows []ActivityRow, field string, lineBase int) ([]store.ActivityInterval, error) {
	switch {
	case len(rows) == 0:
		return nil, domain.Invalid(field, "no interval to store")
	case len(rows) > MaxActivityBatch && field != "line": // a file is checked and stored whole
		return nil, domain.Invalid(field, "%d intervals: at most %d in one batch", len(rows), MaxActivityBatch)
	}
	now := b.Clock.Now().UTC()
	cutoff := config.ActivityCutoff(now)
	agents, camps := map[string]store.Agent{}, map[string]store.Campaign{}
	seen := map[string]int{}
	out := make([]store.ActivityInterval, 0, len(rows))
	for i, r := range rows {
		at := func(f string) string {
			if field == "line" {
				return fmt.Sprintf("line %d: %s", lineBase+i, f)
			}
			return fmt.Sprintf("%s[%d].%s", field, i, f)
		}
		bad := func(f, format string, a ...any) error { return domain.Invalid(at(f), format, a...) }
		for _, err := range []error{limits.ID(at("agent_id"), r.AgentID), limits.ID(at("campaign_id"), r.CampaignID),
			limits.Line(at("activity_type"), r.ActivityType, MaxActivityType),
			limits.Instant(at("started_at"), r.StartedAt), limits.Instant(at("ended_at"), r.EndedAt)} {
			if err != nil {
				return nil, err
			}
		}
		a, ok := agents[r.AgentID]
		if !ok {
			var err error
			a, err = b.Store.AgentByID(ctx, r.AgentID)
			switch {
			case r.AgentID == "":
				return nil, bad("agent_id", "is required")
			case errors.Is(err, store.ErrNotFound):
				return nil, bad("agent_id", "no agent %q", r.AgentID)
			case err != nil:
				return nil, domain.Internal("find agent", err)
			}
			agents[r.AgentID] = a
		}
		p, ok := camps[r.CampaignID]
		if !ok {
			var err error
			p, err = b.Store.CampaignByID(ctx, r.CampaignID)
			switch {
			case r.CampaignID == "":
				return nil, bad("campaign_id", "is required")
			case errors.Is(err, store.ErrNotFound):
				return nil, bad("campaign_id", "no campaign %q", r.CampaignID)
			case err != nil:
				return nil, domain.Internal("find campaign", err)
			}
			camps[r.CampaignID] = p
		}
		typ := strings.TrimSpace(r.ActivityType)
		length := r.EndedAt.Sub(r.StartedAt)
		switch {
		case typ == "":
			return nil, bad("activity_type", "is required")
		case len(typ) > MaxActivityType || strings.IndexFunc(typ, func(c rune) bool { return !unicode.IsPrint(c) }) >= 0:
			return nil, bad("activity_type", "at most 64 printable characters")
		case r.StartedAt.IsZero():
			return nil, bad("started_at", "is required")
		case r.EndedAt.IsZero():
			return nil, bad("ended_at", "is required")
		case length <= 0:
			return nil, bad("ended_at", "must be after started_at")
		case length > MaxActivityInterval:
			return nil, bad("ended_at", "an interval covers at most 24 hours (this one %s)", length)
		case r.EndedAt.After(now.Add(5 * time.Minute)):
			return nil, bad("ended_at", "is in the future (%s)", r.EndedAt.UTC().Format(time.RFC3339))
		case r.StartedAt.Before(cutoff):
			return nil, bad("started_at", "is older than the %s activity figures are kept (before %s)",
				config.ActivityFigures, cutoff.Format(time.RFC3339))
		case r.Handled < 0:
			return nil, bad("calls_handled", "must not be negative")
		case r.Lost < 0:
			return nil, bad("calls_lost", "must not be negative")
		case r.Talk < 0:
			return nil, bad("talk_time", "must not be negative")
		case r.BackOffice < 0:
			return nil, bad("back_office_time", "must not be negative")
		case r.Ring < 0:
			return nil, bad("ring_time", "must not be negative")
		case r.Talk+r.BackOffice > length:
			return nil, bad("talk_time", "talk plus back-office time (%s) is longer than the interval (%s)",
				r.Talk+r.BackOffice, length)
		case !a.EndedAt.IsZero() && r.StartedAt.After(a.EndedAt):
			return nil, bad("agent_id", "agent %s ended on %s", a.ID, a.EndedAt.UTC().Format(time.RFC3339))
		case !p.EndedAt.IsZero() && r.StartedAt.After(p.EndedAt):
			return nil, bad("campaign_id", "campaign %s ended on %s", p.ID, p.EndedAt.UTC().Format(time.RFC3339))
		}
		k := r.AgentID + "\x00" + r.CampaignID + "\x00" + typ + "\x00" + strconv.FormatInt(r.StartedAt.UnixMilli(), 10)
		if j, dup := seen[k]; dup {
			return nil, bad("started_at", "the same interval (agent, campaign, type, start) as row %d", j)
		}
		seen[k] = i
		out = append(out, store.ActivityInterval{AgentID: a.ID, TeamID: a.TeamID, CampaignID: p.ID, ActivityType: typ,
			StartedAt: r.StartedAt.UTC(), EndedAt: r.EndedAt.UTC(), Handled: r.Handled, Lost: r.Lost, Talk: r.Talk,
			BackOffice: r.BackOffice, Ring: r.Ring, ImportedAt: now})
	}
	return out, nil
}

// CheckActivity checks a file's rows as ImportActivity would, storing
// nothing (a dry run).
func (b *Backend) CheckActivity(ctx context.Context, rows []ActivityRow) error {
	_, err := b.checkActivity(ctx, rows, "line", 2)
	return err
}
