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

// The canonical profiles uploads are converted to: MPEG-2 Layer III at
// 16 kHz — decoded correctly by go-mp3 (checked against mpg123) and small.
// Mono at 32 kbps (14 MB per hour); a two-party recording (one party per
// channel) in joint stereo at 48 kbps (22 MB per hour), so that both
// parties are kept apart.
const (
	CanonicalRate       = 16000
	CanonicalKbps       = 32
	CanonicalStereoKbps = 48
)

// Accepted says what an upload may be, for refusal messages.
func Accepted(converting bool) string {
	s := "accepted as is (stored as they are): " + asIs
	if converting {
		return s + "; converted: MPEG-2.5 (8, 11.025, 12 kHz), MPEG-2 at 22.05 kHz, free-format and Layer I/II MPEG audio, " + WAVFormats
	}
	return s + "; MPEG-2.5 (8, 11.025, 12 kHz), MPEG-2 at 22.05 kHz, free-format and Layer I/II MPEG audio and " + WAVFormats +
		" need a transcoder (ingest.transcoder: ffmpeg or lame), or convert first with: " + convertHint
}

const asIs = "MPEG-1 Layer III (32, 44.1, 48 kHz) and MPEG-2 Layer III at 16 or 24 kHz (mono or stereo without intensity stereo), whole or repaired"

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

// ReadsWAV tells whether the transcoder decodes w's encoding: ffmpeg reads
// every WAV encoding it knows; lame is handed raw samples, which this
// package decodes only from PCM and G.711 (lame cannot read GSM 6.10).
func (t *Transcoder) ReadsWAV(w WAV) bool { return t.Kind == "ffmpeg" || w.Decodable() }

// FromMP3 converts an MPEG audio stream; stereo keeps two channels (two
// parties).
func (t *Transcoder) FromMP3(ctx context.Context, in io.Reader, stereo bool, out io.Writer) error {
	var args []string
	if t.Kind == "ffmpeg" {
		args = t.ffmpeg(stereo, "-f", "mp3")
	} else {
		args = t.lame(stereo, "--mp3input")
	}
	return t.run(ctx, args, in, out)
}

// FromWAV converts a whole WAV file (see WAV.NormalizedWAV); ffmpeg only.
func (t *Transcoder) FromWAV(ctx context.Context, in io.Reader, stereo bool, out io.Writer) error {
	if t.Kind != "ffmpeg" {
		return errors.New("lame reads raw samples, not WAV files: use FromPCM")
	}
	return t.run(ctx, t.ffmpeg(stereo, "-f", "wav"), in, out)
}

// FromPCM converts 16-bit little-endian samples at rate Hz, in channels
// channels (1, or 2 for two parties).
func (t *Transcoder) FromPCM(ctx context.Context, in io.Reader, rate, channels int, out io.Writer) error {
	stereo := channels == 2
	var args []string
	if t.Kind == "ffmpeg" {
		args = t.ffmpeg(stereo, "-f", "s16le", "-ar", strconv.Itoa(rate), "-ac", strconv.Itoa(channels))
	} else {
		// lame reads raw input as stereo unless told the mode is mono.
		args = t.lame(stereo, "-r", "-s", strconv.FormatFloat(float64(rate)/1000, 'f', -1, 64),
			"--bitwidth", "16", "--signed", "--little-endian")
	}
	return t.run(ctx, args, in, out)
}

func (t *Transcoder) ffmpeg(stereo bool, input ...string) []string {
	ch, kbps := "1", CanonicalKbps
	if stereo {
		ch, kbps = "2", CanonicalStereoKbps
	}
	a := append([]string{"-hide_banner", "-loglevel", "error"}, input...)
	a = append(a, "-i", "pipe:0", "-vn", "-map_metadata", "-1", "-ar", strconv.Itoa(CanonicalRate), "-ac", ch,
		"-c:a", "libmp3lame", "-b:a", strconv.Itoa(kbps)+"k", "-write_xing", "0", "-id3v2_version", "0")
	if stereo {
		a = append(a, "-joint_stereo", "1")
	}
	return append(a, "-f", "mp3", "pipe:1")
}

func (t *Transcoder) lame(stereo bool, input ...string) []string {
	mode, kbps := "m", CanonicalKbps
	if stereo {
		mode, kbps = "j", CanonicalStereoKbps
	}
	a := append([]string{"--quiet", "-t"}, input...)
	return append(a, "-m", mode, "--resample", strconv.FormatFloat(CanonicalRate/1000.0, 'f', -1, 64),
		"-b", strconv.Itoa(kbps), "--cbr", "-", "-")
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
