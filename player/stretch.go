package player

import (
	"math"

	"github.com/gopxl/beep/v2"
)

// Speed limits and step: 0.5× to 2× in quarter steps.
const (
	MinSpeed  = 0.5
	MaxSpeed  = 2.0
	SpeedStep = 0.25
)

// ClampSpeed rounds s to the nearest allowed speed.
func ClampSpeed(s float64) float64 {
	if math.IsNaN(s) {
		return 1
	}
	s = math.Round(s/SpeedStep) * SpeedStep
	return min(MaxSpeed, max(MinSpeed, s))
}

// WSOLA (waveform-similarity overlap-add) parameters, in time so that they
// suit any sample rate. A 30 ms window holds two periods of the lowest
// voices (about 70 Hz); the ±10 ms search finds a matching period for any
// voice above 50 Hz.
const (
	stretchWindowMs = 30
	stretchSearchMs = 10
)

// stretcher changes the tempo of a stream without changing its pitch, by
// WSOLA: it cuts the input into overlapping windowed frames taken every
// speed × hop samples, moves each one by up to ±search samples to where it
// best continues the previous frame (so periods line up and nothing
// "chops"), and overlap-adds them every hop samples.
//
// It works at the source rate, before resampling, and keeps only a few
// windows of input: memory does not grow with the recording.
type stretcher struct {
	src   beep.Streamer
	speed float64
	n     int // window length
	hs    int // synthesis hop: n/2, where Hann windows sum to one
	delta int // search tolerance
	step  int // correlation stride: 1 at 16 kHz, coarser at higher rates
	win   []float64

	in     [][2]float64 // input from absolute index inBase
	mono   []float64    // in, channels summed, for the search
	inBase int64
	srcEOF bool
	inLen  int64 // total input length, known once srcEOF

	k       int64 // next frame number
	prev    int64 // absolute input index of the previous frame
	ola     [][2]float64
	out     [][2]float64 // finished samples not yet handed out
	outBuf  [][2]float64
	flushed bool
	done    bool
	tmp     [][2]float64
}

func newStretcher(src beep.Streamer, rate int, speed float64) *stretcher {
	n := rate * stretchWindowMs / 1000
	n += n % 2
	s := &stretcher{
		src:    src,
		speed:  speed,
		n:      n,
		hs:     n / 2,
		delta:  rate * stretchSearchMs / 1000,
		step:   max(1, rate/16000),
		win:    make([]float64, n),
		ola:    make([][2]float64, n),
		outBuf: make([][2]float64, n/2),
		tmp:    make([][2]float64, 1024),
	}
	for i := range s.win {
		s.win[i] = 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(n))
	}
	return s
}

func (s *stretcher) Err() error { return s.src.Err() }

func (s *stretcher) Stream(samples [][2]float64) (int, bool) {
	filled := 0
	for filled < len(samples) {
		if len(s.out) == 0 {
			if s.done || !s.frame() {
				s.done = true
				break
			}
		}
		k := copy(samples[filled:], s.out)
		s.out = s.out[k:]
		filled += k
	}
	return filled, filled > 0
}

// fill reads input until absolute index end is buffered or the source ends.
func (s *stretcher) fill(end int64) {
	for !s.srcEOF && s.inBase+int64(len(s.in)) < end {
		n, ok := s.src.Stream(s.tmp)
		for _, v := range s.tmp[:n] {
			s.in = append(s.in, v)
			s.mono = append(s.mono, v[0]+v[1])
		}
		if !ok || n == 0 {
			s.srcEOF = true
			s.inLen = s.inBase + int64(len(s.in))
		}
	}
}

// at returns input sample i (absolute), zero outside what the source gave.
func (s *stretcher) at(i int64) ([2]float64, float64) {
	j := i - s.inBase
	if j < 0 || j >= int64(len(s.in)) {
		return [2]float64{}, 0
	}
	return s.in[j], s.mono[j]
}

// frame adds one windowed frame and moves hs finished samples to out;
// false when the input is used up.
func (s *stretcher) frame() bool {
	nominal := int64(math.Round(float64(s.k) * float64(s.hs) * s.speed))
	s.fill(nominal + int64(s.delta+s.n))
	if s.srcEOF && nominal >= s.inLen {
		// Hand out the tail of the last frame once, then stop.
		if s.k == 0 || s.flushed {
			return false
		}
		s.flushed = true
		s.out = s.outBuf[:copy(s.outBuf, s.ola[:s.hs])]
		return true
	}
	pos := nominal
	if s.k > 0 {
		pos = s.bestMatch(nominal)
	}
	for i := range s.n {
		v, _ := s.at(pos + int64(i))
		w := s.win[i]
		if s.k == 0 && i < s.hs {
			w = 1 // no frame before the first: full weight, no fade-in
		}
		s.ola[i][0] += w * v[0]
		s.ola[i][1] += w * v[1]
	}
	s.out = s.outBuf[:copy(s.outBuf, s.ola[:s.hs])]
	copy(s.ola, s.ola[s.hs:])
	clear(s.ola[s.n-s.hs:])
	s.prev = pos
	s.k++
	s.trim(int64(math.Round(float64(s.k)*float64(s.hs)*s.speed)) - int64(s.delta))
	return true
}

// bestMatch finds, within ±delta of nominal, the input position whose
// frame best resembles the natural continuation of the previous frame
// (the input right after it), by cross-correlation.
func (s *stretcher) bestMatch(nominal int64) int64 {
	target := s.prev + int64(s.hs)
	lo := max(nominal-int64(s.delta), s.inBase)
	hi := nominal + int64(s.delta)
	tj := target - s.inBase
	best, bestPos := math.Inf(-1), nominal
	for c := lo; c <= hi; c += int64(s.step) {
		cj := c - s.inBase
		var sum float64
		for i := 0; i < s.n; i += s.step {
			a, b := tj+int64(i), cj+int64(i)
			if a >= int64(len(s.mono)) || b >= int64(len(s.mono)) {
				break
			}
			sum += s.mono[a] * s.mono[b]
		}
		if sum > best {
			best, bestPos = sum, c
		}
	}
	return bestPos
}

// trim drops input before absolute index keep (and before what the next
// search's template needs), so the buffer stays a few windows long.
func (s *stretcher) trim(keep int64) {
	keep = min(keep, s.prev+int64(s.hs))
	drop := keep - s.inBase
	if drop <= 0 || drop < int64(len(s.in))/2 {
		return
	}
	drop = min(drop, int64(len(s.in)))
	s.in = append(s.in[:0], s.in[drop:]...)
	s.mono = append(s.mono[:0], s.mono[drop:]...)
	s.inBase += drop
}
