package tui

import (
	"context"
	"slices"
	"strings"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/client"
	"github.com/ecoute/ecoute/player"
)

// callLoadedMsg answers the call screen's request for its call.
type callLoadedMsg struct {
	call *ecoutev1.Call
	err  error
}

// trackOpenedMsg carries the track opened for a call screen. If that screen
// is gone when it arrives, the App closes the track (discard).
type trackOpenedMsg struct {
	track player.Track
	wave  *ecoutev1.GetWaveformResponse
	err   error
}

func (m trackOpenedMsg) discard() tea.Cmd {
	if m.track == nil {
		return nil
	}
	tr := m.track
	return func() tea.Msg { _ = tr.Close(); return nil }
}

type callScreen struct {
	c      *Common
	id     int // this screen's number, carried by its replies
	callID string
	call   *ecoutev1.Call
	err    string
	player *playerWidget
	wave   waveform
	waveY  int // the waveform's row in the last View, for clicks; -1: none
	width  int
	height int
	keys   CallKeys
	focus  int // panePlayer or paneNotes
	notes  notesPane
}

// waveX is the waveform's first column (the screen's left padding).
const waveX = 1

// The call screen's panes, in tab order. Space and ←/→ drive the player
// whichever has the focus; the notes pane takes ↑/↓ and enter.
const (
	panePlayer = iota
	paneNotes
	paneCount
)

func newCallScreen(c *Common, callID string) *callScreen {
	s := &callScreen{c: c, id: c.NextSeq(), callID: callID, player: newPlayerWidget(c), keys: newCallKeys(c.printer())}
	c.KeyOverrides.apply("player", &s.player.keys)
	c.KeyOverrides.apply("call", &s.keys)
	if !c.May(methodStreamAudio) {
		s.player.keys.disableTransport(c.T(reasonNoListen, c.role()))
		s.keys.SeekNote.disable(c.T(reasonNoListen, c.role()))
	}
	return s
}

func (s *callScreen) ID() int { return s.id }

func (s *callScreen) Title() string {
	if s.call == nil {
		return s.c.T(callTitle, s.callID)
	}
	parts := []string{fmtTime(s.call.GetStartedAt(), s.c.loc())}
	if n := s.call.GetAgentName(); n != "" && s.c.Sees("call.agent_name") {
		parts = append(parts, n)
	}
	return s.c.T(callTitle, strings.Join(parts, " — "))
}

func (s *callScreen) Restyle() { s.player.Restyle() }

func (s *callScreen) Init() tea.Cmd {
	callID, b := s.callID, s.c.Backend
	return tea.Batch(s.c.request(s.id, "call", func(ctx context.Context) (tea.Msg, error) {
		call, err := b.GetCall(ctx, callID)
		return callLoadedMsg{call: call, err: err}, err
	}), s.fetchNotes())
}

// openTrack fetches what playback needs (frame index, size) and opens the
// track on the engine, all in the Cmd.
func (s *callScreen) openTrack() tea.Cmd {
	callID, b, eng := s.callID, s.c.Backend, s.c.Engine
	size := s.call.GetAudio().GetSizeBytes()
	return s.c.request(s.id, "track", func(ctx context.Context) (tea.Msg, error) {
		fail := func(err error) (tea.Msg, error) { return trackOpenedMsg{err: err}, err }
		if eng == nil {
			return fail(errNoEngine)
		}
		wf, err := b.GetWaveform(ctx, callID)
		if err != nil {
			return fail(err)
		}
		if size <= 0 {
			size = wf.GetTotalSize()
		}
		if size <= 0 { // a server older than total_size
			if size, err = b.AudioSize(ctx, callID); err != nil {
				return fail(err)
			}
		}
		tr, err := eng.Open(b.AudioSource(callID, size), playerInfo(b.PlaybackInfo(callID, wf, size)))
		if err != nil {
			return fail(err)
		}
		return trackOpenedMsg{track: tr, wave: wf}, nil
	})
}

func (s *callScreen) SetSize(w, h int) {
	s.width, s.height = w, h
	s.player.SetWidth(min(w-2, 80))
	s.wave.SetWidth(max(10, w-2))
}

func (s *callScreen) Close() tea.Cmd { return s.player.Detach() }

// Revealed is called when the screen above closes: the evaluation screen
// may have pinned notes meanwhile.
func (s *callScreen) Revealed() tea.Cmd {
	if !s.notes.stale {
		return nil
	}
	s.notes.stale = false
	return s.fetchNotes()
}

