// Package s3test runs a real S3-compatible server on loopback for tests:
// the Versity S3 gateway (versitygw) over a POSIX directory, one per test
// binary or per test. It never fakes S3; a machine without versitygw gets
// a one-line instruction to install it.
package s3test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Version is the versitygw release the project tests against.
const Version = "v1.8.0"

// InstallHint says how to get the server.
const InstallHint = "install the S3 test server: go install github.com/versity/versitygw/cmd/versitygw@" + Version +
	" (or set ECOUTE_VERSITYGW to its path)"

// Server is a running S3 gateway.
type Server struct {
	// Endpoint is host:port, plain HTTP.
	Endpoint string
	// AccessKey and SecretKey are the root user's credentials.
	AccessKey, SecretKey string
	// Dir holds the buckets, one directory each.
	Dir    string
	cmd    *exec.Cmd
	exited chan error
}

// Binary finds versitygw: $ECOUTE_VERSITYGW, then PATH, then $GOBIN or
// $GOPATH/bin, then ~/go/bin.
func Binary() (string, error) {
	if p := os.Getenv("ECOUTE_VERSITYGW"); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	var dirs []string
	if d := os.Getenv("GOBIN"); d != "" {
		dirs = append(dirs, d)
	}
	if gp := os.Getenv("GOPATH"); gp != "" {
		for _, d := range filepath.SplitList(gp) {
			dirs = append(dirs, filepath.Join(d, "bin"))
		}
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, "go", "bin"))
	}
	for _, d := range dirs {
		p := filepath.Join(d, "versitygw")
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	return "", errors.New("versitygw not found; " + InstallHint)
}

// Start runs a gateway over a fresh directory until the test ends.
func Start(t testing.TB) *Server {
	if testing.Short() {
		t.Skip("S3 server test skipped in -short mode")
	}
	t.Helper()
	s, err := StartIn(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// StartIn runs a gateway over dir (created if missing); Stop ends it.
func StartIn(dir string) (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	var lastErr error
	for range 5 { // the free port can be taken between the probe and the start
		addr, err := freePort()
		if err != nil {
			return nil, err
		}
		s := &Server{Endpoint: addr, AccessKey: "ecoute-test", SecretKey: "ecoute-test-secret-key", Dir: dir}
		s.cmd = exec.Command(bin, "--access", s.AccessKey, "--secret", s.SecretKey, "--quiet", "--port", addr, "posix", dir)
		var out strings.Builder
		s.cmd.Stdout, s.cmd.Stderr = &out, &out
		if err := s.cmd.Start(); err != nil {
			return nil, fmt.Errorf("start %s: %w", bin, err)
		}
		s.exited = make(chan error, 1)
		go func() { s.exited <- s.cmd.Wait() }()
		if err := waitReady(addr, s.exited); err != nil {
			s.Stop()
			lastErr = fmt.Errorf("versitygw on %s: %w\n%s", addr, err, out.String())
			continue
		}
		return s, nil
	}
	return nil, lastErr
}

// Stop kills the gateway; its directory stays.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill() //nolint:errcheck // already gone is fine
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
	}
	s.cmd = nil
}

// URL is the blob store configuration for bucket under s (plain HTTP).
func (s *Server) URL(bucket, prefix string) string {
	u := "s3://" + bucket
	if prefix != "" {
		u += "/" + prefix
	}
	return u + "?endpoint=" + s.Endpoint + "&tls=false"
}

// Env is the credentials as the AWS environment variables.
func (s *Server) Env() []string {
	return []string{"AWS_ACCESS_KEY_ID=" + s.AccessKey, "AWS_SECRET_ACCESS_KEY=" + s.SecretKey}
}

// SetEnv sets the credentials in the test's environment.
func (s *Server) SetEnv(t testing.TB) {
	t.Setenv("AWS_ACCESS_KEY_ID", s.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", s.SecretKey)
}

// MakeBucket creates a bucket (a directory of the POSIX backend).
func (s *Server) MakeBucket(name string) error {
	return os.Mkdir(filepath.Join(s.Dir, name), 0o700)
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// waitReady polls until the gateway answers HTTP (any status: an anonymous
// request is refused, which proves it listens), or it exits.
func waitReady(addr string, exited chan error) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/", nil)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case err := <-exited:
			exited <- err // for Stop
			return fmt.Errorf("exited: %v", err)
		case <-ctx.Done():
			return errors.New("not answering after 30 s")
		case <-tick.C:
		}
	}
}
