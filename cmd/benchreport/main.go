// Command benchreport runs every benchmark of Écoute beside the tool a user
// would compare it with, in the same run and interleaved (ours, peer, ours,
// peer…), and writes BENCHMARKS.md from scratch: figures, ratios, the
// machine, the date and the command that reproduces each row. `make bench`
// runs it.
//
//	go run ./cmd/benchreport [-out BENCHMARKS.md] [-only sound,decode,...] [-rounds N]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// section is one part of the report.
type section struct {
	key   string // for -only
	title string
	run   func(ctx context.Context, e *env) (*table, error)
}

// env is what every section may use.
type env struct {
	tmp    string // removed at the end
	cache  string // kept between runs (the million-call database)
	rounds int    // interleaved rounds for process-level rows
	tags   string // go build tags (nosound without ALSA headers)
	bins   map[string]string
	alt    []string // NAME=PATH of other ecoute binaries to time beside ours
	log    func(format string, args ...any)
}

// bin builds (once) and returns the path of a command of the module.
func (e *env) bin(pkg string) (string, error) {
	if p, ok := e.bins[pkg]; ok {
		return p, nil
	}
	out := filepath.Join(e.tmp, "bin", filepath.Base(pkg))
	args := []string{"build", "-o", out}
	if e.tags != "" {
		args = append(args, "-tags", e.tags)
	}
	e.log("building %s", pkg)
	if b, err := exec.Command("go", append(args, pkg)...).CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
	}
	e.bins[pkg] = out
	return out, nil
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
}

func run() error {
	out := flag.String("out", "BENCHMARKS.md", "report to write")
	only := flag.String("only", "", "comma-separated sections to run (default: all): "+strings.Join(sectionKeys(), ", "))
	rounds := flag.Int("rounds", 15, "interleaved rounds of each process-level row")
	tags := flag.String("tags", "", "go build tags (nosound where the ALSA headers are missing)")
	cache := flag.String("cache", "", "cache directory for the million-call database (default: the user cache directory)")
	ecouteBin := flag.String("ecoute", "", "time this ecoute binary instead of building ./cmd/ecoute")
	var alt listFlag
	flag.Var(&alt, "also", "NAME=PATH: also time this ecoute binary in the start → first sound rounds (before/after comparisons; repeatable)")
	flag.Parse()

	t0 := time.Now()
	tmp, err := os.MkdirTemp("", "benchreport-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if *cache == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			dir = os.TempDir()
		}
		*cache = filepath.Join(dir, "ecoute-bench")
	}
	if err := os.MkdirAll(*cache, 0o700); err != nil {
		return err
	}
	e := &env{tmp: tmp, cache: *cache, rounds: *rounds, tags: *tags, bins: map[string]string{},
		log: func(format string, args ...any) {
			fmt.Fprintf(os.Stderr, "[%6.1fs] %s\n", time.Since(t0).Seconds(), fmt.Sprintf(format, args...))
		}}
	e.alt = alt
	if *ecouteBin != "" {
		e.bins["./cmd/ecoute"] = *ecouteBin
	}
	want := map[string]bool{}
	for _, k := range strings.Split(*only, ",") {
		if k = strings.TrimSpace(k); k != "" {
			want[k] = true
		}
	}
	ctx := context.Background()
	rep := &report{started: t0, machine: machineInfo()}
	for _, s := range sections() {
		if len(want) > 0 && !want[s.key] {
			continue
		}
		e.log("== %s", s.title)
		st := time.Now()
		tb, err := s.run(ctx, e)
		if err != nil {
			e.log("%s: %v", s.key, err)
			tb = &table{err: err}
		}
		tb.key, tb.title, tb.took = s.key, s.title, time.Since(st)
		rep.tables = append(rep.tables, tb)
	}
	rep.took = time.Since(t0)
	rep.partial = len(want) > 0
	if err := os.WriteFile(*out, []byte(rep.markdown()), 0o644); err != nil {
		return err
	}
	e.log("wrote %s in %s", *out, rep.took.Round(time.Second))
	for _, tb := range rep.tables {
		if tb.err != nil {
			return fmt.Errorf("section %s failed (written into the report): %w", tb.key, tb.err)
		}
	}
	return nil
}

func sectionKeys() []string {
	var k []string
	for _, s := range sections() {
		k = append(k, s.key)
	}
	return k
}

func sections() []section {
	return []section{
		{key: "sound", title: "Start → first sound", run: soundSection},
		{key: "decode", title: "Decode rate", run: decodeSection},
		{key: "keypress", title: "Keypress → frame", run: keypressSection},
		{key: "calls", title: "ListCalls at a million calls", run: callsSection},
		{key: "console", title: "Console start → first frame", run: consoleSection},
		{key: "ingest", title: "Ingest", run: ingestSection},
		{key: "sampling", title: "Sampling", run: samplingSection},
		{key: "load", title: "Under load: 50 consoles", run: loadSection},
		{key: "ssh", title: "Remote review over SSH: 20 sessions", run: sshSection},
		{key: "others", title: "Other benchmarks (no peer)", run: othersSection},
	}
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }
