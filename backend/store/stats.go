package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/ecoute/ecoute/backend/grid"
	"github.com/ecoute/ecoute/backend/scoring"
)

// Evaluation kinds: calibration evaluations (training) never count in a
// statistic.
const (
	KindNormal      = "normal"
	KindCalibration = "calibration"
)

// Spans of the pre-aggregates (UTC): a day, a week from Monday, a
// calendar month.
const (
	SpanDay   = "d"
	SpanWeek  = "w"
	SpanMonth = "m"
)

// Bins is how many totals fall in each 10-point bin: [0,10) … [90,100].
const Bins = 10

// StatQuery selects pre-aggregated rows: the buckets of Span starting in
// [From, To), within Scope, and the ids listed (none: all).
type StatQuery struct {
	Span      string
	From, To  time.Time
	Scope     Scope
	Teams     []string
	Agents    []string
	Campaigns []string
	Grids     []string
	// ByCampaign keeps the campaigns apart in StatScores (else their
	// CampaignID is empty and the grids and campaigns are summed).
	ByCampaign bool
}

// ScoreRow is one bucket of one agent's evaluations, per team and
// evaluator (and campaign when asked).
type ScoreRow struct {
	Start                                    time.Time
	AgentID, TeamID, CampaignID, EvaluatorID string
	N, SumTenths, CriticalFailed             int64
}

// PartRow is one section's or criterion's figures summed over a query,
// per grid.
type PartRow struct {
	GridID, Kind, PartID, SectionID string
	Counted, Failed, SumTenths      int64
}

// ActivityRow is one bucket of one agent's activity, per team, campaign
// and activity type.
type ActivityRow struct {
	Start                                     time.Time
	AgentID, TeamID, CampaignID, ActivityType string
	Intervals, Handled, Lost                  int64
	TalkMS, BackOfficeMS, RingMS              int64
}

// ActivityInterval is one row of the activity feed (R5).
type ActivityInterval struct {
	AgentID, TeamID, CampaignID, ActivityType string
	StartedAt, EndedAt                        time.Time
	Handled, Lost                             int64
	Talk, BackOffice, Ring                    time.Duration
	ImportedAt                                time.Time
}

// StatsStore keeps the statistics' sources and pre-aggregates.
type StatsStore interface {
	StatScores(ctx context.Context, q StatQuery) ([]ScoreRow, error)
	// StatBins sums the score bins over a query.
	StatBins(ctx context.Context, q StatQuery) ([Bins]int64, error)
	// StatParts sums sections and criteria over the query, per grid.
	StatParts(ctx context.Context, q StatQuery) ([]PartRow, error)
	StatActivity(ctx context.Context, q StatQuery) ([]ActivityRow, error)
	// StatActivityTypes sums the activity per type (ActivityType set,
	// Start and the ids empty).
	StatActivityTypes(ctx context.Context, q StatQuery) ([]ActivityRow, error)
	// PutActivity stores intervals (replacing those with the same agent,
	// campaign, type and start) and their aggregates, in one transaction.
	PutActivity(ctx context.Context, rows []ActivityInterval) error
	// DeleteExpiredActivity deletes the intervals that started before
	// cutoff, and their aggregates.
	DeleteExpiredActivity(ctx context.Context, cutoff time.Time) (int, error)
	// RebuildStats recomputes every evaluation part and aggregate from the
	// evaluations and intervals (after a bulk load).
	RebuildStats(ctx context.Context) error

	ClientCompany(ctx context.Context, userID string) (string, error)
	SetClientCompany(ctx context.Context, userID, company string) error
	// CompanyCampaigns lists the campaigns whose client_name is company,
	// ended ones included.
	CompanyCampaigns(ctx context.Context, company string) ([]Campaign, error)
	// ClientTable returns a stored monthly table, or ErrNotFound.
	ClientTable(ctx context.Context, company string, month time.Time) (body []byte, computedAt time.Time, err error)
	// SaveClientTable stores a month's table unless one is stored already;
	// it returns the one that stands.
	SaveClientTable(ctx context.Context, company string, month time.Time, body []byte, at time.Time) ([]byte, time.Time, error)
	// DeleteClientTablesBefore deletes the tables of months before cutoff.
	DeleteClientTablesBefore(ctx context.Context, cutoff time.Time) (int, error)
}

var _ StatsStore = (*SQLite)(nil)

const dayMS = int64(24 * time.Hour / time.Millisecond)

// bucketSQL is the start of the bucket of span holding the instant col.
func bucketSQL(span, col string) string {
	switch span {
	case SpanDay:
		return fmt.Sprintf("(%s / %d) * %d", col, dayMS, dayMS)
	case SpanWeek:
		return fmt.Sprintf("((%s / %d + 3) / 7 * 7 - 3) * %d", col, dayMS, dayMS)
	}
	return fmt.Sprintf("CAST(strftime('%%s', %s / 1000, 'unixepoch', 'start of month') AS INTEGER) * 1000", col)
}

