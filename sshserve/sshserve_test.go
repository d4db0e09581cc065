package sshserve

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/ssh"
	gossh "golang.org/x/crypto/ssh"

	"github.com/ecoute/ecoute/internal/clock"
)

// fakeAuth is the backend as the SSH server sees it: keys, passwords, and
// what it was asked to record.
type fakeAuth struct {
	mu        sync.Mutex
	keys      map[string][]string // login → fingerprints
	passwords map[string]string
	locked    map[string]bool
	logins    []Attempt
	refused   []string // "login step"
	ended     []string // "login reason"
}

func (a *fakeAuth) KeyAllowed(_ context.Context, login, fp string) (bool, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, k := range a.keys[login] {
		if k == fp {
			return true, nil
		}
	}
	return false, nil
}

func (a *fakeAuth) Login(_ context.Context, at Attempt) (Identity, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.logins = append(a.logins, at)
	if a.locked[at.Login] {
		return Identity{}, &LoginError{Kind: Locked, Until: time.Date(2026, 1, 1, 14, 5, 0, 0, time.Local)}
	}
	if a.passwords[at.Login] != at.Password {
		return Identity{}, &LoginError{Kind: BadPassword, Err: errors.New("bad")}
	}
	return Identity{UserID: "u-" + at.Login, Login: at.Login, Role: "supervisor", Token: "tok-" + at.Login}, nil
}

func (a *fakeAuth) Refused(_ context.Context, login, _, step, _ string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.refused = append(a.refused, login+" "+step)
}

func (a *fakeAuth) Ended(_ context.Context, id Identity, _, reason string, _ time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.ended = append(a.ended, id.Login+" "+reason)
}

func (a *fakeAuth) snapshot() (logins int, refused, ended []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.logins), append([]string(nil), a.refused...), append([]string(nil), a.ended...)
}

// waitFor polls cond (a settled state, not a delay) for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func newSigner(t *testing.T) gossh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// tickModel stands for the console: it shows who logged in, the keys it
// got and a clock ticking every 20 ms (as a playing call's position
// does), and quits on q. The test reads its state in consoles.
type tickModel struct {
	mu    sync.Mutex
	who   string
	keys  string
	ticks int
	size  string
}

// consoles are the test consoles running, by login.
var consoles sync.Map

func (m *tickModel) state() (keys string, ticks int, size string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.keys, m.ticks, m.size
}

type tickMsg struct{}

func tick() tea.Cmd {
	return tea.Tick(20*time.Millisecond, func(time.Time) tea.Msg { return tickMsg{} })
}

func (m *tickModel) Init() tea.Cmd { return tick() }

func (m *tickModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch msg := msg.(type) {
	case tickMsg:
		m.ticks++
		return m, tick()
	case tea.WindowSizeMsg:
		m.size = fmt.Sprintf("%dx%d", msg.Width, msg.Height)
	case tea.KeyPressMsg:
		if msg.String() == "q" {
			return m, tea.Quit
		}
		m.keys += msg.String()
	}
	return m, nil
}

func (m *tickModel) View() tea.View {
	m.mu.Lock()
	defer m.mu.Unlock()
	return tea.NewView(fmt.Sprintf("console %s\nkeys[%s] size[%s] tick %d", m.who, m.keys, m.size, m.ticks))
}

// testConsole runs tickModel with the session's own filter and messages,
// as the real console gets them.
func testConsole(se *session, ctx context.Context, pty ssh.Pty, env []string) error {
	m := &tickModel{who: se.id.Login + "/" + se.id.Role, size: fmt.Sprintf("%dx%d", pty.Window.Width, pty.Window.Height)}
	consoles.Store(se.id.Login, m)
	p := tea.NewProgram(m, tea.WithContext(ctx), tea.WithInput(se.sess), tea.WithOutput(se.sess), tea.WithEnvironment(env),
		tea.WithWindowSize(pty.Window.Width, pty.Window.Height), tea.WithFilter(se.filter))
	done := make(chan struct{})
	go func() {
		for {
			select {
			case msg := <-se.msgs:
				p.Send(msg)
			case <-done:
				return
			}
		}
	}()
	_, err := p.Run()
	close(done)
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		return nil
	}
	return err
}

// console waits for login's test console to satisfy cond.
func console(t *testing.T, login, what string, cond func(keys string, ticks int, size string) bool) {
	t.Helper()
	waitFor(t, login+"'s console: "+what, func() bool {
		m, ok := consoles.Load(login)
		return ok && cond(m.(*tickModel).state())
	})
}

