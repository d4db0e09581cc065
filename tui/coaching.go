package tui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/client"
)

// The coaching screens: a trainer's sessions (or an agent's shared ones),
// one session with its goals, clips, evaluations and notes, and one clip
// played with the agent's screen captures beside the player (R11: only
// the session's trainer receives them; the server refuses anyone else).

const (
	methodListCoaching   = "/ecoute.v1.CoachingService/ListCoachingSessions"
	methodCreateCoaching = "/ecoute.v1.CoachingService/CreateCoachingSession"
	methodAddGoal        = "/ecoute.v1.CoachingService/AddCoachingGoal"
	methodAddClip        = "/ecoute.v1.CoachingService/AddClip"
	methodShareCoaching  = "/ecoute.v1.CoachingService/ShareCoachingSession"
	methodAckCoaching    = "/ecoute.v1.CoachingService/AcknowledgeCoachingSession"
	methodListCaptures   = "/ecoute.v1.CoachingService/ListScreenCaptures"
)

type (
	// OpenCoachingMsg asks the App to open the coaching sessions.
	OpenCoachingMsg struct{}
	// openSessionMsg opens one session.
	openSessionMsg struct{ id string }
	// openClipMsg plays one clip of a session.
	openClipMsg struct {
		session string
		clip    *ecoutev1.CoachingClip
		trainer bool
	}
	coachingListMsg struct {
		sessions []*ecoutev1.CoachingSession
		err      error
	}
	coachingMsg struct {
		what    string // the write done, "" for a read
		session *ecoutev1.CoachingSession
		err     error
	}
	capturesMsg struct {
		caps []*ecoutev1.ScreenCapture
		err  error
	}
	captureImageMsg struct {
		id    string
		thumb *thumb
		err   error
	}
	captureSavedMsg struct {
		path string
		err  error
	}
)

// coachingBinding is the call list's key to the coaching sessions,
// disabled with the reason for a role that has none.
func coachingBinding(c *Common) Binding {
	b := bind(c.printer(), false, "T", c.T(keyCoaching), "T")
	if !c.May(methodListCoaching) {
		b.disable(c.T(reasonNoCoaching, c.role()))
	}
	return b
}

// prompt is a one-line text field with a label, for the coaching and
// calibration screens' writes.
type prompt struct {
	label  string
	what   string // what confirming does
	input  textinput.Model
	active bool
}

func newPrompt(c *Common) prompt {
	in := textinput.New()
	in.Prompt = "› "
	in.CharLimit = 4000
	in.SetStyles(c.Styles.TextInput)
	return prompt{input: in}
}

func (p *prompt) open(what, label, placeholder string) tea.Cmd {
	p.what, p.label, p.active = what, label, true
	p.input.SetValue("")
	p.input.Placeholder = placeholder
	return p.input.Focus()
}

// key handles a key while the prompt is open; done reports the value
// confirmed (ok false: cancelled or still typing).
func (p *prompt) key(msg tea.KeyPressMsg) (cmd tea.Cmd, value string, done bool) {
	switch msg.String() {
	case "esc":
		p.active = false
		p.input.Blur()
		return nil, "", false
	case "enter":
		p.active = false
		p.input.Blur()
		return nil, strings.TrimSpace(p.input.Value()), true
	}
	p.input, cmd = p.input.Update(msg)
	return cmd, "", false
}

func (p *prompt) view(c *Common, width int) string {
	p.input.SetWidth(max(10, width-4))
	return c.Styles.Title.Render(ansi.Truncate(p.label, width, "…")) + "\n" + p.input.View()
}

// coachingStatus is a session's status in words.
func (c *Common) coachingStatus(st ecoutev1.CoachingStatus) string {
	switch st {
	case ecoutev1.CoachingStatus_COACHING_STATUS_DRAFT:
		return c.T(coachingDraft)
	case ecoutev1.CoachingStatus_COACHING_STATUS_SHARED:
		return c.T(coachingShared)
	case ecoutev1.CoachingStatus_COACHING_STATUS_ACKNOWLEDGED:
		return c.T(coachingAcknowledged)
	case ecoutev1.CoachingStatus_COACHING_STATUS_DISPUTED:
		return c.T(coachingDisputed)
	}
	return ""
}

func (c *Common) day(t interface{ AsTime() time.Time }) string {
	if ts, ok := t.(interface{ GetSeconds() int64 }); ok && ts.GetSeconds() == 0 {
		return ""
	}
	return t.AsTime().In(c.loc()).Format(time.DateOnly)
}