func (s *callScreen) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case notesLoadedMsg:
		s.notesLoaded(msg)
		return nil
	case callLoadedMsg:
		if msg.err != nil {
			s.err = s.c.explain(msg.err)
			s.player.Fail(s.c.T(callNoAudio))
			return nil
		}
		s.call = msg.call
		if !s.c.May(methodStreamAudio) {
			s.player.Fail(s.c.T(callMayNotListen, s.c.role()))
			return nil
		}
		return s.openTrack()
	case trackOpenedMsg:
		if msg.err != nil {
			s.player.Fail(s.c.T(playerErrFmt, s.c.explain(msg.err)))
			return nil
		}
		s.player.callID = s.callID
		cmd := s.player.Attach(msg.track)
		if wf := msg.wave; wf != nil {
			s.wave.set(wf.GetPeaks(), wf.GetChannelPeaks(), wf.GetBucket().AsDuration(), msg.track.Duration())
		}
		return cmd
	case tea.MouseClickMsg:
		// A click on the waveform seeks there.
		m := msg.Mouse()
		if m.Button == tea.MouseLeft && s.waveY >= 0 && m.Y >= s.waveY && m.Y < s.waveY+s.wave.rows() && !s.wave.empty() &&
			s.player.track != nil && s.player.keys.Toggle.Enabled() {
			return s.player.seekTo(s.wave.at(m.X - waveX))
		}
		return nil
	case tea.KeyPressMsg:
		switch {
		case on(msg, s.keys.NextPane):
			s.focus = (s.focus + 1) % paneCount
			return nil
		case on(msg, s.keys.PrevPane):
			s.focus = (s.focus + paneCount - 1) % paneCount
			return nil
		case on(msg, evaluateBinding(s.c)):
			s.notes.stale = true
			return cmdOf(OpenEvaluationMsg{CallID: s.callID, Player: s.player})
		}
		if s.focus == paneNotes {
			if cmd, ok := s.notesKey(msg); ok {
				return cmd
			}
		}
	}
	cmd, _ := s.player.Update(msg)
	return cmd
}

// playerInfo hands the gateway's description of a call to the player.
func playerInfo(p client.Playback) player.Info {
	info := player.Info{Size: p.Size, SampleRate: p.SampleRate, SamplesPerFrame: p.SamplesPerFrame,
		Channels: p.Channels, FrameOffsets: p.FrameOffsets, PeaksFunc: p.PeaksFunc}
	if p.Index != nil {
		info.Index = p.Index
	}
	return info
}

// field is one line of the detail view, shown only if the role sees it and
// the server sent something.
type field struct {
	label, path, value string
}

func (s *callScreen) fields() []field {
	c := s.call
	yesNo := func(b bool) string {
		if b {
			return s.c.T(valueYes)
		}
		return s.c.T(valueNo)
	}
	fs := []field{
		{s.c.T(lblStarted), "call.started_at", fmtTime(c.GetStartedAt(), s.c.loc())},
		{s.c.T(lblEnded), "call.ended_at", fmtTime(c.GetEndedAt(), s.c.loc())},
		{s.c.T(lblDuration), "call.duration", fmtDurationPB(c.GetDuration())},
		{s.c.T(lblAgent), "call.agent_name", c.GetAgentName()},
		{s.c.T(lblTeam), "call.team_name", c.GetTeamName()},
		{s.c.T(lblCampaign), "call.campaign_name", c.GetCampaignName()},
		{s.c.T(lblDirection), "call.direction", s.c.directionText(c.GetDirection())},
		{s.c.T(lblCustomerName), "call.customer.name", c.GetCustomer().GetName()},
		{s.c.T(lblCustomerPhone), "call.customer.phone_e164", c.GetCustomer().GetPhoneE164()},
		{s.c.T(lblCustomerNumber), "call.customer.customer_number", c.GetCustomer().GetCustomerNumber()},
		{s.c.T(lblCustomerAddress), "call.customer.address", c.GetCustomer().GetAddress()},
		{s.c.T(lblRetainedUntil), "call.retained_until", fmtTime(c.GetRetainedUntil(), s.c.loc())},
	}
	if c.GetConsent() != nil {
		fs = append(fs, field{s.c.T(lblConsent), "call.consent", s.c.consentText(c.GetConsent())})
	}
	fs = append(fs, field{s.c.T(lblEvaluated), "call.evaluated", yesNo(c.GetEvaluated())})
	if a := c.GetAudio(); a != nil && a.GetCodec() != "" {
		fs = append(fs, field{s.c.T(lblAudio), "call.audio", s.c.T(audioFmt, a.GetCodec(), a.GetSampleRate(), a.GetBitrateKbps(), a.GetSizeBytes())})
	}
	out := fs[:0]
	for _, f := range fs {
		if f.value != "" && s.c.Sees(f.path) {
			out = append(out, f)
		}
	}
	return out
}

func (c *Common) directionText(d string) string {
	switch d {
	case "inbound":
		return c.T(dirInbound)
	case "outbound":
		return c.T(dirOutbound)
	}
	return d
}

func (c *Common) consentText(cs *ecoutev1.Consent) string {
	ans := c.T(consentRefused)
	if cs.GetAccepted() {
		ans = c.T(consentAccepted)
	}
	if t := fmtTime(cs.GetAnsweredAt(), c.loc()); t != "" {
		return ans + " " + c.T(consentAtFmt, t)
	}
	return ans
}