// MonthStart is the first instant (UTC) of t's month.
func MonthStart(t time.Time) time.Time {
	y, m, _ := t.UTC().Date()
	return time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
}

// WeekStart is the Monday 00:00 UTC of t's week.
func WeekStart(t time.Time) time.Time {
	d := DayOf(t)
	return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
}

const evalCounts = `e.status <> 'draft' AND e.kind = 'normal' AND e.has_total = 1`

func scoresInsert(span string) string {
	var bins []string
	for i := range Bins {
		lo, hi := i*100, (i+1)*100
		if i == Bins-1 {
			hi = 1001
		}
		bins = append(bins, fmt.Sprintf("SUM(e.total_tenths >= %d AND e.total_tenths < %d)", lo, hi))
	}
	return `INSERT INTO stat_scores (span, start, agent_id, team_id, campaign_id, grid_id, evaluator_id, n, sum_tenths,
		critical_failed, b0, b1, b2, b3, b4, b5, b6, b7, b8, b9)
		SELECT '` + span + `', ` + bucketSQL(span, "e.call_started_at") + `, e.agent_id, e.team_id, e.campaign_id,
		e.grid_id, e.evaluator_id, COUNT(*), SUM(e.total_tenths), SUM(e.critical_failed), ` + strings.Join(bins, ", ") + `
		FROM evaluations e WHERE ` + evalCounts + ` AND {cond}
		GROUP BY 2, e.agent_id, e.team_id, e.campaign_id, e.grid_id, e.evaluator_id`
}

func partsInsert(span string) string {
	return `INSERT INTO stat_parts (span, start, agent_id, team_id, campaign_id, grid_id, kind, part_id, section_id,
		counted, failed, sum_tenths)
		SELECT '` + span + `', ` + bucketSQL(span, "e.call_started_at") + `, e.agent_id, e.team_id, e.campaign_id,
		e.grid_id, p.kind, p.part_id, MIN(p.section_id), SUM(p.counted), SUM(p.failed), SUM(p.score_tenths)
		FROM evaluations e JOIN evaluation_parts p ON p.evaluation_id = e.id WHERE ` + evalCounts + ` AND {cond}
		GROUP BY 2, e.agent_id, e.team_id, e.campaign_id, e.grid_id, p.kind, p.part_id`
}

// activityInsert sums an agent's intervals per bucket and campaign, all
// activity types together (an empty activity_type): the per-agent figures.
func activityInsert(span string) string {
	return `INSERT INTO stat_activity (span, start, agent_id, team_id, campaign_id, activity_type, intervals,
		calls_handled, calls_lost, talk_ms, back_office_ms, ring_ms)
		SELECT '` + span + `', ` + bucketSQL(span, "a.started_at") + `, a.agent_id, a.team_id, a.campaign_id,
		'', COUNT(*), SUM(a.calls_handled), SUM(a.calls_lost), SUM(a.talk_ms), SUM(a.back_office_ms),
		SUM(a.ring_ms) FROM activity_intervals a WHERE {cond}
		GROUP BY 2, a.agent_id, a.team_id, a.campaign_id`
}

// teamActivityInsert sums a team's intervals per bucket, campaign and
// activity type, under an empty agent_id: the time per activity type, read
// without one row per agent.
func teamActivityInsert(span string) string {
	return `INSERT INTO stat_activity (span, start, agent_id, team_id, campaign_id, activity_type, intervals,
		calls_handled, calls_lost, talk_ms, back_office_ms, ring_ms)
		SELECT '` + span + `', ` + bucketSQL(span, "a.started_at") + `, '', a.team_id, a.campaign_id,
		a.activity_type, COUNT(*), SUM(a.calls_handled), SUM(a.calls_lost), SUM(a.talk_ms), SUM(a.back_office_ms),
		SUM(a.ring_ms) FROM activity_intervals a WHERE {cond}
		GROUP BY 2, a.team_id, a.campaign_id, a.activity_type`
}

// teamPartsInsert sums the agents' part rows of a team under an empty agent_id:
// the criteria and sections of a team or of everyone, read in one row per
// team instead of one per agent.
const teamPartsInsert = `INSERT INTO stat_parts (span, start, agent_id, team_id, campaign_id, grid_id, kind, part_id,
	section_id, counted, failed, sum_tenths)
	SELECT span, start, '', team_id, campaign_id, grid_id, kind, part_id, MIN(section_id), SUM(counted), SUM(failed),
	SUM(sum_tenths) FROM stat_parts WHERE agent_id NOT IN ('', '*') AND team_id = ? AND {range}
	GROUP BY span, start, team_id, campaign_id, grid_id, kind, part_id`