// coachingListScreen lists the sessions.
type coachingListScreen struct {
	c      *Common
	id     int
	keys   CallsKeys
	create Binding
	list   *list[*ecoutev1.CoachingSession]
	prompt prompt
	agent  string // the agent named, waiting for the title
	width  int
}

func newCoachingListScreen(c *Common) *coachingListScreen {
	s := &coachingListScreen{c: c, id: c.NextSeq(), keys: newCallsKeys(c.printer()), prompt: newPrompt(c),
		create: bind(c.printer(), true, "n", c.T(keyNewSession), "n")}
	c.KeyOverrides.apply("calls", &s.keys)
	if !c.May(methodCreateCoaching) {
		s.create.disable(c.T(reasonNotTrainer, c.role()))
	}
	type cs = *ecoutev1.CoachingSession
	s.list = newList(c, []listColumn[cs]{
		{title: c.T(colCreated), width: 10, cell: func(x cs) string { return c.day(x.GetCreatedAt()) }},
		{title: c.T(colTitle), cell: cs.GetTitle},
		{title: c.T(colAgentName), drop: 2, cell: cs.GetAgentName},
		{title: c.T(colTrainer), drop: 3, cell: cs.GetTrainerName},
		{title: c.T(colState), width: 12, cell: func(x cs) string { return c.coachingStatus(x.GetStatus()) }},
		{title: c.T(colKeptUntil), width: 10, drop: 1, cell: func(x cs) string { return c.day(x.GetRetainedUntil()) }},
	}, coachingEmpty, 0)
	return s
}

func (s *coachingListScreen) ID() int       { return s.id }
func (s *coachingListScreen) Title() string { return s.c.T(coachingTitle) }
func (s *coachingListScreen) Typing() bool  { return s.prompt.active }
func (s *coachingListScreen) SetSize(w, h int) {
	s.width = w
	s.list.setSize(w, h-2)
}
func (s *coachingListScreen) Init() tea.Cmd     { return s.load() }
func (s *coachingListScreen) Revealed() tea.Cmd { return s.load() }

func (s *coachingListScreen) load() tea.Cmd {
	s.list.loading = true
	b := s.c.Backend
	return s.c.request(s.id, "list", func(ctx context.Context) (tea.Msg, error) {
		l, err := b.ListCoachingSessions(ctx)
		return coachingListMsg{sessions: l, err: err}, err
	})
}

func (s *coachingListScreen) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case coachingListMsg:
		if s.list.failedOn(msg.err, s.c) {
			return nil
		}
		s.list.setRows(msg.sessions)
	case coachingMsg:
		if msg.err != nil {
			return cmdOf(StatusMsg{Text: s.c.explain(msg.err), Level: LevelError})
		}
		return cmdOf(openSessionMsg{id: msg.session.GetSessionId()})
	case tea.KeyPressMsg:
		if s.prompt.active {
			cmd, v, done := s.prompt.key(msg)
			if !done || v == "" {
				return cmd
			}
			if s.agent == "" {
				s.agent = v
				return s.prompt.open("title", s.c.T(promptSessionTitle, s.agent), "")
			}
			agent := s.agent
			s.agent = ""
			b := s.c.Backend
			return s.c.request(s.id, "create", func(ctx context.Context) (tea.Msg, error) {
				ses, err := b.CreateCoachingSession(ctx, agent, v)
				return coachingMsg{what: "create", session: ses, err: err}, err
			})
		}
		if s.list.moveKey(msg, s.keys) {
			return nil
		}
		switch {
		case on(msg, s.keys.Open):
			if x, ok := s.list.selected(); ok {
				return cmdOf(openSessionMsg{id: x.GetSessionId()})
			}
		case on(msg, s.keys.Reload):
			return s.load()
		case on(msg, s.create):
			s.agent = ""
			return s.prompt.open("agent", s.c.T(promptSessionAgent), "agent-01")
		}
	case tea.MouseClickMsg, tea.MouseWheelMsg:
		if s.list.mouse(msg, 2) == clickOpen {
			if x, ok := s.list.selected(); ok {
				return cmdOf(openSessionMsg{id: x.GetSessionId()})
			}
		}
	}
	return nil
}

