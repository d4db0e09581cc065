// Package e2e drives the real console in a real terminal (tmux), the way a
// supervisor would: start the demo, wait for the call list, open a call,
// press space and watch the position move.
package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// tmux is one private tmux server holding one session.
type tmux struct {
	t      *testing.T
	socket string
	target string
}

func requireTmux(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test skipped in -short mode")
	}
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("tmux is required in CI (apt-get install tmux)")
		}
		t.Skip("tmux not installed: apt-get install tmux to run the end-to-end test")
	}
}

// buildEcoute builds the console once per test binary run.
func buildEcoute(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "ecoute")
	args := []string{"build", "-o", bin}
	if tags := os.Getenv("ECOUTE_TEST_TAGS"); tags != "" {
		args = append(args, "-tags", tags)
	}
	args = append(args, "../../cmd/ecoute")
	cmd := exec.Command("go", args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ecoute: %v\n%s", err, out)
	}
	return bin
}

// startTmux runs command in a detached tmux session of the given size, with
// HOME and the XDG directories pointed at a temporary directory so the test
// never touches the user's pins, cache or config.
func startTmux(t *testing.T, width, height int, env []string, command string) *tmux {
	t.Helper()
	return startTmuxIn(t, t.TempDir(), width, height, env, command)
}

// startTmuxIn is startTmux with a given home, so a console restarted in a
// new session finds the pins, config and drafts of the first one.
func startTmuxIn(t *testing.T, home string, width, height int, env []string, command string) *tmux {
	t.Helper()
	tm := &tmux{t: t, socket: fmt.Sprintf("ecoute-e2e-%d-%d", os.Getpid(), time.Now().UnixNano()), target: "e2e"}
	full := append([]string{
		"HOME=" + home,
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"XDG_CACHE_HOME=" + filepath.Join(home, ".cache"),
		"XDG_DATA_HOME=" + filepath.Join(home, ".local", "share"),
		"TERM=xterm-256color",
	}, env...)
	var exports strings.Builder
	for _, kv := range full {
		k, v, _ := strings.Cut(kv, "=")
		fmt.Fprintf(&exports, "export %s=%q; ", k, v)
	}
	// remain-on-exit keeps the pane so a crash can still be read.
	tm.run("new-session", "-d", "-s", tm.target, "-x", strconv.Itoa(width), "-y", strconv.Itoa(height),
		"bash", "--norc", "--noprofile", "-c", exports.String()+command)
	tm.run("set-option", "-t", tm.target, "remain-on-exit", "on")
	t.Cleanup(func() { _ = exec.Command("tmux", "-L", tm.socket, "kill-server").Run() })
	return tm
}

