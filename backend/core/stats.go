package core

import (
	"cmp"
	"context"
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ecoute/ecoute/backend/domain"
	"github.com/ecoute/ecoute/backend/limits"
	"github.com/ecoute/ecoute/backend/policy"
	"github.com/ecoute/ecoute/backend/stats"
	"github.com/ecoute/ecoute/backend/store"
)

// Audit actions of the statistics: every read is recorded, with its
// filters (R10).
const (
	ActionStatsQuality     = "stats.quality"
	ActionStatsActivity    = "stats.activity"
	ActionStatsClient      = "stats.client_tables"
	ActionStatsEvaluations = "stats.evaluations"
	ActionStatsExport      = "stats.export"
	ActionActivityImport   = "activity.import"
)

// StatsFilter narrows a dashboard (zero fields do not filter).
type StatsFilter struct {
	From, To                       time.Time
	Teams, Campaigns, Grids, Agent []string
	Grouping                       stats.Grouping
}

// reach is what a caller's statistics may cover: a scope of teams or
// agents, or everything (hr).
type reach struct {
	scope domain.Scope
	// team is the agent's own team (the agent's comparison).
	team string
}

// statsReach is the statistics scope of a role (DESIGN.md role table):
// supervisors their teams, trainers their trainees (the agents of their
// teams for now), agents themselves, hr everyone; the others none (the
// client reads ClientTables only).
func (b *Backend) statsReach(ctx context.Context, c Caller) (reach, error) {
	u := c.User
	switch u.Role {
	case domain.RoleSupervisor:
		return reach{scope: policy.Scope(u)}, nil
	case domain.RoleTrainer:
		// The statistics of the trainer's teams: their call list's scope
		// (trainees and the calls of their coaching sessions, issue 13) is
		// not a set of teams and agents the figures can be cut by.
		return reach{scope: domain.Scope{TeamIDs: slices.Clone(u.TeamIDs)}}, nil
	case domain.RoleAgent:
		if u.AgentID == "" {
			return reach{}, nil
		}
		r := reach{scope: domain.Scope{AgentIDs: []string{u.AgentID}}}
		if a, err := b.Store.AgentByID(ctx, u.AgentID); err == nil {
			r.team = a.TeamID
		}
		return r, nil
	case domain.RoleHR, domain.RoleSystem:
		return reach{scope: domain.Scope{All: true}}, nil
	}
	return reach{}, domain.Forbidden(u.Role, "stats.read", "the %s role reads no individual statistics", u.Role)
}

// checkFilter refuses a team or agent outside the reach.
func (b *Backend) checkFilter(ctx context.Context, r reach, f StatsFilter) error {
	for _, l := range []struct {
		field string
		ids   []string
	}{{"filter.team_ids", f.Teams}, {"filter.campaign_ids", f.Campaigns}, {"filter.grid_ids", f.Grids},
		{"filter.agent_ids", f.Agent}} {
		if err := limits.IDs(l.field, l.ids, limits.MaxFilterIDs); err != nil {
			return err
		}
	}
	if err := limits.Instant("filter.from", f.From); err != nil {
		return err
	}
	if err := limits.Instant("filter.to", f.To); err != nil {
		return err
	}
	if r.scope.All {
		return nil
	}
	outside := func(field, id string) error {
		return domain.New(domain.ReasonOutsideScope, "%s %s is outside what you may read", strings.TrimSuffix(field, "_ids"), id).
			With(domain.MetaField, field).With(domain.MetaID, id)
	}
	for _, t := range f.Teams {
		if !slices.Contains(r.scope.TeamIDs, t) {
			return outside("team_ids", t)
		}
	}
	for _, a := range f.Agent {
		if slices.Contains(r.scope.AgentIDs, a) {
			continue
		}
		ag, err := b.Store.AgentByID(ctx, a)
		if err != nil || !slices.Contains(r.scope.TeamIDs, ag.TeamID) {
			return outside("agent_ids", a)
		}
	}
	return nil
}

func (f StatsFilter) details() map[string]string {
	d := map[string]string{}
	put := func(k string, v []string) {
		if len(v) > 0 {
			d[k] = strings.Join(v, ",")
		}
	}
	put("team_ids", f.Teams)
	put("campaign_ids", f.Campaigns)
	put("grid_ids", f.Grids)
	put("agent_ids", f.Agent)
	if !f.From.IsZero() {
		d["from"] = f.From.UTC().Format(time.RFC3339)
	}
	if !f.To.IsZero() {
		d["to"] = f.To.UTC().Format(time.RFC3339)
	}
	return d
}

