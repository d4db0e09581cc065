package e2e

import (
	"bytes"
	"encoding/binary"
	"io"
	"math"
	"os"
	"testing"

	"github.com/hajimehoshi/go-mp3"
)

// captureRate is what the player hands to the device: 48 kHz float32
// stereo (player.SampleRate).
const captureRate = 48000

// TestPlayHandsTheDecodedMP3ToTheSpeaker plays a recording with `ecoute play
// --no-tui` on a private ALSA configuration whose default device is the
// `file` plugin (into a FIFO, over the `null` device): it captures exactly
// what the player handed to the sound device. The capture must be the MP3
// as go-mp3 decodes it, resampled to 48 kHz: correlation above 0.999 at the
// best alignment, and the whole recording present.
func TestPlayHandsTheDecodedMP3ToTheSpeaker(t *testing.T) {
	const file = "../../player/testdata/sweep.mp3"
	bin := buildEcoute(t)
	st := capture(t, bin, file)
	got := make([]float64, len(st)) // left channel
	for i, s := range st {
		got[i] = s[0]
	}
	ref := decodeLeft(t, file)
	// Every third 48 kHz sample is a 16 kHz source sample, unchanged by
	// beep's Lagrange resampler: align on them.
	lag, corr := bestLag(got, ref, 3)
	t.Logf("captured %.2f s, reference %.2f s, lag %d, correlation %.5f, %d silent gaps inside the sound",
		float64(len(got))/captureRate, float64(len(ref))/16000, lag, corr, silences(got))
	if lag < 0 {
		t.Fatalf("captured %d samples: the recording (%d samples at 16 kHz) is not all there", len(got), len(ref))
	}
	if corr < 0.999 {
		t.Fatalf("capture and decoded MP3 correlate at %.4f, want > 0.999", corr)
	}
}

// decodeLeft decodes an MP3 file with go-mp3, left channel.
func decodeLeft(t *testing.T, path string) []float64 {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d, err := mp3.NewDecoder(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	pcm, err := io.ReadAll(d)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float64, len(pcm)/4)
	for i := range out {
		out[i] = float64(int16(binary.LittleEndian.Uint16(pcm[i*4:]))) / 32768
	}
	return out
}

// bestLag finds the offset in got where ref (upsampled by up, compared at
// every up-th sample) correlates best, and that correlation; -1 when got
// is too short to hold ref anywhere. A coarse pass over every offset with
// a sparse ref, then a full one around the best.
func bestLag(got, ref []float64, up int) (int, float64) {
	need := (len(ref)-1)*up + 1
	if need > len(got) {
		return -1, 0
	}
	corr := func(l, stride int) float64 {
		var sxy, sxx, syy float64
		for i := 0; i < len(ref); i += stride {
			g, r := got[l+i*up], ref[i]
			sxy += g * r
			sxx += g * g
			syy += r * r
		}
		if sxx == 0 || syy == 0 {
			return -2
		}
		return sxy / math.Sqrt(sxx*syy)
	}
	coarse, best := 0, -2.0
	for l := 0; l+need <= len(got); l++ {
		if c := corr(l, 16); c > best {
			best, coarse = c, l
		}
	}
	bestL, best := -1, -2.0
	for l := max(0, coarse-4*up); l <= coarse+4*up && l+need <= len(got); l++ {
		if c := corr(l, 1); c > best {
			best, bestL = c, l
		}
	}
	return bestL, best
}

// silences counts runs of more than 2 ms of exact zeros between the first
// and the last sound: underruns, had there been any.
func silences(x []float64) int {
	first, last := -1, -1
	for i, v := range x {
		if math.Abs(v) > 1e-3 {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	n, run := 0, 0
	for i := first; i >= 0 && i <= last; i++ {
		if x[i] == 0 {
			run++
			continue
		}
		if run > captureRate/500 {
			n++
		}
		run = 0
	}
	return n
}
