package tui

import (
	"errors"
	"time"

	"context"

	tea "charm.land/bubbletea/v2"
	"google.golang.org/protobuf/types/known/durationpb"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/client"
)

// Sound elsewhere. A console served over SSH runs on the server, which
// plays no sound: its player runs silently, publishes what it does
// (client.Pairing), and the console shows the one-time code that pairs a
// companion on the user's machine (`ecoute listen CODE`), which plays the
// call there in step. Without a companion the console says where the
// sound would go and how to get it.

// Companion says that this console's sound belongs on the user's own
// machine.
type Companion struct {
	// Command runs the companion on the user's machine, the code left
	// out: "ecoute listen --server host:7443".
	Command string
}

// ErrSessionEnded is what Run returns when a console started on a session
// opened elsewhere (Options.Session) quit because that session ended.
var ErrSessionEnded = errors.New("session ended") // i18n: a sentinel for the caller

// pairingBeat is how often the console tells the pairing where it is
// while nothing changes, and learns whether a companion follows.
const pairingBeat = 2 * time.Second

// methodCreatePairing is what a role needs to pair.
const methodCreatePairing = "/ecoute.v1.PairingService/CreatePairing"

// remoteSound is the pairing of a console whose sound plays elsewhere.
type remoteSound struct {
	command   string
	pairingID string
	code      string
	expires   time.Time
	followers int
	asking    bool
	err       string // why there is no code
	seq       uint64
	last      *ecoutev1.PlaybackState // the player's state, published or to publish
	lastSent  time.Time
	ticking   bool
}

type (
	pairingMsg struct {
		resp *ecoutev1.CreatePairingResponse
		err  error
	}
	publishedMsg struct {
		followers int
		err       error
	}
	pairingTickMsg struct{}
)

// remoteStart asks a code and starts the pairing's beat, after a login.
func (a *App) remoteStart() tea.Cmd {
	r := a.c.Remote
	if r == nil || !a.c.May(methodCreatePairing) {
		return nil
	}
	cmds := []tea.Cmd{a.askPairing()}
	if !r.ticking {
		r.ticking = true
		cmds = append(cmds, a.c.after(appID, "pairingTick", pairingBeat, pairingTickMsg{}))
	}
	return tea.Batch(cmds...)
}

func (a *App) askPairing() tea.Cmd {
	r := a.c.Remote
	if r == nil || r.asking {
		return nil
	}
	r.asking = true
	b := a.c.Backend
	return a.c.request(appID, "pairing", func(ctx context.Context) (tea.Msg, error) {
		resp, err := b.CreatePairing(ctx)
		return pairingMsg{resp: resp, err: err}, err
	})
}

// remoteUpdate handles the pairing's messages; handled is false for the
// others.
func (a *App) remoteUpdate(msg tea.Msg) (tea.Cmd, bool) {
	r := a.c.Remote
	switch msg := msg.(type) {
	case pairingMsg:
		if r == nil {
			return nil, true
		}
		r.asking = false
		if msg.err != nil {
			r.err = a.c.explain(msg.err)
			return nil, true
		}
		first := r.pairingID != msg.resp.GetPairingId()
		r.err, r.pairingID, r.code = "", msg.resp.GetPairingId(), msg.resp.GetCode()
		r.expires = msg.resp.GetCodeExpiresAt().AsTime()
		if first && r.last != nil {
			// What the player did before the pairing existed.
			return a.c.send(r.last), true
		}
		return nil, true
	case publishedMsg:
		if r == nil {
			return nil, true
		}
		if msg.err != nil {
			if errors.Is(msg.err, client.ErrNotFound) {
				// The pairing ended (the session changed): start again.
				r.pairingID, r.code = "", ""
				return a.askPairing(), true
			}
			return nil, true
		}
		before := r.followers
		r.followers = msg.followers
		if before > 0 && r.followers == 0 {
			// The companion left; its code was used: a new one.
			r.code = ""
			return a.askPairing(), true
		}
		return nil, true
	case pairingTickMsg:
		if r == nil {
			return nil, true
		}
		now := a.c.now()
		var cmds []tea.Cmd
		if r.followers == 0 && !r.asking && (r.code == "" || !now.Before(r.expires)) && r.err == "" {
			cmds = append(cmds, a.askPairing())
		}
		// While playing, the player sends its position itself; while
		// it stands still its last state is the truth.
		if r.pairingID != "" && (r.last == nil || !r.last.GetPlaying()) && now.Sub(r.lastSent) >= pairingBeat {
			st := r.last
			if st == nil {
				st = &ecoutev1.PlaybackState{}
			}
			cmds = append(cmds, a.c.send(st))
		}
		cmds = append(cmds, a.c.after(appID, "pairingTick", pairingBeat, pairingTickMsg{}))
		return tea.Batch(cmds...), true
	}
	return nil, false
}

