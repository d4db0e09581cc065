package backend_test

import (
	"context"
	"strings"
	"testing"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/backend/policy"
	"google.golang.org/grpc"
)

// overrideSecret is the reason a supervisor gives for a comment with a
// flagged health term: free text the trail must never carry.
const overrideSecret = "Le client explique son arrêt maladie (raison gardée avec l'évaluation)"

// submitWithOverride submits, as the demo supervisor, an evaluation whose
// comment the R13 check flags, with overrideSecret as its reason, so that
// the trail holds an evaluation.submit entry with a score and a reason
// behind it. It returns the evaluation's id.
func submitWithOverride(t *testing.T, conn *grpc.ClientConn) string {
	t.Helper()
	sup := login(t, "supervisor")
	ev := ecoutev1.NewEvaluationServiceClient(conn)
	resp, err := ecoutev1.NewCallServiceClient(conn).ListCalls(sup, &ecoutev1.ListCallsRequest{PageSize: 100,
		Filter: &ecoutev1.CallFilter{Evaluated: ecoutev1.EvaluatedFilter_EVALUATED_FILTER_NO}})
	if err != nil || len(resp.Calls) == 0 {
		t.Fatalf("a call to evaluate: %v", err)
	}
	var start *ecoutev1.StartEvaluationResponse
	for _, c := range resp.Calls {
		if start, err = ev.StartEvaluation(sup, &ecoutev1.StartEvaluationRequest{CallId: c.CallId}); err == nil && !start.Existing {
			break
		}
	}
	if err != nil || start.Existing {
		t.Fatalf("start: %v", err)
	}
	e := start.Evaluation
	saved, err := ev.SaveEvaluation(sup, &ecoutev1.SaveEvaluationRequest{EvaluationId: e.EvaluationId, ExpectedVersion: e.Version,
		Answers: fullAnswers(start.Grid), Comment: "Le client dit être malade."})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ev.SubmitEvaluation(sup, &ecoutev1.SubmitEvaluationRequest{EvaluationId: e.EvaluationId,
		ExpectedVersion: saved.Evaluation.Version, OverrideReason: overrideSecret}); err != nil {
		t.Fatal(err)
	}
	return e.EvaluationId
}

// checkAuditReading pages through the whole trail as role and checks what
// it reads: no score and no free text for anyone; the evaluations' entries
// only for the dpo, who must find the one submitEvaluation made.
func checkAuditReading(ctx context.Context, t *testing.T, conn *grpc.ClientConn, role, evaluationID string) {
	t.Helper()
	ac := ecoutev1.NewAuditServiceClient(conn)
	req := &ecoutev1.ListAuditEventsRequest{PageSize: 1000}
	seen, found := 0, false
	for {
		page, err := ac.ListAuditEvents(ctx, req)
		if err != nil {
			t.Fatalf("%s lists the trail: %v", role, err)
		}
		for _, e := range page.Events {
			seen++
			if e.Target == evaluationID && e.Action == "evaluation.submit" {
				found = true
			}
			if role != "dpo" && (strings.HasPrefix(e.Action, "evaluation.") || strings.HasPrefix(e.Action, "call.") ||
				strings.HasPrefix(e.Action, "privacy.") || strings.HasPrefix(e.Action, "coaching.") ||
				strings.HasPrefix(e.Action, "capture.") || strings.HasPrefix(e.Action, "calibration.") ||
				strings.Contains(e.Action, "CoachingService/") || strings.Contains(e.Action, "CalibrationService/")) {
				t.Errorf("%s reads %s entries (seq %d)", role, e.Action, e.Seq)
			}
			for k, v := range e.Details {
				switch {
				case strings.Contains(v, "maladie"), strings.Contains(v, "malade"), strings.Contains(v, "health"):
					t.Errorf("%s reads free text in seq %d %s: %s=%q", role, e.Seq, e.Action, k, v)
				case k == "total", k == "score", k == "critical_failed", k == "flagged", k == "comment":
					t.Errorf("%s reads a score or a comment in seq %d %s: %s=%q", role, e.Seq, e.Action, k, v)
				}
			}
		}
		if req.PageToken = page.NextPageToken; req.PageToken == "" {
			break
		}
	}
	if seen == 0 {
		t.Errorf("%s read no entry at all", role)
	}
	if role == "dpo" && !found {
		t.Errorf("the dpo does not find the submit of %s in the trail", evaluationID)
	}
	if role != "dpo" && found {
		t.Errorf("%s reads the submit of an evaluation", role)
	}
}

// Every role that may call ListAuditEvents is checked in the role × method
// test; this one makes sure the table still lets someone besides the dpo
// read the trail, so that the check of its content is not vacuous.
func TestAuditReadersAreInTheTable(t *testing.T) {
	var readers []string
	for _, role := range policy.Roles {
		if policy.Allowed(role, policy.MListAuditEvents) {
			readers = append(readers, role)
		}
	}
	if len(readers) < 2 || !strings.Contains(strings.Join(readers, ","), "dpo") {
		t.Errorf("audit readers %v", readers)
	}
}
