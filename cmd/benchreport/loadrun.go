package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/ecoute/ecoute/internal/load"
)

// loadSeconds is the browsing phase of the report's short load run;
// `make load` runs 30 s with profiles.
const loadSeconds = 15

func loadSection(ctx context.Context, e *env) (*table, error) {
	ecouted, err := e.bin("./cmd/ecouted")
	if err != nil {
		return nil, err
	}
	data := filepath.Join(e.tmp, "load-data")
	accounts, err := load.SeedDemo(ctx, ecouted, data)
	if err != nil {
		return nil, err
	}
	srv, err := load.StartServer(ctx, ecouted, data, false)
	if err != nil {
		return nil, err
	}
	defer srv.Stop()
	sup := accounts["supervisor"]
	opts := load.Options{Login: sup[0], Password: sup[1], Consoles: 50, Duration: loadSeconds * time.Second,
		Think: 200 * time.Millisecond, PageSize: 200}
	e.log("50 consoles for %d s", loadSeconds)
	res, err := load.RunWithServer(ctx, srv, opts)
	if err != nil {
		return nil, err
	}
	md := res.Markdown(opts)
	intro, tableText, _ := strings.Cut(md, "\n\n")
	t := &table{
		intro: intro + " The same as `make load` (30 s, with ecouted's profiles), shortened to " +
			fmt.Sprint(loadSeconds) + " s. No peer: the goal is absolute (below).",
	}
	t.notes = append(t.notes, strings.TrimSpace(tableText),
		"Goal (issue 19): `ListCalls` p99 ≤ 100 ms and the first audio chunk p99 ≤ 150 ms. "+
			"Reproduce: `make load` (or `go run ./cmd/ecoute-load -consoles 50 -duration 30s -profile DIR`).")
	return t, nil
}
