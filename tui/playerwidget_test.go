package tui

import (
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/ecoute/ecoute/player"
)

// ctlTrack is a fake track with the listening aids, recording the calls.
type ctlTrack struct {
	*fakeTrack
	mu     sync.Mutex
	speed  float64
	vol    float64
	muted  bool
	la, lb time.Duration
	jumps  []bool
	// parties is 2 for a two-party recording.
	parties    int
	balance    float64
	partyMuted [2]bool
}

func (c *ctlTrack) SetSpeed(s float64) { c.mu.Lock(); c.speed = player.ClampSpeed(s); c.mu.Unlock() }
func (c *ctlTrack) Speed() float64     { c.mu.Lock(); defer c.mu.Unlock(); return c.speed }
func (c *ctlTrack) SetVolume(db float64) {
	c.mu.Lock()
	c.vol = min(player.MaxVolumeDB, max(player.MinVolumeDB, db))
	c.mu.Unlock()
}
func (c *ctlTrack) Volume() float64            { c.mu.Lock(); defer c.mu.Unlock(); return c.vol }
func (c *ctlTrack) SetMuted(m bool)            { c.mu.Lock(); c.muted = m; c.mu.Unlock() }
func (c *ctlTrack) Muted() bool                { c.mu.Lock(); defer c.mu.Unlock(); return c.muted }
func (c *ctlTrack) SetLoop(a, b time.Duration) { c.mu.Lock(); c.la, c.lb = a, b; c.mu.Unlock() }
func (c *ctlTrack) Loop() (time.Duration, time.Duration, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.la, c.lb, c.lb > c.la
}
func (c *ctlTrack) SetBalance(b float64) {
	c.mu.Lock()
	c.balance = min(1, max(-1, b))
	c.mu.Unlock()
}
func (c *ctlTrack) Balance() float64 { c.mu.Lock(); defer c.mu.Unlock(); return c.balance }
func (c *ctlTrack) SetPartyMuted(p int, m bool) {
	c.mu.Lock()
	c.partyMuted[p] = m
	c.mu.Unlock()
}
func (c *ctlTrack) PartyMuted(p int) bool { c.mu.Lock(); defer c.mu.Unlock(); return c.partyMuted[p] }
func (c *ctlTrack) Parties() int          { return max(1, c.parties) }
func (c *ctlTrack) SkipSilence(forward bool) (time.Duration, bool) {
	c.mu.Lock()
	c.jumps = append(c.jumps, forward)
	c.mu.Unlock()
	if forward {
		c.Seek(c.Position() + 3*time.Second)
		return c.Position(), true
	}
	return c.Position(), false
}

// runCtl runs a key's Cmd and feeds its message back, as Bubble Tea would.
func runCtl(t *testing.T, w *playerWidget, key string) {
	t.Helper()
	cmd, handled := w.Update(press(key))
	if !handled {
		t.Fatalf("key %q not handled", key)
	}
	if cmd != nil {
		w.Update(answer(cmd))
	}
}

