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

	"github.com/ecoute/ecoute/player"
)

const playUsage = `usage: ecoute play FILE.mp3 [--speed X] [--start MM:SS] [--no-tui] [--silent]
                  [--mute-party 1|2] [--balance B]

Plays a local recording. Accepted: MPEG-1 Layer III, or MPEG-2 Layer III at
16 or 24 kHz. Without a sound device (SSH, CI) it plays silently in real time.
A damaged file plays what is valid (junk skipped, lost frames silent); one cut
short plays up to the cut, then stops with a message. A stereo recording is
two parties, one per channel: the player keeps them apart.

  --speed X        play at X times the speed, pitch kept (0.5 to 2, steps of 0.25)
  --start T        start at T (SS, MM:SS or H:MM:SS, decimals allowed)
  --no-tui         print the position every second instead of the player screen
  --silent         do not open the sound device
  --mute-party N   silence party N of a two-party recording (1: left, 2: right)
  --balance B      weigh the two parties: -1 party 1 only … 0 both … 1 party 2 only
`

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
				fmt.Print(playUsage)
				return nil
			}
			return fmt.Errorf("play: %w\n%s", err, playUsage)
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(files) != 1 {
		return fmt.Errorf("play: want one MP3 file\n%s", playUsage)
	}
	if *speed < player.MinSpeed || *speed > player.MaxSpeed || player.ClampSpeed(*speed) != *speed {
		return fmt.Errorf("play: --speed %v: want %v to %v in steps of %v", *speed, player.MinSpeed, player.MaxSpeed, player.SpeedStep)
	}
	if *mute < 0 || *mute > 2 {
		return fmt.Errorf("play: --mute-party %d: want 1 or 2", *mute)
	}
	if *balance < -1 || *balance > 1 {
		return fmt.Errorf("play: --balance %v: want -1 to 1", *balance)
	}
	var at time.Duration
	if *start != "" {
		var err error
		if at, err = parseClock(*start); err != nil {
			return fmt.Errorf("play: --start: %w", err)
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
		return fmt.Errorf("play: %w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	tr, err := eng.Open(src, info)
	if err != nil {
		return fmt.Errorf("play %s: %w", files[0], err)
	}
	defer tr.Close()
	if at > 0 {
		if at >= tr.Duration() {
			return fmt.Errorf("play: --start %s is past the end (%s)", *start, formatClock(tr.Duration()))
		}
		tr.Seek(at)
	}
	if c, ok := tr.(player.Controls); ok {
		c.SetSpeed(*speed)
		if (*mute != 0 || *balance != 0) && c.Parties() != 2 {
			return fmt.Errorf("play: --mute-party, --balance: %s has one channel: its parties are not apart", files[0])
		}
		if *mute != 0 {
			c.SetPartyMuted(*mute-1, true)
		}
		c.SetBalance(*balance)
	}
	if !*noTUI {
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
	fmt.Fprintf(w, "output: %s\n", eng.OutputReason())
	total := formatClock(tr.Duration())
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	tr.Play()
	for {
		select {
		case <-ctx.Done():
			fmt.Fprintf(w, "%s / %s (stopped)\n", formatClock(tr.Position()), total)
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
				return fmt.Errorf("play: stopped at %s: %w", formatClock(ev.Position), ev.Err)
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
		return 0, fmt.Errorf("%q: want SS, MM:SS or H:MM:SS", s)
	}
	var d time.Duration
	for i, p := range parts {
		last := i == len(parts)-1
		v, err := strconv.ParseFloat(p, 64)
		if err != nil || v < 0 || (!last && v != float64(int(v))) {
			return 0, fmt.Errorf("%q: want SS, MM:SS or H:MM:SS", s)
		}
		d = d*60 + time.Duration(v*float64(time.Second))
	}
	return d, nil
}
