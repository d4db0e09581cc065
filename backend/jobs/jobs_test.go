package jobs

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ecoute/ecoute/backend/store"
	"github.com/ecoute/ecoute/internal/clock"
)

func openStore(t *testing.T) *store.SQLite {
	t.Helper()
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "ecoute.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestNextAt(t *testing.T) {
	at := func(s string) time.Time { v, _ := time.Parse(time.RFC3339, s); return v }
	cases := []struct{ now, want string }{
		{"2026-03-04T01:59:59Z", "2026-03-04T02:00:00Z"},
		{"2026-03-04T02:00:00Z", "2026-03-05T02:00:00Z"},
		{"2026-03-04T23:00:00+02:00", "2026-03-05T02:00:00Z"}, // 21:00 UTC
		{"2026-12-31T03:00:00Z", "2027-01-01T02:00:00Z"},
	}
	for _, c := range cases {
		if got := NextAt(at(c.now), 2); !got.Equal(at(c.want)) {
			t.Errorf("NextAt(%s, 2) = %v, want %s", c.now, got, c.want)
		}
	}
}

type counter struct {
	mu   sync.Mutex
	runs []time.Time
}

func (c *counter) task(name string) Task {
	return Task{Name: name, Run: func(_ context.Context, now time.Time) (map[string]int, error) {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.runs = append(c.runs, now)
		return map[string]int{"n": len(c.runs)}, nil
	}}
}

func (c *counter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.runs)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestDailyRunsAtTheHourOnce: the scheduler runs nothing before the hour,
// once when the fake clock passes it, and again only the next day; every
// run is recorded and observed.
func TestDailyRunsAtTheHourOnce(t *testing.T) {
	st := openStore(t)
	clk := clock.NewFake(time.Date(2026, 3, 4, 1, 0, 0, 0, time.UTC))
	var observed []store.JobRun
	var mu sync.Mutex
	r := &Runner{Store: st, Clock: clk, Observe: func(_ context.Context, run store.JobRun) {
		mu.Lock()
		observed = append(observed, run)
		mu.Unlock()
	}}
	var c counter
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Daily(ctx, 2, time.Millisecond, c.task("sample")); close(done) }()
	time.Sleep(30 * time.Millisecond)
	if c.count() != 0 {
		t.Fatalf("ran before the hour: %d", c.count())
	}
	clk.Set(time.Date(2026, 3, 4, 2, 0, 30, 0, time.UTC))
	waitFor(t, "the 02:00 run", func() bool { return c.count() == 1 })
	time.Sleep(30 * time.Millisecond)
	if c.count() != 1 {
		t.Fatalf("ran %d times in one slot", c.count())
	}
	clk.Set(time.Date(2026, 3, 5, 2, 0, 0, 0, time.UTC))
	waitFor(t, "the next day's run", func() bool { return c.count() == 2 })
	cancel()
	<-done
	last, err := st.LastJobRun(context.Background(), "sample")
	if err != nil || !last.RunFor.Equal(time.Date(2026, 3, 5, 2, 0, 0, 0, time.UTC)) || last.Summary["n"] != 2 {
		t.Errorf("last run %+v %v", last, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(observed) != 2 {
		t.Errorf("observed %d runs, want 2", len(observed))
	}
}

// TestDailyCatchesUpAfterDowntime: a server that was down at the hour
// runs the jobs at start; one that ran today waits.
func TestDailyCatchesUpAfterDowntime(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	clk := clock.NewFake(time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC))
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(st.RecordJobRun(ctx, store.JobRun{Job: "sample", RunFor: time.Date(2026, 3, 8, 2, 0, 0, 0, time.UTC)}))
	var c counter
	r := &Runner{Store: st, Clock: clk}
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { r.Daily(cctx, 2, time.Millisecond, c.task("sample")); close(done) }()
	waitFor(t, "the catch-up run", func() bool { return c.count() == 1 })
	cancel()
	<-done

	var c2 counter
	cctx, cancel = context.WithCancel(ctx)
	done = make(chan struct{})
	go func() { r.Daily(cctx, 2, time.Millisecond, c2.task("sample")); close(done) }()
	time.Sleep(30 * time.Millisecond)
	cancel()
	<-done
	if c2.count() != 0 {
		t.Errorf("ran again after today's run: %d", c2.count())
	}
}

func TestRunRecordsFailures(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	clk := clock.NewFake(time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC))
	r := &Runner{Store: st, Clock: clk}
	boom := errors.New("disk on fire")
	_, err := r.Run(ctx, Task{Name: "purge", Run: func(context.Context, time.Time) (map[string]int, error) {
		return map[string]int{"recordings": 3}, boom
	}}, clk.Now())
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	last, err := st.LastJobRun(ctx, "purge")
	if err != nil || last.Err != boom.Error() || last.Summary["recordings"] != 3 {
		t.Errorf("recorded %+v %v", last, err)
	}
}

type fakeDeleter struct {
	mu      sync.Mutex
	deleted map[string]bool
}

func (f *fakeDeleter) Delete(_ context.Context, key string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deleted[key] = true
	return nil
}

func TestDrainBlobsEmptiesTheQueue(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	for i := range 2500 {
		if _, err := st.DB().Exec(`INSERT INTO blob_deletions (key, queued_at) VALUES (?, 0)`, "calls/k"+time.Duration(i).String()); err != nil {
			t.Fatal(err)
		}
	}
	d := &fakeDeleter{deleted: map[string]bool{}}
	n, err := DrainBlobs(ctx, st, d)
	if err != nil || n != 2500 || len(d.deleted) != 2500 {
		t.Fatalf("drained %d (%d deleted), %v", n, len(d.deleted), err)
	}
	if left, _ := st.BlobDeletions(ctx, 10); len(left) != 0 {
		t.Errorf("%d keys left", len(left))
	}
}
