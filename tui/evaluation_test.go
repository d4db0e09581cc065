package tui

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
)

// fakeEvals is the evaluation service as the screen sees it. Methods the
// tests do not use panic through the nil embedded interface.
type fakeEvals struct {
	ecoutev1.EvaluationServiceClient
	mu      sync.Mutex
	saves   []*ecoutev1.SaveEvaluationRequest
	submits []*ecoutev1.SubmitEvaluationRequest
	stale   int64 // next save fails ABORTED with this current version
	hits    []*ecoutev1.CommentHit
	version int64
	// getStatus is the status GetEvaluation answers (default submitted).
	getStatus ecoutev1.EvaluationStatus
	resolves  []*ecoutev1.ResolveDisputeRequest
}

func (f *fakeEvals) ResolveDispute(_ context.Context, req *ecoutev1.ResolveDisputeRequest, _ ...grpc.CallOption) (*ecoutev1.ResolveDisputeResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.resolves = append(f.resolves, req)
	e := f.evaluation(req.Answers, req.Comment)
	e.Status = ecoutev1.EvaluationStatus_EVALUATION_STATUS_RESOLVED
	return &ecoutev1.ResolveDisputeResponse{Evaluation: e}, nil
}

type evalTestBackend struct {
	*fakeBackend
	svc *fakeEvals
}

func (b evalTestBackend) Evaluations() ecoutev1.EvaluationServiceClient { return b.svc }

func testGrid() *ecoutev1.Grid {
	return &ecoutev1.Grid{GridId: "g", Version: 1, Name: "Grille test", Sections: []*ecoutev1.GridSection{
		{SectionId: "s", Title: "Accueil", Weight: 1, Criteria: []*ecoutev1.Criterion{
			{CriterionId: "greet", Label: "Greeting", Type: ecoutev1.AnswerType_ANSWER_TYPE_YES_NO, Weight: 1, Critical: true},
			{CriterionId: "tone", Label: "Tone", Type: ecoutev1.AnswerType_ANSWER_TYPE_SCALE, Weight: 1, AllowNa: true},
		}},
	}}
}

func (f *fakeEvals) evaluation(answers []*ecoutev1.Answer, comment string) *ecoutev1.Evaluation {
	return &ecoutev1.Evaluation{EvaluationId: "ev1", CallId: "call-001", Status: ecoutev1.EvaluationStatus_EVALUATION_STATUS_DRAFT,
		Version: f.version, Answers: answers, Comment: comment, Hits: f.hits, AgentName: "Agent 1",
		RetainedUntil: timestamppb.New(time.Date(2027, 11, 23, 10, 0, 0, 0, time.UTC)),
		UpdatedAt:     timestamppb.New(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)),
		Score:         &ecoutev1.Score{Total: 75, HasTotal: true, Answered: int32(len(answers)), Criteria: 2}}
}

func (f *fakeEvals) StartEvaluation(context.Context, *ecoutev1.StartEvaluationRequest, ...grpc.CallOption) (*ecoutev1.StartEvaluationResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.version = 1
	return &ecoutev1.StartEvaluationResponse{Evaluation: f.evaluation(nil, ""), Grid: testGrid()}, nil
}

func (f *fakeEvals) SaveEvaluation(_ context.Context, req *ecoutev1.SaveEvaluationRequest, _ ...grpc.CallOption) (*ecoutev1.SaveEvaluationResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.saves = append(f.saves, req)
	if f.stale > 0 {
		v := f.stale
		f.stale = 0
		st, _ := status.New(codes.Aborted, "saved elsewhere").WithDetails(&errdetails.ErrorInfo{
			Reason: "STALE_VERSION", Metadata: map[string]string{"current_version": "7"}})
		f.version = v
		return nil, st.Err()
	}
	f.version++
	return &ecoutev1.SaveEvaluationResponse{Evaluation: f.evaluation(req.Answers, req.Comment)}, nil
}

func (f *fakeEvals) ListEvaluations(context.Context, *ecoutev1.ListEvaluationsRequest, ...grpc.CallOption) (*ecoutev1.ListEvaluationsResponse, error) {
	return &ecoutev1.ListEvaluationsResponse{Evaluations: []*ecoutev1.Evaluation{{EvaluationId: "ev1"}}}, nil
}

func (f *fakeEvals) GetEvaluation(context.Context, *ecoutev1.GetEvaluationRequest, ...grpc.CallOption) (*ecoutev1.GetEvaluationResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e := f.evaluation([]*ecoutev1.Answer{{CriterionId: "greet", Value: "yes"}}, "")
	e.Status = ecoutev1.EvaluationStatus_EVALUATION_STATUS_SUBMITTED
	if f.getStatus != 0 {
		e.Status = f.getStatus
	}
	return &ecoutev1.GetEvaluationResponse{Evaluation: e, Grid: testGrid()}, nil
}

