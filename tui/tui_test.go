package tui

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/client"
	"github.com/ecoute/ecoute/player"
	"github.com/ecoute/ecoute/themes"
)

// fakeBackend is the gateway as the tests see it: it serves n generated
// calls in pages; the other capabilities answer ErrUnsupported unless a
// test's own fake (evalTestBackend, auditBackend …) provides them.
type fakeBackend struct {
	client.Unimplemented
	mu       sync.Mutex
	n        int
	requests []string // page tokens asked for
	reqs     []client.CallQuery
	down     bool // ListCalls answers Unavailable
	loginErr error
	// mustChange: the login answers that the password must be changed.
	mustChange bool
	// role and methods, when set, are the principal the login returns.
	role    string
	methods []string
	// estimate: the first page's total is an estimate (1.5×n, as the
	// server says "about"); the next pages have the exact count.
	estimate bool
}

func fakeCall(i int) *ecoutev1.Call {
	start := time.Date(2026, 11, 23, 14, 5, 0, 0, time.UTC).Add(-time.Duration(i) * time.Hour)
	return &ecoutev1.Call{
		CallId:        fmt.Sprintf("call-%03d", i),
		StartedAt:     timestamppb.New(start),
		Duration:      durationpb.New(time.Duration(60+i) * time.Second),
		AgentId:       fmt.Sprintf("ag-%d", i%7),
		AgentName:     fmt.Sprintf("Agent %d", i%7),
		TeamId:        "tm-a",
		TeamName:      "Team A",
		CampaignId:    "cp-energy",
		CampaignName:  "Energy",
		Evaluated:     i%3 == 0,
		RetainedUntil: timestamppb.New(start.AddDate(0, 6, 0)),
	}
}

func (f *fakeBackend) Login(_ context.Context, login, password string) (*ecoutev1.LoginResponse, error) {
	if f.loginErr != nil {
		return nil, f.loginErr
	}
	role := f.role
	if role == "" {
		role = "supervisor"
	}
	return &ecoutev1.LoginResponse{Token: "t", Principal: &ecoutev1.Principal{Login: login, Role: role, AllowedMethods: f.methods},
		PasswordChangeRequired: f.mustChange}, nil
}

func (f *fakeBackend) Logout(context.Context) error { return nil }

func (f *fakeBackend) ListCalls(_ context.Context, req client.CallQuery) (*ecoutev1.ListCallsResponse, error) {
	f.mu.Lock()
	f.requests = append(f.requests, req.PageToken)
	f.reqs = append(f.reqs, req)
	down := f.down
	f.mu.Unlock()
	if down {
		return nil, fmt.Errorf("list calls: %w", client.ErrUnreachable)
	}
	start := 0
	if req.PageToken != "" {
		start, _ = strconv.Atoi(req.PageToken)
	}
	end := min(f.n, start+req.PageSize)
	resp := &ecoutev1.ListCallsResponse{TotalSize: int64(f.n)}
	if f.estimate && start == 0 {
		resp.TotalSize, resp.TotalIsEstimate = int64(f.n)*3/2, true
	}
	for i := start; i < end; i++ {
		resp.Calls = append(resp.Calls, fakeCall(i))
	}
	if end < f.n {
		resp.NextPageToken = strconv.Itoa(end)
	}
	if start == 0 {
		// The names the server offers for completion, as the real one
		// does on the first page.
		for i := range 7 {
			resp.Agents = append(resp.Agents, &ecoutev1.FilterChoice{Id: fmt.Sprintf("ag-%d", i), Name: fmt.Sprintf("Agent %d", i)})
		}
		resp.Teams = []*ecoutev1.FilterChoice{{Id: "tm-a", Name: "Team A"}, {Id: "tm-b", Name: "Team B"}}
	}
	return resp, nil
}

func (f *fakeBackend) GetCall(_ context.Context, id string) (*ecoutev1.Call, error) {
	var i int
	fmt.Sscanf(id, "call-%d", &i)
	return fakeCall(i), nil
}

func (f *fakeBackend) GetWaveform(context.Context, string) (*ecoutev1.GetWaveformResponse, error) {
	// A fixed, speech-like envelope: bursts and pauses.
	peaks := make([]byte, 245)
	for i := range peaks {
		if i%37 < 28 {
			peaks[i] = byte((i * 53) % 256)
		}
	}
	return &ecoutev1.GetWaveformResponse{Peaks: peaks, Bucket: durationpb.New(time.Second),
		FrameOffsets: []int64{0, 100}, SampleRate: 16000, SamplesPerFrame: 576}, nil
}

