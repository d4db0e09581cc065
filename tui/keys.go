package tui

import (
	"slices"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// Every key is declared once, here, with its help text. The help overlay
// and the hint line are generated from these declarations (as k9s and
// lazygit do), never written by hand. A binding the role may not use, or
// that the console cannot do yet, stays declared: it is disabled and says
// why, so the help tells the user rather than hiding the feature.

// Binding is one declared key.
type Binding struct {
	key.Binding
	// Hint puts the binding on the hint line above the status bar.
	Hint bool
	// Reason, when set, says why the binding is disabled right now.
	Reason string
	// helpOnly marks a key of a mode not active now (the filter prompt
	// while it is closed): listed in the help, matched by nothing.
	helpOnly bool
}

// Group is a titled set of bindings in the help overlay.
type Group struct {
	Title string
	Keys  []Binding
}

func bind(hint bool, help, desc string, keys ...string) Binding {
	return Binding{Binding: key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc)), Hint: hint}
}

// disable turns b off (key.Matches then ignores it) and records why.
func (b *Binding) disable(reason string) {
	b.Reason = reason
	b.SetEnabled(false)
}

// is reports whether msg is one of b's keys, enabled or not.
func (b Binding) is(msg tea.KeyPressMsg) bool {
	return slices.Contains(b.Keys(), msg.String())
}

// on reports whether msg triggers the enabled binding b.
func on(msg tea.KeyPressMsg, bs ...Binding) bool {
	for _, b := range bs {
		if key.Matches(msg, b.Binding) {
			return true
		}
	}
	return false
}

// helpOnly copies bindings for the help only (keys of a mode not active).
func helpOnly(bs ...Binding) []Binding {
	out := make([]Binding, len(bs))
	for i, b := range bs {
		b.Hint, b.helpOnly = false, true
		out[i] = b
	}
	return out
}

// hints are the enabled bindings marked for the hint line, in order.
func hints(groups []Group) []key.Binding {
	var out []key.Binding
	for _, g := range groups {
		for _, b := range g.Keys {
			if b.Hint && b.Reason == "" {
				out = append(out, b.Binding)
			}
		}
	}
	return out
}

// disabledReason returns why msg does nothing, if it is the key of a
// disabled binding and of no enabled one.
func disabledReason(groups []Group, msg tea.KeyPressMsg) string {
	reason := ""
	for _, g := range groups {
		for _, b := range g.Keys {
			if b.helpOnly || !b.is(msg) {
				continue
			}
			if b.Reason == "" {
				return ""
			}
			if reason == "" {
				reason = b.Help().Desc + ": " + b.Reason
			}
		}
	}
	return reason
}

// GlobalKeys work on every screen.
type GlobalKeys struct {
	Quit Binding
	Back Binding
	Help Binding
}

func newGlobalKeys() GlobalKeys {
	return GlobalKeys{
		Quit: bind(false, "ctrl+c", keyQuit, "ctrl+c"),
		Back: bind(true, "q/esc", keyBack, "q", "esc"),
		Help: bind(true, "?", keyHelp, "?"),
	}
}

// LoginKeys are the login screen's keys.
type LoginKeys struct {
	Next   Binding
	Prev   Binding
	Submit Binding
	Quit   Binding
}

func newLoginKeys() LoginKeys {
	return LoginKeys{
		Next:   bind(true, "tab", keyNextField, "tab", "down"),
		Prev:   bind(false, "shift+tab", keyPrevField, "shift+tab", "up"),
		Submit: bind(true, "enter", keySubmit, "enter"),
		Quit:   bind(true, "esc", keyQuit, "esc", "ctrl+c"),
	}
}

// CallsKeys are the call list's keys.
type CallsKeys struct {
	Up       Binding
	Down     Binding
	PageUp   Binding
	PageDown Binding
	Top      Binding
	Bottom   Binding
	Open     Binding
	Reload   Binding
	Filter   Binding
	Sort     Binding
	Reverse  Binding
	// In the filter prompt.
	Apply    Binding
	Complete Binding
	Cancel   Binding
}

func newCallsKeys() CallsKeys {
	return CallsKeys{
		Up:       bind(true, "↑/k", keyUp, "up", "k"),
		Down:     bind(true, "↓/j", keyDown, "down", "j"),
		PageUp:   bind(false, "pgup", keyPageUp, "pgup", "b"),
		PageDown: bind(false, "pgdn", keyPageDown, "pgdown", "f"),
		Top:      bind(false, "g/home", keyTop, "home", "g"),
		Bottom:   bind(false, "G/end", keyBottom, "end", "G"),
		Open:     bind(true, "enter", keyOpen, "enter"),
		Reload:   bind(false, "r", keyReload, "r"),
		Filter:   bind(true, "/", keyFilter, "/"),
		Sort:     bind(true, "s", keySort, "s"),
		Reverse:  bind(false, "S", keyReverse, "S"),
		Apply:    bind(true, "enter", keyApplyFilter, "enter"),
		Complete: bind(true, "tab", keyComplete, "tab"),
		Cancel:   bind(true, "esc", keyCancelFilter, "esc"),
	}
}

