package tui

import (
	"context"
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
)

// The audit screen reads the audit trail, newest first, for the roles that
// may (dpo, admin), and verifies its hash chain on demand.

const (
	methodListAudit   = "/ecoute.v1.AuditService/ListAuditEvents"
	methodVerifyAudit = "/ecoute.v1.AuditService/VerifyAuditChain"
	auditPageSize     = 200
)

// auditReader is a backend that can reach the audit service
// (*client.Client is one).
type auditReader interface {
	Audit() ecoutev1.AuditServiceClient
}

// OpenAuditMsg asks the App to open the audit trail.
type OpenAuditMsg struct{}

type (
	auditPageMsg struct {
		seq  int
		resp *ecoutev1.ListAuditEventsResponse
		err  error
	}
	auditVerifyMsg struct {
		screen int
		resp   *ecoutev1.VerifyAuditChainResponse
		err    error
	}
)

func (m auditPageMsg) rpcErr() error   { return m.err }
func (m auditVerifyMsg) rpcErr() error { return m.err }

// auditBinding is the call list's key to the audit trail, disabled with
// the reason for a role that may not read it.
func auditBinding(c *Common) Binding {
	b := bind(false, "A", keyAudit, "A")
	if _, ok := c.Backend.(auditReader); !ok {
		b.disable(reasonNoAuditService)
	} else if !c.May(methodListAudit) {
		b.disable(fmt.Sprintf(reasonNoAudit, c.role()))
	}
	return b
}

type auditScreen struct {
	c       *Common
	keys    CallsKeys // the moves are the call list's
	verify  Binding
	id      int
	rows    []*ecoutev1.AuditEvent
	next    string
	done    bool
	loading bool
	seq     int
	err     string
	result  string // the last verification, as a sentence
	resOK   bool
	cursor  int
	offset  int
	width   int
	height  int
}

func newAuditScreen(c *Common) *auditScreen {
	s := &auditScreen{c: c, keys: newCallsKeys(), id: c.NextSeq(), verify: bind(true, "v", keyVerifyAudit, "v")}
	c.KeyOverrides.apply("calls", &s.keys)
	if !c.May(methodVerifyAudit) {
		s.verify.disable(fmt.Sprintf(reasonNoAudit, c.role()))
	}
	return s
}

func (s *auditScreen) Title() string { return auditTitle }

func (s *auditScreen) Init() tea.Cmd { return s.fetch("") }

func (s *auditScreen) fetch(token string) tea.Cmd {
	ar, ok := s.c.Backend.(auditReader)
	if !ok {
		s.err = reasonNoAuditService
		return nil
	}
	s.loading = true
	s.seq = s.c.NextSeq()
	seq, ctx := s.seq, s.c.Ctx
	return s.c.rpc(func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, rpcTimeout)
		defer cancel()
		resp, err := ar.Audit().ListAuditEvents(ctx, &ecoutev1.ListAuditEventsRequest{PageSize: auditPageSize, PageToken: token})
		return auditPageMsg{seq: seq, resp: resp, err: err}
	})
}

func (s *auditScreen) runVerify() tea.Cmd {
	ar, ok := s.c.Backend.(auditReader)
	if !ok {
		return nil
	}
	s.result = auditVerifying
	id, ctx := s.id, s.c.Ctx
	return s.c.rpc(func() tea.Msg {
		// Walking a long chain takes a while: give it more time.
		ctx, cancel := context.WithTimeout(ctx, 4*rpcTimeout)
		defer cancel()
		resp, err := ar.Audit().VerifyAuditChain(ctx, &ecoutev1.VerifyAuditChainRequest{})
		return auditVerifyMsg{screen: id, resp: resp, err: err}
	})
}

func (s *auditScreen) SetSize(w, h int) {
	s.width, s.height = w, h
	s.clamp()
}

// bodyRows: the verification line, the header with its rule, the footer.
func (s *auditScreen) bodyRows() int { return max(1, s.height-4) }

