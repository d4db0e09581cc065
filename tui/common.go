// Package tui is the Écoute console: one root App (the only tea.Model) that
// routes messages to small screens. Screens never do I/O in Update: every
// gRPC and audio call runs in a tea.Cmd, and its result comes back as a
// message that names what it answers (screen, call id, request number), so a
// late reply never lands on the wrong screen.
package tui

import (
	"context"
	"slices"
	"sync/atomic"
	"time"

	tea "charm.land/bubbletea/v2"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/client"
	"github.com/ecoute/ecoute/internal/clock"
	"github.com/ecoute/ecoute/internal/i18n"
	"github.com/ecoute/ecoute/player"
	"github.com/ecoute/ecoute/themes"
)

// Backend is what the console asks of the server: the client's gateway
// (*client.Client, or a fake in tests).
type Backend = client.Gateway

// Engine is the audio engine as the console uses it; *player.Engine is one.
type Engine interface {
	Open(src player.Source, info player.Info) (player.Track, error)
	Output() player.OutputKind
	OutputReason() string
}

// Common is shared by the App and every screen.
type Common struct {
	Ctx        context.Context
	Width      int
	Height     int
	Theme      themes.Theme
	Styles     themes.Styles
	Keys       GlobalKeys
	Backend    Backend // nil for the local player
	Engine     Engine
	ServerAddr string
	Principal  *ecoutev1.Principal
	Conn       client.ConnEvent
	// Loc is the time zone dates are shown in; nil means the local one.
	Loc *time.Location
	// Drafts keeps unconfirmed evaluations on disk; nil when the cache
	// directory could not be opened (the status bar says so).
	Drafts *DraftStore
	// KeyOverrides rebinds keys from the config file.
	KeyOverrides KeyOverrides
	// Clock reads the time for countdowns; nil is the real one.
	Clock clock.Clock
	// Tr writes the console's messages in the user's language; nil is
	// English.
	Tr *i18n.Printer
	// Remote is the pairing of a console whose sound plays elsewhere
	// (served over SSH); nil when the sound plays here.
	Remote *remoteSound

	// tick makes timers; nil is tea.Tick (tests fire them at once).
	tick func(time.Duration, func(time.Time) tea.Msg) tea.Cmd

	seq      int
	reqs     requests
	inflight atomic.Int64 // addressed requests not answered yet
}

// T is the message k in the user's language, formatted with args.
func (c *Common) T(k i18n.Key, args ...any) string { return c.printer().T(k, args...) }

// printer is the user's language's printer (English when none is set).
func (c *Common) printer() *i18n.Printer {
	if c.Tr == nil {
		return english
	}
	return c.Tr
}

var english = i18n.New(i18n.English)

// timer is tea.Tick, or the tests' instant one.
func (c *Common) timer(d time.Duration, f func(time.Time) tea.Msg) tea.Cmd {
	if c.tick == nil {
		return tea.Tick(d, f)
	}
	return c.tick(d, f)
}

func (c *Common) now() time.Time {
	if c.Clock == nil {
		return clock.Real{}.Now()
	}
	return c.Clock.Now()
}

// NextSeq returns a number unique within the process run; requests and
// screens are tagged with it.
func (c *Common) NextSeq() int {
	c.seq++
	return c.seq
}

// Sees reports whether the principal may receive a field ("call.agent_name").
// A backend that lists no visible fields has already stripped what the role
// may not see, so then everything received is shown.
func (c *Common) Sees(field string) bool {
	if c.Principal == nil || len(c.Principal.GetVisibleFields()) == 0 {
		return true
	}
	return slices.Contains(c.Principal.GetVisibleFields(), field)
}

// May reports whether the principal may call a gRPC method (full name,
// e.g. "/ecoute.v1.CallService/StreamAudio"). As with Sees, an empty list
// means the backend did not say, and the server decides.
func (c *Common) May(method string) bool {
	if c.Principal == nil || len(c.Principal.GetAllowedMethods()) == 0 {
		return true
	}
	return slices.Contains(c.Principal.GetAllowedMethods(), method)
}

// role is the principal's role, for the sentences that name it.
func (c *Common) role() string { return c.roleText(c.Principal.GetRole()) }

// roleText is a role's name in the user's language (the server's code when
// the catalogue lacks it).
func (c *Common) roleText(role string) string {
	k := i18n.Key("role." + role)
	if role != "" && i18n.Has(c.printer().Lang(), k) {
		return c.T(k)
	}
	return role
}

// The methods whose availability changes what the console shows.
const (
	methodListCalls   = "/ecoute.v1.CallService/ListCalls"
	methodGetCall     = "/ecoute.v1.CallService/GetCall"
	methodStreamAudio = "/ecoute.v1.CallService/StreamAudio"
	// Reading evaluations allows filtering calls by score.
	methodGetEvaluation = "/ecoute.v1.EvaluationService/GetEvaluation"
)

func (c *Common) loc() *time.Location {
	if c.Loc == nil {
		return time.Local
	}
	return c.Loc
}

// Screen is one page of the console.
type Screen interface {
	// ID is the screen's number, unique in the run: its requests'
	// answers are addressed to it.
	ID() int
	Init() tea.Cmd
	Update(msg tea.Msg) tea.Cmd
	View() string
	SetSize(width, height int)
	Title() string
	// Keys declares the screen's bindings, enabled or not; the help
	// overlay and the hint line are built from them.
	Keys() []Group
}

// typing is implemented by screens that can have a text field focused; the
// App then leaves printable keys (q, ?) to the screen.
type typing interface{ Typing() bool }

// closer is implemented by screens that hold resources (an audio track).
type closer interface{ Close() tea.Cmd }

// revealer is implemented by screens that refresh when the screen above
// them closes.
type revealer interface{ Revealed() tea.Cmd }

// restyler is implemented by screens whose components cache styles.
type restyler interface{ Restyle() }

// Navigation and status messages.
type (
	// OpenCallMsg asks the App to open a call's screen.
	OpenCallMsg struct{ ID string }
	// BackMsg asks the App to leave the current screen.
	BackMsg struct{}
	// StatusMsg shows a transient message in the status bar.
	StatusMsg struct {
		Text  string
		Level Level
	}
	loggedInMsg struct {
		resp *ecoutev1.LoginResponse
	}
	clearStatusMsg struct{ seq int }
)

// Level is how a status message is shown.
type Level int

// The levels.
const (
	LevelInfo Level = iota
	LevelWarn
	LevelError
)

func cmdOf(msg tea.Msg) tea.Cmd { return func() tea.Msg { return msg } }
