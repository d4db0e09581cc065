package tui

import (
	"strings"
	"time"

	"charm.land/lipgloss/v2"

	"github.com/ecoute/ecoute/themes"
)

// waveform draws the peaks computed at ingestion (0..255 per bucket) as
// one line of block characters, the part already played in the accent
// colour and the play head as a bar. It is resampled to the width on every
// resize, not on every frame.
type waveform struct {
	peaks  []byte
	bucket time.Duration
	dur    time.Duration
	width  int
	cols   []rune // the peaks resampled to width
}

var waveBlocks = []rune(" ▁▂▃▄▅▆▇█")

func (w *waveform) set(peaks []byte, bucket, dur time.Duration) {
	w.peaks, w.bucket, w.dur = peaks, bucket, dur
	if w.dur <= 0 && bucket > 0 {
		w.dur = time.Duration(len(peaks)) * bucket
	}
	w.resample()
}

func (w *waveform) SetWidth(width int) {
	if width != w.width {
		w.width = width
		w.resample()
	}
}

// resample keeps each column's loudest peak, so a short loud word still
// shows on a narrow terminal.
func (w *waveform) resample() {
	w.cols = w.cols[:0]
	if w.width <= 0 || len(w.peaks) == 0 {
		return
	}
	n := len(w.peaks)
	for c := range w.width {
		lo, hi := c*n/w.width, (c+1)*n/w.width
		hi = max(hi, lo+1)
		var p byte
		for _, v := range w.peaks[lo:min(hi, n)] {
			p = max(p, v)
		}
		// Any sound at all shows at least the lowest block.
		idx := int(p) * (len(waveBlocks) - 1) / 255
		if p > 0 && idx == 0 {
			idx = 1
		}
		w.cols = append(w.cols, waveBlocks[idx])
	}
}

func (w *waveform) empty() bool { return len(w.cols) == 0 }

// headCol is the column of position pos.
func (w *waveform) headCol(pos time.Duration) int {
	if w.dur <= 0 || w.width <= 0 {
		return 0
	}
	return max(0, min(w.width-1, int(int64(pos)*int64(w.width)/int64(w.dur))))
}

// at is the position a click on column x means.
func (w *waveform) at(x int) time.Duration {
	if w.width <= 0 {
		return 0
	}
	x = max(0, min(w.width-1, x))
	return time.Duration(int64(w.dur) * int64(x) / int64(w.width))
}

// view renders the line: played | head | to come.
func (w *waveform) view(st waveStyles, pos time.Duration) string {
	if w.empty() {
		return ""
	}
	h := w.headCol(pos)
	return st.played.Render(string(w.cols[:h])) + st.head.Render("┃") + st.rest.Render(string(w.cols[h+1:]))
}

// waveStyles are the three looks of the line (kept apart so a monochrome
// theme can use attributes only).
type waveStyles struct{ played, head, rest lipgloss.Style }

func newWaveStyles(st themes.Styles) waveStyles {
	return waveStyles{played: st.WavePlayed, head: st.WaveHead, rest: st.WaveRest}
}

// timeRuler is the line under the waveform: 0:00 on the left, the
// duration on the right.
func (w *waveform) timeRuler() string {
	l, r := fmtClock(0), fmtClock(w.dur)
	return l + strings.Repeat(" ", max(1, w.width-len(l)-len(r))) + r
}
