package e2e

import (
	"context"
	"net"
	"strings"
	"sync/atomic"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/backend"
	"github.com/ecoute/ecoute/backend/audit"
	"github.com/ecoute/ecoute/client"
)

// loseReply stands between the console and the server: the first call of
// method goes through to the server, which applies it, and then its reply
// is lost on the way back (the client sees Unavailable, as when a link
// drops after the request left).
func loseReply(method string, lost *atomic.Int32) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, m string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		err := invoker(ctx, m, req, reply, cc, opts...)
		if m == method && err == nil && lost.Add(1) == 1 {
			return status.Error(codes.Unavailable, "connection reset after the request was sent")
		}
		return err
	}
}

// TestSubmitWhoseReplyIsLost: a supervisor submits an evaluation; the
// server applies it but the reply is lost. The gateway asks again with the
// same request id, the server answers the first outcome without applying it
// twice: the console gets the submitted evaluation, no error, and the audit
// trail holds one submission.
func TestSubmitWhoseReplyIsLost(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	app, err := backend.Open(ctx, backend.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	accounts, err := app.SeedDemo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- app.Serve(ctx, lis, true) }()
	t.Cleanup(func() { cancel(); <-done; app.Close() })
	ca, err := app.CACertPEM()
	if err != nil {
		t.Fatal(err)
	}
	var lost atomic.Int32
	c, err := client.Dial(ctx, lis.Addr().String(), client.Options{CAPEM: ca,
		DialOptions: []grpc.DialOption{grpc.WithUnaryInterceptor(loseReply("/ecoute.v1.EvaluationService/SubmitEvaluation", &lost))}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var sup backend.DemoAccount
	for _, a := range accounts {
		if a.Role == "supervisor" {
			sup = a
		}
	}
	if _, err := c.Login(ctx, sup.Login, sup.Password); err != nil {
		t.Fatal(err)
	}

	// A call with no evaluation yet.
	page, err := c.ListCalls(ctx, client.CallQuery{PageSize: 50, Filter: &ecoutev1.CallFilter{Evaluated: ecoutev1.EvaluatedFilter_EVALUATED_FILTER_NO}})
	if err != nil || len(page.GetCalls()) == 0 {
		t.Fatalf("no unevaluated call: %v", err)
	}
	callID := page.GetCalls()[0].GetCallId()
	v, err := c.StartEvaluation(ctx, callID)
	if err != nil {
		t.Fatal(err)
	}
	var answers []*ecoutev1.Answer
	for _, sec := range v.Grid.GetSections() {
		for _, cr := range sec.GetCriteria() {
			val := "yes"
			switch cr.GetType() {
			case ecoutev1.AnswerType_ANSWER_TYPE_SCALE:
				val = "5"
			case ecoutev1.AnswerType_ANSWER_TYPE_CHOICE:
				val = cr.GetChoices()[0].GetChoiceId()
			}
			answers = append(answers, &ecoutev1.Answer{CriterionId: cr.GetCriterionId(), Value: val})
		}
	}
	saved, err := c.SaveEvaluation(ctx, client.EvaluationEdit{EvaluationID: v.Evaluation.GetEvaluationId(),
		Version: v.Evaluation.GetVersion(), Answers: answers})
	if err != nil {
		t.Fatal(err)
	}

	submitted, err := c.SubmitEvaluation(ctx, saved.GetEvaluationId(), saved.GetVersion(), "")
	if err != nil {
		t.Fatalf("a submit whose reply was lost came back as an error: %v", err)
	}
	if n := lost.Load(); n < 2 {
		t.Fatalf("the submit was sent %d time(s): the reply was not lost and asked again", n)
	}
	if submitted.GetStatus() != ecoutev1.EvaluationStatus_EVALUATION_STATUS_SUBMITTED {
		t.Errorf("status after the repeat = %v", submitted.GetStatus())
	}
	// Applied once: one submission in the audit trail, and the version
	// moved by one.
	entries, err := app.Audit().List(ctx, audit.Query{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	submits := 0
	for _, e := range entries {
		if strings.HasSuffix(e.Action, "submit") && e.Target == saved.GetEvaluationId() {
			submits++
		}
	}
	if submits != 1 {
		t.Errorf("%d submissions audited for %s, want 1", submits, saved.GetEvaluationId())
	}
	if submitted.GetVersion() != saved.GetVersion()+1 {
		t.Errorf("version %d after submitting version %d: applied more than once?", submitted.GetVersion(), saved.GetVersion())
	}
	// A write without a request id is never sent again: a lost login
	// reply is reported, not repeated.
	var lostLogin atomic.Int32
	c2, err := client.Dial(ctx, lis.Addr().String(), client.Options{CAPEM: ca,
		DialOptions: []grpc.DialOption{grpc.WithUnaryInterceptor(loseReply("/ecoute.v1.AuthService/Login", &lostLogin))}})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if _, err := c2.Login(ctx, sup.Login, sup.Password); err == nil || lostLogin.Load() != 1 {
		t.Errorf("lost login reply: err %v after %d sends, want ErrUnreachable after 1", err, lostLogin.Load())
	}
}
