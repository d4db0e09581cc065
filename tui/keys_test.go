package tui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
)

// TestDisabledKeysSayWhy: a role that may list calls but not open or hear
// them sees the keys in the help, dimmed with the reason; the hint line
// leaves them out; pressing one says why instead of doing nothing.
func TestDisabledKeysSayWhy(t *testing.T) {
	b := &fakeBackend{n: 5}
	c := testCommon(t, b, allFields...)
	c.Principal = &ecoutev1.Principal{Login: "cli", Role: "client", VisibleFields: allFields,
		AllowedMethods: []string{methodListCalls}}
	a := &App{c: c}
	a.stack = []Screen{newCallsScreen(c)}
	a.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	s := a.top().(*callsScreen)
	a.Update(s.Init()())

	out := ansi.Strip(a.render())
	hintLine := strings.Split(out, "\n")[38]
	if strings.Contains(hintLine, english.T(keyOpen)) || !strings.Contains(hintLine, english.T(keyFilter)) {
		t.Errorf("hint line %q: want filter, not open", hintLine)
	}
	_, cmd := a.Update(press("enter"))
	if cmd == nil {
		t.Fatal("enter on a disabled binding did nothing visible")
	}
	msg := cmd()
	if _, ok := msg.(OpenCallMsg); ok {
		t.Fatal("a disabled binding opened the call")
	}
	a.Update(msg)
	if want := "your role (client) may not open calls"; !strings.Contains(a.status.Text, want) {
		t.Errorf("status %q, want the reason %q", a.status.Text, want)
	}

	a.Update(press("?"))
	out = ansi.Strip(a.render())
	for _, want := range []string{"open call — your role (client) may not open calls", english.T(keyFilter), english.T(keySort)} {
		if !strings.Contains(out, want) {
			t.Errorf("help lacks %q:\n%s", want, out)
		}
	}
}

// TestPlayerKeysDisabledForRole: the call screen of a role that may not
// listen lists the transport keys and the listening aids (speed, volume…)
// with the reason.
func TestPlayerKeysDisabledForRole(t *testing.T) {
	c := testCommon(t, &fakeBackend{n: 1}, allFields...)
	c.Principal.Role = "client"
	c.Principal.AllowedMethods = []string{methodListCalls, methodGetCall}
	cs := newCallScreen(c, "call-001")
	var found, speed bool
	for _, g := range cs.Keys() {
		for _, b := range g.Keys {
			if b.Help().Desc == english.T(keyPlayPause) {
				found = b.Reason == "your role (client) may not listen to calls" && !b.Enabled()
			}
			if b.Help().Desc == english.T(keyFaster) {
				speed = b.Reason == "your role (client) may not listen to calls" && !b.Enabled()
			}
		}
	}
	if !found || !speed {
		t.Errorf("play/pause disabled with reason: %v; speed disabled with reason: %v", found, speed)
	}
	// Allowed roles get working transport keys.
	c.Principal.AllowedMethods = nil
	cs = newCallScreen(c, "call-001")
	if r := disabledReason(cs.Keys(), press("space")); r != "" {
		t.Errorf("space disabled for a role that may listen: %q", r)
	}
	if r := disabledReason(cs.Keys(), tea.KeyPressMsg{Code: ']', Text: "]"}); r != "" {
		t.Errorf("] (faster) disabled for a role that may listen: %q", r)
	}
}