func (s *coachingListScreen) View() string {
	head := s.c.Styles.Muted.Render(ansi.Truncate(s.c.T(coachingHint), s.width, "…")) + "\n"
	if s.prompt.active {
		return s.prompt.view(s.c, s.width) + "\n" + s.list.view(s.c.Styles, "")
	}
	return head + "\n" + s.list.view(s.c.Styles, "")
}

func (s *coachingListScreen) Keys() []Group {
	k := s.keys
	return []Group{{Title: s.c.T(coachingTitle), Keys: []Binding{k.Open, s.create, k.Down, k.Up, k.Reload}}}
}

// sessionScreen is one session.
type sessionScreen struct {
	c       *Common
	id      int
	sid     string
	ses     *ecoutev1.CoachingSession
	err     string
	cursor  int // the clip selected
	prompt  prompt
	keys    sessionKeys
	width   int
	height  int
	loading bool
}

type sessionKeys struct {
	Up, Down, Play, Goal, Clip, Share, Ack, Dispute Binding
}

func newSessionScreen(c *Common, id string) *sessionScreen {
	tr := c.printer()
	s := &sessionScreen{c: c, id: c.NextSeq(), sid: id, prompt: newPrompt(c), loading: true, keys: sessionKeys{
		Up:      bind(tr, false, "↑/k", c.T(keyUp), "up", "k"),
		Down:    bind(tr, false, "↓/j", c.T(keyDown), "down", "j"),
		Play:    bind(tr, true, "enter", c.T(keyPlayClip), "enter"),
		Goal:    bind(tr, true, "g", c.T(keyAddGoal), "g"),
		Clip:    bind(tr, true, "c", c.T(keyAddClip), "c"),
		Share:   bind(tr, true, "s", c.T(keyShareSession), "s"),
		Ack:     bind(tr, true, "a", c.T(keyAckSession), "a"),
		Dispute: bind(tr, true, "d", c.T(keyDisputeSession), "d"),
	}}
	return s
}

func (s *sessionScreen) ID() int      { return s.id }
func (s *sessionScreen) Typing() bool { return s.prompt.active }
func (s *sessionScreen) Title() string {
	if s.ses == nil {
		return s.c.T(coachingTitle)
	}
	return s.c.T(sessionTitle, s.ses.GetTitle())
}
func (s *sessionScreen) SetSize(w, h int) { s.width, s.height = w, h }
func (s *sessionScreen) Init() tea.Cmd    { return s.load() }

func (s *sessionScreen) load() tea.Cmd {
	b, id := s.c.Backend, s.sid
	return s.c.request(s.id, "get", func(ctx context.Context) (tea.Msg, error) {
		ses, err := b.GetCoachingSession(ctx, id)
		return coachingMsg{session: ses, err: err}, err
	})
}

// trainer: the caller is the session's trainer (and may write a draft).
func (s *sessionScreen) trainer() bool {
	return s.ses != nil && s.c.Principal != nil && s.ses.GetTrainerId() == s.c.Principal.GetUserId()
}

func (s *sessionScreen) draft() bool {
	return s.ses.GetStatus() == ecoutev1.CoachingStatus_COACHING_STATUS_DRAFT
}

func (s *sessionScreen) write(what string, f func(ctx context.Context, b client.Coaching) (*ecoutev1.CoachingSession, error)) tea.Cmd {
	b := s.c.Backend
	return s.c.request(s.id, "write", func(ctx context.Context) (tea.Msg, error) {
		ses, err := f(ctx, b)
		return coachingMsg{what: what, session: ses, err: err}, err
	})
}

