package tui

import (
	"slices"
	"strings"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/ecoute/ecoute/internal/i18n"
	"github.com/ecoute/ecoute/themes"
)

// The list component: the one table of the console. The calls, the
// evaluations, the audit trail and the accounts are each a list of rows
// with columns that give way on a narrow terminal; the component keeps the
// cursor and the scroll, the pages loaded and whether more are coming,
// draws only the visible rows, and answers the keys and the mouse the same
// way on every screen. What a screen adds is its columns, how it fetches a
// page, and what enter does.

// listColumn is one column. width is fixed when set; 0 shares what is left
// by the content's needs. drop orders the columns given up when the
// terminal is too narrow: the highest first; 0 is never dropped.
type listColumn[T any] struct {
	title string
	width int
	drop  int
	right bool
	cell  func(T) string
}

// list is a table of T with a cursor, paged from the server.
type list[T any] struct {
	cols  []listColumn[T]
	rows  []T
	wants []int // content width per column, from the rows loaded

	cursor, offset int
	width, height  int // height: the header, the rows and the footer

	next    string // the next page's token; "" when all are loaded
	done    bool   // the last page has arrived
	loading bool
	err     string
	// prefetch: the next page is asked for when the cursor comes within
	// this many rows of the last one loaded; 0 loads no further pages.
	prefetch int

	empty       string // shown when there are no rows
	loadingText string // shown while the first page comes
}

// minFlex is the narrowest a shared-width column may get before columns
// are dropped.
const minFlex = 10

func newList[T any](c *Common, cols []listColumn[T], empty i18n.Key, prefetch int) *list[T] {
	return &list[T]{cols: cols, empty: c.T(empty), loadingText: c.T(listLoading), prefetch: prefetch}
}

// reset forgets the rows (a new filter, order or reload).
func (l *list[T]) reset() {
	l.rows, l.wants, l.next, l.done, l.cursor, l.offset, l.err = nil, nil, "", false, 0, 0, ""
}

// setRows replaces the rows (a list that comes in one answer).
func (l *list[T]) setRows(rows []T) {
	l.rows, l.wants = nil, nil
	l.add(rows, "")
	l.cursor = max(0, min(l.cursor, len(l.rows)-1))
	l.clamp()
}

// add appends a page; next is the token of the page after it.
func (l *list[T]) add(rows []T, next string) {
	l.loading, l.err = false, ""
	l.rows = append(l.rows, rows...)
	l.measure(rows)
	l.next, l.done = next, next == ""
	l.clamp()
}

// failed records a page that did not come.
func (l *list[T]) failed(why string) { l.loading, l.err = false, why }

// failedOn records err, if any, as the reason the page did not come, and
// says whether it did fail.
func (l *list[T]) failedOn(err error, c *Common) bool {
	if err == nil {
		return false
	}
	l.failed(c.explain(err))
	return true
}

// selected is the row under the cursor.
func (l *list[T]) selected() (T, bool) {
	if l.cursor < len(l.rows) {
		return l.rows[l.cursor], true
	}
	var zero T
	return zero, false
}

// wantsMore tells whether the next page should be asked for now.
func (l *list[T]) wantsMore() bool {
	return l.prefetch > 0 && !l.loading && !l.done && l.next != "" && l.cursor >= len(l.rows)-l.prefetch
}

func (l *list[T]) setSize(w, h int) {
	l.width, l.height = w, h
	l.clamp()
}

// bodyRows is how many rows fit under the header (and its rule) and above
// the footer.
func (l *list[T]) bodyRows() int { return max(1, l.height-3) }

func (l *list[T]) clamp() {
	n := l.bodyRows()
	l.cursor = max(0, min(l.cursor, len(l.rows)-1))
	if l.cursor < l.offset {
		l.offset = l.cursor
	}
	if l.cursor >= l.offset+n {
		l.offset = l.cursor - n + 1
	}
	l.offset = max(0, min(l.offset, max(0, len(l.rows)-n)))
}

