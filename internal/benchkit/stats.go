// Package benchkit holds what the benchmark report (cmd/benchreport) and
// the load generator (cmd/ecoute-load) share: sample statistics, a
// pseudo-terminal to time a program's first frame, an ALSA capture to time
// a program's first sound, and a reader for `go test -bench` output.
package benchkit

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Durations is a set of timings of one thing.
type Durations []time.Duration

// Quantile is the q-quantile (0 ≤ q ≤ 1) by the nearest-rank method: the
// smallest sample with at least q of the samples at or below it. 0 when
// there are no samples.
func (d Durations) Quantile(q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// Median is the 0.5 quantile.
func (d Durations) Median() time.Duration { return d.Quantile(0.5) }

// Max is the largest sample.
func (d Durations) Max() time.Duration { return d.Quantile(1) }

// Min is the smallest sample.
func (d Durations) Min() time.Duration { return d.Quantile(0) }

// Ms renders a duration in milliseconds with a precision that suits its
// size: 0.042, 0.42, 4.2, 42, 420.
func Ms(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	switch {
	case ms == 0:
		return "0"
	case ms < 0.1:
		return fmt.Sprintf("%.3f", ms)
	case ms < 10:
		return fmt.Sprintf("%.2f", ms)
	case ms < 100:
		return fmt.Sprintf("%.1f", ms)
	default:
		return fmt.Sprintf("%.0f", ms)
	}
}

// Ratio renders ours ÷ peer as "2.3×"; "—" when the peer is zero.
func Ratio(ours, peer float64) string {
	if peer == 0 || math.IsNaN(ours) || math.IsNaN(peer) {
		return "—"
	}
	r := ours / peer
	switch {
	case r < 0.1:
		return fmt.Sprintf("%.3f×", r)
	case r < 10:
		return fmt.Sprintf("%.2f×", r)
	default:
		return fmt.Sprintf("%.0f×", r)
	}
}
