package tui

import (
	"context"
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
)

// The accounts screen is the first screen of the roles that manage or
// audit accounts and read no calls (admin, dpo): the nominative list of
// who may use Écoute, with role, teams or agent and state (R8, R9).

const methodListUsers = "/ecoute.v1.AdminService/ListUsers"

// accountLister is a backend that can list the accounts.
type accountLister interface {
	ListAccounts(ctx context.Context) ([]*ecoutev1.Account, error)
}

// accountsHome tells whether the principal starts on the accounts screen.
func accountsHome(c *Common) bool {
	_, ok := c.Backend.(accountLister)
	return ok && c.Principal != nil && !c.May(methodListCalls) && c.May(methodListUsers)
}

type accountsMsg struct {
	seq      int
	accounts []*ecoutev1.Account
	err      error
}

func (m accountsMsg) rpcErr() error { return m.err }

type accountsScreen struct {
	c        *Common
	keys     CallsKeys
	accounts []*ecoutev1.Account
	cursor   int
	offset   int
	seq      int
	loading  bool
	err      string
	width    int
	height   int
}

func newAccountsScreen(c *Common) *accountsScreen {
	s := &accountsScreen{c: c, keys: newCallsKeys()}
	c.KeyOverrides.apply("calls", &s.keys)
	return s
}

func (s *accountsScreen) Title() string { return accountsTitle }

func (s *accountsScreen) SetSize(w, h int) { s.width, s.height = w, h }

func (s *accountsScreen) Init() tea.Cmd { return s.load() }

func (s *accountsScreen) load() tea.Cmd {
	al, ok := s.c.Backend.(accountLister)
	if !ok {
		return nil
	}
	s.loading, s.err = true, ""
	s.seq = s.c.NextSeq()
	seq, ctx := s.seq, s.c.Ctx
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, rpcTimeout)
		defer cancel()
		as, err := al.ListAccounts(ctx)
		return accountsMsg{seq: seq, accounts: as, err: err}
	}
}

func (s *accountsScreen) bodyRows() int { return max(1, s.height-3) }

func (s *accountsScreen) move(d int) {
	s.cursor = max(0, min(len(s.accounts)-1, s.cursor+d))
	if s.cursor < s.offset {
		s.offset = s.cursor
	}
	if s.cursor >= s.offset+s.bodyRows() {
		s.offset = s.cursor - s.bodyRows() + 1
	}
}

func (s *accountsScreen) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case accountsMsg:
		if msg.seq != s.seq {
			return nil
		}
		s.loading = false
		if msg.err != nil {
			s.err = explain(msg.err, s.c.ServerAddr)
			return nil
		}
		s.accounts = msg.accounts
		s.move(0)
	case tea.KeyPressMsg:
		switch {
		case on(msg, s.keys.Up):
			s.move(-1)
		case on(msg, s.keys.Down):
			s.move(1)
		case on(msg, s.keys.PageUp):
			s.move(-s.bodyRows())
		case on(msg, s.keys.PageDown):
			s.move(s.bodyRows())
		case on(msg, s.keys.Reload):
			return s.load()
		case on(msg, auditBinding(s.c)):
			return cmdOf(OpenAuditMsg{})
		}
	}
	return nil
}

// accountState says in words what stops or limits an account.
func accountState(a *ecoutev1.Account) string {
	var st []string
	if a.GetDisabled() {
		st = append(st, accountDisabled)
	}
	if a.GetPasswordChangeRequired() {
		st = append(st, accountMustChange)
	}
	if a.GetLockedUntil() != nil {
		st = append(st, accountLocked)
	}
	if len(st) == 0 {
		return accountActive
	}
	return strings.Join(st, ", ")
}

func (s *accountsScreen) View() string {
	st := s.c.Styles
	switch {
	case s.err != "":
		return st.Error.Render(s.err)
	case s.loading && len(s.accounts) == 0:
		return st.Subtle.Render(accountsLoading)
	}
	cols := []struct {
		title string
		width int
		value func(*ecoutev1.Account) string
	}{
		{colLogin, 18, (*ecoutev1.Account).GetLogin},
		{colName, 30, (*ecoutev1.Account).GetDisplayName},
		{colRole, 12, (*ecoutev1.Account).GetRole},
		{colLinked, 26, func(a *ecoutev1.Account) string {
			if a.GetAgentId() != "" {
				return a.GetAgentId()
			}
			return strings.Join(a.GetTeamIds(), ", ")
		}},
		{colState, 30, accountState},
	}
	cell := func(text string, w int) string {
		text = ansi.Truncate(text, w, "…")
		return text + strings.Repeat(" ", max(0, w-lipgloss.Width(text)))
	}
	// On a narrow terminal the teams, then the name give way.
	width := -2
	for _, c := range cols {
		width += c.width + 2
	}
	for _, i := range []int{3, 1} {
		if over := width - s.width; over > 0 {
			cut := min(over, cols[i].width-14)
			cols[i].width -= cut
			width -= cut
		}
	}
	fit := func(line string) string { return ansi.Truncate(line, s.width, "…") }
	var head []string
	for _, c := range cols {
		head = append(head, cell(c.title, c.width))
	}
	// The header style draws its own rule.
	lines := []string{
		st.Muted.Render(fit(fmt.Sprintf(accountsCount, len(s.accounts)))),
		st.TableHeader.Render(fit(strings.Join(head, "  "))),
	}
	for i := s.offset; i < len(s.accounts) && i < s.offset+s.bodyRows(); i++ {
		var row []string
		for _, c := range cols {
			row = append(row, cell(c.value(s.accounts[i]), c.width))
		}
		style := st.TableCell
		if i == s.cursor {
			style = st.TableSelected
		}
		lines = append(lines, style.Render(fit(strings.Join(row, "  "))))
	}
	return strings.Join(lines, "\n")
}

func (s *accountsScreen) Keys() []Group {
	return []Group{{Title: accountsTitle, Keys: []Binding{s.keys.Down, s.keys.Up, s.keys.PageDown, s.keys.PageUp,
		s.keys.Reload, auditBinding(s.c)}}}
}