// ScoreFigure is a count of evaluations and the sum of their totals.
type ScoreFigure struct {
	Evaluations, SumTenths, CriticalFailed int64
}

// Mean is the mean total in percent, one decimal (0 without evaluations).
func (f ScoreFigure) Mean() float64 {
	if f.Evaluations == 0 {
		return 0
	}
	return float64(int64(float64(f.SumTenths)/float64(f.Evaluations)+0.5)) / 10
}

func (f *ScoreFigure) add(r store.ScoreRow) {
	f.Evaluations += r.N
	f.SumTenths += r.SumTenths
	f.CriticalFailed += r.CriticalFailed
}

// ScoreGroup is one agent's, team's or evaluator's figures, over the
// period and per bucket.
type ScoreGroup struct {
	ID, Name, TeamID string
	Figure           ScoreFigure
	Series           []ScoreFigure
}

// CriterionRate is how often a criterion failed.
type CriterionRate struct {
	GridID, GridName, SectionID, CriterionID, Label string
	Answered, Failed                                int64
}

// SectionMean is a section's mean score.
type SectionMean struct {
	GridID, SectionID, Title string
	Evaluations, SumTenths   int64
}

// QualityStats is the quality dashboard's data.
type QualityStats struct {
	Period       stats.Period
	Buckets      []time.Time
	Total        ScoreFigure
	Trend        []ScoreFigure // per bucket
	Criteria     []CriterionRate
	Sections     []SectionMean
	Agents       []ScoreGroup
	Teams        []ScoreGroup
	Evaluators   []ScoreGroup
	TeamMeans    []ScoreGroup
	Distribution [store.Bins]int64
}

// names are the directory's names, read once per request.
type names struct {
	teams, agents map[string]string
	agentTeam     map[string]string
	users         map[string]string
}

func (b *Backend) names(ctx context.Context) (names, error) {
	n := names{teams: map[string]string{}, agents: map[string]string{}, agentTeam: map[string]string{},
		users: map[string]string{}}
	ts, err := b.Store.ListTeams(ctx)
	if err != nil {
		return n, domain.Internal("list teams", err)
	}
	for _, t := range ts {
		n.teams[t.ID] = t.Name
	}
	as, err := b.Store.ListAgents(ctx, nil, true)
	if err != nil {
		return n, domain.Internal("list agents", err)
	}
	for _, a := range as {
		n.agents[a.ID], n.agentTeam[a.ID] = a.Name, a.TeamID
	}
	return n, nil
}

func (b *Backend) userName(ctx context.Context, n names, id string) string {
	if v, ok := n.users[id]; ok {
		return v
	}
	v := id
	if u, err := b.Store.UserByID(ctx, id); err == nil {
		v = u.DisplayName
	}
	n.users[id] = v
	return v
}

func (b *Backend) statQuery(r reach, f StatsFilter, p stats.Piece) store.StatQuery {
	return store.StatQuery{Span: p.Grouping.Span(), From: p.From, To: p.To, Scope: r.scope, Teams: f.Teams,
		Agents: f.Agent, Campaigns: f.Campaigns, Grids: f.Grids}
}

// scoreRows reads the score aggregates of the period, each row's Start
// set to its bucket of the period's grouping.
func (b *Backend) scoreRows(ctx context.Context, r reach, f StatsFilter, p stats.Period) ([]store.ScoreRow, error) {
	var out []store.ScoreRow
	for _, piece := range stats.Pieces(p.From, p.To, p.Grouping) {
		rows, err := b.Store.StatScores(ctx, b.statQuery(r, f, piece))
		if err != nil {
			return nil, domain.Internal("read statistics", err)
		}
		for i := range rows {
			rows[i].Start = stats.Start(rows[i].Start, p.Grouping)
		}
		out = append(out, rows...)
	}
	return out, nil
}

// QualityStats computes the quality dashboard within the caller's reach.
func (b *Backend) QualityStats(ctx context.Context, c Caller, f StatsFilter) (QualityStats, error) {
	q, err := b.qualityStats(ctx, c, f)
	if rerr := b.recordRead(ctx, c, ActionStatsQuality, f.details(), err); rerr != nil {
		return QualityStats{}, rerr
	}
	return q, nil
}

