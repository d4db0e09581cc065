package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/client"
	"github.com/ecoute/ecoute/internal/i18n"
	"github.com/ecoute/ecoute/player"
	"github.com/ecoute/ecoute/themes"
)

// statusTTL is how long a transient status message stays.
const statusTTL = 6 * time.Second

// Options configure Run. The program takes its input, output, environment
// and colour profile from the caller so it can be served over SSH.
type Options struct {
	Client     *client.Client // the gateway to the server
	Engine     Engine         // *player.Engine
	ServerAddr string
	// Login and Password, when both set, log in at start (the demo).
	Login, Password string
	Input           io.Reader // nil: stdin
	Output          io.Writer // nil: stdout
	Theme           string    // themes.Names(); "" is the default
	// Notice is shown on the login screen (the client's trust notice
	// after pinning a new server, with the fingerprint to compare).
	Notice string
	// Keys rebinds actions ("calls.filter": ["f"]); see KeyActions.
	Keys KeyOverrides
	// DraftDir keeps evaluation drafts; "" is the user's cache directory.
	DraftDir string
	// Environ is the user's environment (NO_COLOR, TERM); nil is this
	// process's. Over SSH, pass the session's.
	Environ []string
	// Width and Height, when set, are the terminal's size at start (an
	// SSH session's pty); otherwise the program asks the terminal.
	Width, Height int
	// Profile, when set, is the colour profile to render for (over SSH,
	// colorprofile.Env of the session's environment); otherwise it is
	// detected from Output and the environment.
	Profile *colorprofile.Profile
	// ProgramOptions are passed to tea.NewProgram after the ones above
	// (SSH: tea.WithEnvironment, tea.WithColorProfile, tea.WithWindowSize).
	ProgramOptions []tea.ProgramOption
	// Lang is the console's language; "" is English.
	Lang i18n.Lang
	// Session, when set, is a session opened elsewhere (an SSH login,
	// which checked the account's key and password): the console starts
	// logged in, and quits with ErrSessionEnded when the session ends
	// instead of asking for a password.
	Session *ecoutev1.LoginResponse
	// Companion, when set, says that the sound belongs on the user's own
	// machine (a console served over SSH): the engine should be silent;
	// the player publishes its state for a paired companion and the
	// console shows the code and the command that runs it.
	Companion *Companion
	// Messages are handed to the program as they come (an SSH session's
	// window changes, a warning before an idle timeout).
	Messages <-chan tea.Msg
}

// App is the console's only tea.Model.
type App struct {
	c       *Common
	stack   []Screen
	help    help.Model
	showAll bool // the help overlay is open
	status  StatusMsg
	statSeq int
	local   bool   // the one-screen local player
	periods string // an agent's recording periods (R6), under the title
	quit    bool
	// bannerGen numbers the countdown ticks of the connection banner.
	bannerGen int
	// startCmd, when set, replaces the first screen's Init: the console
	// started logged in (Options.Session).
	startCmd tea.Cmd
	// external: the session was opened elsewhere; its end quits.
	external bool
	ended    bool
}

func newApp(ctx context.Context, b Backend, eng Engine, theme themes.Theme, addr string) *App {
	c := &Common{
		Ctx:        ctx,
		Theme:      theme,
		Styles:     themes.New(theme, true),
		Keys:       newGlobalKeys(english),
		Tr:         english,
		Backend:    b,
		Engine:     eng,
		ServerAddr: addr,
	}
	a := &App{c: c, help: help.New()}
	a.help.Styles = c.Styles.Help
	return a
}

// setLang chooses the console's language; call it before the screens are
// made (their key help is written in it).
func (a *App) setLang(l i18n.Lang) {
	if l == "" {
		l = i18n.English
	}
	a.c.Tr = i18n.New(l)
	a.c.Keys = newGlobalKeys(a.c.Tr)
}

// InFlight is the number of addressed requests not answered yet; tests
// wait for 0 to photograph a settled screen. Safe from any goroutine.
func (a *App) InFlight() int { return int(a.c.inflight.Load()) }

// NewApp builds the console on a backend; it starts at the login screen.
// Exported for tests and for callers that run their own tea.Program.
func NewApp(ctx context.Context, b Backend, eng Engine, theme themes.Theme, addr, login, password string) *App {
	a := newApp(ctx, b, eng, theme, addr)
	a.stack = []Screen{newLoginScreen(a.c, login, password)}
	return a
}

