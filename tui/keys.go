package tui

import (
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/ecoute/ecoute/internal/i18n"
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

func bind(tr *i18n.Printer, hint bool, help, desc string, keys ...string) Binding {
	return Binding{Binding: key.NewBinding(key.WithKeys(keys...), key.WithHelp(keyLabel(tr, help), desc)), Hint: hint}
}

// keyLabel writes a key's help label in the user's language: the special
// keys by their name on that keyboard ("entrée", "échap"), letters as they
// are; "q/esc" is done part by part.
func keyLabel(tr *i18n.Printer, help string) string {
	parts := strings.Split(help, "/")
	for i, p := range parts {
		if k := i18n.Key("keyname." + p); i18n.Has(tr.Lang(), k) {
			parts[i] = tr.T(k)
		}
	}
	return strings.Join(parts, "/")
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

func newGlobalKeys(tr *i18n.Printer) GlobalKeys {
	return GlobalKeys{
		Quit: bind(tr, false, "ctrl+c", tr.T(keyQuit), "ctrl+c"),
		Back: bind(tr, true, "q/esc", tr.T(keyBack), "q", "esc"),
		Help: bind(tr, true, "?", tr.T(keyHelp), "?"),
	}
}

// LoginKeys are the login screen's keys.
type LoginKeys struct {
	Next   Binding
	Prev   Binding
	Submit Binding
	Quit   Binding
}

func newLoginKeys(tr *i18n.Printer) LoginKeys {
	return LoginKeys{
		Next:   bind(tr, true, "tab", tr.T(keyNextField), "tab", "down"),
		Prev:   bind(tr, false, "shift+tab", tr.T(keyPrevField), "shift+tab", "up"),
		Submit: bind(tr, true, "enter", tr.T(keySubmit), "enter"),
		Quit:   bind(tr, true, "esc", tr.T(keyQuit), "esc", "ctrl+c"),
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

func newCallsKeys(tr *i18n.Printer) CallsKeys {
	return CallsKeys{
		Up:       bind(tr, true, "↑/k", tr.T(keyUp), "up", "k"),
		Down:     bind(tr, true, "↓/j", tr.T(keyDown), "down", "j"),
		PageUp:   bind(tr, false, "pgup", tr.T(keyPageUp), "pgup", "b"),
		PageDown: bind(tr, false, "pgdn", tr.T(keyPageDown), "pgdown", "f"),
		Top:      bind(tr, false, "g/home", tr.T(keyTop), "home", "g"),
		Bottom:   bind(tr, false, "G/end", tr.T(keyBottom), "end", "G"),
		Open:     bind(tr, true, "enter", tr.T(keyOpen), "enter"),
		Reload:   bind(tr, false, "r", tr.T(keyReload), "r"),
		Filter:   bind(tr, true, "/", tr.T(keyFilter), "/"),
		Sort:     bind(tr, true, "s", tr.T(keySort), "s"),
		Reverse:  bind(tr, false, "S", tr.T(keyReverse), "S"),
		Apply:    bind(tr, true, "enter", tr.T(keyApplyFilter), "enter"),
		Complete: bind(tr, true, "tab", tr.T(keyComplete), "tab"),
		Cancel:   bind(tr, true, "esc", tr.T(keyCancelFilter), "esc"),
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

func newCallKeys(tr *i18n.Printer) CallKeys {
	return CallKeys{
		NextPane: bind(tr, true, "tab", tr.T(keyNextPane), "tab"),
		PrevPane: bind(tr, false, "shift+tab", tr.T(keyPrevPane), "shift+tab"),
		NoteUp:   bind(tr, false, "↑/k", tr.T(keyNoteUp), "up", "k"),
		NoteDown: bind(tr, false, "↓/j", tr.T(keyNoteDown), "down", "j"),
		SeekNote: bind(tr, false, "enter", tr.T(keySeekNote), "enter"),
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

func newPlayerKeys(tr *i18n.Printer) PlayerKeys {
	k := PlayerKeys{
		Toggle:   bind(tr, true, "space", tr.T(keyPlayPause), "space"),
		Back5:    bind(tr, true, "←/h", tr.T(keyBack5), "left", "h"),
		Fwd5:     bind(tr, true, "→/l", tr.T(keyFwd5), "right", "l"),
		Back30:   bind(tr, false, "shift+←/H", tr.T(keyBack30), "shift+left", "H"),
		Fwd30:    bind(tr, false, "shift+→/L", tr.T(keyFwd30), "shift+right", "L"),
		Restart:  bind(tr, false, "0", tr.T(keyRestart), "0", "home"),
		Slower:   bind(tr, false, "[", tr.T(keySlower), "["),
		Faster:   bind(tr, false, "]", tr.T(keyFaster), "]"),
		VolUp:    bind(tr, false, "+", tr.T(keyVolUp), "+", "="),
		VolDown:  bind(tr, false, "-", tr.T(keyVolDown), "-"),
		Mute:     bind(tr, false, "m", tr.T(keyMute), "m"),
		Loop:     bind(tr, false, "a", tr.T(keyLoop), "a"),
		NextGap:  bind(tr, false, "}", tr.T(keyNextGap), "}"),
		PrevGap:  bind(tr, false, "{", tr.T(keyPrevGap), "{"),
		Party1:   bind(tr, false, "1", tr.T(keyParty1), "1"),
		Party2:   bind(tr, false, "2", tr.T(keyParty2), "2"),
		Balance1: bind(tr, false, "<", tr.T(keyBalance1), "<"),
		Balance2: bind(tr, false, ">", tr.T(keyBalance2), ">"),
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

func (k PlayerKeys) group(tr *i18n.Printer) Group {
	return Group{Title: tr.T(helpGroupPlayer), Keys: []Binding{
		k.Toggle, k.Back5, k.Fwd5, k.Back30, k.Fwd30, k.Restart,
		k.Slower, k.Faster, k.VolUp, k.VolDown, k.Mute, k.Loop, k.PrevGap, k.NextGap,
		k.Party1, k.Party2, k.Balance1, k.Balance2,
	}}
}
