// Package tui is the Écoute console: one root App (the only tea.Model) that
// routes messages to small screens. Screens never do I/O in Update: every
// gRPC and audio call runs in a tea.Cmd, and its result comes back as a
// message that names what it answers (screen, call id, request number), so a
// late reply never lands on the wrong screen.
package tui

import (
	"context"
	"slices"
	"time"

	tea "charm.land/bubbletea/v2"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/player"
	"github.com/ecoute/ecoute/themes"
)

// Backend is what the console asks of the server. *client.Client is one;
// tests use a fake.
type Backend interface {
	Login(ctx context.Context, login, password string) (*ecoutev1.LoginResponse, error)
	Logout(ctx context.Context) error
	ListCalls(ctx context.Context, req *ecoutev1.ListCallsRequest) (*ecoutev1.ListCallsResponse, error)
	GetCall(ctx context.Context, callID string) (*ecoutev1.Call, error)
	GetWaveform(ctx context.Context, callID string) (*ecoutev1.GetWaveformResponse, error)
	// PlaybackInfo turns GetWaveform's answer into what the player needs
	// (the rest of a long call's frame index comes page by page).
	PlaybackInfo(callID string, wf *ecoutev1.GetWaveformResponse, size int64) player.Info
	AudioSize(ctx context.Context, callID string) (int64, error)
	AudioSource(callID string, size int64) player.Source
}

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
	Conn       connState
	// Loc is the time zone dates are shown in; nil means the local one.
	Loc *time.Location
	// Drafts keeps unconfirmed evaluations on disk; nil when the cache
	// directory could not be opened (the status bar says so).
	Drafts *DraftStore
	// KeyOverrides rebinds keys from the config file.
	KeyOverrides KeyOverrides

	seq int
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
func (c *Common) role() string { return c.Principal.GetRole() }

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

type connState int

const (
	connUnknown  connState = iota
	connOK                 // the last call was answered
	connRetrying           // calls failed; retrying
	connDown               // several retries failed; still retrying
)

// Screen is one page of the console.
type Screen interface {
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

// rpcResult is implemented by messages that carry the outcome of a server
// call; the App reads them to show the connection state.
type rpcResult interface{ rpcErr() error }

func cmdOf(msg tea.Msg) tea.Cmd { return func() tea.Msg { return msg } }
