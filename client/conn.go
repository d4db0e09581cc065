package client

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/ecoute/ecoute/internal/clock"
)

// Reconnection and retries. gRPC reconnects the channel by itself, but a
// call made while the server is away fails and is gone. The gateway
// therefore asks again, after a growing pause, for the calls that are safe
// to repeat: reads, and writes that carry a request id the server
// deduplicates. Any other write fails at once with ErrUnreachable: sending
// it again blindly could apply it twice. Meanwhile the gateway tells its
// user how the connection is (ConnEvents), so the console can show a
// banner with the requests waiting and the time to the next attempt.

// AttemptTimeout bounds one attempt of one request: a server that takes
// longer is treated as unreachable for that attempt (and a read is asked
// again). It is the console's only request timeout; a request waiting for
// the server to come back waits as long as its caller's context allows.
const AttemptTimeout = 15 * time.Second

// maxBackoff caps the pause between attempts.
const maxBackoff = 30 * time.Second

// downAfter is how many failed attempts in a row turn "reconnecting" into
// "unreachable" (the attempts go on).
const downAfter = 3

// Backoff is the pause before attempt number n+1 after n failures in a
// row: 1, 2, 4 … 30 s.
func Backoff(failures int) time.Duration {
	d := time.Second
	for i := 1; i < failures && d < maxBackoff; i++ {
		d *= 2
	}
	return min(d, maxBackoff)
}

// ConnState is how the connection to the server is, as far as the last
// answers tell.
type ConnState int

// The connection states.
const (
	ConnUnknown  ConnState = iota // nothing asked yet
	ConnUp                        // the last request was answered
	ConnRetrying                  // requests failed; asking again
	ConnDown                      // several attempts failed; still asking
)

// ConnEvent is a change of the connection: its state, how many requests
// wait to be asked again, and when the next attempt is due.
type ConnEvent struct {
	State     ConnState
	Waiting   int
	NextRetry time.Time // zero when nothing waits
	Failures  int       // failed attempts in a row
}

// connTracker keeps the connection's state and publishes it, latest value
// first: a reader that falls behind sees the newest state, never a queue
// of old ones.
type connTracker struct {
	clock clock.Clock
	// sleep waits d or until ctx ends; tests replace it.
	sleep func(ctx context.Context, d time.Duration) error

	mu       sync.Mutex
	state    ConnState
	ev       ConnEvent // the last one published
	waiters  map[int]time.Time
	nextID   int
	ch       chan ConnEvent
	reset    func() // wake the channel's connection attempts
	failures int
}

func newConnTracker(c clock.Clock) *connTracker {
	if c == nil {
		c = clock.Real{}
	}
	return &connTracker{clock: c, sleep: sleepCtx, waiters: map[int]time.Time{}, ch: make(chan ConnEvent, 1)}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// publishLocked replaces the pending event by the current state; mu is held.
func (t *connTracker) publishLocked() {
	ev := ConnEvent{State: t.state, Waiting: len(t.waiters), Failures: t.failures}
	for _, at := range t.waiters {
		if ev.NextRetry.IsZero() || at.Before(ev.NextRetry) {
			ev.NextRetry = at
		}
	}
	if ev == t.ev {
		return
	}
	t.ev = ev
	select {
	case <-t.ch:
	default:
	}
	t.ch <- ev
}

// answered records that the server answered (whatever it said).
func (t *connTracker) answered() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.failures = 0
	t.state = ConnUp
	t.publishLocked()
}

// failed records an attempt that did not reach the server, and returns how
// long to wait before the next one.
func (t *connTracker) failed() time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.failures++
	t.state = ConnRetrying
	if t.failures > downAfter {
		t.state = ConnDown
	}
	t.publishLocked()
	return Backoff(t.failures)
}

// wait parks a request until its next attempt, counted as waiting.
func (t *connTracker) wait(ctx context.Context, d time.Duration) error {
	t.mu.Lock()
	t.nextID++
	id := t.nextID
	t.waiters[id] = t.clock.Now().Add(d)
	t.publishLocked()
	reset := t.reset
	t.mu.Unlock()
	err := t.sleep(ctx, d)
	t.mu.Lock()
	delete(t.waiters, id)
	t.publishLocked()
	t.mu.Unlock()
	if err == nil && reset != nil {
		// gRPC's own reconnection may be waiting out a long backoff:
		// try the connection now, since a request is about to.
		reset()
	}
	return err
}

// Retry says whether a request may be sent again after an attempt that
// did not reach the server.
type Retry bool

// The two kinds of request.
const (
	// Once: a write without a request id; sending it again could apply
	// it twice.
	Once Retry = false
	// Again: a read, or a write the server deduplicates by request id.
	Again Retry = true
)

// do runs one request: each attempt under AttemptTimeout, asked again after
// a pause while the server cannot be reached (when retry allows), until it
// is answered or ctx ends. The error is already typed.
func (t *connTracker) do(ctx context.Context, op string, retry Retry, f func(ctx context.Context) error) error {
	return t.doWithin(ctx, op, retry, AttemptTimeout, f)
}

// doWithin is do with another bound on each attempt.
func (t *connTracker) doWithin(ctx context.Context, op string, retry Retry, attempt time.Duration, f func(ctx context.Context) error) error {
	for {
		actx, cancel := context.WithTimeout(ctx, attempt)
		err := f(actx)
		cancel()
		if err == nil {
			t.answered()
			return nil
		}
		if ctx.Err() != nil {
			return typed(op, ctx.Err())
		}
		if !retryable(err) {
			t.answered()
			return typed(op, err)
		}
		pause := t.failed()
		if !retry {
			return typed(op, err)
		}
		if werr := t.wait(ctx, pause); werr != nil {
			if errors.Is(werr, context.DeadlineExceeded) {
				// The caller's own deadline passed while the server was
				// away: that is an unreachable server, not a slow one.
				return typed(op, errors.Join(ErrUnreachable, err))
			}
			return typed(op, werr)
		}
	}
}
