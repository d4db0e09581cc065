package audit

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ecoute/ecoute/backend/store"
	"github.com/ecoute/ecoute/internal/clock"
)

// gatedStore holds the first single append until released, and counts the
// transactions.
type gatedStore struct {
	*store.SQLite
	gate    chan struct{}
	entered chan struct{}
	once    sync.Once
	mu      sync.Mutex
	singles int
	batches []int // entries per batch
}

func (g *gatedStore) AppendAudit(ctx context.Context, build func(store.AuditHead) (store.AuditRow, store.AuditHead, error)) (store.AuditRow, error) {
	g.mu.Lock()
	g.singles++
	g.mu.Unlock()
	g.once.Do(func() { close(g.entered); <-g.gate })
	return g.SQLite.AppendAudit(ctx, build)
}

func (g *gatedStore) AuditBatch(ctx context.Context, f func(store.AuditStore) error) error {
	n := 0
	err := g.SQLite.AuditBatch(ctx, func(tx store.AuditStore) error {
		return f(countingTx{tx, &n})
	})
	g.mu.Lock()
	g.batches = append(g.batches, n)
	g.mu.Unlock()
	return err
}

type countingTx struct {
	store.AuditStore
	n *int
}

func (c countingTx) AppendAudit(ctx context.Context, build func(store.AuditHead) (store.AuditRow, store.AuditHead, error)) (store.AuditRow, error) {
	*c.n++
	return c.AuditStore.AppendAudit(ctx, build)
}

func newBatchFixture(t *testing.T) (*Log, *gatedStore) {
	t.Helper()
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "a.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	g := &gatedStore{SQLite: st, gate: make(chan struct{}), entered: make(chan struct{})}
	return New(g, clock.NewFake(time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC)), key, nil), g
}

// waitQueued waits until n appends are queued behind the writer.
func waitQueued(t *testing.T, b *Batcher, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		b.mu.Lock()
		q := len(b.queue)
		b.mu.Unlock()
		if q == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d appends queued, want %d", q, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestBatcherWritesConcurrentAppendsTogether: while one append is being
// written, the others queue and are then written in one transaction; each
// Append returns its own result once its entry is written, a bad entry
// refused alone, and the chain verifies with every entry once.
func TestBatcherWritesConcurrentAppendsTogether(t *testing.T) {
	ctx := context.Background()
	l, g := newBatchFixture(t)
	b := NewBatcher(l)
	const n = 40
	errs := make([]error, n)
	var wg sync.WaitGroup
	wg.Go(func() { errs[0] = b.Append(ctx, Entry{Action: ActionCallList, Target: "first"}) })
	<-g.entered // the first append is being written
	for i := 1; i < n; i++ {
		e := Entry{Action: ActionCallView, Target: fmt.Sprint("call-", i)}
		if i == 7 {
			e.Action = "" // refused
		}
		wg.Go(func() { errs[i] = b.Append(ctx, e) })
	}
	waitQueued(t, b, n-1)
	close(g.gate)
	wg.Wait()
	for i, err := range errs {
		if (err != nil) != (i == 7) {
			t.Errorf("append %d: %v", i, err)
		}
	}
	// The first alone, then one batch that failed on the bad entry, then
	// its good entries one by one (the bad one is refused before the
	// store).
	if len(g.batches) != 1 || g.singles != 1+(n-2) {
		t.Errorf("%d single appends and batches %v", g.singles, g.batches)
	}
	rep, err := l.Verify(ctx)
	if err != nil || !rep.OK || rep.Entries != n-1 {
		t.Fatalf("chain: %+v, %v; want %d entries verified", rep, err, n-1)
	}
	links, err := l.List(ctx, Query{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, k := range links {
		seen[k.Target]++
	}
	for i := 1; i < n; i++ {
		if want := map[bool]int{true: 0, false: 1}[i == 7]; seen[fmt.Sprint("call-", i)] != want {
			t.Errorf("call-%d recorded %d times, want %d", i, seen[fmt.Sprint("call-", i)], want)
		}
	}
}

// TestBatcherOneTransactionForTheQueue: with good entries only, what
// queued behind a write goes in one transaction.
func TestBatcherOneTransactionForTheQueue(t *testing.T) {
	ctx := context.Background()
	l, g := newBatchFixture(t)
	b := NewBatcher(l)
	const n = 25
	var wg sync.WaitGroup
	errs := make([]error, n)
	wg.Go(func() { errs[0] = b.Append(ctx, Entry{Action: ActionCallList}) })
	<-g.entered
	for i := 1; i < n; i++ {
		wg.Go(func() { errs[i] = b.Append(ctx, Entry{Action: ActionCallView, Target: fmt.Sprint(i)}) })
	}
	waitQueued(t, b, n-1)
	close(g.gate)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("append %d: %v", i, err)
		}
	}
	if g.singles != 1 || len(g.batches) != 1 || g.batches[0] != n-1 {
		t.Errorf("%d single appends, batches %v; want 1 and [%d]", g.singles, g.batches, n-1)
	}
	if rep, err := l.Verify(ctx); err != nil || !rep.OK || rep.Entries != n {
		t.Errorf("chain: %+v, %v", rep, err)
	}
}
