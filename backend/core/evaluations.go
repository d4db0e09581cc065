package core

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ecoute/ecoute/backend/config"
	"github.com/ecoute/ecoute/backend/domain"
	"github.com/ecoute/ecoute/backend/grid"
	"github.com/ecoute/ecoute/backend/lifecycle"
	"github.com/ecoute/ecoute/backend/limits"
	"github.com/ecoute/ecoute/backend/policy"
	"github.com/ecoute/ecoute/backend/scoring"
	"github.com/ecoute/ecoute/backend/store"
)

// Audit actions of the evaluation lifecycle.
const (
	ActionEvalStart       = "evaluation.start"
	ActionEvalSave        = "evaluation.save"
	ActionEvalSubmit      = "evaluation.submit"
	ActionEvalAcknowledge = "evaluation.acknowledge"
	ActionEvalDispute     = "evaluation.dispute"
	ActionEvalResolve     = "evaluation.resolve"
	ActionEvalHandOver    = "evaluation.handover"
)

// StartEvaluation opens the evaluation of a call: the call's existing one
// (Existing set), or a new draft with the requested grid (gridID), else
// the latest grid made for the call's direction.
func (b *Backend) StartEvaluation(ctx context.Context, c Caller, callID, gridID string) (EvaluationView, error) {
	return once(ctx, b, c, "evaluation.start", ActionEvalStart,
		func(ctx context.Context) (EvaluationView, entry, error) {
			e := entry{details: map[string]string{"call_id": callID}}
			if callID == "" {
				return EvaluationView{}, e, domain.Invalid("call_id", "is required")
			}
			if err := errors.Join(limits.ID("call_id", callID), limits.ID("grid_id", gridID)); err != nil {
				de, _ := domain.As(err)
				return EvaluationView{}, e, de
			}
			call, err := b.Store.GetCall(ctx, callID, policy.Scope(c.User))
			if errors.Is(err, store.ErrNotFound) {
				return EvaluationView{}, e, domain.NotFound("call %s not found", callID)
			} else if err != nil {
				return EvaluationView{}, e, domain.Internal("get call", err)
			}
			ex, err := b.Store.ListEvaluations(ctx, store.EvalQuery{Scope: policy.EvaluationScope(c.User), CallID: call.ID, Limit: 1})
			if err != nil {
				return EvaluationView{}, e, domain.Internal("find evaluation", err)
			}
			if len(ex) == 1 {
				v, err := b.view(ctx, ex[0])
				v.Existing = true
				e.target = ex[0].ID
				e.details["existing"] = "true"
				return v, e, err
			}
			next, err := lifecycle.Next(lifecycle.None, lifecycle.Start, c.User.Role)
			if err != nil {
				return EvaluationView{}, e, err
			}
			rec, err := b.pickGrid(ctx, gridID, call.Direction)
			if err != nil {
				return EvaluationView{}, e, err
			}
			now := b.Clock.Now().UTC()
			ev := store.Evaluation{ID: NewID(), CallID: call.ID, CallStartedAt: call.StartedAt, GridID: rec.Grid.ID,
				GridVersion: rec.Grid.Version, AgentID: call.AgentID, TeamID: call.TeamID, EvaluatorID: c.User.ID,
				Status: next, Version: 1, CreatedAt: now, UpdatedAt: now, RetainedUntil: config.EvaluationKeptUntil(now)}
			e.target = ev.ID
			e.details["grid"] = fmt.Sprintf("%s v%d", rec.Grid.ID, rec.Grid.Version)
			if err := b.Store.CreateEvaluation(ctx, ev); errors.Is(err, store.ErrDuplicate) {
				return EvaluationView{}, e, domain.New(domain.ReasonAlreadyExists, "call %s already has an evaluation", call.ID).
					With(domain.MetaField, "call_id")
			} else if err != nil {
				return EvaluationView{}, e, domain.Internal("create evaluation", err)
			}
			v, err := b.GetEvaluation(ctx, c, ev.ID)
			return v, e, err
		},
		func(ctx context.Context, r store.Request) (EvaluationView, error) {
			return b.replayEvaluation(ctx, c, r)
		})
}