func (f *fakeBackend) PlaybackInfo(_ string, wf *ecoutev1.GetWaveformResponse, size int64) client.Playback {
	return client.Playback{Size: size, FrameOffsets: wf.GetFrameOffsets(), SampleRate: int(wf.GetSampleRate()),
		SamplesPerFrame: int(wf.GetSamplesPerFrame()), Channels: int(wf.GetChannels())}
}

func (f *fakeBackend) AudioSize(context.Context, string) (int64, error) { return 200, nil }

func (f *fakeBackend) AudioSource(string, int64) client.ByteSource { return nil }

// answer runs a request's Cmd and returns the screen's message inside its
// envelope (or the message itself when it has none).
func answer(cmd tea.Cmd) tea.Msg {
	msg := cmd()
	if r, ok := msg.(replyMsg); ok {
		return r.msg
	}
	return msg
}

// deliverTo hands s a message as the App would: an answer is unwrapped
// from its envelope, and dropped when a newer request superseded it.
func deliverTo(c *Common, s Screen, msg tea.Msg) tea.Cmd {
	r, ok := msg.(replyMsg)
	if !ok {
		return s.Update(msg)
	}
	if r.counted {
		c.inflight.Add(-1)
	}
	if !c.reqs.current(r.to) {
		return nil
	}
	return s.Update(r.msg)
}

// driveApp runs cmd and everything it leads to through the App, batches
// included, except the player's position refresh (it loops while playing).
func driveApp(a *App, cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	switch m := cmd().(type) {
	case nil, playerTickMsg, tea.QuitMsg, clearStatusMsg:
	case tea.BatchMsg:
		for _, c := range m {
			driveApp(a, c)
		}
	default:
		_, next := a.Update(m)
		driveApp(a, next)
	}
}

// drive runs cmd and everything it leads to on screen s, as the App would,
// batches included; messages skip accepts are dropped (timers a test
// drives by hand).
func drive(c *Common, s Screen, cmd tea.Cmd, skip func(tea.Msg) bool) {
	if cmd == nil {
		return
	}
	msg := cmd()
	switch m := msg.(type) {
	case nil:
		return
	case tea.BatchMsg:
		for _, c2 := range m {
			drive(c, s, c2, skip)
		}
		return
	case playerTickMsg:
		return // the position refresh loops while playing: driven by hand
	case replyMsg:
		if skip != nil && skip(m.msg) {
			if m.counted {
				c.inflight.Add(-1)
			}
			return
		}
	}
	if skip != nil && skip(msg) {
		return
	}
	drive(c, s, deliverTo(c, s, msg), skip)
}

type fakeTrack struct {
	mu      sync.Mutex
	pos     time.Duration
	playing bool
	closed  bool
	events  chan player.Event
}

// newFakeTrack is a track that sends no event: its channel is closed, so
// the player widget's wait for events ends at once instead of blocking the
// tests that run Cmds synchronously.
func newFakeTrack() *fakeTrack {
	ch := make(chan player.Event)
	close(ch)
	return &fakeTrack{events: ch}
}

func (t *fakeTrack) Play()   { t.mu.Lock(); t.playing = true; t.mu.Unlock() }
func (t *fakeTrack) Pause()  { t.mu.Lock(); t.playing = false; t.mu.Unlock() }
func (t *fakeTrack) Toggle() { t.mu.Lock(); t.playing = !t.playing; t.mu.Unlock() }
func (t *fakeTrack) Seek(p time.Duration) {
	t.mu.Lock()
	t.pos = max(0, min(p, t.Duration()))
	t.mu.Unlock()
}
func (t *fakeTrack) Position() time.Duration { t.mu.Lock(); defer t.mu.Unlock(); return t.pos }
func (t *fakeTrack) Duration() time.Duration { return 4*time.Minute + 5*time.Second }
func (t *fakeTrack) Playing() bool           { t.mu.Lock(); defer t.mu.Unlock(); return t.playing }
func (t *fakeTrack) Events() <-chan player.Event {
	return t.events
}
func (t *fakeTrack) Close() error { t.mu.Lock(); t.closed = true; t.mu.Unlock(); return nil }
func (t *fakeTrack) isClosed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.closed
}

type fakeEngine struct{ opened []*fakeTrack }

