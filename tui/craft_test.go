package tui

import (
	"context"
	"errors"
	"image/color"
	"io"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/themes"
)

// bgMsg is what the terminal answers to tea.RequestBackgroundColor.
func bgMsg(dark bool) tea.BackgroundColorMsg {
	if dark {
		return tea.BackgroundColorMsg{Color: color.Black}
	}
	return tea.BackgroundColorMsg{Color: color.White}
}

// TestBackgroundRebuildsStyles: an auto theme follows the background the
// terminal reports, screens included (their text inputs cache styles).
func TestBackgroundRebuildsStyles(t *testing.T) {
	b := &fakeBackend{n: 5}
	c := testCommon(t, b, allFields...)
	th, _ := themes.Lookup("auto")
	c.Theme, c.Styles = th, themes.New(th, true)
	a := &App{c: c}
	s := newCallsScreen(c)
	a.stack = []Screen{s}
	a.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	a.Update(s.Init()())
	dark := a.render()
	a.Update(bgMsg(false))
	if a.c.Styles.IsDark {
		t.Fatal("a light background left the dark styles")
	}
	light := a.render()
	if dark == light {
		t.Error("the screen looks the same on a light background")
	}
	if ansi.Strip(dark) != ansi.Strip(light) {
		t.Error("the text changed with the background; only colours should")
	}
	if s.input.Styles().Focused.Text.GetForeground() != a.c.Styles.TextInput.Focused.Text.GetForeground() {
		t.Error("the filter input kept its old styles")
	}
	// A theme with a fixed mode ignores the terminal.
	fixed, _ := themes.Lookup("dark")
	a.c.Theme = fixed
	a.Update(bgMsg(false))
	if !a.c.Styles.IsDark {
		t.Error("the dark theme turned light")
	}
}

// TestKeyOverrides: a config rebinding applies to the screen and its help;
// an unknown action is refused with the list of known ones.
func TestKeyOverrides(t *testing.T) {
	if err := (KeyOverrides{"calls.filtre": {"f"}}).Validate(english); err == nil || !strings.Contains(err.Error(), "calls.filter") {
		t.Errorf("unknown action: %v", err)
	}
	if err := (KeyOverrides{"calls.filter": {}}).Validate(english); err == nil {
		t.Error("an empty key list was accepted")
	}
	// A key another action of the screen answers to is refused.
	if err := (KeyOverrides{"calls.filter": {"f"}}).Validate(english); err == nil || !strings.Contains(err.Error(), "calls.pagedown") {
		t.Errorf("filter on pagedown's f: %v", err)
	}
	ov := KeyOverrides{"calls.filter": {"F"}, "player.toggle": {"p"}, "global.help": {"f1"}}
	if err := ov.Validate(english); err != nil {
		t.Fatal(err)
	}
	b := &fakeBackend{n: 5}
	c := testCommon(t, b, allFields...)
	c.KeyOverrides = ov
	ov.apply("global", &c.Keys)
	a := &App{c: c}
	s := newCallsScreen(c)
	a.stack = []Screen{s}
	a.Update(tea.WindowSizeMsg{Width: 120, Height: 30})
	a.Update(s.Init()())
	a.Update(press("/"))
	if s.filtering {
		t.Error("/ still opens the filter after rebinding it to f")
	}
	a.Update(press("F"))
	if !s.filtering {
		t.Fatal("F does not open the filter")
	}
	a.Update(tea.KeyPressMsg{Code: tea.KeyEscape})
	a.Update(tea.KeyPressMsg{Code: tea.KeyF1})
	if !a.showAll {
		t.Fatal("f1 does not open the help")
	}
	if out := ansi.Strip(a.render()); !strings.Contains(out, "F  ") || !strings.Contains(out, "f1") {
		t.Errorf("the help does not show the new keys:\n%s", out)
	}
	// The player's binding, through the call screen.
	cs := newCallScreen(c, "call-001")
	if !cs.player.keys.Toggle.is(press("p")) || cs.player.keys.Toggle.is(press("space")) {
		t.Errorf("player toggle keys = %v", cs.player.keys.Toggle.Keys())
	}
	// A disabled binding stays disabled when rebound.
	if cs.player.keys.Slower.Enabled() != newPlayerKeys(english).Slower.Enabled() {
		t.Error("rebinding changed whether a binding is enabled")
	}
	// Every screen's keys can be rebound: the evaluation, its list and the
	// password screen too.
	ov = KeyOverrides{"evaluation.submit": {"Z"}, "evaluations.down": {"J"}, "login.submit": {"Y"}}
	if err := ov.Validate(english); err != nil {
		t.Fatal(err)
	}
	c.KeyOverrides = ov
	es := newEvalScreen(c, OpenEvaluationMsg{CallID: "call-001"})
	if !es.keys.Submit.is(press("Z")) {
		t.Errorf("evaluation submit keys = %v", es.keys.Submit.Keys())
	}
	if ls := newEvalListScreen(c); !ls.keys.Down.is(press("J")) {
		t.Errorf("evaluation list down keys = %v", ls.keys.Down.Keys())
	}
	if ps := newPasswordScreen(c, &ecoutev1.LoginResponse{}); !ps.keys.Submit.is(press("Y")) {
		t.Errorf("password submit keys = %v", ps.keys.Submit.Keys())
	}
}

