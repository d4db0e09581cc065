package tui

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

func TestBackoff(t *testing.T) {
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second}
	for i, w := range want {
		if got := backoff(i + 1); got != w {
			t.Errorf("backoff(%d) = %v, want %v", i+1, got, w)
		}
	}
}

// TestConnectionLostRetries: the server goes away while the first page is
// asked for. The console shows the banner and "reconnecting…", keeps the
// request (the screen is still loading, no error), retries after the
// backoff, and when the server is back the list fills in, same session.
func TestConnectionLostRetries(t *testing.T) {
	b := &fakeBackend{n: 5, down: true}
	c := testCommon(t, b, allFields...)
	a := &App{c: c}
	a.stack = []Screen{newCallsScreen(c)}
	a.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	s := a.top().(*callsScreen)
	principal := c.Principal

	msg := s.Init()()
	if _, ok := msg.(unavailableMsg); !ok {
		t.Fatalf("an Unavailable reply reached the screen as %T", msg)
	}
	_, tick := a.Update(msg)
	if tick == nil {
		t.Fatal("no retry scheduled")
	}
	out := ansi.Strip(a.render())
	for _, want := range []string{"connection lost — retrying in 1s", statusConnRetry} {
		if !strings.Contains(out, want) {
			t.Errorf("screen lacks %q:\n%s", want, out)
		}
	}
	if s.err != "" || !s.loading {
		t.Errorf("the screen was told of the failure (err %q, loading %v); it should just wait", s.err, s.loading)
	}
	if lines := strings.Count(out, "\n") + 1; lines != 30 {
		t.Errorf("with the banner the screen has %d lines, want 30", lines)
	}

	// Still down at the first retry: the wait doubles.
	_, redo := a.Update(tick())
	if redo == nil {
		t.Fatal("the countdown did not reissue the request")
	}
	_, tick = a.Update(redo())
	if a.retry.left != 2 || !strings.Contains(ansi.Strip(a.render()), "retrying in 2s") {
		t.Errorf("second wait %ds, want 2", a.retry.left)
	}
	_, tick = a.Update(tick()) // tea.Tick's command fires once: keep the next one

	// Back: the same request, same session, no login.
	b.mu.Lock()
	b.down = false
	b.mu.Unlock()
	_, redo = a.Update(tick())
	if redo == nil {
		t.Fatal("no retry after the second wait")
	}
	a.Update(redo())
	if len(s.rows) != 5 || a.bannerShown() || c.Conn != connOK || c.Principal != principal {
		t.Errorf("after reconnect: %d rows, banner %v, conn %v", len(s.rows), a.bannerShown(), c.Conn)
	}
	out = ansi.Strip(a.render())
	if strings.Contains(out, "connection lost") || !strings.Contains(out, statusConnOK) {
		t.Errorf("after reconnect:\n%s", out)
	}
}