// pickGrid is the requested grid, or the latest grid made for direction,
// else the latest grid for any call.
func (b *Backend) pickGrid(ctx context.Context, id, direction string) (store.GridRecord, error) {
	if id != "" {
		return b.grid(ctx, id, 0)
	}
	recs, err := b.ListGrids(ctx)
	if err != nil {
		return store.GridRecord{}, err
	}
	var generic *store.GridRecord
	for i, r := range recs {
		if r.Grid.Direction == direction {
			return r, nil
		}
		if r.Grid.Direction == "" && generic == nil {
			generic = &recs[i]
		}
	}
	if generic != nil {
		return *generic, nil
	}
	return store.GridRecord{}, domain.New(domain.ReasonNoGrid,
		"no grid for %s calls: import one with `ecouted grid import FILE`", direction).With(domain.MetaDirection, direction)
}

// step reads an evaluation in the caller's reach and checks that the
// lifecycle lets the caller's role take action from its status; it returns
// the evaluation and the status the action leads to.
func (b *Backend) step(ctx context.Context, c Caller, id string, a lifecycle.Action) (store.Evaluation, string, error) {
	e, err := b.evaluation(ctx, c, id)
	if err != nil {
		return e, "", err
	}
	next, err := lifecycle.Next(e.Status, a, c.User.Role)
	return e, next, err
}

// evaluator refuses a write to a draft by anyone but its evaluator: an
// evaluation is signed by who wrote it, and a colleague takes a draft over
// only through HandOverEvaluation.
func evaluator(c Caller, e store.Evaluation) error {
	if e.EvaluatorID == c.User.ID {
		return nil
	}
	return domain.New(domain.ReasonNotEvaluator,
		"evaluation %s is %s's draft: only its evaluator saves or submits it (ask them to hand it over)",
		e.ID, orID(e.EvaluatorName, e.EvaluatorID)).With(domain.MetaEvaluatorID, e.EvaluatorID)
}

func orID(name, id string) string {
	if name != "" {
		return name
	}
	return id
}

// HandOverEvaluation gives a draft to another supervisor linked to its
// team, who becomes its evaluator: asked by the evaluator, or, when the
// evaluator's account is disabled, by the supervisor taking it over.
func (b *Backend) HandOverEvaluation(ctx context.Context, c Caller, id, toUserID string) (EvaluationView, error) {
	return once(ctx, b, c, "evaluation.handover", ActionEvalHandOver,
		func(ctx context.Context) (EvaluationView, entry, error) {
			en := entry{target: id}
			if err := limits.ID("to_user_id", toUserID); err != nil {
				return EvaluationView{}, en, err
			}
			e, _, err := b.step(ctx, c, id, lifecycle.HandOver)
			if err != nil {
				return EvaluationView{}, en, err
			}
			en.details = map[string]string{"call_id": e.CallID, "from": e.EvaluatorID, "to": toUserID}
			to, err := b.userByID(ctx, toUserID)
			if err != nil {
				return EvaluationView{}, en, domain.Invalid("to_user_id", "%v", err)
			}
			switch {
			case to.ID == e.EvaluatorID:
				return EvaluationView{}, en, domain.Invalid("to_user_id", "%s is already the evaluator", to.Login)
			case to.Role != domain.RoleSupervisor || to.Disabled || !slices.Contains(to.TeamIDs, e.TeamID):
				return EvaluationView{}, en, domain.Invalid("to_user_id",
					"%s is not an active supervisor of team %s", to.Login, e.TeamID)
			}
			kind := "handover"
			if c.User.ID != e.EvaluatorID {
				// A takeover: only of a departed evaluator's draft, by the
				// supervisor who takes it.
				from, err := b.Store.UserByID(ctx, e.EvaluatorID)
				gone := errors.Is(err, store.ErrNotFound) || (err == nil && from.Disabled)
				if err != nil && !gone {
					return EvaluationView{}, en, domain.Internal("find evaluator", err)
				}
				if !gone || to.ID != c.User.ID {
					return EvaluationView{}, en, evaluator(c, e)
				}
				kind = "takeover"
			}
			en.details["kind"] = kind
			e.EvaluatorID, e.UpdatedAt = to.ID, b.Clock.Now()
			v, err := b.update(ctx, e, e.Version)
			return v, en, err
		},
		func(ctx context.Context, r store.Request) (EvaluationView, error) {
			return b.replayEvaluation(ctx, c, r)
		})
}

