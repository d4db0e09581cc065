package tui

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"google.golang.org/protobuf/types/known/timestamppb"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/client"
	"github.com/ecoute/ecoute/internal/i18n"
)

// The statistics dashboard (issue 17) of the roles that have one:
// supervisors (their teams), trainers (their trainees), agents
// (themselves) and hr (everyone). Two pages, quality and activity; the
// trend as bars per month, week or day, failure rates per criterion,
// figures and sparklines per agent, and each evaluator's mean against the
// team's. The keyboard moves between the sections and along the bars;
// enter opens the evaluations behind the bar or row (roles that read
// evaluations); x exports the page, encrypted.

const (
	methodQualityStats     = "/ecoute.v1.StatsService/QualityStats"
	methodStatsEvaluations = "/ecoute.v1.StatsService/StatsEvaluations"
	methodExportStats      = "/ecoute.v1.StatsService/ExportStats"
	methodClientTables     = "/ecoute.v1.StatsService/ClientTables"
)

// OpenStatsMsg asks the App to open the dashboard.
type OpenStatsMsg struct{}

// statsBinding is the key to the dashboard, disabled with the reason for
// a role without statistics.
func statsBinding(c *Common) Binding {
	b := bind(c.printer(), true, "D", c.T(keyStats), "D")
	if !c.May(methodQualityStats) {
		b.disable(c.T(reasonNoStats, c.role()))
	}
	return b
}

type (
	qualityMsg struct {
		resp *ecoutev1.QualityStatsResponse
		err  error
	}
	activityMsg struct {
		resp *ecoutev1.AgentActivityResponse
		err  error
	}
)

// The dashboard's sections, in focus order.
const (
	secTrend = iota
	secCriteria
	secAgents
	secEvaluators
	secCount
)

type statsKeys struct {
	Section, Left, Right, Up, Down, Grouping, Page, Drill, Export, Reload Binding
}

func newStatsKeys(c *Common) statsKeys {
	tr := c.printer()
	k := statsKeys{
		Section:  bind(tr, true, "tab", c.T(keyStatsSection), "tab"),
		Left:     bind(tr, false, "←", c.T(keyStatsPrev), "left", "h"),
		Right:    bind(tr, false, "→", c.T(keyStatsNext), "right", "l"),
		Up:       bind(tr, false, "↑", c.T(keyUp), "up", "k"),
		Down:     bind(tr, false, "↓", c.T(keyDown), "down", "j"),
		Grouping: bind(tr, true, "g", c.T(keyStatsGrouping), "g"),
		Page:     bind(tr, true, "a", c.T(keyStatsPage), "a"),
		Drill:    bind(tr, true, "enter", c.T(keyStatsDrill), "enter"),
		Export:   bind(tr, true, "x", c.T(keyStatsExport), "x"),
		Reload:   bind(tr, false, "r", c.T(keyReload), "r", "ctrl+r"),
	}
	if !c.May(methodStatsEvaluations) {
		k.Drill.disable(c.T(reasonNoDrill, c.role()))
	}
	if !c.May(methodExportStats) {
		k.Export.disable(c.T(reasonNoExport, c.role()))
	}
	return k
}

type statsScreen struct {
	c        *Common
	id       int
	keys     statsKeys
	activity bool // the activity page
	grouping ecoutev1.StatsGrouping
	q        *ecoutev1.QualityStatsResponse
	act      *ecoutev1.AgentActivityResponse
	err      string
	loading  bool
	focus    int
	cursor   [secCount]int
	offset   [secCount]int
	export   *exportPrompt
	width    int
	height   int
}

func newStatsScreen(c *Common) *statsScreen {
	return &statsScreen{c: c, id: c.NextSeq(), keys: newStatsKeys(c), grouping: ecoutev1.StatsGrouping_STATS_GROUPING_MONTH}
}

func (s *statsScreen) ID() int { return s.id }
func (s *statsScreen) Title() string {
	if s.activity {
		return s.c.T(statsActivityTitle)
	}
	return s.c.T(statsQualityTitle)
}
func (s *statsScreen) SetSize(w, h int) { s.width, s.height = w, h }
func (s *statsScreen) Init() tea.Cmd    { return s.fetch() }