func (s *sessionScreen) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case coachingMsg:
		s.loading = false
		if msg.err != nil {
			if msg.what == "" {
				s.err = s.c.explain(msg.err)
				return nil
			}
			return cmdOf(StatusMsg{Text: s.c.explain(msg.err), Level: LevelError})
		}
		s.ses = msg.session
		s.cursor = min(s.cursor, max(0, len(s.ses.GetClips())-1))
		if msg.what != "" {
			return cmdOf(StatusMsg{Text: s.c.T(coachingDone, msg.what)})
		}
	case tea.KeyPressMsg:
		if s.prompt.active {
			cmd, v, done := s.prompt.key(msg)
			if !done {
				return cmd
			}
			return s.finish(s.prompt.what, v)
		}
		if s.ses == nil {
			return nil
		}
		k := s.bindings()
		switch {
		case on(msg, k.Down):
			s.cursor = min(s.cursor+1, max(0, len(s.ses.GetClips())-1))
		case on(msg, k.Up):
			s.cursor = max(0, s.cursor-1)
		case on(msg, k.Play):
			if clips := s.ses.GetClips(); s.cursor < len(clips) {
				return cmdOf(openClipMsg{session: s.sid, clip: clips[s.cursor], trainer: s.trainer()})
			}
		case on(msg, k.Goal):
			return s.prompt.open("goal", s.c.T(promptGoal), s.c.T(promptGoalExample))
		case on(msg, k.Clip):
			return s.prompt.open("clip", s.c.T(promptClip), s.c.T(promptClipExample))
		case on(msg, k.Share):
			id := s.sid
			return s.write(s.c.T(coachingShared), func(ctx context.Context, b client.Coaching) (*ecoutev1.CoachingSession, error) {
				return b.ShareCoachingSession(ctx, id)
			})
		case on(msg, k.Ack):
			return s.prompt.open("ack", s.c.T(promptAck), "")
		case on(msg, k.Dispute):
			return s.prompt.open("dispute", s.c.T(promptDispute), "")
		}
	}
	return nil
}

// finish sends what a prompt asked for.
func (s *sessionScreen) finish(what, v string) tea.Cmd {
	id := s.sid
	bad := func(err error) tea.Cmd { return cmdOf(StatusMsg{Text: err.Error(), Level: LevelError}) }
	switch what {
	case "goal":
		g, err := parseGoal(s.c, v)
		if err != nil {
			return bad(err)
		}
		g.SessionID = id
		return s.write(s.c.T(coachingGoalSet), func(ctx context.Context, b client.Coaching) (*ecoutev1.CoachingSession, error) {
			return b.AddCoachingGoal(ctx, g)
		})
	case "clip":
		cl, err := parseClip(s.c, v)
		if err != nil {
			return bad(err)
		}
		cl.SessionID = id
		return s.write(s.c.T(coachingClipAdded), func(ctx context.Context, b client.Coaching) (*ecoutev1.CoachingSession, error) {
			return b.AddClip(ctx, cl)
		})
	case "ack":
		return s.write(s.c.T(coachingAcknowledged), func(ctx context.Context, b client.Coaching) (*ecoutev1.CoachingSession, error) {
			return b.AcknowledgeCoachingSession(ctx, id, v)
		})
	case "dispute":
		if v == "" {
			return nil
		}
		return s.write(s.c.T(coachingDisputed), func(ctx context.Context, b client.Coaching) (*ecoutev1.CoachingSession, error) {
			return b.DisputeCoachingSession(ctx, id, v)
		})
	}
	return nil
}

// parseGoal reads "GRID CRITERION TARGET YYYY-MM-DD".
func parseGoal(c *Common, v string) (client.CoachingGoal, error) {
	f := strings.Fields(v)
	if len(f) != 4 {
		return client.CoachingGoal{}, errors.New(c.T(errGoalForm, v))
	}
	target, err := strconv.ParseFloat(strings.ReplaceAll(f[2], ",", "."), 64)
	if err != nil {
		return client.CoachingGoal{}, errors.New(c.T(errGoalTarget, f[2]))
	}
	due, err := time.ParseInLocation(time.DateOnly, f[3], c.loc())
	if err != nil {
		return client.CoachingGoal{}, errors.New(c.T(errGoalDue, f[3]))
	}
	return client.CoachingGoal{GridID: f[0], CriterionID: f[1], Target: target, DueAt: due.Add(24*time.Hour - time.Second)}, nil
}

// parseClip reads "CALL FROM TO NOTE…" (positions as m:ss or h:mm:ss).
func parseClip(c *Common, v string) (client.CoachingClip, error) {
	f := strings.SplitN(v, " ", 4)
	if len(f) < 3 {
		return client.CoachingClip{}, errors.New(c.T(errClipForm, v))
	}
	from, err := parseClock(c, f[1])
	if err != nil {
		return client.CoachingClip{}, err
	}
	to, err := parseClock(c, f[2])
	if err != nil {
		return client.CoachingClip{}, err
	}
	cl := client.CoachingClip{CallID: f[0], From: from, To: to}
	if len(f) == 4 {
		cl.Note = strings.TrimSpace(f[3])
	}
	return cl, nil
}

