package tui

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"google.golang.org/protobuf/types/known/timestamppb"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/client"
)

// fakeEvals is the evaluation capability as the screen sees it; methods
// the tests do not use answer ErrUnsupported.
type fakeEvals struct {
	mu      sync.Mutex
	saves   []client.EvaluationEdit
	submits []submitCall
	stale   int64 // next save fails as stale with this current version
	hits    []*ecoutev1.CommentHit
	version int64
	// getStatus is the status GetEvaluation answers (default submitted).
	getStatus ecoutev1.EvaluationStatus
	resolves  []client.Resolution
	acks      []string
}

type submitCall struct {
	id             string
	version        int64
	overrideReason string
}

func (f *fakeEvals) ResolveDispute(_ context.Context, r client.Resolution) (*ecoutev1.Evaluation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.resolves = append(f.resolves, r)
	e := f.evaluation(r.Answers, r.Comment)
	e.Status = ecoutev1.EvaluationStatus_EVALUATION_STATUS_RESOLVED
	return e, nil
}

func (f *fakeEvals) AcknowledgeEvaluation(_ context.Context, id, comment string) (*ecoutev1.Evaluation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.acks = append(f.acks, comment)
	e := f.evaluation(nil, "")
	e.Status = ecoutev1.EvaluationStatus_EVALUATION_STATUS_ACKNOWLEDGED
	return e, nil
}

func (f *fakeEvals) DisputeEvaluation(context.Context, string, string) (*ecoutev1.Evaluation, error) {
	e := f.evaluation(nil, "")
	e.Status = ecoutev1.EvaluationStatus_EVALUATION_STATUS_DISPUTED
	return e, nil
}

// evalTestBackend is the fake backend with an evaluation capability.
type evalTestBackend struct {
	*fakeBackend
	*fakeEvals
}

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

func (f *fakeEvals) StartEvaluation(context.Context, string) (client.EvaluationView, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.version = 1
	return client.EvaluationView{Evaluation: f.evaluation(nil, ""), Grid: testGrid()}, nil
}

func (f *fakeEvals) SaveEvaluation(_ context.Context, e client.EvaluationEdit) (*ecoutev1.Evaluation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.saves = append(f.saves, e)
	if f.stale > 0 {
		v := f.stale
		f.stale = 0
		f.version = v
		return nil, fmt.Errorf("save evaluation: %w", &client.ErrStale{Current: v, Message: "saved elsewhere"})
	}
	f.version++
	return f.evaluation(e.Answers, e.Comment), nil
}

func (f *fakeEvals) ListEvaluations(context.Context, client.EvaluationQuery) ([]*ecoutev1.Evaluation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e := f.evaluation([]*ecoutev1.Answer{{CriterionId: "greet", Value: "yes"}}, "")
	e.Status = ecoutev1.EvaluationStatus_EVALUATION_STATUS_SUBMITTED
	e.GridName = "Grille test"
	e.CallStartedAt = timestamppb.New(time.Date(2026, 11, 23, 9, 15, 0, 0, time.UTC))
	// An evaluation whose retention date the server did not send shows
	// none, never 1970-01-01.
	old := f.evaluation(nil, "")
	old.EvaluationId, old.RetainedUntil, old.GridName = "ev0", nil, "Grille test"
	return []*ecoutev1.Evaluation{e, old}, nil
}

func (f *fakeEvals) GetEvaluation(context.Context, string) (client.EvaluationView, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e := f.evaluation([]*ecoutev1.Answer{{CriterionId: "greet", Value: "yes"}}, "")
	e.Status = ecoutev1.EvaluationStatus_EVALUATION_STATUS_SUBMITTED
	if f.getStatus != 0 {
		e.Status = f.getStatus
	}
	return client.EvaluationView{Evaluation: e, Grid: testGrid()}, nil
}

func (f *fakeEvals) SubmitEvaluation(_ context.Context, id string, version int64, reason string) (*ecoutev1.Evaluation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.submits = append(f.submits, submitCall{id: id, version: version, overrideReason: reason})
	e := f.evaluation(nil, "")
	e.Status = ecoutev1.EvaluationStatus_EVALUATION_STATUS_SUBMITTED
	return e, nil
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
	run(s, s.Init())
	if s.ev == nil {
		t.Fatalf("not loaded: %s", s.err)
	}
	return s
}

// run executes cmd and feeds every message it yields back to the screen,
// skipping the autosave timer (driven by hand).
func run(s *evalScreen, cmd tea.Cmd) {
	drive(s.c, s, cmd, func(m tea.Msg) bool { _, tick := m.(evalSaveTickMsg); return tick })
}

var supervisorMethods = []string{methodStartEvaluation, methodSaveEvaluation, methodSubmitEvaluation, methodListEvaluations}

