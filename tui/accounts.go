package tui

import (
	"context"
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
)

// The accounts screen is the first screen of the roles that manage or
// audit accounts and read no calls (admin, dpo): the nominative list of
// who may use Écoute, with role, teams or agent and state (R8, R9).

const methodListUsers = "/ecoute.v1.AdminService/ListUsers"

// accountsHome tells whether the principal starts on the accounts screen.
func accountsHome(c *Common) bool {
	return c.Principal != nil && !c.May(methodListCalls) && c.May(methodListUsers)
}

type accountsMsg struct {
	accounts []*ecoutev1.Account
	err      error
}

type accountsScreen struct {
	c     *Common
	id    int
	keys  CallsKeys
	list  *list[*ecoutev1.Account]
	width int
}

func newAccountsScreen(c *Common) *accountsScreen {
	s := &accountsScreen{c: c, id: c.NextSeq(), keys: newCallsKeys(c.printer())}
	c.KeyOverrides.apply("calls", &s.keys)
	type acc = *ecoutev1.Account
	s.list = newList(c, []listColumn[acc]{
		{title: c.T(colLogin), drop: 3, cell: acc.GetLogin},
		{title: c.T(colName), cell: acc.GetDisplayName},
		{title: c.T(colRole), width: 11, cell: acc.GetRole},
		{title: c.T(colLinked), drop: 2, cell: func(a acc) string {
			if a.GetAgentId() != "" {
				return a.GetAgentId()
			}
			return strings.Join(a.GetTeamIds(), ", ")
		}},
		{title: c.T(colState), drop: 1, cell: c.accountState},
	}, accountsEmpty, 0)
	return s
}

func (s *accountsScreen) ID() int       { return s.id }
func (s *accountsScreen) Title() string { return s.c.T(accountsTitle) }

func (s *accountsScreen) SetSize(w, h int) {
	s.width = w
	// The count line is above the list.
	s.list.setSize(w, h-1)
}

func (s *accountsScreen) Init() tea.Cmd { return s.load() }

func (s *accountsScreen) load() tea.Cmd {
	s.list.loading = true
	b := s.c.Backend
	return s.c.request(s.id, "list", func(ctx context.Context) (tea.Msg, error) {
		as, err := b.ListAccounts(ctx)
		return accountsMsg{accounts: as, err: err}, err
	})
}

func (s *accountsScreen) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case accountsMsg:
		if s.list.failedOn(msg.err, s.c) {
			return nil
		}
		s.list.setRows(msg.accounts)
	case tea.KeyPressMsg:
		if s.list.moveKey(msg, s.keys) {
			return nil
		}
		switch {
		case on(msg, s.keys.Reload):
			return s.load()
		case on(msg, auditBinding(s.c)):
			return cmdOf(OpenAuditMsg{})
		case on(msg, requestsBinding(s.c)):
			return cmdOf(OpenRequestsMsg{})
		}
	case tea.MouseClickMsg, tea.MouseWheelMsg:
		s.list.mouse(msg, 1) // below the count line
	}
	return nil
}

// accountState says in words what stops or limits an account.
func (c *Common) accountState(a *ecoutev1.Account) string {
	var st []string
	if a.GetDisabled() {
		st = append(st, c.T(accountDisabled))
	}
	if a.GetPasswordChangeRequired() {
		st = append(st, c.T(accountMustChange))
	}
	if a.GetLockedUntil() != nil {
		st = append(st, c.T(accountLocked))
	}
	if len(st) == 0 {
		return c.T(accountActive)
	}
	return strings.Join(st, ", ")
}

func (s *accountsScreen) View() string {
	st := s.c.Styles
	count := ""
	if !s.list.loading || len(s.list.rows) > 0 {
		count = s.c.T(accountsCount, len(s.list.rows))
	}
	return st.Muted.Render(ansi.Truncate(count, s.width, "…")) + "\n" + s.list.view(st, "")
}

func (s *accountsScreen) Keys() []Group {
	k := s.keys
	return []Group{{Title: s.c.T(accountsTitle), Keys: []Binding{k.Down, k.Up, k.PageDown, k.PageUp, k.Top, k.Bottom,
		k.Reload, auditBinding(s.c), requestsBinding(s.c)}}}
}
