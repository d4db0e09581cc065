package backend_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/backend"
	"github.com/ecoute/ecoute/backend/audit"
	"github.com/ecoute/ecoute/backend/auth"
	"github.com/ecoute/ecoute/backend/store"
	"github.com/ecoute/ecoute/internal/clock"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// evalWorld is a demo backend of its own, on a fake clock that the tests
// move, served over loopback TLS.
type evalWorld struct {
	app   *backend.App
	clock *clock.Fake
	conn  *grpc.ClientConn
	creds credentials.TransportCredentials
	pw    map[string]string // login → password
}

func newEvalWorld(t *testing.T) *evalWorld {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	fake := clock.NewFake(time.Now().UTC().Truncate(time.Second))
	app, err := backend.Open(ctx, backend.Config{DataDir: t.TempDir(), Clock: fake})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { app.Close() })
	accounts, err := app.SeedDemo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w := &evalWorld{app: app, clock: fake, pw: map[string]string{}}
	for _, a := range accounts {
		w.pw[a.Login] = a.Password
	}
	// A supervisor and a trainer of another team than agent-01's.
	for _, u := range []backend.NewUser{
		{Login: "sup-support", DisplayName: "Yves Support", Role: "supervisor", TeamIDs: []string{"team-support"}},
		{Login: "trainer-support", DisplayName: "Rita Support", Role: "trainer", TeamIDs: []string{"team-support"}},
	} {
		u.Password = auth.GeneratePassword()
		if err := app.AddUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		w.pw[u.Login] = u.Password
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go app.Serve(ctx, lis, true)
	pem, _ := app.CACertPEM()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	w.creds = credentials.NewTLS(&tls.Config{RootCAs: pool, ServerName: "localhost"})
	w.conn, err = grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(w.creds))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.conn.Close() })
	return w
}

func (w *evalWorld) as(t *testing.T, login string) context.Context {
	t.Helper()
	resp, err := ecoutev1.NewAuthServiceClient(w.conn).Login(context.Background(),
		&ecoutev1.LoginRequest{Login: login, Password: w.pw[login]})
	if err != nil {
		t.Fatalf("login %s: %v", login, err)
	}
	return metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+resp.Token)
}

func (w *evalWorld) ev() ecoutev1.EvaluationServiceClient {
	return ecoutev1.NewEvaluationServiceClient(w.conn)
}

