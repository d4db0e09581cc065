package tui

import (
	"bytes"
	"context"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/ecoute/ecoute/themes"
)

// TestCallsScreenGolden runs the real program at 100×30: auto-login, first
// page, three rows down. The golden is the final screen without colours
// (go test ./tui -run Golden -update rewrites it).
func TestCallsScreenGolden(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	b := &fakeBackend{n: 120}
	th, _ := themes.Lookup("dark")
	a := NewApp(context.Background(), b, &fakeEngine{}, th, "localhost:7443", "ana", "pw")
	a.c.Loc = time.UTC
	tm := teatest.NewTestModel(t, a, teatest.WithInitialTermSize(100, 30))
	teatest.WaitFor(t, tm.Output(), func(out []byte) bool {
		return bytes.Contains(out, []byte("in all"))
	}, teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(20*time.Millisecond))
	for range 3 {
		tm.Send(tea.KeyPressMsg{Code: tea.KeyDown})
	}
	// Quit travels the same queue as the keys, so they are handled first.
	if err := tm.Quit(); err != nil {
		t.Fatal(err)
	}
	final := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(*App)
	screen := ansi.Strip(final.render())
	golden.RequireEqual(t, []byte(screen))
}