// allPartsInsert sums the team rows of the parts of a week or month
// range under agent, team and campaign '*': the criteria and sections of
// everyone (hr's dashboard) in one row per part, not one per team.
const allPartsInsert = `INSERT INTO stat_parts (span, start, agent_id, team_id, campaign_id, grid_id, kind, part_id,
	section_id, counted, failed, sum_tenths)
	SELECT span, start, '*', '*', '*', grid_id, kind, part_id, MIN(section_id), SUM(counted), SUM(failed),
	SUM(sum_tenths) FROM stat_parts WHERE agent_id = '' AND {range}
	GROUP BY span, start, grid_id, kind, part_id`

// agentMonth names the pre-aggregates one write touches.
type agentMonth struct {
	agent string
	month int64
}

// touched collects the agent-months of a transaction's writes.
type touched map[agentMonth]bool

func (t touched) add(agent string, at time.Time) {
	t[agentMonth{agent, MonthStart(at).UnixMilli()}] = true
}

// monthRange is the buckets a month's refresh rewrites: its days, its
// weeks (whole, including days of the months around) and itself.
type monthRange struct{ m0, m1, w0, w1 time.Time }

func rangeOf(month int64) monthRange {
	m0 := time.UnixMilli(month).UTC()
	m1 := m0.AddDate(0, 1, 0)
	return monthRange{m0, m1, WeekStart(m0), WeekStart(m1.Add(-time.Millisecond)).AddDate(0, 0, 7)}
}

// cond is the SQL condition on span and start of the range's buckets.
func (r monthRange) cond() (string, []any) {
	return `((span = 'd' AND start >= ? AND start < ?) OR (span = 'w' AND start >= ? AND start < ?) OR
		(span = 'm' AND start = ?))`, []any{ms(r.m0), ms(r.m1), ms(r.w0), ms(r.w1), ms(r.m0)}
}

// spans are the raw rows each span of the range is computed from.
func (r monthRange) spans() []struct {
	span   string
	lo, hi time.Time
} {
	return []struct {
		span   string
		lo, hi time.Time
	}{{SpanDay, r.m0, r.m1}, {SpanWeek, r.w0, r.w1}, {SpanMonth, r.m0, r.m1}}
}

// teamsOf lists the teams of an agent's rows of a table in a range.
func teamsOf(ctx context.Context, tx *sql.Tx, table, agent string, r monthRange, into map[[2]string]bool, month int64) error {
	c, args := r.cond()
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT team_id FROM `+table+` WHERE agent_id = ? AND `+c,
		append([]any{agent}, args...)...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var team string
		if err := rows.Scan(&team); err != nil {
			return err
		}
		into[[2]string{team, fmt.Sprint(month)}] = true
	}
	return rows.Err()
}

// refreshEvaluations recomputes the score and part aggregates of each
// agent-month from the evaluations (its days, its month, and every week
// overlapping it), then the team rows of the parts of every team the
// agent was in.
func refreshEvaluations(ctx context.Context, tx *sql.Tx, t touched) error {
	teams := map[[2]string]bool{}
	for k := range t {
		r := rangeOf(k.month)
		if err := teamsOf(ctx, tx, "stat_parts", k.agent, r, teams, k.month); err != nil {
			return fmt.Errorf("refresh statistics: %w", err)
		}
		c, args := r.cond()
		for _, table := range []string{"stat_scores", "stat_parts"} {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE agent_id = ? AND `+c,
				append([]any{k.agent}, args...)...); err != nil {
				return fmt.Errorf("refresh statistics: %w", err)
			}
		}
		for _, sp := range r.spans() {
			cond := "e.agent_id = ? AND e.call_started_at >= ? AND e.call_started_at < ?"
			for _, q := range []string{scoresInsert(sp.span), partsInsert(sp.span)} {
				if _, err := tx.ExecContext(ctx, strings.Replace(q, "{cond}", cond, 1), k.agent, ms(sp.lo), ms(sp.hi)); err != nil {
					return fmt.Errorf("refresh statistics: %w", err)
				}
			}
		}
		if err := teamsOf(ctx, tx, "stat_parts", k.agent, r, teams, k.month); err != nil {
			return fmt.Errorf("refresh statistics: %w", err)
		}
	}
	months := map[int64]bool{}
	for k := range teams {
		var month int64
		fmt.Sscan(k[1], &month)
		months[month] = true
		c, args := rangeOf(month).cond()
		if _, err := tx.ExecContext(ctx, `DELETE FROM stat_parts WHERE agent_id = '' AND team_id = ? AND `+c,
			append([]any{k[0]}, args...)...); err != nil {
			return fmt.Errorf("refresh team statistics: %w", err)
		}
		if _, err := tx.ExecContext(ctx, strings.Replace(teamPartsInsert, "{range}", c, 1),
			append([]any{k[0]}, args...)...); err != nil {
			return fmt.Errorf("refresh team statistics: %w", err)
		}
	}
	// Everyone's rows of the weeks and month (days are read from the team
	// rows: recomputing a month of days for everyone at each write would
	// cost more than it saves).
	for month := range months {
		r := rangeOf(month)
		c := `((span = 'w' AND start >= ? AND start < ?) OR (span = 'm' AND start = ?))`
		args := []any{ms(r.w0), ms(r.w1), ms(r.m0)}
		if _, err := tx.ExecContext(ctx, `DELETE FROM stat_parts WHERE agent_id = '*' AND `+c, args...); err != nil {
			return fmt.Errorf("refresh everyone's statistics: %w", err)
		}
		if _, err := tx.ExecContext(ctx, strings.Replace(allPartsInsert, "{range}", c, 1), args...); err != nil {
			return fmt.Errorf("refresh everyone's statistics: %w", err)
		}
	}
	return nil
}

