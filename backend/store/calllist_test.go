package store

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// listFixture makes 3 teams, 6 agents (two named alike, one agent moved
// between teams), 2 campaigns and n calls spread over 30 days, a tenth of
// them pending, with random ids as ingest makes them; some evaluated, one
// with a submitted score.
func listFixture(t *testing.T, s *SQLite, n int) time.Time {
	t.Helper()
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"t1", "t2", "t3"} {
		must(s.CreateTeam(ctx, Team{ID: id, Name: "Team " + id}))
	}
	must(s.CreateCampaign(ctx, Campaign{ID: "c1", Name: "Big", ClientName: "X"}))
	must(s.CreateCampaign(ctx, Campaign{ID: "c2", Name: "Small", ClientName: "Y"}))
	agents := []Agent{{ID: "a1", Name: "Zoé", TeamID: "t1"}, {ID: "a2", Name: "Marc", TeamID: "t1"},
		{ID: "a3", Name: "Marc", TeamID: "t2"}, {ID: "a4", Name: "Albert", TeamID: "t2"},
		{ID: "a5", Name: "Inès", TeamID: "t3"}, {ID: "a6", Name: "Bruno", TeamID: "t3"}}
	for _, a := range agents {
		must(s.CreateAgent(ctx, a))
	}
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	rnd := rand.New(rand.NewPCG(7, 19))
	var calls []NewCall
	for i := range n {
		a := agents[rnd.IntN(len(agents))]
		team := a.TeamID
		if a.ID == "a4" && i%2 == 0 {
			team = "t1" // moved: some of their calls belong to another team
		}
		camp := "c1"
		if rnd.IntN(10) == 0 {
			camp = "c2"
		}
		state := StateKept
		if rnd.IntN(10) == 0 {
			state = StatePending
		}
		at := base.Add(time.Duration(rnd.Int64N(int64(30 * 24 * time.Hour)))).Truncate(time.Millisecond)
		calls = append(calls, NewCall{Call: Call{ID: fmt.Sprintf("%016x", rnd.Uint64()), ExternalID: fmt.Sprintf("x%d", i),
			StartedAt: at, EndedAt: at.Add(time.Minute), AgentID: a.ID, TeamID: team, CampaignID: camp, Direction: "inbound",
			ConsentRequestedAt: at, State: state, Evaluated: rnd.IntN(4) == 0,
			// A few equal durations, to tie keys.
			Audio: Audio{Key: "k", Codec: "mp3", Duration: time.Duration(rnd.IntN(40)) * 15 * time.Second}},
			Waveform: Waveform{Peaks: []byte{1}}})
	}
	must(s.InsertCalls(ctx, calls))
	return base
}

// keptCalls reads every kept call with its agent's name.
func keptCalls(t *testing.T, s *SQLite) []Call {
	t.Helper()
	calls, err := s.queryCalls(context.Background(), `SELECT `+callCols+callFrom+` WHERE c.state = 'kept'`)
	if err != nil {
		t.Fatal(err)
	}
	return calls
}

// want is the reference listing: the filter applied and the order sorted
// in Go.
func want(all []Call, q ListQuery) []Call {
	var out []Call
	for _, c := range all {
		sc, f := q.Scope, q.Filter
		if !sc.All && !slices.Contains(sc.TeamIDs, c.TeamID) && !slices.Contains(sc.AgentIDs, c.AgentID) {
			continue
		}
		if (len(f.TeamIDs) > 0 && !slices.Contains(f.TeamIDs, c.TeamID)) ||
			(len(f.AgentIDs) > 0 && !slices.Contains(f.AgentIDs, c.AgentID)) ||
			(len(f.CampaignIDs) > 0 && !slices.Contains(f.CampaignIDs, c.CampaignID)) ||
			(f.Evaluated != nil && *f.Evaluated != c.Evaluated) ||
			(!f.StartedAfter.IsZero() && c.StartedAt.Before(f.StartedAfter)) ||
			(!f.StartedBefore.IsZero() && !c.StartedAt.Before(f.StartedBefore)) ||
			(f.MinDuration > 0 && c.Audio.Duration < f.MinDuration) ||
			(f.MaxDuration > 0 && c.Audio.Duration > f.MaxDuration) {
			continue
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Call) int {
		var r int
		switch q.Order {
		case OrderDuration:
			r = cmp.Or(cmp.Compare(a.Audio.Duration, b.Audio.Duration), cmp.Compare(a.ID, b.ID))
		case OrderAgentName:
			r = cmp.Or(cmp.Compare(a.AgentName, b.AgentName), cmp.Compare(a.AgentID, b.AgentID), cmp.Compare(a.ID, b.ID))
		default:
			r = cmp.Or(a.StartedAt.Compare(b.StartedAt), cmp.Compare(a.ID, b.ID))
		}
		if q.Desc {
			return -r
		}
		return r
	})
	return out
}

