package audit

import (
	"context"
	"errors"
	"sync"
	"testing"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/backend/auth"
	"github.com/ecoute/ecoute/backend/store"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// memory is an Appender for the interceptor's unit tests.
type memory struct {
	mu      sync.Mutex
	entries []Entry
	fail    error
}

func (m *memory) Append(_ context.Context, e Entry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	m.entries = append(m.entries, e)
	return nil
}

var sup = auth.Principal{User: store.User{ID: "u1", Login: "claire", Role: "supervisor"}, TokenHash: "t1"}

// call runs one unary RPC through the interceptor as the server chains it:
// recorder, then the guard (pass decides), then the capture, then h.
func call(i *Interceptor, method string, req any, pass bool, h grpc.UnaryHandler) (any, error) {
	info := &grpc.UnaryServerInfo{FullMethod: method}
	guard := func(ctx context.Context, req any) (any, error) {
		if !pass {
			return nil, status.Error(codes.PermissionDenied, "no")
		}
		return i.CaptureUnary(auth.WithPrincipal(ctx, sup), req, info, h)
	}
	return i.Unary(context.Background(), req, info, guard)
}

func ok(context.Context, any) (any, error) { return &ecoutev1.GetCallResponse{}, nil }

func TestChangesAreRecordedUnderTheirMethod(t *testing.T) {
	m := &memory{}
	i := NewInterceptor(m, nil, nil, nil)
	// A method this package has never heard of: recorded by default, with
	// the id its request names.
	if _, err := call(i, "/ecoute.v1.AdminService/DeleteTeam", &ecoutev1.GetCallRequest{CallId: "team-7"}, true, ok); err != nil {
		t.Fatal(err)
	}
	if len(m.entries) != 1 {
		t.Fatalf("entries %+v", m.entries)
	}
	e := m.entries[0]
	if e.Action != "ecoute.v1.AdminService/DeleteTeam" || e.Target != "team-7" || e.Actor.Login != "claire" ||
		e.Details["result"] != "ok" {
		t.Errorf("entry %+v", e)
	}
}

func TestQuietReadsAreNotRecorded(t *testing.T) {
	m := &memory{}
	i := NewInterceptor(m, nil, nil, nil)
	if _, err := call(i, "/ecoute.v1.AuthService/WhoAmI", &ecoutev1.WhoAmIRequest{}, true, ok); err != nil {
		t.Fatal(err)
	}
	if _, err := call(i, "/grpc.health.v1.Health/Check", nil, true, ok); err != nil {
		t.Fatal(err)
	}
	if len(m.entries) != 0 {
		t.Errorf("quiet calls recorded: %+v", m.entries)
	}
}

func TestRefusalsAreRecorded(t *testing.T) {
	m := &memory{}
	i := NewInterceptor(m, nil, nil, nil)
	_, err := call(i, "/ecoute.v1.AuditService/ListAuditEvents", &ecoutev1.ListAuditEventsRequest{}, false, ok)
	if status.Code(err) != codes.PermissionDenied {
		t.Fatalf("err %v", err)
	}
	if len(m.entries) != 1 || m.entries[0].Action != ActionAccessDenied ||
		m.entries[0].Details["method"] != "/ecoute.v1.AuditService/ListAuditEvents" ||
		m.entries[0].Details["result"] != "PermissionDenied" {
		t.Errorf("entries %+v", m.entries)
	}
}

func TestCallViewFailsClosed(t *testing.T) {
	m := &memory{fail: errors.New("disk full")}
	i := NewInterceptor(m, nil, nil, nil)
	resp, err := call(i, "/ecoute.v1.CallService/GetCall", &ecoutev1.GetCallRequest{CallId: "c1"}, true, ok)
	if status.Code(err) != codes.Internal || resp != nil {
		t.Fatalf("GetCall without a trail: %v %v; want Internal and no content", resp, err)
	}
	// A change that already happened is not undone; the error is logged.
	if _, err := call(i, "/ecoute.v1.AdminService/CreateTeam", &ecoutev1.GetCallRequest{CallId: "t"}, true, ok); err != nil {
		t.Errorf("CreateTeam: %v", err)
	}
}

func TestLoginOutcomes(t *testing.T) {
	m := &memory{}
	i := NewInterceptor(m, nil, nil, nil)
	login := func(ctx context.Context, req any) (any, error) {
		if req.(*ecoutev1.LoginRequest).GetPassword() == "right" {
			return &ecoutev1.LoginResponse{Principal: &ecoutev1.Principal{UserId: "u1", Login: "claire", Role: "supervisor"}}, nil
		}
		return nil, status.Error(codes.Unauthenticated, "bad")
	}
	// Login is public: the guard lets it through without a principal.
	info := &grpc.UnaryServerInfo{FullMethod: mLogin}
	run := func(pw string) {
		i.Unary(context.Background(), &ecoutev1.LoginRequest{Login: "claire", Password: pw}, info,
			func(ctx context.Context, req any) (any, error) { return i.CaptureUnary(ctx, req, info, login) })
	}
	run("wrong")
	run("right")
	if len(m.entries) != 2 || m.entries[0].Action != ActionLoginFailure || m.entries[0].Actor.Login != "claire" ||
		m.entries[0].Details["result"] != "Unauthenticated" || m.entries[1].Action != ActionLoginSuccess ||
		m.entries[1].Actor.UserID != "u1" {
		t.Errorf("entries %+v", m.entries)
	}
	for _, e := range m.entries {
		for k, v := range e.Details {
			if v == "right" || v == "wrong" {
				t.Errorf("a password reached the trail in %s", k)
			}
		}
	}
}

// A self-audited method (its operation records every outcome) leaves
// nothing more here, except when the guard refuses it.
func TestSelfAuditedMethodsAreRecordedOnce(t *testing.T) {
	m := &memory{}
	i := NewInterceptor(m, nil, nil, nil)
	const submit = "/ecoute.v1.EvaluationService/SubmitEvaluation"
	i.SelfAudited = map[string]bool{submit: true}
	fail := func(context.Context, any) (any, error) { return nil, status.Error(codes.FailedPrecondition, "no") }
	for _, h := range []grpc.UnaryHandler{ok, fail} {
		call(i, submit, &ecoutev1.SubmitEvaluationRequest{EvaluationId: "e1"}, true, h)
	}
	if len(m.entries) != 0 {
		t.Fatalf("a self-audited method recorded again: %+v", m.entries)
	}
	call(i, submit, &ecoutev1.SubmitEvaluationRequest{EvaluationId: "e1"}, false, ok)
	if len(m.entries) != 1 || m.entries[0].Action != ActionAccessDenied || m.entries[0].Target != "e1" {
		t.Errorf("refusal by the guard: %+v", m.entries)
	}
}

// A listening is recorded when it starts and when the whole file is played
// again, not at every seek or ranged read.
func TestListeningsRecordedOncePerPlay(t *testing.T) {
	m := &memory{}
	i := NewInterceptor(m, nil, nil, nil)
	ctx := context.WithValue(context.Background(), slotKey{}, &slot{passed: true, tokenHash: "t1"})
	for _, r := range []*ecoutev1.StreamAudioRequest{
		{CallId: "c1"},                          // opens: recorded
		{CallId: "c1", Offset: 4096},            // seek: not
		{CallId: "c1", Offset: 0, Length: 8192}, // ranged read: not
		{CallId: "c1"},                          // plays it again: recorded
		{CallId: "c2", Offset: 100},             // another call: recorded
	} {
		if i.shouldRecordListen(ctx, r) {
			m.entries = append(m.entries, Entry{Target: r.GetCallId()})
		}
	}
	if len(m.entries) != 3 || m.entries[0].Target != "c1" || m.entries[1].Target != "c1" || m.entries[2].Target != "c2" {
		t.Errorf("listenings recorded: %+v", m.entries)
	}
}
