package store

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
	"time"
)

func TestFilterChoicesFollowScope(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	fixture(t, s, 3)
	// An agent with no kept call (only the pending one would not count
	// either) is not offered.
	if err := s.CreateAgent(ctx, Agent{ID: "a9", Name: "Sans Appel", TeamID: "t2", CreatedAt: time.Time{}}); err != nil {
		t.Fatal(err)
	}
	all, err := s.FilterChoices(ctx, Scope{All: true})
	if err != nil {
		t.Fatal(err)
	}
	want := []Choice{{"a2", "Albert"}, {"a3", "Marc"}, {"a1", "Zoé"}}
	if !reflect.DeepEqual(all.Agents, want) {
		t.Errorf("agents = %v, want %v (sorted by name, no agent without calls)", all.Agents, want)
	}
	if !reflect.DeepEqual(all.Teams, []Choice{{"t2", "Deux"}, {"t1", "Un"}}) || len(all.Campaigns) != 1 {
		t.Errorf("teams = %v, campaigns = %v", all.Teams, all.Campaigns)
	}
	t1, err := s.FilterChoices(ctx, Scope{TeamIDs: []string{"t1"}})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(t1.Agents, []Choice{{"a2", "Albert"}, {"a1", "Zoé"}}) || !reflect.DeepEqual(t1.Teams, []Choice{{"t1", "Un"}}) {
		t.Errorf("team t1 scope: agents %v teams %v", t1.Agents, t1.Teams)
	}
	none, err := s.FilterChoices(ctx, Scope{})
	if err != nil || len(none.Agents)+len(none.Teams)+len(none.Campaigns) != 0 {
		t.Errorf("empty scope offered %+v (%v)", none, err)
	}
}

func TestScoreFilter(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	base := fixture(t, s, 3)
	if _, err := s.db.ExecContext(ctx, `INSERT INTO grids (id, version, name, body, created_at, updated_at) VALUES ('g', 1, 'G', '{}', 0, 0)`); err != nil {
		t.Fatal(err)
	}
	// Totals in tenths of a percent; the draft and the unscored one never
	// match a score range.
	for _, e := range []struct {
		call, status string
		tenths, has  int
	}{
		{"a1-00", "submitted", 855, 1},
		{"a1-01", "acknowledged", 600, 1},
		{"a2-00", "draft", 900, 1},
		{"a2-01", "submitted", 0, 0},
		{"a3-00", "resolved", 1000, 1},
	} {
		_, err := s.db.ExecContext(ctx, `INSERT INTO evaluations (id, call_id, call_started_at, grid_id, grid_version,
			agent_id, team_id, evaluator_id, status, version, answers, total_tenths, has_total, created_at, updated_at, retained_until)
			VALUES (?, ?, ?, 'g', 1, 'a1', 't1', 'u', ?, 1, '[]', ?, ?, 0, 0, ?)`,
			"ev-"+e.call, e.call, base.UnixMilli(), e.status, e.tenths, e.has, base.AddDate(1, 0, 0).UnixMilli())
		if err != nil {
			t.Fatal(err)
		}
	}
	f := func(v float64) *float64 { return &v }
	for _, c := range []struct {
		name     string
		min, max *float64
		want     []string
	}{
		{"80 and over", f(80), nil, []string{"a1-00", "a3-00"}},
		{"at most 60", nil, f(60), []string{"a1-01"}},
		{"60 to 85.5 inclusive", f(60), f(85.5), []string{"a1-00", "a1-01"}},
		{"above 85.5", f(85.6), nil, []string{"a3-00"}},
	} {
		calls, total, err := s.ListCalls(ctx, ListQuery{Scope: Scope{All: true}, Filter: Filter{MinScore: c.min, MaxScore: c.max}, Order: OrderDuration, Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, cl := range calls {
			got = append(got, cl.ID)
		}
		sort.Strings(got)
		if !reflect.DeepEqual(got, c.want) || total != int64(len(c.want)) {
			t.Errorf("%s: %v (total %d), want %v", c.name, got, total, c.want)
		}
	}
}

// BenchmarkListCallsPage100k fetches one page of 50 from 100,000 kept calls
// the way the console scrolls: keyset paging deep into the list, with and
// without a filter, through ListCallsPage (the service's listing), its total
// included (it is sent with every page).
func BenchmarkListCallsPage100k(b *testing.B) {
	ctx := context.Background()
	s, err := OpenSQLite(ctx, filepath.Join(b.TempDir(), "bench.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	for i := range 3 {
		must(s.CreateTeam(ctx, Team{ID: fmt.Sprintf("t%d", i), Name: fmt.Sprintf("Team %d", i)}))
	}
	must(s.CreateCampaign(ctx, Campaign{ID: "c1", Name: "Camp", ClientName: "Client"}))
	for i := range 12 {
		must(s.CreateAgent(ctx, Agent{ID: fmt.Sprintf("a%02d", i), Name: fmt.Sprintf("Agent %02d", i), TeamID: fmt.Sprintf("t%d", i%3)}))
	}
	base := time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)
	const n = 100_000
	for start := 0; start < n; start += 5000 {
		var batch []NewCall
		for i := start; i < start+5000; i++ {
			at := base.Add(time.Duration(i) * 3 * time.Minute)
			a := i % 12
			batch = append(batch, NewCall{Call: Call{
				ID: fmt.Sprintf("call-%06d", i), ExternalID: fmt.Sprintf("x-%d", i), StartedAt: at, EndedAt: at.Add(time.Minute),
				AgentID: fmt.Sprintf("a%02d", a), TeamID: fmt.Sprintf("t%d", a%3), CampaignID: "c1", Direction: "inbound",
				ConsentRequestedAt: at, ConsentAccepted: true, State: StateKept, RetainedUntil: at.AddDate(0, 6, 0),
				Audio: Audio{Key: "k", Size: 10, Codec: "mp3", Duration: time.Duration(20+i%300) * time.Second}, Evaluated: i%4 == 0,
			}, Waveform: Waveform{Peaks: []byte{1}, FrameOffsets: []int64{0}}})
		}
		must(s.InsertCalls(ctx, batch))
	}
	mid := base.Add(n / 2 * 3 * time.Minute)
	for _, c := range []struct {
		name string
		q    ListQuery
	}{
		{"date-deep", ListQuery{Scope: Scope{All: true}, Desc: true, Limit: 51, After: &Cursor{Int: mid.UnixMilli(), ID: "call-050000"}}},
		{"team-scope-agent-filter", ListQuery{Scope: Scope{TeamIDs: []string{"t1"}}, Filter: Filter{AgentIDs: []string{"a01"}}, Desc: true, Limit: 51,
			After: &Cursor{Int: mid.UnixMilli(), ID: "call-050000"}}},
		{"duration-order", ListQuery{Scope: Scope{All: true}, Order: OrderDuration, Desc: true, Limit: 51}},
		{"agent-order", ListQuery{Scope: Scope{All: true}, Order: OrderAgentName, Limit: 51}},
		{"choices", ListQuery{}},
	} {
		b.Run(c.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if c.name == "choices" {
					if _, err := s.FilterChoices(ctx, Scope{TeamIDs: []string{"t0", "t1"}}); err != nil {
						b.Fatal(err)
					}
					continue
				}
				p, err := s.ListCallsPage(ctx, c.q)
				if err != nil || len(p.Calls) == 0 {
					b.Fatalf("%d calls, %v", len(p.Calls), err)
				}
			}
		})
	}
}
