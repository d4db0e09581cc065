package tui

import (
	"context"

	tea "charm.land/bubbletea/v2"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/client"
)

type evalListMsg struct {
	list []*ecoutev1.Evaluation
	err  error
}

// evalListPage is how many evaluations the list asks for.
const evalListPage = 500

// evalListScreen lists the evaluations the role may read, with their
// status and the date they will be deleted (R4, R12). An agent sees
// theirs; a supervisor can narrow the list to the disputes to resolve.
type evalListScreen struct {
	c        *Common
	id       int
	keys     EvalListKeys
	moves    CallsKeys
	list     *list[*ecoutev1.Evaluation]
	disputes bool
}

func newEvalListScreen(c *Common) *evalListScreen {
	s := &evalListScreen{c: c, id: c.NextSeq(), keys: newEvalListKeys(c.printer()), moves: newCallsKeys(c.printer())}
	c.KeyOverrides.apply("evaluations", &s.keys)
	c.KeyOverrides.apply("calls", &s.moves)
	// The list's own up and down are the evaluation list's keys.
	s.moves.Up, s.moves.Down = s.keys.Up, s.keys.Down
	type ev = *ecoutev1.Evaluation
	s.list = newList(c, []listColumn[ev]{
		{title: c.T(evalColCall), width: 16, cell: func(e ev) string { return fmtTime(e.GetCallStartedAt(), c.loc()) }},
		{title: c.T(evalColAgent), drop: 2, cell: ev.GetAgentName},
		{title: c.T(evalColStatus), width: 12, cell: func(e ev) string { return c.statusText(e.GetStatus()) }},
		{title: c.T(evalColTotal), width: 9, right: true, cell: func(e ev) string { return c.totalShort(e.GetScore()) }},
		{title: c.T(evalColKept), width: 10, drop: 1, cell: func(e ev) string { return fmtDay(e.GetRetainedUntil(), c.loc()) }},
		{title: c.T(evalColGrid), drop: 3, cell: ev.GetGridName},
	}, evalListEmpty, 0)
	return s
}

func (s *evalListScreen) ID() int { return s.id }

func (s *evalListScreen) Title() string {
	if s.disputes {
		return s.c.T(evalListDisputesTitle)
	}
	return s.c.T(evalListTitle)
}

func (s *evalListScreen) SetSize(w, h int) { s.list.setSize(w, h) }

func (s *evalListScreen) Init() tea.Cmd {
	s.list.loading = true
	q := client.EvaluationQuery{PageSize: evalListPage}
	if s.disputes {
		q.Statuses = []ecoutev1.EvaluationStatus{ecoutev1.EvaluationStatus_EVALUATION_STATUS_DISPUTED}
	}
	b := s.c.Backend
	return s.c.request(s.id, "list", func(ctx context.Context) (tea.Msg, error) {
		l, err := b.ListEvaluations(ctx, q)
		return evalListMsg{list: l, err: err}, err
	})
}

func (s *evalListScreen) open() tea.Cmd {
	if e, ok := s.list.selected(); ok {
		return cmdOf(OpenEvaluationMsg{CallID: e.GetCallId(), EvaluationID: e.GetEvaluationId()})
	}
	return nil
}

func (s *evalListScreen) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case evalListMsg:
		if s.list.failedOn(msg.err, s.c) {
			return nil
		}
		s.list.setRows(msg.list)
	case tea.KeyPressMsg:
		if s.list.moveKey(msg, s.moves) {
			return nil
		}
		k := s.keys
		switch {
		case on(msg, k.Open):
			return s.open()
		case on(msg, k.Disputes):
			s.disputes = !s.disputes
			s.list.reset()
			return s.Init()
		case on(msg, k.Reload):
			return s.Init()
		case on(msg, statsBinding(s.c)):
			return cmdOf(OpenStatsMsg{})
		}
	case tea.MouseClickMsg, tea.MouseWheelMsg:
		if s.list.mouse(msg, 0) == clickOpen {
			return s.open()
		}
	}
	return nil
}

func (s *evalListScreen) View() string {
	foot := ""
	if !s.list.loading || len(s.list.rows) > 0 {
		foot = s.c.T(evalListCount, len(s.list.rows))
	}
	return s.list.view(s.c.Styles, foot)
}

func (s *evalListScreen) Keys() []Group {
	k := s.keys
	d := k.Disputes
	if !s.c.May(methodResolveDispute) {
		d.disable(s.c.T(evalReadOnlyRole, s.c.role()))
	}
	m := s.moves
	return []Group{{Title: s.c.T(helpGroupEvalList), Keys: []Binding{k.Up, k.Down, m.PageUp, m.PageDown, k.Open, d, k.Reload,
		statsBinding(s.c)}}}
}
