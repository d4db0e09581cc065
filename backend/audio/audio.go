// Package audio checks an uploaded recording and computes what playback
// needs from it, once, at ingestion: the frame index (for seeking without
// scanning) and the peaks (for drawing the waveform without decoding). It
// also repairs a damaged MP3 (see Inspect) and converts what is not stored
// as it is (see Transcoder).
package audio

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/ecoute/ecoute/internal/mp3frame"
)

// Bucket is the time one peak covers.
const Bucket = 50 * time.Millisecond

// Analysis is the result of checking one MP3 file.
type Analysis struct {
	Index mp3frame.Index
	// Peaks has one peak per Bucket, both channels together.
	Peaks []byte
	// ChannelPeaks has the peaks of each channel of a stereo (two-party)
	// recording; nil for mono.
	ChannelPeaks [][]byte
}

// ErrProfile wraps the reason a well-formed file is outside the profile
// stored as it is (see mp3frame.Index.Profile).
var ErrProfile = errors.New("unsupported MP3 profile")

// Inspect indexes the frames of an MP3 stream without decoding, leniently:
// the Index lists any damage (junk, a cut frame, frames whose audio is lost)
// for the caller to store a repaired copy (WriteRepaired). It fails when the
// stream holds no Layer III frame; a *mp3frame.FormatError then says what
// MPEG audio it holds instead, if any.
func Inspect(r io.ReaderAt, size int64) (mp3frame.Index, error) {
	ix, err := mp3frame.ScanLenient(io.NewSectionReader(r, 0, size))
	if err != nil {
		return mp3frame.Index{}, fmt.Errorf("not a valid MP3 file: %w", err)
	}
	return ix, nil
}

// Analyze is AnalyzeAt over bytes in memory.
func Analyze(data []byte) (Analysis, error) {
	return AnalyzeAt(bytes.NewReader(data), int64(len(data)))
}

// AnalyzeIndex checks that go-mp3 decodes the file's profile correctly and
// decodes it once, through ix (Inspect's index of the same bytes), to
// compute the peaks. Any error means the file must be refused.
func AnalyzeIndex(r io.ReaderAt, size int64, ix mp3frame.Index) (Analysis, error) {
	if err := ix.Profile(); err != nil {
		return Analysis{Index: ix}, fmt.Errorf("%w: %w", ErrProfile, err)
	}
	mix, ch, err := PeaksOf(io.NewSectionReader(r, 0, size), &ix, ix.SampleRate*int(Bucket/time.Millisecond)/1000)
	if err != nil {
		return Analysis{Index: ix}, err
	}
	an := Analysis{Index: ix, Peaks: mix}
	if ix.Channels == 2 {
		an.ChannelPeaks = ch[:]
	}
	return an, nil
}

// AnalyzeAt is Inspect then Analyze, refusing any damage: for files that
// must be whole (a transcoder's output, the demo's clips).
func AnalyzeAt(r io.ReaderAt, size int64) (Analysis, error) {
	ix, err := Inspect(r, size)
	if err != nil {
		return Analysis{}, err
	}
	if ix.Repaired() {
		return Analysis{}, fmt.Errorf("not a valid MP3 file: %s", ix.Damage[0])
	}
	return AnalyzeIndex(r, size, ix)
}

// IndexWhole is Inspect refusing any damage and any profile that is not
// stored as it is: the check of a file that must be whole (a transcoder's
// output), without decoding it. Uploads are checked this way; decoding
// (Waveform) waits for the sampling, for the calls kept.
func IndexWhole(r io.ReaderAt, size int64) (mp3frame.Index, error) {
	ix, err := Inspect(r, size)
	if err != nil {
		return ix, err
	}
	if ix.Repaired() {
		return ix, fmt.Errorf("not a valid MP3 file: %s", ix.Damage[0])
	}
	if err := ix.Profile(); err != nil {
		return ix, fmt.Errorf("%w: %w", ErrProfile, err)
	}
	return ix, nil
}

// Waveform decodes the frames of ix, read from r, for the peaks of every
// Bucket: both channels together, and each channel of a stereo
// recording.
func Waveform(r io.ReaderAt, size int64, ix mp3frame.Index) (peaks []byte, channels [][]byte, err error) {
	mix, ch, err := PeaksOf(io.NewSectionReader(r, 0, size), &ix, ix.SampleRate*int(Bucket/time.Millisecond)/1000)
	if err != nil {
		return nil, nil, err
	}
	if ix.Channels == 2 {
		channels = ch[:]
	}
	return mix, channels, nil
}

// WriteRepaired writes the frames of ix read from r back to back: what is
// valid of a damaged file, undecodable frames silenced, nothing else (no
// tags: they described the damaged file).
func WriteRepaired(w io.Writer, r io.ReaderAt, size int64, ix *mp3frame.Index) error {
	_, err := io.Copy(w, ix.NewFrameReader(io.NewSectionReader(r, 0, size)).Reader())
	if err != nil {
		return fmt.Errorf("write repaired audio: %w", err)
	}
	return nil
}

// Peaks decodes a whole MP3 and returns the peak of every run of
// bucketSamples samples, 0..255 of full scale, both channels together.
func Peaks(data []byte, bucketSamples int) ([]byte, error) {
	ix, err := mp3frame.ScanLenient(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("decode MP3: %w", err)
	}
	mix, _, err := PeaksOf(bytes.NewReader(data), &ix, bucketSamples)
	return mix, err
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