// Run runs the console until the user quits or ctx ends.
func Run(ctx context.Context, opts Options) error {
	getenv := os.Getenv
	if opts.Environ != nil {
		getenv = func(k string) string {
			for _, kv := range opts.Environ {
				if name, v, ok := strings.Cut(kv, "="); ok && name == k {
					return v
				}
			}
			return ""
		}
	}
	theme, err := themes.LookupEnv(opts.Theme, getenv)
	if err != nil {
		return err
	}
	if opts.Client == nil {
		return errors.New("tui: no client") // i18n: a programming error, not a user's
	}
	addr := opts.ServerAddr
	if addr == "" {
		addr = opts.Client.Addr()
	}
	if err := opts.Keys.Validate(i18n.New(opts.Lang)); err != nil {
		return err
	}
	a := newApp(ctx, opts.Client, opts.Engine, theme, addr)
	a.setLang(opts.Lang)
	a.c.KeyOverrides = opts.Keys
	a.c.KeyOverrides.apply("global", &a.c.Keys)
	ls := newLoginScreen(a.c, opts.Login, opts.Password)
	ls.notice = opts.Notice
	a.stack = []Screen{ls}
	a.startWith(opts.Session, opts.Companion)
	// Without a draft store the console still works; it says that
	// evaluations will not survive a crash.
	if d, err := OpenDrafts(opts.DraftDir, nil); err == nil {
		a.c.Drafts = d
	} else {
		a.status = StatusMsg{Text: a.c.T(warnNoDrafts, err), Level: LevelWarn}
	}
	err = a.runWith(ctx, opts.Input, opts.Output, append(opts.programOptions(), opts.ProgramOptions...), opts.Messages)
	// Close the session on the way out; the screen is gone, so this is
	// no longer inside Update.
	if a.c.Principal != nil {
		lctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		_ = opts.Client.Logout(lctx)
		cancel()
	}
	if err == nil && a.ended {
		return ErrSessionEnded
	}
	return err
}

// programOptions turns the caller's terminal description into options.
func (o Options) programOptions() []tea.ProgramOption {
	var out []tea.ProgramOption
	if o.Environ != nil {
		out = append(out, tea.WithEnvironment(o.Environ))
	}
	if o.Width > 0 && o.Height > 0 {
		out = append(out, tea.WithWindowSize(o.Width, o.Height))
	}
	if o.Profile != nil {
		out = append(out, tea.WithColorProfile(*o.Profile))
	}
	return out
}

// RunLocalPlayer plays one track full screen (ecoute play FILE).
func RunLocalPlayer(ctx context.Context, eng *player.Engine, tr player.Track, title string, lang i18n.Lang) error {
	theme, err := themes.Lookup("")
	if err != nil {
		return err
	}
	var e Engine
	if eng != nil {
		e = eng
	}
	a := NewLocalApp(ctx, e, tr, title, theme)
	a.setLang(lang)
	a.stack = []Screen{newLocalScreen(a.c, tr, title)}
	return a.run(ctx, nil, nil, nil)
}

// NewLocalApp builds the one-screen player.
func NewLocalApp(ctx context.Context, eng Engine, tr player.Track, title string, theme themes.Theme) *App {
	a := newApp(ctx, nil, eng, theme, "")
	a.local = true
	a.stack = []Screen{newLocalScreen(a.c, tr, title)}
	return a
}

func (a *App) run(ctx context.Context, in io.Reader, out io.Writer, extra []tea.ProgramOption) error {
	return a.runWith(ctx, in, out, extra, nil)
}

// runWith runs the program, handing it msgs as they come.
func (a *App) runWith(ctx context.Context, in io.Reader, out io.Writer, extra []tea.ProgramOption, msgs <-chan tea.Msg) error {
	opts := []tea.ProgramOption{tea.WithContext(ctx)}
	if in != nil {
		opts = append(opts, tea.WithInput(in))
	}
	if out != nil {
		opts = append(opts, tea.WithOutput(out))
	}
	opts = append(opts, extra...)
	p := tea.NewProgram(a, opts...)
	done := make(chan struct{})
	if msgs != nil {
		go func() {
			for {
				select {
				case m, ok := <-msgs:
					if !ok {
						return
					}
					p.Send(m)
				case <-done:
					return
				}
			}
		}()
	}
	_, err := p.Run()
	close(done)
	// Whatever ended the program, release the audio.
	for _, s := range a.stack {
		if cl, ok := s.(closer); ok {
			if cmd := cl.Close(); cmd != nil {
				cmd()
			}
		}
	}
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		return nil
	}
	return err
}

