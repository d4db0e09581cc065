package tui

import (
	"context"
	"strings"
	"time"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/client"
	"github.com/ecoute/ecoute/internal/i18n"
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

// callsPageMsg answers the page request.
type callsPageMsg struct {
	token string // the page token that was asked for
	resp  *ecoutev1.ListCallsResponse
	err   error
}

// column is one column of the call list. field is the visible_fields path
// that decides whether the role sees it at all.
type column struct {
	title i18n.Key
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
	label i18n.Key
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
	id   int
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

	cols  []column
	list  *list[*ecoutev1.Call]
	total int64
	// about says total is the server's estimate.
	about bool

	width  int
	height int
}

func newCallsScreen(c *Common) *callsScreen {
	s := &callsScreen{c: c, id: c.NextSeq(), keys: newCallsKeys(c.printer()), dir: directory{}, desc: true}
	c.KeyOverrides.apply("calls", &s.keys)
	s.input = textinput.New()
	s.input.Prompt = filterPrompt
	s.input.Placeholder = c.T(filterPlaceholder)
	s.input.CharLimit = 256
	s.input.SetStyles(c.Styles.TextInput)
	if !c.May(methodListCalls) {
		why := c.T(reasonNoList, c.role())
		for _, b := range []*Binding{&s.keys.Reload, &s.keys.Filter, &s.keys.Sort, &s.keys.Reverse} {
			b.disable(why)
		}
	}
	if !c.May(methodGetCall) {
		s.keys.Open.disable(c.T(reasonNoOpen, c.role()))
	}
	var lcols []listColumn[*ecoutev1.Call]
	for _, col := range allColumns() {
		if c.Sees(col.field) {
			s.cols = append(s.cols, col)
			cell := col.cell
			lcols = append(lcols, listColumn[*ecoutev1.Call]{title: c.T(col.title), width: col.width, drop: col.drop, right: col.right,
				cell: func(call *ecoutev1.Call) string { return cell(call, c.loc()) }})
		}
	}
	s.list = newList(c, lcols, callsEmpty, callsPrefetch)
	return s
}

func (s *callsScreen) ID() int       { return s.id }
func (s *callsScreen) Title() string { return s.c.T(callsTitle) }

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
	s.layout()
	return s.input.Focus()
}

func (s *callsScreen) closeFilter() {
	s.filtering, s.filterErr, s.candidates = false, "", nil
	s.input.Blur()
	s.layout()
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
		f, err := parseFilter(s.c.printer(), text, s.dir, s.c.loc(), sees)
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
		s.list.done = true
		return nil
	}
	return s.reload()
}

func (s *callsScreen) reload() tea.Cmd {
	s.list.reset()
	s.total, s.about = 0, false
	return s.fetch("")
}

// fetch asks for the page at token. A new request supersedes the one in
// flight (the envelope drops the older answer).
func (s *callsScreen) fetch(token string) tea.Cmd {
	s.list.loading = true
	b := s.c.Backend
	q := client.CallQuery{Filter: s.filter, OrderBy: s.orderBy(), PageSize: callsPageSize, PageToken: token}
	return s.c.request(s.id, "page", func(ctx context.Context) (tea.Msg, error) {
		resp, err := b.ListCalls(ctx, q)
		return callsPageMsg{token: token, resp: resp, err: err}, err
	})
}

// maybePrefetch asks for the next page when the cursor nears the end of
// what is loaded.
func (s *callsScreen) maybePrefetch() tea.Cmd {
	if s.list.wantsMore() {
		return s.fetch(s.list.next)
	}
	return nil
}

func (s *callsScreen) SetSize(w, h int) {
	s.width, s.height = w, h
	s.layout()
}

// layout gives the list what the filter line leaves.
func (s *callsScreen) layout() { s.list.setSize(s.width, s.height-s.topLines()) }

// topLines is the filter line (two while the prompt is open: the input and
// its error, completions or hint).
func (s *callsScreen) topLines() int {
	if s.filtering {
		return 2
	}
	return 1
}

// bodyRows is how many data rows fit.
func (s *callsScreen) bodyRows() int { return s.list.bodyRows() }

func (s *callsScreen) move(delta int) tea.Cmd {
	s.list.move(delta)
	return s.maybePrefetch()
}

func (s *callsScreen) open() tea.Cmd {
	if call, ok := s.list.selected(); ok {
		return cmdOf(OpenCallMsg{ID: call.GetCallId()})
	}
	return nil
}