// refreshActivity is refreshEvaluations for the activity feed: the
// agent's rows, then the per-type rows of their teams.
func refreshActivity(ctx context.Context, tx *sql.Tx, t touched) error {
	teams := map[[2]string]bool{}
	for k := range t {
		r := rangeOf(k.month)
		if err := teamsOf(ctx, tx, "stat_activity", k.agent, r, teams, k.month); err != nil {
			return fmt.Errorf("refresh activity statistics: %w", err)
		}
		c, args := r.cond()
		if _, err := tx.ExecContext(ctx, `DELETE FROM stat_activity WHERE agent_id = ? AND `+c,
			append([]any{k.agent}, args...)...); err != nil {
			return fmt.Errorf("refresh activity statistics: %w", err)
		}
		for _, sp := range r.spans() {
			cond := "a.agent_id = ? AND a.started_at >= ? AND a.started_at < ?"
			if _, err := tx.ExecContext(ctx, strings.Replace(activityInsert(sp.span), "{cond}", cond, 1), k.agent,
				ms(sp.lo), ms(sp.hi)); err != nil {
				return fmt.Errorf("refresh activity statistics: %w", err)
			}
		}
		if err := teamsOf(ctx, tx, "stat_activity", k.agent, r, teams, k.month); err != nil {
			return fmt.Errorf("refresh activity statistics: %w", err)
		}
	}
	for k := range teams {
		var month int64
		fmt.Sscan(k[1], &month)
		r := rangeOf(month)
		c, args := r.cond()
		if _, err := tx.ExecContext(ctx, `DELETE FROM stat_activity WHERE agent_id = '' AND team_id = ? AND `+c,
			append([]any{k[0]}, args...)...); err != nil {
			return fmt.Errorf("refresh team activity: %w", err)
		}
		for _, sp := range r.spans() {
			cond := "a.team_id = ? AND a.started_at >= ? AND a.started_at < ?"
			if _, err := tx.ExecContext(ctx, strings.Replace(teamActivityInsert(sp.span), "{cond}", cond, 1), k[0],
				ms(sp.lo), ms(sp.hi)); err != nil {
				return fmt.Errorf("refresh team activity: %w", err)
			}
		}
	}
	return nil
}

// gridCache reads each grid version once per transaction.
type gridCache map[string]grid.Grid

func (c gridCache) get(ctx context.Context, tx *sql.Tx, id string, version int) (grid.Grid, error) {
	k := fmt.Sprintf("%s@%d", id, version)
	if g, ok := c[k]; ok {
		return g, nil
	}
	rec, err := getGrid(ctx, tx, id, version)
	if err != nil {
		return grid.Grid{}, err
	}
	c[k] = rec.Grid
	return rec.Grid, nil
}