func (s *callScreen) View() string {
	st := s.c.Styles
	var lines []string
	switch {
	case s.err != "":
		lines = append(lines, st.Error.Render(s.err))
	case s.call == nil:
		lines = append(lines, st.Subtle.Render(s.c.T(callLoading)))
	default:
		lines = append(lines, s.fieldLines()...)
	}
	lines = append(lines, "", s.paneHeading(panePlayer, s.c.T(paneTitlePlayer)))
	s.waveY = -1
	if !s.wave.empty() {
		// +1: the top padding.
		s.waveY = len(lines) + 1
		lines = append(lines, strings.Split(s.wave.view(newWaveStyles(st), s.player.pos), "\n")...)
		lines = append(lines, st.Muted.Render(s.wave.timeRuler()), "")
	}
	lines = append(lines, strings.Split(s.player.View(), "\n")...)
	title := s.c.T(paneTitleNotes)
	if s.notes.state == "" && len(s.notes.notes) > 0 {
		title = s.c.T(paneNotesCount, len(s.notes.notes))
	}
	lines = append(lines, "", s.paneHeading(paneNotes, title))
	// The notes take the rows left inside the padding.
	lines = append(lines, s.notesView(s.height-2-len(lines), max(10, s.width-2))...)
	return lipgloss.NewStyle().Padding(1, 1).Render(strings.Join(lines, "\n"))
}

// paneHeading is a pane's title, marked when the pane has the focus.
func (s *callScreen) paneHeading(pane int, title string) string {
	if s.focus == pane {
		return s.c.Styles.Focused.Render(paneFocusMark + title)
	}
	return s.c.Styles.Subtle.Render(strings.Repeat(" ", lipgloss.Width(paneFocusMark)) + title)
}

// fieldLines lists the metadata, in two columns when one would push the
// waveform and the player off a short terminal (80×24 with every field).
func (s *callScreen) fieldLines() []string {
	st := s.c.Styles
	fs := s.fields()
	render := func(fs []field) []string {
		lw := 0
		for _, f := range fs {
			lw = max(lw, lipgloss.Width(f.label))
		}
		var out []string
		for _, f := range fs {
			out = append(out, st.Label.Width(lw+2).Render(f.label)+st.Value.Render(f.value))
		}
		return out
	}
	// Padding 2, a blank, the player pane's heading, the waveform 3, the
	// player 3 rows, then a blank, the notes' heading and one note.
	if len(fs)+13 <= s.height || s.width < 60 {
		return render(fs)
	}
	half := (len(fs) + 1) / 2
	left := lipgloss.JoinVertical(lipgloss.Left, render(fs[:half])...)
	right := lipgloss.JoinVertical(lipgloss.Left, render(fs[half:])...)
	colW := (s.width - 2 - 3) / 2
	left = lipgloss.NewStyle().Width(colW).MaxWidth(colW).Render(left)
	right = lipgloss.NewStyle().MaxWidth(colW).Render(right)
	return strings.Split(lipgloss.JoinHorizontal(lipgloss.Top, left, "   ", right), "\n")
}

func (s *callScreen) Keys() []Group {
	k, pl := s.keys, s.player.group()
	if s.focus == paneNotes {
		// The hint line shows the focused pane's keys; the player's keep
		// working and stay in the help.
		k.NoteUp.Hint, k.NoteDown.Hint, k.SeekNote.Hint = true, true, true
		pl.Keys = slices.Clone(pl.Keys)
		for i := range pl.Keys {
			pl.Keys[i].Hint = false
		}
	}
	panes := Group{Title: s.c.T(helpGroupPanes), Keys: []Binding{k.SeekNote, k.NoteUp, k.NoteDown, k.NextPane, k.PrevPane}}
	return []Group{pl, {Title: s.c.T(helpGroupEval), Keys: []Binding{evaluateBinding(s.c)}}, panes}
}

// localScreen is the one-screen player of `ecoute play FILE`.
type localScreen struct {
	c      *Common
	title  string
	track  player.Track
	player *playerWidget
}

func newLocalScreen(c *Common, tr player.Track, title string) *localScreen {
	return &localScreen{c: c, title: title, track: tr, player: newPlayerWidget(c)}
}

func (s *localScreen) ID() int          { return 0 }
func (s *localScreen) Title() string    { return s.title }
func (s *localScreen) Init() tea.Cmd    { return s.player.Attach(s.track) }
func (s *localScreen) Restyle()         { s.player.Restyle() }
func (s *localScreen) SetSize(w, h int) { s.player.SetWidth(min(w-2, 80)) }
func (s *localScreen) Close() tea.Cmd   { return s.player.Detach() }
func (s *localScreen) Keys() []Group    { return []Group{s.player.group()} }

func (s *localScreen) Update(msg tea.Msg) tea.Cmd {
	cmd, _ := s.player.Update(msg)
	return cmd
}

func (s *localScreen) View() string {
	st := s.c.Styles
	return lipgloss.NewStyle().Padding(1, 1).Render(st.Title.Render(s.title) + "\n\n" + s.player.View())
}