// recordRead audits a statistics read; if the entry cannot be written,
// nothing is returned (R10).
func (b *Backend) recordRead(ctx context.Context, c Caller, action string, d map[string]string, err error) error {
	if rerr := b.record(ctx, c, action, entry{details: d}, err); rerr != nil {
		if err == nil {
			return domain.New(domain.ReasonAuditUnavailable, "audit trail unavailable: statistics not sent")
		}
		return rerr
	}
	return nil
}

func (b *Backend) qualityStats(ctx context.Context, c Caller, f StatsFilter) (QualityStats, error) {
	r, err := b.statsReach(ctx, c)
	if err != nil {
		return QualityStats{}, err
	}
	if err := b.checkFilter(ctx, r, f); err != nil {
		return QualityStats{}, err
	}
	p, err := stats.Resolve(f.From, f.To, f.Grouping, b.Clock.Now())
	if err != nil {
		return QualityStats{}, err
	}
	n, err := b.names(ctx)
	if err != nil {
		return QualityStats{}, err
	}
	q := QualityStats{Period: p, Buckets: p.Buckets()}
	at := map[time.Time]int{}
	for i, s := range q.Buckets {
		at[s] = i
	}
	q.Trend = make([]ScoreFigure, len(q.Buckets))
	rows, err := b.scoreRows(ctx, r, f, p)
	if err != nil {
		return QualityStats{}, err
	}
	agents, teams, evaluators := map[string]*ScoreGroup{}, map[string]*ScoreGroup{}, map[string]*ScoreGroup{}
	group := func(m map[string]*ScoreGroup, id, name, team string) *ScoreGroup {
		g, ok := m[id]
		if !ok {
			g = &ScoreGroup{ID: id, Name: name, TeamID: team, Series: make([]ScoreFigure, len(q.Buckets))}
			m[id] = g
		}
		return g
	}
	for _, row := range rows {
		i, ok := at[row.Start]
		if !ok {
			continue
		}
		q.Total.add(row)
		q.Trend[i].add(row)
		for _, g := range []*ScoreGroup{
			group(agents, row.AgentID, cmp.Or(n.agents[row.AgentID], row.AgentID), row.TeamID),
			group(teams, row.TeamID, cmp.Or(n.teams[row.TeamID], row.TeamID), ""),
			group(evaluators, row.EvaluatorID+"\x00"+row.TeamID, b.userName(ctx, n, row.EvaluatorID), row.TeamID),
		} {
			g.Figure.add(row)
			g.Series[i].add(row)
		}
	}
	q.Agents, q.Teams, q.Evaluators = sortedGroups(agents), sortedGroups(teams), sortedGroups(evaluators)
	// An evaluator is listed once per team they evaluate, against that
	// team's mean (evaluator drift).
	for i := range q.Evaluators {
		q.Evaluators[i].ID, _, _ = strings.Cut(q.Evaluators[i].ID, "\x00")
	}
	q.TeamMeans = q.Teams
	if c.User.Role == domain.RoleAgent {
		// The agent against the team: the team's figures per bucket, only
		// where the team is large enough not to point at anyone.
		q.TeamMeans, err = b.teamComparison(ctx, r.team, f, p)
		if err != nil {
			return QualityStats{}, err
		}
	}
	if err := b.parts(ctx, r, f, p, &q); err != nil {
		return QualityStats{}, err
	}
	// The distribution of the totals, from the month buckets.
	for _, piece := range stats.Pieces(p.From, p.To, stats.Month) {
		bins, err := b.Store.StatBins(ctx, b.statQuery(r, f, piece))
		if err != nil {
			return QualityStats{}, domain.Internal("read statistics", err)
		}
		for k, v := range bins {
			q.Distribution[k] += v
		}
	}
	return q, nil
}

