// Command ecoute-load puts a real ecouted under the load of many consoles,
// on loopback only, for a bounded time, and reports the latency of each
// console action (p50, p99, max) and the errors. `make load` runs it.
//
//	ecoute-load [-consoles 50] [-duration 30s] [-think 200ms] [-profile DIR] [-out FILE]
//
// It builds ecouted (or takes -ecouted), seeds a temporary data directory
// with the demo data, serves it on 127.0.0.1, logs every console in at once
// (the real client package over TLS), then lets them browse: the first page
// of calls, one to three next pages, a call, its waveform, the first chunk
// and first block of its audio, with a pause of up to -think between
// actions. With -profile, ecouted serves pprof on loopback and the CPU
// profile of the browsing phase and the mutex, block, allocation and
// goroutine profiles at its end are written into DIR, with a summary of
// each (`go tool pprof -top`).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/ecoute/ecoute/internal/load"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "ecoute-load:", err)
		os.Exit(1)
	}
}

func run() error {
	consoles := flag.Int("consoles", 50, "consoles at once")
	duration := flag.Duration("duration", 30*time.Second, "length of the browsing phase (after the logins); at most 10m")
	think := flag.Duration("think", 200*time.Millisecond, "longest pause between two actions of a console (uniform from 0)")
	profile := flag.String("profile", "", "directory for ecouted's CPU, mutex, block, allocation and goroutine profiles")
	ecouted := flag.String("ecouted", "", "ecouted binary (default: go build ./cmd/ecouted)")
	tags := flag.String("tags", "", "go build tags for ecouted")
	out := flag.String("out", "", "also write the report (markdown) to this file")
	logins := flag.Int("logins", load.DefaultLogins, "consoles logging in at the same time (a password hash costs ~0.35 s of a core)")
	flag.Parse()
	if *logins < 1 {
		return fmt.Errorf("-logins %d: want at least 1", *logins)
	}
	if *duration <= 0 || *duration > 10*time.Minute {
		return fmt.Errorf("-duration %s: want more than 0 and at most 10m", *duration)
	}
	if *consoles < 1 || *consoles > 500 {
		return fmt.Errorf("-consoles %d: want 1 to 500", *consoles)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	tmp, err := os.MkdirTemp("", "ecoute-load-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	logf := func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }
	if *ecouted == "" {
		*ecouted = filepath.Join(tmp, "ecouted")
		args := []string{"build", "-o", *ecouted}
		if *tags != "" {
			args = append(args, "-tags", *tags)
		}
		logf("building ecouted")
		if b, err := exec.Command("go", append(args, "./cmd/ecouted")...).CombinedOutput(); err != nil {
			return fmt.Errorf("go build ./cmd/ecouted: %v\n%s", err, b)
		}
	}
	data := filepath.Join(tmp, "data")
	logf("seeding the demo data")
	accounts, err := load.SeedDemo(ctx, *ecouted, data)
	if err != nil {
		return err
	}
	srv, err := load.StartServer(ctx, *ecouted, data, *profile != "")
	if err != nil {
		return err
	}
	defer srv.Stop()
	sup := accounts["supervisor"]
	opts := load.Options{Addr: srv.Addr, CAPEM: srv.CAPEM, Login: sup[0], Password: sup[1],
		Consoles: *consoles, Duration: *duration, Think: *think, PageSize: 200, Logins: *logins}
	res, err := runProfiled(ctx, srv, opts, *profile, logf)
	if err != nil {
		return err
	}
	report := res.Markdown(opts)
	fmt.Print(report)
	if *out != "" {
		if err := os.WriteFile(*out, []byte(report), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// runProfiled runs the load and, with a profile directory, takes ecouted's
// profiles meanwhile.
func runProfiled(ctx context.Context, srv *load.Server, opts load.Options, dir string, logf func(string, ...any)) (*load.Result, error) {
	if dir == "" {
		logf("%d consoles for %s on %s", opts.Consoles, opts.Duration, srv.Addr)
		return load.RunWithServer(ctx, srv, opts)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	logf("%d consoles for %s on %s, profiling ecouted into %s", opts.Consoles, opts.Duration, srv.Addr, dir)
	res, err := load.RunProfiled(ctx, srv, opts, dir)
	if err != nil {
		return nil, err
	}
	for _, p := range res.Profiles {
		top, err := exec.Command("go", "tool", "pprof", "-top", "-nodecount=25", p).CombinedOutput()
		if err != nil {
			logf("go tool pprof %s: %v", p, err)
			continue
		}
		res.Tops = append(res.Tops, filepath.Base(p)+":\n"+strings.TrimSpace(string(top)))
	}
	return res, nil
}