// startWith sets the console up for a session opened elsewhere and a sound
// that plays elsewhere (either may be nil): see Options.Session and
// Options.Companion.
func (a *App) startWith(session *ecoutev1.LoginResponse, companion *Companion) {
	if companion != nil {
		a.c.Remote = &remoteSound{command: companion.Command}
	}
	if session != nil {
		a.external = true
		for _, s := range a.stack {
			a.c.opened(s.ID())
		}
		_, a.startCmd = a.Update(loggedInMsg{resp: session})
	}
}

func (a *App) top() Screen { return a.stack[len(a.stack)-1] }

// Init implements tea.Model.
func (a *App) Init() tea.Cmd {
	first := a.startCmd
	if first == nil {
		for _, s := range a.stack {
			a.c.opened(s.ID())
		}
		first = a.top().Init()
	}
	return tea.Batch(tea.RequestBackgroundColor, first, a.clearStatusLater(), a.waitConn())
}

// connMsg is a change of the connection, from the gateway.
type connMsg struct{ ev client.ConnEvent }

// bannerTickMsg counts the banner's countdown down; gen ignores the ticks
// of an older countdown.
type bannerTickMsg struct{ gen int }

// waitConn waits for the gateway's next connection event.
func (a *App) waitConn() tea.Cmd {
	if a.c.Backend == nil {
		return nil
	}
	ch := a.c.Backend.ConnEvents()
	if ch == nil {
		return nil
	}
	return func() tea.Msg {
		ev, ok := <-ch
		if !ok {
			return nil
		}
		return connMsg{ev: ev}
	}
}

// bannerTick redraws the countdown every second while requests wait.
func (a *App) bannerTick() tea.Cmd {
	a.bannerGen++
	gen := a.bannerGen
	return a.c.timer(time.Second, func(time.Time) tea.Msg { return bannerTickMsg{gen: gen} })
}

func (a *App) clearStatusLater() tea.Cmd {
	if a.status.Text == "" {
		return nil
	}
	a.statSeq++
	seq := a.statSeq
	return a.c.timer(statusTTL, func(time.Time) tea.Msg { return clearStatusMsg{seq: seq} })
}

func (a *App) bodySize() (int, int) {
	// Title line, hint line, status bar, and the banner while the
	// connection is lost.
	h := a.c.Height - 3
	if a.bannerShown() {
		h--
	}
	if a.periodsShown() {
		h--
	}
	if a.remoteShown() {
		h--
	}
	return a.c.Width, max(1, h)
}

func (a *App) bannerShown() bool { return a.c.Conn.Waiting > 0 }

func (a *App) periodsShown() bool { return a.periods != "" && a.c.Principal != nil }

// remoteShown: the line that says where the sound goes (a console served
// over SSH, for a role that may listen).
func (a *App) remoteShown() bool {
	return a.c.Remote != nil && a.c.Principal != nil && a.c.May(methodCreatePairing)
}

func (a *App) resize() {
	w, h := a.bodySize()
	for _, s := range a.stack {
		s.SetSize(w, h)
	}
	a.help.SetWidth(w)
}

func (a *App) push(s Screen) tea.Cmd {
	a.c.opened(s.ID())
	a.stack = append(a.stack, s)
	w, h := a.bodySize()
	s.SetSize(w, h)
	return s.Init()
}

// pop leaves the top screen; from the last one it quits.
func (a *App) pop() tea.Cmd {
	var cmd tea.Cmd
	if cl, ok := a.top().(closer); ok {
		cmd = cl.Close()
	}
	if len(a.stack) == 1 {
		a.quit = true
		return tea.Sequence(cmd, tea.Quit)
	}
	a.c.closed(a.top().ID())
	a.stack = a.stack[:len(a.stack)-1]
	if r, ok := a.top().(revealer); ok {
		return tea.Batch(cmd, r.Revealed())
	}
	return cmd
}

// replace makes s the only screen (after a login, or when the session
// ended), closing the others.
func (a *App) replace(s Screen) tea.Cmd {
	var cmds []tea.Cmd
	for _, old := range a.stack {
		if cl, ok := old.(closer); ok {
			cmds = append(cmds, cl.Close())
		}
		a.c.closed(old.ID())
	}
	a.c.opened(s.ID())
	a.stack = []Screen{s}
	s.SetSize(a.bodySize())
	return tea.Batch(append(cmds, s.Init())...)
}

// answered tells whether a request's outcome came from the server.
func answered(err error) bool {
	return !errors.Is(err, client.ErrUnreachable) && !errors.Is(err, client.ErrTimeout) &&
		!errors.Is(err, client.ErrCanceled) && !errors.Is(err, client.ErrUnsupported)
}

