package tui

import (
	"context"
	"fmt"
	"time"

	tea "charm.land/bubbletea/v2"
)

// Addressed requests. Every asynchronous request a screen makes — a
// server call, a disk read, a timer — goes through one envelope: it names
// the screen that asked and what it asked (a key such as "page"), and its
// answer comes back wrapped in that address. The App routes the answer to
// that screen wherever it is in the stack, not only when it is on top,
// and drops it when the screen is gone or a newer request of the same key
// superseded it (so screens write no guards of their own). The requests in
// flight are counted, so tests can wait for a settled screen. A screen's
// requests run under its own context, cancelled when it closes.
//
// There is one timeout, and it is the gateway's (client.AttemptTimeout per
// attempt): a request waiting for the server to come back waits until its
// screen closes.

// appID addresses the App itself (the requests it makes after a login).
const appID = 0

// address names who asked what.
type address struct {
	screen int    // the asking screen's id
	key    string // the kind of request; "" is never superseded
	seq    int    // this request's number
}

func (a address) slot() string { return fmt.Sprintf("%d/%s", a.screen, a.key) }

// replyMsg is the answer to an addressed request: the screen's own
// message, and the request's error (nil on success) for the App to read
// the connection state and the session from.
type replyMsg struct {
	to      address
	msg     tea.Msg
	err     error
	counted bool // a request counted in flight (not a timer)
}

// discarder is a reply that holds something to release when it is dropped
// (an opened audio track whose screen is gone).
type discarder interface{ discard() tea.Cmd }

// requests is the App's side of the envelope: who is waiting for what.
type requests struct {
	seq    int
	latest map[string]int // slot → the newest request's number
	ctxs   map[int]screenCtx
}

type screenCtx struct {
	ctx    context.Context
	cancel context.CancelFunc
}

// request runs do in a Cmd under the screen's context and addresses its
// answer to the screen. do returns the screen's message and the error it
// carries (nil on success).
func (c *Common) request(screen int, key string, do func(ctx context.Context) (tea.Msg, error)) tea.Cmd {
	to := c.reqs.address(screen, key)
	c.inflight.Add(1)
	ctx := c.screenContext(screen)
	return func() tea.Msg {
		msg, err := do(ctx)
		return replyMsg{to: to, msg: msg, err: err, counted: true}
	}
}

// after delivers msg to the screen after d, dropped like a late reply if
// the screen has gone or a newer timer of the same key was set.
func (c *Common) after(screen int, key string, d time.Duration, msg tea.Msg) tea.Cmd {
	to := c.reqs.address(screen, key)
	return c.timer(d, func(time.Time) tea.Msg { return replyMsg{to: to, msg: msg} })
}

// task runs a local job (disk) for the screen in a Cmd, addressed like a
// request but not a server call.
func (c *Common) task(screen int, key string, do func() tea.Msg) tea.Cmd {
	to := c.reqs.address(screen, key)
	c.inflight.Add(1)
	return func() tea.Msg { return replyMsg{to: to, msg: do(), counted: true} }
}

func (r *requests) address(screen int, key string) address {
	r.seq++
	to := address{screen: screen, key: key, seq: r.seq}
	if key != "" {
		if r.latest == nil {
			r.latest = map[string]int{}
		}
		r.latest[to.slot()] = to.seq
	}
	return to
}

// current tells whether a reply is the newest of its slot.
func (r *requests) current(to address) bool {
	return to.key == "" || r.latest[to.slot()] == to.seq
}

// screenContext is the context a screen's requests run under; the App
// cancels it when the screen closes.
func (c *Common) screenContext(screen int) context.Context {
	if sc, ok := c.reqs.ctxs[screen]; ok {
		return sc.ctx
	}
	return c.Ctx
}

// opened gives a new screen its context.
func (c *Common) opened(screen int) {
	if c.reqs.ctxs == nil {
		c.reqs.ctxs = map[int]screenCtx{}
	}
	ctx, cancel := context.WithCancel(c.Ctx)
	c.reqs.ctxs[screen] = screenCtx{ctx: ctx, cancel: cancel}
}

// closed cancels a screen's requests and forgets its slots.
func (c *Common) closed(screen int) {
	if sc, ok := c.reqs.ctxs[screen]; ok {
		sc.cancel()
		delete(c.reqs.ctxs, screen)
	}
}