// teamComparison is the agent's team's figures per bucket, blank in the
// buckets with fewer than stats.MinAgents agents or stats.MinEvaluations
// evaluations.
func (b *Backend) teamComparison(ctx context.Context, team string, f StatsFilter, p stats.Period) ([]ScoreGroup, error) {
	if team == "" {
		return nil, nil
	}
	tf := StatsFilter{Campaigns: f.Campaigns, Grids: f.Grids}
	rows, err := b.scoreRows(ctx, reach{scope: domain.Scope{TeamIDs: []string{team}}}, tf, p)
	if err != nil {
		return nil, err
	}
	buckets := p.Buckets()
	at := map[time.Time]int{}
	for i, s := range buckets {
		at[s] = i
	}
	g := ScoreGroup{ID: team, Series: make([]ScoreFigure, len(buckets))}
	who := make([]map[string]bool, len(buckets))
	for _, row := range rows {
		if i, ok := at[row.Start]; ok {
			g.Series[i].add(row)
			if who[i] == nil {
				who[i] = map[string]bool{}
			}
			who[i][row.AgentID] = true
		}
	}
	all := map[string]bool{}
	for i := range g.Series {
		maps.Copy(all, who[i])
		if len(who[i]) < stats.MinAgents || g.Series[i].Evaluations < stats.MinEvaluations {
			g.Series[i] = ScoreFigure{}
			continue
		}
		g.Figure.Evaluations += g.Series[i].Evaluations
		g.Figure.SumTenths += g.Series[i].SumTenths
		g.Figure.CriticalFailed += g.Series[i].CriticalFailed
	}
	if t, err := b.Store.TeamByID(ctx, team); err == nil {
		g.Name = t.Name
	}
	return []ScoreGroup{g}, nil
}

func sortedGroups(m map[string]*ScoreGroup) []ScoreGroup {
	out := make([]ScoreGroup, 0, len(m))
	for _, g := range m {
		out = append(out, *g)
	}
	slices.SortFunc(out, func(a, b ScoreGroup) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID), cmp.Compare(a.TeamID, b.TeamID))
	})
	return out
}

// parts fills the criteria's failure rates and the sections' means.
func (b *Backend) parts(ctx context.Context, r reach, f StatsFilter, p stats.Period, q *QualityStats) error {
	sum := map[[3]string]*store.PartRow{}
	for _, piece := range stats.Pieces(p.From, p.To, stats.Month) {
		rows, err := b.Store.StatParts(ctx, b.statQuery(r, f, piece))
		if err != nil {
			return domain.Internal("read statistics", err)
		}
		for _, row := range rows {
			k := [3]string{row.GridID, row.Kind, row.PartID}
			if cur, ok := sum[k]; ok {
				cur.Counted += row.Counted
				cur.Failed += row.Failed
				cur.SumTenths += row.SumTenths
			} else {
				rr := row
				sum[k] = &rr
			}
		}
	}
	grids, err := b.Store.ListGrids(ctx)
	if err != nil {
		return domain.Internal("list grids", err)
	}
	labels, gridNames := map[[2]string]string{}, map[string]string{}
	for _, g := range grids {
		gridNames[g.Grid.ID] = g.Grid.Name
		for _, s := range g.Grid.Sections {
			labels[[2]string{g.Grid.ID, "s:" + s.ID}] = s.Title
			for _, c := range s.Criteria {
				labels[[2]string{g.Grid.ID, "c:" + c.ID}] = c.Label
			}
		}
	}
	for _, row := range sum {
		label := cmp.Or(labels[[2]string{row.GridID, row.Kind + ":" + row.PartID}], row.PartID)
		if row.Kind == "s" {
			if row.Counted > 0 {
				q.Sections = append(q.Sections, SectionMean{GridID: row.GridID, SectionID: row.PartID, Title: label,
					Evaluations: row.Counted, SumTenths: row.SumTenths})
			}
			continue
		}
		if row.Counted > 0 {
			q.Criteria = append(q.Criteria, CriterionRate{GridID: row.GridID, GridName: gridNames[row.GridID],
				SectionID: row.SectionID, CriterionID: row.PartID, Label: label, Answered: row.Counted, Failed: row.Failed})
		}
	}
	slices.SortFunc(q.Criteria, func(a, b CriterionRate) int {
		// most failed first (by rate), then by id
		return cmp.Or(cmp.Compare(b.Failed*a.Answered, a.Failed*b.Answered), cmp.Compare(a.GridID, b.GridID),
			cmp.Compare(a.CriterionID, b.CriterionID))
	})
	slices.SortFunc(q.Sections, func(a, b SectionMean) int {
		return cmp.Or(cmp.Compare(a.GridID, b.GridID), cmp.Compare(a.SectionID, b.SectionID))
	})
	return nil
}

// ActivityFigure sums the activity feed.
type ActivityFigure struct {
	Intervals, Handled, Lost     int64
	TalkMS, BackOfficeMS, RingMS int64
}