func ticks(t *testing.T, login string) int {
	m, _ := consoles.Load(login)
	_, n, _ := m.(*tickModel).state()
	return n
}

type world struct {
	t     *testing.T
	auth  *fakeAuth
	clock *clock.Fake
	srv   *Server
	addr  string
	cfg   Config
}

func newWorld(t *testing.T, edit func(*Config)) *world {
	t.Helper()
	w := &world{t: t, auth: &fakeAuth{keys: map[string][]string{}, passwords: map[string]string{}, locked: map[string]bool{}},
		clock: clock.NewFake(time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC))}
	w.cfg = Config{HostKeyFile: filepath.Join(t.TempDir(), "ssh", "host_ed25519"), Auth: w.auth, Backend: "127.0.0.1:7443",
		Clock: w.clock, checkEvery: 5 * time.Millisecond, console: testConsole}
	if edit != nil {
		edit(&w.cfg)
	}
	w.start()
	return w
}

func (w *world) start() {
	w.t.Helper()
	srv, err := New(w.cfg)
	if err != nil {
		w.t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		w.t.Fatal(err)
	}
	go srv.Serve(lis)
	w.srv, w.addr = srv, lis.Addr().String()
	w.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
}

func (w *world) account(login, password string, keys ...gossh.Signer) {
	consoles.Delete(login) // a console of an earlier test
	w.auth.mu.Lock()
	defer w.auth.mu.Unlock()
	w.auth.passwords[login] = password
	for _, k := range keys {
		w.auth.keys[login] = append(w.auth.keys[login], gossh.FingerprintSHA256(k.PublicKey()))
	}
}

// dial logs in as login with the keys, answering the password prompts
// with passwords in turn; prompts counts the prompts.
func (w *world) dial(login string, version string, keys []gossh.Signer, passwords ...string) (*gossh.Client, *int, error) {
	prompts := new(int)
	cfg := &gossh.ClientConfig{User: login, HostKeyCallback: gossh.InsecureIgnoreHostKey(), ClientVersion: version,
		Timeout: 10 * time.Second}
	cfg.Auth = []gossh.AuthMethod{gossh.PublicKeys(keys...),
		gossh.RetryableAuthMethod(gossh.KeyboardInteractive(func(name, instruction string, questions []string, echos []bool) ([]string, error) {
			if len(questions) == 0 {
				return nil, nil
			}
			if *prompts >= len(passwords) {
				return nil, errors.New("no more passwords")
			}
			*prompts++
			return []string{passwords[*prompts-1]}, nil
		}), 3)}
	c, err := gossh.Dial("tcp", w.addr, cfg)
	return c, prompts, err
}

// term is a session's screen as bytes, read as they come.
type term struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	in   io.WriteCloser
	sess *gossh.Session
	done chan error
}

func (tm *term) Write(p []byte) (int, error) {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	return tm.buf.Write(p)
}

func (tm *term) text() string {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	return tm.buf.String()
}

func (tm *term) waitFor(t *testing.T, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(tm.text(), what) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %q on the screen; have %q", what, tail(tm.text()))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func tail(s string) string {
	if len(s) > 300 {
		return s[len(s)-300:]
	}
	return s
}

func (w *world) shell(c *gossh.Client, env ...string) *term {
	w.t.Helper()
	sess, err := c.NewSession()
	if err != nil {
		w.t.Fatal(err)
	}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		_ = sess.Setenv(k, v)
	}
	tm := &term{sess: sess, done: make(chan error, 1)}
	sess.Stdout = tm
	if tm.in, err = sess.StdinPipe(); err != nil {
		w.t.Fatal(err)
	}
	if err := sess.RequestPty("xterm-256color", 24, 80, gossh.TerminalModes{}); err != nil {
		w.t.Fatal(err)
	}
	if err := sess.Shell(); err != nil {
		w.t.Fatal(err)
	}
	go func() { tm.done <- sess.Wait() }()
	return tm
}

func (tm *term) exit(t *testing.T) error {
	t.Helper()
	select {
	case err := <-tm.done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatalf("the session did not end; screen: %q", tail(tm.text()))
		return nil
	}
}