func (s *auditScreen) clamp() {
	n := s.bodyRows()
	s.cursor = max(0, min(s.cursor, len(s.rows)-1))
	if s.cursor < s.offset {
		s.offset = s.cursor
	}
	if s.cursor >= s.offset+n {
		s.offset = s.cursor - n + 1
	}
	s.offset = max(0, min(s.offset, max(0, len(s.rows)-n)))
}

func (s *auditScreen) move(d int) tea.Cmd {
	if len(s.rows) == 0 {
		return nil
	}
	s.cursor += d
	s.clamp()
	if !s.loading && !s.done && s.cursor >= len(s.rows)-callsPrefetch {
		return s.fetch(s.next)
	}
	return nil
}

func (s *auditScreen) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case auditPageMsg:
		if msg.seq != s.seq {
			return nil
		}
		s.loading = false
		if msg.err != nil {
			s.err = explain(msg.err, s.c.ServerAddr)
			return nil
		}
		s.err = ""
		s.rows = append(s.rows, msg.resp.GetEvents()...)
		s.next = msg.resp.GetNextPageToken()
		s.done = s.next == ""
		s.clamp()
		return nil
	case auditVerifyMsg:
		if msg.screen != s.id {
			return nil
		}
		r := msg.resp
		switch {
		case msg.err != nil:
			s.result, s.resOK = explain(msg.err, s.c.ServerAddr), false
		case r.GetOk():
			s.result, s.resOK = fmt.Sprintf(auditChainOK, r.GetEntries(), r.GetFirstSeq(), r.GetLastSeq(), r.GetKeyFingerprint()), true
		default:
			s.result, s.resOK = fmt.Sprintf(auditChainBad, r.GetBadSeq(), r.GetReason()), false
		}
		return nil
	case tea.KeyPressMsg:
		k := s.keys
		switch {
		case on(msg, s.verify):
			return s.runVerify()
		case on(msg, k.Reload):
			s.rows, s.cursor, s.offset, s.done = nil, 0, 0, false
			return s.fetch("")
		case on(msg, k.Up):
			return s.move(-1)
		case on(msg, k.Down):
			return s.move(1)
		case on(msg, k.PageUp):
			return s.move(-s.bodyRows())
		case on(msg, k.PageDown):
			return s.move(s.bodyRows())
		case on(msg, k.Top):
			return s.move(-len(s.rows))
		case on(msg, k.Bottom):
			return s.move(len(s.rows))
		}
	case tea.MouseWheelMsg:
		if msg.Mouse().Button == tea.MouseWheelUp {
			return s.move(-3)
		}
		return s.move(3)
	}
	return nil
}

// auditColumn is one column; drop orders them as on the call list.
type auditColumn struct {
	title string
	width int // 0: the rest
	drop  int
	cell  func(e *ecoutev1.AuditEvent, loc *time.Location) string
}

func auditColumns() []auditColumn {
	return []auditColumn{
		{title: colSeq, width: 7, drop: 3, cell: func(e *ecoutev1.AuditEvent, _ *time.Location) string { return fmt.Sprint(e.GetSeq()) }},
		{title: colTime, width: 19, cell: func(e *ecoutev1.AuditEvent, loc *time.Location) string {
			return e.GetTime().AsTime().In(loc).Format(time.DateTime)
		}},
		{title: colLogin, width: 14, drop: 1, cell: func(e *ecoutev1.AuditEvent, _ *time.Location) string { return e.GetUserLogin() }},
		{title: colRole, width: 11, drop: 4, cell: func(e *ecoutev1.AuditEvent, _ *time.Location) string { return e.GetRole() }},
		{title: colAction, width: 28, cell: func(e *ecoutev1.AuditEvent, _ *time.Location) string { return e.GetAction() }},
		{title: colTarget, drop: 2, cell: func(e *ecoutev1.AuditEvent, _ *time.Location) string { return e.GetTarget() }},
	}
}

