package tui

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest/v2"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/internal/i18n"
	"github.com/ecoute/ecoute/themes"
)

// goldenScreen is one screen to photograph: how to reach it from the start
// of the program, and a text that shows it has arrived.
type goldenScreen struct {
	name  string
	login bool // log in at start
	audit bool // the backend has an audit service
	evals bool // the backend has an evaluation service
	local bool // ecoute play FILE: the one-screen player
	// mustChange: the login says the password must be changed (the
	// backend can change it).
	mustChange bool
	// role and methods: the principal the login returns (default: a
	// supervisor allowed everything); with accounts the backend lists them.
	role     string
	methods  []string
	accounts bool
	// training: the backend has coaching sessions and calibrations
	// (logged in as a trainer); calibrated: the trainer's blind score is
	// submitted.
	training, calibrated bool
	// stats: the backend answers the statistics (tui/stats_test.go).
	stats bool
	steps func(tm *teatest.TestModel, wait func(string))
	wait  func(tr) string
	// want are texts the screen must show, whatever the golden says, so
	// a wrong golden accepted with -update still fails.
	want func(tr) []string
	// absent are texts the settled screen must not show (a loading
	// placeholder, a date the server did not send).
	absent func(tr) []string
}

func keyMsg(s string) tea.KeyPressMsg { return press(s) }

// tr writes the texts a golden waits for and checks in its language.
type tr = *i18n.Printer