// TestWaveformClickSeeks: the call screen draws the peaks with a play head
// and a click on the line seeks there.
func TestWaveformClickSeeks(t *testing.T) {
	b := &fakeBackend{n: 5}
	eng := &fakeEngine{}
	c := testCommon(t, b, allFields...)
	c.Engine = eng
	a := &App{c: c}
	a.stack = []Screen{newCallsScreen(c)}
	a.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	_, cmd := a.Update(OpenCallMsg{ID: "call-001"})
	driveApp(a, cmd)
	cs := a.top().(*callScreen)
	if cs.wave.empty() || cs.player.track == nil {
		t.Fatal("no waveform or no track after opening")
	}
	out := ansi.Strip(a.render())
	if !strings.Contains(out, "┃") || !strings.Contains(out, "4:05") {
		t.Fatalf("no waveform with a head:\n%s", out)
	}
	// The screen's rows start below the title line.
	if v := a.View(); v.MouseMode != tea.MouseModeCellMotion {
		t.Error("mouse not enabled on the call screen")
	}
	mid := waveX + cs.wave.width/2
	_, cmd = a.Update(tea.MouseClickMsg{X: mid, Y: cs.waveY + 1, Button: tea.MouseLeft})
	if cmd == nil {
		t.Fatal("a click on the waveform did nothing")
	}
	driveApp(a, cmd)
	got := eng.opened[0].Position()
	want := cs.wave.at(cs.wave.width / 2)
	if got != want || got < time.Minute || got > 3*time.Minute {
		t.Errorf("seeked to %v, want %v (about the middle of 4:05)", got, want)
	}
	if h := cs.wave.headCol(got); h != cs.wave.width/2 {
		t.Errorf("head at column %d, want %d", h, cs.wave.width/2)
	}
	// A click elsewhere does not seek.
	_, cmd = a.Update(tea.MouseClickMsg{X: mid, Y: cs.waveY + 5, Button: tea.MouseLeft})
	if cmd != nil {
		t.Error("a click off the waveform did something")
	}
}

func TestWaveformResampleKeepsPeaks(t *testing.T) {
	var w waveform
	peaks := make([]byte, 1000)
	peaks[500] = 255 // one loud word
	w.set(peaks, nil, 10*time.Millisecond, 0)
	w.SetWidth(20)
	if w.rows() != 1 || len(w.cols[0]) != 20 || w.dur != 10*time.Second {
		t.Fatalf("%d rows, %d columns, duration %v", w.rows(), len(w.cols[0]), w.dur)
	}
	if w.cols[0][10] != '█' || strings.Count(string(w.cols[0]), "█") != 1 || w.cols[0][0] != ' ' {
		t.Errorf("resampled %q", string(w.cols[0]))
	}
}