// screen finds a screen of the stack by its id.
func (a *App) screen(id int) Screen {
	for _, s := range a.stack {
		if s.ID() == id {
			return s
		}
	}
	return nil
}

// deliver routes an addressed answer to the screen that asked, wherever
// it is in the stack; an answer for a closed screen, or superseded by a
// newer request, is dropped (releasing what it holds).
func (a *App) deliver(r replyMsg) tea.Cmd {
	if r.counted {
		// After the screen has taken it: a request it makes in answer is
		// counted before this one is not, so the count never reads 0
		// while work is still coming.
		defer a.c.inflight.Add(-1)
	}
	if errors.Is(r.err, client.ErrSessionEnded) && a.c.Principal != nil {
		return a.sessionEnded()
	}
	if r.counted && a.c.Conn.State == client.ConnUnknown && answered(r.err) {
		// The gateway tells changes; before its first one, an answer
		// is proof enough that the server is there.
		a.c.Conn.State = client.ConnUp
	}
	if r.to.screen == appID {
		if !a.c.reqs.current(r.to) {
			return nil
		}
		_, cmd := a.Update(r.msg)
		return cmd
	}
	s := a.screen(r.to.screen)
	if s == nil || !a.c.reqs.current(r.to) {
		if d, ok := r.msg.(discarder); ok {
			return d.discard()
		}
		return nil
	}
	return s.Update(r.msg)
}

// Update implements tea.Model.
func (a *App) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case replyMsg:
		return a, a.deliver(msg)
	case connMsg:
		shown := a.bannerShown()
		a.c.Conn = msg.ev
		var tick tea.Cmd
		if a.bannerShown() && !shown {
			tick = a.bannerTick()
		}
		if a.bannerShown() != shown {
			a.resize()
		}
		return a, tea.Batch(tick, a.waitConn())
	case bannerTickMsg:
		if msg.gen != a.bannerGen || !a.bannerShown() {
			return a, nil
		}
		return a, a.bannerTick()
	case tea.WindowSizeMsg:
		a.c.Width, a.c.Height = msg.Width, msg.Height
		a.resize()
		return a, nil
	case tea.BackgroundColorMsg:
		a.c.Styles = themes.New(a.c.Theme, msg.IsDark())
		a.help.Styles = a.c.Styles.Help
		for _, s := range a.stack {
			if r, ok := s.(restyler); ok {
				r.Restyle()
			}
		}
		a.resize()
		return a, nil
	case StatusMsg:
		a.status = msg
		return a, a.clearStatusLater()
	case clearStatusMsg:
		if msg.seq == a.statSeq {
			a.status = StatusMsg{}
		}
		return a, nil
	case loggedInMsg:
		a.c.Principal = msg.resp.GetPrincipal()
		a.periods = ""
		if msg.resp.GetPasswordChangeRequired() {
			return a, a.replace(newPasswordScreen(a.c, msg.resp))
		}
		home := homeScreen(a.c)
		cmds := []tea.Cmd{a.replace(home), a.draftOffer(), a.remoteStart()}
		if a.c.Principal.GetAgentId() != "" {
			cmds = append(cmds, fetchPeriods(a.c))
		}
		return a, tea.Batch(cmds...)
	case draftOfferMsg:
		if msg.text == "" {
			return a, nil
		}
		return a, cmdOf(StatusMsg{Text: msg.text, Level: LevelWarn})
	case periodsMsg:
		if line := periodsLine(a.c, msg.resp); msg.err == nil && line != a.periods {
			a.periods = line
			a.resize()
		}
		return a, nil
	case OpenCallMsg:
		return a, a.push(newCallScreen(a.c, msg.ID))
	case OpenAuditMsg:
		return a, a.push(newAuditScreen(a.c))
	case OpenRequestsMsg:
		return a, a.push(newRequestsScreen(a.c))
	case OpenCoachingMsg:
		return a, a.push(newCoachingListScreen(a.c))
	case openSessionMsg:
		return a, a.push(newSessionScreen(a.c, msg.id))
	case openClipMsg:
		return a, a.push(newClipScreen(a.c, msg))
	case OpenCalibrationsMsg:
		return a, a.push(newCalibrationsScreen(a.c))
	case openCalibrationMsg:
		return a, a.push(newCalibrationScreen(a.c, msg.id))
	case OpenEvaluationMsg:
		return a, a.push(newEvalScreen(a.c, msg))
	case OpenEvaluationsMsg:
		return a, a.push(newEvalListScreen(a.c))
	case OpenStatsMsg:
		return a, a.push(newStatsScreen(a.c))
	case openDrillMsg:
		return a, a.push(newDrillScreen(a.c, msg.drill, msg.title))
	case BackMsg:
		return a, a.pop()
	case tea.KeyPressMsg:
		return a, a.handleKey(msg)
	case pairingMsg, publishedMsg, pairingTickMsg:
		cmd, _ := a.remoteUpdate(msg)
		return a, cmd
	case tea.MouseClickMsg:
		if a.showAll {
			return a, nil
		}
		// Screens count rows from their own top, below the title line.
		m := msg.Mouse()
		m.Y--
		if a.bannerShown() {
			m.Y--
		}
		if a.periodsShown() {
			m.Y--
		}
		if a.remoteShown() {
			m.Y--
		}
		return a, a.top().Update(tea.MouseClickMsg(m))
	}
	return a, a.top().Update(msg)
}

