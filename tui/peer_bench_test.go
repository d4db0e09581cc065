package tui

import (
	"slices"
	"testing"
	"time"

	"charm.land/bubbles/v2/table"
	tea "charm.land/bubbletea/v2"
)

// stockTable is the stock Bubbles v2 table holding the same rows as the
// calls screen of a, with the same columns, widths and number of visible
// rows: what an application built on the stock component would render.
func stockTable(b *testing.B, a *App) table.Model {
	b.Helper()
	s := a.top().(*callsScreen)
	ws := s.list.widths()
	var cols []table.Column
	var keep []int
	for i, c := range s.cols {
		if ws[i] > 0 {
			cols = append(cols, table.Column{Title: s.c.T(c.title), Width: ws[i]})
			keep = append(keep, i)
		}
	}
	rows := make([]table.Row, len(s.list.rows))
	for r, call := range s.list.rows {
		row := make(table.Row, len(keep))
		for k, i := range keep {
			row[k] = s.cols[i].cell(call, s.c.loc())
		}
		rows[r] = row
	}
	t := table.New(table.WithColumns(cols), table.WithRows(rows), table.WithFocused(true), table.WithWidth(s.width))
	// SetHeight counts the header: grow it until the body shows as many
	// rows as the calls screen does.
	t.SetHeight(s.bodyRows())
	t.SetHeight(2*s.bodyRows() - t.Height())
	if t.Height() != s.bodyRows() {
		b.Fatalf("stock table shows %d rows, the calls screen %d", t.Height(), s.bodyRows())
	}
	return t
}

// BenchmarkKeypressVsBubblesTable times key → next frame on the calls
// screen (App.Update then the full App.View: title, filter line, header,
// rows, footer) and, alternately in the same loop, on the stock Bubbles v2
// table with the same 100,000 rows at the same size (Update then View).
// It reports the median of each (ours-µs, bubbles-µs) and their ratio.
func BenchmarkKeypressVsBubblesTable(b *testing.B) {
	keys := []struct {
		name string
		msg  func(i int) tea.KeyPressMsg
	}{
		{"down", func(int) tea.KeyPressMsg { return tea.KeyPressMsg{Code: tea.KeyDown} }},
		{"pgdn", func(int) tea.KeyPressMsg { return tea.KeyPressMsg{Code: tea.KeyPgDown} }},
		{"end-home", func(i int) tea.KeyPressMsg {
			if i%2 == 1 {
				return tea.KeyPressMsg{Code: 'g', Text: "g"}
			}
			return tea.KeyPressMsg{Code: 'G', Text: "G"}
		}},
	}
	for _, k := range keys {
		b.Run(k.name, func(b *testing.B) {
			a := loadedApp(b)
			s := a.top().(*callsScreen)
			t := stockTable(b, a)
			mid := benchCalls / 2
			s.list.cursor = mid
			s.list.clamp()
			t.SetCursor(mid)
			var ours, peer []time.Duration
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if k.name != "end-home" && s.list.cursor >= benchCalls-200 {
					s.list.cursor = mid
					s.list.clamp()
					t.SetCursor(mid)
				}
				msg := k.msg(i)
				t0 := time.Now()
				a.Update(msg)
				_ = a.View()
				t1 := time.Now()
				t, _ = t.Update(msg)
				_ = t.View()
				t2 := time.Now()
				ours = append(ours, t1.Sub(t0))
				peer = append(peer, t2.Sub(t1))
			}
			b.StopTimer()
			if s.list.cursor != t.Cursor() {
				b.Fatalf("cursors differ after the same keys: calls screen %d, stock table %d", s.list.cursor, t.Cursor())
			}
			o, p := median(ours), median(peer)
			b.ReportMetric(float64(o)/1e3, "ours-µs")
			b.ReportMetric(float64(p)/1e3, "bubbles-µs")
			b.ReportMetric(float64(o)/float64(p), "ours/bubbles")
		})
	}
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}