// A two-party recording draws one numbered line per party, each with its
// own peaks, and a click on either line seeks the same way.
func TestWaveformTwoParties(t *testing.T) {
	var w waveform
	left, right := make([]byte, 1000), make([]byte, 1000)
	left[100] = 255  // party 1 speaks early
	right[900] = 255 // party 2 late
	both := make([]byte, 1000)
	for i := range both {
		both[i] = max(left[i], right[i])
	}
	w.set(both, [][]byte{left, right}, 10*time.Millisecond, 0)
	w.SetWidth(22)
	if w.rows() != 2 {
		t.Fatalf("%d rows, want one per party", w.rows())
	}
	lines := strings.Split(ansi.Strip(w.view(waveStyles{}, 0)), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "1 ") || !strings.HasPrefix(lines[1], "2 ") {
		t.Fatalf("lines %q", lines)
	}
	// Columns after the label: party 1's burst near the start, party 2's
	// near the end, each on its own line only.
	l0, l1 := []rune(lines[0]), []rune(lines[1])
	if !strings.Contains(string(l0[2:8]), "█") || strings.Contains(string(l1[2:8]), "█") {
		t.Errorf("party 1's burst: %q / %q", lines[0], lines[1])
	}
	if !strings.Contains(string(l1[len(l1)-6:]), "█") || strings.Contains(string(l0[len(l0)-6:]), "█") {
		t.Errorf("party 2's burst: %q / %q", lines[0], lines[1])
	}
	if got := w.at(2 + 10); got != 5*time.Second {
		t.Errorf("click on the middle column = %v, want 5s", got)
	}
}

