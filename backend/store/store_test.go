package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestMigrationsOnRealFile(t *testing.T) {
	sqliteOnly(t)
	ctx := context.Background()
	s, path := openTest(t)
	v, err := s.SchemaVersion(ctx)
	// Several issues add migrations: the newest file is the version.
	files, _ := fs.Glob(migrations, "migrations/*.sql")
	var want int64
	for _, f := range files {
		var n int64
		fmt.Sscanf(filepath.Base(f), "%05d_", &n)
		want = max(want, n)
	}
	if err != nil || v != want {
		t.Fatalf("schema version = %d, %v; want %d", v, err, want)
	}
	var mode string
	if err := s.db.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
	var fk int
	if err := s.db.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&fk); err != nil || fk != 1 {
		t.Errorf("foreign_keys = %d, %v; want 1", fk, err)
	}
	for _, table := range []string{"users", "user_teams", "teams", "agents", "campaigns", "calls", "sessions", "optout_counts"} {
		var n int
		if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type='table' AND name=?`, table).Scan(&n); err != nil || n != 1 {
			t.Errorf("table %s missing", table)
		}
	}
	s.Close()
	// Reopening applies nothing twice.
	s2, err := OpenSQLite(ctx, path, nil)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s2.Close()
	if v, _ := s2.SchemaVersion(ctx); v != want {
		t.Errorf("after reopen schema version = %d", v)
	}
}

func TestForeignKeysEnforced(t *testing.T) {
	s, _ := openTest(t)
	err := s.CreateAgent(context.Background(), Agent{ID: "a1", Name: "X", TeamID: "no-such-team"})
	if err == nil {
		t.Fatal("agent with unknown team accepted")
	}
}

func TestOffsetsRoundTrip(t *testing.T) {
	in := []int64{0, 144, 288, 433, 100000, 100001}
	b, err := EncodeOffsets(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) >= len(in)*8 {
		t.Errorf("encoding is not compact: %d bytes", len(b))
	}
	out, err := DecodeOffsets(b)
	if err != nil || !slices.Equal(in, out) {
		t.Fatalf("round trip = %v, %v", out, err)
	}
	if _, err := EncodeOffsets([]int64{10, 5}); err == nil {
		t.Error("descending offsets accepted")
	}
	if _, err := DecodeOffsets([]byte{0x80}); err == nil {
		t.Error("truncated varint accepted")
	}
}

// fixture makes 2 teams, 3 agents, 1 campaign and n kept calls per agent
// plus one pending call.
func fixture(t *testing.T, s *SQLite, n int) time.Time {
	t.Helper()
	ctx := context.Background()
	base := time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC) // 4 March: day and month differ (R14)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.CreateTeam(ctx, Team{ID: "t1", Name: "Un"}))
	must(s.CreateTeam(ctx, Team{ID: "t2", Name: "Deux"}))
	must(s.CreateCampaign(ctx, Campaign{ID: "c1", Name: "Camp", ClientName: "Client"}))
	agents := []Agent{{ID: "a1", Name: "Zoé", TeamID: "t1"}, {ID: "a2", Name: "Albert", TeamID: "t1"}, {ID: "a3", Name: "Marc", TeamID: "t2"}}
	var calls []NewCall
	for _, a := range agents {
		must(s.CreateAgent(ctx, a))
		for i := range n {
			start := base.Add(time.Duration(i) * time.Hour)
			if i%3 == 0 {
				start = base // ties on started_at exercise the id tie-breaker
			}
			calls = append(calls, NewCall{Call: Call{
				ID: fmt.Sprintf("%s-%02d", a.ID, i), ExternalID: fmt.Sprintf("x-%s-%d", a.ID, i),
				StartedAt: start, EndedAt: start.Add(time.Minute), AgentID: a.ID, TeamID: a.TeamID, CampaignID: "c1",
				Direction: "inbound", ConsentRequestedAt: start.Add(-10 * time.Second), ConsentAccepted: true,
				State: StateKept, RetainedUntil: start.AddDate(0, 6, 0),
				Audio:     Audio{Key: "k", Size: 10, Codec: "mp3", Duration: time.Duration(i%4+1) * time.Minute},
				Evaluated: i%2 == 0,
			}, Waveform: Waveform{Peaks: []byte{1, 2}, FrameOffsets: []int64{0, 144}}})
		}
	}
	calls = append(calls, NewCall{Call: Call{ID: "pending", ExternalID: "x-pending", StartedAt: base, EndedAt: base.Add(time.Minute),
		AgentID: "a1", TeamID: "t1", CampaignID: "c1", Direction: "inbound", ConsentRequestedAt: base, ConsentAccepted: true,
		State: StatePending, RetainedUntil: base}})
	must(s.InsertCalls(ctx, calls))
	return base
}

func TestTimesStoredAsIntegerMillis(t *testing.T) {
	sqliteOnly(t)
	s, _ := openTest(t)
	base := fixture(t, s, 1)
	var typ string
	var v int64
	if err := s.db.QueryRow(`SELECT typeof(started_at), started_at FROM calls WHERE id='a1-00'`).Scan(&typ, &v); err != nil {
		t.Fatal(err)
	}
	if typ != "integer" || v != base.UnixMilli() {
		t.Errorf("started_at stored as %s %d, want integer %d", typ, v, base.UnixMilli())
	}
	c, err := s.GetCall(context.Background(), "a1-00", Scope{All: true})
	if err != nil {
		t.Fatal(err)
	}
	if !c.StartedAt.Equal(base) || c.StartedAt.Location() != time.UTC {
		t.Errorf("read back %v, want %v UTC", c.StartedAt, base)
	}
}

func TestDuplicateExternalID(t *testing.T) {
	s, _ := openTest(t)
	fixture(t, s, 1)
	err := s.InsertCalls(context.Background(), []NewCall{{Call: Call{ID: "new", ExternalID: "x-a1-0", AgentID: "a1",
		TeamID: "t1", CampaignID: "c1", Direction: "inbound", State: StateKept}}})
	if !errors.Is(err, ErrDuplicate) {
		t.Fatalf("err = %v, want ErrDuplicate", err)
	}
}

func TestScopeAndPendingHidden(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	fixture(t, s, 5)
	cases := []struct {
		scope Scope
		want  int64
	}{
		{Scope{All: true}, 15},
		{Scope{TeamIDs: []string{"t1"}}, 10},
		{Scope{AgentIDs: []string{"a3"}}, 5},
		{Scope{}, 0},
	}
	for _, c := range cases {
		_, total, err := s.ListCalls(ctx, ListQuery{Scope: c.scope, Limit: 100})
		if err != nil || total != c.want {
			t.Errorf("scope %+v: total %d, %v; want %d", c.scope, total, err, c.want)
		}
	}
	if _, err := s.GetCall(ctx, "pending", Scope{All: true}); !errors.Is(err, ErrNotFound) {
		t.Errorf("pending call readable: %v", err)
	}
	if _, err := s.GetCall(ctx, "a3-01", Scope{TeamIDs: []string{"t1"}}); !errors.Is(err, ErrNotFound) {
		t.Errorf("call outside scope readable: %v", err)
	}
}

func TestKeysetPaginationVisitsEveryRowOnce(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	fixture(t, s, 7)
	for _, order := range []string{OrderStartedAt, OrderDuration, OrderAgentName} {
		for _, desc := range []bool{false, true} {
			var seen []string
			var prev *Call
			q := ListQuery{Scope: Scope{All: true}, Order: order, Desc: desc, Limit: 4}
			for page := 0; page < 20; page++ {
				calls, total, err := s.ListCalls(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				if total != 21 {
					t.Fatalf("total = %d", total)
				}
				for i := range calls {
					c := calls[i]
					if prev != nil && less(order, c, *prev) != desc && key(order, c) != key(order, *prev) {
						t.Errorf("%s desc=%v: %s after %s out of order", order, desc, c.ID, prev.ID)
					}
					prev = &c
					seen = append(seen, c.ID)
				}
				if len(calls) < q.Limit {
					break
				}
				last := calls[len(calls)-1]
				q.After = &Cursor{Int: last.StartedAt.UnixMilli(), Str: last.AgentName, ID: last.ID}
				if order == OrderDuration {
					q.After.Int = last.Audio.Duration.Milliseconds()
				}
			}
			sorted := slices.Clone(seen)
			slices.Sort(sorted)
			if len(seen) != 21 || len(slices.Compact(sorted)) != 21 {
				t.Errorf("%s desc=%v: visited %d rows (%d distinct), want 21", order, desc, len(seen), len(slices.Compact(sorted)))
			}
		}
	}
}

func key(order string, c Call) string {
	switch order {
	case OrderDuration:
		return fmt.Sprintf("%020d", c.Audio.Duration)
	case OrderAgentName:
		return c.AgentName
	}
	return fmt.Sprintf("%020d", c.StartedAt.UnixMilli())
}

func less(order string, a, b Call) bool { return key(order, a) < key(order, b) }

func TestFilters(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	base := fixture(t, s, 6)
	yes := true
	cases := []struct {
		name string
		f    Filter
		want int64
	}{
		{"evaluated", Filter{Evaluated: &yes}, 9},
		{"agent", Filter{AgentIDs: []string{"a2"}}, 6},
		{"team", Filter{TeamIDs: []string{"t2"}}, 6},
		{"after", Filter{StartedAfter: base.Add(90 * time.Minute)}, 9},
		{"min duration", Filter{MinDuration: 3 * time.Minute}, 6},
		{"max duration", Filter{MaxDuration: time.Minute}, 6},
	}
	for _, c := range cases {
		_, total, err := s.ListCalls(ctx, ListQuery{Scope: Scope{All: true}, Filter: c.f, Limit: 1})
		if err != nil || total != c.want {
			t.Errorf("%s: total %d, %v; want %d", c.name, total, err, c.want)
		}
	}
}

func TestCounters(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	day := time.Date(2026, 3, 4, 23, 30, 0, 0, time.UTC)
	for range 3 {
		if err := s.AddOptOut(ctx, day, 1); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.OptOutCount(ctx, day.Add(-20*time.Hour)); err != nil || n != 3 {
		t.Errorf("opt-out count = %d, %v; want 3", n, err)
	}
	if n, _ := s.OptOutCount(ctx, day.AddDate(0, 0, 1)); n != 0 {
		t.Errorf("next day count = %d", n)
	}
}

func TestSessions(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	fixture(t, s, 0)
	if err := s.CreateUser(ctx, User{ID: "u1", Login: "sup", DisplayName: "Sup", Role: RoleSupervisor, PasswordHash: "h", TeamIDs: []string{"t1", "t2"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUser(ctx, User{ID: "u2", Login: "sup", DisplayName: "Dup", Role: RoleSupervisor, PasswordHash: "h"}); !errors.Is(err, ErrDuplicate) {
		t.Errorf("duplicate login: %v", err)
	}
	u, err := s.UserByLogin(ctx, "sup")
	if err != nil || !slices.Equal(u.TeamIDs, []string{"t1", "t2"}) {
		t.Fatalf("user = %+v, %v", u, err)
	}
	now := time.UnixMilli(1_700_000_000_000).UTC()
	for _, h := range []string{"h1", "h2"} {
		if err := s.CreateSession(ctx, Session{TokenHash: h, UserID: "u1", CreatedAt: now, LastUsedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteUserSessions(ctx, "u1", "h1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SessionByHash(ctx, "h2"); !errors.Is(err, ErrNotFound) {
		t.Errorf("h2 survived: %v", err)
	}
	se, err := s.SessionByHash(ctx, "h1")
	if err != nil || !se.ExpiresAt.Equal(now.Add(time.Hour)) {
		t.Errorf("h1 = %+v, %v", se, err)
	}
}
