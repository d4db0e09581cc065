package audio

import "time"

// Reply bounds of GetWaveform: a reply stays well under a megabyte whatever
// the length of the recording (12 hours hold 864,000 stored peaks per
// channel and 1.2 million frames at 16 kHz).
const (
	// MaxWaveformBuckets is the most peaks one reply carries per channel.
	MaxWaveformBuckets = 1 << 16
	// MaxFrameOffsets is the most frame offsets one reply carries (at most
	// 10 bytes each on the wire, usually 4 or 5).
	MaxFrameOffsets = 1 << 16
)

// Window is a stretch of a recording's peaks at some resolution.
type Window struct {
	From   time.Duration // where the first bucket starts
	Bucket time.Duration
	Peaks  []byte
	// Channels are the per-channel peaks over the same buckets, when the
	// recording has them.
	Channels [][]byte
}

// PeakWindow reduces stored peaks (one per bucket) to at most n buckets
// over [from, to) (to 0: the end). Every output bucket covers the same
// whole number of stored ones and holds their loudest: a short loud word
// still shows. n > MaxWaveformBuckets means MaxWaveformBuckets. n <= 0
// keeps the stored resolution and gives a page: at most MaxWaveformBuckets
// peaks from from (the next page starts where this one ends).
func PeakWindow(peaks []byte, channels [][]byte, bucket, from, to time.Duration, n int) Window {
	if bucket <= 0 || len(peaks) == 0 {
		return Window{Bucket: bucket}
	}
	total := len(peaks)
	i0 := min(total, int(max(0, from)/bucket))
	i1 := total
	if to > 0 {
		i1 = min(total, int((to+bucket-1)/bucket))
	}
	i1 = max(i0, i1)
	if n <= 0 {
		i1, n = min(i1, i0+MaxWaveformBuckets), MaxWaveformBuckets
	}
	n = min(n, MaxWaveformBuckets)
	m := i1 - i0
	k := max(1, (m+n-1)/n) // stored buckets per output bucket
	w := Window{From: time.Duration(i0) * bucket, Bucket: time.Duration(k) * bucket}
	w.Peaks = reduce(peaks[i0:i1], k)
	for _, ch := range channels {
		if len(ch) == total {
			w.Channels = append(w.Channels, reduce(ch[i0:i1], k))
		}
	}
	return w
}

func reduce(p []byte, k int) []byte {
	if k == 1 {
		return p
	}
	out := make([]byte, 0, (len(p)+k-1)/k)
	for i := 0; i < len(p); i += k {
		var v byte
		for _, x := range p[i:min(len(p), i+k)] {
			v = max(v, x)
		}
		out = append(out, v)
	}
	return out
}