func callIDs(calls []Call) []string {
	out := make([]string, len(calls))
	for i, c := range calls {
		out[i] = c.ID
	}
	return out
}

// cursorAfter is the position after c, as the service makes it.
func cursorAfter(order string, c Call) *Cursor {
	cur := &Cursor{Int: c.StartedAt.UnixMilli(), Str: c.AgentName, ID: c.ID, Agent: c.AgentID}
	if order == OrderDuration {
		cur.Int = c.Audio.Duration.Milliseconds()
	}
	return cur
}

// TestListCallsPageEveryOrderFilterAndPlan pages through listings in every
// order, both directions, with scopes and filters, each read both ways
// (through the order's index, and by sorting what the filter's index
// holds): the pages hold the reference listing, in order, each call once,
// and the total is its length.
func TestListCallsPageEveryOrderFilterAndPlan(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	base := listFixture(t, s, 400)
	all := keptCalls(t, s)
	yes, no := true, false
	cases := []struct {
		name  string
		scope Scope
		f     Filter
	}{
		{"all", Scope{All: true}, Filter{}},
		{"two teams", Scope{TeamIDs: []string{"t1", "t2"}}, Filter{}},
		{"own calls", Scope{AgentIDs: []string{"a4"}}, Filter{}},
		{"teams or agent", Scope{TeamIDs: []string{"t3"}, AgentIDs: []string{"a4"}}, Filter{}},
		{"agent filter", Scope{TeamIDs: []string{"t1", "t2"}}, Filter{AgentIDs: []string{"a2", "a3"}}},
		{"small campaign", Scope{All: true}, Filter{CampaignIDs: []string{"c2"}}},
		{"team filter evaluated", Scope{All: true}, Filter{TeamIDs: []string{"t1"}, Evaluated: &yes}},
		{"not evaluated", Scope{TeamIDs: []string{"t2"}}, Filter{Evaluated: &no}},
		{"a week", Scope{TeamIDs: []string{"t1", "t3"}}, Filter{StartedAfter: base.AddDate(0, 0, 10), StartedBefore: base.AddDate(0, 0, 17)}},
		{"durations", Scope{All: true}, Filter{MinDuration: 2 * time.Minute, MaxDuration: 6 * time.Minute}},
		{"nothing", Scope{TeamIDs: []string{"t1"}}, Filter{AgentIDs: []string{"a5"}}},
	}
	defer func() { forcePlan = "" }()
	for _, plan := range []string{"wide", "narrow", ""} {
		forcePlan = plan
		for _, c := range cases {
			for _, order := range []string{OrderStartedAt, OrderDuration, OrderAgentName} {
				for _, desc := range []bool{false, true} {
					q := ListQuery{Scope: c.scope, Filter: c.f, Order: order, Desc: desc, Limit: 7}
					exp := callIDs(want(all, q))
					var got []string
					for page := 0; page < 200; page++ {
						p, err := s.ListCallsPage(ctx, q)
						if err != nil {
							t.Fatalf("%s %s %s desc=%v: %v", plan, c.name, order, desc, err)
						}
						if p.Total != int64(len(exp)) || p.TotalIsEstimate {
							t.Errorf("%s %s %s desc=%v: total %d (estimate %v), want %d", plan, c.name, order, desc,
								p.Total, p.TotalIsEstimate, len(exp))
						}
						got = append(got, callIDs(p.Calls)...)
						if len(p.Calls) < q.Limit {
							break
						}
						q.After = cursorAfter(order, p.Calls[len(p.Calls)-1])
					}
					if !slices.Equal(got, exp) {
						t.Errorf("%s %s %s desc=%v: listed %d calls, want %d (first %v, want %v)", plan, c.name, order, desc,
							len(got), len(exp), got[:min(3, len(got))], exp[:min(3, len(exp))])
					}
				}
			}
		}
	}
}