// parseClock reads m:ss or h:mm:ss.
func parseClock(c *Common, s string) (time.Duration, error) {
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, errors.New(c.T(errClipPosition, s))
	}
	var d time.Duration
	for _, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return 0, errors.New(c.T(errClipPosition, s))
		}
		d = d*60 + time.Duration(n)
	}
	return d * time.Second, nil
}

// bindings are the keys, disabled with a reason where they do not apply.
func (s *sessionScreen) bindings() sessionKeys {
	k := s.keys
	if s.ses == nil {
		return k
	}
	if len(s.ses.GetClips()) == 0 {
		k.Play.disable(s.c.T(reasonNoClip))
	}
	for _, b := range []*Binding{&k.Goal, &k.Clip, &k.Share} {
		switch {
		case !s.trainer():
			b.disable(s.c.T(reasonNotTrainer, s.c.role()))
		case !s.draft():
			b.disable(s.c.T(reasonNotDraft))
		}
	}
	for _, b := range []*Binding{&k.Ack, &k.Dispute} {
		switch {
		case s.c.Principal == nil || s.ses.GetAgentId() != s.c.Principal.GetAgentId() || s.trainer():
			b.disable(s.c.T(reasonNotYourSession))
		case s.ses.GetStatus() != ecoutev1.CoachingStatus_COACHING_STATUS_SHARED:
			b.disable(s.c.T(reasonNotShared))
		}
	}
	return k
}

func (s *sessionScreen) View() string {
	st := s.c.Styles
	if s.err != "" {
		return st.Error.Render(s.err)
	}
	if s.prompt.active {
		return s.prompt.view(s.c, s.width)
	}
	if s.ses == nil {
		return st.Subtle.Render(s.c.T(listLoading))
	}
	x := s.ses
	w := max(20, s.width)
	var lines []string
	add := func(l string) { lines = append(lines, ansi.Truncate(l, w, "…")) }
	add(st.Title.Render(x.GetTitle()) + "  " + st.Value.Render(s.c.coachingStatus(x.GetStatus())))
	add(st.Label.Render(s.c.T(lblAgent)) + " " + x.GetAgentName() + "   " + st.Label.Render(s.c.T(lblTrainer)) + " " + x.GetTrainerName())
	add(st.Muted.Render(s.c.T(sessionDates, s.c.day(x.GetCreatedAt()), s.c.day(x.GetRetainedUntil()))))
	add("")
	add(st.Title.Render(s.c.T(sessionGoals, len(x.GetGoals()))))
	for _, g := range x.GetGoals() {
		add("  " + s.c.T(sessionGoal, g.GetCriterionLabel(), g.GetTarget(), s.c.day(g.GetDueAt())))
	}
	add(st.Title.Render(s.c.T(sessionClips, len(x.GetClips()))))
	for i, cl := range x.GetClips() {
		mark := "  "
		if i == s.cursor {
			mark = "› "
		}
		line := mark + s.c.T(sessionClip, s.c.day(cl.GetCallStartedAt()), fmtDurationPB(cl.GetFrom()), fmtDurationPB(cl.GetTo()))
		if s.trainer() {
			line += " · " + s.c.T(sessionClipCaptures, cl.GetCaptures())
		}
		if i == s.cursor {
			line = st.TableSelected.Render(line)
		}
		add(line)
		add("    " + st.Muted.Render(s.c.T(sessionClipKept, s.c.day(cl.GetRetainedUntil()))))
		if cl.GetNote() != "" {
			add("    " + st.Subtle.Render(cl.GetNote()))
		}
	}
	add(st.Title.Render(s.c.T(sessionEvals, len(x.GetEvaluations()))))
	for _, e := range x.GetEvaluations() {
		total := "—"
		if e.GetHasTotal() {
			total = s.c.T(sessionTotal, e.GetTotal())
		}
		add("  " + s.c.T(sessionEval, s.c.day(e.GetCallStartedAt()), e.GetGridName(), total, s.c.day(e.GetRetainedUntil())))
	}
	add(st.Title.Render(s.c.T(sessionNotes)))
	notes := x.GetNotes()
	if notes == "" {
		notes = st.Muted.Render(s.c.T(sessionNoNotes))
	}
	for _, l := range strings.Split(ansi.Wordwrap(notes, w-2, ""), "\n") {
		add("  " + l)
	}
	if x.GetAgentComment() != "" {
		add(st.Label.Render(s.c.T(sessionAgentComment)) + " " + x.GetAgentComment())
	}
	if s.height > 0 && len(lines) > s.height {
		lines = lines[:s.height]
	}
	return strings.Join(lines, "\n")
}