// stale is the refusal of a save against a version that is not current.
func stale(id string, current int64) error {
	return domain.New(domain.ReasonStaleVersion, "evaluation %s was saved elsewhere: current version is %d", id, current).
		With(domain.MetaCurrentVersion, strconv.FormatInt(current, 10))
}

// update writes e if the stored version is still expect.
func (b *Backend) update(ctx context.Context, e store.Evaluation, expect int64) (EvaluationView, error) {
	saved, err := b.Store.UpdateEvaluation(ctx, e, expect)
	var st *store.StaleError
	if errors.As(err, &st) {
		return EvaluationView{}, stale(st.ID, st.Current)
	}
	if err != nil {
		return EvaluationView{}, domain.Internal("save evaluation", err)
	}
	return b.view(ctx, saved)
}

func applyScore(e *store.Evaluation, r scoring.Result) {
	e.TotalTenths = int64(r.Total*10 + 0.5)
	e.HasTotal, e.CriticalFailed = r.HasTotal, r.CriticalFailed
}

// Draft is a draft's new answers and comment, against the version the
// client last read.
type Draft struct {
	ID              string
	ExpectedVersion int64
	// Answers is the full set (it replaces the saved one).
	Answers []grid.Answer
	Comment string
}

// SaveEvaluation saves a draft, refusing a stale version.
func (b *Backend) SaveEvaluation(ctx context.Context, c Caller, d Draft) (EvaluationView, error) {
	return once(ctx, b, c, "evaluation.save", ActionEvalSave,
		func(ctx context.Context) (EvaluationView, entry, error) {
			en := entry{target: d.ID}
			e, _, err := b.step(ctx, c, d.ID, lifecycle.Save)
			if err != nil {
				return EvaluationView{}, en, err
			}
			en.details = map[string]string{"call_id": e.CallID}
			if err := evaluator(c, e); err != nil {
				return EvaluationView{}, en, err
			}
			if d.ExpectedVersion != e.Version {
				return EvaluationView{}, en, stale(e.ID, e.Version)
			}
			if err := maxLen("comment", d.Comment); err != nil {
				return EvaluationView{}, en, err
			}
			answers, res, err := b.scored(ctx, e, d.Answers)
			if err != nil {
				return EvaluationView{}, en, err
			}
			e.Answers, e.Comment, e.UpdatedAt = answers, strings.TrimSpace(d.Comment), b.Clock.Now()
			applyScore(&e, res)
			v, err := b.update(ctx, e, d.ExpectedVersion)
			return v, en, err
		},
		func(ctx context.Context, r store.Request) (EvaluationView, error) {
			return b.replayEvaluation(ctx, c, r)
		})
}

