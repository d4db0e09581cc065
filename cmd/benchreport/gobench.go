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
	var serial, twenty, dir1, dir20 []float64
	cpu := map[string][]float64{} // CPU ms per recording, by row
	var peer benchkit.Durations
	for half := range 2 {
		rs, err := e.goBench("./backend/", "^BenchmarkIngest$", "-benchtime", "3s")
		if err != nil {
			return nil, err
		}
		s, ok1 := benchkit.Find(rs, "Ingest/serial")
		p, ok2 := benchkit.Find(rs, "Ingest/uploaders20")
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("BenchmarkIngest gave %+v", rs)
		}
		serial = append(serial, s.Metrics["recordings/s"])
		twenty = append(twenty, p.Metrics["recordings/s"])
		cpu["serial"] = append(cpu["serial"], s.Metrics["cpu-ms/recording"])
		cpu["twenty"] = append(cpu["twenty"], p.Metrics["cpu-ms/recording"])
		rs, err = e.goBench("./cmd/ecouted/", "^BenchmarkIngestDir$", "-benchtime", "1x")
		if err != nil {
			return nil, err
		}
		d1, ok1 := benchkit.Find(rs, "IngestDir/jobs1")
		d20, ok2 := benchkit.Find(rs, "IngestDir/jobs20")
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("BenchmarkIngestDir gave %+v", rs)
		}
		dir1 = append(dir1, d1.Metrics["recordings/s"])
		dir20 = append(dir20, d20.Metrics["recordings/s"])
		cpu["dir1"] = append(cpu["dir1"], d1.Metrics["cpu-ms/recording"])
		cpu["dir20"] = append(cpu["dir20"], d20.Metrics["cpu-ms/recording"])
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
	perRec := func(rps float64) string { return fmt.Sprintf("%.0f/s (%.1f ms each)", rps, 1000/rps) }
	peerRate := 1 / peer.Median().Seconds()
	row := func(what string, v []float64, c string, bold bool, how string) []string {
		r := benchkit.Ratio(peerRate, mean(v))
		if bold {
			r = "**" + r + "**"
		}
		return []string{what, perRec(mean(v)), fmt.Sprintf("%.1f ms", mean(cpu[c])), perRec(peerRate), r, how}
	}
	return &table{
		intro: "100 kB recordings (the demo clip cut at a frame boundary), each stored encrypted and durably " +
			"before it is acknowledged: its audio written into the day's pack and synced, its row committed " +
			"and the database's log synced; uploads that finish together share those syncs (group commit). " +
			"Nothing is decoded at the upload: the peaks wait for the sampling, for the 5 % kept. " +
			"`BenchmarkIngest` (backend/ingest_bench_test.go): over loopback gRPC + TLS to a real backend, one " +
			"client, then 20 clients at once. `BenchmarkIngestDir` (cmd/ecouted/ingest_bench_test.go): " +
			"`ecouted ingest --dir` of 500 recordings into a fresh data directory, `--jobs 1` and `--jobs 20`. " +
			"Peer: the durable-write floor of one file, `dd conv=fsync` of the same 100 kB into a new file on " +
			"the same disk, run as a process. Two halves, alternating (benches, 20 dd, benches, 20 dd). " +
			"Goal (issue 18): ≥ 200 recordings/s with 20 uploaders.",
		header: []string{"what", "ours", "ours: CPU per recording (client + server)", "peer: dd conv=fsync", "ratio (time per recording)", "reproduce"},
		rows: [][]string{
			row("gRPC, one client", serial, "serial", false, "`go test -run '^$' -bench '^BenchmarkIngest$' -benchtime 3s ./backend/`"),
			row("gRPC, 20 clients at once", twenty, "twenty", true, "same"),
			row("`ingest --dir --jobs 1`", dir1, "dir1", false, "`go test -run '^$' -bench IngestDir -benchtime 1x ./cmd/ecouted/`"),
			row("`ingest --dir --jobs 20`", dir20, "dir20", true, "same"),
		},
	}, nil
}

func samplingSection(ctx context.Context, e *env) (*table, error) {
	rs, err := e.goBench("./backend/sampling/", "^Benchmark(Sample|Purge)100k$", "-benchtime", "1x")
	if err != nil {
		return nil, err
	}
	r, ok1 := benchkit.Find(rs, "Sample100k")
	pr, ok2 := benchkit.Find(rs, "Purge100k")
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("no Sample100k or Purge100k result in %+v", rs)
	}
	ours := time.Duration(r.Metrics["ns/op"])
	purge := time.Duration(pr.Metrics["ns/op"])
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
		intro: "`BenchmarkSample100k` (backend/sampling): one `sample` run over 100,000 recordings of one day " +
			"waiting for the sampling (200 agents), each with its encrypted audio in the day's packs, as ingestion " +
			"stores it: the seed committed, the draw per agent (5 % kept), the kept calls copied into calls and " +
			"their audio out of the day's packs, 95,000 rows deleted with their keyed hashes recorded, the day's " +
			"packs removed whole. `BenchmarkPurge100k`: one retention purge run over 100,000 recordings of a day " +
			"past their retention, rows deleted in chunks, packs removed whole, pages reclaimed. Peer: " +
			"`find DIR -type f -delete` of 95,000 small files in 200 directories on the same disk, the floor " +
			"of deleting them one file each. One run each. Goal (issue 18): each ≤ 2 s.",
		header: []string{"what", "ours", "peer: find -delete", "ratio", "reproduce"},
		rows: [][]string{{"sampling a day of 100,000 recordings",
			fmt.Sprintf("%.2f s (%.2f s CPU)", ours.Seconds(), r.Metrics["cpu-s/op"]),
			fmt.Sprintf("%.1f s", peer.Seconds()), "**" + benchkit.Ratio(float64(ours), float64(peer)) + "**",
			"`go test -run '^$' -bench 'Sample100k$' -benchtime 1x ./backend/sampling/`"},
			{"purging 100,000 recordings",
				fmt.Sprintf("%.2f s (%.2f s CPU)", purge.Seconds(), pr.Metrics["cpu-s/op"]),
				fmt.Sprintf("%.1f s", peer.Seconds()), "**" + benchkit.Ratio(float64(purge), float64(peer)) + "**",
				"`go test -run '^$' -bench 'Purge100k$' -benchtime 1x ./backend/sampling/`"}},
	}, nil
}
