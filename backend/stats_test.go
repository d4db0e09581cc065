package backend_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/backend"
	"github.com/ecoute/ecoute/backend/audit"
	"github.com/ecoute/ecoute/backend/auth"
	"github.com/ecoute/ecoute/backend/core"
	"github.com/ecoute/ecoute/backend/grid"
	"github.com/ecoute/ecoute/backend/scoring"
	"github.com/ecoute/ecoute/backend/store"
	"github.com/ecoute/ecoute/internal/clock"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// statsWorld is a backend of its own with a small directory made for the
// statistics: two client companies, a team of 6 agents and one of 7, on a
// fake clock, served over loopback TLS. Evaluations are written through
// the store (as the demo and the evaluation screens do), activity through
// core's import.
type statsWorld struct {
	app   *backend.App
	clock *clock.Fake
	conn  *grpc.ClientConn
	pw    map[string]string
	ids   map[string]string // login → user id
	g     grid.Grid
	n     int
}

// The statistics grid: two sections of equal weight; accueil has two
// yes/no criteria, solution one. A total is (accueil + solution) / 2 with
// accueil = yes answers / 2: yyy = 100, yny = 75, yyn = 50, nnn = 0.
var statsGrid = grid.Grid{ID: "stats-grid", Name: "Grille stats", Sections: []grid.Section{
	{ID: "accueil", Title: "Accueil", Weight: 1, Criteria: []grid.Criterion{
		{ID: "greet", Label: "Salue", Type: grid.TypeYesNo, Weight: 1},
		{ID: "identify", Label: "Identifie", Type: grid.TypeYesNo, Weight: 1}}},
	{ID: "solution", Title: "Solution", Weight: 1, Criteria: []grid.Criterion{
		{ID: "solve", Label: "Résout", Type: grid.TypeYesNo, Weight: 1}}},
}}

var statsNow = time.Date(2026, 5, 20, 10, 0, 0, 0, time.UTC)

func newStatsWorld(t *testing.T) *statsWorld {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	fake := clock.NewFake(statsNow)
	app, err := backend.Open(ctx, backend.Config{DataDir: t.TempDir(), Clock: fake})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { app.Close() })
	w := &statsWorld{app: app, clock: fake, pw: map[string]string{}, ids: map[string]string{}}
	st := app.Store()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, tm := range []string{"t6", "t7"} {
		must(st.CreateTeam(ctx, store.Team{ID: tm, Name: "Team " + tm, CreatedAt: statsNow.AddDate(-1, 0, 0)}))
	}
	for i := 1; i <= 6; i++ {
		must(st.CreateAgent(ctx, store.Agent{ID: fmt.Sprintf("a%d", i), Name: fmt.Sprintf("Agent A%d", i), TeamID: "t6",
			CreatedAt: statsNow.AddDate(-1, 0, 0)}))
	}
	for i := 1; i <= 7; i++ {
		must(st.CreateAgent(ctx, store.Agent{ID: fmt.Sprintf("b%d", i), Name: fmt.Sprintf("Agent B%d", i), TeamID: "t7",
			CreatedAt: statsNow.AddDate(-1, 0, 0)}))
	}
	for _, c := range []store.Campaign{{ID: "p1", Name: "Alpha hotline", ClientName: "Alpha"},
		{ID: "p2", Name: "Alpha pro", ClientName: "Alpha"}, {ID: "q1", Name: "Beta ventes", ClientName: "Beta"}} {
		c.CreatedAt = statsNow.AddDate(-1, 0, 0)
		must(st.CreateCampaign(ctx, c))
	}
	for _, u := range []backend.NewUser{
		{Login: "sup6", DisplayName: "Sam Six", Role: "supervisor", TeamIDs: []string{"t6"}},
		{Login: "tr7", DisplayName: "Tina Sept", Role: "trainer", TeamIDs: []string{"t7"}},
		{Login: "agent-a1", DisplayName: "Agent A1", Role: "agent", AgentID: "a1"},
		{Login: "hr", DisplayName: "Hélène Rh", Role: "hr"},
		{Login: "dpo", DisplayName: "Denis Dpo", Role: "dpo"},
		{Login: "admin", DisplayName: "Ada Admin", Role: "admin"},
		{Login: "maint", DisplayName: "Max Maint", Role: "maintenance"},
		{Login: "client-alpha", DisplayName: "Carla Alpha", Role: "client"},
		{Login: "client-beta", DisplayName: "Boris Beta", Role: "client"},
		{Login: "client-none", DisplayName: "Nina Nulle", Role: "client"},
	} {
		u.Password = auth.GeneratePassword()
		must(app.AddUser(ctx, u))
		w.pw[u.Login] = u.Password
		got, err := st.UserByLogin(ctx, u.Login)
		must(err)
		w.ids[u.Login] = got.ID
	}
	must(app.Core().LinkClientCompany(ctx, core.Local(), "client-alpha", "Alpha"))
	must(app.Core().LinkClientCompany(ctx, core.Local(), "client-beta", "Beta"))
	rec, _, err := st.SaveGrid(ctx, statsGrid, "test", statsNow.AddDate(-1, 0, 0))
	must(err)
	w.g = rec.Grid

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	must(err)
	go app.Serve(ctx, lis, true)
	pem, _ := app.CACertPEM()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	w.conn, err = grpc.NewClient(lis.Addr().String(),
		grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: pool, ServerName: "localhost"})))
	must(err)
	t.Cleanup(func() { w.conn.Close() })
	return w
}

