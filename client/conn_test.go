package client

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ecoute/ecoute/internal/clock"
)

// fakeSleeps records the pauses asked for and returns at once.
type fakeSleeps struct {
	mu     sync.Mutex
	pauses []time.Duration
}

func (f *fakeSleeps) sleep(ctx context.Context, d time.Duration) error {
	f.mu.Lock()
	f.pauses = append(f.pauses, d)
	f.mu.Unlock()
	return ctx.Err()
}

func newTestTracker() (*connTracker, *fakeSleeps) {
	t := newConnTracker(clock.NewFake(time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)))
	fs := &fakeSleeps{}
	t.sleep = fs.sleep
	return t, fs
}

func TestBackoff(t *testing.T) {
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second}
	for i, w := range want {
		if got := Backoff(i + 1); got != w {
			t.Errorf("Backoff(%d) = %v, want %v", i+1, got, w)
		}
	}
}

func TestReadsAreAskedAgainUntilAnswered(t *testing.T) {
	tr, fs := newTestTracker()
	calls := 0
	err := tr.do(context.Background(), "list calls", Again, func(context.Context) error {
		calls++
		if calls < 5 {
			return status.Error(codes.Unavailable, "connection refused")
		}
		return nil
	})
	if err != nil || calls != 5 {
		t.Fatalf("err = %v after %d attempts, want nil after 5", err, calls)
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}
	if len(fs.pauses) != len(want) {
		t.Fatalf("pauses = %v, want %v", fs.pauses, want)
	}
	for i := range want {
		if fs.pauses[i] != want[i] {
			t.Errorf("pause %d = %v, want %v", i, fs.pauses[i], want[i])
		}
	}
	if ev := latest(tr.ch); ev.State != ConnUp || ev.Waiting != 0 {
		t.Errorf("last event = %+v, want up with nothing waiting", ev)
	}
}

func TestWritesWithoutIDAreNotAskedAgain(t *testing.T) {
	tr, fs := newTestTracker()
	calls := 0
	err := tr.do(context.Background(), "login", Once, func(context.Context) error {
		calls++
		return status.Error(codes.Unavailable, "connection refused")
	})
	if !errors.Is(err, ErrUnreachable) || calls != 1 || len(fs.pauses) != 0 {
		t.Fatalf("err = %v, %d attempts, pauses %v; want ErrUnreachable after 1, no pause", err, calls, fs.pauses)
	}
}

func TestServerAnswersAreNotRetried(t *testing.T) {
	tr, _ := newTestTracker()
	calls := 0
	err := tr.do(context.Background(), "get call", Again, func(context.Context) error {
		calls++
		return status.Error(codes.NotFound, "no such call")
	})
	if !errors.Is(err, ErrNotFound) || calls != 1 {
		t.Fatalf("err = %v after %d attempts", err, calls)
	}
	if ev := latest(tr.ch); ev.State != ConnUp {
		t.Errorf("a refusal is an answer: state %v, want up", ev.State)
	}
}

func TestCallerGivesUpWhileWaiting(t *testing.T) {
	tr, _ := newTestTracker()
	ctx, cancel := context.WithCancel(context.Background())
	tr.sleep = func(context.Context, time.Duration) error { cancel(); return context.Canceled }
	err := tr.do(ctx, "list calls", Again, func(context.Context) error {
		return status.Error(codes.Unavailable, "down")
	})
	if !errors.Is(err, ErrCanceled) {
		t.Fatalf("err = %v, want ErrCanceled", err)
	}
}

// TestConnEventsShowWaitingRequests: while requests wait for the server,
// the events count them and say when the next attempt is; after enough
// failures the state is down.
func TestConnEventsShowWaitingRequests(t *testing.T) {
	tr := newConnTracker(clock.NewFake(time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)))
	release := make(chan struct{})
	parked := make(chan struct{}, 8)
	tr.sleep = func(ctx context.Context, _ time.Duration) error {
		parked <- struct{}{}
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	up := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = tr.do(context.Background(), "list calls", Again, func(context.Context) error {
				select {
				case <-up:
					return nil
				default:
					return status.Error(codes.Unavailable, "down")
				}
			})
		}()
	}
	<-parked
	<-parked
	ev := latest(tr.ch)
	if ev.State != ConnRetrying || ev.Waiting != 2 || ev.NextRetry.IsZero() {
		t.Fatalf("while waiting: %+v, want retrying with 2 waiting and a next retry", ev)
	}
	close(up)
	close(release)
	wg.Wait()
	if ev := latest(tr.ch); ev.State != ConnUp || ev.Waiting != 0 {
		t.Fatalf("after: %+v, want up, none waiting", ev)
	}
	for range downAfter + 1 {
		tr.failed()
	}
	if ev := latest(tr.ch); ev.State != ConnDown {
		t.Fatalf("after %d failures: %v, want down", downAfter+1, ev.State)
	}
}

// latest drains the channel to its newest event (there is at most one).
func latest(ch <-chan ConnEvent) ConnEvent {
	select {
	case ev := <-ch:
		return ev
	default:
		return ConnEvent{}
	}
}