func (s *callsScreen) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case callsPageMsg:
		if s.list.failedOn(msg.err, s.c) {
			return nil
		}
		s.list.add(msg.resp.GetCalls(), msg.resp.GetNextPageToken())
		s.dir.learnChoices(msg.resp)
		s.dir.learn(msg.resp.GetCalls())
		s.total, s.about = msg.resp.GetTotalSize(), msg.resp.GetTotalIsEstimate()
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
		case on(msg, s.keys.Reload):
			if !s.c.May(methodListCalls) {
				return nil
			}
			return s.reload()
		case on(msg, s.keys.Open):
			return s.open()
		case on(msg, evaluationsBinding(s.c)):
			return cmdOf(OpenEvaluationsMsg{})
		case on(msg, auditBinding(s.c)):
			return cmdOf(OpenAuditMsg{})
		case on(msg, coachingBinding(s.c)):
			return cmdOf(OpenCoachingMsg{})
		case on(msg, calibrationsBinding(s.c)):
			return cmdOf(OpenCalibrationsMsg{})
		case on(msg, statsBinding(s.c)):
			return cmdOf(OpenStatsMsg{})
		case s.list.moveKey(msg, s.keys):
			return s.maybePrefetch()
		}
	case tea.MouseClickMsg, tea.MouseWheelMsg:
		if s.filtering {
			return nil
		}
		switch s.list.mouse(msg, s.topLines()) {
		case clickHeader:
			if m, ok := msg.(tea.MouseClickMsg); ok && s.keys.Sort.Enabled() {
				return s.sortByHeader(m.Mouse().X)
			}
		case clickOpen:
			if s.keys.Open.Enabled() {
				return s.open()
			}
		}
		return s.maybePrefetch()
	}
	return nil
}

// sortByHeader sorts by the clicked column when the server can sort by
// it; a second click on the same column reverses the order.
func (s *callsScreen) sortByHeader(x int) tea.Cmd {
	i := s.list.columnAt(x)
	if i < 0 {
		return nil
	}
	label := s.cols[i].sortLabel()
	for k, sk := range sortKeys {
		if sk.label != label || sk.needs != "" && !s.c.Sees(sk.needs) {
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

// sortLabel is the sort a column stands for ("" when none).
func (c column) sortLabel() i18n.Key {
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

func (s *callsScreen) View() string {
	st := s.c.Styles
	if !s.c.May(methodListCalls) {
		return st.Subtle.Render(s.c.T(callsNotAllowed, s.c.role()))
	}
	if len(s.cols) == 0 {
		return st.Subtle.Render(s.c.T(callsNoColumns))
	}
	lines := s.filterLines()
	return strings.Join(append(lines, s.list.view(st, s.footer())), "\n")
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
			second = st.Subtle.Render(s.c.T(filterCandidates) + strings.Join(s.candidates, "  "))
		default:
			second = st.Muted.Render(s.c.T(filterHint))
		}
		return []string{s.input.View(), ansi.Truncate(second, s.width, "…")}
	}
	f := st.Muted.Render(s.c.T(filterNone))
	if s.filterText != "" {
		f = st.Label.Render(s.c.T(filterLabel)+" ") + st.Value.Render(s.filterText)
	}
	arrow := sortAsc
	if s.desc {
		arrow = sortDesc
	}
	sort := st.Label.Render(s.c.T(sortLabel)+" ") + st.Value.Render(s.c.T(sortKeys[s.sortIdx].label)+" "+arrow)
	return []string{ansi.Truncate(sort+"   "+f, s.width, "…")}
}

func (s *callsScreen) footer() string {
	switch {
	case len(s.list.rows) > 0 && s.about:
		return s.c.T(callsPositionAbout, s.list.cursor+1, len(s.list.rows), s.total)
	case len(s.list.rows) > 0:
		return s.c.T(callsPosition, s.list.cursor+1, len(s.list.rows), s.total)
	case s.list.done:
		return s.c.T(callsTotal, s.total)
	}
	return ""
}

func (s *callsScreen) Keys() []Group {
	k := s.keys
	if s.filtering {
		return []Group{{Title: s.c.T(helpGroupFilter), Keys: []Binding{k.Apply, k.Complete, k.Cancel}}}
	}
	return []Group{
		{Title: s.c.T(helpGroupCalls), Keys: []Binding{k.Open, k.Filter, k.Sort, k.Reverse, k.Reload, evaluationsBinding(s.c), auditBinding(s.c), coachingBinding(s.c), calibrationsBinding(s.c), statsBinding(s.c)}},
		{Title: s.c.T(helpGroupMove), Keys: []Binding{k.Down, k.Up, k.PageUp, k.PageDown, k.Top, k.Bottom}},
		{Title: s.c.T(helpGroupFilter), Keys: helpOnly(k.Apply, k.Complete, k.Cancel)},
	}
}