var goldenScreens = []goldenScreen{
	{name: "login", wait: func(p tr) string { return p.T(loginLabelPassword) },
		want: func(p tr) []string { return []string{p.T(loginHeading), p.T(statusNotLogged)} }},
	{name: "calls", login: true, wait: inAll, steps: func(tm *teatest.TestModel, wait func(string)) {
		for range 3 {
			tm.Send(keyMsg("down"))
		}
	}, want: func(p tr) []string {
		return []string{p.T(colDate), "2026-11-23 11:05", p.T(callsPosition, 4, 120, 120), "ana (" + p.T("role.supervisor") + ")"}
	}},
	{name: "filter", login: true, wait: inAll, steps: func(tm *teatest.TestModel, wait func(string)) {
		tm.Send(keyMsg("/"))
		for _, r := range "agent:Ag" {
			tm.Send(keyMsg(string(r)))
		}
		tm.Send(keyMsg("tab"))
	}, want: func(p tr) []string { return []string{"agent:\"Agent ", p.T(filterCandidates)} }},
	{name: "help", login: true, wait: inAll, steps: func(tm *teatest.TestModel, wait func(string)) {
		tm.Send(keyMsg("?"))
	}, want: func(p tr) []string { return []string{p.T(helpTitle), p.T(keyOpen), p.T(keyFilter), p.T(helpGlobal)} }},
	{name: "call", login: true, evals: true, wait: inAll, steps: func(tm *teatest.TestModel, wait func(string)) {
		tm.Send(keyMsg("down"))
		tm.Send(keyMsg("enter"))
	}, want: func(p tr) []string {
		return []string{"0:00 / 4:05", p.T(lblAgent), "Agent 1", "┃", p.T(lblRetainedUntil)}
	}, absent: func(p tr) []string { return []string{p.T(callLoading)} }},
	{name: "evaluation", login: true, evals: true, wait: inAll, steps: func(tm *teatest.TestModel, wait func(string)) {
		tm.Send(keyMsg("down"))
		tm.Send(keyMsg("enter"))
		wait("0:00 / 4:05")
		tm.Send(keyMsg("e"))
	}, want: func(p tr) []string { return []string{"Greeting", "Tone", p.T(evalLblKept) + " 2027-11-23"} },
		absent: func(p tr) []string { return []string{p.T(evalLoading)} }},
	{name: "evaluations", login: true, evals: true, wait: inAll, steps: func(tm *teatest.TestModel, wait func(string)) {
		tm.Send(keyMsg("v"))
	}, want: func(p tr) []string {
		return []string{p.T(evalListTitle), "2026-11-23 09:15", "2027-11-23", p.T(evalListCount, 2)}
	}, absent: func(p tr) []string { return []string{"1970", p.T(listLoading)} }},
	{name: "play", local: true, wait: func(tr) string { return "0:00 / 4:05" },
		want: func(p tr) []string { return []string{"01-facture.mp3", p.T(statusLocal)} }},
	{name: "password", login: true, mustChange: true, wait: func(p tr) string { return p.T(passwordTitle) },
		want: func(p tr) []string { return []string{p.T(passwordTitle), "ana (" + p.T("role.supervisor") + ")"} }},
	{name: "accounts", login: true, role: "admin", methods: []string{methodListUsers}, accounts: true,
		wait: func(p tr) string { return "Claire Dubois" },
		want: func(p tr) []string {
			return []string{p.T(accountsTitle), "Claire Dubois", "team-banque", p.T(accountsCount, 4)}
		}},
	{name: "home", login: true, role: "client", methods: []string{"/ecoute.v1.AuthService/WhoAmI"},
		wait: func(p tr) string { return p.T(homeTitle) },
		want: func(p tr) []string { return []string{p.T(homeTitle), "(" + p.T("role.client") + ")"} }},
	{name: "stats-supervisor", login: true, stats: true, wait: inAll, steps: func(tm *teatest.TestModel, wait func(string)) {
		tm.Send(keyMsg("D"))
	}, want: func(p tr) []string {
		return []string{p.T(statsQualityTitle), p.T(statsCriteriaTitle), "Greeting", "Camille Lefèvre", "Yves Martin"}
	}},
	{name: "stats-hr", login: true, stats: true, evals: true, role: "hr", methods: hrMethods,
		wait: func(p tr) string { return p.T(evalListTitle) }, steps: func(tm *teatest.TestModel, wait func(string)) {
			tm.Send(keyMsg("D"))
			wait("Greeting")
			tm.Send(keyMsg("a"))
		}, want: func(p tr) []string {
			return []string{p.T(statsActivityTitle), p.T(statsTypesTitle), "inbound", "Sarah Benali"}
		}},
	{name: "stats-client", login: true, stats: true, role: "client", methods: clientMethods,
		wait: func(p tr) string { return "Azur Énergie" },
		want: func(p tr) []string {
			return []string{p.T(clientTitle), "Team A", "▒ A", "▒ C", "▒ D", "▒ E", p.T(clientTotal)}
		}},
	{name: "audit", login: true, audit: true, wait: inAll, steps: func(tm *teatest.TestModel, wait func(string)) {
		tm.Send(keyMsg("A"))
		wait("call-450")
		tm.Send(keyMsg("v"))
	}, want: func(p tr) []string {
		return []string{p.T(auditChainOK, 450, "1", "450", "ab12cd34"), p.T(auditTitle), "call-450"}
	}},
	{name: "coaching", login: true, training: true, wait: inAll, steps: func(tm *teatest.TestModel, wait func(string)) {
		tm.Send(keyMsg("T"))
		wait("Greeting")
		tm.Send(keyMsg("enter"))
	}, want: func(p tr) []string {
		return []string{p.T(sessionGoals, 1), p.T(sessionClipCaptures, 3), p.T(sessionDates, "2026-11-23", "2027-11-23"), p.T(sessionTotal, 72.5)}
	}},
	{name: "clip", login: true, training: true, wait: inAll, steps: func(tm *teatest.TestModel, wait func(string)) {
		tm.Send(keyMsg("T"))
		wait("Greeting")
		tm.Send(keyMsg("enter"))
		wait("0:30–1:10")
		tm.Send(keyMsg("enter"))
		wait("0:30 / 4:05")
		// One seek: two would race in the player's Cmds.
		tm.Send(keyMsg("L"))
	}, want: func(p tr) []string {
		return []string{"1:00 / 4:05", p.T(captureAtLabel, "1:00", 3, 3, "png", 16, 8), "▀"}
	}, absent: func(p tr) []string { return []string{p.T(listLoading)} }},
	{name: "calibration", login: true, training: true, calibrated: true, wait: inAll, steps: func(tm *teatest.TestModel, wait func(string)) {
		tm.Send(keyMsg("K"))
		wait("Grille test")
		tm.Send(keyMsg("enter"))
	}, want: func(p tr) []string {
		return []string{p.T(reportCriteria), "[0.520, 1.000]", p.T(calibExpert), "0:00 / 4:05"}
	}},
}

