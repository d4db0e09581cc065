// Package conformance loads the ISO/IEC 11172-4 and 13818-4 Layer III
// conformance streams (with minimp3's robustness streams) kept in
// testdata/conformance/mp3, and compares a decode with their reference
// decodes. Tests use it to hold the audio path to material nobody here
// wrote.
package conformance

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"

	"github.com/ecoute/ecoute/internal/mp3frame"
	"github.com/gopxl/beep/v2"
)

// Dir is the streams' directory, found from this source file so that any
// package's test can use it.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "conformance", "mp3")
}

// Stream is one conformance stream and its reference decode.
type Stream struct {
	Name string
	Bit  []byte
	// Ref is the reference decode: signed 16-bit samples, each decoded
	// frame with its own channel count (a stream may change mode).
	Ref []int16
	// NoRef: the stream comes without a reference decode (a fuzzing
	// stream: nothing to match, only not to crash on).
	NoRef bool
}

// Streams loads every stream of dir, sorted by name.
func Streams(dir string) ([]Stream, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.bit"))
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no .bit stream in %s", dir)
	}
	sort.Strings(names)
	var out []Stream
	for _, n := range names {
		bit, err := os.ReadFile(n)
		if err != nil {
			return nil, err
		}
		base := strings.TrimSuffix(n, ".bit")
		ref, err := LoadRef(base)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		out = append(out, Stream{Name: filepath.Base(base), Bit: bit, Ref: ref, NoRef: err != nil})
	}
	return out, nil
}

// LoadRef reads BASE.pcm, or BASE.pcm.dz (see EncodeRef) when the raw file
// is not there.
func LoadRef(base string) ([]int16, error) {
	if raw, err := os.ReadFile(base + ".pcm"); err == nil {
		out := make([]int16, len(raw)/2)
		for i := range out {
			out[i] = int16(binary.LittleEndian.Uint16(raw[2*i:]))
		}
		return out, nil
	}
	f, err := os.Open(base + ".pcm.dz")
	if err != nil {
		return nil, fmt.Errorf("reference of %s: %w", filepath.Base(base), err)
	}
	defer f.Close()
	return DecodeRef(f)
}