// writeParts replaces the sections and criteria scoring found in e.
func writeParts(ctx context.Context, tx *sql.Tx, grids gridCache, e Evaluation) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM evaluation_parts WHERE evaluation_id = ?`, e.ID); err != nil {
		return fmt.Errorf("evaluation %s parts: %w", e.ID, err)
	}
	g, err := grids.get(ctx, tx, e.GridID, e.GridVersion)
	if err != nil {
		return fmt.Errorf("evaluation %s parts: %w", e.ID, err)
	}
	byID := map[string]grid.Answer{}
	for _, a := range e.Answers {
		byID[a.CriterionID] = a
	}
	res, err := scoring.Score(g, byID)
	if err != nil {
		// A draft may hold what no longer scores; it counts nowhere.
		return nil
	}
	scores := map[string]scoring.SectionResult{}
	for _, s := range res.Sections {
		scores[s.ID] = s
	}
	for _, sec := range g.Sections {
		s := scores[sec.ID]
		if _, err := tx.ExecContext(ctx, `INSERT INTO evaluation_parts (evaluation_id, kind, part_id, section_id, counted,
			failed, score_tenths) VALUES (?, 's', ?, ?, ?, 0, ?)`, e.ID, sec.ID, sec.ID, b2i(s.HasScore),
			int64(s.Score*10+0.5)); err != nil {
			return fmt.Errorf("evaluation %s parts: %w", e.ID, err)
		}
		for _, c := range sec.Criteria {
			v := byID[c.ID].Value
			counted := v != "" && v != grid.NA
			if _, err := tx.ExecContext(ctx, `INSERT INTO evaluation_parts (evaluation_id, kind, part_id, section_id,
				counted, failed, score_tenths) VALUES (?, 'c', ?, ?, ?, ?, 0)`, e.ID, c.ID, sec.ID, b2i(counted),
				b2i(counted && c.Failed(v))); err != nil {
				return fmt.Errorf("evaluation %s parts: %w", e.ID, err)
			}
		}
	}
	return nil
}

// inClause appends "AND col IN (?,…)" for vals (nothing when empty).
func inClause(w *strings.Builder, args *[]any, col string, vals []string) {
	if len(vals) == 0 {
		return
	}
	w.WriteString(" AND " + col + " IN (" + strings.TrimSuffix(strings.Repeat("?,", len(vals)), ",") + ")")
	for _, v := range vals {
		*args = append(*args, v)
	}
}

// perAgent tells whether a query needs the rows of each agent (it names
// agents or its scope is agents), not the team rows (an empty agent_id).
func (q StatQuery) perAgent() bool { return len(q.Agents) > 0 || len(q.Scope.AgentIDs) > 0 }

// statWhere is the WHERE clause of a query on a stat_ table aliased s:
// the agents' rows, or the teams' (an empty agent_id) when teamRows, or
// everyone's (agent_id '*', stat_parts) when everyone.
func statWhere(q StatQuery, teamRows bool) (string, []any) { return statWhereAt(q, teamRows, false) }

func statWhereAt(q StatQuery, teamRows, everyone bool) (string, []any) {
	var w strings.Builder
	args := []any{q.Span, ms(q.From), ms(q.To)}
	w.WriteString(" WHERE s.span = ? AND s.start >= ? AND s.start < ?")
	switch {
	case everyone:
		w.WriteString(" AND s.agent_id = '*'")
	case teamRows:
		w.WriteString(" AND s.agent_id = ''")
	default:
		w.WriteString(" AND s.agent_id NOT IN ('', '*')")
	}
	if !q.Scope.All {
		or, oargs := scopeOr(q.Scope)
		w.WriteString(" AND " + or)
		args = append(args, oargs...)
	}
	inClause(&w, &args, "s.team_id", q.Teams)
	inClause(&w, &args, "s.agent_id", q.Agents)
	inClause(&w, &args, "s.campaign_id", q.Campaigns)
	return w.String(), args
}

// StatScores reads score aggregates per bucket, agent, team and evaluator
// (and campaign with q.ByCampaign), summed by SQLite in key order.
func (s *SQLite) StatScores(ctx context.Context, q StatQuery) ([]ScoreRow, error) {
	w, args := statWhere(q, false)
	var g strings.Builder
	g.WriteString(w)
	inClause(&g, &args, "s.grid_id", q.Grids)
	camp, group := "''", ""
	if q.ByCampaign {
		camp, group = "s.campaign_id", ", s.campaign_id"
	}
	rows, err := s.db.QueryContext(ctx, `SELECT s.start, s.agent_id, s.team_id, s.evaluator_id, `+camp+`, SUM(s.n),
		SUM(s.sum_tenths), SUM(s.critical_failed) FROM stat_scores s`+g.String()+`
		GROUP BY s.start, s.agent_id, s.team_id, s.evaluator_id`+group, args...)
	if err != nil {
		return nil, fmt.Errorf("score statistics: %w", err)
	}
	defer rows.Close()
	var out []ScoreRow
	for rows.Next() {
		var r ScoreRow
		var start int64
		if err := rows.Scan(&start, &r.AgentID, &r.TeamID, &r.EvaluatorID, &r.CampaignID, &r.N, &r.SumTenths,
			&r.CriticalFailed); err != nil {
			return nil, fmt.Errorf("score statistics: %w", err)
		}
		r.Start = fromMS(start)
		out = append(out, r)
	}
	return out, rows.Err()
}

// StatBins sums the score bins over a query.
func (s *SQLite) StatBins(ctx context.Context, q StatQuery) ([Bins]int64, error) {
	w, args := statWhere(q, false)
	var g strings.Builder
	g.WriteString(w)
	inClause(&g, &args, "s.grid_id", q.Grids)
	var b [Bins]int64
	err := s.db.QueryRowContext(ctx, `SELECT COALESCE(SUM(s.b0), 0), COALESCE(SUM(s.b1), 0), COALESCE(SUM(s.b2), 0),
		COALESCE(SUM(s.b3), 0), COALESCE(SUM(s.b4), 0), COALESCE(SUM(s.b5), 0), COALESCE(SUM(s.b6), 0),
		COALESCE(SUM(s.b7), 0), COALESCE(SUM(s.b8), 0), COALESCE(SUM(s.b9), 0) FROM stat_scores s`+g.String(), args...).
		Scan(&b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &b[6], &b[7], &b[8], &b[9])
	if err != nil {
		return b, fmt.Errorf("score bins: %w", err)
	}
	return b, nil
}

// StatParts reads section and criterion aggregates, summed per grid: from
// the team rows unless the query is about agents.
func (s *SQLite) StatParts(ctx context.Context, q StatQuery) ([]PartRow, error) {
	everyone := q.Scope.All && !q.perAgent() && len(q.Teams) == 0 && len(q.Campaigns) == 0 &&
		(q.Span == SpanWeek || q.Span == SpanMonth)
	w, args := statWhereAt(q, !q.perAgent(), everyone)
	var g strings.Builder
	g.WriteString(w)
	inClause(&g, &args, "s.grid_id", q.Grids)
	rows, err := s.db.QueryContext(ctx, `SELECT s.grid_id, s.kind, s.part_id, MIN(s.section_id), SUM(s.counted),
		SUM(s.failed), SUM(s.sum_tenths) FROM stat_parts s`+g.String()+` GROUP BY s.grid_id, s.kind, s.part_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("part statistics: %w", err)
	}
	defer rows.Close()
	var out []PartRow
	for rows.Next() {
		var r PartRow
		if err := rows.Scan(&r.GridID, &r.Kind, &r.PartID, &r.SectionID, &r.Counted, &r.Failed, &r.SumTenths); err != nil {
			return nil, fmt.Errorf("part statistics: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// StatActivityTypes sums the activity per type over a query's buckets
// (whole days or months): from the team rows, or from the intervals
// themselves when the query is about agents.
func (s *SQLite) StatActivityTypes(ctx context.Context, q StatQuery) ([]ActivityRow, error) {
	var query string
	var args []any
	if q.perAgent() {
		var w strings.Builder
		args = []any{ms(q.From), ms(q.To)}
		w.WriteString(" WHERE s.started_at >= ? AND s.started_at < ?")
		if !q.Scope.All {
			or, oargs := scopeOr(q.Scope)
			w.WriteString(" AND " + or)
			args = append(args, oargs...)
		}
		inClause(&w, &args, "s.team_id", q.Teams)
		inClause(&w, &args, "s.agent_id", q.Agents)
		inClause(&w, &args, "s.campaign_id", q.Campaigns)
		query = `SELECT s.activity_type, COUNT(*), SUM(s.calls_handled), SUM(s.calls_lost), SUM(s.talk_ms),
			SUM(s.back_office_ms), SUM(s.ring_ms) FROM activity_intervals s` + w.String() + ` GROUP BY s.activity_type`
	} else {
		w, wargs := statWhere(q, true)
		args = wargs
		query = `SELECT s.activity_type, SUM(s.intervals), SUM(s.calls_handled), SUM(s.calls_lost), SUM(s.talk_ms),
			SUM(s.back_office_ms), SUM(s.ring_ms) FROM stat_activity s` + w + ` GROUP BY s.activity_type`
	}
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("activity types: %w", err)
	}
	defer rows.Close()
	var out []ActivityRow
	for rows.Next() {
		var r ActivityRow
		if err := rows.Scan(&r.ActivityType, &r.Intervals, &r.Handled, &r.Lost, &r.TalkMS, &r.BackOfficeMS, &r.RingMS); err != nil {
			return nil, fmt.Errorf("activity types: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// scopeOr is the scope as a condition on the columns team_id and agent_id
// of a table aliased s.
func scopeOr(sc Scope) (string, []any) {
	var or []string
	var args []any
	if len(sc.TeamIDs) > 0 {
		or = append(or, "s.team_id IN ("+strings.TrimSuffix(strings.Repeat("?,", len(sc.TeamIDs)), ",")+")")
		for _, v := range sc.TeamIDs {
			args = append(args, v)
		}
	}
	if len(sc.AgentIDs) > 0 {
		or = append(or, "s.agent_id IN ("+strings.TrimSuffix(strings.Repeat("?,", len(sc.AgentIDs)), ",")+")")
		for _, v := range sc.AgentIDs {
			args = append(args, v)
		}
	}
	if len(or) == 0 {
		return "1 = 0", nil
	}
	return "(" + strings.Join(or, " OR ") + ")", args
}

// StatActivity reads activity aggregates, per agent.
func (s *SQLite) StatActivity(ctx context.Context, q StatQuery) ([]ActivityRow, error) {
	w, args := statWhere(q, false)
	rows, err := s.db.QueryContext(ctx, `SELECT s.start, s.agent_id, s.team_id, s.campaign_id, s.activity_type,
		s.intervals, s.calls_handled, s.calls_lost, s.talk_ms, s.back_office_ms, s.ring_ms FROM stat_activity s`+w, args...)
	if err != nil {
		return nil, fmt.Errorf("activity statistics: %w", err)
	}
	defer rows.Close()
	var out []ActivityRow
	for rows.Next() {
		var r ActivityRow
		var start int64
		if err := rows.Scan(&start, &r.AgentID, &r.TeamID, &r.CampaignID, &r.ActivityType, &r.Intervals, &r.Handled,
			&r.Lost, &r.TalkMS, &r.BackOfficeMS, &r.RingMS); err != nil {
			return nil, fmt.Errorf("activity statistics: %w", err)
		}
		r.Start = fromMS(start)
		out = append(out, r)
	}
	return out, rows.Err()
}

// PutActivity upserts intervals and refreshes their aggregates.
func (s *SQLite) PutActivity(ctx context.Context, in []ActivityInterval) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `INSERT INTO activity_intervals (agent_id, team_id, campaign_id, activity_type,
			started_at, ended_at, calls_handled, calls_lost, talk_ms, back_office_ms, ring_ms, imported_at)
			VALUES (?,?,?,?,?,?,?,?,?,?,?,?)
			ON CONFLICT (agent_id, campaign_id, activity_type, started_at) DO UPDATE SET team_id = excluded.team_id,
			ended_at = excluded.ended_at, calls_handled = excluded.calls_handled, calls_lost = excluded.calls_lost,
			talk_ms = excluded.talk_ms, back_office_ms = excluded.back_office_ms, ring_ms = excluded.ring_ms,
			imported_at = excluded.imported_at`)
		if err != nil {
			return err
		}
		defer st.Close()
		t := touched{}
		for _, a := range in {
			if _, err := st.ExecContext(ctx, a.AgentID, a.TeamID, a.CampaignID, a.ActivityType, ms(a.StartedAt),
				ms(a.EndedAt), a.Handled, a.Lost, a.Talk.Milliseconds(), a.BackOffice.Milliseconds(),
				a.Ring.Milliseconds(), ms(a.ImportedAt)); err != nil {
				return err
			}
			t.add(a.AgentID, a.StartedAt)
		}
		if err := refreshActivity(ctx, tx, t); err != nil {
			return err
		}
		return recordRequest(ctx, tx, "", int64(len(in)))
	})
	if err != nil {
		return fmt.Errorf("store activity: %w", err)
	}
	return nil
}

// DeleteExpiredActivity deletes intervals past their retention.
func (s *SQLite) DeleteExpiredActivity(ctx context.Context, cutoff time.Time) (int, error) {
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT DISTINCT agent_id, `+bucketSQL(SpanMonth, "started_at")+`
			FROM activity_intervals WHERE started_at < ?`, ms(cutoff))
		if err != nil {
			return err
		}
		t := touched{}
		for rows.Next() {
			var k agentMonth
			if err := rows.Scan(&k.agent, &k.month); err != nil {
				rows.Close()
				return err
			}
			t[k] = true
		}
		rows.Close()
		res, err := tx.ExecContext(ctx, `DELETE FROM activity_intervals WHERE started_at < ?`, ms(cutoff))
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		return refreshActivity(ctx, tx, t)
	})
	if err != nil {
		return 0, fmt.Errorf("delete expired activity: %w", err)
	}
	return int(n), nil
}

// touchedEvaluations lists the agent-months of the evaluations matching
// where (a condition on evaluations e).
func touchedEvaluations(ctx context.Context, tx *sql.Tx, where string, args ...any) (touched, error) {
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT e.agent_id, `+bucketSQL(SpanMonth, "e.call_started_at")+`
		FROM evaluations e WHERE `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	t := touched{}
	for rows.Next() {
		var k agentMonth
		if err := rows.Scan(&k.agent, &k.month); err != nil {
			return nil, err
		}
		t[k] = true
	}
	return t, rows.Err()
}

// RebuildStats recomputes every part and aggregate.
func (s *SQLite) RebuildStats(ctx context.Context) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{`DELETE FROM evaluation_parts`, `DELETE FROM stat_scores`, `DELETE FROM stat_parts`,
			`DELETE FROM stat_activity`} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+evalCols+evalFrom+` WHERE e.status <> 'draft'`)
		if err != nil {
			return err
		}
		var es []Evaluation
		for rows.Next() {
			e, err := s.scanEvaluation(rows)
			if err != nil {
				rows.Close()
				return err
			}
			es = append(es, e)
		}
		rows.Close()
		grids := gridCache{}
		for _, e := range es {
			if err := writeParts(ctx, tx, grids, e); err != nil {
				return err
			}
		}
		for _, span := range []string{SpanDay, SpanWeek, SpanMonth} {
			for _, q := range []string{scoresInsert(span), partsInsert(span), activityInsert(span), teamActivityInsert(span)} {
				if _, err := tx.ExecContext(ctx, strings.Replace(q, "{cond}", "1 = 1", 1)); err != nil {
					return err
				}
			}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO stat_parts (span, start, agent_id, team_id, campaign_id, grid_id, kind,
			part_id, section_id, counted, failed, sum_tenths)
			SELECT span, start, '', team_id, campaign_id, grid_id, kind, part_id, MIN(section_id), SUM(counted),
			SUM(failed), SUM(sum_tenths) FROM stat_parts WHERE agent_id NOT IN ('', '*')
			GROUP BY span, start, team_id, campaign_id, grid_id, kind, part_id`)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, strings.Replace(allPartsInsert, "{range}", "span IN ('w', 'm')", 1))
		return err
	})
	if err != nil {
		return fmt.Errorf("rebuild statistics: %w", err)
	}
	return nil
}

// ClientCompany is the company a client account is linked to ("" when
// none).
func (s *SQLite) ClientCompany(ctx context.Context, userID string) (string, error) {
	var c string
	err := s.db.QueryRowContext(ctx, `SELECT company FROM client_companies WHERE user_id = ?`, userID).Scan(&c)
	if err == sql.ErrNoRows {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("client company: %w", err)
	}
	return c, nil
}

// SetClientCompany links a client account to a company ("" unlinks it).
func (s *SQLite) SetClientCompany(ctx context.Context, userID, company string) error {
	var err error
	if company == "" {
		_, err = s.db.ExecContext(ctx, `DELETE FROM client_companies WHERE user_id = ?`, userID)
	} else {
		_, err = s.db.ExecContext(ctx, `INSERT INTO client_companies (user_id, company) VALUES (?, ?)
			ON CONFLICT (user_id) DO UPDATE SET company = excluded.company`, userID, company)
	}
	if err != nil {
		return fmt.Errorf("set client company: %w", err)
	}
	return nil
}

// CompanyCampaigns lists a company's campaigns by name.
func (s *SQLite) CompanyCampaigns(ctx context.Context, company string) ([]Campaign, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, client_name, created_at, ended_at FROM campaigns
		WHERE client_name = ? ORDER BY name, id`, company)
	if err != nil {
		return nil, fmt.Errorf("company campaigns: %w", err)
	}
	defer rows.Close()
	var out []Campaign
	for rows.Next() {
		var c Campaign
		var created, ended int64
		if err := rows.Scan(&c.ID, &c.Name, &c.ClientName, &created, &ended); err != nil {
			return nil, fmt.Errorf("company campaigns: %w", err)
		}
		c.CreatedAt, c.EndedAt = fromMS(created), fromMS(ended)
		out = append(out, c)
	}
	return out, rows.Err()
}