// inAll waits for the call list's footer.
func inAll(p tr) string { return p.T(callsPosition, 1, 120, 120) }

// TestGolden photographs every screen at 80×24 and 120×40 in the dark and
// high-contrast themes, running the real program on fixed data (a fake
// backend, UTC dates). The goldens keep the colour escapes, so a theme
// change shows in the diff (go test ./tui -run Golden -update rewrites
// them; cat one in a terminal to see it).
func TestGolden(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	type variant struct {
		theme string
		lang  i18n.Lang
		dir   string
	}
	variants := []variant{{"dark", i18n.English, "dark"}, {"high-contrast", i18n.English, "high-contrast"}, {"dark", i18n.French, "fr"}}
	for _, sc := range goldenScreens {
		for _, v := range variants {
			for _, size := range [][2]int{{80, 24}, {120, 40}} {
				t.Run(fmt.Sprintf("%s/%s/%dx%d", sc.name, v.dir, size[0], size[1]), func(t *testing.T) {
					p := i18n.New(v.lang)
					screen := runGolden(t, sc, v.theme, p, size[0], size[1])
					plain := ansi.Strip(screen)
					for _, w := range sc.want(p) {
						if !strings.Contains(plain, w) {
							t.Errorf("screen lacks %q:\n%s", w, plain)
						}
					}
					if sc.absent != nil {
						for _, a := range sc.absent(p) {
							if strings.Contains(plain, a) {
								t.Errorf("settled screen shows %q:\n%s", a, plain)
							}
						}
					}
					if lines := strings.Split(plain, "\n"); len(lines) != size[1] {
						t.Errorf("%d lines, want %d", len(lines), size[1])
					}
					for i, l := range strings.Split(plain, "\n") {
						if w := ansi.StringWidth(l); w > size[0] {
							t.Errorf("line %d is %d wide (> %d): %q", i, w, size[0], l)
						}
					}
					golden.RequireEqual(t, []byte(screen))
				})
			}
		}
	}
}

