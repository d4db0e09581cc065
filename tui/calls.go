package tui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
)

const (
	// callsPageSize rows are asked for at a time: a page costs the server
	// about as much at 200 rows as at 50 (the count dominates), and fewer
	// round trips keep held-down pgdn ahead of the network.
	callsPageSize = 200
	// callsPrefetch: the next page is asked for when the cursor comes
	// within this many rows of the last one loaded (five pages of a tall
	// terminal).
	callsPrefetch = 100
)

// callsPageMsg answers the page request numbered seq.
type callsPageMsg struct {
	seq   int
	token string // the page token that was asked for
	resp  *ecoutev1.ListCallsResponse
	err   error
}

func (m callsPageMsg) rpcErr() error { return m.err }

// column is one column of the call list. field is the visible_fields path
// that decides whether the role sees it at all.
type column struct {
	title string
	field string
	width int // 0: share what is left
	// drop orders the columns given up on a narrow terminal: the
	// highest goes first; 0 is never dropped.
	drop  int
	right bool
	cell  func(c *ecoutev1.Call, loc *time.Location) string
}

func allColumns() []column {
	return []column{
		{title: colDate, field: "call.started_at", width: 16, cell: func(c *ecoutev1.Call, loc *time.Location) string {
			return fmtTime(c.GetStartedAt(), loc)
		}},
		{title: colDuration, field: "call.duration", width: 8, drop: 2, right: true, cell: func(c *ecoutev1.Call, _ *time.Location) string {
			return fmtDurationPB(c.GetDuration())
		}},
		{title: colAgent, field: "call.agent_name", drop: 1, cell: func(c *ecoutev1.Call, _ *time.Location) string {
			return c.GetAgentName()
		}},
		{title: colTeam, field: "call.team_name", drop: 4, cell: func(c *ecoutev1.Call, _ *time.Location) string {
			return c.GetTeamName()
		}},
		{title: colCampaign, field: "call.campaign_name", drop: 5, cell: func(c *ecoutev1.Call, _ *time.Location) string {
			return c.GetCampaignName()
		}},
		{title: colEvaluated, field: "call.evaluated", width: 5, drop: 3, cell: func(c *ecoutev1.Call, _ *time.Location) string {
			if c.GetEvaluated() {
				return markYes
			}
			return markNo
		}},
	}
}

// sortKey is one order the list can be sorted in.
type sortKey struct {
	field string // order_by field
	label string
	desc  bool   // the natural direction
	needs string // visible field needed, if any
}

var sortKeys = []sortKey{
	{field: "started_at", label: sortDate, desc: true},
	{field: "duration", label: sortDuration, desc: true},
	{field: "agent_name", label: sortAgent, needs: "call.agent_name"},
}

type callsScreen struct {
	c    *Common
	keys CallsKeys

	// The filter prompt and what it applied.
	input      textinput.Model
	filtering  bool // the prompt is open
	filterErr  string
	candidates []string
	filterText string // the filter applied, as typed
	filter     *ecoutev1.CallFilter
	dir        directory
	sortIdx    int
	desc       bool

	cols    []column
	wants   []int // content width per column, from the rows loaded
	rows    []*ecoutev1.Call
	total   int64
	next    string // token of the next page; "" when all are loaded
	done    bool   // the last page has arrived
	loading bool
	seq     int // the page request being waited for
	err     string

	cursor int
	offset int // first row shown
	width  int
	height int
}

func newCallsScreen(c *Common) *callsScreen {
	s := &callsScreen{c: c, keys: newCallsKeys(), dir: directory{}, desc: true}
	c.KeyOverrides.apply("calls", &s.keys)
	s.input = textinput.New()
	s.input.Prompt = filterPrompt
	s.input.Placeholder = filterPlaceholder
	s.input.CharLimit = 256
	s.input.SetStyles(c.Styles.TextInput)
	if !c.May(methodListCalls) {
		why := fmt.Sprintf(reasonNoList, c.role())
		for _, b := range []*Binding{&s.keys.Reload, &s.keys.Filter, &s.keys.Sort, &s.keys.Reverse} {
			b.disable(why)
		}
	}
	if !c.May(methodGetCall) {
		s.keys.Open.disable(fmt.Sprintf(reasonNoOpen, c.role()))
	}
	for _, col := range allColumns() {
		if c.Sees(col.field) {
			s.cols = append(s.cols, col)
		}
	}
	return s
}

