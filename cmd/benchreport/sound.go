package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/ecoute/ecoute/internal/benchkit"
)

// soundFile is what both players play: 3 s of a 440 Hz tone in the demo
// profile (MPEG-2 Layer III, 16 kHz mono, no LAME tag).
const soundFile = "player/testdata/tone440.mp3"

func soundSection(ctx context.Context, e *env) (*table, error) {
	if strings.Contains(e.tags, "nosound") {
		return nil, fmt.Errorf("built with -tags nosound (no ALSA headers): no sound device to time")
	}
	mpg, err := exec.LookPath("mpg123")
	if err != nil {
		return nil, fmt.Errorf("mpg123 not installed (apt-get install mpg123): no peer")
	}
	ecoute, err := e.bin("./cmd/ecoute")
	if err != nil {
		return nil, err
	}
	home := filepath.Join(e.tmp, "sound")
	if err := os.MkdirAll(home, 0o700); err != nil {
		return nil, err
	}
	capture, err := benchkit.NewSoundCapture(home)
	if err != nil {
		return nil, err
	}
	file, err := filepath.Abs(soundFile)
	if err != nil {
		return nil, err
	}
	lead, err := leadIn(mpg, file)
	if err != nil {
		return nil, err
	}
	players := []struct {
		name string
		cmd  func() *exec.Cmd
	}{
		{"ecoute", func() *exec.Cmd { return exec.Command(ecoute, "play", file) }},
		{"mpg123", func() *exec.Cmd { return exec.Command(mpg, "-q", file) }},
	}
	for _, a := range e.alt {
		name, path, ok := strings.Cut(a, "=")
		if !ok {
			return nil, fmt.Errorf("-also %q: want NAME=PATH", a)
		}
		players = append(players, struct {
			name string
			cmd  func() *exec.Cmd
		}{name, func() *exec.Cmd { return exec.Command(path, "play", file) }})
	}
	// A first run of each, not counted: the page cache holds both
	// binaries and the file from then on, as it does for a user's second
	// play.
	sound := map[string]benchkit.Durations{}
	data := map[string]benchkit.Durations{}
	for round := -1; round < e.rounds; round++ {
		for _, p := range players {
			rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			r, err := capture.FirstSound(rctx, p.cmd())
			cancel()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", p.name, err)
			}
			if round >= 0 {
				sound[p.name] = append(sound[p.name], r.FirstSound)
				data[p.name] = append(data[p.name], r.FirstData)
			}
		}
	}
	for _, p := range players {
		e.log("%s: %v", p.name, sound[p.name])
	}
	ours, peer := sound["ecoute"], sound["mpg123"]
	t := &table{
		intro: fmt.Sprintf("`ecoute play FILE` and `mpg123 -q FILE` on the same file (`%s`: 440 Hz, "+
			"MPEG-2 Layer III 16 kHz mono, the recordings' profile), %d rounds each, alternating, after one "+
			"uncounted run of each. Both play into ALSA's default device, set by a private `~/.asoundrc` to "+
			"the `plug` plugin (to 48 kHz 16-bit stereo) over the `file` plugin into a FIFO. The harness "+
			"reads the FIFO as a sound card would: 5 ms at a time at 48 kHz from the first byte, through a "+
			"one-page pipe (21 ms), so silence queued before the sound delays it as on a real card. "+
			"Measured from just before the process starts to the moment the first sample at or above "+
			"−60 dBFS is played. The file's own lead-in (encoder delay, decoded by mpg123) is %s ms of it, "+
			"for both.", soundFile, e.rounds, benchkit.Ms(lead)),
		header: []string{"what", "ecoute p50", "ecoute p90", "mpg123 p50", "mpg123 p90", "ratio p50", "reproduce"},
	}
	t.rows = append(t.rows, []string{"start → first sound (ms)",
		benchkit.Ms(ours.Median()), benchkit.Ms(ours.Quantile(0.9)),
		benchkit.Ms(peer.Median()), benchkit.Ms(peer.Quantile(0.9)),
		"**" + benchkit.Ratio(float64(ours.Median()), float64(peer.Median())) + "**",
		"`go run ./cmd/benchreport -only sound`"})
	od, pd := data["ecoute"], data["mpg123"]
	t.rows = append(t.rows, []string{"start → first bytes at the device (ms)",
		benchkit.Ms(od.Median()), benchkit.Ms(od.Quantile(0.9)),
		benchkit.Ms(pd.Median()), benchkit.Ms(pd.Quantile(0.9)),
		benchkit.Ratio(float64(od.Median()), float64(pd.Median())), "same run"})
	ol, pl := minus(ours, lead), minus(peer, lead)
	t.rows = append(t.rows, []string{"start → first sound, less the file's lead-in (ms)",
		benchkit.Ms(ol.Median()), benchkit.Ms(ol.Quantile(0.9)),
		benchkit.Ms(pl.Median()), benchkit.Ms(pl.Quantile(0.9)),
		benchkit.Ratio(float64(ol.Median()), float64(pl.Median())), "same run"})
	for _, p := range players[2:] {
		s, d := sound[p.name], data[p.name]
		t.rows = append(t.rows, []string{fmt.Sprintf("`%s`: start → first sound / first bytes (ms)", p.name),
			benchkit.Ms(s.Median()) + " / " + benchkit.Ms(d.Median()), benchkit.Ms(s.Quantile(0.9)) + " / " + benchkit.Ms(d.Quantile(0.9)),
			benchkit.Ms(peer.Median()), benchkit.Ms(peer.Quantile(0.9)),
			benchkit.Ratio(float64(s.Median()), float64(peer.Median())), "`-also " + p.name + "=PATH`"})
	}
	t.notes = append(t.notes, "Goal (issue 19): start → first sound ≤ 2.5× mpg123's.")
	return t, nil
}

// minus subtracts d from every sample.
func minus(s benchkit.Durations, d time.Duration) benchkit.Durations {
	out := make(benchkit.Durations, len(s))
	for i, v := range s {
		out[i] = v - d
	}
	return out
}

// leadIn is where the first sample at or above the silence threshold sits
// in the decoded file (mpg123 decoding to 16-bit at the file's rate).
func leadIn(mpg, file string) (time.Duration, error) {
	out, err := exec.Command(mpg, "-q", "-s", "-e", "s16", "-m", file).Output()
	if err != nil {
		return 0, fmt.Errorf("mpg123 -s %s: %w", file, err)
	}
	rate := 16000
	for i := 0; i+1 < len(out); i += 2 {
		v := int16(uint16(out[i]) | uint16(out[i+1])<<8)
		if v >= benchkit.SilenceThreshold || v <= -benchkit.SilenceThreshold {
			return time.Duration(i/2) * time.Second / time.Duration(rate), nil
		}
	}
	return 0, fmt.Errorf("%s: no sound in the file", file)
}