func (e *fakeEngine) Open(player.Source, player.Info) (player.Track, error) {
	t := newFakeTrack()
	e.opened = append(e.opened, t)
	return t, nil
}
func (e *fakeEngine) Output() player.OutputKind { return player.OutputNull }
func (e *fakeEngine) OutputReason() string      { return "silent: no sound device" }

func testCommon(t *testing.T, b Backend, visible ...string) *Common {
	t.Helper()
	t.Setenv("NO_COLOR", "")
	th, _ := themes.Lookup("dark")
	return &Common{
		Ctx: context.Background(), Width: 100, Height: 30,
		Theme: th, Styles: themes.New(th, true), Keys: newGlobalKeys(english),
		Backend: b, Engine: &fakeEngine{}, ServerAddr: "localhost:7443",
		Principal: &ecoutev1.Principal{Login: "ana", Role: "supervisor", VisibleFields: visible},
		Loc:       time.UTC,
		tick:      instantTick,
	}
}

// instantTick fires a timer at once: tests drive time by hand.
func instantTick(_ time.Duration, f func(time.Time) tea.Msg) tea.Cmd {
	return func() tea.Msg { return f(time.Time{}) }
}

var allFields = []string{"call.started_at", "call.duration", "call.agent_name", "call.team_name", "call.campaign_name", "call.evaluated"}

func press(s string) tea.KeyPressMsg {
	switch s {
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	case "right":
		return tea.KeyPressMsg{Code: tea.KeyRight}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	}
	r := []rune(s)[0]
	return tea.KeyPressMsg{Code: r, Text: s}
}

