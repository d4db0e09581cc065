package lifecycle

import (
	"testing"

	"github.com/ecoute/ecoute/backend/domain"
)

// matrix is the whole life of an evaluation, written out by hand: for
// every status (rows) and action (columns), the next status, or the reason
// of the refusal ("S" = ALREADY_SUBMITTED, "W" = WRONG_STATUS).
var matrix = map[string]map[Action]string{
	None: {Start: "draft", Save: "W", Submit: "W", Acknowledge: "W", Dispute: "W",
		ResolveKept: "W", ResolveRevised: "W", HandOver: "W"},
	"draft": {Start: "W", Save: "draft", Submit: "submitted", Acknowledge: "W", Dispute: "W",
		ResolveKept: "W", ResolveRevised: "W", HandOver: "draft"},
	"submitted": {Start: "W", Save: "S", Submit: "S", Acknowledge: "acknowledged", Dispute: "disputed",
		ResolveKept: "W", ResolveRevised: "W", HandOver: "W"},
	"acknowledged": {Start: "W", Save: "S", Submit: "S", Acknowledge: "W", Dispute: "W",
		ResolveKept: "W", ResolveRevised: "W", HandOver: "W"},
	"disputed": {Start: "W", Save: "S", Submit: "S", Acknowledge: "W", Dispute: "W",
		ResolveKept: "resolved", ResolveRevised: "resolved", HandOver: "W"},
	"resolved": {Start: "W", Save: "S", Submit: "S", Acknowledge: "W", Dispute: "W",
		ResolveKept: "W", ResolveRevised: "W", HandOver: "W"},
}

// actor is who takes each action; every other role is refused whatever
// the status.
var actor = map[Action]string{Start: "supervisor", Save: "supervisor", Submit: "supervisor",
	Acknowledge: "agent", Dispute: "agent", ResolveKept: "supervisor", ResolveRevised: "supervisor",
	HandOver: "supervisor"}

var roles = []string{domain.RoleSupervisor, domain.RoleTrainer, domain.RoleAgent, domain.RoleHR, domain.RoleClient,
	domain.RoleMaintenance, domain.RoleDPO, domain.RoleAdmin, domain.RoleTelephony, domain.RoleSystem, ""}

func TestEveryStatusActionAndRole(t *testing.T) {
	if len(matrix) != len(Statuses) {
		t.Fatalf("the matrix has %d statuses, the package %d", len(matrix), len(Statuses))
	}
	allowed, refused := 0, 0
	for _, st := range Statuses {
		row, ok := matrix[st]
		if !ok || len(row) != len(Actions) {
			t.Fatalf("status %q: the matrix row is missing or incomplete", st)
		}
		for _, a := range Actions {
			want := row[a]
			for _, role := range roles {
				next, err := Next(st, a, role)
				switch {
				case role != actor[a]:
					if !domain.Is(err, domain.ReasonRoleForbidden) {
						t.Errorf("%q %s by %q: want ROLE_FORBIDDEN, got %q, %v", st, a, role, next, err)
						continue
					}
					e, _ := domain.As(err)
					if e.Meta[domain.MetaRole] != role || e.Meta[domain.MetaAction] != string(a) {
						t.Errorf("%q %s by %q: metadata %v", st, a, role, e.Meta)
					}
					refused++
				case want == "S" || want == "W":
					reason := map[string]domain.Reason{"S": domain.ReasonAlreadySubmitted, "W": domain.ReasonWrongStatus}[want]
					if !domain.Is(err, reason) {
						t.Errorf("%q %s by %s: want %s, got %q, %v", st, a, role, reason, next, err)
						continue
					}
					e, _ := domain.As(err)
					if e.Meta[domain.MetaStatus] != st || e.Meta[domain.MetaAction] != string(a) {
						t.Errorf("%q %s: metadata %v", st, a, e.Meta)
					}
					if Allowed(st, a, role) {
						t.Errorf("%q %s by %s: Allowed says yes", st, a, role)
					}
					refused++
				default:
					if err != nil || next != want {
						t.Errorf("%q %s by %s: want %q, got %q, %v", st, a, role, want, next, err)
					}
					if !Allowed(st, a, role) {
						t.Errorf("%q %s by %s: Allowed says no", st, a, role)
					}
					allowed++
				}
			}
		}
	}
	// 8 allowed steps, each by exactly one role.
	if allowed != 8 || allowed+refused != len(Statuses)*len(Actions)*len(roles) {
		t.Errorf("%d allowed, %d refused", allowed, refused)
	}
}

func TestUnknownActionIsAnInternalError(t *testing.T) {
	if _, err := Next(domain.EvalDraft, "publish", domain.RoleSupervisor); !domain.Is(err, domain.ReasonInternal) {
		t.Fatalf("unknown action: %v", err)
	}
}

func TestRefusalsSayWhy(t *testing.T) {
	_, err := Next(domain.EvalSubmitted, Submit, domain.RoleSupervisor)
	if err == nil || err.Error() != "the evaluation is submitted: only a draft can be submitted" {
		t.Errorf("submit twice: %v", err)
	}
	_, err = Next(domain.EvalDraft, Acknowledge, domain.RoleTrainer)
	if err == nil || err.Error() != "a trainer may not acknowledge an evaluation" {
		t.Errorf("trainer acknowledges: %v", err)
	}
}