// sessionEnded goes back to the login screen, login filled in, when the
// server no longer accepts the token (expired, revoked).
func (a *App) sessionEnded() tea.Cmd {
	if a.external {
		// Logging in again here would take a password alone: the
		// session's owner (the SSH server) decides.
		a.ended = true
		a.c.Principal = nil
		a.quit = true
		return tea.Quit
	}
	login := a.c.Principal.GetLogin()
	a.c.Principal = nil
	a.showAll = false
	ls := newLoginScreen(a.c, login, "")
	ls.err = a.c.T(errSessionExpired)
	return a.replace(ls)
}

func (a *App) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	k := a.c.Keys
	if on(msg, k.Quit) {
		a.quit = true
		var cmds []tea.Cmd
		for _, s := range a.stack {
			if cl, ok := s.(closer); ok {
				cmds = append(cmds, cl.Close())
			}
		}
		for _, s := range a.stack {
			a.c.closed(s.ID())
		}
		a.stack = a.stack[:1]
		return tea.Sequence(tea.Batch(cmds...), tea.Quit)
	}
	if t, ok := a.top().(typing); ok && t.Typing() {
		return a.top().Update(msg)
	}
	if a.showAll {
		if on(msg, k.Help, k.Back) {
			a.showAll = false
		}
		return nil
	}
	switch {
	case on(msg, k.Help):
		a.showAll = true
		return nil
	case on(msg, k.Back):
		return a.pop()
	}
	// A key the role may not use says why instead of doing nothing.
	if why := disabledReason(a.top().Keys(), msg); why != "" {
		return cmdOf(StatusMsg{Text: why, Level: LevelWarn})
	}
	return a.top().Update(msg)
}

// banner is the connection-lost line, or "".
func (a *App) banner() string {
	if !a.bannerShown() {
		return ""
	}
	text := a.c.T(bannerRetrying)
	if left := a.c.Conn.NextRetry.Sub(a.c.now()); !a.c.Conn.NextRetry.IsZero() && left > 0 {
		text = a.c.T(bannerLost, int((left+time.Second-1)/time.Second))
	}
	if n := a.c.Conn.Waiting; n > 0 {
		text += a.c.T(bannerPending, n)
	}
	text = ansi.Truncate(" "+text, a.c.Width, "…")
	return a.c.Styles.Banner.Render(text + strings.Repeat(" ", max(0, a.c.Width-lipgloss.Width(text))))
}

// View implements tea.Model; it is the only place a tea.View is built.
func (a *App) View() tea.View {
	v := tea.NewView(a.render())
	v.AltScreen = true
	v.WindowTitle = appName + " — " + a.top().Title()
	switch a.top().(type) {
	case *callsScreen, *callScreen, *auditScreen:
		// Rows are clicked and wheeled; the waveform is clicked to seek.
		v.MouseMode = tea.MouseModeCellMotion
	}
	return v
}

func (a *App) render() string {
	if a.quit || a.c.Width == 0 {
		return ""
	}
	st := a.c.Styles
	w, h := a.bodySize()
	title := st.Title.Render(appName) + st.Muted.Render(" › ") + st.Text.Render(a.top().Title())
	var body string
	if a.showAll {
		body = a.helpView(w, h)
	} else {
		body = a.top().View()
	}
	body = fitBlock(body, w, h)
	hints := a.hintLine(w)
	lines := []string{ansi.Truncate(title, w, "…")}
	if a.periodsShown() {
		lines = append(lines, st.Subtle.Render(ansi.Truncate(a.periods, w, "…")))
	}
	if a.remoteShown() {
		style := st.Warn
		if a.c.Remote.followers > 0 {
			style = st.Subtle
		}
		lines = append(lines, style.Render(ansi.Truncate(a.c.remoteLine(), w, "…")))
	}
	if b := a.banner(); b != "" {
		lines = append(lines, b)
	}
	return strings.Join(append(lines, body, hints, a.statusBar()), "\n")
}

