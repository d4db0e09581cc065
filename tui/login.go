package tui

import (
	"context"
	"errors"
	"strings"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/client"
	"github.com/ecoute/ecoute/themes"
)

// loginResultMsg answers the login request.
type loginResultMsg struct {
	resp *ecoutev1.LoginResponse
	err  error
}

type loginScreen struct {
	c      *Common
	id     int
	keys   LoginKeys
	inputs [2]textinput.Model // login, password
	focus  int
	busy   bool
	err    string
	notice string // e.g. a new server's CA was pinned
	width  int
	height int
	auto   bool // submit at Init (demo auto-login)
}

func newLoginScreen(c *Common, login, password string) *loginScreen {
	s := &loginScreen{c: c, id: c.NextSeq(), keys: newLoginKeys(c.printer())}
	c.KeyOverrides.apply("login", &s.keys)
	for i := range s.inputs {
		ti := textinput.New()
		ti.Prompt = ""
		ti.CharLimit = 128
		s.inputs[i] = ti
	}
	s.inputs[0].Placeholder = c.T(loginPlaceholderLogin)
	s.inputs[1].Placeholder = c.T(loginPlaceholderPassword)
	s.inputs[1].EchoMode = textinput.EchoPassword
	s.inputs[1].EchoCharacter = '•'
	s.inputs[0].SetValue(login)
	s.inputs[1].SetValue(password)
	s.auto = login != "" && password != ""
	s.Restyle()
	return s
}

func (s *loginScreen) ID() int       { return s.id }
func (s *loginScreen) Title() string { return s.c.T(loginTitle) }

func (s *loginScreen) Typing() bool { return true }

func (s *loginScreen) Restyle() {
	for i := range s.inputs {
		s.inputs[i].SetStyles(s.c.Styles.TextInput)
	}
}

func (s *loginScreen) Init() tea.Cmd {
	first := 0
	if s.inputs[0].Value() != "" {
		first = 1 // the login was given: type the password
	}
	cmd := s.setFocus(first)
	if s.auto {
		return tea.Batch(cmd, s.submit())
	}
	return cmd
}

func (s *loginScreen) SetSize(w, h int) {
	s.width, s.height = w, h
	for i := range s.inputs {
		s.inputs[i].SetWidth(min(40, max(10, w-20)))
	}
}

func (s *loginScreen) setFocus(i int) tea.Cmd {
	s.focus = i
	return focusOnly(s.inputs[:], i)
}

// focusOnly focuses field i of a form and blurs the others.
func focusOnly(inputs []textinput.Model, i int) tea.Cmd {
	for j := range inputs {
		inputs[j].Blur()
	}
	return inputs[i].Focus()
}

func (s *loginScreen) submit() tea.Cmd {
	login := strings.TrimSpace(s.inputs[0].Value())
	password := s.inputs[1].Value()
	switch {
	case login == "":
		s.err = s.c.T(loginErrEmptyLogin)
		return s.setFocus(0)
	case password == "":
		s.err = s.c.T(loginErrEmptyPassword)
		return s.setFocus(1)
	}
	s.busy, s.err = true, ""
	b := s.c.Backend
	return s.c.request(s.id, "login", func(ctx context.Context) (tea.Msg, error) {
		resp, err := b.Login(ctx, login, password)
		return loginResultMsg{resp: resp, err: err}, err
	})
}

func (s *loginScreen) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case loginResultMsg:
		s.busy = false
		if msg.err != nil {
			s.err = s.explainLogin(msg.err)
			return s.setFocus(1)
		}
		return cmdOf(loggedInMsg{resp: msg.resp})
	case tea.KeyPressMsg:
		if s.busy {
			return nil
		}
		switch {
		case on(msg, s.keys.Submit):
			if s.focus == 0 && s.inputs[1].Value() == "" {
				return s.setFocus(1)
			}
			return s.submit()
		case on(msg, s.keys.Next):
			return s.setFocus((s.focus + 1) % len(s.inputs))
		case on(msg, s.keys.Prev):
			return s.setFocus((s.focus + len(s.inputs) - 1) % len(s.inputs))
		}
	}
	var cmd tea.Cmd
	s.inputs[s.focus], cmd = s.inputs[s.focus].Update(msg)
	return cmd
}

func (s *loginScreen) explainLogin(err error) string {
	var bad *client.ErrBadCredentials
	var forbidden *client.ErrForbidden
	var refused *client.ErrRefused
	switch {
	case errors.As(err, &bad):
		return s.c.T(loginErrWrong)
	case errors.As(err, &forbidden), errors.As(err, &refused):
		// Locked or disabled accounts: the reason says which.
		if text, ok := s.c.reasonText(err); ok {
			return text
		}
		return client.ServerMessage(err)
	}
	return s.c.explain(err)
}

func (s *loginScreen) View() string {
	st := s.c.Styles
	label := func(i int, text string) string {
		if s.focus == i {
			return st.Focused.Render(text)
		}
		return st.Label.Render(text)
	}
	lw := max(lipgloss.Width(s.c.T(loginLabelLogin)), lipgloss.Width(s.c.T(loginLabelPassword))) + 1
	row := func(i int, text string) string {
		return lipgloss.JoinHorizontal(lipgloss.Top,
			lipgloss.NewStyle().Width(lw).Render(label(i, text)), " ", s.inputs[i].View())
	}
	lines := []string{
		st.Title.Render(s.c.T(loginHeading)),
		st.Subtle.Render(s.c.ServerAddr),
		"",
	}
	textWidth := min(72, max(20, s.width-6))
	if s.notice != "" {
		lines = append(lines, st.Warn.Width(textWidth).Render(s.notice), "")
	}
	lines = append(lines,
		row(0, s.c.T(loginLabelLogin)),
		row(1, s.c.T(loginLabelPassword)),
		"",
	)
	return formBox(st, s.width, s.height, textWidth, lines, s.busy, s.err, s.c.T(loginBusy), s.c.T(loginHint))
}

// formBox ends a form (login, password) with its state line — busy, the
// error, or the hint — and centres it in a box.
func formBox(st themes.Styles, width, height, textWidth int, lines []string, busy bool, err, busyText, hint string) string {
	switch {
	case busy:
		lines = append(lines, st.Subtle.Render(busyText))
	case err != "":
		lines = append(lines, st.Error.Width(textWidth).Render(err))
	default:
		lines = append(lines, st.Muted.Render(hint))
	}
	box := st.Box.Render(lipgloss.JoinVertical(lipgloss.Left, lines...))
	return lipgloss.Place(width, height, lipgloss.Center, lipgloss.Center, box)
}

func (s *loginScreen) Keys() []Group {
	return []Group{{Title: s.c.T(helpGroupLogin), Keys: []Binding{s.keys.Submit, s.keys.Next, s.keys.Prev, s.keys.Quit}}}
}