// SubmitEvaluation closes a complete draft. Comments with flagged terms
// (R13) need overrideReason, which is kept and audited.
func (b *Backend) SubmitEvaluation(ctx context.Context, c Caller, id string, expectedVersion int64, overrideReason string) (EvaluationView, error) {
	return once(ctx, b, c, "evaluation.submit", ActionEvalSubmit,
		func(ctx context.Context) (EvaluationView, entry, error) {
			en := entry{target: id}
			e, next, err := b.step(ctx, c, id, lifecycle.Submit)
			if err != nil {
				return EvaluationView{}, en, err
			}
			en.details = map[string]string{"call_id": e.CallID}
			if err := evaluator(c, e); err != nil {
				return EvaluationView{}, en, err
			}
			if expectedVersion != e.Version {
				return EvaluationView{}, en, stale(e.ID, e.Version)
			}
			rec, err := b.grid(ctx, e.GridID, e.GridVersion)
			if err != nil {
				return EvaluationView{}, en, err
			}
			res, err := scoring.Score(rec.Grid, byCriterion(e.Answers))
			if err != nil {
				return EvaluationView{}, en, domain.Internal("score evaluation", err)
			}
			if !res.Complete {
				return EvaluationView{}, en, domain.New(domain.ReasonEvaluationIncomplete,
					"evaluation %s is incomplete: %d of %d criteria answered", e.ID, res.Answered, res.Criteria).
					With(domain.MetaAnswered, strconv.Itoa(res.Answered)).With(domain.MetaCriteria, strconv.Itoa(res.Criteria))
			}
			if len(res.MissingComments) > 0 {
				return EvaluationView{}, en, domain.New(domain.ReasonCommentRequired,
					"a comment is required for the failed criteria: %s", strings.Join(res.MissingComments, ", ")).
					With(domain.MetaCriteria, strings.Join(res.MissingComments, ","))
			}
			reason := strings.TrimSpace(overrideReason)
			hits := b.hits(e.Answers, e.Comment)
			cats := categories(hits)
			if len(hits) > 0 && reason == "" {
				return EvaluationView{}, en, domain.New(domain.ReasonOverrideReasonRequired,
					"comments contain %d flagged term(s) (%s): rewrite them, or give override_reason", len(hits), cats).
					With(domain.MetaCategories, strings.ReplaceAll(cats, " ", ""))
			}
			if err := maxLen("override_reason", reason); err != nil {
				return EvaluationView{}, en, err
			}
			now := b.Clock.Now()
			e.Status, e.SubmittedAt, e.UpdatedAt = next, now, now
			if len(hits) > 0 {
				// The reason is kept with the evaluation it justifies
				// (sealed at rest); the trail says there is one, never
				// what it says nor which terms were flagged.
				e.OverrideReason = reason
				en.details["override_reason"] = "kept with the evaluation"
			}
			applyScore(&e, res)
			v, err := b.update(ctx, e, expectedVersion)
			return v, en, err
		},
		func(ctx context.Context, r store.Request) (EvaluationView, error) {
			return b.replayEvaluation(ctx, c, r)
		})
}

// respond checks that the caller is the evaluated agent and may still
// answer, and returns the evaluation and its next status.
func (b *Backend) respond(ctx context.Context, c Caller, id string, a lifecycle.Action) (store.Evaluation, string, error) {
	e, err := b.evaluation(ctx, c, id)
	if err != nil {
		return e, "", err
	}
	if c.User.AgentID == "" || e.AgentID != c.User.AgentID {
		return e, "", domain.New(domain.ReasonNotEvaluatedAgent, "only the evaluated agent may answer an evaluation")
	}
	next, err := lifecycle.Next(e.Status, a, c.User.Role)
	if err != nil {
		return e, "", err
	}
	if until := e.SubmittedAt.Add(RespondWindow); b.Clock.Now().After(until) {
		u := until.UTC().Format(time.RFC3339)
		return e, "", domain.New(domain.ReasonRespondWindowClosed, "the 30 days to answer ended on %s", u).
			With(domain.MetaRespondUntil, u)
	}
	return e, next, nil
}

// AcknowledgeEvaluation records that the evaluated agent has read the
// evaluation, with an optional comment.
func (b *Backend) AcknowledgeEvaluation(ctx context.Context, c Caller, id, comment string) (EvaluationView, error) {
	return b.answer(ctx, c, id, comment, lifecycle.Acknowledge, ActionEvalAcknowledge)
}

// DisputeEvaluation records the evaluated agent's disagreement, with a
// comment saying what is contested.
func (b *Backend) DisputeEvaluation(ctx context.Context, c Caller, id, comment string) (EvaluationView, error) {
	return b.answer(ctx, c, id, comment, lifecycle.Dispute, ActionEvalDispute)
}

// answer is the agent's acknowledgement or dispute.
func (b *Backend) answer(ctx context.Context, c Caller, id, comment string, a lifecycle.Action, action string) (EvaluationView, error) {
	return once(ctx, b, c, action, action,
		func(ctx context.Context) (EvaluationView, entry, error) {
			en := entry{target: id}
			e, next, err := b.respond(ctx, c, id, a)
			if err != nil {
				return EvaluationView{}, en, err
			}
			en.details = map[string]string{"call_id": e.CallID}
			text := strings.TrimSpace(comment)
			if a == lifecycle.Dispute && text == "" {
				return EvaluationView{}, en, domain.Invalid("comment", "a dispute says what is contested")
			}
			if err := maxLen("comment", text); err != nil {
				return EvaluationView{}, en, err
			}
			now := b.Clock.Now()
			e.Status, e.UpdatedAt, e.AgentComment = next, now, text
			if a == lifecycle.Dispute {
				e.DisputedAt = now
			} else {
				e.AcknowledgedAt = now
			}
			v, err := b.update(ctx, e, e.Version)
			return v, en, err
		},
		func(ctx context.Context, r store.Request) (EvaluationView, error) {
			return b.replayEvaluation(ctx, c, r)
		})
}

