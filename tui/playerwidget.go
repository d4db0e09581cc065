package tui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/progress"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/player"
)

// positionRefresh is how often the position is read while playing.
const positionRefresh = 200 * time.Millisecond

// Messages of the player widget carry the generation of the track they
// belong to; a widget that has moved to another track ignores them.
type (
	playerEventMsg struct {
		gen int
		ev  player.Event
		ok  bool // false: the events channel was closed
	}
	playerTickMsg struct {
		gen     int
		pos     time.Duration
		playing bool
	}
	// playerPosMsg reports the position after a seek or toggle.
	playerPosMsg struct {
		gen     int
		pos     time.Duration
		playing bool
	}
	// playerCtlMsg reports the listening aids after a change.
	playerCtlMsg struct {
		gen    int
		st     ctlState
		pos    time.Duration
		noJump bool // a silence jump found no silence that way
	}
)

// ctlState mirrors a track's Controls, read in a Cmd.
type ctlState struct {
	speed        float64
	volDB        float64
	muted        bool
	loopA, loopB time.Duration
	loopOn       bool
	// A two-party recording's balance (-1 party 1 only … 1 party 2 only)
	// and mutes; parties is 1 for a one-party recording.
	parties    int
	balance    float64
	partyMuted [2]bool
}

type playerState int

const (
	playerLoading playerState = iota
	playerReady
	playerEnded
	playerFailed
)

// playerWidget shows one track's position and drives it with keys. Track
// calls happen in Cmds, never in Update.
type playerWidget struct {
	c       *Common
	keys    PlayerKeys
	track   player.Track
	gen     int
	state   playerState
	err     string
	pos     time.Duration
	dur     time.Duration
	playing bool
	ticking bool
	bar     progress.Model
	width   int
	ctl     player.Controls // nil when the track has none
	cs      ctlState
	// loopFrom is where A was set, waiting for B; -1 when not.
	loopFrom time.Duration
	note     string
	// callID is the call the track plays, for a pairing's companions
	// (tui/remote.go); "" for a local file.
	callID string
}

func newPlayerWidget(c *Common) *playerWidget {
	w := &playerWidget{c: c, keys: newPlayerKeys(c.printer()), loopFrom: -1}
	w.Restyle()
	return w
}

func (w *playerWidget) Restyle() {
	w.bar = progress.New(
		progress.WithColors(w.c.Styles.ProgressFull),
		progress.WithoutPercentage(),
		progress.WithFillCharacters('━', '─'),
	)
	w.bar.EmptyColor = w.c.Styles.ProgressEmpty
	w.bar.SetWidth(max(10, w.width))
}

func (w *playerWidget) SetWidth(width int) {
	w.width = width
	w.bar.SetWidth(max(10, width))
}

// Fail shows why there is no track.
func (w *playerWidget) Fail(msg string) {
	w.state, w.err = playerFailed, msg
}

// Attach starts showing tr and waiting for its events.
func (w *playerWidget) Attach(tr player.Track) tea.Cmd {
	w.gen = w.c.NextSeq()
	w.track, w.state, w.err = tr, playerReady, ""
	w.dur, w.pos, w.playing = tr.Duration(), 0, tr.Playing()
	w.ctl, _ = tr.(player.Controls)
	w.cs, w.loopFrom, w.note = ctlState{speed: 1, parties: 1}, -1, ""
	if w.ctl == nil {
		w.keys.disableControls(w.c.T(reasonNoControls))
		return w.published(w.waitEvent())
	}
	if w.ctl.Parties() == 2 {
		w.keys.enableParties()
	} else {
		w.keys.disableParties(w.c.T(reasonOneParty))
	}
	// Sync with what the track was opened with (ecoute play --speed).
	return w.published(tea.Batch(w.waitEvent(), w.controls(func(player.Controls) {})))
}

// controls runs f on the track's Controls in a Cmd and reports their state
// after.
func (w *playerWidget) controls(f func(c player.Controls)) tea.Cmd {
	ctl, tr, gen := w.ctl, w.track, w.gen
	if ctl == nil || tr == nil {
		return nil
	}
	return func() tea.Msg {
		f(ctl)
		a, b, on := ctl.Loop()
		return playerCtlMsg{gen: gen, pos: tr.Position(), st: ctlState{
			speed: ctl.Speed(), volDB: ctl.Volume(), muted: ctl.Muted(), loopA: a, loopB: b, loopOn: on,
			parties: ctl.Parties(), balance: ctl.Balance(), partyMuted: [2]bool{ctl.PartyMuted(0), ctl.PartyMuted(1)}}}
	}
}

// jump moves to the next or previous phrase in a Cmd: without peaks from
// the server it may decode the file once to find the silences.
func (w *playerWidget) jump(forward bool) tea.Cmd {
	ctl, tr, gen := w.ctl, w.track, w.gen
	if ctl == nil || tr == nil {
		return nil
	}
	st := w.cs
	return func() tea.Msg {
		_, ok := ctl.SkipSilence(forward)
		return playerCtlMsg{gen: gen, pos: tr.Position(), st: st, noJump: !ok}
	}
}

