package e2e

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildBin builds one command of the module into a temporary directory.
func buildBin(t *testing.T, pkg, name string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), name)
	args := []string{"build", "-o", bin}
	if tags := os.Getenv("ECOUTE_TEST_TAGS"); tags != "" {
		args = append(args, "-tags", tags)
	}
	out, err := exec.Command("go", append(args, pkg)...).CombinedOutput()
	if err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin
}

// ecouted is a real `ecouted serve` process on a fixed loopback port, so it
// can be killed and started again at the same address.
type ecouted struct {
	t    *testing.T
	bin  string
	data string
	addr string
	cmd  *exec.Cmd
	// accounts maps role to login and password (from seed-demo).
	accounts map[string][2]string
}

// newEcouted seeds a data directory with the demo data and picks a port.
func newEcouted(t *testing.T) *ecouted {
	t.Helper()
	e := &ecouted{t: t, bin: buildBin(t, "../../cmd/ecouted", "ecouted"), data: t.TempDir(), accounts: map[string][2]string{}}
	cmd := exec.Command(e.bin, "--data", e.data, "seed-demo")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ecouted seed-demo: %v\n%s", err, stderr.String())
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if f := strings.Fields(line); len(f) == 3 {
			e.accounts[f[0]] = [2]string{f[1], f[2]}
		}
	}
	if _, ok := e.accounts["supervisor"]; !ok {
		t.Fatalf("seed-demo printed no supervisor account:\n%s", out)
	}
	// A port free now; the server takes it and takes it again on restart.
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.addr = lis.Addr().String()
	lis.Close()
	t.Cleanup(e.kill)
	return e
}

// start runs `ecouted serve` and waits for "listening on".
func (e *ecouted) start() {
	e.t.Helper()
	e.cmd = exec.Command(e.bin, "--data", e.data, "serve", "--listen", e.addr)
	stderr, err := e.cmd.StderrPipe()
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.cmd.Start(); err != nil {
		e.t.Fatalf("start ecouted: %v", err)
	}
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		var seen []string
		for sc.Scan() {
			seen = append(seen, sc.Text())
			if strings.HasPrefix(sc.Text(), "listening on") {
				ready <- nil
				// Keep draining so the server never blocks on its log.
				for sc.Scan() {
				}
				return
			}
		}
		ready <- fmt.Errorf("ecouted exited before listening:\n%s", strings.Join(seen, "\n"))
	}()
	select {
	case err := <-ready:
		if err != nil {
			e.t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		e.t.Fatal("ecouted did not listen within 30 s")
	}
}

// kill ends the server abruptly, as a crash or a pulled cable would.
func (e *ecouted) kill() {
	if e.cmd == nil || e.cmd.Process == nil {
		return
	}
	_ = e.cmd.Process.Signal(syscall.SIGKILL)
	_, _ = e.cmd.Process.Wait()
	e.cmd = nil
}

// console is the command line that opens the console on this server, as
// the supervisor (login filled in, password typed by the test).
func (e *ecouted) console(ecoute string) string {
	return fmt.Sprintf("%s --server %s --login %s --silent", ecoute, e.addr, e.accounts["supervisor"][0])
}

// login types the password on the login screen and waits for the list.
func (e *ecouted) login(tm *tmux) {
	e.t.Helper()
	tm.waitFor("the login screen", regexp.MustCompile(`Password`), 60*time.Second)
	tm.keys("-l", e.accounts["supervisor"][1])
	tm.keys("Enter")
	tm.waitFor("the call list", callRowRE, 30*time.Second)
}

var (
	bannerRE    = regexp.MustCompile(`connection lost`)
	connectedRE = regexp.MustCompile(`● connected`)
	loginRE     = regexp.MustCompile(`Log in|log in again`)
)