// TestAgentOrderCursorWithoutAgent: a page token made before the cursor
// named its agent still continues after its call.
func TestAgentOrderCursorWithoutAgent(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	listFixture(t, s, 100)
	q := ListQuery{Scope: Scope{All: true}, Order: OrderAgentName, Limit: 10}
	exp := callIDs(want(keptCalls(t, s), q))
	p, err := s.ListCallsPage(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	last := p.Calls[len(p.Calls)-1]
	q.After = &Cursor{Str: last.AgentName, ID: last.ID}
	p2, err := s.ListCallsPage(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if got := callIDs(p2.Calls); !slices.Equal(got, exp[10:20]) {
		t.Errorf("second page %v, want %v", got, exp[10:20])
	}
}

// tallyOf recounts what call_tally and call_days should hold.
func tallyOf(t *testing.T, s *SQLite) (tally, days string) {
	t.Helper()
	ctx := context.Background()
	read := func(q string) string {
		rows, err := s.db.QueryContext(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out string
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			out += fmt.Sprintln(vals...)
		}
		return out
	}
	gotTally := read(`SELECT team_id, agent_id, campaign_id, evaluated, n FROM call_tally ORDER BY 1, 2, 3, 4`)
	wantTally := read(`SELECT team_id, agent_id, campaign_id, evaluated, COUNT(*) FROM calls WHERE state = 'kept'
		GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`)
	if gotTally != wantTally {
		t.Errorf("call_tally:\n%s\nwant:\n%s", gotTally, wantTally)
	}
	gotDays := read(`SELECT day, n FROM call_days ORDER BY day`)
	wantDays := read(`SELECT started_at - started_at % 86400000, COUNT(*) FROM calls WHERE state = 'kept' GROUP BY 1 ORDER BY 1`)
	if gotDays != wantDays {
		t.Errorf("call_days:\n%s\nwant:\n%s", gotDays, wantDays)
	}
	return gotTally, gotDays
}

// TestCallTallyFollowsEveryChange: the triggers keep call_tally and
// call_days equal to a count of the kept calls through inserts, sampling
// (pending → kept), moves, evaluations, re-dating and deletions, and every
// change of a kept call raises the 'calls' change counter while changes
// of pending calls do not.
func TestCallTallyFollowsEveryChange(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	listFixture(t, s, 300)
	tallyOf(t, s)
	gen := func() int64 {
		n, err := s.changeCount(ctx, counterCalls)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	steps := []struct {
		name  string
		sql   string
		moves bool // raises the 'calls' counter
	}{
		{"pending calls deleted", `DELETE FROM calls WHERE state = 'pending' AND rowid % 3 = 0`, false},
		{"pending calls re-dated", `UPDATE calls SET started_at = started_at + 1000 WHERE state = 'pending'`, false},
		{"sampling keeps some", `UPDATE calls SET state = 'kept' WHERE state = 'pending' AND rowid % 2 = 0`, true},
		{"calls moved to another team", `UPDATE calls SET team_id = 't3' WHERE agent_id = 'a4' AND state = 'kept'`, true},
		{"an agent's calls reassigned", `UPDATE calls SET agent_id = 'a6' WHERE agent_id = 'a5' AND rowid % 2 = 1`, true},
		{"evaluated", `UPDATE calls SET evaluated = 1 WHERE rowid % 5 = 0`, true},
		{"campaign changed", `UPDATE calls SET campaign_id = 'c2' WHERE rowid % 7 = 0`, true},
		{"re-dated across days", `UPDATE calls SET started_at = started_at + 43200000 WHERE rowid % 4 = 0`, true},
		{"duration corrected", `UPDATE calls SET duration_ms = duration_ms + 1 WHERE state = 'kept' AND rowid % 9 = 0`, true},
		{"kept call made pending again", `UPDATE calls SET state = 'pending' WHERE state = 'kept' AND rowid % 11 = 0`, true},
		{"purged", `DELETE FROM calls WHERE state = 'kept' AND rowid % 6 = 0`, true},
		{"everything deleted", `DELETE FROM calls`, true},
	}
	for _, st := range steps {
		before := gen()
		if _, err := s.db.ExecContext(ctx, st.sql); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		tallyOf(t, s)
		if moved := gen() != before; moved != st.moves {
			t.Errorf("%s: 'calls' counter moved %v, want %v", st.name, moved, st.moves)
		}
	}
	if tally, days := tallyOf(t, s); tally != "" || days != "" {
		t.Errorf("empty store keeps a tally: %q %q", tally, days)
	}
}

// TestTotalEstimatedThenExact: with dates beyond what is counted while the
// page waits, the first page's total is an estimate and the exact count
// is made in the background; the next page has it, until a kept call
// changes.
func TestTotalEstimatedThenExact(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	base := listFixture(t, s, 400)
	all := keptCalls(t, s)
	defer func(v int64) { syncCountMax = v }(syncCountMax)
	syncCountMax = 10
	q := ListQuery{Scope: Scope{All: true}, Filter: Filter{StartedAfter: base.AddDate(0, 0, 3), StartedBefore: base.AddDate(0, 0, 18)},
		Order: OrderStartedAt, Limit: 5}
	exact := int64(len(want(all, q)))
	p, err := s.ListCallsPage(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if !p.TotalIsEstimate || p.Total == exact {
		t.Fatalf("first total %d (estimate %v); want an estimate (exact %d)", p.Total, p.TotalIsEstimate, exact)
	}
	// Half the days of a month of calls spread evenly: about half.
	if p.Total < int64(len(all))/4 || p.Total > int64(len(all))*3/4 {
		t.Errorf("estimate %d of %d calls for half the days", p.Total, len(all))
	}
	s.counts.wait()
	p, err = s.ListCallsPage(ctx, q)
	if err != nil || p.TotalIsEstimate || p.Total != exact {
		t.Fatalf("after the count: total %d (estimate %v), %v; want %d", p.Total, p.TotalIsEstimate, err, exact)
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE calls SET evaluated = 1 - evaluated WHERE state = 'kept' AND rowid = (SELECT MIN(rowid) FROM calls WHERE state = 'kept')`); err != nil {
		t.Fatal(err)
	}
	if p, err = s.ListCallsPage(ctx, q); err != nil || !p.TotalIsEstimate {
		t.Errorf("after a change: total %d (estimate %v), %v; want an estimate again", p.Total, p.TotalIsEstimate, err)
	}
	s.counts.wait()
	// Without dates, durations or scores the total is the tally's, exact.
	q.Filter = Filter{CampaignIDs: []string{"c2"}}
	if p, err = s.ListCallsPage(ctx, q); err != nil || p.TotalIsEstimate || p.Total != int64(len(want(all, q))) {
		t.Errorf("campaign filter: total %d (estimate %v), %v; want %d", p.Total, p.TotalIsEstimate, err, len(want(all, q)))
	}
}

func TestRoundTwoDigits(t *testing.T) {
	for in, want := range map[float64]int64{0.2: 1, 7: 7, 52.4: 52, 149: 150, 52341: 52000, 1_000_251: 1_000_000} {
		if got := roundTwoDigits(in); got != want {
			t.Errorf("roundTwoDigits(%v) = %d, want %d", in, got, want)
		}
	}
}

// TestAuthChanges: accounts, their teams and sessions raise the counter;
// a session's use does not.
func TestAuthChanges(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	fixture(t, s, 0)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.CreateUser(ctx, User{ID: "u1", Login: "sup", DisplayName: "Sup", Role: RoleSupervisor, PasswordHash: "h", TeamIDs: []string{"t1"}}))
	now := time.UnixMilli(1_700_000_000_000).UTC()
	must(s.CreateSession(ctx, Session{TokenHash: "h1", UserID: "u1", CreatedAt: now, LastUsedAt: now, ExpiresAt: now.Add(time.Hour)}))
	must(s.CreateSession(ctx, Session{TokenHash: "h2", UserID: "u1", CreatedAt: now, LastUsedAt: now, ExpiresAt: now.Add(time.Hour)}))
	for _, st := range []struct {
		name  string
		do    func() error
		moves bool
	}{
		{"session used", func() error { return s.TouchSession(ctx, "h1", now.Add(time.Minute)) }, false},
		{"password set", func() error { return s.SetPassword(ctx, "u1", "h2", false) }, true},
		{"team added", func() error {
			return s.exec(ctx, "team", `INSERT INTO user_teams (user_id, team_id) VALUES ('u1', 't2')`)
		}, true},
		{"team removed", func() error { return s.exec(ctx, "team", `DELETE FROM user_teams WHERE team_id = 't2'`) }, true},
		{"disabled", func() error { return s.exec(ctx, "disable", `UPDATE users SET disabled = 1 WHERE id = 'u1'`) }, true},
		{"session revoked", func() error { return s.DeleteSession(ctx, "h2") }, true},
		{"session expiry changed", func() error { return s.exec(ctx, "expire", `UPDATE sessions SET expires_at = 1`) }, true},
	} {
		before, err := s.AuthChanges(ctx)
		must(err)
		must(st.do())
		after, err := s.AuthChanges(ctx)
		must(err)
		if (after != before) != st.moves {
			t.Errorf("%s: counter %d → %d, want a change: %v", st.name, before, after, st.moves)
		}
	}
}
