package tui

import (
	"context"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/internal/i18n"
)

// The register screen is the dpo's list of the requests of the people
// concerned (R7): open ones first, soonest due first, each with the days
// left, overdue ones in the danger colour; `c` shows the closed ones too.
// Requests are recorded, and closed by the export or erasure that answers
// them, with ecouted (requests add, export-subject --request…).

const methodListPrivacyRequests = "/ecoute.v1.PrivacyRequestService/ListPrivacyRequests"

// Words of the register screen (internal/i18n/locales).
const (
	requestsTitle     i18n.Key = "requestsTitle"
	requestsEmpty     i18n.Key = "requestsEmpty"
	requestsCount     i18n.Key = "requestsCount"
	requestsCountAll  i18n.Key = "requestsCountAll"
	keyRequests       i18n.Key = "keyRequests"
	keyRequestsClosed i18n.Key = "keyRequestsClosed"
	reasonNoRequests  i18n.Key = "reasonNoRequests"
	colKind           i18n.Key = "colKind"
	colReceived       i18n.Key = "colReceived"
	colChannel        i18n.Key = "colChannel"
	colSubject        i18n.Key = "colSubject"
	colRequester      i18n.Key = "colRequester"
	colDue            i18n.Key = "colDue"
	requestOverdue    i18n.Key = "requestOverdue"
	requestDaysLeft   i18n.Key = "requestDaysLeft"
	requestClosed     i18n.Key = "requestClosed"
)

// OpenRequestsMsg asks the App to open the register.
type OpenRequestsMsg struct{}

type requestsMsg struct {
	requests []*ecoutev1.PrivacyRequest
	err      error
}

// requestsBinding is the accounts screen's key to the register, disabled
// with the reason for a role that does not keep it.
func requestsBinding(c *Common) Binding {
	b := bind(c.printer(), false, "R", c.T(keyRequests), "R")
	if !c.May(methodListPrivacyRequests) {
		b.disable(c.T(reasonNoRequests, c.role()))
	}
	return b
}

type requestsScreen struct {
	c      *Common
	id     int
	keys   CallsKeys // the moves are the call list's
	closed Binding
	all    bool
	list   *list[*ecoutev1.PrivacyRequest]
	width  int
}

func newRequestsScreen(c *Common) *requestsScreen {
	s := &requestsScreen{c: c, id: c.NextSeq(), keys: newCallsKeys(c.printer()), closed: bind(c.printer(), true, "c", c.T(keyRequestsClosed), "c")}
	c.KeyOverrides.apply("calls", &s.keys)
	type req = *ecoutev1.PrivacyRequest
	day := func(t interface{ AsTime() time.Time }) string { return t.AsTime().In(c.loc()).Format(time.DateOnly) }
	s.list = newList(c, []listColumn[req]{
		{title: c.T(colKind), width: 13, cell: func(r req) string { return c.requestKind(r.GetKind()) }},
		{title: c.T(colReceived), width: 10, drop: 2, cell: func(r req) string { return day(r.GetReceivedAt()) }},
		{title: c.T(colChannel), width: 9, drop: 4, cell: req.GetChannel},
		{title: c.T(colSubject), cell: requestSubject},
		{title: c.T(colRequester), drop: 3, cell: req.GetRequester},
		{title: c.T(colDue), width: 10, drop: 1, cell: func(r req) string { return day(r.GetDueAt()) }},
		{title: c.T(colState), cell: func(r req) string { return c.requestState(r, day) }},
	}, requestsEmpty, 0)
	return s
}

func requestSubject(r *ecoutev1.PrivacyRequest) string {
	if r.GetCustomerPhoneE164() != "" {
		return r.GetCustomerPhoneE164()
	}
	return r.GetAgentId()
}

// requestState says how long a request has left, or when it was closed.
func (c *Common) requestState(r *ecoutev1.PrivacyRequest, day func(interface{ AsTime() time.Time }) string) string {
	switch {
	case r.GetStatus() != "open":
		return c.T(requestClosed, day(r.GetClosedAt()))
	case r.GetOverdue():
		return c.T(requestOverdue, -r.GetDaysLeft())
	}
	return c.T(requestDaysLeft, r.GetDaysLeft())
}

// requestKind is a request's right (access, rectification …) in words.
func (c *Common) requestKind(kind string) string {
	if k := i18n.Key("requestKind." + kind); i18n.Has(c.printer().Lang(), k) {
		return c.T(k)
	}
	return kind
}

func (s *requestsScreen) ID() int       { return s.id }
func (s *requestsScreen) Title() string { return s.c.T(requestsTitle) }

func (s *requestsScreen) SetSize(w, h int) {
	s.width = w
	s.list.setSize(w, h-1) // the count line is above the list
}

func (s *requestsScreen) Init() tea.Cmd { return s.load() }

func (s *requestsScreen) load() tea.Cmd {
	s.list.loading = true
	b, all := s.c.Backend, s.all
	return s.c.request(s.id, "list", func(ctx context.Context) (tea.Msg, error) {
		rs, err := b.ListPrivacyRequests(ctx, all)
		return requestsMsg{requests: rs, err: err}, err
	})
}

func (s *requestsScreen) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case requestsMsg:
		if s.list.failedOn(msg.err, s.c) {
			return nil
		}
		s.list.setRows(msg.requests)
	case tea.KeyPressMsg:
		if s.list.moveKey(msg, s.keys) {
			return nil
		}
		switch {
		case on(msg, s.keys.Reload):
			return s.load()
		case on(msg, s.closed):
			s.all = !s.all
			return s.load()
		}
	case tea.MouseClickMsg, tea.MouseWheelMsg:
		s.list.mouse(msg, 1) // below the count line
	}
	return nil
}

func (s *requestsScreen) View() string {
	st := s.c.Styles
	open, overdue := 0, 0
	for _, r := range s.list.rows {
		if r.GetStatus() == "open" {
			open++
		}
		if r.GetOverdue() {
			overdue++
		}
	}
	line := ""
	switch {
	case s.list.loading && len(s.list.rows) == 0:
	case s.all:
		line = s.c.T(requestsCountAll, len(s.list.rows), open, overdue)
	default:
		line = s.c.T(requestsCount, open, overdue)
	}
	style := st.Muted
	if overdue > 0 {
		style = st.Error
	}
	return style.Render(ansi.Truncate(line, s.width, "…")) + "\n" + s.list.view(st, "")
}

func (s *requestsScreen) Keys() []Group {
	k := s.keys
	return []Group{{Title: s.c.T(requestsTitle), Keys: []Binding{k.Down, k.Up, k.PageDown, k.PageUp, k.Top, k.Bottom,
		k.Reload, s.closed}}}
}
