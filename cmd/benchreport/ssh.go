package main

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/ecoute/ecoute/internal/benchkit"
	"github.com/ecoute/ecoute/internal/load"
)

// Remote review over SSH under load: sshSessions consoles served at once
// by one `ecouted serve --ssh-listen` on loopback, each logged in with key
// and password, each pressing keys on the call list; the time from a key
// to the first byte of the redraw it causes. Peer: as many plain OpenSSH
// sessions (sshd on loopback, key only) running `less` on a file as wide
// as the call list, the same keys, the same client; the two sides take
// turns, sshRounds each.
const (
	sshSessions = 20
	sshKeys     = 60 // per session and side, over sshRounds turns
	sshRounds   = 2
	sshQuiet    = 40 * time.Millisecond
)

// sshSide is one side's sessions and figures.
type sshSide struct {
	name     string
	sessions []*sshConsole
	opens    benchkit.Durations
	keys     benchkit.Durations
	sizes    []int
	errs     []error
}

func sshSection(ctx context.Context, e *env) (*table, error) {
	ecouted, err := e.bin("./cmd/ecouted")
	if err != nil {
		return nil, err
	}
	data := filepath.Join(e.tmp, "ssh-data")
	accounts, err := load.SeedDemo(ctx, ecouted, data)
	if err != nil {
		return nil, err
	}
	sup := accounts["supervisor"]
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	signer, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		return nil, err
	}
	pub := filepath.Join(e.tmp, "ssh-key.pub")
	if err := os.WriteFile(pub, gossh.MarshalAuthorizedKey(signer.PublicKey()), 0o600); err != nil {
		return nil, err
	}
	if out, err := exec.CommandContext(ctx, ecouted, "--data", data, "user", "key", "add", sup[0], "--key", pub).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("user key add: %v\n%s", err, out)
	}
	srv, err := load.StartServerWith(ctx, ecouted, data, os.Getenv("SSHPROF") != "", "--ssh-listen", "127.0.0.1:0",
		"--ssh-max-sessions", fmt.Sprint(sshSessions), "--ssh-sessions-per-account", fmt.Sprint(sshSessions))
	if err != nil {
		return nil, err
	}
	defer srv.Stop()
	if srv.SSHAddr == "" {
		return nil, errors.New("ecouted did not say where SSH listens")
	}

	ours := &sshSide{name: "ecoute"}
	e.log("opening %d SSH sessions to ecouted", sshSessions)
	ours.open(func() (*sshConsole, error) {
		s, err := openSSHConsole(srv.SSHAddr, sup[0], "", signer, gossh.KeyboardInteractive(
			func(_, _ string, questions []string, _ []bool) ([]string, error) {
				answers := make([]string, len(questions))
				for i := range answers {
					answers[i] = sup[1]
				}
				return answers, nil
			}))
		if err != nil {
			return nil, err
		}
		return s, s.waitFor("call 1 of", 60*time.Second)
	})
	defer ours.close()

	peer := &sshSide{name: "OpenSSH + less"}
	sshd, peerErr := startSSHD(ctx, e.tmp, signer.PublicKey())
	if peerErr == nil {
		defer sshd.stop()
		e.log("opening %d plain OpenSSH sessions (less)", sshSessions)
		peer.open(func() (*sshConsole, error) {
			s, err := openSSHConsole(sshd.addr, sshd.user, "env LESS= LESSOPEN= LESSHISTFILE=- less -S "+sshd.file, signer)
			if err != nil {
				return nil, err
			}
			return s, s.waitFor(fmt.Sprintf("line %03d", 39), 60*time.Second)
		})
		defer peer.close()
	} else {
		e.log("no peer: %v", peerErr)
	}

	if p := os.Getenv("SSHPROF"); p != "" {
		go srv.Profile(ctx, "profile", "seconds=6", p)
	}
	for round := range sshRounds {
		e.log("turn %d: %d keys on each of ecoute's %d sessions", round+1, sshKeys/sshRounds, len(ours.sessions))
		ours.press(sshKeys / sshRounds)
		if peerErr == nil {
			e.log("turn %d: %d keys on each of OpenSSH's %d sessions", round+1, sshKeys/sshRounds, len(peer.sessions))
			peer.press(sshKeys / sshRounds)
		}
	}
	if len(ours.keys) == 0 {
		return nil, fmt.Errorf("no key measured: %v", errors.Join(ours.errs...))
	}
	repro := "`go run ./cmd/benchreport -only ssh`"
	t := &table{
		intro: fmt.Sprintf("%d SSH sessions at once against one `ecouted serve --ssh-listen` on loopback (demo data), "+
			"each opened by key and password (x/crypto/ssh's client, a 120×40 pty, xterm-256color), each then "+
			"pressing ↓/↑ (j, k) %d times on the call list, all together: the time from writing a key to the "+
			"first byte of the redraw it causes, once the screen has been quiet for %v. Each session is a "+
			"whole console on the server (its own gRPC connection over TLS to the same ecouted, its player on "+
			"the null output). Peer: %d plain OpenSSH sessions at once (`sshd` on loopback, key only, the same "+
			"client and pty) each running `less -S` on a file of 200 lines of 110 characters, the same keys "+
			"(one line down, one up). The two sides take turns, %d turns of %d keys per session each.",
			sshSessions, sshKeys, sshQuiet, sshSessions, sshRounds, sshKeys/sshRounds),
		header: []string{"what", "ecoute p50 (ms)", "ecoute p90 (ms)", "ecoute p99 (ms)", "ecoute max (ms)",
			"OpenSSH + less p50 (ms)", "OpenSSH + less p99 (ms)", "ratio p99", "samples", "errors", "reproduce"},
	}
	peerCols := func(d benchkit.Durations) (string, string, string) {
		if peerErr != nil || len(d) == 0 {
			return "—", "—", "—"
		}
		return benchkit.Ms(d.Median()), benchkit.Ms(d.Quantile(0.99)), benchkit.Ratio(float64(ours.keys.Quantile(0.99)), float64(d.Quantile(0.99)))
	}
	loadAvg := "unknown"
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		loadAvg = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	p50, p99, ratio := peerCols(peer.keys)
	t.rows = append(t.rows, []string{fmt.Sprintf("key → redraw, %d sessions at once", sshSessions), benchkit.Ms(ours.keys.Median()),
		benchkit.Ms(ours.keys.Quantile(0.9)), "**" + benchkit.Ms(ours.keys.Quantile(0.99)) + "**", benchkit.Ms(ours.keys.Max()),
		p50, p99, ratio, fmt.Sprintf("%d + %d", len(ours.keys), len(peer.keys)), fmt.Sprintf("%d + %d", len(ours.errs), len(peer.errs)), repro})
	p50, p99, _ = peerCols(peer.opens)
	t.rows = append(t.rows, []string{"connect → first screen (ecoute: key + password → call list)", benchkit.Ms(ours.opens.Median()),
		benchkit.Ms(ours.opens.Quantile(0.9)), benchkit.Ms(ours.opens.Quantile(0.99)), benchkit.Ms(ours.opens.Max()),
		p50, p99, "—", fmt.Sprintf("%d + %d", len(ours.opens), len(peer.opens)), "—", "same run"})
	t.notes = append(t.notes, fmt.Sprintf("A redraw for one row moved is %d bytes over SSH for ecoute, %d for less (medians): "+
		"Bubble Tea sends what changed.", median(ours.sizes), median(peer.sizes)),
		fmt.Sprintf("Load average at the end of the section: %s (the machine's other work shares its cores).", loadAvg),
		fmt.Sprintf("Goal (issue %d): key → redraw p99 ≤ 50 ms with %d sessions, and no error.", 14, sshSessions))
	if peerErr != nil {
		t.notes = append(t.notes, fmt.Sprintf("Peer not measured: %v.", peerErr))
	}
	errs := append(append([]error(nil), ours.errs...), peer.errs...)
	if len(errs) > 0 {
		t.notes = append(t.notes, fmt.Sprintf("Errors: %v", errors.Join(errs...)))
		return t, fmt.Errorf("%d errors: %w", len(errs), errs[0])
	}
	return t, nil
}