// Typing: the export prompt takes the keys while it is open.
func (s *statsScreen) Typing() bool { return s.export != nil && s.export.typing() }

// filter is the dashboard's period: the last 12 months, 12 weeks or 31
// days, ending today.
func (s *statsScreen) filter() *ecoutev1.StatsFilter {
	now := s.c.now().UTC()
	to := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, 1)
	var from time.Time
	switch s.grouping {
	case ecoutev1.StatsGrouping_STATS_GROUPING_DAY:
		from = to.AddDate(0, 0, -31)
	case ecoutev1.StatsGrouping_STATS_GROUPING_WEEK:
		from = to.AddDate(0, 0, -7*12)
	default:
		from = time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -11, 0)
	}
	return &ecoutev1.StatsFilter{From: timestamppb.New(from), To: timestamppb.New(to), Grouping: s.grouping}
}

func (s *statsScreen) fetch() tea.Cmd {
	s.loading, s.err = true, ""
	b, f := s.c.Backend, s.filter()
	if s.activity {
		return s.c.request(s.id, "stats", func(ctx context.Context) (tea.Msg, error) {
			resp, err := b.AgentActivity(ctx, f)
			return activityMsg{resp: resp, err: err}, err
		})
	}
	return s.c.request(s.id, "stats", func(ctx context.Context) (tea.Msg, error) {
		resp, err := b.QualityStats(ctx, f)
		return qualityMsg{resp: resp, err: err}, err
	})
}

// rows is how many rows a section has.
func (s *statsScreen) rows(sec int) int {
	switch {
	case sec == secTrend && s.activity:
		return len(s.act.GetTrend())
	case sec == secTrend:
		return len(s.q.GetTrend())
	case sec == secCriteria && s.activity:
		return len(s.act.GetTypes())
	case sec == secCriteria:
		return len(s.q.GetCriteria())
	case sec == secAgents && s.activity:
		return len(s.act.GetAgents())
	case sec == secAgents:
		return len(s.q.GetAgents())
	case sec == secEvaluators && !s.activity:
		return len(s.q.GetEvaluators())
	}
	return 0
}

func (s *statsScreen) Update(msg tea.Msg) tea.Cmd {
	if s.export != nil {
		if cmd, handled, done := s.export.update(msg); handled {
			if done {
				s.export = nil
			}
			return cmd
		}
	}
	switch msg := msg.(type) {
	case qualityMsg:
		s.loading = false
		if msg.err != nil {
			s.err = s.c.explain(msg.err)
			return nil
		}
		s.q = msg.resp
		s.cursor[secTrend] = max(0, len(s.q.GetTrend())-1)
		return nil
	case activityMsg:
		s.loading = false
		if msg.err != nil {
			s.err = s.c.explain(msg.err)
			return nil
		}
		s.act = msg.resp
		s.cursor[secTrend] = max(0, len(s.act.GetTrend())-1)
		return nil
	case tea.KeyPressMsg:
		k := s.keys
		switch {
		case on(msg, k.Section):
			for range secCount {
				s.focus = (s.focus + 1) % secCount
				if s.rows(s.focus) > 0 {
					break
				}
			}
		case on(msg, k.Left), on(msg, k.Up):
			s.cursor[s.focus] = max(0, s.cursor[s.focus]-1)
		case on(msg, k.Right), on(msg, k.Down):
			s.cursor[s.focus] = max(0, min(s.rows(s.focus)-1, s.cursor[s.focus]+1))
		case on(msg, k.Grouping):
			s.grouping = map[ecoutev1.StatsGrouping]ecoutev1.StatsGrouping{
				ecoutev1.StatsGrouping_STATS_GROUPING_MONTH: ecoutev1.StatsGrouping_STATS_GROUPING_WEEK,
				ecoutev1.StatsGrouping_STATS_GROUPING_WEEK:  ecoutev1.StatsGrouping_STATS_GROUPING_DAY,
				ecoutev1.StatsGrouping_STATS_GROUPING_DAY:   ecoutev1.StatsGrouping_STATS_GROUPING_MONTH,
			}[s.grouping]
			return s.fetch()
		case on(msg, k.Page):
			s.activity, s.focus = !s.activity, secTrend
			s.cursor, s.offset = [secCount]int{}, [secCount]int{}
			return s.fetch()
		case on(msg, k.Reload):
			return s.fetch()
		case on(msg, k.Drill):
			return s.drill()
		case on(msg, k.Export):
			data := &ecoutev1.ExportStatsRequest{Data: &ecoutev1.ExportStatsRequest_Quality{
				Quality: &ecoutev1.QualityStatsRequest{Filter: s.filter()}}}
			kind := "quality"
			if s.activity {
				data.Data = &ecoutev1.ExportStatsRequest_Activity{Activity: &ecoutev1.AgentActivityRequest{Filter: s.filter()}}
				kind = "activity"
			}
			s.export = newExportPrompt(s.c, s.id, kind, data)
			return s.export.init()
		case k.Drill.is(msg), k.Export.is(msg):
			return cmdOf(StatusMsg{Text: k.Drill.Reason + k.Export.Reason, Level: LevelWarn})
		}
	}
	return nil
}