func typeText(s Screen, text string) {
	for _, r := range text {
		s.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

func TestCallsPagingFetchesAheadNearBottom(t *testing.T) {
	n := 2*callsPageSize + 20
	b := &fakeBackend{n: n}
	c := testCommon(t, b, allFields...)
	s := newCallsScreen(c)
	s.SetSize(100, 27)
	if cmd := s.Update(answer(s.Init())); cmd != nil {
		t.Fatal("first page arrived with the cursor at the top: no prefetch expected")
	}
	if len(s.list.rows) != callsPageSize || len(b.requests) != 1 {
		t.Fatalf("after first page: %d rows, %d requests", len(s.list.rows), len(b.requests))
	}
	// Walk down until a fetch is asked for.
	var cmd tea.Cmd
	steps := 0
	for cmd == nil && steps < callsPageSize {
		cmd = s.Update(press("down"))
		steps++
	}
	if cmd == nil {
		t.Fatal("no next page requested before the last row")
	}
	if want := callsPageSize - callsPrefetch; s.list.cursor != want {
		t.Errorf("next page requested at row %d, want %d (prefetch %d rows ahead)", s.list.cursor, want, callsPrefetch)
	}
	// While it is in flight, moving does not ask again.
	if again := s.Update(press("down")); again != nil {
		t.Error("a second request was made while one was in flight")
	}
	s.Update(answer(cmd))
	if len(s.list.rows) != 2*callsPageSize || b.requests[1] != strconv.Itoa(callsPageSize) {
		t.Errorf("after second page: %d rows, requests %v", len(s.list.rows), b.requests)
	}
	// The last page, then nothing more.
	for i := 0; i < n; i++ {
		if cmd := s.Update(press("down")); cmd != nil {
			s.Update(answer(cmd))
		}
	}
	if len(s.list.rows) != n || len(b.requests) != 3 || !s.list.done {
		t.Errorf("end: %d rows, %d requests, done %v", len(s.list.rows), len(b.requests), s.list.done)
	}
	if got := ansi.Strip(s.View()); !strings.Contains(got, fmt.Sprintf("%d in all", n)) {
		t.Errorf("footer does not show the total:\n%s", got)
	}
}

func TestCallsRendersOnlyVisibleRows(t *testing.T) {
	b := &fakeBackend{n: 120}
	c := testCommon(t, b, allFields...)
	s := newCallsScreen(c)
	s.SetSize(100, 10)
	s.Update(answer(s.Init()))
	out := ansi.Strip(s.View())
	if lines := strings.Count(out, "\n") + 1; lines != 10 {
		t.Errorf("view has %d lines, want 10:\n%s", lines, out)
	}
	if !strings.Contains(out, "2026-11-23 14:05") || strings.Contains(out, "call-010") {
		t.Errorf("unexpected view:\n%s", out)
	}
	if strings.Contains(out, fmtTime(fakeCall(7).GetStartedAt(), time.UTC)) {
		t.Errorf("row 8 rendered in a 7-row window:\n%s", out)
	}
}

func TestCallsStaleReplyIgnored(t *testing.T) {
	b := &fakeBackend{n: 10}
	c := testCommon(t, b, allFields...)
	s := newCallsScreen(c)
	s.SetSize(100, 20)
	stale := s.Init()()
	fresh := s.reload()() // the user pressed r before the first answer
	deliverTo(c, s, stale)
	if len(s.list.rows) != 0 {
		t.Fatalf("a superseded page was shown (%d rows)", len(s.list.rows))
	}
	deliverTo(c, s, fresh)
	if len(s.list.rows) != 10 {
		t.Errorf("fresh page: %d rows", len(s.list.rows))
	}
}

func TestColumnsFollowVisibleFields(t *testing.T) {
	b := &fakeBackend{n: 3}
	c := testCommon(t, b, "call.started_at", "call.duration", "call.team_name", "call.evaluated")
	s := newCallsScreen(c)
	s.SetSize(100, 10)
	s.Update(answer(s.Init()))
	out := ansi.Strip(s.View())
	header := strings.Split(out, "\n")[1] // below the filter line
	for _, want := range []string{english.T(colDate), english.T(colDuration), english.T(colTeam), english.T(colEvaluated)} {
		if !strings.Contains(header, want) {
			t.Errorf("header %q lacks %q", header, want)
		}
	}
	for _, hidden := range []string{english.T(colAgent), english.T(colCampaign)} {
		if strings.Contains(header, hidden) {
			t.Errorf("header %q shows hidden column %q", header, hidden)
		}
	}
	if strings.Contains(out, "Agent 0") || strings.Contains(out, "Energy") {
		t.Errorf("hidden values rendered:\n%s", out)
	}
	// The freed width goes to the columns left: the team column is wide.
	if !strings.Contains(header, english.T(colTeam)+strings.Repeat(" ", 20)) {
		t.Errorf("team column did not take the free width: %q", header)
	}
}

func TestLateCallReplyIgnored(t *testing.T) {
	b := &fakeBackend{n: 10}
	eng := &fakeEngine{}
	c := testCommon(t, b, allFields...)
	c.Engine = eng
	a := &App{c: c}
	a.stack = []Screen{newCallsScreen(c)}
	a.Update(tea.WindowSizeMsg{Width: 100, Height: 30})

	// Open call 1, keep its loading Cmds, go back, open call 2.
	_, cmd := a.Update(OpenCallMsg{ID: "call-001"})
	firstLoad := collect(cmd)
	first := a.top().(*callScreen)
	a.Update(BackMsg{})
	_, cmd = a.Update(OpenCallMsg{ID: "call-002"})
	second := a.top().(*callScreen)
	secondLoad := collect(cmd)

	for _, m := range firstLoad { // late: for the screen that is gone
		if _, next := a.Update(m); next != nil {
			t.Fatalf("a late reply for a closed screen did something: %T", m)
		}
	}
	if second.call != nil {
		t.Fatalf("call screen 2 took call %s from a late reply", second.call.GetCallId())
	}
	var opening []tea.Cmd
	for _, m := range secondLoad {
		_, next := a.Update(m)
		opening = append(opening, next)
	}
	if second.call.GetCallId() != "call-002" {
		t.Fatalf("call screen 2 shows %q", second.call.GetCallId())
	}
	opened := collect(tea.Batch(opening...))
	// A track opened for the first screen arrives late: it must be closed,
	// not played.
	lateTrack := newFakeTrack()
	_, cmd = a.Update(replyMsg{to: address{screen: first.id, key: "track"}, msg: trackOpenedMsg{track: lateTrack}})
	if cmd == nil {
		t.Fatal("late track not closed")
	}
	cmd()
	if !lateTrack.isClosed() {
		t.Error("late track left open")
	}
	for _, m := range opened {
		a.Update(m)
	}
	if second.player.track == nil || second.player.track == player.Track(lateTrack) {
		t.Fatal("the call screen did not get its own track")
	}
	out := ansi.Strip(a.render())
	for _, want := range []string{"0:00 / 4:05", "Agent 2", "silent: no sound device", "ana (supervisor)"} {
		if !strings.Contains(out, want) {
			t.Errorf("call view lacks %q:\n%s", want, out)
		}
	}
	// Space plays (in a Cmd), right seeks 5 s.
	a.Update(press("space"))
	_, cmd = a.Update(press("space"))
	if msg := cmd(); msg != nil {
		a.Update(msg)
	}
	_, cmd = a.Update(press("right"))
	a.Update(cmd())
	if got := second.player.track.Position(); got != 5*time.Second {
		t.Errorf("after →: position %v, want 5s", got)
	}
	// Leaving the screen closes the track.
	_, cmd = a.Update(press("q"))
	runAll(cmd)
	if !eng.opened[0].isClosed() {
		t.Error("leaving the call screen did not close its track")
	}
}

// runAll runs a Cmd and the Cmds of any batch it returns, ignoring results.
func runAll(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	switch m := cmd().(type) {
	case tea.BatchMsg:
		for _, c := range m {
			runAll(c)
		}
	}
}

func TestLoginErrorKeepsTypedLogin(t *testing.T) {
	b := &fakeBackend{loginErr: &client.ErrBadCredentials{Message: "bad"}}
	c := testCommon(t, b)
	c.Principal = nil
	s := newLoginScreen(c, "", "")
	s.SetSize(100, 27)
	s.Init()
	typeText(s, "marie")
	s.Update(press("tab"))
	typeText(s, "secret")
	cmd := s.Update(press("enter"))
	if cmd == nil || !s.busy {
		t.Fatal("enter on the password did not submit")
	}
	if follow := s.Update(answer(cmd)); follow != nil {
		if _, ok := follow().(loggedInMsg); ok {
			t.Fatal("a failed login logged in")
		}
	}
	if s.inputs[0].Value() != "marie" {
		t.Errorf("login field = %q after error, want the typed login", s.inputs[0].Value())
	}
	out := ansi.Strip(s.View())
	if !strings.Contains(out, english.T(loginErrWrong)) {
		t.Errorf("error not shown:\n%s", out)
	}
	if strings.Contains(out, "secret") {
		t.Error("password shown in clear")
	}

	b.loginErr = fmt.Errorf("login: %w", client.ErrUnreachable)
	s.Update(answer(s.Update(press("enter"))))
	if out := ansi.Strip(s.View()); !strings.Contains(out, "unreachable") {
		t.Errorf("unreachable server not explained:\n%s", out)
	}
}

func TestLoginThenCalls(t *testing.T) {
	b := &fakeBackend{n: 5}
	c := testCommon(t, b)
	th := c.Theme
	a := NewApp(context.Background(), b, &fakeEngine{}, th, "localhost:7443", "ana", "pw")
	a.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	ls := a.top().(*loginScreen)
	_, cmd := a.Update(ls.submit()())
	_, cmd = a.Update(cmd())
	if _, ok := a.top().(*callsScreen); !ok {
		t.Fatalf("after login the top screen is %T", a.top())
	}
	// The first page fetch (maybe in a batch).
	switch m := cmd().(type) {
	case tea.BatchMsg:
		for _, c := range m {
			if c != nil {
				a.Update(c())
			}
		}
	default:
		a.Update(m)
	}
	out := ansi.Strip(a.render())
	if !strings.Contains(out, "call 1 of 5 loaded, 5 in all") {
		t.Errorf("calls screen:\n%s", out)
	}
	// Help overlay lists the screen's keys, then closes.
	a.Update(press("?"))
	if out := ansi.Strip(a.render()); !strings.Contains(out, english.T(keyOpen)) || !strings.Contains(out, english.T(keyReload)) {
		t.Errorf("help overlay:\n%s", out)
	}
	a.Update(tea.KeyPressMsg{Code: tea.KeyEscape})
	if a.showAll {
		t.Error("esc did not close help")
	}
}

func TestExpiredSessionReturnsToLogin(t *testing.T) {
	b := &fakeBackend{n: 5}
	c := testCommon(t, b, allFields...)
	a := &App{c: c}
	a.stack = []Screen{newCallsScreen(c)}
	a.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	s := a.top().(*callsScreen)
	s.Init()
	err := fmt.Errorf("list calls: %w", client.ErrSessionEnded)
	a.Update(replyMsg{to: address{screen: s.id}, msg: callsPageMsg{err: err}, err: err})
	ls, ok := a.top().(*loginScreen)
	if !ok {
		t.Fatalf("top screen is %T, want the login screen", a.top())
	}
	if ls.inputs[0].Value() != "ana" || ls.err != english.T(errSessionExpired) || c.Principal != nil {
		t.Errorf("login %q, err %q, principal %v", ls.inputs[0].Value(), ls.err, c.Principal)
	}
}