// loopKey cycles set A → set B (the loop plays) → clear.
func (w *playerWidget) loopKey() tea.Cmd {
	switch {
	case w.cs.loopOn:
		w.loopFrom = -1
		return w.controls(func(c player.Controls) { c.SetLoop(0, 0) })
	case w.loopFrom < 0 || w.pos <= w.loopFrom:
		w.loopFrom = w.pos
		return nil
	default:
		a, b := w.loopFrom, w.pos
		w.loopFrom = -1
		return w.controls(func(c player.Controls) { c.SetLoop(a, b) })
	}
}

// Detach closes the track (in a Cmd) and forgets it.
func (w *playerWidget) Detach() tea.Cmd {
	tr := w.track
	w.track, w.gen = nil, -1
	if tr == nil {
		return nil
	}
	var stop tea.Cmd
	if w.callID != "" {
		// The companions stop too.
		stop = w.c.publish(&ecoutev1.PlaybackState{})
		w.callID = ""
	}
	return tea.Batch(stop, func() tea.Msg {
		_ = tr.Close()
		return nil
	})
}

func (w *playerWidget) waitEvent() tea.Cmd {
	tr, gen := w.track, w.gen
	return func() tea.Msg {
		ev, ok := <-tr.Events()
		return playerEventMsg{gen: gen, ev: ev, ok: ok}
	}
}

func (w *playerWidget) tick() tea.Cmd {
	tr, gen := w.track, w.gen
	return w.c.timer(positionRefresh, func(time.Time) tea.Msg {
		return playerTickMsg{gen: gen, pos: tr.Position(), playing: tr.Playing()}
	})
}

// control runs f on the track in a Cmd and reports the position after.
func (w *playerWidget) control(f func(tr player.Track)) tea.Cmd {
	tr, gen := w.track, w.gen
	if tr == nil {
		return nil
	}
	return func() tea.Msg {
		f(tr)
		return playerPosMsg{gen: gen, pos: tr.Position(), playing: tr.Playing()}
	}
}

func (w *playerWidget) startTicking() tea.Cmd {
	if w.ticking {
		return nil
	}
	w.ticking = true
	return w.tick()
}

// Update handles the widget's own messages and keys; it returns handled
// false for anything else.
func (w *playerWidget) Update(msg tea.Msg) (tea.Cmd, bool) {
	switch msg := msg.(type) {
	case playerEventMsg:
		if msg.gen != w.gen || w.track == nil {
			return nil, true
		}
		if !msg.ok {
			return nil, true
		}
		cmds := []tea.Cmd{w.waitEvent()}
		switch msg.ev.Kind {
		case player.EventPlaying, player.EventFirstSample:
			w.playing, w.state = true, playerReady
			cmds = append(cmds, w.startTicking())
		case player.EventPaused:
			w.playing = false
		case player.EventEnded:
			w.playing, w.state = false, playerEnded
			w.pos = w.dur
			return w.published(tea.Batch(cmds...)), true
		case player.EventError:
			w.playing = false
			w.err = w.c.T(playerErrFmt, msg.ev.Err)
		}
		w.pos = msg.ev.Position
		if msg.ev.Kind == player.EventFirstSample {
			// Nothing changed for the companions.
			return tea.Batch(cmds...), true
		}
		return w.published(tea.Batch(cmds...)), true
	case playerTickMsg:
		if msg.gen != w.gen || w.track == nil {
			return nil, true
		}
		w.pos, w.playing = msg.pos, msg.playing
		if !msg.playing {
			w.ticking = false
			return nil, true
		}
		if w.c.publishDue() {
			return w.published(w.tick()), true
		}
		return w.tick(), true
	case playerPosMsg:
		if msg.gen != w.gen || w.track == nil {
			return nil, true
		}
		w.pos, w.playing = msg.pos, msg.playing
		if msg.playing {
			return w.published(w.startTicking()), true
		}
		return w.published(nil), true
	case playerCtlMsg:
		if msg.gen != w.gen || w.track == nil {
			return nil, true
		}
		w.cs, w.pos, w.note = msg.st, msg.pos, ""
		if msg.noJump {
			w.note = w.c.T(playerNoGapText)
		}
		return w.published(nil), true
	case tea.KeyPressMsg:
		if w.track == nil {
			return nil, false
		}
		switch {
		case on(msg, w.keys.Slower):
			sp := w.cs.speed - player.SpeedStep
			return w.controls(func(c player.Controls) { c.SetSpeed(sp) }), true
		case on(msg, w.keys.Faster):
			sp := w.cs.speed + player.SpeedStep
			return w.controls(func(c player.Controls) { c.SetSpeed(sp) }), true
		case on(msg, w.keys.VolUp):
			db := w.cs.volDB + player.VolumeStepDB
			return w.controls(func(c player.Controls) { c.SetVolume(db) }), true
		case on(msg, w.keys.VolDown):
			db := w.cs.volDB - player.VolumeStepDB
			return w.controls(func(c player.Controls) { c.SetVolume(db) }), true
		case on(msg, w.keys.Mute):
			m := !w.cs.muted
			return w.controls(func(c player.Controls) { c.SetMuted(m) }), true
		case on(msg, w.keys.Loop):
			return w.loopKey(), true
		case on(msg, w.keys.Party1):
			m := !w.cs.partyMuted[0]
			return w.controls(func(c player.Controls) { c.SetPartyMuted(0, m) }), true
		case on(msg, w.keys.Party2):
			m := !w.cs.partyMuted[1]
			return w.controls(func(c player.Controls) { c.SetPartyMuted(1, m) }), true
		case on(msg, w.keys.Balance1):
			b := w.cs.balance - player.BalanceStep
			return w.controls(func(c player.Controls) { c.SetBalance(b) }), true
		case on(msg, w.keys.Balance2):
			b := w.cs.balance + player.BalanceStep
			return w.controls(func(c player.Controls) { c.SetBalance(b) }), true
		case on(msg, w.keys.NextGap):
			return w.jump(true), true
		case on(msg, w.keys.PrevGap):
			return w.jump(false), true
		case on(msg, w.keys.Toggle):
			if w.state == playerEnded {
				w.state = playerReady
				return w.control(func(tr player.Track) { tr.Seek(0); tr.Play() }), true
			}
			w.err = ""
			return w.control(func(tr player.Track) { tr.Toggle() }), true
		case on(msg, w.keys.Back5):
			return w.seekBy(-5 * time.Second), true
		case on(msg, w.keys.Fwd5):
			return w.seekBy(5 * time.Second), true
		case on(msg, w.keys.Back30):
			return w.seekBy(-30 * time.Second), true
		case on(msg, w.keys.Fwd30):
			return w.seekBy(30 * time.Second), true
		case on(msg, w.keys.Restart):
			return w.seekTo(0), true
		}
	}
	return nil, false
}

