package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/x/term"

	"github.com/ecoute/ecoute/player"
)

// playUsage is ecoute play's help.
func playUsage() string { return T("ecoute.playUsage") }

// runPlay implements `ecoute play`.
func runPlay(args []string) error {
	fs := flag.NewFlagSet("play", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	noTUI := fs.Bool("no-tui", false, "")
	start := fs.String("start", "", "")
	silent := fs.Bool("silent", false, "")
	speed := fs.Float64("speed", 1, "")
	mute := fs.Int("mute-party", 0, "")
	balance := fs.Float64("balance", 0, "")
	// Accept flags before and after the file name.
	var files []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Print(playUsage())
				return nil
			}
			return usageError(T("ecoute.errPlay")+": "+err.Error(), playUsage())
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(files) != 1 {
		return usageError(T("ecoute.errPlayOne"), playUsage())
	}
	if *speed < player.MinSpeed || *speed > player.MaxSpeed || player.ClampSpeed(*speed) != *speed {
		return errors.New(T("ecoute.errPlaySpeed", *speed, player.MinSpeed, player.MaxSpeed, player.SpeedStep))
	}
	if *mute < 0 || *mute > 2 {
		return errors.New(T("ecoute.errPlayMute", *mute))
	}
	if *balance < -1 || *balance > 1 {
		return errors.New(T("ecoute.errPlayBalance", *balance))
	}
	var at time.Duration
	if *start != "" {
		var err error
		if at, err = parseClock(*start); err != nil {
			return fmt.Errorf("%s: %w", T("ecoute.errPlayStart"), err)
		}
	}

	// The sound device opens while the file is read and indexed (a sound
	// server can take longer than either): the first sound waits for the
	// slower of the two, not for both. Device diagnostics go to the log,
	// never to the terminal.
	engc := make(chan *player.Engine, 1)
	go func() { engc <- player.NewEngine(player.EngineOptions{ForceNull: *silent, Log: playLog()}) }()
	src, info, err := player.FileSource(files[0])
	eng := <-engc
	defer eng.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", T("ecoute.errPlay"), err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	tr, err := eng.Open(src, info)
	if err != nil {
		return fmt.Errorf("%s %s: %w", T("ecoute.errPlay"), files[0], err)
	}
	defer tr.Close()
	if at > 0 {
		if at >= tr.Duration() {
			return errors.New(T("ecoute.errPlayPastEnd", *start, formatClock(tr.Duration())))
		}
		tr.Seek(at)
	}
	if c, ok := tr.(player.Controls); ok {
		c.SetSpeed(*speed)
		if (*mute != 0 || *balance != 0) && c.Parties() != 2 {
			return errors.New(T("ecoute.errPlayOneParty", files[0]))
		}
		if *mute != 0 {
			c.SetPartyMuted(*mute-1, true)
		}
		c.SetBalance(*balance)
	}
	// The player screen needs a terminal; piped or in a script, the
	// positions are printed instead.
	if !*noTUI && term.IsTerminal(os.Stdout.Fd()) && term.IsTerminal(os.Stdin.Fd()) {
		if run := localPlayerUI; run != nil {
			return run(ctx, eng, tr, files[0])
		}
	}
	return playPlain(ctx, os.Stdout, eng, tr)
}

// localPlayerUI is the full-screen player; nil until the TUI provides one,
// in which case `ecoute play` prints positions instead.
var localPlayerUI func(ctx context.Context, eng *player.Engine, tr player.Track, title string) error

// playPlain plays to the end, printing the position about every second.
func playPlain(ctx context.Context, w io.Writer, eng *player.Engine, tr player.Track) error {
	fmt.Fprintln(w, T("ecoute.playOutput", eng.OutputReason()))
	total := formatClock(tr.Duration())
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	tr.Play()
	for {
		select {
		case <-ctx.Done():
			fmt.Fprintln(w, T("ecoute.playStopped", formatClock(tr.Position()), total))
			return nil
		case ev, ok := <-tr.Events():
			if !ok {
				return nil
			}
			switch ev.Kind {
			case player.EventEnded:
				fmt.Fprintf(w, "%s / %s\n", formatClock(ev.Position), total)
				return nil
			case player.EventError:
				return fmt.Errorf("%s: %w", T("ecoute.errPlayStopped", formatClock(ev.Position)), ev.Err)
			}
		case <-tick.C:
			fmt.Fprintf(w, "%s / %s\n", formatClock(tr.Position()), total)
		}
	}
}

// playLog is where device and decoder diagnostics go: $ECOUTE_LOG if set,
// else nowhere.
func playLog() io.Writer {
	if p := os.Getenv("ECOUTE_LOG"); p != "" {
		if f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600); err == nil {
			return f
		}
	}
	return io.Discard
}

// formatClock renders a position as M:SS.d (H:MM:SS.d past an hour).
func formatClock(d time.Duration) string {
	d = d.Round(100 * time.Millisecond)
	h, m := int(d/time.Hour), int(d/time.Minute)%60
	s := float64(d%time.Minute) / float64(time.Second)
	if h > 0 {
		return fmt.Sprintf("%d:%02d:%04.1f", h, m, s)
	}
	return fmt.Sprintf("%d:%04.1f", m, s)
}

// parseClock reads SS, MM:SS or H:MM:SS, seconds possibly with decimals.
func parseClock(s string) (time.Duration, error) {
	parts := strings.Split(s, ":")
	if len(parts) > 3 {
		return 0, errors.New(T("ecoute.errClock", s))
	}
	var d time.Duration
	for i, p := range parts {
		last := i == len(parts)-1
		v, err := strconv.ParseFloat(p, 64)
		if err != nil || v < 0 || (!last && v != float64(int(v))) {
			return 0, errors.New(T("ecoute.errClock", s))
		}
		d = d*60 + time.Duration(v*float64(time.Second))
	}
	return d, nil
}
