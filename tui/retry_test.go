package tui

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/ecoute/ecoute/client"
	"github.com/ecoute/ecoute/internal/clock"
)

// connBackend is the fake backend with a connection the test drives.
type connBackend struct {
	*fakeBackend
	events chan client.ConnEvent
}

func (b connBackend) ConnEvents() <-chan client.ConnEvent { return b.events }

// TestConnectionBanner: while the gateway says requests wait for the
// server, the console shows the banner with the countdown and the number
// waiting, and the status bar says reconnecting, then unreachable; the
// screen that asked stays loading, with no error. When the gateway says
// the server answered, the banner goes and the layout gets its line back.
func TestConnectionBanner(t *testing.T) {
	b := connBackend{fakeBackend: &fakeBackend{n: 5}, events: make(chan client.ConnEvent, 1)}
	c := testCommon(t, b, allFields...)
	clk := clock.NewFake(time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC))
	c.Clock = clk
	a := &App{c: c}
	a.stack = []Screen{newCallsScreen(c)}
	a.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	s := a.top().(*callsScreen)
	s.Init() // the page request is in flight, waiting in the gateway

	wait := a.waitConn()
	b.events <- client.ConnEvent{State: client.ConnRetrying, Waiting: 1, NextRetry: clk.Now().Add(2 * time.Second), Failures: 2}
	_, next := a.Update(wait())
	if next == nil {
		t.Fatal("the App stopped listening to the connection")
	}
	out := ansi.Strip(a.render())
	for _, want := range []string{"connection lost — retrying in 2s", "(1 request waiting)", english.T(statusConnRetry)} {
		if !strings.Contains(out, want) {
			t.Errorf("screen lacks %q:\n%s", want, out)
		}
	}
	if s.list.err != "" || !s.list.loading {
		t.Errorf("the screen was told of the failure (err %q, loading %v); it should just wait", s.list.err, s.list.loading)
	}
	if lines := strings.Count(out, "\n") + 1; lines != 30 {
		t.Errorf("with the banner the screen has %d lines, want 30", lines)
	}
	// A second later the countdown says 1s.
	clk.Advance(time.Second)
	if out := ansi.Strip(a.render()); !strings.Contains(out, "retrying in 1s") {
		t.Errorf("countdown after 1 s:\n%s", out)
	}
	// Several failures: unreachable.
	b.events <- client.ConnEvent{State: client.ConnDown, Waiting: 1, NextRetry: clk.Now().Add(8 * time.Second), Failures: 4}
	a.Update(a.waitConn()())
	if out := ansi.Strip(a.render()); !strings.Contains(out, english.T(statusConnDown)) {
		t.Errorf("after 4 failures:\n%s", out)
	}
	// Back: the banner goes.
	b.events <- client.ConnEvent{State: client.ConnUp}
	a.Update(a.waitConn()())
	out = ansi.Strip(a.render())
	if a.bannerShown() || strings.Contains(out, "connection lost") || !strings.Contains(out, english.T(statusConnOK)) {
		t.Errorf("after reconnect:\n%s", out)
	}
	if lines := strings.Count(out, "\n") + 1; lines != 30 {
		t.Errorf("after the banner the screen has %d lines, want 30", lines)
	}
}
