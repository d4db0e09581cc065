package tui

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/client"
	"github.com/ecoute/ecoute/themes"
)

// statsBackend answers the statistics with fixed figures over any other
// fake backend.
type statsBackend struct {
	Backend
	mu     sync.Mutex
	drills []client.Drill
}

var statsStart = time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)

func fig(n int64, mean float64) *ecoutev1.ScoreFigure {
	return &ecoutev1.ScoreFigure{Evaluations: n, MeanScore: mean}
}

func (*statsBackend) QualityStats(context.Context, *ecoutev1.StatsFilter) (*ecoutev1.QualityStatsResponse, error) {
	r := &ecoutev1.QualityStatsResponse{Total: fig(1204, 82.4), From: timestamppb.New(statsStart),
		To: timestamppb.New(statsStart.AddDate(1, 0, 0)), Grouping: ecoutev1.StatsGrouping_STATS_GROUPING_MONTH,
		Distribution: []int64{1, 2, 5, 9, 20, 60, 150, 300, 400, 257}}
	series := func(seed int) []*ecoutev1.ScoreFigure {
		var out []*ecoutev1.ScoreFigure
		for m := range 12 {
			out = append(out, fig(int64(5+(m+seed)%4), 70+float64((m*7+seed*3)%25)))
		}
		return out
	}
	for m := range 12 {
		r.Trend = append(r.Trend, &ecoutev1.ScorePoint{Start: timestamppb.New(statsStart.AddDate(0, m, 0)),
			Figure: fig(int64(90+m*3), 76+float64((m*5)%13))})
	}
	for i, c := range []string{"Greeting", "Identification", "Solution offered", "Closing", "Tone"} {
		r.Criteria = append(r.Criteria, &ecoutev1.CriterionRate{GridId: "g1", GridName: "Inbound",
			CriterionId: fmt.Sprintf("c%d", i+1), Label: c, Answered: 1204, Failed: int64(180 - 35*i)})
	}
	for i, n := range []string{"Camille Lefèvre", "Julien Moreau", "Sarah Benali", "Thomas Girard", "Inès Fontaine",
		"Nicolas Roux", "Laura Chevalier", "Mehdi Haddad"} {
		r.Agents = append(r.Agents, &ecoutev1.GroupScore{Id: fmt.Sprintf("agent-%02d", i+1), Name: n, TeamId: "tm-a",
			Figure: fig(int64(140+i*7), 75+float64(i*2)), Series: series(i)})
	}
	r.Teams = []*ecoutev1.GroupScore{{Id: "tm-a", Name: "Team A", Figure: fig(800, 81.9)},
		{Id: "tm-b", Name: "Team B", Figure: fig(404, 83.4)}}
	r.Evaluators = []*ecoutev1.GroupScore{{Id: "u1", Name: "Claire Dubois", TeamId: "tm-a", Figure: fig(500, 84.0)},
		{Id: "u2", Name: "Yves Martin", TeamId: "tm-a", Figure: fig(300, 78.5)},
		{Id: "u1", Name: "Claire Dubois", TeamId: "tm-b", Figure: fig(404, 83.4)}}
	r.TeamMeans = r.Teams
	return r, nil
}

func (*statsBackend) AgentActivity(context.Context, *ecoutev1.StatsFilter) (*ecoutev1.AgentActivityResponse, error) {
	act := func(h int64) *ecoutev1.ActivityFigure {
		return &ecoutev1.ActivityFigure{CallsHandled: h, CallsLost: h / 15, TalkTime: durationpb.New(time.Duration(h) * 200 * time.Second),
			RingTime: durationpb.New(time.Duration(h) * 12 * time.Second), BackOfficeTime: durationpb.New(time.Duration(h) * 40 * time.Second)}
	}
	r := &ecoutev1.AgentActivityResponse{Total: act(48000), From: timestamppb.New(statsStart),
		To: timestamppb.New(statsStart.AddDate(1, 0, 0)), Grouping: ecoutev1.StatsGrouping_STATS_GROUPING_MONTH}
	for m := range 12 {
		r.Trend = append(r.Trend, &ecoutev1.ActivityPoint{Start: timestamppb.New(statsStart.AddDate(0, m, 0)), Figure: act(int64(3500 + m*100))})
	}
	r.Types = []*ecoutev1.ActivityTypeTime{{ActivityType: "inbound", Time: durationpb.New(2000 * time.Hour), CallsHandled: 36000},
		{ActivityType: "outbound", Time: durationpb.New(600 * time.Hour), CallsHandled: 12000}}
	for i, n := range []string{"Camille Lefèvre", "Julien Moreau", "Sarah Benali"} {
		g := &ecoutev1.ActivityGroup{Id: fmt.Sprintf("agent-%02d", i+1), Name: n, TeamId: "tm-a", Figure: act(int64(6000 + i*300))}
		for m := range 12 {
			g.Series = append(g.Series, act(int64(400+(m*37+i*11)%120)))
		}
		r.Agents = append(r.Agents, g)
	}
	return r, nil
}