func (w *statsWorld) as(t *testing.T, login string) context.Context {
	t.Helper()
	resp, err := ecoutev1.NewAuthServiceClient(w.conn).Login(context.Background(),
		&ecoutev1.LoginRequest{Login: login, Password: w.pw[login]})
	if err != nil {
		t.Fatalf("login %s: %v", login, err)
	}
	return metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+resp.Token)
}

func (w *statsWorld) stats() ecoutev1.StatsServiceClient {
	return ecoutev1.NewStatsServiceClient(w.conn)
}

// eval is an evaluation to write: its agent, team, campaign, call start,
// answers as "yyn" (greet, identify, solve), status and kind.
type eval struct {
	agent, team, camp string
	at                time.Time
	answers           string
	status, kind      string
}

func (w *statsWorld) write(t *testing.T, es ...eval) []store.Evaluation {
	t.Helper()
	var out []store.Evaluation
	for _, e := range es {
		w.n++
		var as []grid.Answer
		byID := map[string]grid.Answer{}
		for i, id := range []string{"greet", "identify", "solve"} {
			v := grid.Yes
			if e.answers[i] == 'n' {
				v = grid.No
			}
			a := grid.Answer{CriterionID: id, Value: v}
			if v == grid.No {
				a.Comment = "non"
			}
			as = append(as, a)
			byID[id] = a
		}
		res, err := scoring.Score(w.g, byID)
		if err != nil {
			t.Fatal(err)
		}
		st := e.status
		if st == "" {
			st = store.EvalSubmitted
		}
		created := e.at.Add(time.Hour)
		out = append(out, store.Evaluation{ID: fmt.Sprintf("ev-%04d", w.n), CallID: fmt.Sprintf("call-%04d", w.n),
			CallStartedAt: e.at, GridID: w.g.ID, GridVersion: w.g.Version, AgentID: e.agent, TeamID: e.team,
			CampaignID: e.camp, Kind: e.kind, EvaluatorID: w.ids["sup6"], Status: st, Version: 1, Answers: as,
			TotalTenths: int64(res.Total*10 + 0.5), HasTotal: res.HasTotal, CriticalFailed: res.CriticalFailed,
			CreatedAt: created, UpdatedAt: created, SubmittedAt: created, RetainedUntil: created.AddDate(1, 0, 0)})
	}
	if err := w.app.Store().CreateEvaluations(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	return out
}

func filter(from, to time.Time, g ecoutev1.StatsGrouping) *ecoutev1.StatsFilter {
	return &ecoutev1.StatsFilter{From: timestamppb.New(from), To: timestamppb.New(to), Grouping: g}
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 9, 30, 0, 0, time.UTC) }