// CallKeys move between the call screen's panes and within the notes.
type CallKeys struct {
	NextPane Binding
	PrevPane Binding
	NoteUp   Binding
	NoteDown Binding
	SeekNote Binding
}

func newCallKeys() CallKeys {
	return CallKeys{
		NextPane: bind(true, "tab", keyNextPane, "tab"),
		PrevPane: bind(false, "shift+tab", keyPrevPane, "shift+tab"),
		NoteUp:   bind(false, "↑/k", keyNoteUp, "up", "k"),
		NoteDown: bind(false, "↓/j", keyNoteDown, "down", "j"),
		SeekNote: bind(false, "enter", keySeekNote, "enter"),
	}
}

// PlayerKeys drive the player widget.
type PlayerKeys struct {
	Toggle  Binding
	Back5   Binding
	Fwd5    Binding
	Back30  Binding
	Fwd30   Binding
	Restart Binding
	Slower  Binding
	Faster  Binding
	VolUp   Binding
	VolDown Binding
	Mute    Binding
	Loop    Binding
	NextGap Binding
	PrevGap Binding
	// The parties of a two-party recording (one per channel).
	Party1   Binding
	Party2   Binding
	Balance1 Binding
	Balance2 Binding
}

func newPlayerKeys() PlayerKeys {
	k := PlayerKeys{
		Toggle:   bind(true, "space", keyPlayPause, "space"),
		Back5:    bind(true, "←/h", keyBack5, "left", "h"),
		Fwd5:     bind(true, "→/l", keyFwd5, "right", "l"),
		Back30:   bind(false, "shift+←/H", keyBack30, "shift+left", "H"),
		Fwd30:    bind(false, "shift+→/L", keyFwd30, "shift+right", "L"),
		Restart:  bind(false, "0", keyRestart, "0", "home"),
		Slower:   bind(false, "[", keySlower, "["),
		Faster:   bind(false, "]", keyFaster, "]"),
		VolUp:    bind(false, "+", keyVolUp, "+", "="),
		VolDown:  bind(false, "-", keyVolDown, "-"),
		Mute:     bind(false, "m", keyMute, "m"),
		Loop:     bind(false, "a", keyLoop, "a"),
		NextGap:  bind(false, "}", keyNextGap, "}"),
		PrevGap:  bind(false, "{", keyPrevGap, "{"),
		Party1:   bind(false, "1", keyParty1, "1"),
		Party2:   bind(false, "2", keyParty2, "2"),
		Balance1: bind(false, "<", keyBalance1, "<"),
		Balance2: bind(false, ">", keyBalance2, ">"),
	}
	return k
}

// disableTransport turns off every key that plays or moves the track.
func (k *PlayerKeys) disableTransport(reason string) {
	for _, b := range []*Binding{&k.Toggle, &k.Back5, &k.Fwd5, &k.Back30, &k.Fwd30, &k.Restart} {
		b.disable(reason)
	}
	k.disableControls(reason)
}

// disableControls turns off the listening aids (speed, volume, loop,
// silence jumps).
func (k *PlayerKeys) disableControls(reason string) {
	for _, b := range []*Binding{&k.Slower, &k.Faster, &k.VolUp, &k.VolDown, &k.Mute, &k.Loop, &k.NextGap, &k.PrevGap} {
		b.disable(reason)
	}
	k.disableParties(reason)
}

// parties are the two-party keys.
func (k *PlayerKeys) parties() []*Binding {
	return []*Binding{&k.Party1, &k.Party2, &k.Balance1, &k.Balance2}
}

// disableParties turns off the two-party keys (a one-party recording).
func (k *PlayerKeys) disableParties(reason string) {
	for _, b := range k.parties() {
		b.disable(reason)
	}
}

// enableParties turns the two-party keys back on, unless the role may not
// listen at all.
func (k *PlayerKeys) enableParties() {
	if !k.Toggle.Enabled() {
		return
	}
	for _, b := range k.parties() {
		b.Reason = ""
		b.SetEnabled(true)
	}
}

func (k PlayerKeys) group() Group {
	return Group{Title: helpGroupPlayer, Keys: []Binding{
		k.Toggle, k.Back5, k.Fwd5, k.Back30, k.Fwd30, k.Restart,
		k.Slower, k.Faster, k.VolUp, k.VolDown, k.Mute, k.Loop, k.PrevGap, k.NextGap,
		k.Party1, k.Party2, k.Balance1, k.Balance2,
	}}
}
