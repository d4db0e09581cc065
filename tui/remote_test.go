package tui

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"google.golang.org/protobuf/types/known/timestamppb"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/client"
	"github.com/ecoute/ecoute/internal/clock"
)

// pairingBackend is a gateway with a pairing: it hands out codes and keeps
// what the console publishes.
type pairingBackend struct {
	fakeBackend
	mu        sync.Mutex
	codes     int
	published []*ecoutev1.PlaybackState
	followers int
	clock     clock.Clock
}

func (b *pairingBackend) CreatePairing(context.Context) (*ecoutev1.CreatePairingResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.codes++
	return &ecoutev1.CreatePairingResponse{PairingId: "p-1", Code: fmt.Sprintf("BCDF-%04d", b.codes),
		CodeExpiresAt: timestamppb.New(b.clock.Now().Add(5 * time.Minute))}, nil
}

func (b *pairingBackend) PublishPlayback(_ context.Context, id string, st *ecoutev1.PlaybackState) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if id != "p-1" {
		return 0, client.ErrNotFound
	}
	b.published = append(b.published, st)
	return b.followers, nil
}

func (b *pairingBackend) last(t *testing.T) *ecoutev1.PlaybackState {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.published) == 0 {
		t.Fatal("nothing published")
	}
	return b.published[len(b.published)-1]
}

// driveRemote is driveApp that leaves the pairing's beat to the test.
func driveRemote(a *App, cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	switch m := cmd().(type) {
	case nil, playerTickMsg, tea.QuitMsg, clearStatusMsg:
	case replyMsg:
		if _, beat := m.msg.(pairingTickMsg); beat {
			return
		}
		_, next := a.Update(m)
		driveRemote(a, next)
	case tea.BatchMsg:
		for _, c := range m {
			driveRemote(a, c)
		}
	default:
		_, next := a.Update(m)
		driveRemote(a, next)
	}
}

// TestRemoteSoundPublishesThePlayer is a console served over SSH: it
// starts logged in, gets a pairing code and says where the sound is and
// how to get it; its player publishes every change; a session that ends
// quits instead of asking for a password.
func TestRemoteSoundPublishesThePlayer(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 11, 30, 14, 0, 0, 0, time.UTC))
	b := &pairingBackend{fakeBackend: fakeBackend{n: 5}, clock: clk}
	c := testCommon(t, b, allFields...)
	eng := &fakeEngine{}
	a := newApp(context.Background(), b, eng, c.Theme, "ssh")
	a.c.Loc, a.c.tick, a.c.Clock = time.UTC, instantTick, clk
	a.stack = []Screen{newLoginScreen(a.c, "", "")}
	a.startWith(&ecoutev1.LoginResponse{Token: "t", Principal: &ecoutev1.Principal{Login: "ana", Role: "supervisor"}},
		&Companion{Command: "ecoute listen --server srv:7443"})
	a.Update(tea.WindowSizeMsg{Width: 160, Height: 40})
	driveRemote(a, a.Init())
	if _, ok := a.top().(*callsScreen); !ok {
		t.Fatalf("started on %T, want the call list", a.top())
	}
	out := ansi.Strip(a.render())
	for _, want := range []string{"(code valid until 14:05; no sound plays on this server)", "ecoute listen --server srv:7443 BCDF-0001",
		"not here: ecoute listen BCDF-0001"} {
		if !strings.Contains(out, want) {
			t.Errorf("screen lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, english.T(loginHeading)) {
		t.Errorf("login screen shown:\n%s", out)
	}

	// Open a call: the pairing is told which, paused at 0.
	_, cmd := a.Update(OpenCallMsg{ID: "call-002"})
	driveRemote(a, cmd)
	if st := b.last(t); st.CallId != "call-002" || st.Playing || st.GetPosition().AsDuration() != 0 {
		t.Fatalf("published on open: %v", st)
	}
	if out := ansi.Strip(a.render()); !strings.Contains(out, "For the sound, run on your machine: ecoute listen --server srv:7443 BCDF-0001") {
		t.Errorf("the call screen does not say how to get the sound:\n%s", out)
	}
	// Play, then 5 s forward: each is published, in order.
	_, cmd = a.Update(press("space"))
	driveRemote(a, cmd)
	if st := b.last(t); !st.Playing || st.CallId != "call-002" {
		t.Errorf("published after space: %v", st)
	}
	seq := b.last(t).Sequence
	_, cmd = a.Update(press("right"))
	driveRemote(a, cmd)
	if st := b.last(t); st.GetPosition().AsDuration() != 5*time.Second || st.Sequence <= seq {
		t.Errorf("published after → : %v (sequence after %d)", st, seq)
	}
	// A companion follows: the console says so at the next answer.
	b.mu.Lock()
	b.followers = 1
	b.mu.Unlock()
	clk.Advance(pairingBeat)
	_, cmd = a.Update(press("space"))
	driveRemote(a, cmd)
	if out := ansi.Strip(a.render()); !strings.Contains(out, "Sound on your machine: 1 companion follows") ||
		strings.Contains(out, "BCDF-0001") {
		t.Errorf("followed player:\n%s", out)
	}
	// While paused, the beat sends the state again; it learns that the
	// companion left, and a fresh code is asked (the old one was used).
	b.mu.Lock()
	b.followers = 0
	n := len(b.published)
	b.mu.Unlock()
	clk.Advance(pairingBeat)
	_, cmd = a.Update(pairingTickMsg{})
	driveRemote(a, cmd)
	if b.mu.Lock(); len(b.published) != n+1 || b.codes != 2 {
		t.Errorf("beat: %d publications (want %d), %d codes (want 2)", len(b.published), n+1, b.codes)
	}
	b.mu.Unlock()
	if out := ansi.Strip(a.render()); !strings.Contains(out, "BCDF-0002") {
		t.Errorf("new code not shown:\n%s", out)
	}
	// Leaving the call stops the companions.
	_, cmd = a.Update(press("q"))
	driveRemote(a, cmd)
	if st := b.last(t); st.CallId != "" || st.Playing {
		t.Errorf("published on leaving the call: %v", st)
	}
	// The session ends: the console quits, it does not ask for a password.
	err := fmt.Errorf("list calls: %w", client.ErrSessionEnded)
	_, cmd = a.Update(replyMsg{to: address{screen: a.top().ID()}, err: err, msg: callsPageMsg{err: err}})
	if cmd == nil {
		t.Fatal("no quit after the session ended")
	}
	if _, ok := cmd().(tea.QuitMsg); !ok || !a.ended {
		t.Errorf("session end: %T, ended %v", cmd(), a.ended)
	}
}
