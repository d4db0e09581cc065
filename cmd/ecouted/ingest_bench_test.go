package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ecoute/ecoute/internal/mp3frame"
)

// BenchmarkIngestDir imports a folder of 500 recordings of 100 kB (the
// demo clip cut at the last frame before 100 kB, with its NAME.json) with
// `ecouted ingest --dir`, into a fresh data directory, durably (each
// recording's audio and row synced before it counts as stored): --jobs 1
// stores one recording at a time, --jobs 20 twenty at once, as 20
// uploaders would.
func BenchmarkIngestDir(b *testing.B) {
	clip, err := os.ReadFile("../../internal/demo/audio/07-carte.mp3")
	if err != nil {
		b.Fatal(err)
	}
	ix, err := mp3frame.Scan(bytes.NewReader(clip))
	if err != nil {
		b.Fatal(err)
	}
	end := int64(0)
	for _, off := range ix.Offsets {
		if off > 100_000 {
			break
		}
		end = off
	}
	clip = clip[:end]
	const n = 500
	in := b.TempDir()
	for i := range n {
		name := filepath.Join(in, fmt.Sprintf("rec-%04d", i))
		writeMeta(b, name+".json", fmt.Sprintf("bench-dir-%04d", i), nil)
		if err := os.WriteFile(name+".mp3", clip, 0o600); err != nil {
			b.Fatal(err)
		}
	}
	for _, jobs := range []int{1, 20} {
		b.Run(fmt.Sprintf("jobs%d", jobs), func(b *testing.B) {
			var cpu time.Duration
			for b.Loop() {
				b.StopTimer()
				data := ingestDataDir(b)
				b.StartTimer()
				cpu0 := cpuTime()
				out, _, err := runArgs("", "--data", data, "ingest", "--dir", in, "--jobs", fmt.Sprint(jobs))
				if err != nil || !strings.Contains(out, fmt.Sprintf("%d stored", n)) {
					b.Fatalf("ingest --dir: %v\n%s", err, out)
				}
				cpu += cpuTime() - cpu0
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "recordings/s")
			b.ReportMetric(float64(cpu.Microseconds())/1e3/float64(n*b.N), "cpu-ms/recording")
		})
	}
}

// cpuTime is this process's user + system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