func (f *fakeEvals) SubmitEvaluation(_ context.Context, req *ecoutev1.SubmitEvaluationRequest, _ ...grpc.CallOption) (*ecoutev1.SubmitEvaluationResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.submits = append(f.submits, req)
	e := f.evaluation(nil, "")
	e.Status = ecoutev1.EvaluationStatus_EVALUATION_STATUS_SUBMITTED
	return &ecoutev1.SubmitEvaluationResponse{Evaluation: e}, nil
}

func openEvalScreen(t *testing.T, svc *fakeEvals, methods ...string) *evalScreen {
	t.Helper()
	return openEvalScreenAs(t, svc, "supervisor", methods...)
}

func openEvalScreenAs(t *testing.T, svc *fakeEvals, role string, methods ...string) *evalScreen {
	t.Helper()
	c := testCommon(t, evalTestBackend{&fakeBackend{n: 3}, svc})
	c.Principal.AllowedMethods, c.Principal.Role = methods, role
	s := newEvalScreen(c, OpenEvaluationMsg{CallID: "call-001", Player: newPlayerWidget(c)})
	s.SetSize(100, 40)
	s.Update(s.Init()())
	if s.ev == nil {
		t.Fatalf("not loaded: %s", s.err)
	}
	return s
}

// run executes cmd and feeds every message it yields back to the screen,
// skipping timers (the autosave delay is driven by hand).
func run(s *evalScreen, cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	switch msg := cmd().(type) {
	case tea.BatchMsg:
		for _, c := range msg {
			run(s, c)
		}
	case evalSaveTickMsg, nil:
	default:
		run(s, s.Update(msg))
	}
}

var supervisorMethods = []string{methodStartEvaluation, methodSaveEvaluation, methodSubmitEvaluation, methodListEvaluations}

func TestEvalAnswersAutosaveAndHits(t *testing.T) {
	svc := &fakeEvals{hits: []*ecoutev1.CommentHit{{Category: "health", Start: 11, End: 17, Text: "malade"}}}
	s := openEvalScreen(t, svc, supervisorMethods...)
	cmd := s.Update(press("1"))
	if s.values["greet"] != "yes" || s.cur != 1 || cmd == nil || !s.dirty {
		t.Fatalf("after 1: values %v cur %d dirty %v", s.values, s.cur, s.dirty)
	}
	s.Update(press("."))
	if s.values["tone"] != "na" {
		t.Fatalf("N/A not recorded: %v", s.values)
	}
	if !strings.Contains(ansi.Strip(s.View()), "saving…") {
		t.Error("unsaved changes not shown")
	}
	// The autosave tick of the last change saves; an older one does not.
	if c := s.Update(evalSaveTickMsg{screen: s.id, seq: s.saveSeq - 1}); c != nil {
		t.Error("a superseded autosave tick saved")
	}
	s.comment = "Le client malade a rappelé."
	run(s, s.Update(evalSaveTickMsg{screen: s.id, seq: s.saveSeq}))
	if len(svc.saves) != 1 || len(svc.saves[0].Answers) != 2 || svc.saves[0].ExpectedVersion != 1 {
		t.Fatalf("saves %v", svc.saves)
	}
	v := ansi.Strip(s.View())
	if s.dirty || !strings.Contains(v, "✓ saved") {
		t.Errorf("saved state not shown:\n%s", v)
	}
	if !strings.Contains(v, "“malade”: health") || !strings.Contains(v, "Total 75.0 %") {
		t.Errorf("hit or total not shown:\n%s", v)
	}
}

func TestEvalStaleSaveRetriesOnCurrentVersion(t *testing.T) {
	svc := &fakeEvals{stale: 7}
	s := openEvalScreen(t, svc, supervisorMethods...)
	s.Update(press("2"))
	msg := s.save()()
	cmd := s.Update(msg)
	if s.ev.GetVersion() != 7 || !s.dirty || cmd == nil {
		t.Fatalf("after a stale save: version %d dirty %v", s.ev.GetVersion(), s.dirty)
	}
	run(s, s.save())
	if n := len(svc.saves); n != 2 || svc.saves[1].ExpectedVersion != 7 || s.dirty {
		t.Fatalf("retry: %d saves, last %v, dirty %v", n, svc.saves[n-1], s.dirty)
	}
}