// The figures match a fixture computed by hand; calibration evaluations
// and drafts never count; a revised dispute and a purge change them at
// once.
func TestQualityStatsFixtureRevisionAndPurge(t *testing.T) {
	w := newStatsWorld(t)
	w.write(t,
		eval{agent: "a1", team: "t6", camp: "p1", at: day(2026, 3, 2), answers: "yyy"},                       // 100
		eval{agent: "a1", team: "t6", camp: "p1", at: day(2026, 3, 9), answers: "yny"},                       // 75
		eval{agent: "a1", team: "t6", camp: "p1", at: day(2026, 3, 10), answers: "nnn", kind: "calibration"}, // never counts
		eval{agent: "a2", team: "t6", camp: "p2", at: day(2026, 3, 16), answers: "nnn", status: "draft"},     // not submitted
		eval{agent: "b1", team: "t7", camp: "p1", at: day(2026, 3, 20), answers: "nnn"},                      // another team
	)
	disputed := w.write(t, eval{agent: "a2", team: "t6", camp: "p2", at: day(2026, 3, 17), answers: "yyn",
		status: store.EvalDisputed})[0] // 50
	sup := w.as(t, "sup6")
	march := filter(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC),
		ecoutev1.StatsGrouping_STATS_GROUPING_WEEK)
	q, err := w.stats().QualityStats(sup, &ecoutev1.QualityStatsRequest{Filter: march})
	if err != nil {
		t.Fatal(err)
	}
	// By hand: a1 100 and 75, a2 50 → 3 evaluations, mean 75.0; a1 87.5,
	// a2 50.0; identify failed 1 of 3, solve 1 of 3, greet 0 of 3;
	// accueil (100+50+100)/3 = 83.3, solution (100+100+0)/3 = 66.7.
	if q.Total.GetEvaluations() != 3 || q.Total.GetMeanScore() != 75 {
		t.Errorf("total %v, want 3 evaluations, mean 75", q.Total)
	}
	agents := map[string]float64{}
	for _, a := range q.Agents {
		agents[a.Id] = a.Figure.GetMeanScore()
	}
	if len(agents) != 2 || agents["a1"] != 87.5 || agents["a2"] != 50 {
		t.Errorf("agents %v", agents)
	}
	failed := map[string]string{}
	for _, c := range q.Criteria {
		failed[c.CriterionId] = fmt.Sprintf("%d/%d", c.Failed, c.Answered)
	}
	if failed["greet"] != "0/3" || failed["identify"] != "1/3" || failed["solve"] != "1/3" {
		t.Errorf("criteria %v", failed)
	}
	if len(q.Criteria) == 0 || q.Criteria[len(q.Criteria)-1].CriterionId != "greet" {
		t.Errorf("most failed first: %v", q.Criteria)
	}
	sections := map[string]float64{}
	for _, s := range q.Sections {
		sections[s.SectionId] = s.MeanScore
	}
	if sections["accueil"] != 83.3 || sections["solution"] != 66.7 {
		t.Errorf("sections %v", sections)
	}
	// Weeks from Monday 23 February (1 March is a Sunday) to 30 March.
	if len(q.Trend) != 6 || !q.Trend[0].Start.AsTime().Equal(time.Date(2026, 2, 23, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("trend %v", q.Trend)
	}
	var inTrend int64
	for _, p := range q.Trend {
		inTrend += p.Figure.GetEvaluations()
	}
	if inTrend != 3 {
		t.Errorf("trend counts %d", inTrend)
	}
	if d := q.Distribution; d[5] != 1 || d[7] != 1 || d[9] != 1 {
		t.Errorf("distribution %v", d)
	}
	if n := auditCount(t, w.app, core.ActionStatsQuality, ""); n != 1 {
		t.Errorf("stats.quality audited %d times", n)
	}
	// hr reads every team (from everyone's rows for whole months, from
	// the teams' rows for days): b1's nnn joins in.
	for g, to := range map[ecoutev1.StatsGrouping]int{ecoutev1.StatsGrouping_STATS_GROUPING_MONTH: 32,
		ecoutev1.StatsGrouping_STATS_GROUPING_DAY: 31} {
		f := filter(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, to, 0, 0, 0, 0, time.UTC), g)
		h, err := w.stats().QualityStats(w.as(t, "hr"), &ecoutev1.QualityStatsRequest{Filter: f})
		if err != nil {
			t.Fatal(err)
		}
		all := map[string]string{}
		for _, c := range h.Criteria {
			all[c.CriterionId] = fmt.Sprintf("%d/%d", c.Failed, c.Answered)
		}
		if all["greet"] != "1/4" || all["identify"] != "2/4" || all["solve"] != "2/4" || h.Total.GetEvaluations() != 4 {
			t.Errorf("hr by %v: %v, %v", g, all, h.Total)
		}
	}
	// The evaluations behind the "identify" bar.
	drill, err := w.stats().StatsEvaluations(sup, &ecoutev1.StatsEvaluationsRequest{Filter: march,
		FailedCriterionId: "identify"})
	if err != nil || len(drill.Evaluations) != 1 || drill.Evaluations[0].AgentId != "a1" {
		t.Fatalf("drill-down: %v %v", drill, err)
	}

	// The dispute revised to yyy: a2 50 → 100, total (100+75+100)/3 = 91.7.
	_, err = ecoutev1.NewEvaluationServiceClient(w.conn).ResolveDispute(sup, &ecoutev1.ResolveDisputeRequest{
		EvaluationId: disputed.ID, Resolution: ecoutev1.Resolution_RESOLUTION_REVISED, Reason: "réécoute",
		Answers: []*ecoutev1.Answer{{CriterionId: "greet", Value: "yes"}, {CriterionId: "identify", Value: "yes"},
			{CriterionId: "solve", Value: "yes"}}})
	if err != nil {
		t.Fatal(err)
	}
	q, err = w.stats().QualityStats(sup, &ecoutev1.QualityStatsRequest{Filter: march})
	if err != nil {
		t.Fatal(err)
	}
	if q.Total.GetEvaluations() != 3 || q.Total.GetMeanScore() != 91.7 {
		t.Errorf("after the revision: %v, want mean 91.7", q.Total)
	}
	for _, c := range q.Criteria {
		if c.CriterionId == "solve" && c.Failed != 0 {
			t.Errorf("solve still failed after the revision: %v", c)
		}
	}

	// A year and a bit later the March evaluations are purged (R12): the
	// figures of March go with them.
	later := statsNow.AddDate(1, 0, 0)
	w.clock.Set(later)
	if _, err := w.app.Purge(context.Background(), later); err != nil {
		t.Fatal(err)
	}
	// (Passwords have expired by then: read as the operator.)
	all, err := w.app.Core().QualityStats(context.Background(), core.Local(), core.StatsFilter{
		From: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	if all.Total.Evaluations != 0 || len(all.Criteria) != 0 || len(all.Agents) != 0 {
		t.Errorf("after the purge: %v, %d criteria, %d agents", all.Total, len(all.Criteria), len(all.Agents))
	}
	var left int
	w.app.Store().(*store.SQLite).DB().QueryRow(`SELECT (SELECT COUNT(*) FROM stat_scores) + (SELECT COUNT(*) FROM stat_parts)
		+ (SELECT COUNT(*) FROM evaluation_parts WHERE evaluation_id IN ('ev-0001','ev-0002'))`).Scan(&left)
	if left != 0 {
		t.Errorf("%d aggregate rows left after the purge", left)
	}
}

// activity posts intervals as the telephony side does.
func (w *statsWorld) activity(t *testing.T, rows ...core.ActivityRow) {
	t.Helper()
	if _, err := w.app.Core().ImportActivity(context.Background(), core.Local(), rows, "line", 2); err != nil {
		t.Fatal(err)
	}
}

func interval(agent, camp string, at time.Time, handled int64, talk time.Duration) core.ActivityRow {
	return core.ActivityRow{AgentID: agent, CampaignID: camp, ActivityType: "inbound", StartedAt: at,
		EndedAt: at.Add(time.Hour), Handled: handled, Lost: 1, Talk: talk, BackOffice: 5 * time.Minute,
		Ring: time.Duration(handled) * 10 * time.Second}
}

// Each role reads what the role table gives it, over gRPC: a supervisor
// their teams, a trainer their trainees, an agent themselves (and the team
// only where it is large enough), hr everyone; the client only its tables;
// the dpo, admin and maintenance nothing.
func TestStatsScopeByRole(t *testing.T) {
	w := newStatsWorld(t)
	var es []eval
	for i := 1; i <= 6; i++ {
		for k := range 2 {
			es = append(es, eval{agent: fmt.Sprintf("a%d", i), team: "t6", camp: "p1", at: day(2026, 4, 6+k), answers: "yyy"})
		}
	}
	for i := 1; i <= 7; i++ {
		es = append(es, eval{agent: fmt.Sprintf("b%d", i), team: "t7", camp: "q1", at: day(2026, 4, 8), answers: "yny"})
	}
	w.write(t, es...)
	w.activity(t, interval("a1", "p1", day(2026, 4, 6), 10, 30*time.Minute), interval("b1", "q1", day(2026, 4, 6), 8, 20*time.Minute))
	april := filter(time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC),
		ecoutev1.StatsGrouping_STATS_GROUPING_MONTH)
	agentsOf := func(ctx context.Context) (map[string]bool, error) {
		q, err := w.stats().QualityStats(ctx, &ecoutev1.QualityStatsRequest{Filter: april})
		if err != nil {
			return nil, err
		}
		out := map[string]bool{}
		for _, a := range q.Agents {
			out[a.Id] = true
		}
		a, err := w.stats().AgentActivity(ctx, &ecoutev1.AgentActivityRequest{Filter: april})
		if err != nil {
			return nil, err
		}
		for _, g := range a.Agents {
			out["activity:"+g.Id] = true
		}
		return out, nil
	}
	for _, c := range []struct {
		login      string
		see, never []string
	}{
		{"sup6", []string{"a1", "a6", "activity:a1"}, []string{"b1", "activity:b1"}},
		{"tr7", []string{"b1", "b7", "activity:b1"}, []string{"a1", "activity:a1"}},
		{"agent-a1", []string{"a1", "activity:a1"}, []string{"a2", "b1", "activity:b1"}},
		{"hr", []string{"a1", "b7", "activity:a1", "activity:b1"}, nil},
	} {
		got, err := agentsOf(w.as(t, c.login))
		if err != nil {
			t.Errorf("%s: %v", c.login, err)
			continue
		}
		for _, id := range c.see {
			if !got[id] {
				t.Errorf("%s does not see %s (%v)", c.login, id, got)
			}
		}
		for _, id := range c.never {
			if got[id] {
				t.Errorf("%s sees %s", c.login, id)
			}
		}
	}
	// Time per activity type: from the team rows for hr, from the
	// intervals for the agent.
	for login, want := range map[string]int64{"hr": 18, "agent-a1": 10, "tr7": 8} {
		a, err := w.stats().AgentActivity(w.as(t, login), &ecoutev1.AgentActivityRequest{Filter: april})
		if err != nil || len(a.Types) != 1 || a.Types[0].ActivityType != "inbound" || a.Types[0].CallsHandled != want {
			t.Errorf("%s activity types: %v %v, want %d inbound calls", login, a.GetTypes(), err, want)
		}
	}
	// The agent against the team: team t6 has 6 agents and 12 evaluations.
	q, err := w.stats().QualityStats(w.as(t, "agent-a1"), &ecoutev1.QualityStatsRequest{Filter: april})
	if err != nil || len(q.TeamMeans) != 1 || q.TeamMeans[0].Figure.GetEvaluations() != 12 {
		t.Errorf("agent's team comparison: %v %v", q.GetTeamMeans(), err)
	}
	// Filters outside the reach are refused, with the reason.
	for _, c := range []struct {
		login string
		f     *ecoutev1.StatsFilter
	}{
		{"sup6", &ecoutev1.StatsFilter{TeamIds: []string{"t7"}}},
		{"sup6", &ecoutev1.StatsFilter{AgentIds: []string{"b1"}}},
		{"tr7", &ecoutev1.StatsFilter{AgentIds: []string{"a1"}}},
		{"agent-a1", &ecoutev1.StatsFilter{AgentIds: []string{"a2"}}},
		{"agent-a1", &ecoutev1.StatsFilter{TeamIds: []string{"t6"}}},
	} {
		_, err := w.stats().QualityStats(w.as(t, c.login), &ecoutev1.QualityStatsRequest{Filter: c.f})
		if code(err) != codes.PermissionDenied || reasonOf(err) != "OUTSIDE_SCOPE" {
			t.Errorf("%s with %v: %v", c.login, c.f, err)
		}
	}
	// Input limits on the filters (backend/limits), for hr who reaches every
	// team as for a supervisor: the id alphabet, the count, the times.
	many := make([]string, 1001)
	for i := range many {
		many[i] = fmt.Sprintf("a%d", i)
	}
	for _, c := range []struct {
		login, field string
		f            *ecoutev1.StatsFilter
	}{
		{"hr", "filter.team_ids", &ecoutev1.StatsFilter{TeamIds: []string{"t6\x1b]0;x\a"}}},
		{"sup6", "filter.agent_ids", &ecoutev1.StatsFilter{AgentIds: []string{""}}},
		{"hr", "filter.agent_ids", &ecoutev1.StatsFilter{AgentIds: many}},
		{"hr", "filter.campaign_ids", &ecoutev1.StatsFilter{CampaignIds: []string{strings.Repeat("p", 65)}}},
		{"hr", "filter.from", &ecoutev1.StatsFilter{From: timestamppb.New(time.Date(1970, 1, 2, 0, 0, 0, 0, time.UTC)),
			To: timestamppb.New(time.Date(1970, 1, 9, 0, 0, 0, 0, time.UTC))}},
	} {
		_, err := w.stats().QualityStats(w.as(t, c.login), &ecoutev1.QualityStatsRequest{Filter: c.f})
		if code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), c.field) {
			t.Errorf("%s with a bad %s: %v", c.login, c.field, err)
		}
	}
	for _, req := range []*ecoutev1.StatsEvaluationsRequest{{FailedCriterionId: "x\u202e"},
		{EvaluatorId: strings.Repeat("u", 65)}} {
		if _, err := w.stats().StatsEvaluations(w.as(t, "sup6"), req); code(err) != codes.InvalidArgument {
			t.Errorf("drill-down %v: %v", req, err)
		}
	}
	// The roles without statistics, and the client outside its tables.
	for _, login := range []string{"dpo", "admin", "maint", "client-alpha"} {
		ctx := w.as(t, login)
		if _, err := w.stats().QualityStats(ctx, &ecoutev1.QualityStatsRequest{}); code(err) != codes.PermissionDenied {
			t.Errorf("%s QualityStats: %v", login, err)
		}
		if _, err := w.stats().AgentActivity(ctx, &ecoutev1.AgentActivityRequest{}); code(err) != codes.PermissionDenied {
			t.Errorf("%s AgentActivity: %v", login, err)
		}
		if _, err := w.stats().StatsEvaluations(ctx, &ecoutev1.StatsEvaluationsRequest{}); code(err) != codes.PermissionDenied {
			t.Errorf("%s StatsEvaluations: %v", login, err)
		}
	}
	for _, login := range []string{"sup6", "hr", "agent-a1", "dpo"} {
		if _, err := w.stats().ClientTables(w.as(t, login), &ecoutev1.ClientTablesRequest{}); code(err) != codes.PermissionDenied {
			t.Errorf("%s ClientTables: %v", login, err)
		}
	}
	if _, err := w.stats().ClientTables(w.as(t, "client-none"), &ecoutev1.ClientTablesRequest{}); reasonOf(err) != "NO_COMPANY" {
		t.Errorf("client without company: %v", err)
	}
	// hr reads scores, never the written comments, even behind a bar.
	d, err := w.stats().StatsEvaluations(w.as(t, "hr"), &ecoutev1.StatsEvaluationsRequest{Filter: april,
		FailedCriterionId: "identify"})
	if err != nil || len(d.Evaluations) != 7 {
		t.Fatalf("hr drill-down: %v %v", len(d.GetEvaluations()), err)
	}
	for _, e := range d.Evaluations {
		if len(e.Answers) > 0 || e.Score.GetTotal() != 75 {
			t.Errorf("hr receives %v", e)
		}
	}
}