// Resolution settles a dispute: Kind is domain.ResolutionKept or
// domain.ResolutionRevised (with the revised answers and comment).
type Resolution struct {
	ID, Kind, Reason string
	Answers          []grid.Answer
	Comment          string
}

// ResolveDispute closes a dispute: the evaluation is kept as it was, or
// revised with new answers; either way with a reason.
func (b *Backend) ResolveDispute(ctx context.Context, c Caller, r Resolution) (EvaluationView, error) {
	return once(ctx, b, c, "evaluation.resolve", ActionEvalResolve,
		func(ctx context.Context) (EvaluationView, entry, error) {
			en := entry{target: r.ID}
			a := lifecycle.ResolveKept
			switch r.Kind {
			case domain.ResolutionKept:
			case domain.ResolutionRevised:
				a = lifecycle.ResolveRevised
			default:
				return EvaluationView{}, en, domain.Invalid("resolution", "kept or revised")
			}
			e, next, err := b.step(ctx, c, r.ID, a)
			if err != nil {
				return EvaluationView{}, en, err
			}
			reason := strings.TrimSpace(r.Reason)
			if reason == "" {
				return EvaluationView{}, en, domain.Invalid("reason", "a resolution says why")
			}
			if err := maxLen("reason", reason); err != nil {
				return EvaluationView{}, en, err
			}
			if a == lifecycle.ResolveRevised {
				if err := b.revise(ctx, &e, r); err != nil {
					return EvaluationView{}, en, err
				}
			}
			now := b.Clock.Now()
			e.Status, e.ResolvedAt, e.UpdatedAt, e.ResolutionReason, e.ResolvedBy = next, now, now, reason, c.User.ID
			e.Resolution = r.Kind
			en.details = map[string]string{"call_id": e.CallID, "resolution": e.Resolution,
				"reason": "kept with the evaluation"}
			v, err := b.update(ctx, e, e.Version)
			return v, en, err
		},
		func(ctx context.Context, req store.Request) (EvaluationView, error) {
			return b.replayEvaluation(ctx, c, req)
		})
}

// scored checks answers against e's grid version and scores them.
func (b *Backend) scored(ctx context.Context, e store.Evaluation, in []grid.Answer) ([]grid.Answer, scoring.Result, error) {
	rec, err := b.grid(ctx, e.GridID, e.GridVersion)
	if err != nil {
		return nil, scoring.Result{}, err
	}
	answers, byID, err := checkAnswers(rec.Grid, in)
	if err != nil {
		return nil, scoring.Result{}, err
	}
	res, err := scoring.Score(rec.Grid, byID)
	if err != nil {
		return nil, res, domain.Invalid("answers", "%v", err)
	}
	return answers, res, nil
}

// revise replaces e's answers and comment with a complete, clean revision.
func (b *Backend) revise(ctx context.Context, e *store.Evaluation, r Resolution) error {
	answers, res, err := b.scored(ctx, *e, r.Answers)
	if err != nil {
		return err
	}
	if !res.Complete || len(res.MissingComments) > 0 {
		return domain.Invalid("answers", "a revision answers every criterion, with the required comments")
	}
	if hits := b.hits(answers, r.Comment); len(hits) > 0 {
		cats := categories(hits)
		return domain.New(domain.ReasonFlaggedTerms, "the revised comments contain flagged terms (%s)", cats).
			With(domain.MetaCategories, strings.ReplaceAll(cats, " ", ""))
	}
	e.Answers, e.Comment = answers, strings.TrimSpace(r.Comment)
	applyScore(e, res)
	return nil
}