// ClientTable reads a stored monthly table.
func (s *SQLite) ClientTable(ctx context.Context, company string, month time.Time) ([]byte, time.Time, error) {
	var body string
	var at int64
	err := s.db.QueryRowContext(ctx, `SELECT body, computed_at FROM client_tables WHERE company = ? AND month = ?`,
		company, ms(month)).Scan(&body, &at)
	if err != nil {
		return nil, time.Time{}, notFound(err, "client table")
	}
	return []byte(body), fromMS(at), nil
}

// SaveClientTable stores a table once: the first one stored stands.
func (s *SQLite) SaveClientTable(ctx context.Context, company string, month time.Time, body []byte, at time.Time) ([]byte, time.Time, error) {
	if _, err := s.db.ExecContext(ctx, `INSERT INTO client_tables (company, month, computed_at, body) VALUES (?,?,?,?)
		ON CONFLICT (company, month) DO NOTHING`, company, ms(month), ms(at), string(body)); err != nil {
		return nil, time.Time{}, fmt.Errorf("save client table: %w", err)
	}
	return s.ClientTable(ctx, company, month)
}

// DeleteClientTablesBefore deletes the tables of months before cutoff.
func (s *SQLite) DeleteClientTablesBefore(ctx context.Context, cutoff time.Time) (int, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM client_tables WHERE month < ?`, ms(cutoff))
	if err != nil {
		return 0, fmt.Errorf("delete client tables: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