// unevaluatedCall finds a call of agent-01 (team-energie) with no evaluation.
func (w *evalWorld) unevaluatedCall(t *testing.T, ctx context.Context, skip string) *ecoutev1.Call {
	t.Helper()
	resp, err := ecoutev1.NewCallServiceClient(w.conn).ListCalls(ctx, &ecoutev1.ListCallsRequest{PageSize: 100,
		Filter: &ecoutev1.CallFilter{AgentIds: []string{"agent-01"}, Evaluated: ecoutev1.EvaluatedFilter_EVALUATED_FILTER_NO}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range resp.Calls {
		if c.CallId != skip {
			return c
		}
	}
	t.Fatal("no unevaluated call of agent-01 in the demo")
	return nil
}

// fullAnswers answers every criterion: yes, 4, best choice.
func fullAnswers(g *ecoutev1.Grid) []*ecoutev1.Answer {
	var out []*ecoutev1.Answer
	for _, s := range g.Sections {
		for _, c := range s.Criteria {
			a := &ecoutev1.Answer{CriterionId: c.CriterionId}
			switch c.Type {
			case ecoutev1.AnswerType_ANSWER_TYPE_YES_NO:
				a.Value = "yes"
			case ecoutev1.AnswerType_ANSWER_TYPE_SCALE:
				a.Value = "4"
			case ecoutev1.AnswerType_ANSWER_TYPE_CHOICE:
				a.Value = c.Choices[0].ChoiceId
			}
			out = append(out, a)
		}
	}
	return out
}

func TestEvaluationLifecycle(t *testing.T) {
	w := newEvalWorld(t)
	sup, agent := w.as(t, "demo-supervisor"), w.as(t, "demo-agent")
	other, otherTrainer, hr := w.as(t, "sup-support"), w.as(t, "trainer-support"), w.as(t, "demo-hr")

	grids, err := w.ev().ListGrids(sup, &ecoutev1.ListGridsRequest{})
	if err != nil || len(grids.Grids) != 2 {
		t.Fatalf("demo grids: %v %v", grids, err)
	}
	call := w.unevaluatedCall(t, sup, "")
	start, err := w.ev().StartEvaluation(sup, &ecoutev1.StartEvaluationRequest{CallId: call.CallId})
	if err != nil {
		t.Fatal(err)
	}
	e := start.Evaluation
	if e.Status != ecoutev1.EvaluationStatus_EVALUATION_STATUS_DRAFT || e.Version != 1 || start.Existing {
		t.Fatalf("start: %v", e)
	}
	if want := w.clock.Now().AddDate(1, 0, 0); !e.RetainedUntil.AsTime().Equal(want) {
		t.Errorf("retained_until %v, want creation + 1 year %v", e.RetainedUntil.AsTime(), want)
	}
	if start.Grid.Direction != call.Direction {
		t.Errorf("grid for %s chosen for a %s call", start.Grid.Direction, call.Direction)
	}
	again, err := w.ev().StartEvaluation(sup, &ecoutev1.StartEvaluationRequest{CallId: call.CallId})
	if err != nil || !again.Existing || again.Evaluation.EvaluationId != e.EvaluationId {
		t.Fatalf("second start: %v %v", again, err)
	}

	// Drafts: a save bumps the version; a stale one is refused with the
	// current version.
	answers := fullAnswers(start.Grid)
	saved, err := w.ev().SaveEvaluation(sup, &ecoutev1.SaveEvaluationRequest{EvaluationId: e.EvaluationId,
		ExpectedVersion: 1, Answers: answers[:2]})
	if err != nil || saved.Evaluation.Version != 2 || saved.Evaluation.Score.Complete {
		t.Fatalf("save: %v %v", saved, err)
	}
	_, err = w.ev().SaveEvaluation(sup, &ecoutev1.SaveEvaluationRequest{EvaluationId: e.EvaluationId,
		ExpectedVersion: 1, Answers: answers})
	st := status.Convert(err)
	if st.Code() != codes.Aborted || !strings.Contains(st.Message(), "current version is 2") {
		t.Fatalf("stale save: %v", err)
	}
	var info *errdetails.ErrorInfo
	for _, d := range st.Details() {
		if i, ok := d.(*errdetails.ErrorInfo); ok {
			info = i
		}
	}
	if info == nil || info.Metadata["current_version"] != "2" {
		t.Errorf("stale save details: %v", st.Details())
	}

	// The agent cannot edit scores; nobody outside the team reads it.
	if _, err := w.ev().SaveEvaluation(agent, &ecoutev1.SaveEvaluationRequest{EvaluationId: e.EvaluationId,
		ExpectedVersion: 2, Answers: answers}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("agent SaveEvaluation: %v", err)
	}
	if _, err := w.ev().GetEvaluation(agent, &ecoutev1.GetEvaluationRequest{EvaluationId: e.EvaluationId}); status.Code(err) != codes.NotFound {
		t.Errorf("agent reads a draft: %v", err)
	}
	for name, ctx := range map[string]context.Context{"other supervisor": other, "other trainer": otherTrainer} {
		if _, err := w.ev().GetEvaluation(ctx, &ecoutev1.GetEvaluationRequest{EvaluationId: e.EvaluationId}); status.Code(err) != codes.NotFound {
			t.Errorf("%s reads it: %v", name, err)
		}
	}
	if _, err := w.ev().SaveEvaluation(other, &ecoutev1.SaveEvaluationRequest{EvaluationId: e.EvaluationId,
		ExpectedVersion: 2, Answers: answers}); status.Code(err) != codes.NotFound {
		t.Errorf("other supervisor saves it: %v", err)
	}

	// A flagged comment: shown on save, refused at submit without a reason.
	comment := "Appel bien mené, mais le client dit être malade."
	saved, err = w.ev().SaveEvaluation(sup, &ecoutev1.SaveEvaluationRequest{EvaluationId: e.EvaluationId,
		ExpectedVersion: 2, Answers: answers, Comment: comment})
	if err != nil {
		t.Fatal(err)
	}
	h := saved.Evaluation.Hits
	if len(h) != 1 || h[0].Category != "health" || comment[h[0].Start:h[0].End] != "malade" {
		t.Fatalf("hits %v", h)
	}
	if !saved.Evaluation.Score.Complete || saved.Evaluation.Score.Total != 87.5 && !saved.Evaluation.Score.HasTotal {
		t.Errorf("score %v", saved.Evaluation.Score)
	}
	_, err = w.ev().SubmitEvaluation(sup, &ecoutev1.SubmitEvaluationRequest{EvaluationId: e.EvaluationId, ExpectedVersion: 3})
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), "health") {
		t.Fatalf("submit with hits and no reason: %v", err)
	}
	sub, err := w.ev().SubmitEvaluation(sup, &ecoutev1.SubmitEvaluationRequest{EvaluationId: e.EvaluationId,
		ExpectedVersion: 3, OverrideReason: "Citation du client nécessaire pour comprendre le délai."})
	if err != nil {
		t.Fatal(err)
	}
	if sub.Evaluation.Status != ecoutev1.EvaluationStatus_EVALUATION_STATUS_SUBMITTED || sub.Evaluation.OverrideReason == "" {
		t.Fatalf("submitted: %v", sub.Evaluation)
	}
	// One entry for the refusal, one for the submit (the newest).
	links, err := w.app.Audit().List(context.Background(), audit.Query{Action: "evaluation.submit", Limit: 10})
	if err != nil || len(links) != 2 || links[0].Target != e.EvaluationId ||
		links[0].Details["override_reason"] != "kept with the evaluation" || links[0].Details["result"] != "ok" ||
		links[1].Details["result"] != "OVERRIDE_REASON_REQUIRED" {
		t.Errorf("submit audit: %+v %v", links, err)
	}
	// The trail points to the evaluation: no score, no reason, no flagged
	// category in it (issue 12).
	for _, l := range links {
		for k, v := range l.Details {
			if strings.Contains(v, "Citation") || strings.Contains(v, "health") || k == "total" || k == "flagged" {
				t.Errorf("submit audit holds %s=%q", k, v)
			}
		}
	}
	got, err := ecoutev1.NewCallServiceClient(w.conn).GetCall(sup, &ecoutev1.GetCallRequest{CallId: call.CallId})
	if err != nil || !got.Call.Evaluated {
		t.Errorf("call not marked evaluated: %v %v", got, err)
	}
	if _, err := w.ev().SaveEvaluation(sup, &ecoutev1.SaveEvaluationRequest{EvaluationId: e.EvaluationId,
		ExpectedVersion: 4, Answers: answers}); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("edit after submit: %v", err)
	}

	// HR reads scores, not comments; the agent reads and acknowledges.
	hrView, err := w.ev().GetEvaluation(hr, &ecoutev1.GetEvaluationRequest{EvaluationId: e.EvaluationId})
	if err != nil || hrView.Evaluation.Score == nil || hrView.Evaluation.Comment != "" || len(hrView.Evaluation.Answers) != 0 ||
		len(hrView.Evaluation.Hits) != 0 {
		t.Errorf("hr view: %v %v", hrView, err)
	}
	if _, err := w.ev().StartEvaluation(hr, &ecoutev1.StartEvaluationRequest{CallId: call.CallId}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("hr starts an evaluation: %v", err)
	}
	// Roles with no business in evaluations (R8): not even a list.
	for _, login := range []string{"demo-client", "demo-maintenance", "demo-admin", "demo-dpo"} {
		if _, err := w.ev().ListEvaluations(w.as(t, login), &ecoutev1.ListEvaluationsRequest{}); status.Code(err) != codes.PermissionDenied {
			t.Errorf("%s ListEvaluations: %v", login, err)
		}
	}
	mine, err := w.ev().ListEvaluations(agent, &ecoutev1.ListEvaluationsRequest{CallId: call.CallId})
	if err != nil || len(mine.Evaluations) != 1 || mine.Evaluations[0].Comment != comment {
		t.Fatalf("agent list: %v %v", mine, err)
	}
	ack, err := w.ev().AcknowledgeEvaluation(agent, &ecoutev1.AcknowledgeEvaluationRequest{EvaluationId: e.EvaluationId})
	if err != nil || ack.Evaluation.Status != ecoutev1.EvaluationStatus_EVALUATION_STATUS_ACKNOWLEDGED {
		t.Fatalf("acknowledge: %v %v", ack, err)
	}
	if _, err := w.ev().DisputeEvaluation(agent, &ecoutev1.DisputeEvaluationRequest{EvaluationId: e.EvaluationId,
		Comment: "trop tard"}); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("dispute after acknowledging: %v", err)
	}

	// A year later the purge removes it.
	w.clock.Advance(365*24*time.Hour + 25*time.Hour)
	// The retention job (the one `ecouted purge` and serve run).
	counts, err := w.app.Purge(context.Background(), w.clock.Now())
	if err != nil || counts["evaluations"] == 0 {
		t.Fatalf("purge: %v %v", counts, err)
	}
	// Read the store directly: a year on, the demo passwords have expired
	// too, which is the identity rules' business, not this test's.
	all := store.EvalScope{Scope: store.Scope{All: true}, Drafts: true}
	if _, err := w.app.Store().GetEvaluation(context.Background(), e.EvaluationId, all); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("evaluation still there a year later: %v", err)
	}
	left, err := w.app.Store().ListEvaluations(context.Background(), store.EvalQuery{Scope: all})
	if err != nil || len(left) != 0 {
		t.Errorf("evaluations left after a year: %d %v", len(left), err)
	}
	if c, err := w.app.Store().GetCall(context.Background(), call.CallId, store.Scope{All: true}); err == nil && c.Evaluated {
		t.Errorf("call still flagged evaluated after its evaluation was purged")
	}
}

