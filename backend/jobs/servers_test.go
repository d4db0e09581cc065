package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ecoute/ecoute/backend/store"
	"github.com/ecoute/ecoute/backend/store/pgdb"
	"github.com/ecoute/ecoute/internal/clock"
	"github.com/ecoute/ecoute/internal/pgtest"
)

// servers is several ecouted's schedulers on one PostgreSQL database, each
// with its own connections, on one fake clock.
type servers struct {
	clk     *clock.Fake
	stores  []*store.SQLite
	mu      sync.Mutex
	settled map[time.Time]int
	admin   *sql.DB
}

func newServers(t *testing.T, n int) *servers {
	t.Helper()
	pg := pgtest.Start(t)
	admin, err := pgdb.Open(pg.DSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	s := &servers{clk: clock.NewFake(time.Date(2026, 3, 4, 1, 0, 0, 0, time.UTC)), settled: map[time.Time]int{}, admin: admin}
	for range n {
		st, err := store.OpenPostgres(context.Background(), pg.DSN("postgres"), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		s.stores = append(s.stores, st)
	}
	return s
}

// ranBefore records that the jobs ran two days before the clock's day, so
// that a scheduler started now catches up at once (rather than computing
// its next slot from a clock the test moves meanwhile).
func (s *servers) ranBefore(t *testing.T, jobs ...string) {
	t.Helper()
	for _, j := range jobs {
		if err := s.stores[0].RecordJobRun(context.Background(), store.JobRun{Job: j, RunFor: s.clk.Now().AddDate(0, 0, -2)}); err != nil {
			t.Fatal(err)
		}
	}
}

func (s *servers) runner(i int) *Runner {
	return &Runner{Store: s.stores[i], Clock: s.clk, Settled: func(slot time.Time) {
		s.mu.Lock()
		s.settled[slot]++
		s.mu.Unlock()
	}}
}

func (s *servers) waitSettled(t *testing.T, slot time.Time, n int) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d servers settled on %v", n, slot), func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.settled[slot] >= n
	})
}

// TestDailyOnceAcrossServers: three schedulers sharing a database run each
// day's jobs once between them, whichever wins.
func TestDailyOnceAcrossServers(t *testing.T) {
	s := newServers(t, 3)
	var sample, purge counter
	s.clk.Set(time.Date(2026, 3, 4, 2, 0, 4, 0, time.UTC))
	s.ranBefore(t, "sample", "purge")
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i := range 3 {
		r := s.runner(i)
		wg.Go(func() { r.Daily(ctx, 2, time.Millisecond, sample.task("sample"), purge.task("purge")) })
	}
	for day := 4; day <= 6; day++ {
		slot := time.Date(2026, 3, day, 2, 0, 0, 0, time.UTC)
		if day > 4 { // every scheduler settled the day before: all see the clock move
			s.clk.Set(slot.Add(time.Duration(day) * time.Second))
		}
		s.waitSettled(t, slot, 3)
		if sample.count() != day-3 || purge.count() != day-3 {
			t.Fatalf("after %v: sampled %d times, purged %d times; want %d each", slot, sample.count(), purge.count(), day-3)
		}
	}
	cancel()
	wg.Wait()
}

// TestDailyFinishedByAnotherServer: the server running the jobs loses its
// database connection (its machine died): its lock goes with it, and
// another server runs what was not done.
func TestDailyFinishedByAnotherServer(t *testing.T) {
	s := newServers(t, 2)
	ctx := context.Background()
	slot := time.Date(2026, 3, 4, 2, 0, 0, 0, time.UTC)
	// Server 0 takes the lock, as its scheduler does, and dies holding it.
	unlock, ok, err := s.stores[0].TryJobLock(ctx, "daily")
	if err != nil || !ok {
		t.Fatalf("first lock: %v %v", ok, err)
	}
	defer unlock()
	if _, ok, err := s.stores[1].TryJobLock(ctx, "daily"); err != nil || ok {
		t.Fatalf("a second server took a held lock: %v %v", ok, err)
	}
	var sample counter
	s.clk.Set(slot.Add(time.Minute))
	s.ranBefore(t, "sample")
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r := s.runner(1)
	done := make(chan struct{})
	go func() { r.Daily(cctx, 2, time.Millisecond, sample.task("sample")); close(done) }()
	// Not before the holder is gone: its backend is terminated, as when
	// its host stops answering and the server drops the connection.
	if _, err := s.admin.ExecContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted`); err != nil {
		t.Fatal(err)
	}
	s.waitSettled(t, slot, 1)
	cancel()
	<-done
	if sample.count() != 1 {
		t.Fatalf("sampled %d times, want once by the surviving server", sample.count())
	}
}
