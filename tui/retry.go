package tui

import (
	"time"

	tea "charm.land/bubbletea/v2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Resilience: gRPC reconnects the channel by itself, but a call made while
// the server is away fails with Unavailable and is gone. Screens therefore
// send their reads through Common.rpc: a reply that says Unavailable comes
// back to the App as an unavailableMsg carrying the request, which the App
// issues again after a backoff, showing a banner meanwhile. The request
// keeps its tags (screen, sequence number), so a retry answering a screen
// that has moved on is dropped like any late reply. The session token is
// kept by the client, so nothing asks the user to log in again.

// unavailableMsg is a request that failed because the server was
// unreachable; redo issues it again.
type unavailableMsg struct {
	redo tea.Cmd
	err  error
}

// retryTickMsg counts down to the next retry; gen ignores ticks of an
// older countdown.
type retryTickMsg struct{ gen int }

// maxBackoff caps the wait between retries.
const maxBackoff = 30 * time.Second

// backoff is the wait before retry number attempt (1, 2, 4 … 30 s).
func backoff(attempt int) time.Duration {
	d := time.Second
	for i := 1; i < attempt && d < maxBackoff; i++ {
		d *= 2
	}
	return min(d, maxBackoff)
}

// unreachableAfter is how many failed attempts turn "reconnecting…" into
// "unreachable" in the status bar (the retries go on).
const unreachableAfter = 3

// rpc wraps a command whose result is an rpcResult so that an Unavailable
// failure is retried by the App instead of reaching the screen.
func (c *Common) rpc(cmd tea.Cmd) tea.Cmd {
	var wrapped tea.Cmd
	wrapped = func() tea.Msg {
		msg := cmd()
		if r, ok := msg.(rpcResult); ok && status.Code(r.rpcErr()) == codes.Unavailable {
			return unavailableMsg{redo: wrapped, err: r.rpcErr()}
		}
		return msg
	}
	return wrapped
}

// retrier is the App's side: the requests waiting and the countdown.
type retrier struct {
	pending []tea.Cmd
	attempt int // failed attempts in a row
	left    int // seconds before the next retry
	gen     int
}

func (r *retrier) active() bool { return len(r.pending) > 0 }

// failed queues a request; it starts a countdown unless one runs.
func (r *retrier) failed(redo tea.Cmd) tea.Cmd {
	r.pending = append(r.pending, redo)
	if r.left > 0 {
		return nil
	}
	r.attempt++
	r.left = int(backoff(r.attempt) / time.Second)
	r.gen++
	return r.tick()
}

func (r *retrier) tick() tea.Cmd {
	gen := r.gen
	return tea.Tick(time.Second, func(time.Time) tea.Msg { return retryTickMsg{gen: gen} })
}

// ticked counts one second; at zero it issues every pending request.
func (r *retrier) ticked(msg retryTickMsg) tea.Cmd {
	if msg.gen != r.gen || r.left <= 0 {
		return nil
	}
	r.left--
	if r.left > 0 {
		return r.tick()
	}
	cmds := r.pending
	r.pending = nil
	return tea.Batch(cmds...)
}

// succeeded resets the backoff once the server answers again.
func (r *retrier) succeeded() { r.attempt = 0 }