// TestDraftOfferedAfterLogin: a draft of this user left on the machine is
// announced once logged in; another user's is not.
func TestDraftOfferedAfterLogin(t *testing.T) {
	b := &fakeBackend{n: 5}
	c := testCommon(t, b)
	d, err := OpenDrafts(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Save(Draft{EvaluationID: "new-call-004", CallID: "call-004", Login: "ana"}); err != nil {
		t.Fatal(err)
	}
	if err := d.Save(Draft{EvaluationID: "ev-9", CallID: "call-009", Login: "paul"}); err != nil {
		t.Fatal(err)
	}
	a := NewApp(c.Ctx, b, &fakeEngine{}, c.Theme, "localhost:7443", "ana", "pw")
	a.c.Drafts, a.c.tick = d, instantTick
	a.Update(tea.WindowSizeMsg{Width: 120, Height: 30})
	ls := a.top().(*loginScreen)
	driveApp(a, ls.submit())
	out := ansi.Strip(a.render())
	if !strings.Contains(out, "call call-004") || strings.Contains(out, "call-009") {
		t.Errorf("status bar after login:\n%s", out)
	}
}

func TestScoreFilter(t *testing.T) {
	f, err := parseFilter(english, "score:60..85.5", directory{}, time.UTC, seesAll)
	if err != nil || f.GetMinScore() != 60 || f.GetMaxScore() != 85.5 {
		t.Fatalf("score:60..85.5 = %v, %v", f, err)
	}
	f, err = parseFilter(english, "score:80..", directory{}, time.UTC, seesAll)
	if err != nil || f.MinScore == nil || f.MaxScore != nil {
		t.Fatalf("score:80.. = %v, %v", f, err)
	}
	for _, bad := range []string{"score:80", "score:..", "score:90..10", "score:..120", "score:abc.."} {
		if _, err := parseFilter(english, bad, directory{}, time.UTC, seesAll); err == nil || !strings.Contains(err.Error(), "percentage range") {
			t.Errorf("%s: %v", bad, err)
		}
	}
	// A role that may not read evaluations is told before asking.
	b := &fakeBackend{n: 3}
	c := testCommon(t, b, allFields...)
	c.Principal.AllowedMethods = []string{methodListCalls, methodGetCall}
	s := newCallsScreen(c)
	if _, err := parseFilter(english, "score:50..", s.dir, time.UTC, s.sees); err == nil || !strings.Contains(err.Error(), "may not filter by score") {
		t.Errorf("score filter for a role without evaluations: %v", err)
	}
	if comp := complete("sc", s.dir, s.sees); comp.text != "sc" {
		t.Errorf("completion offered score: to a role without evaluations: %q", comp.text)
	}
	c.Principal.AllowedMethods = append(c.Principal.AllowedMethods, methodGetEvaluation)
	if comp := complete("sc", s.dir, s.sees); comp.text != "score:" {
		t.Errorf("completion of sc = %q", comp.text)
	}
}

// TestCallFieldsTwoColumnsWhenShort: with every field, a 24-row terminal
// still shows the waveform and the player.
func TestCallFieldsTwoColumnsWhenShort(t *testing.T) {
	b := &fakeBackend{n: 5}
	c := testCommon(t, b)
	a := &App{c: c}
	a.stack = []Screen{newCallsScreen(c)}
	a.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	_, cmd := a.Update(OpenCallMsg{ID: "call-001"})
	cs := a.top().(*callScreen)
	driveApp(a, cmd)
	cs.call.Customer = &ecoutev1.Customer{Name: "Jeanne Petit", PhoneE164: "+33612345678", CustomerNumber: "C-1", Address: "1 rue X"}
	cs.call.Direction = "inbound"
	cs.call.RetainedUntil = cs.call.StartedAt
	cs.call.EndedAt = cs.call.StartedAt
	cs.call.Consent = &ecoutev1.Consent{Accepted: true}
	out := ansi.Strip(a.render())
	for _, want := range []string{"Jeanne Petit", "+33612345678", "┃", "0:00 / 4:05"} {
		if !strings.Contains(out, want) {
			t.Errorf("80×24 call screen lacks %q:\n%s", want, out)
		}
	}
}

// TestProgramTakesTerminalFromCaller: as over SSH, the size, colour
// profile and environment come from the caller, not from this process.
func TestProgramTakesTerminalFromCaller(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	run := func(opts Options) string {
		t.Helper()
		th, _ := themes.Lookup("dark")
		a := NewApp(context.Background(), &fakeBackend{n: 3}, &fakeEngine{}, th, "localhost:7443", "", "")
		out := &firstFrame{done: make(chan struct{})}
		inR, inW := io.Pipe()
		defer inW.Close()
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() { errc <- a.run(ctx, inR, out, opts.programOptions()) }()
		select {
		case <-out.done:
		case <-time.After(10 * time.Second):
			t.Fatal("no first frame")
		}
		time.Sleep(100 * time.Millisecond)
		cancel()
		if err := <-errc; err != nil && !errors.Is(err, tea.ErrProgramKilled) && !errors.Is(err, context.Canceled) {
			t.Fatal(err)
		}
		if a.c.Width != opts.Width || a.c.Height != opts.Height {
			t.Errorf("size %d×%d, want %d×%d", a.c.Width, a.c.Height, opts.Width, opts.Height)
		}
		return out.buf.String()
	}
	ascii := colorprofile.Ascii
	plain := run(Options{Width: 90, Height: 25, Profile: &ascii, Environ: []string{"TERM=xterm-256color"}})
	if strings.Contains(plain, "\x1b[38;") || !strings.Contains(plain, appName) {
		t.Errorf("ASCII profile output has colours or no title: %q", plain[:min(200, len(plain))])
	}
	tc := colorprofile.TrueColor
	if colour := run(Options{Width: 70, Height: 20, Profile: &tc, Environ: []string{"TERM=xterm-256color"}}); !strings.Contains(colour, "\x1b[38;2;") {
		t.Error("true-colour profile output has no 24-bit colour")
	}
	// NO_COLOR from the session's environment.
	env := func(k string) string {
		if k == "NO_COLOR" {
			return "1"
		}
		return ""
	}
	if th, _ := themes.LookupEnv("dark", env); !th.NoColor {
		t.Error("NO_COLOR in the session's environment ignored")
	}
}

// TestHeaderClickSorts: a click on a column title sorts by it on the
// server; a second click reverses.
func TestHeaderClickSorts(t *testing.T) {
	b := &fakeBackend{n: 5}
	c := testCommon(t, b, allFields...)
	s := newCallsScreen(c)
	s.SetSize(100, 20)
	s.Update(answer(s.Init()))
	ws := s.list.widths()
	durX := ws[0] + 2 + 1 // inside the Duration title
	header := s.topLines()
	cmd := s.Update(tea.MouseClickMsg{X: durX, Y: header, Button: tea.MouseLeft})
	if cmd == nil {
		t.Fatal("a click on Duration did not sort")
	}
	s.Update(answer(cmd))
	if got := b.reqs[len(b.reqs)-1].OrderBy; got != "duration desc" {
		t.Errorf("order_by %q after clicking Duration", got)
	}
	s.Update(answer(s.Update(tea.MouseClickMsg{X: durX, Y: header, Button: tea.MouseLeft})))
	if got := b.reqs[len(b.reqs)-1].OrderBy; got != "duration" {
		t.Errorf("order_by %q after clicking Duration again", got)
	}
	// The team column has no server-side order.
	teamX := ws[0] + 2 + ws[1] + 2 + ws[2] + 2 + 1
	if cmd := s.Update(tea.MouseClickMsg{X: teamX, Y: header, Button: tea.MouseLeft}); cmd != nil {
		t.Error("a click on Team did something")
	}
}
