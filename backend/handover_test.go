package backend_test

import (
	"context"
	"testing"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/backend"
	"github.com/ecoute/ecoute/backend/audit"
	"github.com/ecoute/ecoute/backend/auth"
	"github.com/ecoute/ecoute/backend/rpcerr"
)

// A second supervisor of the same team reads a colleague's draft but may
// not write it under the colleague's name; the draft changes hands only by
// an explicit, audited handover.
func TestDraftBelongsToItsEvaluator(t *testing.T) {
	w := newEvalWorld(t)
	ctx := context.Background()
	colleague := backend.NewUser{Login: "sup-energie-2", DisplayName: "Nora Energie", Role: "supervisor",
		TeamIDs: []string{"team-energie"}, Password: auth.GeneratePassword()}
	if err := w.app.AddUser(ctx, colleague); err != nil {
		t.Fatal(err)
	}
	w.pw[colleague.Login] = colleague.Password
	sup, other := w.as(t, "demo-supervisor"), w.as(t, colleague.Login)

	call := w.unevaluatedCall(t, sup, "")
	start, err := w.ev().StartEvaluation(sup, &ecoutev1.StartEvaluationRequest{CallId: call.CallId})
	if err != nil {
		t.Fatal(err)
	}
	e := start.Evaluation
	answers := fullAnswers(start.Grid)
	// The colleague sees the draft (same team) …
	seen, err := w.ev().StartEvaluation(other, &ecoutev1.StartEvaluationRequest{CallId: call.CallId})
	if err != nil || !seen.Existing || seen.Evaluation.EvaluationId != e.EvaluationId {
		t.Fatalf("colleague opens the draft: %v %v", seen, err)
	}
	// … but may neither save nor submit it.
	_, err = w.ev().SaveEvaluation(other, &ecoutev1.SaveEvaluationRequest{EvaluationId: e.EvaluationId,
		ExpectedVersion: e.Version, Answers: answers})
	if r := rpcerr.FromStatus(err); err == nil || r.Reason != "NOT_EVALUATOR" || r.Meta["evaluator_id"] == "" {
		t.Fatalf("colleague saves the draft: %v", err)
	}
	saved, err := w.ev().SaveEvaluation(sup, &ecoutev1.SaveEvaluationRequest{EvaluationId: e.EvaluationId,
		ExpectedVersion: e.Version, Answers: answers})
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.ev().SubmitEvaluation(other, &ecoutev1.SubmitEvaluationRequest{EvaluationId: e.EvaluationId,
		ExpectedVersion: saved.Evaluation.Version})
	if r := rpcerr.FromStatus(err); err == nil || r.Reason != "NOT_EVALUATOR" {
		t.Fatalf("colleague submits the draft: %v", err)
	}
	// Nor take it over while its evaluator is active.
	users := map[string]string{}
	for _, login := range []string{"demo-supervisor", colleague.Login, "sup-support"} {
		u, err := w.app.Store().UserByLogin(ctx, login)
		if err != nil {
			t.Fatal(err)
		}
		users[login] = u.ID
	}
	_, err = w.ev().HandOverEvaluation(other, &ecoutev1.HandOverEvaluationRequest{EvaluationId: e.EvaluationId,
		ToUserId: users[colleague.Login]})
	if r := rpcerr.FromStatus(err); err == nil || r.Reason != "NOT_EVALUATOR" {
		t.Fatalf("colleague takes the draft over: %v", err)
	}
	// The evaluator hands it over, to a supervisor of the team only.
	_, err = w.ev().HandOverEvaluation(sup, &ecoutev1.HandOverEvaluationRequest{EvaluationId: e.EvaluationId,
		ToUserId: users["sup-support"]})
	if r := rpcerr.FromStatus(err); err == nil || r.Reason != "INVALID_ARGUMENT" {
		t.Fatalf("handed to another team's supervisor: %v", err)
	}
	h, err := w.ev().HandOverEvaluation(sup, &ecoutev1.HandOverEvaluationRequest{EvaluationId: e.EvaluationId,
		ToUserId: users[colleague.Login]})
	if err != nil || h.Evaluation.EvaluatorId != users[colleague.Login] {
		t.Fatalf("handover: %v %v", h, err)
	}
	// Now the colleague writes it, and the first evaluator no longer may.
	if _, err := w.ev().SaveEvaluation(sup, &ecoutev1.SaveEvaluationRequest{EvaluationId: e.EvaluationId,
		ExpectedVersion: h.Evaluation.Version, Answers: answers}); rpcerr.FromStatus(err).Reason != "NOT_EVALUATOR" {
		t.Errorf("former evaluator saves: %v", err)
	}
	sub, err := w.ev().SubmitEvaluation(other, &ecoutev1.SubmitEvaluationRequest{EvaluationId: e.EvaluationId,
		ExpectedVersion: h.Evaluation.Version})
	if err != nil || sub.Evaluation.EvaluatorName != "Nora Energie" {
		t.Fatalf("new evaluator submits: %v %v", sub, err)
	}
	links, err := w.app.Audit().List(ctx, audit.Query{Action: "evaluation.handover", Limit: 10})
	if err != nil || len(links) != 3 || links[0].Details["result"] != "ok" || links[0].Details["kind"] != "handover" ||
		links[0].Details["from"] != users["demo-supervisor"] || links[0].Details["to"] != users[colleague.Login] ||
		links[2].Details["result"] != "NOT_EVALUATOR" {
		t.Errorf("handover audit: %+v %v", links, err)
	}

	// A departed evaluator's draft: a supervisor of the team takes it over.
	call2 := w.unevaluatedCall(t, other, call.CallId)
	d2, err := w.ev().StartEvaluation(other, &ecoutev1.StartEvaluationRequest{CallId: call2.CallId})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.app.Sessions().SetDisabled(ctx, users[colleague.Login], true); err != nil {
		t.Fatal(err)
	}
	_, err = w.ev().HandOverEvaluation(sup, &ecoutev1.HandOverEvaluationRequest{EvaluationId: d2.Evaluation.EvaluationId,
		ToUserId: users["sup-support"]})
	if err == nil {
		t.Error("a departed evaluator's draft given to someone else by a third person")
	}
	tk, err := w.ev().HandOverEvaluation(sup, &ecoutev1.HandOverEvaluationRequest{EvaluationId: d2.Evaluation.EvaluationId,
		ToUserId: users["demo-supervisor"]})
	if err != nil || tk.Evaluation.EvaluatorId != users["demo-supervisor"] {
		t.Fatalf("takeover of a departed evaluator's draft: %v %v", tk, err)
	}
	links, _ = w.app.Audit().List(ctx, audit.Query{Action: "evaluation.handover", Limit: 1})
	if len(links) != 1 || links[0].Details["kind"] != "takeover" {
		t.Errorf("takeover audit: %+v", links)
	}
}
