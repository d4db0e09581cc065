package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestUnlawfulConfigRefusedAtStart: a 2-month connection-log period stops
// ecouted before it creates or opens anything, with the allowed range.
func TestUnlawfulConfigRefusedAtStart(t *testing.T) {
	t.Cleanup(func() { configFile = "" })
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ecouted.yaml"), []byte("retention:\n  connection_logs: 2mo\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"serve", "--insecure", "--listen", "127.0.0.1:0"},
		{"sample"},
		{"purge"},
		{"init", "--name", "Paul Renaud"},
	} {
		_, _, err := runArgs("", append([]string{"--data", dir}, args...)...)
		if err == nil || !strings.Contains(err.Error(), "retention.connection_logs") || !strings.Contains(err.Error(), "3mo–12mo") {
			t.Errorf("%v with connection_logs 2mo: %v, want a refusal giving the range 3mo–12mo", args, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "ecoute.db")); err == nil {
		t.Error("the database was created despite the refused configuration")
	}

	// --config names another file; unknown keys name their line.
	other := filepath.Join(t.TempDir(), "other.yaml")
	if err := os.WriteFile(other, []byte("sampling:\n  rate: 0.05\n  rhythm: daily\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := runArgs("", "--data", t.TempDir(), "--config", other, "sample")
	if err == nil || !strings.Contains(err.Error(), `line 3: unknown key "sampling.rhythm"`) {
		t.Errorf("unknown key: %v", err)
	}
	_, _, err = runArgs("", "--data", t.TempDir(), "--config", filepath.Join(t.TempDir(), "missing.yaml"), "sample")
	if err == nil {
		t.Error("a missing --config file was accepted")
	}
}

func TestConfigDefaults(t *testing.T) {
	out, _, err := runArgs("", "config", "defaults")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"sampling.rate", "0.05", "0.001–0.1", "R2", "sampling.hour", "retention.recordings",
		"retention.connection_logs", "3mo–12mo", "R4", "ingest.transcoder", "evaluations", "1y"} {
		if !strings.Contains(out, want) {
			t.Errorf("config defaults lacks %q:\n%s", want, out)
		}
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ecouted.yaml"), []byte("sampling:\n  rate: 0.1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, err = runArgs("", "--data", dir, "config", "check")
	if err != nil || !regexp.MustCompile(`sampling.rate\s+0.1\n`).MatchString(out) || !strings.Contains(out, "retention.recordings") {
		t.Errorf("config check: %v\n%s", err, out)
	}
	if _, _, err := runArgs("", "config", "bogus"); err == nil {
		t.Error("config bogus accepted")
	}
	if _, _, err := runArgs("", "--data", t.TempDir(), "sample", "--now", "04/03/2026"); err == nil || !strings.Contains(err.Error(), "RFC 3339") {
		t.Errorf("ambiguous --now accepted: %v", err)
	}
}

func audioFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(filepath.Join(dir, "audio"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".mp3") {
			n++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestPurgeCommandAtSixMonthsAndADay drives the real command on the demo
// data (30 days of kept calls ending now): nothing is due a month before
// the oldest call's 6 months; at now + 6 months + 1 day every audio file is
// gone from disk.
func TestPurgeCommandAtSixMonthsAndADay(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := runArgs("", "--data", dir, "seed-demo"); err != nil {
		t.Fatal(err)
	}
	files := audioFiles(t, dir)
	if files < 100 {
		t.Fatalf("demo made %d audio files", files)
	}
	now := time.Now().UTC()
	out, _, err := runArgs("", "--data", dir, "sample", "--now", now.Format(time.RFC3339))
	if err != nil || !strings.Contains(out, "sampled 0 day(s)") {
		t.Errorf("sample on sampled demo data: %v %q", err, out)
	}
	out, _, err = runArgs("", "--data", dir, "purge", "--now", now.AddDate(0, 5, -1).Format(time.RFC3339))
	if err != nil || !strings.Contains(out, "recordings=0") || audioFiles(t, dir) != files {
		t.Fatalf("purge at +5 months: %v %q, %d files", err, out, audioFiles(t, dir))
	}
	out, _, err = runArgs("", "--data", dir, "purge", "--now", now.AddDate(0, 6, 1).Format(time.RFC3339))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`recordings=(\d+)`).FindStringSubmatch(out)
	if m == nil || m[1] != strconv.Itoa(files) {
		t.Errorf("purge at +6 months + 1 day: %q, want recordings=%d", out, files)
	}
	if n := audioFiles(t, dir); n != 0 {
		t.Errorf("%d audio files left on disk", n)
	}
}
