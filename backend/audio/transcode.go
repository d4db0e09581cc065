package audio

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// The canonical profile uploads are converted to: MPEG-2 Layer III, 16 kHz
// mono, 32 kbps — decoded correctly by go-mp3 and small (14 MB per hour).
const (
	CanonicalRate = 16000
	CanonicalKbps = 32
)

// Accepted says what an upload may be, for refusal messages.
func Accepted(converting bool) string {
	s := "accepted as is: MPEG-1 Layer III (32, 44.1, 48 kHz) or MPEG-2 Layer III at 16 or 24 kHz"
	if converting {
		return s + "; converted: MPEG-2.5 (8, 11.025, 12 kHz), MPEG-2 at 22.05 kHz and " + WAVFormats
	}
	return s + "; MPEG-2.5 (8, 11.025, 12 kHz), MPEG-2 at 22.05 kHz and " + WAVFormats +
		" need a transcoder (ingest.transcoder: ffmpeg or lame), or convert first with: " + convertHint
}

const convertHint = "ffmpeg -i IN -ar 16000 -ac 1 -b:a 32k OUT.mp3"

// Transcoder runs an external encoder (ffmpeg or lame) to the canonical
// profile. Both read stdin and write stdout, so no plaintext temporary file
// is made.
type Transcoder struct {
	Path string
	Kind string // "ffmpeg" or "lame"
}

// NewTranscoder resolves spec ("ffmpeg", "lame" or a path to either).
func NewTranscoder(spec string) (*Transcoder, error) {
	base := strings.ToLower(filepath.Base(spec))
	var kind string
	switch {
	case strings.HasPrefix(base, "ffmpeg"):
		kind = "ffmpeg"
	case strings.HasPrefix(base, "lame"):
		kind = "lame"
	default:
		return nil, fmt.Errorf("transcoder %q: must be ffmpeg or lame (a name on PATH or a path)", spec)
	}
	p, err := exec.LookPath(spec)
	if err != nil {
		return nil, fmt.Errorf("transcoder %q: %w", spec, err)
	}
	return &Transcoder{Path: p, Kind: kind}, nil
}

// FromMP3 converts an MP3 stream.
func (t *Transcoder) FromMP3(ctx context.Context, in io.Reader, out io.Writer) error {
	var args []string
	if t.Kind == "ffmpeg" {
		args = t.ffmpeg("-f", "mp3")
	} else {
		args = t.lame("--mp3input")
	}
	return t.run(ctx, args, in, out)
}

// FromPCM converts 16-bit little-endian mono samples at rate Hz.
func (t *Transcoder) FromPCM(ctx context.Context, in io.Reader, rate int, out io.Writer) error {
	var args []string
	if t.Kind == "ffmpeg" {
		args = t.ffmpeg("-f", "s16le", "-ar", strconv.Itoa(rate), "-ac", "1")
	} else {
		args = t.lame("-r", "-s", strconv.FormatFloat(float64(rate)/1000, 'f', -1, 64),
			"--bitwidth", "16", "--signed", "--little-endian")
	}
	return t.run(ctx, args, in, out)
}

func (t *Transcoder) ffmpeg(input ...string) []string {
	a := append([]string{"-hide_banner", "-loglevel", "error"}, input...)
	return append(a, "-i", "pipe:0", "-vn", "-map_metadata", "-1", "-ar", strconv.Itoa(CanonicalRate), "-ac", "1",
		"-c:a", "libmp3lame", "-b:a", strconv.Itoa(CanonicalKbps)+"k", "-write_xing", "0", "-id3v2_version", "0",
		"-f", "mp3", "pipe:1")
}

func (t *Transcoder) lame(input ...string) []string {
	a := append([]string{"--quiet", "-t"}, input...)
	return append(a, "-m", "m", "--resample", strconv.FormatFloat(CanonicalRate/1000.0, 'f', -1, 64),
		"-b", strconv.Itoa(CanonicalKbps), "--cbr", "-", "-")
}

func (t *Transcoder) run(ctx context.Context, args []string, in io.Reader, out io.Writer) error {
	cmd := exec.CommandContext(ctx, t.Path, args...)
	cmd.Stdin = in
	cmd.Stdout = out
	var stderr bytes.Buffer
	cmd.Stderr = &limited{w: &stderr, n: 4096}
	err := cmd.Run()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		var ee *exec.ExitError
		if errors.As(err, &ee) && msg != "" {
			return fmt.Errorf("%s refused the audio: %s", t.Kind, msg)
		}
		return fmt.Errorf("%s: %w", t.Kind, err)
	}
	return nil
}

type limited struct {
	w io.Writer
	n int
}

func (l *limited) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(len(p), l.n)
		l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}