// publish makes st the player's state for the pairing and sends it (once
// the pairing exists). No-op for a console that plays its own sound.
func (c *Common) publish(st *ecoutev1.PlaybackState) tea.Cmd {
	r := c.Remote
	if r == nil {
		return nil
	}
	r.seq++
	st.Sequence = r.seq
	r.last = st
	return c.send(st)
}

// send publishes st as it is.
func (c *Common) send(st *ecoutev1.PlaybackState) tea.Cmd {
	r := c.Remote
	if r == nil || r.pairingID == "" {
		return nil
	}
	if st != r.last {
		r.seq++
		st.Sequence = r.seq
	}
	r.lastSent = c.now()
	id, b := r.pairingID, c.Backend
	return c.request(appID, "publish", func(ctx context.Context) (tea.Msg, error) {
		n, err := b.PublishPlayback(ctx, id, st)
		return publishedMsg{followers: n, err: err}, err
	})
}

// publishDue tells whether the playing position should be sent again.
func (c *Common) publishDue() bool {
	r := c.Remote
	return r != nil && c.now().Sub(r.lastSent) >= pairingBeat
}

// remoteLine says where the sound goes and how to get it, under the
// player; "" for a console that plays its own sound.
func (c *Common) remoteLine() string {
	r := c.Remote
	switch {
	case r == nil:
		return ""
	case r.followers > 0:
		return c.T(remoteFollowed, r.followers)
	case r.code != "":
		return c.T(remoteCode, r.command, r.code, r.expires.In(c.loc()).Format("15:04"))
	case r.err != "":
		return c.T(remoteFailed, r.err)
	}
	return c.T(remoteAsking)
}

// remoteAudio is the status bar's audio segment, full and short.
func (c *Common) remoteAudio() (full, short string) {
	r := c.Remote
	if r.followers > 0 {
		return c.T(remoteAudioFollowed, r.followers), c.T(remoteAudioShortFollowed)
	}
	if r.code != "" {
		return c.T(remoteAudioCode, r.code), c.T(remoteAudioShortNone)
	}
	return c.T(remoteAudioShortNone), c.T(remoteAudioShortNone)
}

// playbackState is the widget's state as the pairing publishes it.
func (w *playerWidget) playbackState() *ecoutev1.PlaybackState {
	st := &ecoutev1.PlaybackState{CallId: w.callID, Playing: w.playing, Position: durationpb.New(w.pos),
		Speed: w.cs.speed, VolumeDb: w.cs.volDB, Muted: w.cs.muted, Balance: w.cs.balance,
		Party1Muted: w.cs.partyMuted[0], Party2Muted: w.cs.partyMuted[1]}
	if w.cs.loopOn {
		st.LoopStart, st.LoopEnd = durationpb.New(w.cs.loopA), durationpb.New(w.cs.loopB)
	}
	return st
}

// published adds the publication of the widget's state to cmd.
func (w *playerWidget) published(cmd tea.Cmd) tea.Cmd {
	if w.c.Remote == nil || w.callID == "" {
		return cmd
	}
	return tea.Batch(cmd, w.c.publish(w.playbackState()))
}
