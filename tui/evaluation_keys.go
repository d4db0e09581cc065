package tui

import "github.com/ecoute/ecoute/internal/i18n"

// EvalKeys are the evaluation screen's keys. Answers are typed by the
// number shown next to each option, as on a paper grid; the player's
// space and arrows keep working.
type EvalKeys struct {
	Up          Binding
	Down        Binding
	Answer      Binding
	NA          Binding
	Comment     Binding
	Note        Binding
	Submit      Binding
	Acknowledge Binding
	Dispute     Binding
	Resolve     Binding
	Revise      Binding
	Confirm     Binding
	Cancel      Binding
}

func newEvalKeys(tr *i18n.Printer) EvalKeys {
	return EvalKeys{
		Up:          bind(tr, false, "↑/k", tr.T(keyEvalUp), "up", "k"),
		Down:        bind(tr, false, "↓/j", tr.T(keyEvalDown), "down", "j"),
		Answer:      bind(tr, true, "1-5", tr.T(keyEvalAnswer), "1", "2", "3", "4", "5"),
		NA:          bind(tr, false, ".", tr.T(keyEvalNA), "."),
		Comment:     bind(tr, true, "c", tr.T(keyEvalComment), "c"),
		Note:        bind(tr, true, "n", tr.T(keyEvalNote), "n", "ctrl+n"),
		Submit:      bind(tr, true, "s", tr.T(keyEvalSubmit), "s"),
		Acknowledge: bind(tr, true, "a", tr.T(keyEvalAck), "a"),
		Dispute:     bind(tr, true, "d", tr.T(keyEvalDispute), "d"),
		Resolve:     bind(tr, true, "r", tr.T(keyEvalResolve), "r"),
		Revise:      bind(tr, true, "R", tr.T(keyEvalRevise), "R"),
		Confirm:     bind(tr, false, "enter", tr.T(keyEvalConfirm), "enter"),
		Cancel:      bind(tr, false, "esc", tr.T(keyEvalCancel), "esc"),
	}
}

// EvalListKeys are the evaluation list's keys.
type EvalListKeys struct {
	Up       Binding
	Down     Binding
	Open     Binding
	Disputes Binding
	Reload   Binding
}

func newEvalListKeys(tr *i18n.Printer) EvalListKeys {
	return EvalListKeys{
		Up:       bind(tr, false, "↑/k", tr.T(keyEvalUp), "up", "k"),
		Down:     bind(tr, false, "↓/j", tr.T(keyEvalDown), "down", "j"),
		Open:     bind(tr, true, "enter", tr.T(keyEvalOpen), "enter"),
		Disputes: bind(tr, true, "d", tr.T(keyEvalDisputes), "d"),
		Reload:   bind(tr, true, "r", tr.T(keyEvalReload), "r"),
	}
}

// evaluateBinding is the call screen's key to its evaluation.
func evaluateBinding(c *Common) Binding {
	b := bind(c.printer(), true, "e", c.T(keyEvaluate), "e")
	if !c.May(methodStartEvaluation) && !c.May(methodListEvaluations) {
		b.disable(c.T(evalReadOnlyRole, c.role()))
	}
	return b
}

// evaluationsBinding is the call list's key to the evaluation list.
func evaluationsBinding(c *Common) Binding {
	b := bind(c.printer(), true, "v", c.T(keyEvaluations), "v")
	if !c.May(methodListEvaluations) {
		b.disable(c.T(evalReadOnlyRole, c.role()))
	}
	return b
}