// TestKeyThenPassword: a registered key, proven, then the password open
// the account's console; an unregistered key is never asked a password;
// a wrong password is refused; every outcome is recorded.
func TestKeyThenPassword(t *testing.T) {
	w := newWorld(t, nil)
	claire, stranger := newSigner(t), newSigner(t)
	w.account("claire", "le bon mot de passe", claire)

	c, prompts, err := w.dial("claire", "", []gossh.Signer{claire}, "le bon mot de passe")
	if err != nil {
		t.Fatal(err)
	}
	if *prompts != 1 {
		t.Errorf("%d password prompts, want 1", *prompts)
	}
	tm := w.shell(c)
	tm.waitFor(t, "console claire/supervisor")
	tm.in.Write([]byte("q"))
	if err := tm.exit(t); err != nil {
		t.Errorf("quit: %v", err)
	}
	c.Close()
	waitFor(t, "the end recorded", func() bool { _, _, e := w.auth.snapshot(); return len(e) == 1 })
	if _, _, ended := w.auth.snapshot(); ended[0] != "claire quit" {
		t.Errorf("ended: %v", ended)
	}

	// A key registered to nobody: refused, and no password asked.
	_, prompts, err = w.dial("claire", "", []gossh.Signer{stranger}, "le bon mot de passe")
	if err == nil || *prompts != 0 {
		t.Fatalf("stranger's key: %v, %d prompts", err, *prompts)
	}
	waitFor(t, "the refusal recorded", func() bool { _, r, _ := w.auth.snapshot(); return len(r) == 1 })
	if _, refused, _ := w.auth.snapshot(); refused[0] != "claire key" {
		t.Errorf("refused: %v", refused)
	}
	// The right key with a wrong password: refused by the backend's login.
	n, _, _ := w.auth.snapshot()
	_, prompts, err = w.dial("claire", "", []gossh.Signer{claire}, "faux", "faux encore")
	if err == nil || *prompts != 2 {
		t.Fatalf("wrong password: %v, %d prompts", err, *prompts)
	}
	if got, _, _ := w.auth.snapshot(); got != n+2 {
		t.Errorf("%d logins tried, want %d", got, n+2)
	}
	// A password alone is no way in.
	cfg := &gossh.ClientConfig{User: "claire", HostKeyCallback: gossh.InsecureIgnoreHostKey(),
		Auth: []gossh.AuthMethod{gossh.Password("le bon mot de passe"), gossh.KeyboardInteractive(
			func(string, string, []string, []bool) ([]string, error) { return []string{"le bon mot de passe"}, nil })}}
	if _, err := gossh.Dial("tcp", w.addr, cfg); err == nil {
		t.Error("password-only login accepted")
	}
}

// badSigner offers a registered public key but signs with another key:
// the server accepts the offer (the key is the account's) and must then
// refuse, since the key was never proven.
type badSigner struct {
	pub    gossh.PublicKey
	actual gossh.Signer
}

func (b badSigner) PublicKey() gossh.PublicKey { return b.pub }
func (b badSigner) Sign(r io.Reader, data []byte) (*gossh.Signature, error) {
	return b.actual.Sign(r, data)
}

// TestOfferedKeyIsNotProof: offering a registered key (which the server
// accepts as a candidate) and signing with another opens nothing and asks
// no password.
func TestOfferedKeyIsNotProof(t *testing.T) {
	w := newWorld(t, nil)
	victim, attacker := newSigner(t), newSigner(t)
	w.account("victime", "mot de passe de la victime", victim)
	w.account("attaquant", "mot de passe de l'attaquant", attacker)
	_, prompts, err := w.dial("victime", "", []gossh.Signer{badSigner{pub: victim.PublicKey(), actual: attacker}},
		"mot de passe de l'attaquant", "mot de passe de la victime")
	if err == nil || *prompts != 0 {
		t.Fatalf("offered key: %v, %d prompts", err, *prompts)
	}
	// The attacker's own key for the victim's login: refused too.
	_, prompts, err = w.dial("victime", "", []gossh.Signer{attacker}, "mot de passe de la victime")
	if err == nil || *prompts != 0 {
		t.Fatalf("attacker's key as the victim: %v, %d prompts", err, *prompts)
	}
	if n, _, _ := w.auth.snapshot(); n != 0 {
		t.Errorf("%d password checks reached the backend", n)
	}
	waitFor(t, "both refusals recorded", func() bool { _, r, _ := w.auth.snapshot(); return len(r) == 2 })
}

