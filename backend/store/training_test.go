package store

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

// Captures and clips go with their call, whichever deletion takes it
// (retention here; the sampling and an erasure delete calls the same way):
// the capture rows cascade, their blob is queued for deletion once its last
// capture is gone, the clips go by trigger; an attached evaluation stays
// as long as the evaluation does.
func TestCapturesAndClipsGoWithTheirCall(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	base := fixture(t, s, 3)
	call, other := "a1-01", "a1-02"
	now := base.Add(time.Hour)
	var caps []Capture
	for i, c := range []string{call, call, other} {
		caps = append(caps, Capture{ID: "cap" + string(rune('a'+i)), CallID: c, Offset: time.Duration(i) * time.Second,
			Format: "png", Width: 8, Height: 8, BlobKey: "captures/" + c, Size: 10, CreatedAt: now})
	}
	stored, dup, err := s.InsertCaptures(ctx, caps)
	if err != nil || stored != 3 || dup != 0 {
		t.Fatalf("insert: %d %d %v", stored, dup, err)
	}
	// The same positions again: nothing new.
	if stored, dup, err := s.InsertCaptures(ctx, caps[:1]); err != nil || stored != 0 || dup != 1 {
		t.Fatalf("again: %d %d %v", stored, dup, err)
	}
	if _, _, err := s.SaveGrid(ctx, testGrid("v1"), "u1", now); err != nil {
		t.Fatal(err)
	}
	ev := Evaluation{ID: "ev1", CallID: call, CallStartedAt: base, GridID: "g1", GridVersion: 1, AgentID: "a1", TeamID: "t1",
		EvaluatorID: "u", Status: EvalSubmitted, Version: 1, CreatedAt: now, UpdatedAt: now, RetainedUntil: now.AddDate(1, 0, 0)}
	if err := s.CreateEvaluation(ctx, ev); err != nil {
		t.Fatal(err)
	}
	sess := CoachingSession{ID: "s1", TrainerID: "tr", AgentID: "a1", TeamID: "t1", Title: "Écoute active",
		Status: CoachingDraft, Version: 1, CreatedAt: now, UpdatedAt: now, RetainedUntil: now.AddDate(1, 0, 0)}
	if err := s.CreateCoachingSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	got, err := s.AddCoachingItem(ctx, CoachingItem{ID: "i1", SessionID: "s1", Kind: ItemClip, CallID: call,
		From: time.Second, To: 5 * time.Second, Note: "reformulation", CreatedAt: now}, now, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddCoachingItem(ctx, CoachingItem{ID: "i2", SessionID: "s1", Kind: ItemEvaluation, CallID: call,
		EvaluationID: "ev1", CreatedAt: now}, now, 1); !errors.As(err, new(*StaleError)) {
		t.Fatalf("a stale add: %v", err)
	}
	got, err = s.AddCoachingItem(ctx, CoachingItem{ID: "i2", SessionID: "s1", Kind: ItemEvaluation, CallID: call,
		EvaluationID: "ev1", CreatedAt: now}, now, got.Version)
	if err != nil || len(got.Items) != 2 || got.Items[0].Captures != 2 || got.Items[0].Note != "reformulation" ||
		got.Items[0].CallRetainedUntil.IsZero() {
		t.Fatalf("session %+v %v", got.Items, err)
	}
	// The trainer now reaches the clip's call, not the team's others.
	sc := Scope{Trainer: "tr"}
	if _, err := s.GetCall(ctx, call, sc); err != nil {
		t.Errorf("the session's call: %v", err)
	}
	if _, err := s.GetCall(ctx, "a2-01", sc); !errors.Is(err, ErrNotFound) {
		t.Errorf("another agent's call: %v", err)
	}
	// With their team, the trainee's other calls too.
	sc.TrainerTeams = []string{"t1"}
	if _, err := s.GetCall(ctx, other, sc); err != nil {
		t.Errorf("the trainee's call: %v", err)
	}
	if _, err := s.GetCall(ctx, "a2-01", sc); !errors.Is(err, ErrNotFound) {
		t.Errorf("a call of the team's other agent: %v", err)
	}
	if es, err := s.ListEvaluations(ctx, EvalQuery{Scope: EvalScope{Scope: Scope{Trainer: "tr"}}}); err != nil ||
		len(es) != 1 || es[0].ID != "ev1" {
		t.Errorf("the trainer's evaluations: %v %v", es, err)
	}

	// The recording's retention passes.
	if _, err := s.DeleteRecordings(ctx, base.AddDate(0, 0, 1), base.AddDate(0, 7, 0)); err != nil {
		t.Fatal(err)
	}
	if cs, err := s.ListCaptures(ctx, call); err != nil || len(cs) != 0 {
		t.Errorf("captures left: %v %v", cs, err)
	}
	keys, err := s.BlobDeletions(ctx, 100)
	if err != nil || !slices.Contains(keys, "captures/"+call) || !slices.Contains(keys, "captures/"+other) {
		t.Errorf("blob deletions %v %v", keys, err)
	}
	got, err = s.GetCoachingSession(ctx, "s1")
	if err != nil || len(got.Items) != 1 || got.Items[0].Kind != ItemEvaluation {
		t.Errorf("after the call's deletion: %+v %v", got.Items, err)
	}
	// The session's year passes: it goes with its goals and items.
	if n, err := s.DeleteExpiredCoaching(ctx, now.AddDate(1, 0, 0)); err != nil || n != 1 {
		t.Errorf("expired sessions: %d %v", n, err)
	}
	var left int
	s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM coaching_items`).Scan(&left)
	if left != 0 {
		t.Errorf("%d items left", left)
	}
}

func TestCalibrationScoresAreNotEvaluations(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	base := fixture(t, s, 2)
	c := Calibration{ID: "cal1", CallID: "a1-00", GridID: "g", GridVersion: 1, CreatedBy: "sup", Status: CalibrationOpen,
		CreatedAt: base, RetainedUntil: base.AddDate(1, 0, 0)}
	for _, u := range []string{"u1", "u2"} {
		c.Scores = append(c.Scores, CalibrationScore{ID: "sc-" + u, CalibrationID: c.ID, EvaluatorID: u, Version: 1, UpdatedAt: base})
	}
	if err := s.CreateCalibration(ctx, c); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetCalibration(ctx, "cal1")
	if err != nil || len(got.Scores) != 2 {
		t.Fatalf("get: %+v %v", got, err)
	}
	sc := got.Scores[0]
	sc.TotalTenths, sc.HasTotal, sc.SubmittedAt, sc.UpdatedAt, sc.Comment = 875, true, base, base, "ton juste"
	got, err = s.UpdateCalibrationScore(ctx, sc, 1, false)
	if err != nil || got.Scores[0].Version != 2 || got.Scores[0].Comment != "ton juste" {
		t.Fatalf("update: %+v %v", got.Scores, err)
	}
	if _, err := s.UpdateCalibrationScore(ctx, sc, 1, false); !errors.As(err, new(*StaleError)) {
		t.Errorf("stale: %v", err)
	}
	if l, err := s.ListCalibrations(ctx, CalibrationQuery{UserID: "u2"}); err != nil || len(l) != 1 {
		t.Errorf("u2's calibrations: %v %v", l, err)
	}
	if l, err := s.ListCalibrations(ctx, CalibrationQuery{UserID: "someone"}); err != nil || len(l) != 0 {
		t.Errorf("a stranger's: %v %v", l, err)
	}
	var evaluated int
	s.db.QueryRowContext(ctx, `SELECT evaluated FROM calls WHERE id = 'a1-00'`).Scan(&evaluated)
	es, _ := s.ListEvaluations(ctx, EvalQuery{Scope: EvalScope{Scope: Scope{All: true}, Drafts: true}})
	if len(es) != 0 {
		t.Errorf("calibration scores read as evaluations: %v", es)
	}
	if n, err := s.DeleteExpiredCalibrations(ctx, base.AddDate(1, 0, 0)); err != nil || n != 1 {
		t.Errorf("expired: %d %v", n, err)
	}
}
