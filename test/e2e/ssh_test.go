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
	"testing"
	"time"
)

// Remote review over SSH, driven with the real OpenSSH client in tmux
// against a real `ecouted serve --ssh-listen`.

func requireSSH(t *testing.T) {
	t.Helper()
	requireTmux(t)
	for _, bin := range []string{"ssh", "ssh-keygen"} {
		if _, err := exec.LookPath(bin); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is required in CI (apt-get install openssh-client)", bin)
			}
			t.Skipf("%s not installed: apt-get install openssh-client to run the SSH tests", bin)
		}
	}
}

// sshKey makes an ed25519 key pair in dir and returns the private key's
// path (the public one is path.pub).
func sshKey(t *testing.T, dir, name string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name+"@e2e", "-f", path).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	return path
}

// freeAddr is a loopback address free now.
func freeAddr(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	return lis.Addr().String()
}

// startSSH runs `ecouted serve` with SSH on sshAddr and the extra flags,
// in env (nil: this process's), and waits until both listeners are up.
func (e *ecouted) startSSH(sshAddr string, env []string, extra ...string) {
	e.t.Helper()
	args := append([]string{"--data", e.data, "serve", "--listen", e.addr, "--ssh-listen", sshAddr}, extra...)
	e.cmd = exec.Command(e.bin, args...)
	e.cmd.Env = env
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
		ssh := false
		for sc.Scan() {
			seen = append(seen, sc.Text())
			ssh = ssh || strings.HasPrefix(sc.Text(), "ssh listening on")
			if strings.HasPrefix(sc.Text(), "listening on") {
				if !ssh {
					ready <- fmt.Errorf("no SSH listener:\n%s", strings.Join(seen, "\n"))
				}
				ready <- nil
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

// ecoutedRun runs an ecouted command on the data directory.
func (e *ecouted) run(args ...string) string {
	e.t.Helper()
	out, err := exec.Command(e.bin, append([]string{"--data", e.data}, args...)...).CombinedOutput()
	if err != nil {
		e.t.Fatalf("ecouted %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// sshCommand is the reviewer's command line: OpenSSH with these keys, a
// throwaway known_hosts, no agent and no user configuration.
func sshCommand(home, addr, login string, extra ...string) string {
	host, port, _ := net.SplitHostPort(addr)
	args := []string{"ssh", "-F", "/dev/null", "-p", port, "-o", "IdentitiesOnly=yes",
		"-o", "UserKnownHostsFile=" + filepath.Join(home, "known_hosts"), "-o", "StrictHostKeyChecking=accept-new",
		"-o", "PreferredAuthentications=publickey,keyboard-interactive"}
	args = append(args, extra...)
	args = append(args, login+"@"+host)
	return "env -u SSH_AUTH_SOCK LANG=C.UTF-8 " + strings.Join(args, " ") + "; rc=$?; echo; echo SSH-EXIT-$rc; sleep 600"
}

var (
	passwordPromptRE = regexp.MustCompile(`Password: *$|Password:\s*\n`)
	sshExitRE        = regexp.MustCompile(`SSH-EXIT-(\d+)`)
)

// TestReviewOverSSH: with the real OpenSSH client, key + password open the
// console as the right account and role; a key registered to nobody, the
// right key with a wrong password, and a registered key offered but never
// proven are refused; a playing call (its clock ticking on screen) does
// not keep an idle session open; all of it is in the audit trail.
func TestReviewOverSSH(t *testing.T) {
	requireSSH(t)
	srv := newEcouted(t)
	keys := t.TempDir()
	mine := sshKey(t, keys, "claire")
	stranger := sshKey(t, keys, "stranger")
	login, password := srv.accounts["supervisor"][0], srv.accounts["supervisor"][1]
	out := srv.run("user", "key", "add", login, "--key", mine+".pub")
	if !strings.HasPrefix(out, "SHA256:") {
		t.Fatalf("user key add: %s", out)
	}
	// The offered key: the supervisor's public key, its private half not
	// at hand (the attacker has the public key only).
	offered := filepath.Join(keys, "offered", "claire")
	if err := os.MkdirAll(filepath.Dir(offered), 0o700); err != nil {
		t.Fatal(err)
	}
	pub, _ := os.ReadFile(mine + ".pub")
	if err := os.WriteFile(offered+".pub", pub, 0o600); err != nil {
		t.Fatal(err)
	}
	sshAddr := freeAddr(t)
	srv.startSSH(sshAddr, nil, "--ssh-idle-timeout", "30s")
	home := t.TempDir()

	// A key registered to nobody: refused, no password asked.
	tm := startTmuxIn(t, home, 100, 30, nil, sshCommand(home, sshAddr, login, "-i", stranger))
	tm.waitFor("the refusal", regexp.MustCompile(`Permission denied \(publickey\)`), 30*time.Second)
	if m := tm.waitFor("ssh's exit", sshExitRE, 10*time.Second); m[1] == "0" || strings.Contains(tm.screen(), "Password") {
		t.Errorf("stranger's key:\n%s", tm.screen())
	}

	// The registered key offered (the server accepts it as a candidate),
	// then the stranger's key signing: refused.
	tm = startTmuxIn(t, home, 100, 30, nil, sshCommand(home, sshAddr, login, "-v", "-i", offered+".pub", "-i", stranger))
	tm.waitFor("the refusal", regexp.MustCompile(`Permission denied \(publickey\)`), 30*time.Second)
	s := tm.screen()
	if !strings.Contains(s, "Server accepts key: "+offered+".pub") || strings.Contains(s, "Password:") {
		t.Errorf("offered key: the server did not accept the offer, or a password was asked:\n%s", s)
	}

	// The right key, a wrong password: refused.
	tm = startTmuxIn(t, home, 100, 30, nil, sshCommand(home, sshAddr, login, "-i", mine, "-o", "NumberOfPasswordPrompts=1"))
	tm.waitFor("the password prompt", regexp.MustCompile(`Password:`), 30*time.Second)
	tm.keys("-l", "pas le bon mot de passe")
	tm.keys("Enter")
	tm.waitFor("the refusal", regexp.MustCompile(`Wrong password|Permission denied`), 30*time.Second)
	if m := tm.waitFor("ssh's exit", sshExitRE, 30*time.Second); m[1] == "0" {
		t.Errorf("wrong password accepted:\n%s", tm.screen())
	}

	// Key + password: the supervisor's console.
	tm = startTmuxIn(t, home, 120, 32, nil, sshCommand(home, sshAddr, login, "-i", mine))
	tm.waitFor("the password prompt", regexp.MustCompile(`Password:`), 30*time.Second)
	tm.keys("-l", password)
	tm.keys("Enter")
	tm.waitFor("the call list", callRowRE, 30*time.Second)
	s = tm.screen()
	if !regexp.MustCompile(`user .+ \(supervisor\)`).MatchString(s) || !strings.Contains(s, "For the sound, run on your machine: ecoute listen") {
		t.Errorf("console over SSH:\n%s", s)
	}
	// Open a call and play it: the position ticks, but only keys count.
	tm.keys("Enter")
	m := tm.waitFor("the player", positionRE, 20*time.Second)
	before := seconds(m)
	tm.keys("Space")
	lastKey := time.Now()
	moved := false
	closed := regexp.MustCompile(`Session closed: no key pressed for 30 s`)
	deadline := lastKey.Add(90 * time.Second)
	for !closed.MatchString(tm.screen()) {
		if m := positionRE.FindStringSubmatch(tm.screen()); m != nil && seconds(m) >= before+10 {
			moved = true
		}
		if time.Now().After(deadline) {
			t.Fatalf("the idle session was not closed within 90 s; screen:\n%s", tm.screen())
		}
		time.Sleep(100 * time.Millisecond)
	}
	idle := time.Since(lastKey)
	t.Logf("closed %v after the last key press", idle.Round(100*time.Millisecond))
	if !moved {
		t.Error("the position did not move while playing")
	}
	if idle < 30*time.Second || idle > 60*time.Second {
		t.Errorf("closed %v after the last key press, want 30 s (and a check a second; 60 s at most on a loaded machine)", idle)
	}
	tm.waitFor("ssh's exit", sshExitRE, 10*time.Second)

	// The trail: the session with its source and end, the refusals.
	trail := srv.run("audit", "list", "--action", "ssh.", "--limit", "50")
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`ssh\.session\.start\s+` + regexp.QuoteMeta(login) + `\s.*source=127\.0\.0\.1:\d+`),
		regexp.MustCompile(`ssh\.session\.end\s+` + regexp.QuoteMeta(login) + `\s.*reason=idle.*source=127\.0\.0\.1:\d+`),
		regexp.MustCompile(`ssh\.login\s+` + regexp.QuoteMeta(login) + `\s.*result=BAD_CREDENTIALS.*step=key`),
		regexp.MustCompile(`ssh\.login\s+` + regexp.QuoteMeta(login) + `\s.*result=BAD_CREDENTIALS.*step=password`),
	} {
		if !want.MatchString(trail) {
			t.Errorf("audit trail lacks %s:\n%s", want, trail)
		}
	}
	if n := strings.Count(trail, "ssh.login"); n != 3 {
		t.Errorf("%d refused logins in the trail, want 3:\n%s", n, trail)
	}
}
