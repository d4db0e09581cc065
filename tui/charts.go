package tui

import (
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/NimbleMarkets/ntcharts/v2/barchart"
	"github.com/NimbleMarkets/ntcharts/v2/sparkline"
	"github.com/charmbracelet/x/ansi"
)

// The dashboards' charts, drawn with ntcharts. Colour is never the only
// carrier: the selected bar is also marked by a sign in the text beside it
// (▶, ▲), so the high-contrast and colour-blind themes read the same.

// vbars draws one vertical bar per value (scaled to max) in w × h; the
// selected bar takes the selected style.
func vbars(values []float64, max float64, w, h, selected int, bar, sel lipgloss.Style) string {
	if w <= 0 || h <= 0 || len(values) == 0 {
		return strings.Repeat("\n", max0(h-1))
	}
	gap := 1
	if len(values)*2-1 > w {
		gap = 0
	}
	m := barchart.New(w, h, barchart.WithNoAxis(), barchart.WithNoAutoMaxValue(), barchart.WithMaxValue(max),
		barchart.WithBarGap(gap))
	data := make([]barchart.BarData, len(values))
	for i, v := range values {
		st := bar
		if i == selected {
			st = sel
		}
		data[i] = barchart.BarData{Values: []barchart.BarValue{{Value: v, Style: st}}}
	}
	m.PushAll(data)
	m.Draw()
	return m.View()
}

// barSlots is the column where each of n bars starts, and its width, as
// vbars lays them out in w columns (for the labels under them).
func barSlots(n, w int) (starts []int, width int) {
	if n == 0 {
		return nil, 0
	}
	gap := 1
	if n*2-1 > w {
		gap = 0
	}
	width = max(1, (w-(n-1)*gap)/n)
	for i := range n {
		starts = append(starts, i*(width+gap))
	}
	return starts, width
}

// hbar draws one horizontal bar of value (scaled to max) in w columns.
func hbar(value, max float64, w int, st lipgloss.Style) string {
	if w <= 0 {
		return ""
	}
	m := barchart.New(w, 1, barchart.WithNoAxis(), barchart.WithHorizontalBars(), barchart.WithNoAutoMaxValue(),
		barchart.WithMaxValue(max))
	m.PushAll([]barchart.BarData{{Values: []barchart.BarValue{{Value: value, Style: st}}}})
	m.Draw()
	return m.View()
}

// spark draws a one-line sparkline of values in w columns (the newest on
// the right).
func spark(values []float64, max float64, w int, st lipgloss.Style) string {
	if w <= 0 {
		return ""
	}
	m := sparkline.New(w, 1, sparkline.WithStyle(st), sparkline.WithNoAutoMaxValue(), sparkline.WithMaxValue(max))
	if len(values) > w {
		values = values[len(values)-w:]
	}
	m.PushAll(values)
	m.Draw()
	return m.View()
}

// labelsUnder writes each label under its bar, cut to the bar's width.
func labelsUnder(labels []string, w int) string {
	starts, width := barSlots(len(labels), w)
	line := []rune(strings.Repeat(" ", w))
	for i, l := range labels {
		l = ansi.Truncate(l, width, "")
		for j, r := range []rune(l) {
			if starts[i]+j < len(line) {
				line[starts[i]+j] = r
			}
		}
	}
	return string(line)
}

// markUnder puts a mark under the selected bar.
func markUnder(n, selected, w int, mark string) string {
	starts, width := barSlots(n, w)
	if selected < 0 || selected >= n {
		return strings.Repeat(" ", w)
	}
	pos := starts[selected] + (width-1)/2
	return strings.Repeat(" ", min(pos, w-1)) + mark
}

func max0(n int) int { return max(n, 0) }

// pad cuts or pads s to exactly w cells.
func pad(s string, w int) string {
	s = ansi.Truncate(s, w, "…")
	if d := w - ansi.StringWidth(s); d > 0 {
		s += strings.Repeat(" ", d)
	}
	return s
}

// padLeft right-aligns s in w cells.
func padLeft(s string, w int) string {
	s = ansi.Truncate(s, w, "…")
	if d := w - ansi.StringWidth(s); d > 0 {
		s = strings.Repeat(" ", d) + s
	}
	return s
}