func TestEvalAnswersAutosaveAndHits(t *testing.T) {
	svc := &fakeEvals{hits: []*ecoutev1.CommentHit{{Category: "health", Start: 11, End: 17, Text: "malade"}}}
	s := openEvalScreen(t, svc, supervisorMethods...)
	first := s.Update(press("1"))
	f := s.form
	if f.Value("greet") != "yes" || f.Cursor() != 1 || first == nil || !f.Dirty() {
		t.Fatalf("after 1: greet %q cur %d dirty %v", f.Value("greet"), f.Cursor(), f.Dirty())
	}
	second := s.Update(press("."))
	if f.Value("tone") != "na" {
		t.Fatalf("N/A not recorded: %q", f.Value("tone"))
	}
	if !strings.Contains(ansi.Strip(s.View()), "saving…") {
		t.Error("unsaved changes not shown")
	}
	// The autosave tick of the last change saves; an older one is
	// superseded by the envelope.
	autosaves := func(cmd tea.Cmd) []replyMsg {
		var out []replyMsg
		for _, m := range collect(cmd) {
			if r, ok := m.(replyMsg); ok {
				if _, tick := r.msg.(evalSaveTickMsg); tick {
					out = append(out, r)
				}
			}
		}
		return out
	}
	older, newer := autosaves(first), autosaves(second)
	if len(older) != 1 || len(newer) != 1 {
		t.Fatalf("autosave timers: %d then %d", len(older), len(newer))
	}
	if c := deliverTo(s.c, s, older[0]); c != nil {
		t.Error("a superseded autosave tick saved")
	}
	s.Update(press("c")) // the overall comment: the cursor is past the last criterion
	typeText(s, "Le client malade a rappelé.")
	latest := autosaves(s.Update(press("enter")))
	if len(latest) != 1 {
		t.Fatalf("the comment set %d autosave timers", len(latest))
	}
	if c := deliverTo(s.c, s, newer[0]); c != nil {
		t.Error("the tick of the answer saved although the comment came after it")
	}
	run(s, deliverTo(s.c, s, latest[0]))
	if len(svc.saves) != 1 || len(svc.saves[0].Answers) != 2 || svc.saves[0].Version != 1 {
		t.Fatalf("saves %v", svc.saves)
	}
	v := ansi.Strip(s.View())
	if f.Dirty() || !strings.Contains(v, "✓ saved") {
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
	cmd := deliverTo(s.c, s, s.save()())
	if s.ev.GetVersion() != 7 || !s.form.Dirty() || cmd == nil {
		t.Fatalf("after a stale save: version %d dirty %v", s.ev.GetVersion(), s.form.Dirty())
	}
	run(s, s.save())
	if n := len(svc.saves); n != 2 || svc.saves[1].Version != 7 || s.form.Dirty() {
		t.Fatalf("retry: %d saves, last %v, dirty %v", n, svc.saves[n-1], s.form.Dirty())
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
	if s.form.Note("greet") != "[01:23] bonne écoute" || s.Typing() {
		t.Errorf("comment %q", s.form.Note("greet"))
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
	if len(svc.submits) != 1 || svc.submits[0].overrideReason != "citation" {
		t.Fatalf("submits %v", svc.submits)
	}
	if s.ev.GetStatus() != ecoutev1.EvaluationStatus_EVALUATION_STATUS_SUBMITTED || !s.readOnly {
		t.Errorf("after submit: %v read-only %v", s.ev.GetStatus(), s.readOnly)
	}
}

func TestEvalAgentCannotAnswer(t *testing.T) {
	s := openEvalScreenAs(t, &fakeEvals{}, "agent", methodListEvaluations, methodAcknowledgeEval, methodDisputeEval)
	cmd := s.Update(press("2"))
	if s.form.Value("greet") != "yes" || cmd == nil {
		t.Fatalf("agent changed an answer: %q", s.form.Value("greet"))
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
	// The draft goes to disk in the change's Cmd, never in Update.
	cmd := s.Update(press("1"))
	if _, err := d.Load("ev1"); err == nil {
		t.Fatal("the draft was written inside Update")
	}
	run(s, cmd)
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
	if cmd := s.Update(press("2")); cmd != nil || s.form.Value("greet") != "no" {
		t.Fatalf("revision answer: %q (a revision is never autosaved: cmd %v)", s.form.Value("greet"), cmd)
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
	if !r.Revised || r.Reason != "entendu à 00:35" || r.Answers[0].Value != "no" {
		t.Errorf("resolve request %v", r)
	}
	if s.revising || s.ev.GetStatus() != ecoutev1.EvaluationStatus_EVALUATION_STATUS_RESOLVED {
		t.Errorf("after revision: revising %v status %v", s.revising, s.ev.GetStatus())
	}
}

// TestEvalReboundAnswerKeys: with evaluation.answer rebound in the config
// file, the new keys answer (by their position among the binding's keys),
// the old ones do not, and the grid shows the new keys beside the options.
func TestEvalReboundAnswerKeys(t *testing.T) {
	svc := &fakeEvals{}
	c := testCommon(t, evalTestBackend{&fakeBackend{n: 3}, svc})
	c.Principal.AllowedMethods = supervisorMethods
	// A key another action of the screen uses is refused with both names.
	if err := (KeyOverrides{"evaluation.answer": {"y", "r"}}).Validate(english); err == nil ||
		!strings.Contains(err.Error(), "evaluation.resolve") {
		t.Fatalf("conflicting answer keys: %v", err)
	}
	c.KeyOverrides = KeyOverrides{"evaluation.answer": {"y", "x", "v", "b", "g"}}
	if err := c.KeyOverrides.Validate(english); err != nil {
		t.Fatal(err)
	}
	s := newEvalScreen(c, OpenEvaluationMsg{CallID: "call-001"})
	s.SetSize(100, 40)
	run(s, s.Init())
	if s.form == nil {
		t.Fatalf("not loaded: %s", s.err)
	}
	s.Update(press("1"))
	if v := s.form.Value("greet"); v != "" {
		t.Fatalf("the default key 1 still answers: %q", v)
	}
	if out := ansi.Strip(s.View()); !strings.Contains(out, "y yes") || !strings.Contains(out, "x no") {
		t.Errorf("the options do not show the new keys:\n%s", out)
	}
	s.Update(press("x")) // second key: the second option, "no"
	if v := s.form.Value("greet"); v != "no" {
		t.Fatalf("x answered %q, want no", v)
	}
	s.Update(press("b")) // fourth key on the 1–5 scale: 4
	if v := s.form.Value("tone"); v != "4" {
		t.Fatalf("b answered %q, want 4", v)
	}
}
