package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/ecoute/ecoute/internal/benchkit"
)

// goBench runs a benchmark of the module with the report's build tags.
func (e *env) goBench(pkg, pattern string, extra ...string) ([]benchkit.GoBench, error) {
	if e.tags != "" {
		extra = append([]string{"-tags", e.tags}, extra...)
	}
	e.log("go test -bench %s %s", pattern, pkg)
	rs, _, err := benchkit.RunGoBench(".", pkg, pattern, extra...)
	return rs, err
}

func keypressSection(ctx context.Context, e *env) (*table, error) {
	rs, err := e.goBench("./tui", "^BenchmarkKeypressVsBubblesTable$", "-benchtime", "300x")
	if err != nil {
		return nil, err
	}
	t := &table{
		intro: "A key, then the next frame, with 100,000 calls loaded, at 120×40: the calls screen " +
			"(`App.Update` then the whole `App.View`: title, filter line, header, rows, footer) and the stock " +
			"Bubbles v2 table (`charm.land/bubbles/v2/table`, default styles) holding the same rows, " +
			"columns and widths, with as many visible rows (`Update` then `View`). The two alternate key by " +
			"key in one loop of 300 keys; medians.",
		header: []string{"key", "calls screen p50 (ms)", "Bubbles table p50 (ms)", "ratio", "reproduce"},
	}
	for _, k := range []struct{ name, label string }{{"down", "↓ (one row)"}, {"pgdn", "PgDn"}, {"end-home", "G / g (end, start)"}} {
		r, ok := benchkit.Find(rs, "KeypressVsBubblesTable/"+k.name)
		if !ok {
			return nil, fmt.Errorf("no result for %s", k.name)
		}
		o, p := r.Metrics["ours-µs"], r.Metrics["bubbles-µs"]
		t.rows = append(t.rows, []string{k.label, fmt.Sprintf("%.2f", o/1e3), fmt.Sprintf("%.2f", p/1e3),
			"**" + benchkit.Ratio(o, p) + "**",
			"`go test -run '^$' -bench KeypressVsBubblesTable -benchtime 300x ./tui`"})
	}
	return t, nil
}

func ingestSection(ctx context.Context, e *env) (*table, error) {
	clip, err := os.ReadFile("internal/demo/audio/07-carte.mp3")
	if err != nil {
		return nil, err
	}
	clip = clip[:min(len(clip), 100_000)]
	dir := filepath.Join(e.tmp, "ingest-peer")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	src := filepath.Join(dir, "clip.mp3")
	if err := os.WriteFile(src, clip, 0o600); err != nil {
		return nil, err
	}
	// Ours and the peer alternate in two halves each.
	var serial, parallel []float64
	var peer benchkit.Durations
	for half := range 2 {
		rs, err := e.goBench("./backend/", "^BenchmarkIngest$", "-benchtime", "3s")
		if err != nil {
			return nil, err
		}
		s, ok1 := benchkit.Find(rs, "Ingest/serial")
		p, ok2 := benchkit.Find(rs, "Ingest/parallel")
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("BenchmarkIngest gave %+v", rs)
		}
		serial = append(serial, s.Metrics["recordings/s"])
		parallel = append(parallel, p.Metrics["recordings/s"])
		for i := range 20 {
			t0 := time.Now()
			out, err := exec.CommandContext(ctx, "dd", "if="+src, fmt.Sprintf("of=%s/copy-%d-%d", dir, half, i),
				"bs=1M", "conv=fsync", "status=none").CombinedOutput()
			if err != nil {
				return nil, fmt.Errorf("dd: %v\n%s", err, out)
			}
			peer = append(peer, time.Since(t0))
		}
	}
	mean := func(v []float64) float64 { return (v[0] + v[1]) / 2 }
	perRec := func(rps float64) string { return fmt.Sprintf("%.1f/s (%.0f ms each)", rps, 1000/rps) }
	peerRate := 1 / peer.Median().Seconds()
	return &table{
		intro: "`BenchmarkIngest` (backend/ingest_bench_test.go, unchanged; the real-operation issue owns its " +
			"speed): 100 kB recordings uploaded over loopback gRPC + TLS to a real backend, each decoded " +
			"for its frame index and peaks, encrypted, written durably (file and directory fsync'ed, row " +
			"committed) before the answer. Peer: the durable-write floor, `dd conv=fsync` of the same 100 kB " +
			"into a new file on the same disk, run as a process. Two halves, alternating (bench, 20 dd, bench, 20 dd).",
		header: []string{"what", "ours", "peer: dd conv=fsync", "ratio (time per recording)", "reproduce"},
		rows: [][]string{
			{"ingest, one client", perRec(mean(serial)), perRec(peerRate), "**" + benchkit.Ratio(peerRate, mean(serial)) + "**",
				"`go test -run '^$' -bench Ingest -benchtime 3s ./backend/`"},
			{"ingest, 8 clients at once", perRec(mean(parallel)), perRec(peerRate), benchkit.Ratio(peerRate, mean(parallel)), "same"},
		},
	}, nil
}

func samplingSection(ctx context.Context, e *env) (*table, error) {
	rs, err := e.goBench("./backend/sampling/", "^BenchmarkSample100k$", "-benchtime", "1x")
	if err != nil {
		return nil, err
	}
	r, ok := benchkit.Find(rs, "Sample100k")
	if !ok {
		return nil, fmt.Errorf("no Sample100k result in %+v", rs)
	}
	ours := time.Duration(r.Metrics["ns/op"])
	// Peer: deleting as many files of the same kind, with find.
	dir := filepath.Join(e.tmp, "sampling-peer")
	const files = 95_000
	e.log("creating %d files for the sampling peer", files)
	for i := range files {
		sub := filepath.Join(dir, fmt.Sprintf("%03d", i%200))
		if i < 200 {
			if err := os.MkdirAll(sub, 0o700); err != nil {
				return nil, err
			}
		}
		if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("%06d", i)), []byte("x"), 0o600); err != nil {
			return nil, err
		}
	}
	t0 := time.Now()
	if out, err := exec.CommandContext(ctx, "find", dir, "-type", "f", "-delete").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("find -delete: %v\n%s", err, out)
	}
	peer := time.Since(t0)
	return &table{
		intro: "`BenchmarkSample100k` (backend/sampling, unchanged; the real-operation issue owns its speed): one " +
			"`sample` run over 100,000 pending recordings of one day (200 agents), each with its encrypted " +
			"audio file: the random choice (5 % kept), 95,000 row deletions and 95,000 file deletions. Peer: " +
			"`find DIR -type f -delete` of 95,000 small files in 200 directories on the same disk, the floor " +
			"of the file part alone. One run each (the benchmark takes about a minute with its set-up).",
		header: []string{"what", "ours", "peer: find -delete", "ratio", "reproduce"},
		rows: [][]string{{"sampling a day of 100,000 recordings",
			fmt.Sprintf("%.1f s (%.1f s CPU)", ours.Seconds(), r.Metrics["cpu-s/op"]),
			fmt.Sprintf("%.1f s", peer.Seconds()), "**" + benchkit.Ratio(float64(ours), float64(peer)) + "**",
			"`go test -run XXX -bench 'Sample100k$' -benchtime 1x ./backend/sampling/`"}},
	}, nil
}
