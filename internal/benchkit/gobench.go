package benchkit

import (
	"bufio"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
)

// GoBench is one result line of `go test -bench`.
type GoBench struct {
	Name    string // without the "Benchmark" prefix and the -GOMAXPROCS suffix
	N       int
	Metrics map[string]float64 // by unit: "ns/op", "B/op", custom units
}

// ParseGoBench reads the result lines of `go test -bench` output (the
// format of golang.org/design/14313-benchmark-format: name, iterations,
// then value–unit pairs) and the "cpu:" header line. Other lines are
// skipped.
func ParseGoBench(out string) (results []GoBench, cpu string, err error) {
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "cpu: "); ok {
			cpu = strings.TrimSpace(v)
			continue
		}
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
			continue
		}
		n, err := strconv.Atoi(f[1])
		if err != nil {
			continue
		}
		name := strings.TrimPrefix(f[0], "Benchmark")
		if i := strings.LastIndex(name, "-"); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		b := GoBench{Name: name, N: n, Metrics: map[string]float64{}}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, cpu, fmt.Errorf("benchmark line %q: value %q: %w", line, f[i], err)
			}
			b.Metrics[f[i+1]] = v
		}
		results = append(results, b)
	}
	return results, cpu, sc.Err()
}

// RunGoBench runs `go test -run '^$' -bench pattern` with extra arguments
// in pkg and parses the results. A failing run's output is in the error.
func RunGoBench(dir, pkg, pattern string, extra ...string) ([]GoBench, string, error) {
	args := append([]string{"test", "-run", "^$", "-bench", pattern}, extra...)
	args = append(args, pkg)
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, "", fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, tail(out, 3000))
	}
	res, cpu, perr := ParseGoBench(string(out))
	if perr != nil {
		return nil, cpu, perr
	}
	if len(res) == 0 {
		return nil, cpu, fmt.Errorf("go %s: no benchmark matched\n%s", strings.Join(args, " "), tail(out, 3000))
	}
	return res, cpu, nil
}

// Find is the result named name, or false.
func Find(rs []GoBench, name string) (GoBench, bool) {
	for _, r := range rs {
		if r.Name == name {
			return r, true
		}
	}
	return GoBench{}, false
}
