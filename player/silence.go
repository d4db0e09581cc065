package player

import (
	"context"
	"math"
	"slices"
	"time"
)

// Gap is a run of silence in a recording.
type Gap struct {
	Start, End time.Duration
}

// defaultPeakBucket matches the backend's, for peaks computed here.
const defaultPeakBucket = 50 * time.Millisecond

// minGap is the shortest pause counted as a gap between phrases; shorter
// ones are pauses inside a sentence.
const minGap = 400 * time.Millisecond

// FindGaps finds the silences followed by speech in peaks (0..255, one per bucket). Silence is
// relative to the recording: below a tenth (-20 dB) of its typical speech
// peak, so a quiet line and a loud one both work; a floor keeps
// digital silence and line noise apart from an all-quiet file.
func FindGaps(peaks []byte, bucket time.Duration) []Gap {
	if len(peaks) == 0 || bucket <= 0 {
		return nil
	}
	sorted := slices.Clone(peaks)
	slices.Sort(sorted)
	speech := sorted[len(sorted)*9/10]
	thr := max(3, int(speech)/10)
	var gaps []Gap
	run := 0
	need := int((minGap + bucket - 1) / bucket)
	// A silence that runs to the end is not followed by speech, so the loop
	// stops before looking at it.
	for i := range peaks {
		if int(peaks[i]) <= thr {
			run++
			continue
		}
		if run >= need {
			gaps = append(gaps, Gap{Start: time.Duration(i-run) * bucket, End: time.Duration(i) * bucket})
		}
		run = 0
	}
	return gaps
}

// computePeaks decodes the whole source once, at its own rate, and keeps
// the peak of each bucket: the recording's PCM is never held, only the
// peaks.
func computePeaks(ctx context.Context, src Source, info Info, bucket time.Duration) ([]byte, error) {
	per := max(1, int(int64(info.SampleRate)*int64(bucket)/int64(time.Second)))
	var peaks []byte
	var peak float64
	n := 0
	err := decode(ctx, src, info, segment{speed: 1}, info.SampleRate, func(c chunk) bool {
		for _, s := range c.samples {
			peak = max(peak, math.Abs(s[0]), math.Abs(s[1]))
			n++
			if n == per {
				peaks = append(peaks, byte(min(255, peak*255)))
				peak, n = 0, 0
			}
		}
		return true
	})
	if n > 0 {
		peaks = append(peaks, byte(min(255, peak*255)))
	}
	return peaks, err
}