// layout keeps the columns that fit and the width of each.
func (s *auditScreen) layout() ([]auditColumn, []int) {
	cols := auditColumns()
	for {
		need := 2 * (len(cols) - 1)
		flex := 0
		for _, c := range cols {
			need += c.width
			if c.width == 0 {
				flex++
				need += minFlex
			}
		}
		if need <= s.width || len(cols) <= 2 {
			ws := make([]int, len(cols))
			rest := s.width - need + flex*minFlex
			for i, c := range cols {
				ws[i] = c.width
				if c.width == 0 {
					ws[i] = max(minFlex, rest)
				}
			}
			return cols, ws
		}
		worst := 0
		for i, c := range cols {
			if c.drop > cols[worst].drop {
				worst = i
			}
		}
		if cols[worst].drop == 0 {
			return cols, widthsOf(cols)
		}
		cols = append(cols[:worst:worst], cols[worst+1:]...)
	}
}

func widthsOf(cols []auditColumn) []int {
	ws := make([]int, len(cols))
	for i, c := range cols {
		ws[i] = max(c.width, minFlex)
	}
	return ws
}

func auditRow(cells []string, ws []int) string {
	var b strings.Builder
	for i, cell := range cells {
		if i > 0 {
			b.WriteString("  ")
		}
		cell = ansi.Truncate(cell, ws[i], "…")
		b.WriteString(cell + strings.Repeat(" ", max(0, ws[i]-lipgloss.Width(cell))))
	}
	return b.String()
}

func (s *auditScreen) View() string {
	st := s.c.Styles
	var lines []string
	switch {
	case s.result == "":
		lines = append(lines, st.Muted.Render(auditVerifyHint))
	case s.resOK:
		lines = append(lines, st.Ok.Render("✓ "+s.result))
	case s.result == auditVerifying:
		lines = append(lines, st.Subtle.Render(s.result))
	default:
		lines = append(lines, st.Error.Render("✗ "+s.result))
	}
	lines[0] = ansi.Truncate(lines[0], s.width, "…")
	cols, ws := s.layout()
	titles := make([]string, len(cols))
	for i, c := range cols {
		titles[i] = c.title
	}
	head := auditRow(titles, ws)
	lw := lipgloss.Width(head)
	lines = append(lines, st.TableHeader.Width(lw).Render(head))
	n := s.bodyRows()
	for r := s.offset; r < min(len(s.rows), s.offset+n); r++ {
		cells := make([]string, len(cols))
		for i, c := range cols {
			cells[i] = c.cell(s.rows[r], s.c.loc())
		}
		line := auditRow(cells, ws)
		if r == s.cursor {
			lines = append(lines, st.TableSelected.Width(lw).Render(line))
		} else {
			lines = append(lines, st.TableCell.Render(line))
		}
	}
	if len(s.rows) == 0 && !s.loading && s.err == "" {
		lines = append(lines, st.Subtle.Render(auditEmpty))
	}
	for len(lines) < n+2 {
		lines = append(lines, "")
	}
	foot := ""
	if len(s.rows) > 0 {
		more := ""
		if !s.done {
			more = "+"
		}
		foot = fmt.Sprintf(auditPosition, s.cursor+1, len(s.rows), more)
	}
	if s.loading {
		foot += "  " + callsLoading
	}
	out := st.Subtle.Render(foot)
	if s.err != "" {
		out += "  " + st.Error.Render(s.err)
	}
	return strings.Join(append(lines, ansi.Truncate(out, s.width, "…")), "\n")
}

func (s *auditScreen) Keys() []Group {
	k := s.keys
	return []Group{
		{Title: helpGroupAudit, Keys: []Binding{s.verify, k.Reload}},
		{Title: helpGroupMove, Keys: []Binding{k.Down, k.Up, k.PageUp, k.PageDown, k.Top, k.Bottom}},
	}
}
