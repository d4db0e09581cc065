package core

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/ecoute/ecoute/backend/domain"
	"github.com/ecoute/ecoute/backend/stats"
	"github.com/ecoute/ecoute/backend/store"
)

// MonthCloses is how long after its end a month's client table waits for
// late evaluations before it is computed, once and for good.
const MonthCloses = 7 * 24 * time.Hour

// ClientCell is one cell of a client table: a team and a campaign, or a
// total (empty TeamID: every team; empty CampaignID: every campaign).
// Figure is nil when the cell is hidden, and Reason says why.
type ClientCell struct {
	TeamID       string        `json:"team_id"`
	TeamName     string        `json:"team_name"`
	CampaignID   string        `json:"campaign_id"`
	CampaignName string        `json:"campaign_name"`
	Reason       stats.Reason  `json:"suppressed,omitempty"`
	Figure       *stats.Figure `json:"figure,omitempty"`
}

// ClientTable is one company's table for one month.
type ClientTable struct {
	Company    string       `json:"company"`
	Month      time.Time    `json:"month"`
	Cells      []ClientCell `json:"cells"`
	Months     []time.Time  `json:"-"`
	ComputedAt time.Time    `json:"-"`
}

// clientMonths are the months a client may read as of now: closed, and
// young enough that no evaluation of theirs has reached its retention.
func clientMonths(now time.Time) []time.Time {
	var out []time.Time
	for m, i := stats.Start(now, stats.Month), 0; i < 14; m, i = m.AddDate(0, -1, 0), i+1 {
		if !now.Before(m.AddDate(0, 1, 0).Add(MonthCloses)) && m.AddDate(1, 0, 0).After(now) {
			out = append(out, m)
		}
	}
	return out
}

// ClientTables is the client role's table for a month (zero: the latest
// closed one) of its own company.
func (b *Backend) ClientTables(ctx context.Context, c Caller, month time.Time) (ClientTable, error) {
	d := map[string]string{}
	if !month.IsZero() {
		d["month"] = stats.Start(month, stats.Month).Format("2006-01")
	}
	t, err := b.clientTables(ctx, c, month)
	if err == nil {
		d["company"] = t.Company
	}
	if rerr := b.recordRead(ctx, c, ActionStatsClient, d, err); rerr != nil {
		return ClientTable{}, rerr
	}
	return t, nil
}

func (b *Backend) clientTables(ctx context.Context, c Caller, month time.Time) (ClientTable, error) {
	if c.User.Role != domain.RoleClient {
		return ClientTable{}, domain.Forbidden(c.User.Role, "stats.client_tables", "the client tables are the client role's")
	}
	company, err := b.Store.ClientCompany(ctx, c.User.ID)
	if err != nil {
		return ClientTable{}, domain.Internal("client company", err)
	}
	if company == "" {
		return ClientTable{}, errNoCompany()
	}
	return b.CompanyTable(ctx, company, month)
}

// CompanyTable is a company's published table for a month: the stored one,
// or computed and stored now if the month has closed.
func (b *Backend) CompanyTable(ctx context.Context, company string, month time.Time) (ClientTable, error) {
	now := b.Clock.Now().UTC()
	months := clientMonths(now)
	if month.IsZero() {
		if len(months) == 0 {
			return ClientTable{Company: company}, nil
		}
		month = months[0]
	}
	month = stats.Start(month, stats.Month)
	if closes := month.AddDate(0, 1, 0).Add(MonthCloses); now.Before(closes) {
		return ClientTable{}, domain.New(domain.ReasonMonthNotClosed, "the table of %s is published from %s",
			month.Format("2006-01"), closes.Format(time.RFC3339)).With(domain.MetaClosesAt, closes.Format(time.RFC3339))
	}
	if !slices.ContainsFunc(months, month.Equal) {
		return ClientTable{}, domain.Invalid("month", "%s is not offered: the tables cover the closed months of the last year",
			month.Format("2006-01"))
	}
	body, at, err := b.Store.ClientTable(ctx, company, month)
	if errors.Is(err, store.ErrNotFound) {
		t, cerr := b.computeTable(ctx, company, month)
		if cerr != nil {
			return ClientTable{}, cerr
		}
		raw, merr := json.Marshal(t)
		if merr != nil {
			return ClientTable{}, domain.Internal("encode client table", merr)
		}
		body, at, err = b.Store.SaveClientTable(ctx, company, month, raw, now)
	}
	if err != nil {
		return ClientTable{}, domain.Internal("client table", err)
	}
	var t ClientTable
	if err := json.Unmarshal(body, &t); err != nil {
		return ClientTable{}, domain.Internal("decode client table", err)
	}
	t.Month, t.Months, t.ComputedAt = month, months, at
	return t, nil
}

