package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/hajimehoshi/go-mp3"

	"github.com/ecoute/ecoute/internal/benchkit"
)

// decodeMinutes is the length of the decoded file: long enough that
// mpg123's start-up is a small part of its time.
const decodeMinutes = 10

// decodeFile concatenates the demo clips (whole MP3 files of one profile,
// no tags: a valid stream) until decodeMinutes.
func decodeFile(dir string) (string, time.Duration, error) {
	clips, err := filepath.Glob("internal/demo/audio/0*.mp3")
	if err != nil || len(clips) == 0 {
		return "", 0, fmt.Errorf("no demo clips in internal/demo/audio: %v", err)
	}
	f, err := os.Create(filepath.Join(dir, "decode.mp3"))
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	var total time.Duration
	for i := 0; total < decodeMinutes*time.Minute; i++ {
		data, err := os.ReadFile(clips[i%len(clips)])
		if err != nil {
			return "", 0, err
		}
		d, err := mp3.NewDecoder(struct{ io.Reader }{bytes.NewReader(data)})
		if err != nil {
			return "", 0, fmt.Errorf("%s: %w", clips[i%len(clips)], err)
		}
		n, err := io.Copy(io.Discard, d)
		if err != nil {
			return "", 0, fmt.Errorf("%s: %w", clips[i%len(clips)], err)
		}
		total += time.Duration(n/4) * time.Second / time.Duration(d.SampleRate())
		if _, err := f.Write(data); err != nil {
			return "", 0, err
		}
	}
	return f.Name(), total, f.Close()
}

// goMP3Decode decodes the whole file with go-mp3 from a non-seekable
// reader, as the player does, and returns the wall time.
func goMP3Decode(path string) (time.Duration, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	t0 := time.Now()
	d, err := mp3.NewDecoder(struct{ io.Reader }{f})
	if err != nil {
		return 0, err
	}
	if _, err := io.Copy(io.Discard, d); err != nil {
		return 0, err
	}
	return time.Since(t0), nil
}

func decodeSection(ctx context.Context, e *env) (*table, error) {
	mpg, err := exec.LookPath("mpg123")
	if err != nil {
		return nil, fmt.Errorf("mpg123 not installed (apt-get install mpg123): no peer")
	}
	path, audio, err := decodeFile(e.tmp)
	if err != nil {
		return nil, err
	}
	rounds := max(3, e.rounds/3)
	var ours, peer benchkit.Durations
	for range rounds {
		d, err := goMP3Decode(path)
		if err != nil {
			return nil, fmt.Errorf("go-mp3: %w", err)
		}
		ours = append(ours, d)
		t0 := time.Now()
		if out, err := exec.CommandContext(ctx, mpg, "-t", "-q", path).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("mpg123 -t: %v\n%s", err, out)
		}
		peer = append(peer, time.Since(t0))
	}
	x := func(d time.Duration) string {
		return fmt.Sprintf("%.0f× real time (%s ms)", audio.Seconds()/d.Seconds(), benchkit.Ms(d))
	}
	return &table{
		intro: fmt.Sprintf("The whole of a %.0f-minute recording (the demo clips end to end, MPEG-2 Layer III 16 kHz "+
			"mono 32 kbit/s) decoded to 16-bit PCM and thrown away, %d rounds each, alternating: go-mp3 "+
			"(github.com/hajimehoshi/go-mp3, the player's and the ingest's decoder) from a non-seekable "+
			"reader, in the harness's process, and `mpg123 -t` (decode, no output) as a process. "+
			"The player also resamples to 48 kHz, which is not counted here.", audio.Minutes(), rounds),
		header: []string{"what", "go-mp3 (ours) p50", "mpg123 -t p50", "ratio (time)", "reproduce"},
		rows: [][]string{{"decode rate", x(ours.Median()), x(peer.Median()),
			"**" + benchkit.Ratio(float64(ours.Median()), float64(peer.Median())) + "**",
			"`go run ./cmd/benchreport -only decode`"}},
	}, nil
}