// TestIdleTimeoutCountsKeysNotOutput: a console whose clock ticks (output
// every 20 ms) still times out on the last key press; a key press puts the
// timeout off; a warning comes first.
func TestIdleTimeoutCountsKeysNotOutput(t *testing.T) {
	w := newWorld(t, func(c *Config) { c.IdleTimeout = time.Minute })
	k := newSigner(t)
	w.account("claire", "pw", k)
	c, _, err := w.dial("claire", "", []gossh.Signer{k}, "pw")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tm := w.shell(c)
	console(t, "claire", "ticking", func(_ string, n int, _ string) bool { return n >= 5 })
	w.clock.Advance(50 * time.Second)
	n := ticks(t, "claire")
	console(t, "claire", "still ticking", func(_ string, m int, _ string) bool { return m >= n+10 })
	written := len(tm.text())
	waitFor(t, "more output", func() bool { return len(tm.text()) > written+100 })
	tm.in.Write([]byte("x"))
	console(t, "claire", "the key", func(k string, _ int, _ string) bool { return k == "x" })
	w.clock.Advance(50 * time.Second) // 100 s since the start, 50 s since the key
	n = ticks(t, "claire")
	console(t, "claire", "ticking on", func(_ string, m int, _ string) bool { return m >= n+10 })
	select {
	case err := <-tm.done:
		t.Fatalf("closed 50 s after a key press: %v", err)
	default:
	}
	w.clock.Advance(11 * time.Second)
	if err := tm.exit(t); err != nil {
		t.Logf("exit: %v", err)
	}
	if s := tm.text(); !strings.Contains(s, "no key pressed for 1 min") {
		t.Errorf("no idle message: %q", tail(s))
	}
	waitFor(t, "the end recorded", func() bool { _, _, e := w.auth.snapshot(); return len(e) == 1 })
	if _, _, ended := w.auth.snapshot(); ended[0] != "claire idle" {
		t.Errorf("ended: %v", ended)
	}
}

// TestSessionLimit: a session ends at its absolute limit, busy or not.
func TestSessionLimit(t *testing.T) {
	w := newWorld(t, func(c *Config) { c.IdleTimeout, c.SessionLimit = time.Minute, 5*time.Minute })
	k := newSigner(t)
	w.account("claire", "pw", k)
	c, _, err := w.dial("claire", "", []gossh.Signer{k}, "pw")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tm := w.shell(c)
	console(t, "claire", "ticking", func(_ string, n int, _ string) bool { return n >= 2 })
	// A key every 50 s: never idle.
	for i := range 5 {
		w.clock.Advance(50 * time.Second)
		tm.in.Write([]byte{byte('a' + i)})
		want := "abcde"[:i+1]
		console(t, "claire", "key "+want, func(k string, _ int, _ string) bool { return k == want })
	}
	w.clock.Advance(50 * time.Second) // 5 min since the start
	tm.exit(t)
	if s := tm.text(); !strings.Contains(s, "a session lasts 5 min at most") {
		t.Errorf("no limit message: %q", tail(s))
	}
}

// TestRatesCountFailures: failures from one source close it for a while,
// wrong passwords of one account stop its password checks, and a
// connection that succeeds does not count.
func TestRatesCountFailures(t *testing.T) {
	w := newWorld(t, func(c *Config) {
		c.Rates = Rates{ConnEvery: time.Second, ConnBurst: 100, SourceFailEvery: time.Minute, SourceFailBurst: 3,
			AccountFailEvery: time.Minute, AccountFailBurst: 1}
	})
	k, stranger := newSigner(t), newSigner(t)
	w.account("claire", "pw", k)
	if _, _, err := w.dial("claire", "", []gossh.Signer{k}, "faux"); err == nil {
		t.Fatal("wrong password accepted")
	}
	// The account's budget is spent: its next password is not even checked.
	n, _, _ := w.auth.snapshot()
	_, prompts, err := w.dial("claire", "", []gossh.Signer{k}, "pw")
	if err == nil {
		t.Fatal("accepted past the account's budget")
	}
	if got, _, _ := w.auth.snapshot(); got != n || *prompts != 0 {
		t.Errorf("past the budget: %d more checks, %d prompts", got-n, *prompts)
	}
	// Source: 3 failures (the wrong password, the refused one, a key of
	// nobody's), then its connections are refused before SSH starts.
	w.dial("marc", "", []gossh.Signer{stranger})
	waitFor(t, "the refusal recorded", func() bool { _, r, _ := w.auth.snapshot(); return len(r) >= 1 })
	_, _, err = w.dial("marc", "", []gossh.Signer{stranger})
	if err == nil || !strings.Contains(err.Error(), "handshake") && !errors.Is(err, io.EOF) && !strings.Contains(err.Error(), "EOF") {
		t.Errorf("source over its budget: %v", err)
	}
	// A minute later the source may come back.
	w.clock.Advance(2 * time.Minute)
	if c, _, err := w.dial("claire", "", []gossh.Signer{k}, "pw"); err != nil {
		t.Errorf("after the budget refilled: %v", err)
	} else {
		c.Close()
	}
}