func TestEvalNotePinsPlaybackTime(t *testing.T) {
	s := openEvalScreen(t, &fakeEvals{}, supervisorMethods...)
	s.player.pos = 83 * time.Second
	s.Update(press("n"))
	if !s.Typing() || s.input.Value() != "[01:23] " {
		t.Fatalf("note: typing %v value %q", s.Typing(), s.input.Value())
	}
	typeText(s, "bonne écoute")
	run(s, s.Update(press("enter")))
	if s.notes["greet"] != "[01:23] bonne écoute" || s.Typing() {
		t.Errorf("comment %q", s.notes["greet"])
	}
}

func TestEvalSubmitConfirmsTotalAndAsksOverride(t *testing.T) {
	svc := &fakeEvals{hits: []*ecoutev1.CommentHit{{Category: "insult", Start: 0, End: 5, Text: "idiot"}}}
	s := openEvalScreen(t, svc, supervisorMethods...)
	s.ev.Hits = svc.hits
	s.Update(press("s"))
	if !s.confirm || !strings.Contains(ansi.Strip(s.View()), "Submit this evaluation? Total 75.0 %") {
		t.Fatalf("no confirmation with the total:\n%s", ansi.Strip(s.View()))
	}
	s.Update(press("enter"))
	if s.editing != editOverride {
		t.Fatal("flagged comments did not ask for a reason")
	}
	typeText(s, "citation")
	run(s, s.Update(press("enter")))
	if len(svc.submits) != 1 || svc.submits[0].OverrideReason != "citation" {
		t.Fatalf("submits %v", svc.submits)
	}
	if s.ev.GetStatus() != ecoutev1.EvaluationStatus_EVALUATION_STATUS_SUBMITTED || !s.readOnly {
		t.Errorf("after submit: %v read-only %v", s.ev.GetStatus(), s.readOnly)
	}
}

func TestEvalAgentCannotAnswer(t *testing.T) {
	s := openEvalScreenAs(t, &fakeEvals{}, "agent", methodListEvaluations, methodAcknowledgeEval, methodDisputeEval)
	cmd := s.Update(press("2"))
	if s.values["greet"] != "yes" || cmd == nil {
		t.Fatalf("agent changed an answer: %v", s.values)
	}
	if msg, ok := cmd().(StatusMsg); !ok || !strings.Contains(msg.Text, "agent") {
		t.Errorf("no reason given: %v", msg)
	}
}

func TestEvalDraftKeptUntilSavedOnClose(t *testing.T) {
	svc := &fakeEvals{}
	s := openEvalScreen(t, svc, supervisorMethods...)
	d, err := OpenDrafts(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	s.c.Drafts = d
	s.Update(press("1"))
	if _, err := d.Load("ev1"); err != nil {
		t.Fatalf("change not kept on disk: %v", err)
	}
	// Leaving before the autosave fired: the Cmd of Close saves, then
	// drops the draft.
	if msg := s.Close()(); msg != nil {
		t.Fatalf("close: %v", msg)
	}
	if len(svc.saves) != 1 || svc.saves[0].Answers[0].Value != "yes" {
		t.Fatalf("saves on close: %v", svc.saves)
	}
	if _, err := d.Load("ev1"); err == nil {
		t.Error("draft still on disk after the server saved it")
	}
}

func TestEvalSupervisorRevisesDispute(t *testing.T) {
	svc := &fakeEvals{getStatus: ecoutev1.EvaluationStatus_EVALUATION_STATUS_DISPUTED}
	// No StartEvaluation right: the screen reads the call's evaluation.
	s := openEvalScreen(t, svc, methodListEvaluations, methodSaveEvaluation, methodResolveDispute)
	if !s.readOnly {
		t.Fatal("a disputed evaluation is editable before R")
	}
	s.Update(press("R"))
	if cmd := s.Update(press("2")); cmd != nil || s.values["greet"] != "no" {
		t.Fatalf("revision answer: %v (a revision is never autosaved: cmd %v)", s.values, cmd)
	}
	s.Update(press("s"))
	if s.editing != editRevise {
		t.Fatal("s did not ask for the revision's reason")
	}
	typeText(s, "entendu à 00:35")
	run(s, s.Update(press("enter")))
	if len(svc.saves) != 0 || len(svc.resolves) != 1 {
		t.Fatalf("saves %d, resolves %v", len(svc.saves), svc.resolves)
	}
	r := svc.resolves[0]
	if r.Resolution != ecoutev1.Resolution_RESOLUTION_REVISED || r.Reason != "entendu à 00:35" || r.Answers[0].Value != "no" {
		t.Errorf("resolve request %v", r)
	}
	if s.revising || s.ev.GetStatus() != ecoutev1.EvaluationStatus_EVALUATION_STATUS_RESOLVED {
		t.Errorf("after revision: revising %v status %v", s.revising, s.ev.GetStatus())
	}
}