func (*statsBackend) ClientTables(context.Context, *ecoutev1.ClientTablesRequest) (*ecoutev1.ClientTablesResponse, error) {
	month := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	r := &ecoutev1.ClientTablesResponse{Company: "Azur Énergie", Month: timestamppb.New(month),
		Months:     []*timestamppb.Timestamp{timestamppb.New(month), timestamppb.New(month.AddDate(0, -1, 0))},
		ComputedAt: timestamppb.New(time.Date(2026, 11, 8, 2, 0, 0, 0, time.UTC))}
	pub := func(agents, n int64, mean float64) *ecoutev1.ClientFigure {
		return &ecoutev1.ClientFigure{Agents: agents, Evaluations: n, MeanScore: mean, CallsHandled: n * 40, CallsLost: n * 2,
			MeanTalkTime: durationpb.New(205 * time.Second)}
	}
	hidden := func(s ecoutev1.Suppression) *ecoutev1.ClientCell { return &ecoutev1.ClientCell{Suppression: s} }
	type cell struct {
		team, tname, camp, cname string
		c                        *ecoutev1.ClientCell
	}
	for _, x := range []cell{
		{"tm-a", "Team A", "cp-1", "Service", &ecoutev1.ClientCell{Figure: pub(8, 64, 84.2)}},
		{"tm-a", "Team A", "cp-2", "Pro", hidden(ecoutev1.Suppression_SUPPRESSION_FEW_AGENTS)},
		{"tm-b", "Team B", "cp-1", "Service", &ecoutev1.ClientCell{Figure: pub(6, 40, 79.9)}},
		{"tm-b", "Team B", "cp-2", "Pro", hidden(ecoutev1.Suppression_SUPPRESSION_COMPLEMENTARY)},
		{"tm-c", "Team C", "cp-1", "Service", hidden(ecoutev1.Suppression_SUPPRESSION_DOMINANCE)},
		{"tm-c", "Team C", "cp-2", "Pro", hidden(ecoutev1.Suppression_SUPPRESSION_FEW_EVALUATIONS)},
		{"tm-a", "Team A", "", "", &ecoutev1.ClientCell{Figure: pub(9, 80, 83.0)}},
		{"tm-b", "Team B", "", "", &ecoutev1.ClientCell{Figure: pub(7, 52, 80.5)}},
		{"tm-c", "Team C", "", "", hidden(ecoutev1.Suppression_SUPPRESSION_COMPLEMENTARY)},
		{"", "", "cp-1", "Service", &ecoutev1.ClientCell{Figure: pub(19, 120, 81.7)}},
		{"", "", "cp-2", "Pro", &ecoutev1.ClientCell{Figure: pub(9, 30, 77.0)}},
		{"", "", "", "", &ecoutev1.ClientCell{Figure: pub(22, 150, 80.8)}},
	} {
		x.c.TeamId, x.c.TeamName, x.c.CampaignId, x.c.CampaignName = x.team, x.tname, x.camp, x.cname
		r.Cells = append(r.Cells, x.c)
	}
	return r, nil
}