func (f *ActivityFigure) add(r store.ActivityRow) {
	f.Intervals += r.Intervals
	f.Handled += r.Handled
	f.Lost += r.Lost
	f.TalkMS += r.TalkMS
	f.BackOfficeMS += r.BackOfficeMS
	f.RingMS += r.RingMS
}

// ActivityGroup is one agent's or team's activity.
type ActivityGroup struct {
	ID, Name, TeamID string
	Figure           ActivityFigure
	Series           []ActivityFigure
}

// ActivityType is the time and calls of one activity type.
type ActivityType struct {
	Type    string
	Time    time.Duration
	Handled int64
}

// ActivityStats is the activity dashboard's data.
type ActivityStats struct {
	Period  stats.Period
	Buckets []time.Time
	Total   ActivityFigure
	Trend   []ActivityFigure
	Agents  []ActivityGroup
	Teams   []ActivityGroup
	Types   []ActivityType
}

// AgentActivity computes the activity dashboard within the caller's reach.
func (b *Backend) AgentActivity(ctx context.Context, c Caller, f StatsFilter) (ActivityStats, error) {
	a, err := b.agentActivity(ctx, c, f)
	if rerr := b.recordRead(ctx, c, ActionStatsActivity, f.details(), err); rerr != nil {
		return ActivityStats{}, rerr
	}
	return a, nil
}

func (b *Backend) agentActivity(ctx context.Context, c Caller, f StatsFilter) (ActivityStats, error) {
	r, err := b.statsReach(ctx, c)
	if err != nil {
		return ActivityStats{}, err
	}
	if err := b.checkFilter(ctx, r, f); err != nil {
		return ActivityStats{}, err
	}
	p, err := stats.Resolve(f.From, f.To, f.Grouping, b.Clock.Now())
	if err != nil {
		return ActivityStats{}, err
	}
	n, err := b.names(ctx)
	if err != nil {
		return ActivityStats{}, err
	}
	a := ActivityStats{Period: p, Buckets: p.Buckets()}
	at := map[time.Time]int{}
	for i, s := range a.Buckets {
		at[s] = i
	}
	a.Trend = make([]ActivityFigure, len(a.Buckets))
	agents, teams := map[string]*ActivityGroup{}, map[string]*ActivityGroup{}
	types := map[string]*ActivityType{}
	group := func(m map[string]*ActivityGroup, id, name, team string) *ActivityGroup {
		g, ok := m[id]
		if !ok {
			g = &ActivityGroup{ID: id, Name: name, TeamID: team, Series: make([]ActivityFigure, len(a.Buckets))}
			m[id] = g
		}
		return g
	}
	f.Grids = nil
	for _, piece := range stats.Pieces(p.From, p.To, p.Grouping) {
		rows, err := b.Store.StatActivity(ctx, b.statQuery(r, f, piece))
		if err != nil {
			return ActivityStats{}, domain.Internal("read activity statistics", err)
		}
		for _, row := range rows {
			i, ok := at[stats.Start(row.Start, p.Grouping)]
			if !ok {
				continue
			}
			a.Total.add(row)
			a.Trend[i].add(row)
			for _, g := range []*ActivityGroup{
				group(agents, row.AgentID, cmp.Or(n.agents[row.AgentID], row.AgentID), row.TeamID),
				group(teams, row.TeamID, cmp.Or(n.teams[row.TeamID], row.TeamID), ""),
			} {
				g.Figure.add(row)
				g.Series[i].add(row)
			}
		}
	}
	for _, piece := range stats.Pieces(p.From, p.To, stats.Month) {
		rows, err := b.Store.StatActivityTypes(ctx, b.statQuery(r, f, piece))
		if err != nil {
			return ActivityStats{}, domain.Internal("read activity statistics", err)
		}
		for _, row := range rows {
			t, ok := types[row.ActivityType]
			if !ok {
				t = &ActivityType{Type: row.ActivityType}
				types[row.ActivityType] = t
			}
			t.Time += time.Duration(row.TalkMS+row.BackOfficeMS) * time.Millisecond
			t.Handled += row.Handled
		}
	}
	sorted := func(m map[string]*ActivityGroup) []ActivityGroup {
		out := make([]ActivityGroup, 0, len(m))
		for _, g := range m {
			out = append(out, *g)
		}
		slices.SortFunc(out, func(a, b ActivityGroup) int { return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID)) })
		return out
	}
	a.Agents, a.Teams = sorted(agents), sorted(teams)
	for _, t := range types {
		a.Types = append(a.Types, *t)
	}
	slices.SortFunc(a.Types, func(x, y ActivityType) int { return cmp.Or(cmp.Compare(y.Time, x.Time), cmp.Compare(x.Type, y.Type)) })
	return a, nil
}