// hintBindings are the screen's hinted keys plus the global keys that
// apply.
func (a *App) hintBindings() []key.Binding {
	bs := hints(a.top().Keys())
	if t, ok := a.top().(typing); ok && t.Typing() {
		return bs
	}
	return append(bs, a.c.Keys.Help.Binding, a.backBinding().Binding)
}

// hintLine shows as many hints as fit in w, dropping the screen's last
// ones first: "? help" and back stay, since the overlay lists the rest.
func (a *App) hintLine(w int) string {
	bs := a.hintBindings()
	// The help model would cut the line itself, losing "? help" first.
	hm := a.help
	hm.SetWidth(0)
	global := 0
	if t, ok := a.top().(typing); !ok || !t.Typing() {
		global = 2
	}
	for {
		line := hm.ShortHelpView(bs)
		if lipgloss.Width(line) <= w || len(bs) <= global {
			return ansi.Truncate(line, w, "…")
		}
		cut := len(bs) - global - 1
		if cut < 0 {
			return ansi.Truncate(line, w, "…")
		}
		bs = slices.Delete(slices.Clone(bs), cut, cut+1)
	}
}

// backBinding says "quit" on the last screen, where going back quits.
func (a *App) backBinding() Binding {
	b := a.c.Keys.Back
	if len(a.stack) == 1 {
		b.SetHelp(b.Help().Key, a.c.T(keyQuit))
	}
	return b
}

// helpGroups is everything the overlay lists: the screen's keys, the
// global ones, and the full texts the status bar had to shorten.
func (a *App) helpGroups() []Group {
	groups := slices.Clone(a.top().Keys())
	return append(groups, Group{Title: a.c.T(helpGlobal), Keys: []Binding{a.c.Keys.Help, a.backBinding(), a.c.Keys.Quit}})
}

func (a *App) helpView(w, h int) string {
	st := a.c.Styles
	// The box's border and the title take 4 rows.
	room := h - 4
	body := packColumns(st, a.helpGroups(), w-6, room)
	lines := []string{st.Title.Render(a.c.T(helpTitle) + " — " + a.top().Title()), "", body}
	// The closing lines go when the keys need the room (80×24): the
	// status bar shows the audio output, and the hint line says ? again.
	left := room - lipgloss.Height(body)
	if a.c.Engine != nil && left >= 4 {
		lines = append(lines, "", st.Label.Render(a.c.T(helpAudioFmt, ""))+st.Value.Render(a.audioText()))
		left -= 2
	}
	if left >= 2 {
		lines = append(lines, "", st.Muted.Render(a.c.T(helpClose)))
	}
	content := lipgloss.JoinVertical(lipgloss.Left, lines...)
	content = lipgloss.NewStyle().MaxWidth(max(10, w-4)).Render(content)
	return lipgloss.Place(w, h, lipgloss.Center, lipgloss.Center, st.Box.Render(content))
}

// renderGroup lists a group's keys, the disabled ones dimmed with their
// reason.
func renderGroup(st themes.Styles, g Group, width int) string {
	kw := 0
	for _, b := range g.Keys {
		kw = max(kw, lipgloss.Width(b.Help().Key))
	}
	lines := []string{st.Subtle.Bold(true).Render(g.Title)}
	for _, b := range g.Keys {
		keyText := b.Help().Key + strings.Repeat(" ", kw-lipgloss.Width(b.Help().Key))
		if b.Reason != "" {
			line := keyText + "  " + b.Help().Desc + " — " + b.Reason
			lines = append(lines, st.Disabled.Render(ansi.Truncate(line, width, "…")))
			continue
		}
		lines = append(lines, st.Help.FullKey.Render(keyText)+"  "+st.Help.FullDesc.Render(b.Help().Desc))
	}
	return strings.Join(lines, "\n")
}

