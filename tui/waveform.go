package tui

import (
	"strings"
	"time"

	"charm.land/lipgloss/v2"

	"github.com/ecoute/ecoute/themes"
)

// waveform draws the peaks computed at ingestion (0..255 per bucket) as
// one line of block characters, the part already played in the accent
// colour and the play head as a bar; a two-party recording gets one line
// per party, numbered as the player's party keys number them. It is
// resampled to the width on every resize, not on every frame.
type waveform struct {
	peaks  []byte
	chans  [][]byte // per party, when there are two
	bucket time.Duration
	dur    time.Duration
	width  int
	cols   [][]rune // each line's peaks resampled to its width
}

var waveBlocks = []rune(" ▁▂▃▄▅▆▇█")

// waveLabels number the lines of a two-party waveform.
var waveLabels = []string{"1 ", "2 "}

func (w *waveform) set(peaks []byte, chans [][]byte, bucket, dur time.Duration) {
	w.peaks, w.bucket, w.dur = peaks, bucket, dur
	w.chans = nil
	if len(chans) == 2 && len(chans[0]) == len(peaks) && len(chans[1]) == len(peaks) {
		w.chans = chans
	}
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

// rows is the number of lines the waveform takes.
func (w *waveform) rows() int {
	if w.empty() {
		return 0
	}
	return len(w.cols)
}

// labelW is the width of the party numbers in front of the lines.
func (w *waveform) labelW() int {
	if w.chans != nil {
		return len(waveLabels[0])
	}
	return 0
}

// lineW is the width of the peaks on a line.
func (w *waveform) lineW() int { return max(0, w.width-w.labelW()) }

func (w *waveform) resample() {
	w.cols = w.cols[:0]
	lines := [][]byte{w.peaks}
	if w.chans != nil {
		lines = w.chans
	}
	if w.lineW() <= 0 || len(w.peaks) == 0 {
		return
	}
	for _, p := range lines {
		w.cols = append(w.cols, resampleLine(p, w.lineW()))
	}
}

// resampleLine keeps each column's loudest peak, so a short loud word
// still shows on a narrow terminal.
func resampleLine(peaks []byte, width int) []rune {
	n := len(peaks)
	out := make([]rune, 0, width)
	for c := range width {
		lo, hi := c*n/width, (c+1)*n/width
		hi = max(hi, lo+1)
		var p byte
		for _, v := range peaks[lo:min(hi, n)] {
			p = max(p, v)
		}
		// Any sound at all shows at least the lowest block.
		idx := int(p) * (len(waveBlocks) - 1) / 255
		if p > 0 && idx == 0 {
			idx = 1
		}
		out = append(out, waveBlocks[idx])
	}
	return out
}

func (w *waveform) empty() bool { return len(w.cols) == 0 }

// headCol is the column of position pos, on a line's peaks.
func (w *waveform) headCol(pos time.Duration) int {
	if w.dur <= 0 || w.lineW() <= 0 {
		return 0
	}
	return max(0, min(w.lineW()-1, int(int64(pos)*int64(w.lineW())/int64(w.dur))))
}

// at is the position a click on column x (from the waveform's left edge)
// means.
func (w *waveform) at(x int) time.Duration {
	lw := w.lineW()
	if lw <= 0 {
		return 0
	}
	x = max(0, min(lw-1, x-w.labelW()))
	return time.Duration(int64(w.dur) * int64(x) / int64(lw))
}

// view renders the lines: played | head | to come.
func (w *waveform) view(st waveStyles, pos time.Duration) string {
	if w.empty() {
		return ""
	}
	h := w.headCol(pos)
	out := make([]string, len(w.cols))
	for i, cols := range w.cols {
		label := ""
		if w.chans != nil {
			label = st.label.Render(waveLabels[i])
		}
		out[i] = label + st.played.Render(string(cols[:h])) + st.head.Render("┃") + st.rest.Render(string(cols[h+1:]))
	}
	return strings.Join(out, "\n")
}

// waveStyles are the looks of the line (kept apart so a monochrome theme
// can use attributes only).
type waveStyles struct{ played, head, rest, label lipgloss.Style }

func newWaveStyles(st themes.Styles) waveStyles {
	return waveStyles{played: st.WavePlayed, head: st.WaveHead, rest: st.WaveRest, label: st.Muted}
}

// timeRuler is the line under the waveform: 0:00 on the left, the
// duration on the right.
func (w *waveform) timeRuler() string {
	l, r := fmtClock(0), fmtClock(w.dur)
	return strings.Repeat(" ", w.labelW()) + l + strings.Repeat(" ", max(1, w.lineW()-len(l)-len(r))) + r
}
