package tui

import (
	"context"
	"strconv"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/client"
)

// The audit screen reads the audit trail, newest first, for the roles that
// may (dpo, admin), and verifies its hash chain on demand.

const (
	methodListAudit   = "/ecoute.v1.AuditService/ListAuditEvents"
	methodVerifyAudit = "/ecoute.v1.AuditService/VerifyAuditChain"
	auditPageSize     = 200
)

// OpenAuditMsg asks the App to open the audit trail.
type OpenAuditMsg struct{}

type (
	auditPageMsg struct {
		resp *ecoutev1.ListAuditEventsResponse
		err  error
	}
	auditVerifyMsg struct {
		resp *ecoutev1.VerifyAuditChainResponse
		err  error
	}
)

// auditBinding is the call list's key to the audit trail, disabled with
// the reason for a role that may not read it.
func auditBinding(c *Common) Binding {
	b := bind(c.printer(), false, "A", c.T(keyAudit), "A")
	if !c.May(methodListAudit) {
		b.disable(c.T(reasonNoAudit, c.role()))
	}
	return b
}

type auditScreen struct {
	c      *Common
	id     int
	keys   CallsKeys // the moves are the call list's
	verify Binding
	list   *list[*ecoutev1.AuditEvent]
	result string // the last verification, as a sentence
	resOK  bool
	// verifying: the verification is on its way.
	verifying bool
	width     int
	height    int
}

func newAuditScreen(c *Common) *auditScreen {
	s := &auditScreen{c: c, keys: newCallsKeys(c.printer()), id: c.NextSeq(), verify: bind(c.printer(), true, "v", c.T(keyVerifyAudit), "v")}
	c.KeyOverrides.apply("calls", &s.keys)
	if !c.May(methodVerifyAudit) {
		s.verify.disable(c.T(reasonNoAudit, c.role()))
	}
	s.list = newList(c, auditColumns(c), auditEmpty, callsPrefetch)
	return s
}

func (s *auditScreen) ID() int       { return s.id }
func (s *auditScreen) Title() string { return s.c.T(auditTitle) }

func (s *auditScreen) Init() tea.Cmd { return s.fetch("") }

func (s *auditScreen) fetch(token string) tea.Cmd {
	s.list.loading = true
	b := s.c.Backend
	return s.c.request(s.id, "page", func(ctx context.Context) (tea.Msg, error) {
		resp, err := b.ListAuditEvents(ctx, client.AuditQuery{PageSize: auditPageSize, PageToken: token})
		return auditPageMsg{resp: resp, err: err}, err
	})
}

func (s *auditScreen) runVerify() tea.Cmd {
	s.result, s.verifying = s.c.T(auditVerifying), true
	b := s.c.Backend
	return s.c.request(s.id, "verify", func(ctx context.Context) (tea.Msg, error) {
		resp, err := b.VerifyAuditChain(ctx)
		return auditVerifyMsg{resp: resp, err: err}, err
	})
}

func (s *auditScreen) SetSize(w, h int) {
	s.width, s.height = w, h
	// The verification line is above the list.
	s.list.setSize(w, h-1)
}

func (s *auditScreen) more() tea.Cmd {
	if s.list.wantsMore() {
		return s.fetch(s.list.next)
	}
	return nil
}

func (s *auditScreen) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case auditPageMsg:
		if s.list.failedOn(msg.err, s.c) {
			return nil
		}
		s.list.add(msg.resp.GetEvents(), msg.resp.GetNextPageToken())
		return s.more()
	case auditVerifyMsg:
		s.verifying = false
		r := msg.resp
		switch {
		case msg.err != nil:
			s.result, s.resOK = s.c.explain(msg.err), false
		case r.GetOk():
			s.result, s.resOK = s.c.T(auditChainOK, r.GetEntries(), seqText(r.GetFirstSeq()), seqText(r.GetLastSeq()), r.GetKeyFingerprint()), true
		default:
			s.result, s.resOK = s.c.T(auditChainBad, seqText(r.GetBadSeq()), r.GetReason()), false
		}
		return nil
	case tea.KeyPressMsg:
		if s.list.moveKey(msg, s.keys) {
			return s.more()
		}
		switch {
		case on(msg, s.verify):
			return s.runVerify()
		case on(msg, s.keys.Reload):
			s.list.reset()
			return s.fetch("")
		}
	case tea.MouseClickMsg, tea.MouseWheelMsg:
		s.list.mouse(msg, 1) // below the verification line
		return s.more()
	}
	return nil
}

// seqText writes an entry's number as an identifier, never grouped.
func seqText(n int64) string { return strconv.FormatInt(n, 10) }

func auditColumns(c *Common) []listColumn[*ecoutev1.AuditEvent] {
	type ev = *ecoutev1.AuditEvent
	return []listColumn[ev]{
		{title: colSeq, width: 7, drop: 3, right: true, cell: func(e ev) string { return seqText(e.GetSeq()) }},
		{title: c.T(colTime), width: 19, cell: func(e ev) string {
			if !sent(e.GetTime()) {
				return ""
			}
			return e.GetTime().AsTime().In(c.loc()).Format(time.DateTime)
		}},
		{title: c.T(colLogin), drop: 1, cell: func(e ev) string { return e.GetUserLogin() }},
		{title: c.T(colRole), width: 11, drop: 4, cell: func(e ev) string { return c.roleText(e.GetRole()) }},
		{title: c.T(colAction), cell: func(e ev) string { return e.GetAction() }},
		{title: c.T(colTarget), drop: 2, cell: func(e ev) string { return e.GetTarget() }},
	}
}

func (s *auditScreen) View() string {
	st := s.c.Styles
	var line string
	switch {
	case s.result == "":
		line = st.Muted.Render(s.c.T(auditVerifyHint))
	case s.resOK:
		line = st.Ok.Render("✓ " + s.result)
	case s.verifying:
		line = st.Subtle.Render(s.result)
	default:
		line = st.Error.Render("✗ " + s.result)
	}
	foot := ""
	if n := len(s.list.rows); n > 0 {
		more := ""
		if !s.list.done {
			more = "+"
		}
		foot = s.c.T(auditPosition, s.list.cursor+1, n, more)
	}
	return ansi.Truncate(line, s.width, "…") + "\n" + s.list.view(st, foot)
}

func (s *auditScreen) Keys() []Group {
	k := s.keys
	return []Group{
		{Title: s.c.T(helpGroupAudit), Keys: []Binding{s.verify, k.Reload}},
		{Title: s.c.T(helpGroupMove), Keys: []Binding{k.Down, k.Up, k.PageUp, k.PageDown, k.Top, k.Bottom}},
	}
}