// packColumns lays the groups out in columns, filling each top to bottom
// in order, so the overlay fits the screen (80×24 included). Layouts that
// show disabled keys' reasons whole are tried first; only when none fits
// is a reason cut to its column (the status bar says it in full when the
// key is pressed).
func packColumns(st themes.Styles, groups []Group, width, height int) string {
	const gap = "    "
	layout := func(n, lineWidth int) string {
		var blocks []string
		for _, g := range groups {
			blocks = append(blocks, renderGroup(st, g, max(20, lineWidth)))
		}
		var rendered []string
		for _, c := range splitBalanced(blocks, n) {
			rendered = append(rendered, lipgloss.JoinVertical(lipgloss.Left, interleave(c, "")...))
		}
		return lipgloss.JoinHorizontal(lipgloss.Top, interleave(rendered, gap)...)
	}
	// Failing a layout that fits both ways, the lowest that fits the
	// width (the overlay is then cut at the bottom).
	best := ""
	for _, cut := range []bool{false, true} {
		for n := len(groups); n >= 1; n-- {
			lineWidth := width
			if cut {
				lineWidth = (width - len(gap)*(n-1)) / n
			}
			body := layout(n, lineWidth)
			if lipgloss.Width(body) > width {
				continue
			}
			if lipgloss.Height(body) <= height {
				return body
			}
			if best == "" || lipgloss.Height(body) < lipgloss.Height(best) {
				best = body
			}
		}
	}
	if best == "" {
		return layout(1, width)
	}
	return best
}

// splitBalanced cuts blocks, in order, into n columns so that the tallest
// column is as short as possible (there are a handful of groups, so every
// way of cutting is tried).
func splitBalanced(blocks []string, n int) [][]string {
	n = max(1, min(n, len(blocks)))
	hs := make([]int, len(blocks))
	for i, b := range blocks {
		hs[i] = lipgloss.Height(b) + 1
	}
	best, bestH := []int(nil), -1
	var try func(from int, cuts []int)
	try = func(from int, cuts []int) {
		if len(cuts) == n-1 {
			tallest, start := 0, 0
			for _, end := range append(slices.Clone(cuts), len(blocks)) {
				h := 0
				for _, x := range hs[start:end] {
					h += x
				}
				tallest, start = max(tallest, h), end
			}
			if bestH < 0 || tallest < bestH {
				best, bestH = slices.Clone(cuts), tallest
			}
			return
		}
		for c := from; c <= len(blocks)-(n-1-len(cuts)); c++ {
			try(c+1, append(cuts, c))
		}
	}
	try(1, nil)
	var cols [][]string
	start := 0
	for _, end := range append(best, len(blocks)) {
		cols = append(cols, blocks[start:end])
		start = end
	}
	return cols
}

func interleave(blocks []string, sep string) []string {
	var out []string
	for i, b := range blocks {
		if i > 0 && sep != "" {
			out = append(out, sep)
		} else if i > 0 {
			out = append(out, "")
		}
		out = append(out, b)
	}
	return out
}

// audioText is where sound goes, and why when it is not the speaker.
func (a *App) audioText() string {
	kind := string(a.c.Engine.Output())
	out := a.c.Engine.OutputReason()
	if out == "" {
		return a.outputText()
	}
	// The engine says "silent: why"; the kind is ours to translate, the
	// why comes from the sound system.
	if rest, ok := strings.CutPrefix(out, kind+": "); ok {
		return a.c.T("fmt.labelled", a.outputText(), rest)
	}
	return out
}

// outputText is where sound goes (speaker, silent) in the user's language.
func (a *App) outputText() string {
	kind := string(a.c.Engine.Output())
	if k := i18n.Key("output." + kind); i18n.Has(a.c.printer().Lang(), k) {
		return a.c.T(k)
	}
	return kind
}

