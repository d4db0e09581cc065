package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ecoute/ecoute/backend/grid"
)

func testGrid(label string) grid.Grid {
	return grid.Grid{ID: "g1", Name: "Grille", Sections: []grid.Section{{ID: "s", Title: "S", Weight: 1,
		Criteria: []grid.Criterion{{ID: "c", Label: label, Type: grid.TypeYesNo, Weight: 1}}}}}
}

func TestGridVersioning(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	rec, isNew, err := s.SaveGrid(ctx, testGrid("v1"), "u1", now)
	if err != nil || !isNew || rec.Grid.Version != 1 {
		t.Fatalf("first save: %+v new=%v %v", rec, isNew, err)
	}
	// Unused: edited in place.
	rec, isNew, err = s.SaveGrid(ctx, testGrid("v1 edited"), "u1", now)
	if err != nil || isNew || rec.Grid.Version != 1 || rec.Grid.Sections[0].Criteria[0].Label != "v1 edited" {
		t.Fatalf("edit unused: %+v new=%v %v", rec, isNew, err)
	}
	// Used by an evaluation: the edit makes version 2, version 1 stays.
	e := Evaluation{ID: "e1", CallID: "call1", CallStartedAt: now, GridID: "g1", GridVersion: 1, AgentID: "a1",
		TeamID: "t1", EvaluatorID: "u1", Status: EvalDraft, Version: 1, CreatedAt: now, UpdatedAt: now,
		RetainedUntil: now.AddDate(1, 0, 0), Answers: []grid.Answer{{CriterionID: "c", Value: "yes", Comment: "ok"}}}
	if err := s.CreateEvaluation(ctx, e); err != nil {
		t.Fatal(err)
	}
	rec, isNew, err = s.SaveGrid(ctx, testGrid("v2"), "u1", now)
	if err != nil || !isNew || rec.Grid.Version != 2 {
		t.Fatalf("edit used: %+v new=%v %v", rec, isNew, err)
	}
	old, err := s.GetGrid(ctx, "g1", 1)
	if err != nil || old.Grid.Sections[0].Criteria[0].Label != "v1 edited" || !old.Used {
		t.Fatalf("version 1 changed: %+v %v", old, err)
	}
	list, err := s.ListGrids(ctx)
	if err != nil || len(list) != 1 || list[0].Grid.Version != 2 {
		t.Fatalf("list: %+v %v", list, err)
	}
	got, err := s.GetEvaluation(ctx, "e1", EvalScope{Scope: Scope{All: true}, Drafts: true})
	if err != nil || got.GridVersion != 1 || got.Answers[0].Comment != "ok" {
		t.Fatalf("evaluation: %+v %v", got, err)
	}
}

func TestEvaluationConcurrencyScopeAndExpiry(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	if _, _, err := s.SaveGrid(ctx, testGrid("x"), "u1", now); err != nil {
		t.Fatal(err)
	}
	e := Evaluation{ID: "e1", CallID: "call1", CallStartedAt: now, GridID: "g1", GridVersion: 1, AgentID: "a1",
		TeamID: "t1", EvaluatorID: "u1", Status: EvalDraft, Version: 1, CreatedAt: now, UpdatedAt: now,
		RetainedUntil: now.AddDate(1, 0, 0)}
	if err := s.CreateEvaluation(ctx, e); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateEvaluation(ctx, Evaluation{ID: "e2", CallID: "call1", GridID: "g1", GridVersion: 1,
		Status: EvalDraft, RetainedUntil: now}); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("second evaluation of a call: %v", err)
	}
	e.Comment = "first"
	saved, err := s.UpdateEvaluation(ctx, e, 1)
	if err != nil || saved.Version != 2 {
		t.Fatalf("update: %+v %v", saved, err)
	}
	e.Comment = "stale"
	_, err = s.UpdateEvaluation(ctx, e, 1)
	var stale *StaleError
	if !errors.As(err, &stale) || stale.Current != 2 {
		t.Fatalf("stale update: %v", err)
	}
	all := EvalScope{Scope: Scope{All: true}, Drafts: true}
	if _, err := s.GetEvaluation(ctx, "e1", EvalScope{Scope: Scope{TeamIDs: []string{"t2"}}, Drafts: true}); !errors.Is(err, ErrNotFound) {
		t.Errorf("other team reads it: %v", err)
	}
	if _, err := s.GetEvaluation(ctx, "e1", EvalScope{Scope: Scope{AgentIDs: []string{"a1"}}}); !errors.Is(err, ErrNotFound) {
		t.Errorf("agent reads a draft: %v", err)
	}
	if got, err := s.GetEvaluation(ctx, "e1", EvalScope{Scope: Scope{TeamIDs: []string{"t1"}}, Drafts: true}); err != nil || got.Comment != "first" {
		t.Errorf("own team: %+v %v", got, err)
	}
	if n, err := s.DeleteExpiredEvaluations(ctx, now.AddDate(1, 0, 0).Add(-time.Millisecond)); err != nil || n != 0 {
		t.Fatalf("purge before a year: %d %v", n, err)
	}
	if n, err := s.DeleteExpiredEvaluations(ctx, now.AddDate(1, 0, 0)); err != nil || n != 1 {
		t.Fatalf("purge at a year: %d %v", n, err)
	}
	if _, err := s.GetEvaluation(ctx, "e1", all); !errors.Is(err, ErrNotFound) {
		t.Errorf("still there after purge: %v", err)
	}
}