func TestEvaluationDisputeAndSubmitRules(t *testing.T) {
	w := newEvalWorld(t)
	sup, agent := w.as(t, "demo-supervisor"), w.as(t, "demo-agent")
	call := w.unevaluatedCall(t, sup, "")
	start, err := w.ev().StartEvaluation(sup, &ecoutev1.StartEvaluationRequest{CallId: call.CallId})
	if err != nil {
		t.Fatal(err)
	}
	id := start.Evaluation.EvaluationId
	if _, err := w.ev().SubmitEvaluation(sup, &ecoutev1.SubmitEvaluationRequest{EvaluationId: id, ExpectedVersion: 1}); status.Code(err) != codes.FailedPrecondition ||
		!strings.Contains(err.Error(), "incomplete") {
		t.Errorf("submit empty draft: %v", err)
	}
	// A failed criterion that needs a comment blocks submission.
	answers := fullAnswers(start.Grid)
	var needy string
	for _, s := range start.Grid.Sections {
		for _, c := range s.Criteria {
			if c.CommentWhenFailed && c.Type == ecoutev1.AnswerType_ANSWER_TYPE_YES_NO && needy == "" {
				needy = c.CriterionId
			}
		}
	}
	for _, a := range answers {
		if a.CriterionId == needy {
			a.Value = "no"
		}
	}
	if _, err := w.ev().SaveEvaluation(sup, &ecoutev1.SaveEvaluationRequest{EvaluationId: id, ExpectedVersion: 1, Answers: answers}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.ev().SubmitEvaluation(sup, &ecoutev1.SubmitEvaluationRequest{EvaluationId: id, ExpectedVersion: 2}); status.Code(err) != codes.FailedPrecondition ||
		!strings.Contains(err.Error(), needy) {
		t.Errorf("submit without the required comment: %v", err)
	}
	for _, a := range answers {
		if a.CriterionId == needy {
			a.Comment = "Étape absente de l'échange."
		}
	}
	if _, err := w.ev().SaveEvaluation(sup, &ecoutev1.SaveEvaluationRequest{EvaluationId: id, ExpectedVersion: 2, Answers: answers}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.ev().SubmitEvaluation(sup, &ecoutev1.SubmitEvaluationRequest{EvaluationId: id, ExpectedVersion: 3}); err != nil {
		t.Fatal(err)
	}
	// Past 30 days the agent can no longer dispute.
	w.clock.Advance(31 * 24 * time.Hour)
	if _, err := w.ev().DisputeEvaluation(w.as(t, "demo-agent"), &ecoutev1.DisputeEvaluationRequest{EvaluationId: id,
		Comment: "désaccord"}); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("dispute after 30 days: %v", err)
	}
	w.clock.Advance(-2 * 24 * time.Hour)
	agent = w.as(t, "demo-agent")
	if _, err := w.ev().DisputeEvaluation(agent, &ecoutev1.DisputeEvaluationRequest{EvaluationId: id}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("dispute without comment: %v", err)
	}
	d, err := w.ev().DisputeEvaluation(agent, &ecoutev1.DisputeEvaluationRequest{EvaluationId: id,
		Comment: "L'étape a eu lieu à 00:35."})
	if err != nil || d.Evaluation.Status != ecoutev1.EvaluationStatus_EVALUATION_STATUS_DISPUTED {
		t.Fatalf("dispute: %v %v", d, err)
	}
	sup = w.as(t, "demo-supervisor")
	disputes, err := w.ev().ListEvaluations(sup, &ecoutev1.ListEvaluationsRequest{
		Statuses: []ecoutev1.EvaluationStatus{ecoutev1.EvaluationStatus_EVALUATION_STATUS_DISPUTED}})
	found := false
	for _, e := range disputes.GetEvaluations() {
		found = found || e.EvaluationId == id
		if e.Status != ecoutev1.EvaluationStatus_EVALUATION_STATUS_DISPUTED {
			t.Errorf("status filter let %v through", e.Status)
		}
	}
	if err != nil || !found {
		t.Errorf("supervisor does not see the dispute: %v", err)
	}
	if _, err := w.ev().ResolveDispute(sup, &ecoutev1.ResolveDisputeRequest{EvaluationId: id,
		Resolution: ecoutev1.Resolution_RESOLUTION_KEPT}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("resolve without reason: %v", err)
	}
	for _, a := range answers {
		if a.CriterionId == needy {
			a.Value, a.Comment = "yes", ""
		}
	}
	r, err := w.ev().ResolveDispute(sup, &ecoutev1.ResolveDisputeRequest{EvaluationId: id,
		Resolution: ecoutev1.Resolution_RESOLUTION_REVISED, Reason: "Étape entendue à 00:35.", Answers: answers})
	if err != nil || r.Evaluation.Status != ecoutev1.EvaluationStatus_EVALUATION_STATUS_RESOLVED ||
		r.Evaluation.Resolution != ecoutev1.Resolution_RESOLUTION_REVISED || r.Evaluation.ResolvedByName != "Claire Dubois" {
		t.Fatalf("resolve: %v %v", r, err)
	}
	if _, err := w.ev().ResolveDispute(agent, &ecoutev1.ResolveDisputeRequest{EvaluationId: id,
		Resolution: ecoutev1.Resolution_RESOLUTION_KEPT, Reason: "x"}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("agent resolves: %v", err)
	}
	hits, err := w.ev().CheckComment(sup, &ecoutev1.CheckCommentRequest{Text: "Il parle du syndicat, pas de syndication."})
	if err != nil || len(hits.Hits) != 1 || hits.Hits[0].Category != "trade_union" {
		t.Errorf("check comment: %v %v", hits, err)
	}
}

func TestDemoEvaluationsAreReal(t *testing.T) {
	w := newEvalWorld(t)
	hr := w.as(t, "demo-hr")
	list, err := w.ev().ListEvaluations(hr, &ecoutev1.ListEvaluationsRequest{PageSize: 500})
	if err != nil || len(list.Evaluations) < 10 {
		t.Fatalf("demo evaluations: %d %v", len(list.GetEvaluations()), err)
	}
	statuses := map[ecoutev1.EvaluationStatus]int{}
	for _, e := range list.Evaluations {
		statuses[e.Status]++
		if e.Score == nil || !e.Score.Complete {
			t.Errorf("demo evaluation %s incomplete", e.EvaluationId)
		}
		if !e.RetainedUntil.AsTime().Equal(e.CreatedAt.AsTime().AddDate(1, 0, 0)) {
			t.Errorf("demo evaluation %s kept until %v", e.EvaluationId, e.RetainedUntil.AsTime())
		}
	}
	if statuses[ecoutev1.EvaluationStatus_EVALUATION_STATUS_ACKNOWLEDGED] == 0 {
		t.Errorf("no acknowledged demo evaluation: %v", statuses)
	}
	// Every evaluated call the supervisor sees has an evaluation.
	sup := w.as(t, "demo-supervisor")
	calls, err := ecoutev1.NewCallServiceClient(w.conn).ListCalls(sup, &ecoutev1.ListCallsRequest{PageSize: 500,
		Filter: &ecoutev1.CallFilter{Evaluated: ecoutev1.EvaluatedFilter_EVALUATED_FILTER_YES}})
	if err != nil || len(calls.Calls) == 0 {
		t.Fatalf("evaluated calls: %v", err)
	}
	for _, c := range calls.Calls[:min(5, len(calls.Calls))] {
		l, err := w.ev().ListEvaluations(sup, &ecoutev1.ListEvaluationsRequest{CallId: c.CallId})
		if err != nil || len(l.Evaluations) != 1 {
			t.Errorf("evaluated call %s has %d evaluations (%v)", c.CallId, len(l.GetEvaluations()), err)
		}
	}
}