// drill opens the evaluations behind the focused bar or row.
func (s *statsScreen) drill() tea.Cmd {
	if s.activity || s.q == nil {
		return cmdOf(StatusMsg{Text: s.c.T(statsNoDrillHere), Level: LevelInfo})
	}
	f := s.filter()
	d := client.Drill{Filter: f, PageSize: 200}
	title := ""
	i := s.cursor[s.focus]
	switch s.focus {
	case secTrend:
		tr := s.q.GetTrend()
		if i >= len(tr) {
			return nil
		}
		from := tr[i].Start.AsTime()
		to := f.To.AsTime()
		if i+1 < len(tr) {
			to = tr[i+1].Start.AsTime()
		}
		if from.Before(f.From.AsTime()) {
			from = f.From.AsTime()
		}
		d.Filter = &ecoutev1.StatsFilter{From: timestamppb.New(from), To: timestamppb.New(to), Grouping: s.grouping}
		title = s.bucketName(tr[i].Start.AsTime())
	case secCriteria:
		cr := s.q.GetCriteria()
		if i >= len(cr) {
			return nil
		}
		d.FailedCriterion = cr[i].CriterionId
		d.Filter.GridIds = []string{cr[i].GridId}
		title = s.c.T(statsFailedTitle, cr[i].Label)
	case secAgents:
		ag := s.q.GetAgents()
		if i >= len(ag) {
			return nil
		}
		d.Filter.AgentIds = []string{ag[i].Id}
		title = ag[i].Name
	case secEvaluators:
		ev := s.q.GetEvaluators()
		if i >= len(ev) {
			return nil
		}
		d.EvaluatorID = ev[i].Id
		if ev[i].TeamId != "" {
			d.Filter.TeamIds = []string{ev[i].TeamId}
		}
		title = s.c.T(statsByEvaluator, ev[i].Name)
	}
	return cmdOf(openDrillMsg{drill: d, title: title})
}

// bucketName names a bucket: "Mar 2026", "week of 2026-03-02", "2026-03-02".
func (s *statsScreen) bucketName(t time.Time) string {
	switch s.grouping {
	case ecoutev1.StatsGrouping_STATS_GROUPING_DAY:
		return t.Format(time.DateOnly)
	case ecoutev1.StatsGrouping_STATS_GROUPING_WEEK:
		return s.c.T(statsWeekOf, t.Format(time.DateOnly))
	}
	return s.monthName(t) + " " + fmt.Sprint(t.Year())
}

func (s *statsScreen) monthName(t time.Time) string {
	return s.c.T(i18n.Key(fmt.Sprintf("month.%d", int(t.Month()))))
}

// bucketLabel is the short label under a bar.
func (s *statsScreen) bucketLabel(t time.Time) string {
	switch s.grouping {
	case ecoutev1.StatsGrouping_STATS_GROUPING_DAY:
		return fmt.Sprint(t.Day())
	case ecoutev1.StatsGrouping_STATS_GROUPING_WEEK:
		return t.Format("02/01")
	}
	return s.monthName(t)
}

func (s *statsScreen) groupingName() string {
	switch s.grouping {
	case ecoutev1.StatsGrouping_STATS_GROUPING_DAY:
		return s.c.T(statsByDay)
	case ecoutev1.StatsGrouping_STATS_GROUPING_WEEK:
		return s.c.T(statsByWeek)
	}
	return s.c.T(statsByMonth)
}

func (s *statsScreen) View() string {
	st := s.c.Styles
	w, h := s.width, s.height
	var lines []string
	switch {
	case s.err != "":
		lines = append(lines, st.Error.Render(ansi.Wordwrap(s.err, w, "")))
	case s.loading && s.q == nil && s.act == nil:
		lines = append(lines, st.Subtle.Render(s.c.T(listLoading)))
	case s.activity && s.act != nil:
		lines = s.activityView(w, h)
	case !s.activity && s.q != nil:
		lines = s.qualityView(w, h)
	}
	if s.export != nil {
		lines = append(lines[:min(len(lines), max(0, h-3))], s.export.view(w)...)
	}
	return fitLines(lines, w, h)
}

// fitLines makes exactly h lines of at most w cells.
func fitLines(lines []string, w, h int) string {
	var out []string
	for _, l := range lines {
		out = append(out, strings.Split(l, "\n")...)
	}
	if len(out) > h {
		out = out[:h]
	}
	for i := range out {
		out[i] = ansi.Truncate(out[i], w, "…")
	}
	for len(out) < h {
		out = append(out, "")
	}
	return strings.Join(out, "\n")
}

// layout shares the height among the trend and the lists.
func layout(h int) (trend, criteria, agents, evaluators int) {
	trend = max(3, h/4)
	rest := h - 1 - (trend + 3) // the header, the trend's labels, mark and caption
	criteria = max(1, rest*3/10)
	evaluators = max(1, rest*2/10)
	agents = max(1, rest-criteria-evaluators-3)
	return
}

func (s *statsScreen) sectionTitle(sec int, text string) string {
	st := s.c.Styles
	if s.focus == sec {
		return st.Focused.Render("▸ " + text)
	}
	return st.Label.Render("  " + text)
}

// window scrolls a section so that its cursor shows in n rows.
func (s *statsScreen) window(sec, n int) (from, to int) {
	total := s.rows(sec)
	c := s.cursor[sec]
	if c < s.offset[sec] {
		s.offset[sec] = c
	}
	if c >= s.offset[sec]+n {
		s.offset[sec] = c - n + 1
	}
	return s.offset[sec], min(total, s.offset[sec]+n)
}

func (s *statsScreen) marker(sec, i int) string {
	if s.focus == sec && s.cursor[sec] == i {
		return "▶ "
	}
	return "  "
}

func (s *statsScreen) rowStyle(sec, i int) lipgloss.Style {
	if s.focus == sec && s.cursor[sec] == i {
		return s.c.Styles.TableSelected
	}
	return s.c.Styles.Text
}

func (s *statsScreen) trendBlock(values []float64, max float64, starts []time.Time, th, w int, caption string) []string {
	st := s.c.Styles
	sel := -1
	if s.focus == secTrend {
		sel = s.cursor[secTrend]
	}
	labels := make([]string, len(starts))
	for i, t := range starts {
		labels[i] = s.bucketLabel(t)
	}
	return []string{
		vbars(values, max, w, th, sel, st.WavePlayed, st.WaveHead),
		st.Muted.Render(labelsUnder(labels, w)),
		st.Focused.Render(markUnder(len(values), sel, w, "▲")),
		caption,
	}
}