// move moves the cursor by d rows.
func (l *list[T]) move(d int) {
	if len(l.rows) == 0 {
		return
	}
	l.cursor += d
	l.clamp()
}

// moveKey moves for one of the moving keys; ok is false for any other key.
func (l *list[T]) moveKey(msg tea.KeyPressMsg, k CallsKeys) bool {
	switch {
	case on(msg, k.Up):
		l.move(-1)
	case on(msg, k.Down):
		l.move(1)
	case on(msg, k.PageUp):
		l.move(-l.bodyRows())
	case on(msg, k.PageDown):
		l.move(l.bodyRows())
	case on(msg, k.Top):
		l.move(-len(l.rows))
	case on(msg, k.Bottom):
		l.move(len(l.rows))
	default:
		return false
	}
	return true
}

// listClick says what a click on the list meant.
type listClick int

const (
	clickNone   listClick = iota
	clickHeader           // on the column titles (column under x: columnAt)
	clickSelect           // moved the cursor to the row
	clickOpen             // on the row already under the cursor
)

// click handles a left click at (x, y), y counted from the list's top.
func (l *list[T]) click(m tea.Mouse) listClick {
	if m.Button != tea.MouseLeft {
		return clickNone
	}
	if m.Y == 0 {
		return clickHeader
	}
	// Rows start below the header and its rule.
	row := l.offset + m.Y - 2
	if m.Y < 2 || row >= len(l.rows) || row >= l.offset+l.bodyRows() {
		return clickNone
	}
	if row == l.cursor {
		return clickOpen
	}
	l.move(row - l.cursor)
	return clickSelect
}

// mouse handles a click or the wheel on the list, whose first line is at
// row top of the screen; it says what a click meant (clickNone for the
// wheel and anything else).
func (l *list[T]) mouse(msg tea.Msg, top int) listClick {
	switch msg := msg.(type) {
	case tea.MouseClickMsg:
		m := msg.Mouse()
		m.Y -= top
		return l.click(m)
	case tea.MouseWheelMsg:
		l.wheel(msg.Mouse())
	}
	return clickNone
}

// wheel scrolls three rows.
func (l *list[T]) wheel(m tea.Mouse) {
	if m.Button == tea.MouseWheelUp {
		l.move(-3)
	} else {
		l.move(3)
	}
}

// columnAt is the index of the column under x, or -1.
func (l *list[T]) columnAt(x int) int {
	ws := l.widths()
	left := 0
	for i := range l.cols {
		if ws[i] == 0 {
			continue
		}
		if x >= left && x < left+ws[i] {
			return i
		}
		left += ws[i] + 2
	}
	return -1
}

// widths gives every column its width: fixed ones as declared; the others
// share what remains by water-filling, so a short column takes what its
// content needs and a long one gets the rest. 0: dropped for lack of room.
func (l *list[T]) widths() []int {
	const gap = 2
	ws := make([]int, len(l.cols))
	kept := l.kept()
	free := l.width - gap*(len(kept)-1) - 1
	var flex []int
	for _, i := range kept {
		c := l.cols[i]
		if c.width == 0 {
			flex = append(flex, i)
			continue
		}
		ws[i] = max(c.width, lipgloss.Width(c.title))
		free -= ws[i]
	}
	// Smallest wants first: each takes min(want, fair share of the rest).
	slices.SortFunc(flex, func(a, b int) int { return l.want(a) - l.want(b) })
	for k, i := range flex {
		share := max(6, free/(len(flex)-k))
		ws[i] = min(l.want(i), share)
		free -= ws[i]
	}
	// What is left is spread over the flexible columns.
	if len(flex) > 0 && free > 0 {
		for _, i := range flex {
			ws[i] += free / len(flex)
		}
		ws[flex[len(flex)-1]] += free % len(flex)
	}
	return ws
}

