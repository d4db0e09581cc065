package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// table is one section's figures.
type table struct {
	key, title string
	intro      string   // what is measured and how
	header     []string // column titles
	rows       [][]string
	notes      []string
	took       time.Duration
	err        error
}

type report struct {
	started time.Time
	took    time.Duration
	machine string
	partial bool
	tables  []*table
}

func (r *report) markdown() string {
	var b strings.Builder
	b.WriteString("# Benchmarks\n\n")
	b.WriteString("Written by `make bench` (`go run ./cmd/benchreport`): every figure below comes from\n")
	b.WriteString("the run that wrote this file. Each row is measured beside the tool a user would\n")
	b.WriteString("compare Écoute with, in the same run, alternating ours and the peer's runs.\n")
	b.WriteString("Ratios are ours ÷ peer: below 1× we are faster.\n\n")
	fmt.Fprintf(&b, "- date: %s\n", r.started.Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "- machine: %s\n", r.machine)
	fmt.Fprintf(&b, "- whole run: %s", r.took.Round(time.Second))
	if r.partial {
		b.WriteString(" (some sections only: `-only`)")
	}
	b.WriteString("\n\n")
	for _, t := range r.tables {
		fmt.Fprintf(&b, "## %s\n\n", t.title)
		if t.err != nil {
			fmt.Fprintf(&b, "**Not measured in this run:** %s\n\n", oneLine(t.err.Error()))
			continue
		}
		if t.intro != "" {
			b.WriteString(t.intro + "\n\n")
		}
		if len(t.rows) > 0 {
			b.WriteString("| " + strings.Join(t.header, " | ") + " |\n")
			b.WriteString("|" + strings.Repeat("---|", len(t.header)) + "\n")
			for _, row := range t.rows {
				b.WriteString("| " + strings.Join(row, " | ") + " |\n")
			}
			b.WriteString("\n")
		}
		for _, n := range t.notes {
			b.WriteString(n + "\n\n")
		}
		fmt.Fprintf(&b, "Section time: %s. Reproduce: `go run ./cmd/benchreport -only %s`.\n\n", t.took.Round(time.Second), t.key)
	}
	return b.String()
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 600 {
		s = s[:600] + "…"
	}
	return s
}

// machineInfo names the CPU, the cores, Go, the OS and the load.
func machineInfo() string {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	if s, err := cpuBrand(); err == nil && s != "" && s != cpu {
		cpu += " (" + s + ")"
	}
	load := ""
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		f := strings.Fields(string(b))
		if len(f) >= 3 {
			load = fmt.Sprintf(", load average at start %s %s %s", f[0], f[1], f[2])
		}
	}
	return fmt.Sprintf("%s, %d cores, %s %s/%s%s", cpu, runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH, load)
}

// cpuBrand is the processor's brand string as `go test` prints it.
func cpuBrand() (string, error) {
	out, err := exec.Command("go", "test", "-run", "^$", "-bench", "^BenchmarkQuantile$", "-benchtime", "1x", "./internal/benchkit").CombinedOutput()
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(line, "cpu: "); ok {
			return strings.TrimSpace(v), nil
		}
	}
	return "", nil
}