func (s *statsScreen) qualityView(w, h int) []string {
	p, st, q := s.c.printer(), s.c.Styles, s.q
	from, to := q.From.AsTime(), q.To.AsTime().AddDate(0, 0, -1)
	head := s.c.T(statsQualityHead, from.Format(time.DateOnly), to.Format(time.DateOnly), s.groupingName(),
		q.Total.GetEvaluations(), p.Percent(q.Total.GetMeanScore()))
	lines := []string{st.Title.Render(ansi.Truncate(head, w, "…"))}
	th, nc, na, ne := layout(h)
	var values []float64
	var starts []time.Time
	base := scoreBase(q)
	for _, pt := range q.Trend {
		v := 0.0
		if pt.Figure.GetEvaluations() > 0 {
			v = pt.Figure.GetMeanScore() - base
		}
		values = append(values, v)
		starts = append(starts, pt.Start.AsTime())
	}
	caption := ""
	if i := s.cursor[secTrend]; i < len(q.Trend) {
		f := q.Trend[i].Figure
		caption = s.c.T(statsTrendCaption, s.bucketName(starts[i]), f.GetEvaluations(), p.Percent(f.GetMeanScore()))
		for _, tm := range q.TeamMeans {
			if s.c.Principal.GetRole() == "agent" && i < len(tm.Series) && tm.Series[i].GetEvaluations() > 0 {
				caption += " · " + s.c.T(statsTeamMean, p.Percent(tm.Series[i].GetMeanScore()))
			}
		}
	}
	if base > 0 {
		caption += " · " + s.c.T(statsScaleFrom, p.Percent(base))
	}
	lines = append(lines, s.trendBlock(values, 100-base, starts, th, w, st.Subtle.Render(caption))...)

	// Failure per criterion: label, bar, rate.
	lines = append(lines, s.sectionTitle(secCriteria, s.c.T(statsCriteriaTitle)))
	labelW := min(30, w/3)
	barW := max(4, w-labelW-2-1-1-7-10)
	if len(q.Criteria) == 0 {
		lines = append(lines, st.Muted.Render("  "+s.c.T(statsNothing)))
	}
	a, b := s.window(secCriteria, nc)
	for i := a; i < b; i++ {
		c := q.Criteria[i]
		rate := 0.0
		if c.Answered > 0 {
			rate = 100 * float64(c.Failed) / float64(c.Answered)
		}
		lines = append(lines, s.marker(secCriteria, i)+s.rowStyle(secCriteria, i).Render(pad(c.Label, labelW))+" "+
			hbar(rate, 100, barW, st.Warn)+" "+padLeft(p.Percent(rate), 7)+st.Muted.Render(padLeft(fmt.Sprintf("%d/%d", c.Failed, c.Answered), 10)))
	}

	// Agents: name, evaluations, mean, sparkline.
	lines = append(lines, s.sectionTitle(secAgents, s.c.T(statsAgentsTitle)))
	nameW := min(24, w/3)
	sparkW := max(4, min(len(q.Trend), w-nameW-2-7-9-2))
	a, b = s.window(secAgents, na)
	for i := a; i < b; i++ {
		g := q.Agents[i]
		var series []float64
		for _, f := range g.Series {
			v := 0.0
			if f.GetEvaluations() > 0 {
				v = max(0.5, f.GetMeanScore()-base)
			}
			series = append(series, v)
		}
		lines = append(lines, s.marker(secAgents, i)+s.rowStyle(secAgents, i).Render(pad(g.Name, nameW))+
			padLeft(p.T(statsCount, g.Figure.GetEvaluations()), 7)+padLeft(p.Percent(g.Figure.GetMeanScore()), 9)+"  "+
			spark(series, 100-base, sparkW, st.WavePlayed))
	}

	// Evaluator drift: each evaluator's mean against their team's.
	lines = append(lines, s.sectionTitle(secEvaluators, s.c.T(statsEvaluatorsTitle)))
	teamMean, teamName := map[string]float64{}, map[string]string{}
	for _, t := range q.Teams {
		teamMean[t.Id], teamName[t.Id] = t.Figure.GetMeanScore(), t.Name
	}
	a, b = s.window(secEvaluators, ne)
	for i := a; i < b; i++ {
		e := q.Evaluators[i]
		d := e.Figure.GetMeanScore() - teamMean[e.TeamId]
		sign := "+"
		if d < 0 {
			sign = "−"
		}
		name := e.Name
		if len(q.Teams) > 1 {
			name += " · " + teamName[e.TeamId]
		}
		lines = append(lines, s.marker(secEvaluators, i)+s.rowStyle(secEvaluators, i).Render(pad(name, nameW))+
			padLeft(p.T(statsCount, e.Figure.GetEvaluations()), 7)+padLeft(p.Percent(e.Figure.GetMeanScore()), 9)+"  "+
			st.Subtle.Render(s.c.T(statsDrift, sign+p.Decimal(abs(d), 1))))
	}
	return lines
}