func (s *callsScreen) Title() string { return callsTitle }

// Typing is true while the filter prompt is open: q and ? are text then.
func (s *callsScreen) Typing() bool { return s.filtering }

func (s *callsScreen) Restyle() { s.input.SetStyles(s.c.Styles.TextInput) }

func (s *callsScreen) orderBy() string {
	o := sortKeys[s.sortIdx].field
	if s.desc {
		o += " desc"
	}
	return o
}

// cycleSort moves to the next order the role may use, in its natural
// direction.
func (s *callsScreen) cycleSort() {
	for range sortKeys {
		s.sortIdx = (s.sortIdx + 1) % len(sortKeys)
		if k := sortKeys[s.sortIdx]; k.needs == "" || s.c.Sees(k.needs) {
			s.desc = k.desc
			return
		}
	}
}

// sees is Common.Sees, plus the score, which needs a role that may read
// evaluations.
func (s *callsScreen) sees(field string) bool {
	if field == fieldScore {
		return s.c.May(methodGetEvaluation)
	}
	return s.c.Sees(field)
}

func (s *callsScreen) openFilter() tea.Cmd {
	s.filtering, s.filterErr, s.candidates = true, "", nil
	s.input.SetValue(s.filterText)
	s.input.CursorEnd()
	s.clampOffset()
	return s.input.Focus()
}

func (s *callsScreen) closeFilter() {
	s.filtering, s.filterErr, s.candidates = false, "", nil
	s.input.Blur()
	s.clampOffset()
}

// updateFilter handles keys while the prompt is open. An invalid filter
// keeps the prompt open with what was typed and says what is wrong.
func (s *callsScreen) updateFilter(msg tea.KeyPressMsg) tea.Cmd {
	sees := s.sees
	switch {
	case on(msg, s.keys.Cancel):
		s.closeFilter()
		return nil
	case on(msg, s.keys.Apply):
		text := strings.TrimSpace(s.input.Value())
		f, err := parseFilter(text, s.dir, s.c.loc(), sees)
		if err != nil {
			s.filterErr, s.candidates = err.Error(), nil
			return nil
		}
		s.filterText, s.filter = text, f
		if text == "" {
			s.filter = nil
		}
		s.closeFilter()
		return s.reload()
	case on(msg, s.keys.Complete):
		comp := complete(s.input.Value(), s.dir, sees)
		s.input.SetValue(comp.text)
		s.input.CursorEnd()
		s.candidates, s.filterErr = comp.candidates, ""
		return nil
	}
	var cmd tea.Cmd
	s.input, cmd = s.input.Update(msg)
	return cmd
}

func (s *callsScreen) Init() tea.Cmd {
	if !s.c.May(methodListCalls) {
		s.done = true
		return nil
	}
	return s.reload()
}

func (s *callsScreen) reload() tea.Cmd {
	s.rows, s.total, s.next, s.done, s.cursor, s.offset, s.err = nil, 0, "", false, 0, 0, ""
	s.wants = nil
	s.loading = false
	return s.fetch("")
}

// fetch asks for the page at token. A new request supersedes the one in
// flight: only the reply numbered s.seq is accepted.
func (s *callsScreen) fetch(token string) tea.Cmd {
	s.loading = true
	s.seq = s.c.NextSeq()
	seq, b, ctx := s.seq, s.c.Backend, s.c.Ctx
	req := &ecoutev1.ListCallsRequest{Filter: s.filter, OrderBy: s.orderBy(), PageSize: callsPageSize, PageToken: token}
	return s.c.rpc(func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, rpcTimeout)
		defer cancel()
		resp, err := b.ListCalls(ctx, req)
		return callsPageMsg{seq: seq, token: token, resp: resp, err: err}
	})
}

