// Package lifecycle is the life of an evaluation as a table: from a status,
// an action taken by a role leads to the next status, or is refused with a
// typed error. It decides nothing else (completeness, comments, the 30-day
// window and who the evaluated agent is are the evaluation service's), and
// depends on nothing but the domain values.
//
//	(none) ──start──▶ draft ──save──▶ draft
//	                  draft ──hand_over──▶ draft (another evaluator)
//	                  draft ──submit──▶ submitted
//	              submitted ──acknowledge──▶ acknowledged
//	              submitted ──dispute──▶ disputed ──resolve_kept|resolve_revised──▶ resolved
package lifecycle

import (
	"fmt"
	"slices"

	"github.com/ecoute/ecoute/backend/domain"
)

// Action is what a user does to an evaluation.
type Action string

// The actions, in the order of the life of an evaluation.
const (
	Start          Action = "start"
	Save           Action = "save"
	Submit         Action = "submit"
	Acknowledge    Action = "acknowledge"
	Dispute        Action = "dispute"
	ResolveKept    Action = "resolve_kept"
	ResolveRevised Action = "resolve_revised"
	// HandOver gives a draft to another supervisor (who of them may is the
	// evaluation service's: the evaluator, or anyone of the team when the
	// evaluator's account is disabled).
	HandOver Action = "hand_over"
)

// Actions lists every action.
var Actions = []Action{Start, Save, Submit, Acknowledge, Dispute, ResolveKept, ResolveRevised, HandOver}

// None is the status of a call that has no evaluation yet.
const None = ""

// Statuses lists every status, None first.
var Statuses = []string{None, domain.EvalDraft, domain.EvalSubmitted, domain.EvalAcknowledged,
	domain.EvalDisputed, domain.EvalResolved}

// actors are the roles that take each action, in any status: the
// supervisor evaluates and settles disputes, the evaluated agent answers.
var actors = map[Action][]string{
	Start:          {domain.RoleSupervisor},
	Save:           {domain.RoleSupervisor},
	Submit:         {domain.RoleSupervisor},
	Acknowledge:    {domain.RoleAgent},
	Dispute:        {domain.RoleAgent},
	ResolveKept:    {domain.RoleSupervisor},
	ResolveRevised: {domain.RoleSupervisor},
	HandOver:       {domain.RoleSupervisor},
}

type step struct {
	from   string
	action Action
}

// table is every allowed step; any other (status, action) pair is refused.
var table = map[step]string{
	{None, Start}:                         domain.EvalDraft,
	{domain.EvalDraft, Save}:              domain.EvalDraft,
	{domain.EvalDraft, HandOver}:          domain.EvalDraft,
	{domain.EvalDraft, Submit}:            domain.EvalSubmitted,
	{domain.EvalSubmitted, Acknowledge}:   domain.EvalAcknowledged,
	{domain.EvalSubmitted, Dispute}:       domain.EvalDisputed,
	{domain.EvalDisputed, ResolveKept}:    domain.EvalResolved,
	{domain.EvalDisputed, ResolveRevised}: domain.EvalResolved,
}

// why says, per action, what the action needs, for the refusal message.
var why = map[Action]string{
	Start:          "the call already has an evaluation",
	Save:           "only a draft can be edited",
	Submit:         "only a draft can be submitted",
	Acknowledge:    "it can be acknowledged or disputed once, after submission",
	Dispute:        "it can be acknowledged or disputed once, after submission",
	ResolveKept:    "only a disputed evaluation is resolved",
	ResolveRevised: "only a disputed evaluation is resolved",
	HandOver:       "only a draft is handed over",
}

// Next is the status that action by role leads to from status. A role
// that never takes the action is refused with ROLE_FORBIDDEN (metadata
// role, action); an action that does not apply to the status with
// ALREADY_SUBMITTED when it edits or submits an evaluation that left the
// draft state, else WRONG_STATUS (metadata status, action).
func Next(status string, a Action, role string) (string, error) {
	who, known := actors[a]
	if !known {
		return "", domain.Internal("evaluation lifecycle", fmt.Errorf("unknown action %q", a))
	}
	if !slices.Contains(who, role) {
		return "", domain.Forbidden(role, string(a), "a %s may not %s an evaluation", role, verb(a))
	}
	if to, ok := table[step{status, a}]; ok {
		return to, nil
	}
	shown := status
	if shown == None {
		shown = "not started"
	}
	r := domain.ReasonWrongStatus
	if (a == Save || a == Submit) && status != None && status != domain.EvalDraft {
		r = domain.ReasonAlreadySubmitted
	}
	return "", domain.New(r, "the evaluation is %s: %s", shown, why[a]).
		With(domain.MetaStatus, status).With(domain.MetaAction, string(a))
}

// Allowed tells whether role may take action a from status.
func Allowed(status string, a Action, role string) bool {
	_, err := Next(status, a, role)
	return err == nil
}

func verb(a Action) string {
	switch a {
	case ResolveKept, ResolveRevised:
		return "resolve"
	case HandOver:
		return "hand over"
	}
	return string(a)
}
