// Package audio checks an uploaded MP3 and computes what playback needs from
// it, once, at ingestion: the frame index (for seeking without scanning) and
// the peaks (for drawing the waveform without decoding).
package audio

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/ecoute/ecoute/internal/mp3frame"
	"github.com/hajimehoshi/go-mp3"
)

// Bucket is the time one peak covers.
const Bucket = 50 * time.Millisecond

// Analysis is the result of checking one MP3 file.
type Analysis struct {
	Index mp3frame.Index
	Peaks []byte // one per Bucket
}

// ErrProfile wraps the reason a well-formed file is outside the accepted
// profile (see mp3frame.CheckProfile).
var ErrProfile = errors.New("unsupported MP3 profile")

// Analyze indexes the frames of data, checks that go-mp3 decodes that profile
// correctly, and decodes it once to compute peaks. Any error means the file
// must be refused.
func Analyze(data []byte) (Analysis, error) {
	return AnalyzeAt(bytes.NewReader(data), int64(len(data)))
}

// AnalyzeAt is Analyze over random-access bytes (an encrypted blob being
// ingested): two sequential passes, never the whole file in memory.
func AnalyzeAt(r io.ReaderAt, size int64) (Analysis, error) {
	ix, err := mp3frame.Scan(io.NewSectionReader(r, 0, size))
	if err != nil {
		return Analysis{}, fmt.Errorf("not a valid MP3 file: %w", err)
	}
	if err := mp3frame.CheckProfile(ix.Header()); err != nil {
		return Analysis{}, fmt.Errorf("%w: %w", ErrProfile, err)
	}
	peaks, err := PeaksFrom(io.NewSectionReader(r, 0, size), ix.SampleRate*int(Bucket/time.Millisecond)/1000)
	if err != nil {
		return Analysis{}, err
	}
	return Analysis{Index: ix, Peaks: peaks}, nil
}

// Peaks decodes data and returns the peak of every run of bucketSamples
// samples, 0..255 of full scale, both channels together.
func Peaks(data []byte, bucketSamples int) ([]byte, error) {
	return PeaksFrom(bytes.NewReader(data), bucketSamples)
}

// PeaksFrom is Peaks over a stream.
func PeaksFrom(r io.Reader, bucketSamples int) ([]byte, error) {
	if bucketSamples <= 0 {
		return nil, errors.New("bucket must hold at least one sample")
	}
	// Hide any Seeker: go-mp3 would scan the whole file again to learn its
	// length, which mp3frame.Scan already did.
	dec, err := mp3.NewDecoder(struct{ io.Reader }{r})
	if err != nil {
		return nil, fmt.Errorf("decode MP3: %w", err)
	}
	var out []byte
	buf := make([]byte, 64<<10) // go-mp3 writes 16-bit little-endian stereo
	var peak, n int
	for {
		k, err := dec.Read(buf)
		for i := 0; i+3 < k; i += 4 {
			l := abs16(int16(uint16(buf[i]) | uint16(buf[i+1])<<8))
			r := abs16(int16(uint16(buf[i+2]) | uint16(buf[i+3])<<8))
			peak = max(peak, l, r)
			n++
			if n == bucketSamples {
				out = append(out, scale(peak))
				peak, n = 0, 0
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("decode MP3: %w", err)
		}
	}
	if n > 0 {
		out = append(out, scale(peak))
	}
	if len(out) == 0 {
		return nil, errors.New("decode MP3: no audio")
	}
	return out, nil
}

func abs16(v int16) int {
	if v < 0 {
		return -int(v)
	}
	return int(v)
}

func scale(p int) byte { return byte(min(255, p*255/32767)) }

// Rebucket turns peaks computed per frame into peaks per Bucket, taking the
// maximum of the frames each bucket overlaps. The demo uses it to compose a
// call's waveform from clips decoded once.
func Rebucket(framePeaks []byte, samplesPerFrame, sampleRate int) []byte {
	if len(framePeaks) == 0 || sampleRate == 0 {
		return nil
	}
	bucket := int64(sampleRate) * int64(Bucket/time.Millisecond) / 1000
	total := int64(len(framePeaks)) * int64(samplesPerFrame)
	nb := (total + bucket - 1) / bucket
	out := make([]byte, nb)
	for b := int64(0); b < nb; b++ {
		first := b * bucket / int64(samplesPerFrame)
		last := min(((b+1)*bucket-1)/int64(samplesPerFrame), int64(len(framePeaks)-1))
		var p byte
		for f := first; f <= last; f++ {
			p = max(p, framePeaks[f])
		}
		out[b] = p
	}
	return out
}