// computeTable builds a month's table from the aggregates and applies
// the disclosure rules (backend/stats).
func (b *Backend) computeTable(ctx context.Context, company string, month time.Time) (ClientTable, error) {
	camps, err := b.Store.CompanyCampaigns(ctx, company)
	if err != nil {
		return ClientTable{}, domain.Internal("company campaigns", err)
	}
	t := ClientTable{Company: company, Month: month, Cells: []ClientCell{}}
	if len(camps) == 0 {
		return t, nil
	}
	ids := make([]string, len(camps))
	campName := map[string]string{}
	for i, p := range camps {
		ids[i], campName[p.ID] = p.ID, p.Name
	}
	q := store.StatQuery{Span: store.SpanMonth, From: month, To: month.AddDate(0, 1, 0), Scope: domain.Scope{All: true},
		Campaigns: ids, ByCampaign: true}
	scores, err := b.Store.StatScores(ctx, q)
	if err != nil {
		return ClientTable{}, domain.Internal("read statistics", err)
	}
	acts, err := b.Store.StatActivity(ctx, q)
	if err != nil {
		return ClientTable{}, domain.Internal("read statistics", err)
	}
	n, err := b.names(ctx)
	if err != nil {
		return ClientTable{}, err
	}
	type cellKey struct{ team, camp string }
	contrib := map[cellKey]map[string]stats.Measures{}
	addTo := func(team, camp, agent string, m stats.Measures) {
		k := cellKey{team, camp}
		if contrib[k] == nil {
			contrib[k] = map[string]stats.Measures{}
		}
		cur := contrib[k][agent]
		cur.Evaluations += m.Evaluations
		cur.ScoreTenths += m.ScoreTenths
		cur.Handled += m.Handled
		cur.Lost += m.Lost
		cur.TalkMS += m.TalkMS
		cur.BackOfficeMS += m.BackOfficeMS
		cur.RingMS += m.RingMS
		contrib[k][agent] = cur
	}
	for _, r := range scores {
		addTo(r.TeamID, r.CampaignID, r.AgentID, stats.Measures{Evaluations: r.N, ScoreTenths: r.SumTenths})
	}
	for _, r := range acts {
		addTo(r.TeamID, r.CampaignID, r.AgentID, stats.Measures{Handled: r.Handled, Lost: r.Lost, TalkMS: r.TalkMS,
			BackOfficeMS: r.BackOfficeMS, RingMS: r.RingMS})
	}
	teamSet, campSet := map[string]bool{}, map[string]bool{}
	for k := range contrib {
		teamSet[k.team], campSet[k.camp] = true, true
	}
	teams, cols := slices.Collect(maps.Keys(teamSet)), slices.Collect(maps.Keys(campSet))
	byName := func(names map[string]string) func(a, b string) int {
		return func(a, b string) int { return cmp.Or(cmp.Compare(names[a], names[b]), cmp.Compare(a, b)) }
	}
	slices.SortFunc(teams, byName(n.teams))
	slices.SortFunc(cols, byName(campName))
	tab := stats.NewTable(len(teams), len(cols))
	for r, team := range teams {
		for c, camp := range cols {
			for agent, m := range contrib[cellKey{team, camp}] {
				tab.Add(r, c, agent, m)
			}
		}
	}
	for _, cell := range stats.Protect(tab) {
		out := ClientCell{Reason: cell.Reason}
		if cell.Row != stats.Total {
			out.TeamID, out.TeamName = teams[cell.Row], cmp.Or(n.teams[teams[cell.Row]], teams[cell.Row])
		}
		if cell.Col != stats.Total {
			out.CampaignID, out.CampaignName = cols[cell.Col], campName[cols[cell.Col]]
		}
		if cell.Reason == stats.Published {
			f := stats.FigureOf(cell)
			out.Figure = &f
		}
		t.Cells = append(t.Cells, out)
	}
	return t, nil
}