// statusBar shows, left to right: the connection, the user and role, the
// audio output and the last transient message. When the line is too
// narrow the server address, then the audio reason, then the user label
// give way (the help overlay shows the audio reason in full).
func (a *App) statusBar() string {
	st := a.c.Styles
	w := a.c.Width
	sep := st.StatusBar.Render("  ")
	type segment struct{ full, short string }
	var segs []segment
	if a.local {
		segs = append(segs, segment{full: st.StatusValue.Render(" " + a.c.T(statusLocal))})
	} else {
		var conn string
		switch a.c.Conn.State {
		case client.ConnUp:
			conn = st.StatusOk.Render(a.c.T(statusConnOK))
		case client.ConnRetrying:
			conn = st.StatusWarn.Render(a.c.T(statusConnRetry))
		case client.ConnDown:
			conn = st.StatusError.Render(a.c.T(statusConnDown))
		}
		addr := st.StatusKey.Render(a.c.T(statusServer)+" ") + st.StatusValue.Render(a.c.ServerAddr)
		full, short := st.StatusBar.Render(" ")+addr, st.StatusBar.Render(" ")+conn
		if conn != "" {
			full += st.StatusBar.Render(" ") + conn
		} else {
			short = st.StatusBar.Render(" ")
		}
		segs = append(segs, segment{full: full, short: short})
		if p := a.c.Principal; p != nil {
			who := p.GetDisplayName()
			if who == "" {
				who = p.GetLogin()
			}
			v := st.StatusValue.Render(fmt.Sprintf("%s (%s)", who, a.c.roleText(p.GetRole())))
			segs = append(segs, segment{full: st.StatusKey.Render(a.c.T(statusUser)+" ") + v, short: v})
		} else {
			segs = append(segs, segment{full: st.StatusKey.Render(a.c.T(statusNotLogged))})
		}
	}
	if r := a.c.Remote; r != nil && !a.local {
		style := st.StatusWarn
		if r.followers > 0 {
			style = st.StatusValue
		}
		key := st.StatusKey.Render(a.c.T(statusAudio) + " ")
		full, short := a.c.remoteAudio()
		segs = append(segs, segment{full: key + style.Render(full), short: key + style.Render(short)})
	} else if a.c.Engine != nil {
		style := st.StatusValue
		if a.c.Engine.Output() != player.OutputSpeaker {
			style = st.StatusWarn
		}
		key := st.StatusKey.Render(a.c.T(statusAudio) + " ")
		segs = append(segs, segment{full: key + style.Render(a.audioText()), short: key + style.Render(a.outputText())})
	}
	msg := ""
	if a.status.Text != "" {
		style := st.StatusValue
		switch a.status.Level {
		case LevelWarn:
			style = st.StatusWarn
		case LevelError:
			style = st.StatusError
		}
		msg = sep + style.Render(a.status.Text)
	}
	join := func() string {
		parts := make([]string, len(segs))
		for i, sg := range segs {
			parts[i] = sg.full
		}
		return strings.Join(parts, sep)
	}
	left := join()
	// Shorten in order: server address, audio reason, user label, while
	// the bar and the whole message do not fit: a message is shown for a
	// few seconds only, so it wins over what is always there.
	room := func() int { return lipgloss.Width(left) + lipgloss.Width(msg) }
	for _, i := range []int{0, len(segs) - 1, 1} {
		if room() <= w || i >= len(segs) || segs[i].short == "" {
			continue
		}
		segs[i].full = segs[i].short
		left = join()
	}
	left = ansi.Truncate(left+msg, w, "…")
	pad := max(0, w-lipgloss.Width(left))
	return left + st.StatusBar.Render(strings.Repeat(" ", pad))
}

// draftOfferMsg is what draftOffer found on disk.
type draftOfferMsg struct{ text string }

// draftOffer tells a user who just logged in that evaluations they had not
// sent are waiting on this machine (after a crash or a closed terminal);
// the evaluation screen offers each one back when its call is opened. It
// reads the draft directory in a Cmd.
func (a *App) draftOffer() tea.Cmd {
	drafts, p := a.c.Drafts, a.c.Principal
	if drafts == nil || p == nil {
		return nil
	}
	login := p.GetLogin()
	return a.c.task(appID, "drafts", func() tea.Msg {
		ds, err := drafts.ListFor(login)
		if err != nil || len(ds) == 0 {
			return draftOfferMsg{}
		}
		var calls []string
		for _, d := range ds {
			if d.CallID != "" && !slices.Contains(calls, d.CallID) {
				calls = append(calls, d.CallID)
			}
		}
		if len(calls) == 0 {
			return draftOfferMsg{text: a.c.T(draftsWaiting, len(ds))}
		}
		return draftOfferMsg{text: a.c.T(draftsWaitingCalls, len(ds), strings.Join(calls, ", "))}
	})
}

// fitBlock cuts or pads s to exactly h lines of w cells. Screens already
// lay out to their size, so this only guards the edges; it is done line by
// line rather than with a Lip Gloss Width, which would re-wrap the whole
// screen on every frame.
func fitBlock(s string, w, h int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	var b strings.Builder
	for i := range h {
		if i > 0 {
			b.WriteByte('\n')
		}
		l := ""
		if i < len(lines) {
			l = lines[i]
		}
		if lw := ansi.StringWidth(l); lw > w {
			l = ansi.Truncate(l, w, "")
		} else if lw < w {
			l += strings.Repeat(" ", w-lw)
		}
		b.WriteString(l)
	}
	return b.String()
}