// kept lists the columns that fit, dropping by priority.
func (l *list[T]) kept() []int {
	kept := make([]int, len(l.cols))
	for i := range kept {
		kept[i] = i
	}
	need := func() int {
		n := 2 * (len(kept) - 1)
		for _, i := range kept {
			n += max(l.cols[i].width, minFlex, lipgloss.Width(l.cols[i].title))
		}
		return n
	}
	for len(kept) > 1 && need() > l.width-1 {
		worst := 0
		for k, i := range kept {
			if l.cols[i].drop > l.cols[kept[worst]].drop {
				worst = k
			}
		}
		if l.cols[kept[worst]].drop == 0 {
			break
		}
		kept = slices.Delete(kept, worst, worst+1)
	}
	return kept
}

// want is the width column i needs for its title and the loaded rows.
func (l *list[T]) want(i int) int {
	if i < len(l.wants) {
		return l.wants[i]
	}
	return lipgloss.Width(l.cols[i].title)
}

// measure records how wide each column's content is; done when rows
// arrive, not on every frame.
func (l *list[T]) measure(rows []T) {
	if len(l.wants) != len(l.cols) {
		l.wants = make([]int, len(l.cols))
		for i, c := range l.cols {
			l.wants[i] = lipgloss.Width(c.title)
		}
	}
	for _, r := range rows {
		for i, c := range l.cols {
			l.wants[i] = max(l.wants[i], lipgloss.Width(c.cell(r)))
		}
	}
}

// remeasure measures every row again (the cells changed, e.g. the zone).
func (l *list[T]) remeasure() {
	l.wants = nil
	l.measure(l.rows)
}

func (l *list[T]) renderRow(cells []string, ws []int) string {
	var b strings.Builder
	first := true
	for i, cell := range cells {
		if ws[i] == 0 {
			continue // dropped
		}
		if !first {
			b.WriteString("  ")
		}
		first = false
		cell = ansi.Truncate(cell, ws[i], "…")
		pad := strings.Repeat(" ", max(0, ws[i]-lipgloss.Width(cell)))
		if l.cols[i].right {
			b.WriteString(pad + cell)
		} else {
			b.WriteString(cell + pad)
		}
	}
	return b.String()
}

// view draws the header, the visible rows (or the empty, loading or error
// state) and the footer, height lines in all.
func (l *list[T]) view(st themes.Styles, footer string) string {
	ws := l.widths()
	titles := make([]string, len(l.cols))
	for i, c := range l.cols {
		titles[i] = c.title
	}
	head := l.renderRow(titles, ws)
	lineWidth := lipgloss.Width(head)
	// The header style draws its own rule: two lines.
	lines := []string{st.TableHeader.Width(lineWidth).Render(head)}
	n := l.bodyRows()
	end := min(len(l.rows), l.offset+n)
	cells := make([]string, len(l.cols))
	for r := l.offset; r < end; r++ {
		for i, c := range l.cols {
			cells[i] = c.cell(l.rows[r])
		}
		line := l.renderRow(cells, ws)
		if r == l.cursor {
			lines = append(lines, st.TableSelected.Width(lineWidth).Render(line))
		} else {
			lines = append(lines, st.TableCell.Render(line))
		}
	}
	if len(l.rows) == 0 {
		switch {
		case l.err != "":
		case l.loading:
			lines = append(lines, st.Subtle.Render(l.loadingText))
		default:
			lines = append(lines, st.Subtle.Render(l.empty))
		}
	}
	// The header element is two lines; the rows fill up to n.
	for len(lines) < n+1 {
		lines = append(lines, "")
	}
	out := st.Subtle.Render(footer)
	if l.loading && len(l.rows) > 0 {
		out += st.Subtle.Render("  " + l.loadingText)
	}
	if l.err != "" {
		out += "  " + st.Error.Render(l.err)
	}
	lines = append(lines, ansi.Truncate(out, l.width, "…"))
	return strings.Join(lines, "\n")
}
