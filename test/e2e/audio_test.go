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
	// A player starved of CPU by a busy machine lets the device play a run
	// of silence and then goes on where it was (an underrun): compare each
	// piece of sound between such runs on its own. Every third 48 kHz sample
	// is a 16 kHz source sample, unchanged by beep's Lagrange resampler:
	// align on them.
	pieces := soundPieces(got)
	if len(pieces) == 0 {
		t.Fatalf("captured %d samples and no sound", len(got))
	}
	covered := make([]bool, len(ref))
	prevEnd := 0
	for k, p := range pieces {
		off, phase, corr := pieceLag(got[p[0]:p[1]], ref, 3)
		n := (p[1] - p[0] - phase + 2) / 3
		t.Logf("piece %d: captured %.3f s at %.3f s, source %.3f s from %.3f s, correlation %.5f",
			k, float64(p[1]-p[0])/captureRate, float64(p[0])/captureRate, float64(n)/16000, float64(off)/16000, corr)
		if corr < 0.999 {
			t.Fatalf("piece %d of the capture and the decoded MP3 correlate at %.4f, want > 0.999", k, corr)
		}
		if off+2 < prevEnd {
			t.Fatalf("piece %d of the capture replays the source from %.3f s, already heard up to %.3f s", k, float64(off)/16000, float64(prevEnd)/16000)
		}
		prevEnd = off + n
		for i := off; i < off+n && i < len(ref); i++ {
			covered[i] = true
		}
	}
	missing := 0
	for i, r := range ref {
		if !covered[i] && math.Abs(r) > 1e-3 {
			missing++
		}
	}
	t.Logf("captured %.2f s in %d pieces, reference %.2f s, %d audible source samples missing",
		float64(len(got))/captureRate, len(pieces), float64(len(ref))/16000, missing)
	if missing > 0 {
		t.Fatalf("%d audible samples of the recording (%d at 16 kHz) never reached the device", missing, len(ref))
	}
}

// soundPieces splits a capture at its runs of exact silence longer than a
// millisecond (and drops silence at both ends): the [start, end) of each
// piece of sound at least 10 ms long.
func soundPieces(x []float64) [][2]int {
	const minRun, minPiece = captureRate / 1000, captureRate / 100
	var out [][2]int
	start, run := -1, 0
	flush := func(end int) {
		if start >= 0 && end-start >= minPiece {
			out = append(out, [2]int{start, end})
		}
		start = -1
	}
	for i, v := range x {
		if v == 0 {
			run++
			if run > minRun {
				flush(i - run + 1)
			}
			continue
		}
		if start < 0 {
			start = i
		}
		run = 0
	}
	flush(len(x) - run)
	return out
}

// pieceLag finds where a piece of the capture lies in ref (the capture is
// upsampled by up): the offset in ref, the phase in the piece of the
// sample that is ref's, and the correlation there. A coarse pass over
// every offset with a sparse piece, then a full one around the best.
func pieceLag(piece, ref []float64, up int) (off, phase int, best float64) {
	corr := func(o, p, stride int) float64 {
		var sxy, sxx, syy float64
		for i := 0; p+i*up < len(piece) && o+i < len(ref); i += stride {
			g, r := piece[p+i*up], ref[o+i]
			sxy += g * r
			sxx += g * g
			syy += r * r
		}
		if sxx == 0 || syy == 0 {
			return -2
		}
		return sxy / math.Sqrt(sxx*syy)
	}
	n := len(piece) / up
	best = -2
	for p := range up {
		for o := 0; o+n/2 <= len(ref); o++ {
			if c := corr(o, p, 16); c > best {
				best, off, phase = c, o, p
			}
		}
	}
	coarse := off
	best = -2
	for p := range up {
		for o := max(0, coarse-8); o <= coarse+8 && o+n/2 <= len(ref); o++ {
			if c := corr(o, p, 1); c > best {
				best, off, phase = c, o, p
			}
		}
	}
	return off, phase, best
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