// maybePrefetch asks for the next page when the cursor nears the end of
// what is loaded.
func (s *callsScreen) maybePrefetch() tea.Cmd {
	if s.loading || s.done || s.next == "" {
		return nil
	}
	if s.cursor >= len(s.rows)-callsPrefetch {
		return s.fetch(s.next)
	}
	return nil
}

func (s *callsScreen) SetSize(w, h int) {
	s.width, s.height = w, h
	s.clampOffset()
}

// topLines is the filter line (two while the prompt is open: the input and
// its error, completions or hint).
func (s *callsScreen) topLines() int {
	if s.filtering {
		return 2
	}
	return 1
}

// bodyRows is how many data rows fit (the filter line, the header, its
// rule and the footer line take the rest).
func (s *callsScreen) bodyRows() int { return max(1, s.height-3-s.topLines()) }

func (s *callsScreen) clampOffset() {
	n := s.bodyRows()
	if s.cursor < s.offset {
		s.offset = s.cursor
	}
	if s.cursor >= s.offset+n {
		s.offset = s.cursor - n + 1
	}
	s.offset = max(0, min(s.offset, max(0, len(s.rows)-n)))
}

func (s *callsScreen) move(delta int) tea.Cmd {
	if len(s.rows) == 0 {
		return nil
	}
	s.cursor = max(0, min(len(s.rows)-1, s.cursor+delta))
	s.clampOffset()
	return s.maybePrefetch()
}

func (s *callsScreen) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case callsPageMsg:
		if msg.seq != s.seq {
			return nil // an answer to a request since superseded
		}
		s.loading = false
		if msg.err != nil {
			s.err = explain(msg.err, s.c.ServerAddr)
			return nil
		}
		s.err = ""
		s.rows = append(s.rows, msg.resp.GetCalls()...)
		s.dir.learnChoices(msg.resp)
		s.dir.learn(msg.resp.GetCalls())
		s.measure(msg.resp.GetCalls())
		s.total = msg.resp.GetTotalSize()
		s.next = msg.resp.GetNextPageToken()
		s.done = s.next == ""
		s.clampOffset()
		return s.maybePrefetch()
	case tea.KeyPressMsg:
		if s.filtering {
			return s.updateFilter(msg)
		}
		switch {
		case on(msg, s.keys.Filter):
			return s.openFilter()
		case on(msg, s.keys.Sort):
			s.cycleSort()
			return s.reload()
		case on(msg, s.keys.Reverse):
			s.desc = !s.desc
			return s.reload()
		case on(msg, s.keys.Up):
			return s.move(-1)
		case on(msg, s.keys.Down):
			return s.move(1)
		case on(msg, s.keys.PageUp):
			return s.move(-s.bodyRows())
		case on(msg, s.keys.PageDown):
			return s.move(s.bodyRows())
		case on(msg, s.keys.Top):
			return s.move(-len(s.rows))
		case on(msg, s.keys.Bottom):
			return s.move(len(s.rows))
		case on(msg, s.keys.Reload):
			if !s.c.May(methodListCalls) {
				return nil
			}
			return s.reload()
		case on(msg, s.keys.Open):
			if s.cursor < len(s.rows) {
				return cmdOf(OpenCallMsg{ID: s.rows[s.cursor].GetCallId()})
			}
		case on(msg, evaluationsBinding(s.c)):
			return cmdOf(OpenEvaluationsMsg{})
		case on(msg, auditBinding(s.c)):
			return cmdOf(OpenAuditMsg{})
		}
	case tea.MouseClickMsg:
		m := msg.Mouse()
		if m.Button == tea.MouseLeft && m.Y == s.topLines() && !s.filtering && s.keys.Sort.Enabled() {
			return s.sortByHeader(m.X)
		}
		// Rows start below the filter line, the header and its rule.
		row := s.offset + m.Y - s.topLines() - 2
		if m.Button != tea.MouseLeft || m.Y < s.topLines()+2 || row >= len(s.rows) || row >= s.offset+s.bodyRows() {
			return nil
		}
		if row == s.cursor && s.keys.Open.Enabled() {
			return cmdOf(OpenCallMsg{ID: s.rows[row].GetCallId()})
		}
		return s.move(row - s.cursor)
	case tea.MouseWheelMsg:
		if msg.Mouse().Button == tea.MouseWheelUp {
			return s.move(-3)
		}
		return s.move(3)
	}
	return nil
}

