package backend_test

import (
	"context"
	"testing"
	"time"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/backend"
	"github.com/ecoute/ecoute/backend/audit"
	"github.com/ecoute/ecoute/backend/core"
	"github.com/ecoute/ecoute/backend/domain"
	"github.com/ecoute/ecoute/backend/grid"
	"github.com/ecoute/ecoute/backend/policy"
	"github.com/ecoute/ecoute/backend/store"
	"github.com/ecoute/ecoute/internal/clock"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// lostReply lets the first SubmitEvaluation reach the server and commit,
// then tells the caller its reply was lost, as a dropped connection would.
type lostReply struct{ lost bool }

func (l *lostReply) intercept(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn,
	invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	err := invoker(ctx, method, req, reply, cc, opts...)
	if err == nil && method == policy.MSubmitEvaluation && !l.lost {
		l.lost = true
		return status.Error(codes.Unavailable, "connection reset: the reply was lost")
	}
	return err
}

func submitEntries(t *testing.T, app *backend.App, id string) (ok, refused int) {
	t.Helper()
	links, err := app.Audit().List(context.Background(), audit.Query{Action: core.ActionEvalSubmit, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range links {
		if l.Target != id && l.Target != "" { // a reused request id names no target
			continue
		}
		if l.Details["result"] == "ok" {
			ok++
		} else {
			refused++
		}
	}
	return ok, refused
}

// A submit whose reply is lost, sent again with the same request_id, is
// answered with the evaluation as submitted (same version), and applied
// and audited once. A new request_id, or none, is another submit: refused.
func TestSubmitSentAgainIsAppliedOnce(t *testing.T) {
	w := newEvalWorld(t)
	lossy := &lostReply{}
	conn, err := grpc.NewClient(w.conn.Target(), grpc.WithTransportCredentials(w.creds),
		grpc.WithUnaryInterceptor(lossy.intercept))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ev := ecoutev1.NewEvaluationServiceClient(conn)
	sup := w.as(t, "demo-supervisor")
	call := w.unevaluatedCall(t, sup, "")
	start, err := ev.StartEvaluation(sup, &ecoutev1.StartEvaluationRequest{CallId: call.CallId, RequestId: "start-1"})
	if err != nil {
		t.Fatal(err)
	}
	id := start.Evaluation.EvaluationId
	if _, err := ev.SaveEvaluation(sup, &ecoutev1.SaveEvaluationRequest{EvaluationId: id, ExpectedVersion: 1,
		Answers: fullAnswers(start.Grid), RequestId: "save-1"}); err != nil {
		t.Fatal(err)
	}
	submit := &ecoutev1.SubmitEvaluationRequest{EvaluationId: id, ExpectedVersion: 2, RequestId: "submit-1"}
	if _, err := ev.SubmitEvaluation(sup, submit); status.Code(err) != codes.Unavailable {
		t.Fatalf("the first submit's reply should be lost: %v", err)
	}
	again, err := ev.SubmitEvaluation(sup, submit)
	if err != nil {
		t.Fatalf("submit sent again: %v", err)
	}
	e := again.Evaluation
	if e.EvaluationId != id || e.Status != ecoutev1.EvaluationStatus_EVALUATION_STATUS_SUBMITTED || e.Version != 3 {
		t.Errorf("answer to the resent submit: %s %s v%d", e.EvaluationId, e.Status, e.Version)
	}
	if ok, refused := submitEntries(t, w.app, id); ok != 1 || refused != 0 {
		t.Errorf("audit: %d submits, %d refusals; want one submit", ok, refused)
	}
	stored, err := w.app.Store().GetEvaluation(context.Background(), id, store.EvalScope{Scope: store.Scope{All: true}, Drafts: true})
	if err != nil || stored.Version != 3 {
		t.Errorf("stored version %d (%v), want 3: applied once", stored.Version, err)
	}
	// The same id for another request is refused, naming the field.
	other := &ecoutev1.SubmitEvaluationRequest{EvaluationId: id, ExpectedVersion: 3, RequestId: "submit-1"}
	_, err = ev.SubmitEvaluation(sup, other)
	if info, br := errorInfo(err); code(err) != codes.InvalidArgument || info.GetReason() != "REQUEST_ID_REUSED" ||
		br.GetFieldViolations()[0].GetField() != "request_id" {
		t.Errorf("request id reused: %v", err)
	}
	// Another request id, or none, is another submit of a submitted evaluation.
	for _, rid := range []string{"submit-2", ""} {
		_, err := ev.SubmitEvaluation(sup, &ecoutev1.SubmitEvaluationRequest{EvaluationId: id, ExpectedVersion: 3, RequestId: rid})
		info, _ := errorInfo(err)
		if code(err) != codes.FailedPrecondition || info.GetReason() != "ALREADY_SUBMITTED" ||
			info.GetMetadata()["status"] != "submitted" || info.GetMetadata()["action"] != "submit" {
			t.Errorf("submit again with request id %q: %v %v", rid, err, info)
		}
	}
	if ok, refused := submitEntries(t, w.app, id); ok != 1 || refused != 3 {
		t.Errorf("audit: %d submits, %d refusals; want 1 and 3", ok, refused)
	}
}

// The request ids live in the database: another server on the same data
// (or the same one after a restart) answers a request sent again, until
// the daily purge forgets it after 24 hours.
func TestRequestIDsSurviveRestartsAndAreForgotten(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	fake := clock.NewFake(time.Now().UTC().Truncate(time.Second))
	first, err := backend.Open(ctx, backend.Config{DataDir: dir, Clock: fake})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := first.SeedDemo(ctx); err != nil {
		t.Fatal(err)
	}
	u, err := first.Store().UserByLogin(ctx, "demo-supervisor")
	if err != nil {
		t.Fatal(err)
	}
	sup := core.Caller{User: u, Source: "test"}
	calls, _, err := first.Store().ListCalls(ctx, store.ListQuery{Scope: policy.Scope(u), Filter: store.Filter{Evaluated: new(bool)}, Limit: 1})
	if err != nil || len(calls) == 0 {
		t.Fatalf("no unevaluated call: %v", err)
	}
	v, err := first.Core().StartEvaluation(ctx, sup, calls[0].ID, "")
	if err != nil {
		t.Fatal(err)
	}
	var answers []grid.Answer
	for _, s := range v.Grid.Grid.Sections {
		for _, c := range s.Criteria {
			value := "yes"
			switch c.Type {
			case grid.TypeScale:
				value = "4"
			case grid.TypeChoice:
				value = c.Choices[0].ID
			}
			answers = append(answers, grid.Answer{CriterionID: c.ID, Value: value})
		}
	}
	id := v.Evaluation.ID
	if _, err := first.Core().SaveEvaluation(ctx, sup, core.Draft{ID: id, ExpectedVersion: 1, Answers: answers}); err != nil {
		t.Fatal(err)
	}
	req := sup
	req.Request = core.Request{ID: "r-1", Fingerprint: "submit e v2"}
	if _, err := first.Core().SubmitEvaluation(ctx, req, id, 2, ""); err != nil {
		t.Fatal(err)
	}

	// A second server on the same data, while the first still runs.
	second, err := backend.Open(ctx, backend.Config{DataDir: dir, Clock: fake})
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	again, err := second.Core().SubmitEvaluation(ctx, req, id, 2, "")
	if err != nil || again.Evaluation.Version != 3 || again.Evaluation.Status != domain.EvalSubmitted {
		t.Fatalf("another server: %+v %v", again.Evaluation, err)
	}
	first.Close()
	if ok, _ := submitEntries(t, second, id); ok != 1 {
		t.Errorf("%d submits audited, want 1", ok)
	}

	// A day later the purge forgets the id: sending it again is another
	// submit, refused.
	fake.Advance(23 * time.Hour)
	if _, err := second.Purge(ctx, fake.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := second.Core().SubmitEvaluation(ctx, req, id, 2, ""); err != nil {
		t.Errorf("within 24 hours: %v", err)
	}
	fake.Advance(2 * time.Hour)
	counts, err := second.Purge(ctx, fake.Now())
	if err != nil || counts["requests"] != 1 {
		t.Fatalf("purge: %v %v", counts, err)
	}
	if _, err := second.Core().SubmitEvaluation(ctx, req, id, 2, ""); !domain.Is(err, domain.ReasonAlreadySubmitted) {
		t.Errorf("after 25 hours: %v, want ALREADY_SUBMITTED", err)
	}
}