// TestBackendKilledMidSession kills a real ecouted while the console is in
// use: the banner shows, a filter applied meanwhile waits instead of being
// lost, and once the same server is back the console carries on — same
// session, the filter's answer shown — without logging in again.
func TestBackendKilledMidSession(t *testing.T) {
	requireTmux(t)
	ecoute := buildEcoute(t)
	srv := newEcouted(t)
	srv.start()
	tm := startTmux(t, 120, 30, nil, srv.console(ecoute))
	srv.login(tm)
	tm.waitFor("the connected state", connectedRE, 10*time.Second)

	// The list's first agent, to filter by while the server is away.
	agent := firstAgent(t, tm.screen())

	srv.kill()
	t0 := time.Now()
	tm.keys("/")
	tm.keys("-l", "agent:"+quoteIfSpaced(agent))
	tm.keys("Enter")
	tm.waitFor("the connection-lost banner", bannerRE, 20*time.Second)
	t.Logf("banner shown %v after the kill", time.Since(t0).Round(time.Millisecond))
	if s := tm.screen(); !strings.Contains(s, "waiting") {
		t.Errorf("the banner does not say a request is waiting:\n%s", s)
	}

	time.Sleep(2 * time.Second)
	srv.start()
	t1 := time.Now()
	deadline := time.Now().Add(90 * time.Second)
	for {
		s := tm.screen()
		if !bannerRE.MatchString(s) && connectedRE.MatchString(s) && strings.Contains(s, "filter agent:") {
			break
		}
		if loginRE.MatchString(s) {
			t.Fatalf("the console asked to log in again after the server came back:\n%s", s)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the console did not recover within 90 s of the server's return:\n%s", s)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("recovered %v after the server restarted", time.Since(t1).Round(time.Millisecond))
	// The waiting filter was answered: every row is the agent's.
	rows := 0
	for _, line := range strings.Split(tm.screen(), "\n") {
		if callRowRE.MatchString(line) {
			rows++
			if !strings.Contains(line, agent) {
				t.Errorf("row of another agent after filtering by %q: %q", agent, line)
			}
		}
	}
	if rows == 0 {
		t.Fatalf("no rows after recovery:\n%s", tm.screen())
	}
	// And the session is still good: a call opens.
	tm.keys("Enter")
	tm.waitFor("the player", positionRE, 20*time.Second)
}

// firstAgent reads the agent column of the first row: the text after the
// date and the duration, up to the next double space.
var rowAgentRE = regexp.MustCompile(`\d{4}-\d{2}-\d{2} \d{2}:\d{2}\s+\d+:\d{2}\s+(\S+(?: \S+)*?)\s{2,}`)

func firstAgent(t *testing.T, screen string) string {
	t.Helper()
	m := rowAgentRE.FindStringSubmatch(screen)
	if m == nil {
		t.Fatalf("no agent column in:\n%s", screen)
	}
	return m[1]
}

func quoteIfSpaced(s string) string {
	if strings.Contains(s, " ") {
		return `"` + s + `"`
	}
	return s
}

// TestUnsentEvaluationSurvivesCrash: a supervisor answers a criterion while
// the server is away, then the terminal dies. The answer was kept on disk
// (0600, in the user's cache); after a restart and a login the console
// offers it back.
func TestUnsentEvaluationSurvivesCrash(t *testing.T) {
	requireTmux(t)
	ecoute := buildEcoute(t)
	srv := newEcouted(t)
	srv.start()
	home := t.TempDir()
	tm := startTmuxIn(t, home, 120, 30, nil, srv.console(ecoute))
	srv.login(tm)
	tm.keys("Enter")
	tm.waitFor("the player", positionRE, 20*time.Second)
	tm.keys("e")
	tm.waitFor("the evaluation screen", regexp.MustCompile(`Evaluation —`), 20*time.Second)

	srv.kill()
	tm.keys("1")
	dir := filepath.Join(home, ".cache", "ecoute", "drafts")
	deadline := time.Now().Add(10 * time.Second)
	// Only finished drafts count: a save writes a hidden temporary file
	// first and renames it.
	var draft string
	for draft == "" {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".json") && !strings.HasPrefix(e.Name(), ".") {
				draft = filepath.Join(dir, e.Name())
			}
		}
		if draft == "" && time.Now().After(deadline) {
			t.Fatalf("no draft written to %s after answering; screen:\n%s", dir, tm.screen())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if st, err := os.Stat(draft); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("draft %s: %v (mode %v), want 0600", draft, err, st)
	}
	// The terminal goes away with the console in it.
	_ = exec.Command("tmux", "-L", tm.socket, "kill-server").Run()

	srv.start()
	tm2 := startTmuxIn(t, home, 120, 30, nil, srv.console(ecoute))
	srv.login(tm2)
	tm2.waitFor("the draft offered back", regexp.MustCompile(`unsent evaluation draft.*call`), 10*time.Second)
}
