package core

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ecoute/ecoute/backend/domain"
	"github.com/ecoute/ecoute/backend/limits"
	"github.com/ecoute/ecoute/backend/policy"
	"github.com/ecoute/ecoute/backend/scoring"
	"github.com/ecoute/ecoute/backend/store"
)

// RespondWindow: the agent acknowledges or disputes within 30 days of
// submission.
const RespondWindow = 30 * 24 * time.Hour

// EvaluationView is an evaluation as it is shown: with the grid version it
// uses, its score computed from the answers, and its flagged terms.
type EvaluationView struct {
	Evaluation store.Evaluation
	Grid       store.GridRecord
	// Score is the rule applied to the answers. Scored is false when a
	// stored evaluation no longer scores (a defect, logged): the stored
	// total stands in.
	Score  scoring.Result
	Scored bool
	Hits   []Hit
	// RespondUntil is when the agent's 30 days end (zero before
	// submission).
	RespondUntil time.Time
	// Existing is set by StartEvaluation when the call already had this
	// evaluation.
	Existing bool
}

// view builds the view of e with its grid version.
func (b *Backend) view(ctx context.Context, e store.Evaluation) (EvaluationView, error) {
	rec, err := b.grid(ctx, e.GridID, e.GridVersion)
	if err != nil {
		return EvaluationView{}, err
	}
	return b.viewWith(e, rec), nil
}

func (b *Backend) viewWith(e store.Evaluation, rec store.GridRecord) EvaluationView {
	v := EvaluationView{Evaluation: e, Grid: rec, Hits: b.hits(e.Answers, e.Comment)}
	if r, err := scoring.Score(rec.Grid, byCriterion(e.Answers)); err == nil {
		v.Score, v.Scored = r, true
	} else {
		// Keep the stored total rather than fail the read.
		b.Log.Error("score evaluation", "id", e.ID, "err", err)
	}
	if !e.SubmittedAt.IsZero() {
		v.RespondUntil = e.SubmittedAt.Add(RespondWindow)
	}
	return v
}

// evaluation reads an evaluation in the caller's reach; outside it is "not
// found", so that another team's evaluations do not even show they exist.
func (b *Backend) evaluation(ctx context.Context, c Caller, id string) (store.Evaluation, error) {
	if id == "" {
		return store.Evaluation{}, domain.Invalid("evaluation_id", "is required")
	}
	if err := limits.ID("evaluation_id", id); err != nil {
		return store.Evaluation{}, err
	}
	e, err := b.Store.GetEvaluation(ctx, id, policy.EvaluationScope(c.User))
	if errors.Is(err, store.ErrNotFound) {
		return store.Evaluation{}, domain.NotFound("evaluation %s not found", id)
	}
	if err != nil {
		return store.Evaluation{}, domain.Internal("get evaluation", err)
	}
	return e, nil
}

// GetEvaluation returns one evaluation the caller may read.
func (b *Backend) GetEvaluation(ctx context.Context, c Caller, id string) (EvaluationView, error) {
	e, err := b.evaluation(ctx, c, id)
	if err != nil {
		return EvaluationView{}, err
	}
	return b.view(ctx, e)
}

// replayEvaluation answers a request already applied: the evaluation as it
// now is.
func (b *Backend) replayEvaluation(ctx context.Context, c Caller, r store.Request) (EvaluationView, error) {
	return b.GetEvaluation(ctx, c, r.ObjectID)
}

// EvaluationQuery filters ListEvaluations; zero fields do not filter.
type EvaluationQuery struct {
	CallID   string
	Statuses []string
	// PageSize is at most MaxEvaluationPage; 0 means 100.
	PageSize int
}

// MaxEvaluationPage bounds a listing of evaluations.
const MaxEvaluationPage = 500

// ListEvaluations lists the evaluations the caller may read, newest call
// first.
func (b *Backend) ListEvaluations(ctx context.Context, c Caller, q EvaluationQuery) ([]EvaluationView, error) {
	if err := errors.Join(limits.ID("call_id", q.CallID), limits.Count("statuses", len(q.Statuses), limits.MaxStatuses)); err != nil {
		e, _ := domain.As(err)
		return nil, e
	}
	size := q.PageSize
	switch {
	case size < 0:
		return nil, domain.Invalid("page_size", "must not be negative")
	case size == 0:
		size = 100
	case size > MaxEvaluationPage:
		size = MaxEvaluationPage
	}
	list, err := b.Store.ListEvaluations(ctx, store.EvalQuery{Scope: policy.EvaluationScope(c.User),
		CallID: q.CallID, Statuses: q.Statuses, Limit: size})
	if err != nil {
		return nil, domain.Internal("list evaluations", err)
	}
	out := make([]EvaluationView, 0, len(list))
	grids := map[string]store.GridRecord{}
	for _, e := range list {
		key := fmt.Sprintf("%s@%d", e.GridID, e.GridVersion)
		rec, ok := grids[key]
		if !ok {
			if rec, err = b.grid(ctx, e.GridID, e.GridVersion); err != nil {
				return nil, err
			}
			grids[key] = rec
		}
		out = append(out, b.viewWith(e, rec))
	}
	return out, nil
}