func (b *statsBackend) StatsEvaluations(_ context.Context, d client.Drill) ([]*ecoutev1.Evaluation, error) {
	b.mu.Lock()
	b.drills = append(b.drills, d)
	b.mu.Unlock()
	var out []*ecoutev1.Evaluation
	for i := range 3 {
		out = append(out, &ecoutev1.Evaluation{EvaluationId: fmt.Sprintf("ev-%d", i), CallId: fmt.Sprintf("call-%03d", i),
			AgentName: "Camille Lefèvre", EvaluatorName: "Claire Dubois", Score: &ecoutev1.Score{Total: 70 + float64(i)},
			CallStartedAt: timestamppb.New(time.Date(2026, 3, 2+i, 9, 0, 0, 0, time.UTC))})
	}
	return out, nil
}

const (
	methodListEvaluationsForHR = "/ecoute.v1.EvaluationService/ListEvaluations"
	methodAgentActivity        = "/ecoute.v1.StatsService/AgentActivity"
)

var hrMethods = []string{methodListEvaluationsForHR, methodQualityStats, methodAgentActivity, methodStatsEvaluations,
	methodExportStats}

var clientMethods = []string{"/ecoute.v1.AuthService/WhoAmI", methodClientTables, methodExportStats}

// Tab to the criteria, enter: the evaluations where the most failed
// criterion failed open, asked with that criterion.
func TestStatsDrillDown(t *testing.T) {
	sb := &statsBackend{Backend: &fakeBackend{n: 120}}
	p := &probe{App: NewApp(context.Background(), sb, &fakeEngine{}, testTheme(t), "localhost:7443", "ana", "pw")}
	p.App.c.Loc = time.UTC
	tm := teatest.NewTestModel(t, p, teatest.WithInitialTermSize(100, 30))
	p.waitFor(t, tm, "call 1 of")
	tm.Send(keyMsg("D"))
	p.waitFor(t, tm, "Failure rate per criterion")
	tm.Send(keyMsg("tab"))
	tm.Send(keyMsg("enter"))
	p.waitFor(t, tm, "Evaluations — “Greeting” failed")
	p.waitFor(t, tm, "70.0 %")
	p.waitSettled(t, tm)
	sb.mu.Lock()
	d := sb.drills
	sb.mu.Unlock()
	if len(d) != 1 || d[0].FailedCriterion != "c1" || len(d[0].Filter.GetGridIds()) != 1 {
		t.Errorf("drill-down asked %+v", d)
	}
	tm.Quit()
	_, _ = io.Copy(io.Discard, tm.Output())
}

// The dashboards fit 80×24: every line within the width, the criteria and
// agents shown; hidden client cells carry their reason's letter and the
// legend says what each means.
func TestStatsViewsFit(t *testing.T) {
	c := &Common{Ctx: context.Background(), Backend: &statsBackend{Backend: &fakeBackend{}}, Loc: time.UTC}
	c.Styles = testStyles(t)
	s := newStatsScreen(c)
	s.SetSize(80, 21)
	q, _ := (&statsBackend{}).QualityStats(context.Background(), nil)
	s.Update(qualityMsg{resp: q})
	out := ansi.Strip(s.View())
	for _, want := range []string{"1,204 evaluations", "Greeting", "15.0 %", "Camille Lefèvre", "Yves Martin", "−3.4 pts"} {
		if !strings.Contains(out, want) {
			t.Errorf("quality view lacks %q:\n%s", want, out)
		}
	}
	for i, l := range strings.Split(out, "\n") {
		if ansi.StringWidth(l) > 80 {
			t.Errorf("line %d too wide: %q", i, l)
		}
	}
	ct := newClientTablesScreen(c)
	ct.SetSize(80, 21)
	r, _ := (&statsBackend{}).ClientTables(context.Background(), nil)
	ct.Update(clientTablesMsg{resp: r})
	out = ansi.Strip(ct.View())
	for _, want := range []string{"▒ A", "▒ C", "▒ D", "▒ E", "84.2 % (64)", "fewer than 5 agents"} {
		if !strings.Contains(out, want) {
			t.Errorf("client table lacks %q:\n%s", want, out)
		}
	}
}

func testTheme(t *testing.T) themes.Theme {
	t.Helper()
	th, err := themes.Lookup("dark")
	if err != nil {
		t.Fatal(err)
	}
	return th
}

func testStyles(t *testing.T) themes.Styles { return themes.New(testTheme(t), true) }
