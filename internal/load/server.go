package load

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Server is a real `ecouted serve` on loopback.
type Server struct {
	Addr      string // gRPC, TLS
	SSHAddr   string // when started with --ssh-listen
	PprofAddr string // when started with profiling
	CAPEM     []byte
	cmd       *exec.Cmd
	done      chan struct{}
}

// SeedDemo fills dir with `ecouted seed-demo` and returns the demo
// accounts by role: login and password.
func SeedDemo(ctx context.Context, ecouted, dir string) (map[string][2]string, error) {
	cmd := exec.CommandContext(ctx, ecouted, "--data", dir, "seed-demo")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("ecouted seed-demo: %v\n%s", err, stderr.String())
	}
	return ParseAccounts(string(out)), nil
}

// ParseAccounts reads seed-demo's "<role> <login> <password>" lines.
func ParseAccounts(s string) map[string][2]string {
	acc := map[string][2]string{}
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		if f := strings.Fields(line); len(f) == 3 {
			acc[f[0]] = [2]string{f[1], f[2]}
		}
	}
	return acc
}

// StartServer runs `ecouted --data dir serve` on a free loopback port (with
// --pprof on another when profile is set) and waits until it listens.
func StartServer(ctx context.Context, ecouted, dir string, profile bool) (*Server, error) {
	return StartServerWith(ctx, ecouted, dir, profile)
}

// StartServerWith is StartServer with more serve flags (--ssh-listen …).
func StartServerWith(ctx context.Context, ecouted, dir string, profile bool, extra ...string) (*Server, error) {
	args := []string{"--data", dir, "serve", "--listen", "127.0.0.1:0"}
	if profile {
		args = append(args, "--pprof", "127.0.0.1:0")
	}
	args = append(args, extra...)
	cmd := exec.Command(ecouted, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start ecouted: %w", err)
	}
	s := &Server{cmd: cmd, done: make(chan struct{})}
	ready := make(chan struct{})
	var seen []string
	go func() {
		defer close(s.done)
		sc := bufio.NewScanner(stderr)
		signalled := false
		for sc.Scan() {
			line := sc.Text()
			if !signalled {
				seen = append(seen, line)
			}
			if a, ok := strings.CutPrefix(line, "pprof on "); ok {
				s.PprofAddr = strings.TrimSpace(a)
			}
			if a, ok := strings.CutPrefix(line, "ssh listening on "); ok {
				s.SSHAddr, _, _ = strings.Cut(a, " ")
			}
			if a, ok := strings.CutPrefix(line, "listening on "); ok && !signalled {
				s.Addr = strings.TrimSpace(a)
				signalled = true
				close(ready)
			}
		}
		if !signalled {
			close(ready)
		}
		_ = cmd.Wait()
	}()
	select {
	case <-ready:
	case <-time.After(60 * time.Second):
		s.Stop()
		return nil, fmt.Errorf("ecouted did not listen within 60 s")
	case <-ctx.Done():
		s.Stop()
		return nil, ctx.Err()
	}
	if s.Addr == "" {
		<-s.done
		return nil, fmt.Errorf("ecouted exited before listening:\n%s", strings.Join(seen, "\n"))
	}
	if s.CAPEM, err = os.ReadFile(filepath.Join(dir, "tls", "ca.pem")); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// Pid is the server's process id.
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// Stop interrupts the server and waits for it (killing it after 10 s).
func (s *Server) Stop() {
	if s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// Profile fetches /debug/pprof/NAME (query e.g. "seconds=20") into file.
func (s *Server) Profile(ctx context.Context, name, query, file string) error {
	if s.PprofAddr == "" {
		return fmt.Errorf("ecouted was started without --pprof")
	}
	u := "http://" + s.PprofAddr + "/debug/pprof/" + name
	if query != "" {
		u += "?" + query
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("profile %s: %w", name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("profile %s: %s: %s", name, resp.Status, b)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// CPUTime is the server's user+system CPU time so far (from /proc).
func (s *Server) CPUTime() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.Pid()))
	if err != nil {
		return 0, err
	}
	// Fields after the command name (which may hold spaces) in parentheses.
	rest := string(b[strings.LastIndexByte(string(b), ')')+2:])
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0, fmt.Errorf("short /proc stat")
	}
	var ut, st int64
	fmt.Sscan(f[11], &ut)
	fmt.Sscan(f[12], &st)
	const hz = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / hz, nil
}
