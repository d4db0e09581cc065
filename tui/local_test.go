package tui

import (
	"bytes"
	"context"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/ecoute/ecoute/player"
	"github.com/ecoute/ecoute/themes"
)

// TestLocalPlayerRealEngine drives the one-screen player over the real
// engine (null output, real clock) and a real demo MP3: space plays, the
// position advances through the ticks, → seeks, q closes the track.
func TestLocalPlayerRealEngine(t *testing.T) {
	src, info, err := player.FileSource("../internal/demo/audio/01-facture.mp3")
	if err != nil {
		t.Fatal(err)
	}
	eng := player.NewEngine(player.EngineOptions{ForceNull: true})
	defer eng.Close()
	tr, err := eng.Open(src, info)
	if err != nil {
		t.Fatal(err)
	}
	th, _ := themes.Lookup("none")
	a := NewLocalApp(context.Background(), eng, tr, "01-facture.mp3", th)
	tm := teatest.NewTestModel(t, a, teatest.WithInitialTermSize(80, 12))
	wait := func(what string) {
		t.Helper()
		teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(what)) },
			teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(20*time.Millisecond))
	}
	wait("paused")
	tm.Send(tea.KeyPressMsg{Code: tea.KeySpace, Text: " "})
	wait("playing")
	waitTrack := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("timeout waiting for %s", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitTrack("1 s of playback", func() bool { return tr.Position() >= time.Second })
	tm.Send(tea.KeyPressMsg{Code: tea.KeyRight})
	waitTrack("the seek", func() bool { return tr.Position() >= 6*time.Second })
	time.Sleep(3 * positionRefresh) // let a tick show it
	tm.Send(tea.KeyPressMsg{Code: 'q', Text: "q"})
	final := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(*App)
	w := final.stack[0].(*localScreen).player
	if w.pos < 6*time.Second || !w.playing {
		t.Errorf("widget shows %v (playing %v); the ticks did not follow the track", w.pos, w.playing)
	}
	if w.track != nil {
		t.Error("q did not detach the track")
	}
	// Close closes the events channel.
	timeout := time.After(5 * time.Second)
	for open := true; open; {
		select {
		case _, open = <-tr.Events():
		case <-timeout:
			t.Fatal("track not closed after q")
		}
	}
	if tr.Playing() {
		t.Error("track still playing after q")
	}
}
