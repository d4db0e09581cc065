package lifecycle

import (
	"testing"

	"github.com/ecoute/ecoute/backend/domain"
)

// coachMatrix is the whole life of a coaching session, written out by
// hand: the next status, or "W" for WRONG_STATUS.
var coachMatrix = map[string]map[Action]string{
	None:           {CoachOpen: "draft", CoachEdit: "W", CoachShare: "W", CoachAcknowledge: "W", CoachDispute: "W"},
	"draft":        {CoachOpen: "W", CoachEdit: "draft", CoachShare: "shared", CoachAcknowledge: "W", CoachDispute: "W"},
	"shared":       {CoachOpen: "W", CoachEdit: "W", CoachShare: "W", CoachAcknowledge: "acknowledged", CoachDispute: "disputed"},
	"acknowledged": {CoachOpen: "W", CoachEdit: "W", CoachShare: "W", CoachAcknowledge: "W", CoachDispute: "W"},
	"disputed":     {CoachOpen: "W", CoachEdit: "W", CoachShare: "W", CoachAcknowledge: "W", CoachDispute: "W"},
}

var coachActor = map[Action]string{CoachOpen: "trainer", CoachEdit: "trainer", CoachShare: "trainer",
	CoachAcknowledge: "agent", CoachDispute: "agent"}

func TestCoachingStatusActionAndRole(t *testing.T) {
	if len(coachMatrix) != len(CoachingStatuses) {
		t.Fatalf("the matrix has %d statuses, the package %d", len(coachMatrix), len(CoachingStatuses))
	}
	for _, st := range CoachingStatuses {
		row := coachMatrix[st]
		if len(row) != len(CoachingActions) {
			t.Fatalf("status %q: incomplete row", st)
		}
		for _, a := range CoachingActions {
			for _, role := range roles {
				next, err := CoachingNext(st, a, role)
				switch {
				case role != coachActor[a]:
					if !domain.Is(err, domain.ReasonRoleForbidden) {
						t.Errorf("%q %s by %q: want ROLE_FORBIDDEN, got %q, %v", st, a, role, next, err)
					}
				case row[a] == "W":
					e, ok := domain.As(err)
					if !ok || e.Reason != domain.ReasonWrongStatus || e.Meta[domain.MetaStatus] != st ||
						e.Meta[domain.MetaAction] != string(a) {
						t.Errorf("%q %s by %q: want WRONG_STATUS, got %q, %v", st, a, role, next, err)
					}
				default:
					if err != nil || next != row[a] {
						t.Errorf("%q %s by %q = %q, %v; want %q", st, a, role, next, err, row[a])
					}
				}
			}
		}
	}
}