// open opens sshSessions sessions at once with dial, each ready when dial
// returns.
func (sd *sshSide) open(dial func() (*sshConsole, error)) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range sshSessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			s, err := dial()
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if s != nil {
					s.close()
				}
				sd.errs = append(sd.errs, fmt.Errorf("%s session %d: %w", sd.name, i, err))
				return
			}
			sd.opens = append(sd.opens, time.Since(t0))
			sd.sessions = append(sd.sessions, s)
		}()
	}
	wg.Wait()
}

// press has every session press n keys (j, k, j…), all at once.
func (sd *sshSide) press(n int) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i, s := range sd.sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range n {
				key := "j"
				if k%2 == 1 {
					key = "k"
				}
				d, size, err := s.press(key)
				mu.Lock()
				if err != nil {
					sd.errs = append(sd.errs, fmt.Errorf("%s session %d key %d: %w", sd.name, i, k, err))
					mu.Unlock()
					return
				}
				sd.keys = append(sd.keys, d)
				sd.sizes = append(sd.sizes, size)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

func (sd *sshSide) close() {
	for _, s := range sd.sessions {
		s.close()
	}
}

func median(v []int) int {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// sshd is a private OpenSSH server on loopback, for the peer.
type sshd struct {
	cmd  *exec.Cmd
	addr string
	user string
	file string // what less shows
}

// startSSHD runs the system's sshd (-D, its own config, host key and
// authorized key in dir) on a free loopback port, as this user, and waits
// until it listens.
func startSSHD(ctx context.Context, tmp string, key gossh.PublicKey) (*sshd, error) {
	bin, err := exec.LookPath("sshd")
	if err != nil {
		if bin, err = exec.LookPath("/usr/sbin/sshd"); err != nil {
			return nil, errors.New("sshd not installed (apt-get install openssh-server)")
		}
	}
	u, err := user.Current()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(tmp, "sshd")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	_, hostPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	block, err := gossh.MarshalPrivateKey(hostPriv, "")
	if err != nil {
		return nil, err
	}
	var lines strings.Builder
	for i := 1; i <= 200; i++ {
		fmt.Fprintf(&lines, "line %03d %s\n", i, strings.Repeat(string(rune('a'+i%26)), 101))
	}
	file := filepath.Join(dir, "calls.txt")
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := lis.Addr().String()
	lis.Close()
	conf := strings.Join([]string{
		"ListenAddress " + addr,
		"HostKey " + filepath.Join(dir, "host_ed25519"),
		"AuthorizedKeysFile " + filepath.Join(dir, "authorized_keys"),
		"PidFile none",
		"StrictModes no",
		"PermitRootLogin prohibit-password",
		"AuthenticationMethods publickey",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"UsePAM no",
		"MaxStartups 100",
		"MaxSessions 100",
		// A second-level shell: bash skips the account's ~/.bashrc, which
		// sshd would otherwise run before less (and time with it).
		"SetEnv SHLVL=1",
		"", // the end of the last line
	}, "\n")
	for name, content := range map[string][]byte{
		"host_ed25519":    pem.EncodeToMemory(block),
		"authorized_keys": gossh.MarshalAuthorizedKey(key),
		"calls.txt":       []byte(lines.String()),
		"sshd_config":     []byte(conf),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o600); err != nil {
			return nil, err
		}
	}
	if os.Geteuid() == 0 {
		// sshd started by root wants its privilege separation directory.
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			return nil, err
		}
	}
	cmd := exec.CommandContext(ctx, bin, "-D", "-e", "-f", filepath.Join(dir, "sshd_config"))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("sshd: %w", err)
	}
	listening := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		var said []string
		told := false
		for sc.Scan() { // read to the end: sshd must never block on its log
			switch {
			case told:
			case strings.Contains(sc.Text(), "Server listening on"):
				listening <- nil
				told = true
			default:
				said = append(said, sc.Text())
			}
		}
		if !told {
			listening <- fmt.Errorf("sshd did not start: %s", strings.Join(said, "; "))
		}
	}()
	if err := <-listening; err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, err
	}
	return &sshd{cmd: cmd, addr: addr, user: u.Username, file: file}, nil
}