// TestConnectionBudgetCountsConnections: the connection budget takes one
// token per connection, however many keys the client offers in it (an
// agent holding several keys is common); past the budget, connections are
// refused.
func TestConnectionBudgetCountsConnections(t *testing.T) {
	w := newWorld(t, func(c *Config) {
		c.Rates = Rates{ConnEvery: time.Hour, ConnBurst: 2, SourceFailEvery: time.Minute, SourceFailBurst: 10,
			AccountFailEvery: time.Minute, AccountFailBurst: 5}
	})
	k := newSigner(t)
	w.account("claire", "pw", k)
	others := []gossh.Signer{newSigner(t), newSigner(t), newSigner(t), k}
	for i := range 2 {
		c, _, err := w.dial("claire", "", others, "pw")
		if err != nil {
			t.Fatalf("connection %d, with four keys offered: %v", i+1, err)
		}
		c.Close()
	}
	if c, _, err := w.dial("claire", "", []gossh.Signer{k}, "pw"); err == nil {
		c.Close()
		t.Fatal("a third connection passed a budget of two")
	}
}

// TestSessionCaps: an account's sessions beyond its cap are refused with a
// message; closing one makes room.
func TestSessionCaps(t *testing.T) {
	w := newWorld(t, func(c *Config) { c.MaxSessions, c.PerAccount = 3, 1 })
	k := newSigner(t)
	w.account("claire", "pw", k)
	c1, _, err := w.dial("claire", "", []gossh.Signer{k}, "pw")
	if err != nil {
		t.Fatal(err)
	}
	tm := w.shell(c1)
	tm.waitFor(t, "console claire")
	if _, _, err := w.dial("claire", "", []gossh.Signer{k}, "pw"); err == nil {
		t.Fatal("second session of the account accepted")
	}
	// One console per connection, too.
	s2, err := c1.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	out, _ := s2.CombinedOutput("")
	if !strings.Contains(string(out), "One console per connection") {
		t.Errorf("second channel: %q", out)
	}
	tm.in.Write([]byte("q"))
	tm.exit(t)
	c1.Close()
	waitFor(t, "the slot released", func() bool { return w.srv.Active() == 0 })
	c3, _, err := w.dial("claire", "", []gossh.Signer{k}, "pw")
	if err != nil {
		t.Fatalf("after the first closed: %v", err)
	}
	c3.Close()
}

// TestWindowsClientsAreAskedTheirSize: a client that sends no window
// change (Windows OpenSSH) is asked its size; the console follows.
func TestWindowsClientsAreAskedTheirSize(t *testing.T) {
	w := newWorld(t, nil)
	k := newSigner(t)
	w.account("claire", "pw", k)
	c, _, err := w.dial("claire", "SSH-2.0-OpenSSH_for_Windows_9.5", []gossh.Signer{k}, "pw")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tm := w.shell(c)
	console(t, "claire", "80×24", func(_ string, _ int, size string) bool { return size == "80x24" })
	tm.waitFor(t, "\x1b[6n")
	// The terminal was made wider: it answers where the cursor landed.
	tm.in.Write([]byte("\x1b[40;132R"))
	console(t, "claire", "132×40", func(_ string, _ int, size string) bool { return size == "132x40" })
}

// TestHostKeyKept: made once, 0600, the same after a restart.
func TestHostKeyKept(t *testing.T) {
	w := newWorld(t, nil)
	fi, err := os.Stat(w.cfg.HostKeyFile)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("host key: %v %v", fi.Mode(), err)
	}
	first := gossh.FingerprintSHA256(w.srv.HostKey())
	w.start()
	if again := gossh.FingerprintSHA256(w.srv.HostKey()); again != first {
		t.Errorf("host key changed: %s then %s", first, again)
	}
}

// TestLimitsAreBounded: limits outside their bounds are refused.
func TestLimitsAreBounded(t *testing.T) {
	for _, c := range []Config{
		{IdleTimeout: time.Second},
		{IdleTimeout: 2 * time.Hour},
		{SessionLimit: time.Minute},
		{SessionLimit: 48 * time.Hour},
		{IdleTimeout: 20 * time.Minute, SessionLimit: 10 * time.Minute},
		{MaxSessions: -1},
		{MaxSessions: 2, PerAccount: 5},
	} {
		c.Auth, c.Backend = &fakeAuth{}, "127.0.0.1:1"
		if err := c.Validate(); err == nil {
			t.Errorf("accepted %+v", c)
		}
	}
}