// The speed, volume, mute, loop and silence keys drive the track's
// Controls and the widget shows the result.
func TestPlayerWidgetControls(t *testing.T) {
	c := testCommon(t, &fakeBackend{n: 1}, allFields...)
	w := newPlayerWidget(c)
	tr := &ctlTrack{fakeTrack: newFakeTrack(), speed: 1}
	cmd := w.Attach(tr)
	if cmd == nil {
		t.Fatal("no Cmd from Attach")
	}
	runCtl(t, w, "]")
	runCtl(t, w, "]")
	if tr.Speed() != 1.5 || w.cs.speed != 1.5 {
		t.Fatalf("after ] ]: track %v, widget %v", tr.Speed(), w.cs.speed)
	}
	runCtl(t, w, "[")
	runCtl(t, w, "-")
	runCtl(t, w, "-")
	runCtl(t, w, "m")
	if tr.Speed() != 1.25 || tr.Volume() != -6 || !tr.Muted() {
		t.Fatalf("speed %v volume %v muted %v", tr.Speed(), tr.Volume(), tr.Muted())
	}
	view := w.View()
	for _, want := range []string{"1.25×", "-6 dB", english.T(playerMutedText)} {
		if !strings.Contains(view, want) {
			t.Errorf("view lacks %q:\n%s", want, view)
		}
	}
	// A–B loop: a at 0:10, a at 0:14 → loop; a again clears.
	w.pos = 10 * time.Second
	runCtl(t, w, "a")
	if !strings.Contains(w.View(), "loop from 0:10") {
		t.Errorf("A not shown:\n%s", w.View())
	}
	w.pos = 14 * time.Second
	runCtl(t, w, "a")
	if a, b, ok := tr.Loop(); !ok || a != 10*time.Second || b != 14*time.Second {
		t.Fatalf("loop %v–%v %v", a, b, ok)
	}
	if !strings.Contains(w.View(), "loop 0:10–0:14") {
		t.Errorf("loop not shown:\n%s", w.View())
	}
	runCtl(t, w, "a")
	if _, _, ok := tr.Loop(); ok {
		t.Fatal("third a did not clear the loop")
	}
	// Silence jumps: forward moves, backward finds nothing and says so.
	runCtl(t, w, "}")
	runCtl(t, w, "{")
	if len(tr.jumps) != 2 || !tr.jumps[0] || tr.jumps[1] {
		t.Fatalf("jumps %v", tr.jumps)
	}
	if !strings.Contains(w.View(), english.T(playerNoGapText)) {
		t.Errorf("no-gap note not shown:\n%s", w.View())
	}
	// shift+→ seeks 30 s.
	before := w.pos
	cmd, _ = w.Update(tea.KeyPressMsg{Code: tea.KeyRight, Mod: tea.ModShift})
	if cmd == nil || w.pos != before+30*time.Second {
		t.Fatalf("shift+right: pos %v, want %v", w.pos, before+30*time.Second)
	}
}

// On a two-party recording, 1 and 2 mute each party and < > move the
// balance; the widget shows each party's level. On one party the keys are
// listed but disabled, with the reason.
func TestPlayerWidgetParties(t *testing.T) {
	c := testCommon(t, &fakeBackend{n: 1}, allFields...)
	w := newPlayerWidget(c)
	tr := &ctlTrack{fakeTrack: newFakeTrack(), speed: 1, parties: 2}
	w.Attach(tr) // its Cmd only syncs the state the first key reports too
	runCtl(t, w, "2")
	if !tr.PartyMuted(1) || tr.PartyMuted(0) {
		t.Fatalf("after 2: muted %v %v", tr.PartyMuted(0), tr.PartyMuted(1))
	}
	runCtl(t, w, "<")
	runCtl(t, w, "<")
	if tr.Balance() != -0.5 {
		t.Fatalf("after < <: balance %v", tr.Balance())
	}
	if view := w.View(); !strings.Contains(view, "1: 100 %") || !strings.Contains(view, "2: muted") {
		t.Errorf("view:\n%s", view)
	}
	runCtl(t, w, "2")
	runCtl(t, w, ">")
	if view := w.View(); !strings.Contains(view, "2: 75 %") {
		t.Errorf("party 2 back at 75%%:\n%s", view)
	}
	// One party: listed, disabled, with the reason.
	w.Attach(&ctlTrack{fakeTrack: newFakeTrack(), speed: 1})
	if r := disabledReason([]Group{w.group()}, press("1")); !strings.Contains(r, english.T(reasonOneParty)) {
		t.Fatalf("1 on a mono recording: reason %q", r)
	}
}

// A track without Controls leaves the keys listed but disabled, with the
// reason.
func TestPlayerWidgetWithoutControls(t *testing.T) {
	c := testCommon(t, &fakeBackend{n: 1}, allFields...)
	w := newPlayerWidget(c)
	w.Attach(newFakeTrack())
	if r := disabledReason([]Group{w.group()}, press("]")); !strings.Contains(r, english.T(reasonNoControls)) {
		t.Fatalf("] reason %q", r)
	}
}