func (w *playerWidget) seekBy(d time.Duration) tea.Cmd {
	return w.seekTo(w.pos + d)
}

func (w *playerWidget) seekTo(to time.Duration) tea.Cmd {
	to = max(0, min(w.dur, to))
	w.pos = to // shown at once; the Cmd's answer corrects it
	if w.state == playerEnded && to < w.dur {
		w.state = playerReady
	}
	return w.control(func(tr player.Track) { tr.Seek(to) })
}

func (w *playerWidget) View() string {
	st := w.c.Styles
	switch w.state {
	case playerLoading:
		return st.Subtle.Render(w.c.T(playerLoadingText))
	case playerFailed:
		return st.Error.Render(w.err)
	}
	var icon, label string
	switch {
	case w.state == playerEnded:
		icon, label = "■", w.c.T(playerEndedText)
	case w.playing:
		icon, label = "▶", w.c.T(playerPlayingText)
	default:
		icon, label = "⏸", w.c.T(playerPausedText)
	}
	frac := 0.0
	if w.dur > 0 {
		frac = float64(w.pos) / float64(w.dur)
	}
	clock := fmt.Sprintf("%s / %s", fmtClock(w.pos), fmtClock(w.dur))
	head := lipgloss.JoinHorizontal(lipgloss.Top,
		st.Title.Render(icon+" "+label), "   ", st.Value.Render(clock))
	lines := []string{head, w.bar.ViewAs(max(0, min(1, frac)))}
	if w.ctl != nil {
		lines = append(lines, st.Subtle.Render(w.controlsLine()))
	}
	if w.note != "" {
		lines = append(lines, st.Subtle.Render(w.note))
	}
	if w.err != "" {
		lines = append(lines, st.Error.Render(w.err))
	}
	return strings.Join(lines, "\n")
}

func (w *playerWidget) group() Group { return w.keys.group(w.c.printer()) }

// controlsLine shows speed, volume, mute and the loop.
func (w *playerWidget) controlsLine() string {
	parts := []string{w.c.T(playerSpeedFmt, w.cs.speed), w.c.T(playerVolumeFmt, w.cs.volDB)}
	if w.cs.muted {
		parts = append(parts, w.c.T(playerMutedText))
	}
	if w.cs.parties == 2 {
		// Each party's level: 100% at the centre, less toward the other.
		levels := [2]float64{min(1, 1-w.cs.balance), min(1, 1+w.cs.balance)}
		for i, l := range levels {
			v := w.c.printer().WholePercent(100 * l)
			if w.cs.partyMuted[i] {
				v = w.c.T(playerPartyOff)
			}
			parts = append(parts, w.c.T(playerPartyFmt, i+1, v))
		}
	}
	switch {
	case w.cs.loopOn:
		parts = append(parts, w.c.T(playerLoopFmt, fmtClock(w.cs.loopA), fmtClock(w.cs.loopB)))
	case w.loopFrom >= 0:
		parts = append(parts, w.c.T(playerLoopAFmt, fmtClock(w.loopFrom)))
	}
	return strings.Join(parts, "  ")
}