// DrillDown asks for the evaluations behind a figure.
type DrillDown struct {
	Filter          StatsFilter
	FailedCriterion string
	EvaluatorID     string
	PageSize        int
}

// StatsEvaluations lists the evaluations behind a figure, within what the
// caller may read of evaluations (policy.EvaluationScope) and of
// statistics.
func (b *Backend) StatsEvaluations(ctx context.Context, c Caller, d DrillDown) ([]EvaluationView, error) {
	det := d.Filter.details()
	if d.FailedCriterion != "" {
		det["failed_criterion_id"] = d.FailedCriterion
	}
	if d.EvaluatorID != "" {
		det["evaluator_id"] = d.EvaluatorID
	}
	out, err := b.statsEvaluations(ctx, c, d)
	if err == nil {
		det["returned"] = strconv.Itoa(len(out))
	}
	if rerr := b.recordRead(ctx, c, ActionStatsEvaluations, det, err); rerr != nil {
		return nil, rerr
	}
	return out, nil
}

func (b *Backend) statsEvaluations(ctx context.Context, c Caller, d DrillDown) ([]EvaluationView, error) {
	r, err := b.statsReach(ctx, c)
	if err != nil {
		return nil, err
	}
	if err := b.checkFilter(ctx, r, d.Filter); err != nil {
		return nil, err
	}
	if err := limits.ID("failed_criterion_id", d.FailedCriterion); err != nil {
		return nil, err
	}
	if err := limits.ID("evaluator_id", d.EvaluatorID); err != nil {
		return nil, err
	}
	p, err := stats.Resolve(d.Filter.From, d.Filter.To, d.Filter.Grouping, b.Clock.Now())
	if err != nil {
		return nil, err
	}
	size := d.PageSize
	switch {
	case size < 0:
		return nil, domain.Invalid("page_size", "must not be negative")
	case size == 0:
		size = 100
	case size > MaxEvaluationPage:
		size = MaxEvaluationPage
	}
	list, err := b.Store.ListEvaluations(ctx, store.EvalQuery{Scope: policy.EvaluationScope(c.User), Limit: size,
		Counted: true, Teams: d.Filter.Teams, Agents: d.Filter.Agent, Campaigns: d.Filter.Campaigns,
		Grids: d.Filter.Grids, EvaluatorID: d.EvaluatorID, From: p.From, To: p.To, FailedCriterion: d.FailedCriterion})
	if err != nil {
		return nil, domain.Internal("list evaluations", err)
	}
	out := make([]EvaluationView, 0, len(list))
	grids := map[string]store.GridRecord{}
	for _, e := range list {
		key := e.GridID + "@" + strconv.Itoa(e.GridVersion)
		rec, ok := grids[key]
		if !ok {
			if rec, err = b.grid(ctx, e.GridID, e.GridVersion); err != nil {
				return nil, err
			}
			grids[key] = rec
		}
		out = append(out, b.viewWith(e, rec))
	}
	return out, nil
}

// errNoCompany is the refusal of a client account linked to no company.
func errNoCompany() error {
	return domain.New(domain.ReasonNoCompany,
		"this client account is linked to no company: the administrator links it with `ecouted user company LOGIN COMPANY`")
}

// LinkClientCompany links a client account to its company (the
// campaigns' client name): the account then reads that company's tables
// and nothing of any other.
func (b *Backend) LinkClientCompany(ctx context.Context, c Caller, login, company string) error {
	e := entry{target: login, details: map[string]string{"company": company}}
	err := func() error {
		u, err := b.Store.UserByLogin(ctx, login)
		if errors.Is(err, store.ErrNotFound) {
			return domain.NotFound("no account %q", login)
		} else if err != nil {
			return domain.Internal("find account", err)
		}
		e.target = u.ID
		if u.Role != domain.RoleClient {
			return domain.Invalid("login", "%s has the %s role: only client accounts are linked to a company", login, u.Role)
		}
		company = strings.TrimSpace(company)
		if err := b.Store.SetClientCompany(ctx, u.ID, company); err != nil {
			return domain.Internal("link company", err)
		}
		return nil
	}()
	return b.record(ctx, c, "user.company", e, err)
}