func runGolden(t *testing.T, sc goldenScreen, theme string, lang tr, w, h int) string {
	t.Helper()
	var b Backend = &fakeBackend{n: 120}
	if sc.audit {
		b = auditBackend{fakeBackend: &fakeBackend{n: 120}, audit: &fakeAudit{n: 450}}
	}
	if sc.evals {
		b = evalTestBackend{&fakeBackend{n: 120}, &fakeEvals{}}
	}
	if sc.mustChange {
		b = &pwBackend{fakeBackend: &fakeBackend{n: 120, mustChange: true}}
	}
	if sc.training {
		tb := newTrainingBackend()
		tb.submitted = sc.calibrated
		b = tb
	}
	if sc.role != "" {
		fb := &fakeBackend{n: 120, role: sc.role, methods: sc.methods}
		b = fb
		if sc.accounts {
			b = &acctBackend{fakeBackend: fb, accounts: goldenAccounts}
		}
		if sc.evals {
			b = evalTestBackend{fb, &fakeEvals{}}
		}
	}
	if sc.stats {
		b = &statsBackend{Backend: b}
	}
	th, err := themes.Lookup(theme)
	if err != nil {
		t.Fatal(err)
	}
	login, password := "", ""
	if sc.login {
		login, password = "ana", "pw"
	}
	a := NewApp(context.Background(), b, &fakeEngine{}, th, "localhost:7443", login, password)
	if sc.local {
		a = NewLocalApp(context.Background(), &fakeEngine{}, newFakeTrack(), "01-facture.mp3", th)
	}
	a.setLang(lang.Lang())
	if !sc.local {
		a.stack = []Screen{newLoginScreen(a.c, login, password)}
	} else {
		a.stack = []Screen{newLocalScreen(a.c, newFakeTrack(), "01-facture.mp3")}
	}
	a.c.Loc = time.UTC
	// A blinking cursor would make the picture depend on timing.
	a.c.Styles.TextInput.Cursor.Blink = false
	if ls, ok := a.top().(*loginScreen); ok {
		ls.Restyle()
	}
	p := &probe{App: a}
	tm := teatest.NewTestModel(t, p, teatest.WithInitialTermSize(w, h))
	p.waitFor(t, tm, sc.wait(lang))
	if sc.steps != nil {
		sc.steps(tm, func(text string) { p.waitFor(t, tm, text) })
	}
	// Let asynchronous answers (the call, its track) arrive, and every
	// request be answered: the picture is of a settled screen.
	for _, w := range sc.want(lang) {
		p.waitFor(t, tm, w)
	}
	p.waitSettled(t, tm)
	// Quit travels the same queue as the keys, so they are handled first.
	if err := tm.Quit(); err != nil {
		t.Fatal(err)
	}
	final := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(*probe)
	return final.App.render()
}

// probe wraps the App to publish its screen (as text) after every update:
// the terminal stream only carries the cells that changed, so a text on
// screen need not appear whole in it.
type probe struct {
	*App
	shown   atomic.Value // string
	updates atomic.Int64
}

func (p *probe) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	_, cmd := p.App.Update(msg)
	p.shown.Store(ansi.Strip(p.App.render()))
	p.updates.Add(1)
	return p, cmd
}

// waitSettled waits until no request is in flight and the program has
// handled a message since (so the screen shown is the one after the last
// answer).
func (p *probe) waitSettled(t *testing.T, tm *teatest.TestModel) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if p.App.InFlight() == 0 {
			// The last answer's Update may still be running: a message
			// sent now is handled after it.
			before := p.updates.Load()
			tm.Send(settleMsg{})
			for p.updates.Load() == before {
				if time.Now().After(deadline) {
					t.Fatal("the program stopped handling messages")
				}
				_, _ = io.Copy(io.Discard, tm.Output())
				time.Sleep(time.Millisecond)
			}
			if p.App.InFlight() == 0 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d requests still in flight after 10 s", p.App.InFlight())
		}
		_, _ = io.Copy(io.Discard, tm.Output())
		time.Sleep(2 * time.Millisecond)
	}
}

// settleMsg is a no-op message the settled wait sends through the queue.
type settleMsg struct{}

func (p *probe) waitFor(t *testing.T, tm *teatest.TestModel, text string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		s, _ := p.shown.Load().(string)
		if strings.Contains(s, text) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%q not on screen after 5 s:\n%s", text, s)
		}
		// Drain the terminal stream so the program never blocks on it.
		_, _ = io.Copy(io.Discard, tm.Output())
		time.Sleep(5 * time.Millisecond)
	}
}

var goldenAccounts = []*ecoutev1.Account{
	{Login: "demo-admin", DisplayName: "Paul Renaud", Role: "admin"},
	{Login: "demo-supervisor", DisplayName: "Claire Dubois", Role: "supervisor", TeamIds: []string{"team-banque", "team-energie"}},
	{Login: "lea", DisplayName: "Léa Martin", Role: "trainer", TeamIds: []string{"team-support"}, PasswordChangeRequired: true},
	{Login: "old-agent", DisplayName: "Hugo Lambert", Role: "agent", AgentId: "agent-09", Disabled: true},
}