func (s *sessionScreen) Keys() []Group {
	k := s.bindings()
	return []Group{{Title: s.c.T(coachingTitle), Keys: []Binding{k.Play, k.Down, k.Up, k.Goal, k.Clip, k.Share, k.Ack, k.Dispute}}}
}

// clipScreen plays a clip of a session's call with the screen capture at
// the playback position beside it (the session's trainer only).
type clipScreen struct {
	c       *Common
	id      int
	session string
	clip    *ecoutev1.CoachingClip
	trainer bool
	player  *playerWidget
	caps    []*ecoutev1.ScreenCapture
	capErr  string
	thumbs  map[string]*thumb
	asked   map[string]bool
	export  Binding
	width   int
	height  int
}

func newClipScreen(c *Common, m openClipMsg) *clipScreen {
	s := &clipScreen{c: c, id: c.NextSeq(), session: m.session, clip: m.clip, trainer: m.trainer,
		player: newPlayerWidget(c), thumbs: map[string]*thumb{}, asked: map[string]bool{},
		export: bind(c.printer(), true, "x", c.T(keyExportCapture), "x")}
	return s
}

func (s *clipScreen) ID() int { return s.id }
func (s *clipScreen) Title() string {
	return s.c.T(clipTitle, fmtDurationPB(s.clip.GetFrom()), fmtDurationPB(s.clip.GetTo()))
}
func (s *clipScreen) Restyle() { s.player.Restyle() }
func (s *clipScreen) SetSize(w, h int) {
	s.width, s.height = w, h
	s.player.SetWidth(min(w-2, 80))
}
func (s *clipScreen) Close() tea.Cmd { return s.player.Detach() }

func (s *clipScreen) Init() tea.Cmd {
	callID, b, eng, sid, from := s.clip.GetCallId(), s.c.Backend, s.c.Engine, s.session, s.clip.GetFrom().AsDuration()
	cmds := []tea.Cmd{s.c.request(s.id, "track", func(ctx context.Context) (tea.Msg, error) {
		fail := func(err error) (tea.Msg, error) { return trackOpenedMsg{err: err}, err }
		if eng == nil {
			return fail(errNoEngine)
		}
		wf, err := b.GetWaveform(ctx, callID)
		if err != nil {
			return fail(err)
		}
		size := wf.GetTotalSize()
		if size <= 0 {
			if size, err = b.AudioSize(ctx, callID); err != nil {
				return fail(err)
			}
		}
		tr, err := eng.Open(b.AudioSource(callID, size), playerInfo(b.PlaybackInfo(callID, wf, size)))
		if err != nil {
			return fail(err)
		}
		// The track starts at the clip, before the widget has it: no
		// seek of the user's can cross this one.
		tr.Seek(from)
		return trackOpenedMsg{track: tr, wave: wf}, nil
	})}
	if s.trainer {
		cmds = append(cmds, s.c.request(s.id, "captures", func(ctx context.Context) (tea.Msg, error) {
			caps, err := b.ListScreenCaptures(ctx, sid, callID)
			return capturesMsg{caps: caps, err: err}, err
		}))
	}
	return tea.Batch(cmds...)
}

// current is the capture at the playback position (nil: none).
func (s *clipScreen) current() *ecoutev1.ScreenCapture {
	if i := captureAt(s.caps, s.player.pos); i >= 0 {
		return s.caps[i]
	}
	return nil
}

// fetch asks for the current capture's image once.
func (s *clipScreen) fetch() tea.Cmd {
	cur := s.current()
	if cur == nil || s.asked[cur.GetCaptureId()] {
		return nil
	}
	s.asked[cur.GetCaptureId()] = true
	b, sid, callID, id := s.c.Backend, s.session, s.clip.GetCallId(), cur.GetCaptureId()
	return s.c.request(s.id, "image-"+id, func(ctx context.Context) (tea.Msg, error) {
		resp, err := b.GetScreenCapture(ctx, sid, callID, id)
		if err != nil {
			return captureImageMsg{id: id, err: err}, err
		}
		t, err := decodeThumb(resp.GetImage())
		return captureImageMsg{id: id, thumb: t, err: err}, nil
	})
}

