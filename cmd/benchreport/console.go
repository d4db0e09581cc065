package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/ecoute/ecoute/client"
	"github.com/ecoute/ecoute/internal/benchkit"
	"github.com/ecoute/ecoute/internal/load"
)

func consoleSection(ctx context.Context, e *env) (*table, error) {
	if _, err := exec.LookPath("less"); err != nil {
		return nil, fmt.Errorf("less not installed: no peer")
	}
	ecoute, err := e.bin("./cmd/ecoute")
	if err != nil {
		return nil, err
	}
	ecouted, err := e.bin("./cmd/ecouted")
	if err != nil {
		return nil, err
	}
	data := filepath.Join(e.tmp, "console-data")
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

	// The rows the supervisor's console lists, as text, for less.
	c, err := client.Dial(ctx, srv.Addr, client.Options{CAPEM: srv.CAPEM})
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if _, err := c.Login(ctx, sup[0], sup[1]); err != nil {
		return nil, err
	}
	var lines []string
	token := ""
	for {
		resp, err := c.ListCalls(ctx, client.CallQuery{PageSize: 200, PageToken: token, OrderBy: "started_at desc"})
		if err != nil {
			return nil, err
		}
		for _, call := range resp.GetCalls() {
			ev := "·"
			if call.GetEvaluated() {
				ev = "✓"
			}
			lines = append(lines, fmt.Sprintf("%-16s  %8s  %-20s  %-14s  %-22s  %s",
				call.GetStartedAt().AsTime().Local().Format("2006-01-02 15:04"), call.GetDuration().AsDuration().Round(time.Second),
				call.GetAgentName(), call.GetTeamName(), call.GetCampaignName(), ev))
		}
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
	}
	const cols, rows = 120, 40
	if len(lines) < rows {
		return nil, fmt.Errorf("only %d calls listed: less would not fill the screen", len(lines))
	}
	file := filepath.Join(e.tmp, "calls.txt")
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		return nil, err
	}
	home := filepath.Join(e.tmp, "console-home")
	if err := os.MkdirAll(home, 0o700); err != nil {
		return nil, err
	}
	env := append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"XDG_CACHE_HOME="+filepath.Join(home, ".cache"), "TERM=xterm-256color", "LESS=", "LESSOPEN=")
	type tool struct {
		name string
		cmd  func() *exec.Cmd
		want []string
		quit []byte
	}
	tools := []tool{
		{"ecoute", func() *exec.Cmd {
			return exec.Command(ecoute, "--server", srv.Addr, "--login", sup[0], "--silent")
		}, []string{"Password", "esc: quit"}, []byte{3}},
		{"less", func() *exec.Cmd { return exec.Command("less", file) },
			[]string{strings.TrimSpace(lines[0]), strings.TrimSpace(lines[rows-2])}, []byte("q")},
	}
	times := map[string]benchkit.Durations{}
	for round := -1; round < e.rounds; round++ {
		for _, tl := range tools {
			cmd := tl.cmd()
			cmd.Env = env
			rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			r, err := benchkit.TimeToOutput(rctx, cmd, cols, rows, tl.want, tl.quit)
			cancel()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", tl.name, err)
			}
			if round >= 0 {
				times[tl.name] = append(times[tl.name], r.Elapsed)
			}
		}
	}
	o, p := times["ecoute"], times["less"]
	return &table{
		intro: fmt.Sprintf("From just before the process starts to the first complete frame on a %d×%d pseudo-terminal "+
			"(TERM=xterm-256color), %d rounds each, alternating, after one uncounted run of each (which pins the "+
			"server's CA). Ours: `ecoute --server ADDR --login NAME --silent` against a real `ecouted serve` "+
			"(demo data, loopback TLS: the console dials and makes a TLS handshake before its first frame), "+
			"until the login box is drawn to its last line. Peer: `less FILE` on a file of the same %d calls the "+
			"supervisor's list holds, one line each, until its screen is drawn to its last line.",
			cols, rows, e.rounds, len(lines)),
		header: []string{"what", "ecoute p50 (ms)", "ecoute p90 (ms)", "less p50 (ms)", "less p90 (ms)", "ratio p50", "reproduce"},
		rows: [][]string{{"start → first frame", benchkit.Ms(o.Median()), benchkit.Ms(o.Quantile(0.9)),
			benchkit.Ms(p.Median()), benchkit.Ms(p.Quantile(0.9)),
			"**" + benchkit.Ratio(float64(o.Median()), float64(p.Median())) + "**", "`go run ./cmd/benchreport -only console`"}},
	}, nil
}