// scoreBase is where the score bars start: 10 points below the lowest
// mean of the trend, in tens, so that months of 85 and 90 % do not look
// alike.
func scoreBase(q *ecoutev1.QualityStatsResponse) float64 {
	low := 100.0
	for _, pt := range q.Trend {
		if pt.Figure.GetEvaluations() > 0 {
			low = min(low, pt.Figure.GetMeanScore())
		}
	}
	for _, g := range q.Agents {
		if g.Figure.GetEvaluations() > 0 {
			low = min(low, g.Figure.GetMeanScore())
		}
	}
	return max(0, float64(int(low/10))*10-10)
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

// minutes writes a duration as hours and minutes ("12 h 05", "7 min").
func (s *statsScreen) minutes(d time.Duration) string {
	m := int(d.Round(time.Minute) / time.Minute)
	if m >= 60 {
		return s.c.T(statsHours, m/60, m%60)
	}
	return s.c.T(statsMinutes, m)
}

func (s *statsScreen) activityView(w, h int) []string {
	p, st, a := s.c.printer(), s.c.Styles, s.act
	from, to := a.From.AsTime(), a.To.AsTime().AddDate(0, 0, -1)
	t := a.Total
	lostRate := 0.0
	if n := t.GetCallsHandled() + t.GetCallsLost(); n > 0 {
		lostRate = 100 * float64(t.GetCallsLost()) / float64(n)
	}
	per := func(d time.Duration) time.Duration {
		if t.GetCallsHandled() == 0 {
			return 0
		}
		return d / time.Duration(t.GetCallsHandled())
	}
	head := s.c.T(statsActivityHead, from.Format(time.DateOnly), to.Format(time.DateOnly), s.groupingName(),
		t.GetCallsHandled(), p.Percent(lostRate))
	sub := s.c.T(statsActivitySub, fmtClock(per(t.TalkTime.AsDuration())), fmtClock(per(t.RingTime.AsDuration())),
		fmtClock(per(t.BackOfficeTime.AsDuration())))
	lines := []string{st.Title.Render(ansi.Truncate(head, w, "…")), st.Subtle.Render(ansi.Truncate(sub, w, "…"))}
	th, nc, na, _ := layout(h - 1)
	var values []float64
	var starts []time.Time
	peak := 1.0
	for _, pt := range a.Trend {
		v := float64(pt.Figure.GetCallsHandled())
		values = append(values, v)
		starts = append(starts, pt.Start.AsTime())
		peak = max(peak, v)
	}
	caption := ""
	if i := s.cursor[secTrend]; i < len(a.Trend) {
		f := a.Trend[i].Figure
		caption = s.c.T(statsActivityCaption, s.bucketName(starts[i]), f.GetCallsHandled(), f.GetCallsLost(),
			s.minutes(f.TalkTime.AsDuration()))
	}
	lines = append(lines, s.trendBlock(values, peak, starts, th, w, st.Subtle.Render(caption))...)

	lines = append(lines, s.sectionTitle(secCriteria, s.c.T(statsTypesTitle)))
	labelW := min(24, w/3)
	barW := max(4, w-labelW-2-12)
	most := time.Duration(1)
	for _, ty := range a.Types {
		most = max(most, ty.Time.AsDuration())
	}
	x, y := s.window(secCriteria, nc)
	for i := x; i < y; i++ {
		ty := a.Types[i]
		lines = append(lines, s.marker(secCriteria, i)+s.rowStyle(secCriteria, i).Render(pad(ty.ActivityType, labelW))+" "+
			hbar(float64(ty.Time.AsDuration()), float64(most), barW, st.WavePlayed)+" "+padLeft(s.minutes(ty.Time.AsDuration()), 10))
	}

	lines = append(lines, s.sectionTitle(secAgents, s.c.T(statsActivityAgents)))
	nameW := min(24, w/3)
	sparkW := max(4, min(len(a.Trend), w-nameW-2-9-8-9-2))
	x, y = s.window(secAgents, na+nc/2)
	for i := x; i < y; i++ {
		g := a.Agents[i]
		var series []float64
		top := 1.0
		for _, f := range g.Series {
			series = append(series, float64(f.GetCallsHandled()))
			top = max(top, float64(f.GetCallsHandled()))
		}
		talk := time.Duration(0)
		if n := g.Figure.GetCallsHandled(); n > 0 {
			talk = g.Figure.TalkTime.AsDuration() / time.Duration(n)
		}
		lines = append(lines, s.marker(secAgents, i)+s.rowStyle(secAgents, i).Render(pad(g.Name, nameW))+
			padLeft(p.Decimal(float64(g.Figure.GetCallsHandled()), 0), 9)+padLeft(p.Decimal(float64(g.Figure.GetCallsLost()), 0), 8)+
			padLeft(fmtClock(talk), 9)+"  "+spark(series, top, sparkW, st.WavePlayed))
	}
	return lines
}

func (s *statsScreen) Keys() []Group {
	k := s.keys
	return []Group{
		{Title: s.c.T(helpGroupStats), Keys: []Binding{k.Section, k.Left, k.Right, k.Up, k.Down, k.Drill, k.Grouping,
			k.Page, k.Export, k.Reload}},
	}
}

// The drill-down: the evaluations behind a figure.

type openDrillMsg struct {
	drill client.Drill
	title string
}

type drillMsg struct {
	list []*ecoutev1.Evaluation
	err  error
}

type drillScreen struct {
	c     *Common
	id    int
	title string
	drill client.Drill
	keys  CallsKeys
	open  Binding
	list  *list[*ecoutev1.Evaluation]
}

func newDrillScreen(c *Common, d client.Drill, title string) *drillScreen {
	s := &drillScreen{c: c, id: c.NextSeq(), title: title, drill: d, keys: newCallsKeys(c.printer()),
		open: bind(c.printer(), true, "enter", c.T(keyOpenEvaluation), "enter")}
	c.KeyOverrides.apply("calls", &s.keys)
	type ev = *ecoutev1.Evaluation
	s.list = newList(c, []listColumn[ev]{
		{title: c.T(colDate), width: 16, cell: func(e ev) string {
			return e.GetCallStartedAt().AsTime().In(c.loc()).Format("2006-01-02 15:04")
		}},
		{title: c.T(colAgent), cell: func(e ev) string { return cmp.Or(e.GetAgentName(), e.GetAgentId()) }},
		{title: c.T(colScore), width: 8, right: true, cell: func(e ev) string { return c.printer().Percent(e.GetScore().GetTotal()) }},
		{title: c.T(colEvaluator), drop: 1, cell: func(e ev) string { return e.GetEvaluatorName() }},
	}, statsDrillEmpty, 0)
	return s
}

func (s *drillScreen) ID() int          { return s.id }
func (s *drillScreen) Title() string    { return s.c.T(statsDrillTitle, s.title) }
func (s *drillScreen) SetSize(w, h int) { s.list.setSize(w, h) }
func (s *drillScreen) Init() tea.Cmd {
	s.list.loading = true
	b, d := s.c.Backend, s.drill
	return s.c.request(s.id, "drill", func(ctx context.Context) (tea.Msg, error) {
		list, err := b.StatsEvaluations(ctx, d)
		return drillMsg{list: list, err: err}, err
	})
}

func (s *drillScreen) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case drillMsg:
		if s.list.failedOn(msg.err, s.c) {
			return nil
		}
		s.list.setRows(msg.list)
	case tea.KeyPressMsg:
		if s.list.moveKey(msg, s.keys) {
			return nil
		}
		if on(msg, s.open) {
			if e, ok := s.list.selected(); ok {
				return cmdOf(OpenEvaluationMsg{CallID: e.GetCallId(), EvaluationID: e.GetEvaluationId()})
			}
		}
	case tea.MouseClickMsg, tea.MouseWheelMsg:
		s.list.mouse(msg, 0)
	}
	return nil
}

func (s *drillScreen) View() string {
	foot := ""
	if n := len(s.list.rows); n > 0 {
		foot = s.c.T(statsDrillCount, n)
	}
	return s.list.view(s.c.Styles, foot)
}

func (s *drillScreen) Keys() []Group {
	k := s.keys
	return []Group{{Title: s.c.T(helpGroupStats), Keys: []Binding{s.open, k.Down, k.Up, k.PageUp, k.PageDown}}}
}
