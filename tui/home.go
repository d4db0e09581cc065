package tui

import (
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// homeScreen picks the first screen after login from what the role may
// call, so a role is never shown a screen it may not use (R8): the call
// list for those who read calls, the accounts for admin and dpo, the
// evaluations for roles that read only scores (hr), and otherwise a page
// that says what the role is for.
func homeScreen(c *Common) Screen {
	switch {
	case c.May(methodListCalls):
		return newCallsScreen(c)
	case accountsHome(c):
		return newAccountsScreen(c)
	case c.May(methodListEvaluations):
		return newEvalListScreen(c)
	case c.May(methodClientTables) && !c.May(methodListCalls):
		// The client department reads its fixed tables only (R8).
		return newClientTablesScreen(c)
	}
	return &roleHomeScreen{c: c, id: c.NextSeq()}
}

// roleHomeScreen is the first screen of a role that has no console screen
// yet (client: aggregated statistics only, which the console does not
// show yet).
type roleHomeScreen struct {
	c     *Common
	id    int
	width int
}

func (s *roleHomeScreen) ID() int                { return s.id }
func (s *roleHomeScreen) Init() tea.Cmd          { return nil }
func (s *roleHomeScreen) Update(tea.Msg) tea.Cmd { return nil }
func (s *roleHomeScreen) SetSize(w, _ int)       { s.width = w }
func (s *roleHomeScreen) Title() string          { return s.c.T(homeTitle) }
func (s *roleHomeScreen) Keys() []Group          { return nil }
func (s *roleHomeScreen) View() string {
	text := s.c.T(homeNothingYet, s.c.role())
	if s.width > 0 {
		text = ansi.Wordwrap(text, s.width, "")
	}
	return s.c.Styles.Subtle.Render(text)
}
