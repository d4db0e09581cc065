package tui

import (
	"context"
	"fmt"
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
	b := bind(false, "A", keyAudit, "A")
	if !c.May(methodListAudit) {
		b.disable(fmt.Sprintf(reasonNoAudit, c.role()))
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
	width  int
	height int
}

func newAuditScreen(c *Common) *auditScreen {
	s := &auditScreen{c: c, keys: newCallsKeys(), id: c.NextSeq(), verify: bind(true, "v", keyVerifyAudit, "v")}
	c.KeyOverrides.apply("calls", &s.keys)
	if !c.May(methodVerifyAudit) {
		s.verify.disable(fmt.Sprintf(reasonNoAudit, c.role()))
	}
	s.list = newList(auditColumns(c), auditEmpty, callsPrefetch)
	return s
}

func (s *auditScreen) ID() int       { return s.id }
func (s *auditScreen) Title() string { return auditTitle }

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
	s.result = auditVerifying
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
		if s.list.failedOn(msg.err, s.c.ServerAddr) {
			return nil
		}
		s.list.add(msg.resp.GetEvents(), msg.resp.GetNextPageToken())
		return s.more()
	case auditVerifyMsg:
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

func auditColumns(c *Common) []listColumn[*ecoutev1.AuditEvent] {
	type ev = *ecoutev1.AuditEvent
	return []listColumn[ev]{
		{title: colSeq, width: 7, drop: 3, right: true, cell: func(e ev) string { return fmt.Sprint(e.GetSeq()) }},
		{title: colTime, width: 19, cell: func(e ev) string {
			if !sent(e.GetTime()) {
				return ""
			}
			return e.GetTime().AsTime().In(c.loc()).Format(time.DateTime)
		}},
		{title: colLogin, drop: 1, cell: func(e ev) string { return e.GetUserLogin() }},
		{title: colRole, width: 11, drop: 4, cell: func(e ev) string { return e.GetRole() }},
		{title: colAction, cell: func(e ev) string { return e.GetAction() }},
		{title: colTarget, drop: 2, cell: func(e ev) string { return e.GetTarget() }},
	}
}

func (s *auditScreen) View() string {
	st := s.c.Styles
	var line string
	switch {
	case s.result == "":
		line = st.Muted.Render(auditVerifyHint)
	case s.resOK:
		line = st.Ok.Render("✓ " + s.result)
	case s.result == auditVerifying:
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
		foot = fmt.Sprintf(auditPosition, s.list.cursor+1, n, more)
	}
	return ansi.Truncate(line, s.width, "…") + "\n" + s.list.view(st, foot)
}

func (s *auditScreen) Keys() []Group {
	k := s.keys
	return []Group{
		{Title: helpGroupAudit, Keys: []Binding{s.verify, k.Reload}},
		{Title: helpGroupMove, Keys: []Binding{k.Down, k.Up, k.PageUp, k.PageDown, k.Top, k.Bottom}},
	}
}