func (s *clipScreen) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case trackOpenedMsg:
		if msg.err != nil {
			s.player.Fail(s.c.T(playerErrFmt, s.c.explain(msg.err)))
			return nil
		}
		cmd := s.player.Attach(msg.track)
		s.player.pos = msg.track.Position()
		return tea.Batch(cmd, s.fetch())
	case capturesMsg:
		if msg.err != nil {
			s.capErr = s.c.explain(msg.err)
			return nil
		}
		s.caps = msg.caps
		return s.fetch()
	case captureImageMsg:
		if msg.err != nil {
			s.capErr = s.c.T(captureUnreadable, s.c.explain(msg.err))
			return nil
		}
		s.thumbs[msg.id] = msg.thumb
		return nil
	case captureSavedMsg:
		if msg.err != nil {
			return cmdOf(StatusMsg{Text: msg.err.Error(), Level: LevelError})
		}
		return cmdOf(StatusMsg{Text: s.c.T(captureSaved, msg.path)})
	case tea.KeyPressMsg:
		if on(msg, s.export) && s.trainer {
			return s.save()
		}
	}
	cmd, _ := s.player.Update(msg)
	return tea.Batch(cmd, s.fetch())
}

// save writes the current capture's image, as uploaded, to the user's
// cache directory.
func (s *clipScreen) save() tea.Cmd {
	cur := s.current()
	if cur == nil {
		return nil
	}
	b, sid, callID, c := s.c.Backend, s.session, s.clip.GetCallId(), s.c
	return s.c.request(s.id, "save", func(ctx context.Context) (tea.Msg, error) {
		resp, err := b.GetScreenCapture(ctx, sid, callID, cur.GetCaptureId())
		if err != nil {
			return captureSavedMsg{err: err}, err
		}
		dir, err := os.UserCacheDir()
		if err != nil {
			dir = os.TempDir()
		}
		dir = filepath.Join(dir, "ecoute", "captures")
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return captureSavedMsg{err: errors.New(c.T(captureNotSaved, err))}, nil
		}
		path := filepath.Join(dir, fmt.Sprintf("%s-%s.%s", callID, strings.ReplaceAll(fmtDurationPB(cur.GetOffset()), ":", "m"), cur.GetFormat()))
		if err := os.WriteFile(path, resp.GetImage(), 0o600); err != nil {
			return captureSavedMsg{err: errors.New(c.T(captureNotSaved, err))}, nil
		}
		return captureSavedMsg{path: path}, nil
	})
}

func (s *clipScreen) View() string {
	st := s.c.Styles
	lines := []string{s.player.View()}
	if note := s.clip.GetNote(); note != "" {
		lines = append(lines, st.Subtle.Render(ansi.Truncate(note, s.width, "…")))
	}
	lines = append(lines, "")
	used := strings.Count(strings.Join(lines, "\n"), "\n") + 2
	switch {
	case !s.trainer:
		lines = append(lines, st.Muted.Render(ansi.Truncate(s.c.T(captureTrainerOnly), s.width, "…")))
	case s.capErr != "":
		lines = append(lines, st.Error.Render(ansi.Truncate(s.capErr, s.width, "…")))
	case len(s.caps) == 0:
		lines = append(lines, st.Muted.Render(s.c.T(captureNone)))
	default:
		cur := s.current()
		if cur == nil {
			lines = append(lines, st.Muted.Render(s.c.T(captureBefore, fmtDurationPB(s.caps[0].GetOffset()))))
			break
		}
		i := captureAt(s.caps, s.player.pos)
		lines = append(lines, ansi.Truncate(st.Label.Render(s.c.T(captureAtLabel, fmtDurationPB(cur.GetOffset()), i+1, len(s.caps),
			cur.GetFormat(), cur.GetWidth(), cur.GetHeight())), s.width, "…"))
		if t := s.thumbs[cur.GetCaptureId()]; t != nil {
			rows := min(capRows, max(2, s.height-used-1))
			lines = append(lines, t.halfBlock(min(s.width-2, 2*rows*t.w/max(1, t.h)), rows))
		} else {
			lines = append(lines, st.Subtle.Render(s.c.T(listLoading)))
		}
	}
	return strings.Join(lines, "\n")
}

func (s *clipScreen) Keys() []Group {
	e := s.export
	if !s.trainer {
		e.disable(s.c.T(captureTrainerOnly))
	}
	return []Group{{Title: s.c.T(helpGroupClip), Keys: []Binding{e}}, s.player.group()}
}
