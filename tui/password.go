package tui

import (
	"context"
	"errors"
	"time"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"google.golang.org/protobuf/types/known/timestamppb"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/client"
)

// Identity pieces of the console: the change-password screen the server
// requires after a one-time or expired password, and the recording-period
// line an agent sees (R6).

const methodMyRecordingPeriods = "/ecoute.v1.RecordingPeriodService/MyRecordingPeriods"

type passwordChangedMsg struct {
	resp *ecoutev1.ChangePasswordResponse
	err  error
}

// passwordScreen asks for the current password and a new one twice.
type passwordScreen struct {
	c      *Common
	id     int
	login  *ecoutev1.LoginResponse // what to continue with once changed
	keys   LoginKeys
	inputs [3]textinput.Model // current, new, confirm
	focus  int
	busy   bool
	err    string
	width  int
	height int
}

func newPasswordScreen(c *Common, login *ecoutev1.LoginResponse) *passwordScreen {
	s := &passwordScreen{c: c, id: c.NextSeq(), login: login, keys: newLoginKeys(c.printer())}
	c.KeyOverrides.apply("login", &s.keys)
	s.keys.Submit.SetHelp(keyLabel(c.printer(), "enter"), c.T(keyChangePassword))
	for i := range s.inputs {
		ti := textinput.New()
		ti.Prompt = ""
		ti.CharLimit = 256
		ti.EchoMode = textinput.EchoPassword
		ti.EchoCharacter = '•'
		s.inputs[i] = ti
	}
	s.Restyle()
	return s
}

func (s *passwordScreen) ID() int       { return s.id }
func (s *passwordScreen) Title() string { return s.c.T(passwordTitle) }
func (s *passwordScreen) Typing() bool  { return true }

func (s *passwordScreen) Restyle() {
	for i := range s.inputs {
		s.inputs[i].SetStyles(s.c.Styles.TextInput)
	}
}

func (s *passwordScreen) Init() tea.Cmd { return s.setFocus(0) }

func (s *passwordScreen) SetSize(w, h int) {
	s.width, s.height = w, h
	for i := range s.inputs {
		s.inputs[i].SetWidth(min(40, max(10, w-28)))
	}
}

func (s *passwordScreen) setFocus(i int) tea.Cmd {
	s.focus = i
	return focusOnly(s.inputs[:], i)
}

func (s *passwordScreen) submit() tea.Cmd {
	cur, next, again := s.inputs[0].Value(), s.inputs[1].Value(), s.inputs[2].Value()
	switch {
	case cur == "":
		s.err = s.c.T(passwordErrCurrent)
		return s.setFocus(0)
	case next == "":
		s.err = s.c.T(passwordErrEmpty)
		return s.setFocus(1)
	case next != again:
		s.err = s.c.T(passwordErrMismatch)
		s.inputs[2].SetValue("")
		return s.setFocus(2)
	}
	s.busy, s.err = true, ""
	b := s.c.Backend
	return s.c.request(s.id, "change", func(ctx context.Context) (tea.Msg, error) {
		resp, err := b.ChangePassword(ctx, cur, next)
		var invalid *client.ErrInvalid
		if errors.As(err, &invalid) {
			// A refusal is the user's to fix, not a connection problem.
			return passwordChangedMsg{err: err}, nil
		}
		return passwordChangedMsg{resp: resp, err: err}, err
	})
}