// EncodeRef compresses a reference decode losslessly, to keep the
// repository small: each sample minus the previous one, zigzag-coded as a
// varint, the whole gzipped (half the size of gzipping the samples).
func EncodeRef(w io.Writer, samples []int16) error {
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(zw)
	var buf [binary.MaxVarintLen32]byte
	var prev int32
	for _, s := range samples {
		d := int32(s) - prev
		prev = int32(s)
		n := binary.PutUvarint(buf[:], uint64(uint32(d<<1)^uint32(d>>31)))
		if _, err := bw.Write(buf[:n]); err != nil {
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return zw.Close()
}

// DecodeRef is the inverse of EncodeRef.
func DecodeRef(r io.Reader) ([]int16, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReader(zr)
	var out []int16
	var prev int32
	for {
		z, err := binary.ReadUvarint(br)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reference: %w", err)
		}
		d := int32(uint32(z)>>1) ^ -int32(z&1)
		prev += d
		out = append(out, int16(prev))
	}
}

// Layout returns the channel count of each audio frame of a stream, as the
// lenient scan indexes them, and the frames it marks silenced.
func Layout(bit []byte) (channels []int, ix mp3frame.Index, err error) {
	ix, err = mp3frame.ScanLenient(bytes.NewReader(bit))
	if err != nil {
		return nil, ix, err
	}
	channels = make([]int, len(ix.Offsets))
	for i, off := range ix.Offsets {
		h, err := mp3frame.ParseHeader(bit[off:])
		if err != nil {
			return nil, ix, fmt.Errorf("frame %d: %w", i, err)
		}
		channels[i] = h.Channels
	}
	return channels, ix, nil
}

// Stereo spreads a reference over two channels, frame by frame, as the
// player plays it (a mono frame on both): frames lists the channel count of
// each frame the reference holds, spf their samples.
func Stereo(ref []int16, frames []int, spf int) [][2]float64 {
	out := make([][2]float64, 0, len(frames)*spf)
	i := 0
	for _, ch := range frames {
		for range spf {
			if i+ch > len(ref) {
				return out
			}
			l := float64(ref[i]) / 32768
			r := l
			if ch == 2 {
				r = float64(ref[i+1]) / 32768
			}
			out = append(out, [2]float64{l, r})
			i += ch
		}
	}
	return out
}

// RefFrames lists the channel counts of the frames a reference decoder
// outputs: every indexed frame but the silenced ones (minimp3 outputs
// nothing for a frame whose reservoir is lost or whose side information is
// invalid, where the player plays silence).
func RefFrames(channels []int, silenced []int) []int {
	var out []int
	for i, ch := range channels {
		if !slices.Contains(silenced, i) {
			out = append(out, ch)
		}
	}
	return out
}

// DropFrames removes the samples of the given frames from a decode at the
// stream's own rate (spf samples per frame), so that it lines up with a
// reference that has no output for them.
func DropFrames(got [][2]float64, frames []int, spf int) [][2]float64 {
	if len(frames) == 0 {
		return got
	}
	out := make([][2]float64, 0, len(got))
	for i := 0; i*spf < len(got); i++ {
		if slices.Contains(frames, i) {
			continue
		}
		out = append(out, got[i*spf:min(len(got), (i+1)*spf)]...)
	}
	return out
}

// Match is how closely a decode follows a reference.
type Match struct {
	Lag int // samples of got before ref's first one
	// SNR is the reference's power over the difference's, in dB, over the
	// samples both have; Corr is their correlation.
	SNR, Corr float64
	// Covered is the share of the reference that got holds after Lag.
	Covered float64
	// MaxErr is the largest difference, full scale 1.
	MaxErr float64
}

// Good tells whether a decode matches its reference: it holds all of it,
// and differs by less than a 16-bit decoder's rounding (a few steps), or
// by noise at least 40 dB under the signal.
func (m Match) Good() bool {
	return m.Covered >= 0.999 && (m.SNR >= 40 || m.MaxErr <= 4.0/32768)
}

func (m Match) String() string {
	return fmt.Sprintf("SNR %.1f dB, correlation %.5f, largest difference %.0f/32768, %.1f%% of the reference, lag %d",
		m.SNR, m.Corr, m.MaxErr*32768, 100*m.Covered, m.Lag)
}

// Compare aligns got on ref (both at the same rate; got may start up to
// maxLag samples later or earlier) at the lag of best correlation and
// measures the match over the samples both hold.
func Compare(got, ref [][2]float64, maxLag int) Match {
	return CompareExcept(got, ref, maxLag, nil)
}

// CompareExcept is Compare leaving out of the measure the reference samples
// for which skip is true (frames a reference decoder dropped and the player
// plays as silence).
func CompareExcept(got, ref [][2]float64, maxLag int, skip func(i int) bool) Match {
	if m := measure(got, ref, 0, skip); m.Good() {
		return m // in step: no need to look further (nor to be fooled by noise)
	}
	best := Match{SNR: math.Inf(-1), Corr: -2}
	n := min(len(ref), 1<<15) // the alignment search looks at the start
	enough := min(len(ref), len(got)) * 95 / 100
	for lag := -maxLag; lag <= maxLag; lag++ {
		if overlap(got, ref, lag) < enough {
			continue
		}
		c := corr(got, ref, lag, n, 4)
		if c > best.Corr {
			best.Corr, best.Lag = c, lag
		}
	}
	return measure(got, ref, best.Lag, skip)
}

// corr correlates got[lag+i] with ref[i] over i < n, every stride-th sample.
func corr(got, ref [][2]float64, lag, n, stride int) float64 {
	var sxy, sxx, syy float64
	for i := 0; i < n; i += stride {
		j := i + lag
		if j < 0 || j >= len(got) || i >= len(ref) {
			continue
		}
		for c := range 2 {
			sxy += got[j][c] * ref[i][c]
			sxx += got[j][c] * got[j][c]
			syy += ref[i][c] * ref[i][c]
		}
	}
	if sxx == 0 || syy == 0 {
		if sxx == syy && overlap(got, ref, lag) > 0 {
			return 1 // both silent
		}
		return -1
	}
	return sxy / math.Sqrt(sxx*syy)
}

// overlap is how many samples of ref got holds at lag.
func overlap(got, ref [][2]float64, lag int) int {
	return max(0, min(len(ref), len(got)-lag)-max(0, -lag))
}

func measure(got, ref [][2]float64, lag int, skip func(int) bool) Match {
	m := Match{Lag: lag}
	var sig, noise, sxy, sxx, syy float64
	covered := 0
	for i := range ref {
		j := i + lag
		if j < 0 || j >= len(got) {
			continue
		}
		if skip != nil && skip(i) {
			covered++
			continue
		}
		covered++
		for c := range 2 {
			r, g := ref[i][c], got[j][c]
			d := g - r
			sig += r * r
			noise += d * d
			sxy += g * r
			sxx += g * g
			syy += r * r
			m.MaxErr = max(m.MaxErr, math.Abs(d))
		}
	}
	if len(ref) > 0 {
		m.Covered = float64(covered) / float64(len(ref))
	}
	switch {
	case noise == 0:
		m.SNR = math.Inf(1)
	case sig == 0:
		m.SNR = math.Inf(-1)
	default:
		m.SNR = 10 * math.Log10(sig/noise)
	}
	switch {
	case sxx == 0 && syy == 0:
		m.Corr = 1
	case sxx == 0 || syy == 0:
		m.Corr = 0
	default:
		m.Corr = sxy / math.Sqrt(sxx*syy)
	}
	return m
}

// Resample converts samples from one rate to another with the resampler
// the player uses (beep's Lagrange interpolation, quality 3): a decode that
// matches a reference at the source rate matches the reference resampled
// this way at the output rate.
func Resample(x [][2]float64, from, to, quality int) [][2]float64 {
	if from == to {
		return x
	}
	rs := beep.ResampleRatio(quality, float64(from)/float64(to), &sliceStreamer{s: x})
	out := make([][2]float64, 0, len(x)*to/from+16)
	buf := make([][2]float64, 4096)
	for {
		n, ok := rs.Stream(buf)
		out = append(out, buf[:n]...)
		if !ok || n < len(buf) {
			return out
		}
	}
}

type sliceStreamer struct{ s [][2]float64 }

func (s *sliceStreamer) Stream(samples [][2]float64) (int, bool) {
	if len(s.s) == 0 {
		return 0, false
	}
	n := copy(samples, s.s)
	s.s = s.s[n:]
	return n, true
}

func (s *sliceStreamer) Err() error { return nil }

// WithSilence spreads a reference over every frame of a stream, as the
// player plays it: frames lists each frame's channel count, silenced the
// frames the reference decoder output nothing for, which the player plays
// as silence.
func WithSilence(ref []int16, frames []int, silenced []int, spf int) [][2]float64 {
	out := make([][2]float64, 0, len(frames)*spf)
	kept := Stereo(ref, RefFrames(frames, silenced), spf)
	for i := range frames {
		if slices.Contains(silenced, i) {
			out = append(out, make([][2]float64, spf)...)
			continue
		}
		n := min(spf, len(kept))
		out = append(out, kept[:n]...)
		kept = kept[n:]
	}
	return out
}