// The activity feed is validated like uploads: a bad row is named and
// nothing of the batch is stored; a batch sent again replaces.
func TestActivityUploadValidation(t *testing.T) {
	w := newStatsWorld(t)
	tel := auth.GeneratePassword()
	if err := w.app.AddUser(context.Background(), backend.NewUser{Login: "tel", DisplayName: "Télé Phonie",
		Role: "telephony", Password: tel}); err != nil {
		t.Fatal(err)
	}
	w.pw["tel"] = tel
	ctx := w.as(t, "tel")
	ing := ecoutev1.NewIngestServiceClient(w.conn)
	at := time.Date(2026, 5, 18, 8, 0, 0, 0, time.UTC)
	good := func() *ecoutev1.ActivityInterval {
		return &ecoutev1.ActivityInterval{AgentId: "a1", CampaignId: "p1", ActivityType: "inbound",
			StartedAt: timestamppb.New(at), EndedAt: timestamppb.New(at.Add(time.Hour)), CallsHandled: 12, CallsLost: 2,
			TalkTime: durationpb.New(40 * time.Minute), BackOfficeTime: durationpb.New(10 * time.Minute),
			RingTime: durationpb.New(2 * time.Minute)}
	}
	for _, c := range []struct {
		change func(*ecoutev1.ActivityInterval)
		field  string
	}{
		{func(i *ecoutev1.ActivityInterval) { i.AgentId = "nobody" }, "intervals[1].agent_id"},
		{func(i *ecoutev1.ActivityInterval) { i.CampaignId = "" }, "intervals[1].campaign_id"},
		{func(i *ecoutev1.ActivityInterval) { i.EndedAt = i.StartedAt }, "intervals[1].ended_at"},
		{func(i *ecoutev1.ActivityInterval) { i.TalkTime = durationpb.New(2 * time.Hour) }, "intervals[1].talk_time"},
		{func(i *ecoutev1.ActivityInterval) { i.CallsLost = -1 }, "intervals[1].calls_lost"},
		{func(i *ecoutev1.ActivityInterval) { i.StartedAt = timestamppb.New(at.AddDate(-2, 0, 0)) }, "intervals[1].ended_at"},
		{func(i *ecoutev1.ActivityInterval) { i.ActivityType = " " }, "intervals[1].activity_type"},
		// Input limits (backend/limits): the id alphabet, control and bidi characters, sizes, times.
		{func(i *ecoutev1.ActivityInterval) { i.AgentId = "a1\x1b[2J" }, "intervals[1].agent_id"},
		{func(i *ecoutev1.ActivityInterval) { i.CampaignId = strings.Repeat("p", 65) }, "intervals[1].campaign_id"},
		{func(i *ecoutev1.ActivityInterval) { i.ActivityType = "in\u202ebound" }, "intervals[1].activity_type"},
		{func(i *ecoutev1.ActivityInterval) { i.ActivityType = strings.Repeat("x", 65) }, "intervals[1].activity_type"},
		{func(i *ecoutev1.ActivityInterval) {
			i.StartedAt = timestamppb.New(time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC))
		},
			"intervals[1].started_at"},
	} {
		bad := good()
		bad.StartedAt = timestamppb.New(at.Add(time.Hour))
		bad.EndedAt = timestamppb.New(at.Add(2 * time.Hour))
		c.change(bad)
		_, err := ing.UploadActivity(ctx, &ecoutev1.UploadActivityRequest{Intervals: []*ecoutev1.ActivityInterval{good(), bad}})
		if code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), c.field) {
			t.Errorf("want %s refused: %v", c.field, err)
		}
	}
	var n int
	db := w.app.Store().(*store.SQLite).DB()
	db.QueryRow(`SELECT COUNT(*) FROM activity_intervals`).Scan(&n)
	if n != 0 {
		t.Fatalf("%d intervals stored from refused batches", n)
	}
	req := &ecoutev1.UploadActivityRequest{Intervals: []*ecoutev1.ActivityInterval{good()}, RequestId: "act-1"}
	for range 2 {
		if r, err := ing.UploadActivity(ctx, req); err != nil || r.Stored != 1 {
			t.Fatalf("upload: %v %v", r, err)
		}
	}
	again := good()
	again.CallsHandled = 20
	if _, err := ing.UploadActivity(ctx, &ecoutev1.UploadActivityRequest{Intervals: []*ecoutev1.ActivityInterval{again}}); err != nil {
		t.Fatal(err)
	}
	a, err := w.stats().AgentActivity(w.as(t, "hr"), &ecoutev1.AgentActivityRequest{})
	if err != nil || a.Total.GetCallsHandled() != 20 || a.Total.GetIntervals() != 1 {
		t.Errorf("after a replaced interval: %v %v", a.GetTotal(), err)
	}
	if n := auditOK(t, w.app, core.ActionActivityImport); n != 2 {
		t.Errorf("activity.import audited %d times (a resent request counts once)", n)
	}
}