func (s *passwordScreen) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case passwordChangedMsg:
		s.busy = false
		if msg.err != nil {
			var oldBad bool
			s.err, oldBad = s.c.explainPasswordRefusal(msg.err)
			if oldBad {
				return s.setFocus(0)
			}
			s.inputs[1].SetValue("")
			s.inputs[2].SetValue("")
			return s.setFocus(1)
		}
		// Continue as if the login had needed nothing: the new session
		// replaces the one the change retired.
		resp := &ecoutev1.LoginResponse{Token: msg.resp.GetToken(), ExpiresAt: msg.resp.GetExpiresAt(),
			Principal: s.login.GetPrincipal()}
		return tea.Batch(cmdOf(loggedInMsg{resp: resp}), cmdOf(StatusMsg{Text: s.c.T(passwordChanged)}))
	case tea.KeyPressMsg:
		if s.busy {
			return nil
		}
		switch {
		case on(msg, s.keys.Submit):
			if s.focus < len(s.inputs)-1 && s.inputs[s.focus].Value() != "" && s.inputs[s.focus+1].Value() == "" {
				return s.setFocus(s.focus + 1)
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

// explainPasswordRefusal turns a refused change into a sentence for the
// screen, from the field the server named; oldBad says the current
// password was the one refused.
func (c *Common) explainPasswordRefusal(err error) (text string, oldBad bool) {
	var invalid *client.ErrInvalid
	if !errors.As(err, &invalid) {
		return c.explain(err), false
	}
	if invalid.Field == "old_password" {
		return c.T(passwordErrOld), true
	}
	return c.T(passwordRefused, fieldDescription(invalid, "new_password")), false
}

// fieldDescription is what the server said is wrong with field, without
// the field's name (servers that send no field violation prefix their
// message with "field: ").
func fieldDescription(e *client.ErrInvalid, field string) string {
	d := e.Description()
	if len(d) > len(field)+2 && d[:len(field)+2] == field+": " {
		return d[len(field)+2:]
	}
	return d
}

func (s *passwordScreen) View() string {
	st := s.c.Styles
	labels := []string{s.c.T(passwordLabelCurrent), s.c.T(passwordLabelNew), s.c.T(passwordLabelAgain)}
	lw := 0
	for _, l := range labels {
		lw = max(lw, lipgloss.Width(l))
	}
	textWidth := min(72, max(20, s.width-6))
	lines := []string{st.Title.Render(s.c.T(passwordHeading)), st.Warn.Width(textWidth).Render(s.c.T(passwordWhy)), ""}
	for i, l := range labels {
		style := st.Label
		if s.focus == i {
			style = st.Focused
		}
		lines = append(lines, lipgloss.JoinHorizontal(lipgloss.Top,
			lipgloss.NewStyle().Width(lw+1).Render(style.Render(l)), " ", s.inputs[i].View()))
	}
	lines = append(lines, "", st.Muted.Width(textWidth).Render(s.c.T(passwordRules)), "")
	return formBox(st, s.width, s.height, textWidth, lines, s.busy, s.err, s.c.T(passwordBusy), s.c.T(passwordHint))
}

func (s *passwordScreen) Keys() []Group {
	return []Group{{Title: s.c.T(helpGroupPassword), Keys: []Binding{s.keys.Submit, s.keys.Next, s.keys.Prev, s.keys.Quit}}}
}

// periodsMsg carries the caller's recording periods.
type periodsMsg struct {
	resp *ecoutev1.MyRecordingPeriodsResponse
	err  error
}

// fetchPeriods asks for the recording periods when the role is told them;
// the answer is the App's.
func fetchPeriods(c *Common) tea.Cmd {
	if c.Principal == nil || !c.May(methodMyRecordingPeriods) {
		return nil
	}
	b := c.Backend
	return c.request(appID, "periods", func(ctx context.Context) (tea.Msg, error) {
		resp, err := b.MyRecordingPeriods(ctx)
		return periodsMsg{resp: resp, err: err}, err
	})
}

// periodsLine is the one line an agent reads under the title: when they
// may be recorded now and next. Supervisors and trainers, linked to
// several teams, get it for their first team and a count.
func periodsLine(c *Common, resp *ecoutev1.MyRecordingPeriodsResponse) string {
	teams := resp.GetTeams()
	if len(teams) == 0 {
		return ""
	}
	loc := c.Loc
	if loc == nil {
		loc = time.Local
	}
	// Periods usually run from midnight to midnight: the time is shown
	// only when it says something.
	when := func(ts *timestamppb.Timestamp) string {
		t := ts.AsTime().In(loc)
		if t.Hour() == 0 && t.Minute() == 0 {
			return t.Format(periodDateFmt)
		}
		return t.Format(periodDateTimeFmt)
	}
	// The end is excluded: a period ending at midnight is shown ending
	// on the day before, as people say it.
	span := func(p *ecoutev1.RecordingPeriod) string {
		end := p.GetEndsAt()
		if t := end.AsTime().In(loc); t.Hour() == 0 && t.Minute() == 0 {
			end = timestamppb.New(t.AddDate(0, 0, -1))
		}
		return when(p.GetStartsAt()) + " → " + when(end)
	}
	t := teams[0]
	cur, next := c.T(periodsNone), c.T(periodsNone)
	if t.GetCurrent() != nil {
		cur = span(t.GetCurrent())
	}
	if t.GetNext() != nil {
		next = span(t.GetNext())
	}
	line := c.T(periodsFmt, t.GetTeamName(), cur, next)
	if len(teams) > 1 {
		line += c.T(periodsMore, len(teams)-1)
	}
	return line
}
