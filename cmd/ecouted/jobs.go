package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/ecoute/ecoute/backend"
	"github.com/ecoute/ecoute/internal/clock"
)

// nowFlag reads --now (RFC 3339); empty = the system clock.
func nowFlag(s string) (time.Time, error) {
	if s == "" {
		return clock.Real{}.Now(), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("--now: %q is not RFC 3339 (e.g. 2026-03-04T03:00:00Z): %w", s, err)
	}
	return t, nil
}

func cmdSample(data string, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("sample", "sample [--now RFC3339]\n\n"+
		"Runs the daily random sampling (R2) as of now: for every past UTC day that still holds pending\n"+
		"recordings, keeps sampling.rate of each agent's recordings, chosen with crypto/rand, and\n"+
		"deletes the others (row and audio file). Running it again for the same day changes nothing.\n"+
		"serve runs it by itself every day at sampling.hour (UTC). Prints per-day counts.", stderr)
	nowS := fs.String("now", "", "the instant to sample as of, RFC 3339 (default: the system clock)")
	if err := parse(fs, args); err != nil {
		return err
	}
	now, err := nowFlag(*nowS)
	if err != nil {
		return err
	}
	ctx := context.Background()
	app, err := open(ctx, data, nil, nil)
	if err != nil {
		return err
	}
	defer app.Close()
	rep, err := app.Sample(ctx, now)
	for _, d := range rep.Days {
		fmt.Fprintf(stdout, "%s received=%d kept=%d deleted=%d\n", d.Day.Format(time.DateOnly), d.Received, d.Kept, d.Received-d.Kept)
	}
	if err != nil {
		return fmt.Errorf("sample: %w", err)
	}
	fmt.Fprintf(stdout, "sampled %d day(s) at rate %g: %d recordings, %d kept, %d files deleted\n",
		len(rep.Days), app.Settings().SamplingRate, rep.Received, rep.Kept, rep.FilesDeleted)
	return nil
}

func cmdPurge(data string, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("purge", "purge [--now RFC3339]\n\n"+
		"Runs the retention purge (R4) as of now: recordings older than retention.recordings (file and\n"+
		"row), sessions and audit entries older than retention.connection_logs, evaluations 1 year\n"+
		"after creation, request ids after 24 hours, the names of ended agents once no recording or\n"+
		"evaluation collected within the last year names them (then their rows, when nothing refers to\n"+
		"them); then returns the freed space to the file system.\n"+
		"serve runs it by itself every day after the sampling. Prints the counts per kind of data.", stderr)
	nowS := fs.String("now", "", "the instant to purge as of, RFC 3339 (default: the system clock)")
	if err := parse(fs, args); err != nil {
		return err
	}
	now, err := nowFlag(*nowS)
	if err != nil {
		return err
	}
	ctx := context.Background()
	app, err := open(ctx, data, nil, nil)
	if err != nil {
		return err
	}
	defer app.Close()
	counts, err := app.Purge(ctx, now)
	fmt.Fprintf(stdout, "purged as of %s: %s\n", now.UTC().Format(time.RFC3339), backend.FormatCounts(counts))
	if err != nil {
		return fmt.Errorf("purge: %w", err)
	}
	return nil
}