// auditOK counts the successful entries of action.
func auditOK(t *testing.T, app *backend.App, action string) int {
	t.Helper()
	links, err := app.Audit().List(context.Background(), audit.Query{Action: action, Limit: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, l := range links {
		if l.Entry.Details["result"] == "ok" {
			n++
		}
	}
	return n
}

// decrypt opens an age export.
func decrypt(t *testing.T, id *age.X25519Identity, data []byte) string {
	t.Helper()
	r, err := age.Decrypt(bytes.NewReader(data), id)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func (w *statsWorld) export(t *testing.T, ctx context.Context, req *ecoutev1.ExportStatsRequest) ([]byte, error) {
	t.Helper()
	st, err := w.stats().ExportStats(ctx, req)
	if err != nil {
		return nil, err
	}
	var out []byte
	var last *ecoutev1.ExportStatsResponse
	for {
		m, err := st.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		out = append(out, m.Data...)
		last = m
	}
	if last == nil || last.Sent != last.Total || last.Total != int64(len(out)) {
		t.Errorf("progress: last %v for %d bytes", last, len(out))
	}
	return out, nil
}

// Two client companies: neither sees the other's campaigns, in any cell,
// total or export.
func TestClientCompaniesSeeOnlyTheirOwn(t *testing.T) {
	w := newStatsWorld(t)
	var es []eval
	for i := 1; i <= 6; i++ {
		for k := range 3 {
			es = append(es, eval{agent: fmt.Sprintf("a%d", i), team: "t6", camp: "p1", at: day(2026, 3, 2+k), answers: "yyy"})
			es = append(es, eval{agent: fmt.Sprintf("a%d", i), team: "t6", camp: "q1", at: day(2026, 3, 9+k), answers: "yny"})
		}
	}
	w.write(t, es...)
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	march := timestamppb.New(time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC))
	for _, c := range []struct {
		login, company, own, other string
	}{{"client-alpha", "Alpha", "p1", "q1"}, {"client-beta", "Beta", "q1", "p1"}} {
		ctx := w.as(t, c.login)
		tab, err := w.stats().ClientTables(ctx, &ecoutev1.ClientTablesRequest{Month: march})
		if err != nil {
			t.Fatal(err)
		}
		if tab.Company != c.company || len(tab.Cells) == 0 {
			t.Fatalf("%s: %v", c.login, tab)
		}
		var total *ecoutev1.ClientCell
		for _, cell := range tab.Cells {
			if cell.CampaignId == c.other || strings.Contains(cell.CampaignName, "Beta") != (c.company == "Beta") &&
				cell.CampaignName != "" {
				t.Errorf("%s sees %v", c.login, cell)
			}
			if cell.TeamId == "" && cell.CampaignId == "" {
				total = cell
			}
		}
		// 6 agents × 3 evaluations of its own campaign only.
		if total == nil || total.Figure.GetEvaluations() != 18 || total.Figure.GetAgents() != 6 {
			t.Errorf("%s grand total %v", c.login, total)
		}
		for _, format := range []ecoutev1.StatsExportFormat{ecoutev1.StatsExportFormat_STATS_EXPORT_FORMAT_CSV,
			ecoutev1.StatsExportFormat_STATS_EXPORT_FORMAT_JSON} {
			data, err := w.export(t, ctx, &ecoutev1.ExportStatsRequest{Data: &ecoutev1.ExportStatsRequest_Client{
				Client: &ecoutev1.ClientTablesRequest{Month: march}}, Format: format, Recipient: id.Recipient().String()})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(data, []byte("age-encryption.org/v1\n")) || bytes.Contains(data, []byte("campaign_id")) {
				t.Errorf("the export is not encrypted with age")
			}
			plain := decrypt(t, id, data)
			if !strings.Contains(plain, c.own) || strings.Contains(plain, c.other) || strings.Contains(plain, "Agent A") {
				t.Errorf("%s export %s:\n%s", c.login, format, plain)
			}
		}
	}
	// The client exports its tables, nothing else.
	_, err = w.export(t, w.as(t, "client-alpha"), &ecoutev1.ExportStatsRequest{Data: &ecoutev1.ExportStatsRequest_Quality{
		Quality: &ecoutev1.QualityStatsRequest{}}, Recipient: id.Recipient().String()})
	if code(err) != codes.PermissionDenied {
		t.Errorf("client exports the quality data: %v", err)
	}
	// A supervisor exports their dashboard, encrypted.
	data, err := w.export(t, w.as(t, "sup6"), &ecoutev1.ExportStatsRequest{Data: &ecoutev1.ExportStatsRequest_Quality{
		Quality: &ecoutev1.QualityStatsRequest{Filter: filter(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
			time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), ecoutev1.StatsGrouping_STATS_GROUPING_WEEK)}},
		Format: ecoutev1.StatsExportFormat_STATS_EXPORT_FORMAT_CSV, Recipient: id.Recipient().String()})
	if err != nil {
		t.Fatal(err)
	}
	if plain := decrypt(t, id, data); !strings.HasPrefix(plain, "table,bucket,id,name") || !strings.Contains(plain, "agent,,a6,Agent A6") {
		t.Errorf("supervisor export:\n%s", plain)
	}
	// A month not closed yet is refused with when it will be.
	_, err = w.stats().ClientTables(w.as(t, "client-alpha"), &ecoutev1.ClientTablesRequest{Month: timestamppb.New(statsNow)})
	if reasonOf(err) != "MONTH_NOT_CLOSED" {
		t.Errorf("open month: %v", err)
	}
}
