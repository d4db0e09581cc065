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

type evalListMsg struct {
	screen int
	list   []*ecoutev1.Evaluation
	err    error
}

func (m evalListMsg) rpcErr() error { return m.err }

// evalListScreen lists the evaluations the role may read, with their
// status and the date they will be deleted (R4, R12). An agent sees
// theirs; a supervisor can narrow the list to the disputes to resolve.
type evalListScreen struct {
	c        *Common
	id       int
	keys     EvalListKeys
	list     []*ecoutev1.Evaluation
	cur, top int
	disputes bool
	loading  bool
	err      string
	width    int
	height   int
}

func newEvalListScreen(c *Common) *evalListScreen {
	s := &evalListScreen{c: c, id: c.NextSeq(), keys: newEvalListKeys(), loading: true}
	c.KeyOverrides.apply("evaluations", &s.keys)
	return s
}

func (s *evalListScreen) Title() string {
	if s.disputes {
		return evalListDisputesTitle
	}
	return evalListTitle
}

func (s *evalListScreen) SetSize(w, h int) { s.width, s.height = w, h }

func (s *evalListScreen) Init() tea.Cmd {
	id, ctx, disputes := s.id, s.c.Ctx, s.disputes
	eb, ok := s.c.Backend.(EvalBackend)
	s.loading = true
	return s.c.rpc(func() tea.Msg {
		if !ok {
			return evalListMsg{screen: id, err: errNoEvaluations}
		}
		ctx, cancel := context.WithTimeout(ctx, rpcTimeout)
		defer cancel()
		req := &ecoutev1.ListEvaluationsRequest{PageSize: 500}
		if disputes {
			req.Statuses = []ecoutev1.EvaluationStatus{ecoutev1.EvaluationStatus_EVALUATION_STATUS_DISPUTED}
		}
		r, err := eb.Evaluations().ListEvaluations(ctx, req)
		return evalListMsg{screen: id, list: r.GetEvaluations(), err: err}
	})
}

func (s *evalListScreen) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case evalListMsg:
		if msg.screen != s.id {
			return nil
		}
		s.loading = false
		if msg.err != nil {
			s.err = explain(msg.err, s.c.ServerAddr)
			if msg.err == errNoEvaluations {
				s.err = evalUnsupported
			}
			return nil
		}
		s.err, s.list = "", msg.list
		s.cur = min(s.cur, max(0, len(s.list)-1))
	case tea.KeyPressMsg:
		k := s.keys
		switch {
		case on(msg, k.Up):
			s.cur = max(0, s.cur-1)
		case on(msg, k.Down):
			s.cur = min(len(s.list)-1, s.cur+1)
		case on(msg, k.Open):
			if s.cur < len(s.list) {
				e := s.list[s.cur]
				return cmdOf(OpenEvaluationMsg{CallID: e.GetCallId(), EvaluationID: e.GetEvaluationId()})
			}
		case on(msg, k.Disputes):
			s.disputes, s.cur, s.top = !s.disputes, 0, 0
			return s.Init()
		case on(msg, k.Reload):
			return s.Init()
		}
	}
	return nil
}

func (s *evalListScreen) View() string {
	st := s.c.Styles
	pad := lipgloss.NewStyle().Padding(1, 1)
	switch {
	case s.err != "":
		return pad.Render(st.Error.Render(s.err))
	case s.loading && len(s.list) == 0:
		return pad.Render(st.Subtle.Render(evalLoading))
	case len(s.list) == 0:
		return pad.Render(st.Subtle.Render(evalListEmpty))
	}
	cols := []int{16, 22, 13, 10, 10}
	cell := func(i int, v string) string {
		// Truncate, never wrap: one evaluation, one line.
		v = ansi.Truncate(v, cols[i], "…")
		return v + strings.Repeat(" ", max(0, cols[i]-lipgloss.Width(v)))
	}
	row := func(vals ...string) string {
		var b strings.Builder
		for i, v := range vals {
			if i < len(cols) {
				b.WriteString(cell(i, v) + " ")
			} else {
				b.WriteString(v)
			}
		}
		return b.String()
	}
	lines := []string{st.TableHeader.Render(row(evalColCall, evalColAgent, evalColStatus, evalColTotal, evalColKept, evalColGrid))}
	avail := max(1, s.height-4)
	if s.cur < s.top {
		s.top = s.cur
	}
	if s.cur >= s.top+avail {
		s.top = s.cur - avail + 1
	}
	for i := s.top; i < min(len(s.list), s.top+avail); i++ {
		e := s.list[i]
		kept := e.GetRetainedUntil().AsTime().In(s.c.loc()).Format("2006-01-02")
		r := row(fmtTime(e.GetCallStartedAt(), s.c.loc()), e.GetAgentName(), statusText(e.GetStatus()),
			totalShort(e.GetScore()), kept, e.GetGridName())
		if i == s.cur {
			lines = append(lines, st.TableSelected.Render(r))
		} else {
			lines = append(lines, st.TableCell.Render(r))
		}
	}
	lines = append(lines, "", st.Muted.Render(fmt.Sprintf(evalListCount, len(s.list))))
	return pad.Render(strings.Join(lines, "\n"))
}

func (s *evalListScreen) Keys() []Group {
	k := s.keys
	d := k.Disputes
	if !s.c.May(methodResolveDispute) {
		d.disable(fmt.Sprintf(evalReadOnlyRole, s.c.role()))
	}
	return []Group{{Title: helpGroupEvalList, Keys: []Binding{k.Up, k.Down, k.Open, d, k.Reload}}}
}