func (tm *tmux) run(args ...string) string {
	tm.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", tm.socket}, args...)...).CombinedOutput()
	if err != nil {
		tm.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func (tm *tmux) screen() string {
	tm.t.Helper()
	out, err := exec.Command("tmux", "-L", tm.socket, "capture-pane", "-p", "-t", tm.target).CombinedOutput()
	if err != nil {
		return ""
	}
	return string(out)
}

func (tm *tmux) keys(keys ...string) {
	tm.t.Helper()
	tm.run(append([]string{"send-keys", "-t", tm.target}, keys...)...)
}

func (tm *tmux) dead() bool {
	out, err := exec.Command("tmux", "-L", tm.socket, "display-message", "-p", "-t", tm.target, "#{pane_dead}").CombinedOutput()
	return err != nil || strings.TrimSpace(string(out)) == "1"
}

// waitFor polls the screen until re matches, and returns the match.
func (tm *tmux) waitFor(what string, re *regexp.Regexp, timeout time.Duration) []string {
	tm.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		s := tm.screen()
		if m := re.FindStringSubmatch(s); m != nil {
			return m
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("timed out after %v waiting for %s (%s); screen:\n%s", timeout, what, re, s)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var (
	// A call row starts with an unambiguous date and time (R14).
	callRowRE = regexp.MustCompile(`\d{4}-\d{2}-\d{2} \d{2}:\d{2}`)
	// The player shows "M:SS / M:SS".
	positionRE = regexp.MustCompile(`(\d+):(\d{2}) / (\d+):(\d{2})`)
)

func seconds(m []string) int {
	min, _ := strconv.Atoi(m[1])
	sec, _ := strconv.Atoi(m[2])
	return min*60 + sec
}

// TestDemoPlaysACall is the Foundation's promise: on a fresh machine the
// demo shows the sampled calls, a call opens, and space plays it.
func TestDemoPlaysACall(t *testing.T) {
	requireTmux(t)
	bin := buildEcoute(t)
	start := time.Now()
	tm := startTmux(t, 100, 30, nil, bin+" demo --silent")
	tm.waitFor("the first frame", regexp.MustCompile(`Écoute`), 60*time.Second)
	t.Logf("demo start to first frame: %v", time.Since(start).Round(time.Millisecond))
	tm.waitFor("the call list", callRowRE, 60*time.Second)
	t.Logf("demo start to call list on screen: %v", time.Since(start).Round(time.Millisecond))

	tm.keys("Enter")
	m := tm.waitFor("the player", positionRE, 20*time.Second)
	before := seconds(m)
	total := seconds(m[2:])
	if total < 20 {
		t.Fatalf("demo call lasts %ds; demo calls last 20 s to 6 min", total)
	}

	tm.keys("Space")
	deadline := time.Now().Add(15 * time.Second)
	for {
		m = positionRE.FindStringSubmatch(tm.screen())
		if m != nil && seconds(m) >= before+2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("position did not advance by 2 s after space; screen:\n%s", tm.screen())
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Pause: the position must stop moving.
	tm.keys("Space")
	time.Sleep(500 * time.Millisecond)
	p1 := positionRE.FindStringSubmatch(tm.screen())
	time.Sleep(1500 * time.Millisecond)
	p2 := positionRE.FindStringSubmatch(tm.screen())
	if p1 == nil || p2 == nil || seconds(p1) != seconds(p2) {
		t.Fatalf("position moved while paused: %v then %v", p1, p2)
	}

	// Back to the list, then quit from the top screen.
	tm.keys("q")
	tm.waitFor("the call list again", callRowRE, 10*time.Second)
	tm.keys("q")
	deadline = time.Now().Add(10 * time.Second)
	for !tm.dead() {
		if time.Now().After(deadline) {
			t.Fatalf("console did not quit on q from the call list; screen:\n%s", tm.screen())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitExit waits for the console to quit.
func (tm *tmux) waitExit(why string) {
	tm.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !tm.dead() {
		if time.Now().After(deadline) {
			tm.t.Fatalf("console did not quit (%s); screen:\n%s", why, tm.screen())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestConsoleJourney is a supervisor's session on a real ecouted: log in,
// filter by an agent with completion, open a call, play it, quit; then,
// with an evaluation draft left unsent on the machine (as a crash mid-grid
// leaves it), start again: the console offers the draft back after login.
func TestConsoleJourney(t *testing.T) {
	requireTmux(t)
	ecoute := buildEcoute(t)
	srv := newEcouted(t)
	srv.start()
	home := t.TempDir()
	start := time.Now()
	tm := startTmuxIn(t, home, 120, 30, nil, srv.console(ecoute))
	tm.waitFor("the first frame", regexp.MustCompile(`Écoute`), 30*time.Second)
	t.Logf("console start to first frame (real server): %v", time.Since(start).Round(time.Millisecond))
	srv.login(tm)

	// Filter by the first row's agent, typing a prefix and completing it.
	agent := firstAgent(t, tm.screen())
	prefix := agent[:min(3, len(agent))]
	tm.keys("/")
	tm.keys("-l", "agent:"+prefix)
	tm.keys("Tab")
	time.Sleep(200 * time.Millisecond)
	if s := tm.screen(); !strings.Contains(s, agent) {
		t.Fatalf("completion of agent:%s does not offer %q:\n%s", prefix, agent, s)
	}
	// Several agents may share the prefix: type the whole name.
	tm.keys("C-u")
	tm.keys("-l", "agent:"+quoteIfSpaced(agent))
	tm.keys("Enter")
	tm.waitFor("the filter applied", regexp.MustCompile(`filter agent:`), 10*time.Second)
	tm.waitFor("the filtered list", callRowRE, 20*time.Second)
	time.Sleep(300 * time.Millisecond)
	for _, line := range strings.Split(tm.screen(), "\n") {
		if callRowRE.MatchString(line) && !strings.Contains(line, agent) {
			t.Errorf("row of another agent after filtering by %q: %q", agent, line)
		}
	}

	// Open the first call and play it.
	tm.keys("Enter")
	m := tm.waitFor("the player", positionRE, 20*time.Second)
	before := seconds(m)
	tm.keys("Space")
	deadline := time.Now().Add(15 * time.Second)
	for {
		m = positionRE.FindStringSubmatch(tm.screen())
		if m != nil && seconds(m) >= before+2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("position did not advance after space; screen:\n%s", tm.screen())
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Open the evaluation while it plays; the server goes away before the
	// first answer reaches it, so what is typed lives only in the draft.
	tm.keys("e")
	tm.waitFor("the evaluation", regexp.MustCompile(`Status draft`), 20*time.Second)
	srv.kill()
	tm.keys("1")
	// n pins the playback position into the comment.
	tm.keys("n")
	tm.waitFor("the comment field with the pin", regexp.MustCompile(`› \[\d{2}:\d{2}\]`), 5*time.Second)
	tm.keys("-l", "accueil chaleureux")
	tm.keys("Enter")
	tm.waitFor("the pinned note", regexp.MustCompile(`\[\d{2}:\d{2}\] accueil chaleureux`), 5*time.Second)
	// Quit: evaluation, call, list.
	tm.keys("q")
	tm.waitFor("the call screen", positionRE, 10*time.Second)
	tm.keys("q")
	tm.waitFor("the call list again", callRowRE, 10*time.Second)
	tm.keys("q")
	tm.waitExit("q on the call list")

	srv.start()
	tm2 := startTmuxIn(t, home, 120, 30, nil, srv.console(ecoute))
	srv.login(tm2)
	tm2.waitFor("the draft offered back", regexp.MustCompile(`unsent evaluation draft`), 10*time.Second)
	tm2.keys("q")
	tm2.waitExit("q after restart")
}
