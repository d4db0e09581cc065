package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/ecoute/ecoute/internal/benchkit"
)

// otherBenches are the module's benchmarks that have no peer a user would
// run beside them, with the iterations each gets. The end-to-end hour
// benchmarks (test/e2e, minutes each) are left out: `go test -run '^$'
// -bench Hour ./test/e2e/` runs them.
var otherBenches = []struct{ pkg, pattern, benchtime string }{
	{"./player/", ".", "30x"},
	{"./tui/", "^(BenchmarkCallsKeypressToFrame|BenchmarkStartToFirstFrame)$", "100x"},
	{"./backend/store/", "^BenchmarkListCallsPage100k$", "10x"},
	// The statistics at one year of 200 agents (issue 17; the data set is
	// built once, a few minutes, and kept in $TMPDIR/ecoute-stats-bench-v6).
	{"./backend/", "^BenchmarkStats$", "10x"},
	{"./backend/audio/", ".", "5x"},
	{"./backend/audit/", ".", "1s"},
	{"./backend/blobs/", ".", "1s"},
	{"./backend/lexicon/", ".", "1000x"},
	{"./backend/auth/", ".", "10x"},
}

func othersSection(ctx context.Context, e *env) (*table, error) {
	t := &table{
		intro: "The other benchmarks of the module, run as they are; no tool a user would compare them with. " +
			"Time per operation, and the benchmark's own figures.",
		header: []string{"benchmark", "per op", "other figures", "reproduce"},
	}
	for _, b := range otherBenches {
		rs, err := e.goBench(b.pkg, b.pattern, "-benchtime", b.benchtime, "-benchmem")
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			var extra []string
			var units []string
			for u := range r.Metrics {
				if u != "ns/op" {
					units = append(units, u)
				}
			}
			sort.Strings(units)
			for _, u := range units {
				extra = append(extra, fmt.Sprintf("%.4g %s", r.Metrics[u], u))
			}
			t.rows = append(t.rows, []string{fmt.Sprintf("%s `%s`", strings.TrimSuffix(strings.TrimPrefix(b.pkg, "./"), "/"), r.Name),
				benchkit.Ms(time.Duration(r.Metrics["ns/op"])) + " ms", strings.Join(extra, ", "),
				fmt.Sprintf("`go test -run '^$' -bench '%s' -benchtime %s -benchmem %s`", b.pattern, b.benchtime, b.pkg)})
		}
	}
	return t, nil
}