// stop waits (up to 10 s) for sshd's session processes to end once their
// clients have gone, so that it reaps them, then stops it.
func (s *sshd) stop() {
	children := fmt.Sprintf("/proc/%d/task/%d/children", s.cmd.Process.Pid, s.cmd.Process.Pid)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if b, err := os.ReadFile(children); err != nil || strings.TrimSpace(string(b)) == "" {
			break
		}
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
}

// sshConsole is one SSH session's screen, as bytes with their arrival
// times.
type sshConsole struct {
	client *gossh.Client
	sess   *gossh.Session
	in     interface{ Write([]byte) (int, error) }

	mu      sync.Mutex
	changed *sync.Cond
	out     strings.Builder
	total   int
	arrived []arrival
	closed  bool
}

type arrival struct {
	at    time.Time
	total int // bytes received once this chunk arrived
}

// openSSHConsole logs in as login with key then the other methods, asks
// for a 120×40 pty and starts command (the shell when empty).
func openSSHConsole(addr, login, command string, key gossh.Signer, more ...gossh.AuthMethod) (*sshConsole, error) {
	cfg := &gossh.ClientConfig{User: login, HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 30 * time.Second,
		Auth: append([]gossh.AuthMethod{gossh.PublicKeys(key)}, more...)}
	c, err := gossh.Dial("tcp", addr, cfg)
	if err != nil {
		return nil, err
	}
	s := &sshConsole{client: c}
	s.changed = sync.NewCond(&s.mu)
	if s.sess, err = c.NewSession(); err != nil {
		c.Close()
		return nil, err
	}
	if s.in, err = s.sess.StdinPipe(); err != nil {
		c.Close()
		return nil, err
	}
	r, err := s.sess.StdoutPipe()
	if err != nil {
		c.Close()
		return nil, err
	}
	if err := s.sess.RequestPty("xterm-256color", 40, 120, gossh.TerminalModes{}); err != nil {
		c.Close()
		return nil, err
	}
	start := s.sess.Shell
	if command != "" {
		start = func() error { return s.sess.Start(command) }
	}
	if err := start(); err != nil {
		c.Close()
		return nil, err
	}
	go func() {
		buf := make([]byte, 32<<10)
		for {
			n, err := r.Read(buf)
			now := time.Now()
			s.mu.Lock()
			if n > 0 {
				s.total += n
				if s.out.Len() < 1<<20 {
					s.out.Write(buf[:n])
				}
				s.arrived = append(s.arrived, arrival{at: now, total: s.total})
			}
			if err != nil {
				s.closed = true
			}
			s.changed.Broadcast()
			s.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return s, nil
}

// waitFor waits for text on the screen.
func (s *sshConsole) waitFor(text string, timeout time.Duration) error {
	deadline := time.AfterFunc(timeout, func() { s.mu.Lock(); s.changed.Broadcast(); s.mu.Unlock() })
	defer deadline.Stop()
	start := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for !strings.Contains(s.out.String(), text) {
		if s.closed || time.Since(start) >= timeout {
			out := s.out.String()
			return fmt.Errorf("%q not on the screen (closed: %v; it ends with %q)", text, s.closed, out[max(0, len(out)-300):])
		}
		s.changed.Wait()
	}
	return nil
}

// press waits for a quiet screen, writes key and returns the time to the
// first byte after it and how many bytes the redraw took.
func (s *sshConsole) press(key string) (time.Duration, int, error) {
	if err := s.quiet(5 * time.Second); err != nil {
		return 0, 0, err
	}
	s.mu.Lock()
	mark := s.total
	s.mu.Unlock()
	t0 := time.Now()
	if _, err := s.in.Write([]byte(key)); err != nil {
		return 0, 0, err
	}
	deadline := time.AfterFunc(5*time.Second, func() { s.mu.Lock(); s.changed.Broadcast(); s.mu.Unlock() })
	defer deadline.Stop()
	s.mu.Lock()
	for s.total == mark {
		if s.closed || time.Since(t0) >= 5*time.Second {
			s.mu.Unlock()
			return 0, 0, errors.New("no redraw within 5 s")
		}
		s.changed.Wait()
	}
	var first time.Time
	for _, a := range s.arrived {
		if a.total > mark {
			first = a.at
			break
		}
	}
	s.mu.Unlock()
	if err := s.quiet(5 * time.Second); err != nil {
		return 0, 0, err
	}
	s.mu.Lock()
	n := s.total - mark
	s.arrived = s.arrived[:0]
	s.mu.Unlock()
	return first.Sub(t0), n, nil
}

// quiet waits until no byte has come for sshQuiet.
func (s *sshConsole) quiet(timeout time.Duration) error {
	start := time.Now()
	for {
		s.mu.Lock()
		last := time.Time{}
		if len(s.arrived) > 0 {
			last = s.arrived[len(s.arrived)-1].at
		}
		closed := s.closed
		s.mu.Unlock()
		if closed {
			return errors.New("session closed")
		}
		if wait := sshQuiet - time.Since(last); wait > 0 {
			if time.Since(start) > timeout {
				return errors.New("the screen never settled")
			}
			time.Sleep(wait)
			continue
		}
		return nil
	}
}

func (s *sshConsole) close() {
	_ = s.sess.Close()
	_ = s.client.Close()
}