// sortByHeader sorts by the clicked column when the server can sort by
// it; a second click on the same column reverses the order.
func (s *callsScreen) sortByHeader(x int) tea.Cmd {
	ws := s.widths()
	left := 0
	for i, c := range s.cols {
		if ws[i] == 0 {
			continue
		}
		if x >= left && x < left+ws[i] {
			for k, sk := range sortKeys {
				if sk.label != c.sortLabel() || sk.needs != "" && !s.c.Sees(sk.needs) {
					continue
				}
				if k == s.sortIdx {
					s.desc = !s.desc
				} else {
					s.sortIdx, s.desc = k, sk.desc
				}
				return s.reload()
			}
			return nil
		}
		left += ws[i] + 2
	}
	return nil
}

// sortLabel is the sort a column stands for ("" when none).
func (c column) sortLabel() string {
	switch c.title {
	case colDate:
		return sortDate
	case colDuration:
		return sortDuration
	case colAgent:
		return sortAgent
	}
	return ""
}

// widths gives every column its width: fixed ones as declared; the others
// share what remains by water-filling, so a short column (team) takes what
// its content needs and a long one (campaign) gets the rest.
// A width of 0 means the column was dropped for lack of room.
func (s *callsScreen) widths() []int {
	const gap = 2
	ws := make([]int, len(s.cols))
	kept := s.kept()
	free := s.width - gap*(len(kept)-1) - 1
	var flex []int
	for _, i := range kept {
		c := s.cols[i]
		if c.width == 0 {
			flex = append(flex, i)
			continue
		}
		ws[i] = max(c.width, lipgloss.Width(c.title))
		free -= ws[i]
	}
	// Smallest wants first: each takes min(want, fair share of the rest).
	slices.SortFunc(flex, func(a, b int) int { return s.want(a) - s.want(b) })
	for k, i := range flex {
		share := max(6, free/(len(flex)-k))
		ws[i] = min(s.want(i), share)
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

// minFlex is the narrowest a shared-width column may get before columns
// are dropped.
const minFlex = 10

// kept lists the columns that fit, dropping by priority.
func (s *callsScreen) kept() []int {
	kept := make([]int, len(s.cols))
	for i := range kept {
		kept[i] = i
	}
	need := func() int {
		n := 2 * (len(kept) - 1)
		for _, i := range kept {
			n += max(s.cols[i].width, minFlex, lipgloss.Width(s.cols[i].title))
		}
		return n
	}
	for len(kept) > 1 && need() > s.width-1 {
		worst := 0
		for k, i := range kept {
			if s.cols[i].drop > s.cols[kept[worst]].drop {
				worst = k
			}
		}
		if s.cols[kept[worst]].drop == 0 {
			break
		}
		kept = slices.Delete(kept, worst, worst+1)
	}
	return kept
}

// want is the width column i needs for its title and the loaded rows.
func (s *callsScreen) want(i int) int {
	if i < len(s.wants) {
		return s.wants[i]
	}
	return lipgloss.Width(s.cols[i].title)
}

// measure records how wide each column's content is; called when rows
// arrive, not on every frame.
func (s *callsScreen) measure(calls []*ecoutev1.Call) {
	if len(s.wants) != len(s.cols) {
		s.wants = make([]int, len(s.cols))
		for i, c := range s.cols {
			s.wants[i] = lipgloss.Width(c.title)
		}
	}
	for _, call := range calls {
		for i, c := range s.cols {
			s.wants[i] = max(s.wants[i], lipgloss.Width(c.cell(call, s.c.loc())))
		}
	}
}

func (s *callsScreen) renderRow(cells []string, ws []int, cols []column) string {
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
		if cols[i].right {
			b.WriteString(pad + cell)
		} else {
			b.WriteString(cell + pad)
		}
	}
	return b.String()
}

func (s *callsScreen) View() string {
	st := s.c.Styles
	if !s.c.May(methodListCalls) {
		return st.Subtle.Render(fmt.Sprintf(callsNotAllowed, s.c.Principal.GetRole()))
	}
	if len(s.cols) == 0 {
		return st.Subtle.Render(callsNoColumns)
	}
	ws := s.widths()
	titles := make([]string, len(s.cols))
	for i, c := range s.cols {
		titles[i] = c.title
	}
	lineWidth := lipgloss.Width(s.renderRow(titles, ws, s.cols))
	lines := s.filterLines()
	lines = append(lines, st.TableHeader.Width(lineWidth).Render(s.renderRow(titles, ws, s.cols)))

	n := s.bodyRows()
	end := min(len(s.rows), s.offset+n)
	for r := s.offset; r < end; r++ {
		call := s.rows[r]
		cells := make([]string, len(s.cols))
		for i, c := range s.cols {
			cells[i] = c.cell(call, s.c.loc())
		}
		line := s.renderRow(cells, ws, s.cols)
		if r == s.cursor {
			lines = append(lines, st.TableSelected.Width(lineWidth).Render(line))
		} else {
			lines = append(lines, st.TableCell.Render(line))
		}
	}
	if len(s.rows) == 0 && !s.loading && s.err == "" {
		lines = append(lines, st.Subtle.Render(callsEmpty))
	}
	for len(lines) < n+s.topLines()+1 { // the header element holds its rule too
		lines = append(lines, "")
	}
	lines = append(lines, s.footer())
	return strings.Join(lines, "\n")
}

// filterLines shows the applied filter and sort, or the open prompt.
func (s *callsScreen) filterLines() []string {
	st := s.c.Styles
	if s.filtering {
		s.input.SetWidth(max(10, s.width-lipgloss.Width(filterPrompt)-1))
		var second string
		switch {
		case s.filterErr != "":
			second = st.Error.Render("✗ " + s.filterErr)
		case len(s.candidates) > 0:
			second = st.Subtle.Render(filterCandidates + strings.Join(s.candidates, "  "))
		default:
			second = st.Muted.Render(filterHint)
		}
		return []string{s.input.View(), ansi.Truncate(second, s.width, "…")}
	}
	f := st.Muted.Render(filterNone)
	if s.filterText != "" {
		f = st.Label.Render(filterLabel+" ") + st.Value.Render(s.filterText)
	}
	arrow := sortAsc
	if s.desc {
		arrow = sortDesc
	}
	sort := st.Label.Render(sortLabel+" ") + st.Value.Render(sortKeys[s.sortIdx].label+" "+arrow)
	return []string{ansi.Truncate(sort+"   "+f, s.width, "…")}
}

func (s *callsScreen) footer() string {
	st := s.c.Styles
	var parts []string
	if len(s.rows) > 0 {
		parts = append(parts, fmt.Sprintf(callsPosition, s.cursor+1, len(s.rows), s.total))
	} else if s.done {
		parts = append(parts, fmt.Sprintf(callsTotal, s.total))
	}
	if s.loading {
		parts = append(parts, callsLoading)
	}
	out := st.Subtle.Render(strings.Join(parts, "  "))
	if s.err != "" {
		out += "  " + st.Error.Render(s.err)
	}
	return ansi.Truncate(out, s.width, "…")
}

func (s *callsScreen) Keys() []Group {
	k := s.keys
	if s.filtering {
		return []Group{{Title: helpGroupFilter, Keys: []Binding{k.Apply, k.Complete, k.Cancel}}}
	}
	return []Group{
		{Title: helpGroupCalls, Keys: []Binding{k.Open, k.Filter, k.Sort, k.Reverse, k.Reload, evaluationsBinding(s.c), auditBinding(s.c)}},
		{Title: helpGroupMove, Keys: []Binding{k.Down, k.Up, k.PageUp, k.PageDown, k.Top, k.Bottom}},
		{Title: helpGroupFilter, Keys: helpOnly(k.Apply, k.Complete, k.Cancel)},
	}
}
