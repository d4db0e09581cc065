package tui

import "fmt"

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

func newEvalKeys() EvalKeys {
	return EvalKeys{
		Up:          bind(false, "↑/k", keyEvalUp, "up", "k"),
		Down:        bind(false, "↓/j", keyEvalDown, "down", "j"),
		Answer:      bind(true, "1-5", keyEvalAnswer, "1", "2", "3", "4", "5"),
		NA:          bind(false, ".", keyEvalNA, "."),
		Comment:     bind(true, "c", keyEvalComment, "c"),
		Note:        bind(true, "n", keyEvalNote, "n", "ctrl+n"),
		Submit:      bind(true, "s", keyEvalSubmit, "s"),
		Acknowledge: bind(true, "a", keyEvalAck, "a"),
		Dispute:     bind(true, "d", keyEvalDispute, "d"),
		Resolve:     bind(true, "r", keyEvalResolve, "r"),
		Revise:      bind(true, "R", keyEvalRevise, "R"),
		Confirm:     bind(false, "enter", keyEvalConfirm, "enter"),
		Cancel:      bind(false, "esc", keyEvalCancel, "esc"),
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

func newEvalListKeys() EvalListKeys {
	return EvalListKeys{
		Up:       bind(false, "↑/k", keyEvalUp, "up", "k"),
		Down:     bind(false, "↓/j", keyEvalDown, "down", "j"),
		Open:     bind(true, "enter", keyEvalOpen, "enter"),
		Disputes: bind(true, "d", keyEvalDisputes, "d"),
		Reload:   bind(true, "r", keyEvalReload, "r"),
	}
}

// evaluateBinding is the call screen's key to its evaluation.
func evaluateBinding(c *Common) Binding {
	b := bind(true, "e", keyEvaluate, "e")
	if !c.May(methodStartEvaluation) && !c.May(methodListEvaluations) {
		b.disable(fmt.Sprintf(evalReadOnlyRole, c.role()))
	}
	return b
}

// evaluationsBinding is the call list's key to the evaluation list.
func evaluationsBinding(c *Common) Binding {
	b := bind(true, "v", keyEvaluations, "v")
	if !c.May(methodListEvaluations) {
		b.disable(fmt.Sprintf(evalReadOnlyRole, c.role()))
	}
	return b
}
