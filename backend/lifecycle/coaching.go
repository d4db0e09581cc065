package lifecycle

import (
	"fmt"
	"slices"

	"github.com/ecoute/ecoute/backend/domain"
)

// The life of a coaching session, as a table like the evaluation's:
//
//	(none) ──open──▶ draft ──edit──▶ draft (goals, clips, evaluations, notes)
//	                 draft ──share──▶ shared
//	                shared ──acknowledge──▶ acknowledged
//	                shared ──dispute──▶ disputed
//
// The trainer prepares a draft the agent does not see; once shared it is no
// longer edited, and the agent answers it once. Whose session it is (the
// trainer's own, the agent's own) is the coaching service's.

// Coaching session statuses (domain's).
const (
	CoachingDraft        = domain.CoachingDraft
	CoachingShared       = domain.CoachingShared
	CoachingAcknowledged = domain.CoachingAcknowledged
	CoachingDisputed     = domain.CoachingDisputed
)

// Coaching actions.
const (
	CoachOpen        Action = "open"
	CoachEdit        Action = "edit"
	CoachShare       Action = "share"
	CoachAcknowledge Action = "acknowledge"
	CoachDispute     Action = "dispute"
)

// CoachingActions lists every coaching action.
var CoachingActions = []Action{CoachOpen, CoachEdit, CoachShare, CoachAcknowledge, CoachDispute}

// CoachingStatuses lists every status, None first.
var CoachingStatuses = []string{None, CoachingDraft, CoachingShared, CoachingAcknowledged, CoachingDisputed}

var coachActors = map[Action][]string{
	CoachOpen:        {domain.RoleTrainer},
	CoachEdit:        {domain.RoleTrainer},
	CoachShare:       {domain.RoleTrainer},
	CoachAcknowledge: {domain.RoleAgent},
	CoachDispute:     {domain.RoleAgent},
}

var coachTable = map[step]string{
	{None, CoachOpen}:                  CoachingDraft,
	{CoachingDraft, CoachEdit}:         CoachingDraft,
	{CoachingDraft, CoachShare}:        CoachingShared,
	{CoachingShared, CoachAcknowledge}: CoachingAcknowledged,
	{CoachingShared, CoachDispute}:     CoachingDisputed,
}

var coachWhy = map[Action]string{
	CoachOpen:        "it exists already",
	CoachEdit:        "only a draft is edited; a shared session is final",
	CoachShare:       "only a draft is shared",
	CoachAcknowledge: "a shared session is acknowledged or disputed once",
	CoachDispute:     "a shared session is acknowledged or disputed once",
}

// CoachingNext is the status that action by role leads a coaching session
// to from status: ROLE_FORBIDDEN for a role that never takes the action,
// WRONG_STATUS (metadata status, action) when the status does not allow it.
func CoachingNext(status string, a Action, role string) (string, error) {
	who, known := coachActors[a]
	if !known {
		return "", domain.Internal("coaching lifecycle", fmt.Errorf("unknown action %q", a))
	}
	if !slices.Contains(who, role) {
		return "", domain.Forbidden(role, string(a), "a %s may not %s a coaching session", role, a)
	}
	if to, ok := coachTable[step{status, a}]; ok {
		return to, nil
	}
	shown := status
	if shown == None {
		shown = "not opened"
	}
	return "", domain.New(domain.ReasonWrongStatus, "the coaching session is %s: %s", shown, coachWhy[a]).
		With(domain.MetaStatus, status).With(domain.MetaAction, string(a))
}
