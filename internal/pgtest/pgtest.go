// Package pgtest runs throw-away PostgreSQL clusters for tests: a primary
// made with initdb and started with pg_ctl on a loopback port, and, when a
// test needs one, a synchronous streaming standby made with pg_basebackup
// that can be promoted after the primary is killed. It uses the server
// binaries of Debian's postgresql package; a machine without them gets a
// one-line instruction to install it.
package pgtest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// InstallHint says how to get the server binaries.
const InstallHint = "install PostgreSQL for the tests: sudo apt-get install postgresql (or set ECOUTE_PG_BIN to the directory of initdb and pg_ctl)"

// Superuser is the cluster's superuser, whatever account runs it.
const Superuser = "ecoute"

// Cluster is one running PostgreSQL server.
type Cluster struct {
	Dir  string // data directory
	Port int
	bin  string
	as   *syscall.Credential // set when root runs the tests: as the postgres account
	log  string
}

// BinDir finds initdb and pg_ctl: $ECOUTE_PG_BIN, the newest
// /usr/lib/postgresql/*/bin, then PATH.
func BinDir() (string, error) {
	if d := os.Getenv("ECOUTE_PG_BIN"); d != "" {
		return d, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return version(b) - version(a) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("PostgreSQL server binaries not found; " + InstallHint)
}

func version(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// Start runs a fresh primary until the test ends.
func Start(t testing.TB) *Cluster {
	if testing.Short() {
		t.Skip("PostgreSQL server test skipped in -short mode")
	}
	t.Helper()
	c, err := NewPrimary()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Remove)
	return c
}

// NewPrimary makes and starts a fresh cluster; Remove stops and deletes it.
func NewPrimary() (*Cluster, error) {
	c, err := newCluster()
	if err != nil {
		return nil, err
	}
	if err := c.run("initdb", "-D", c.Dir, "-U", Superuser, "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "-N"); err != nil {
		c.Remove()
		return nil, err
	}
	if err := c.start(); err != nil {
		c.Remove()
		return nil, err
	}
	return c, nil
}

// StartStandby makes a synchronous streaming standby of c: from then on a
// commit on c returns only once the standby has it.
func (c *Cluster) StartStandby(t testing.TB) *Cluster {
	t.Helper()
	s, err := newCluster()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Remove)
	if err := os.Remove(s.Dir); err != nil { // pg_basebackup makes it
		t.Fatal(err)
	}
	if err := s.run("pg_basebackup", "-h", "127.0.0.1", "-p", strconv.Itoa(c.Port), "-U", Superuser,
		"-D", s.Dir, "-R", "-X", "stream", "-c", "fast", "--no-sync"); err != nil {
		t.Fatal(err)
	}
	if err := s.start(); err != nil {
		t.Fatal(err)
	}
	if err := c.run("psql", "-h", "127.0.0.1", "-p", strconv.Itoa(c.Port), "-U", Superuser, "-d", "postgres", "-qAt",
		"-c", "ALTER SYSTEM SET synchronous_standby_names = '*'", "-c", "SELECT pg_reload_conf()"); err != nil {
		t.Fatal(err)
	}
	// The standby connects, catches up, then the primary's reloaded
	// configuration makes it synchronous: wait for that settled state.
	deadline := time.Now().Add(60 * time.Second)
	for {
		state, err := c.output("psql", "-h", "127.0.0.1", "-p", strconv.Itoa(c.Port), "-U", Superuser, "-d", "postgres", "-qAt",
			"-c", "SELECT sync_state FROM pg_stat_replication")
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimSpace(state) == "sync" {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("the standby is not synchronous after 60 s (state %q)", state)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func newCluster() (*Cluster, error) {
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	base, err := os.MkdirTemp("", "ecoute-pg-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{Dir: filepath.Join(base, "data"), bin: bin, log: filepath.Join(base, "server.log")}
	if err := os.Mkdir(c.Dir, 0o700); err != nil {
		return nil, err
	}
	if os.Geteuid() == 0 { // initdb refuses root: run the cluster as postgres
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root, PostgreSQL needs the postgres account: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		c.as = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		for _, p := range []string{base, c.Dir} {
			if err := os.Chown(p, uid, gid); err != nil {
				return nil, err
			}
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	c.Port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	return c, nil
}

func (c *Cluster) start() error {
	opts := fmt.Sprintf("-c port=%d -c listen_addresses=127.0.0.1 -c unix_socket_directories='%s' -c fsync=off -c full_page_writes=off -c max_connections=200",
		c.Port, c.Dir)
	return c.run("pg_ctl", "-D", c.Dir, "-l", c.log, "-w", "-t", "60", "-o", opts, "start")
}

func (c *Cluster) run(name string, args ...string) error {
	_, err := c.output(name, args...)
	return err
}

func (c *Cluster) output(name string, args ...string) (string, error) {
	cmd := exec.Command(filepath.Join(c.bin, name), args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8", "PGCONNECT_TIMEOUT=10")
	if c.as != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.as}
		cmd.Dir = "/"
	}
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := errors.AsType[*exec.ExitError](err); ok {
			stderr = ee.Stderr
		}
		log, _ := os.ReadFile(c.log)
		return "", fmt.Errorf("%s %s: %w\n%s%s\nserver log:\n%s", name, strings.Join(args, " "), err, out, stderr, tail(log))
	}
	return string(out), nil
}

func tail(b []byte) string {
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// DSN is a connection string to database db as the superuser.
func (c *Cluster) DSN(db string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", Superuser, c.Port, db)
}

// Kill stops the server as a power cut would: SIGKILL to the postmaster.
// Its backends notice and exit.
func (c *Cluster) Kill() error {
	b, err := os.ReadFile(filepath.Join(c.Dir, "postmaster.pid"))
	if err != nil {
		return fmt.Errorf("kill: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	if err != nil {
		return fmt.Errorf("kill: postmaster.pid: %w", err)
	}
	return syscall.Kill(pid, syscall.SIGKILL)
}

// Promote makes a standby the primary and waits until it accepts writes.
func (c *Cluster) Promote() error {
	return c.run("pg_ctl", "-D", c.Dir, "-w", "-t", "60", "promote")
}

// Remove stops the server (immediately) and deletes its files.
func (c *Cluster) Remove() {
	if _, err := os.Stat(filepath.Join(c.Dir, "postmaster.pid")); err == nil {
		c.run("pg_ctl", "-D", c.Dir, "-m", "immediate", "-w", "stop") //nolint:errcheck // best effort
	}
	os.RemoveAll(filepath.Dir(c.Dir))
}
