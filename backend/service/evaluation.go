package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/backend/audit"
	"github.com/ecoute/ecoute/backend/auth"
	"github.com/ecoute/ecoute/backend/config"
	"github.com/ecoute/ecoute/backend/grid"
	"github.com/ecoute/ecoute/backend/lexicon"
	"github.com/ecoute/ecoute/backend/policy"
	"github.com/ecoute/ecoute/backend/scoring"
	"github.com/ecoute/ecoute/backend/store"
	"github.com/ecoute/ecoute/internal/clock"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Evaluation rules that are not the grid's.
const (
	// RespondWindow: the agent acknowledges or disputes within 30 days of
	// submission.
	RespondWindow = 30 * 24 * time.Hour
	// MaxCommentLen bounds every free-text field.
	MaxCommentLen = 4000
)

// Audit actions of the evaluation lifecycle.
const (
	ActionGridSave        = "grid.save"
	ActionEvalStart       = "evaluation.start"
	ActionEvalSubmit      = "evaluation.submit"
	ActionEvalAcknowledge = "evaluation.acknowledge"
	ActionEvalDispute     = "evaluation.dispute"
	ActionEvalResolve     = "evaluation.resolve"
)

// Evaluations implements EvaluationService.
type Evaluations struct {
	ecoutev1.UnimplementedEvaluationServiceServer
	Store   store.Store
	Clock   clock.Clock
	Lexicon *lexicon.Lexicon
	Audit   audit.Appender // nil: audit.Discard
	Log     *slog.Logger
}

func (s *Evaluations) audit(ctx context.Context, p auth.Principal, action, target string, details map[string]string) error {
	rec := s.Audit
	if rec == nil {
		rec = audit.Discard
	}
	src := ""
	if pr, ok := peer.FromContext(ctx); ok && pr.Addr != nil {
		src = pr.Addr.String()
	}
	err := rec.Append(ctx, audit.Entry{Actor: audit.Actor{UserID: p.User.ID, Login: p.User.Login, Role: p.User.Role},
		Source: src, Action: action, Target: target, Details: details})
	if err != nil {
		return internal(s.Log, "audit "+action, err)
	}
	return nil
}

// ListGrids returns the latest version of every grid.
func (s *Evaluations) ListGrids(ctx context.Context, _ *ecoutev1.ListGridsRequest) (*ecoutev1.ListGridsResponse, error) {
	recs, err := s.Store.ListGrids(ctx)
	if err != nil {
		return nil, internal(s.Log, "list grids", err)
	}
	resp := &ecoutev1.ListGridsResponse{}
	for _, r := range recs {
		resp.Grids = append(resp.Grids, GridToProto(r))
	}
	return resp, nil
}

// GetGrid returns one version of a grid.
func (s *Evaluations) GetGrid(ctx context.Context, req *ecoutev1.GetGridRequest) (*ecoutev1.GetGridResponse, error) {
	if req.GetGridId() == "" {
		return nil, status.Error(codes.InvalidArgument, "grid_id is required")
	}
	r, err := s.grid(ctx, req.GetGridId(), int(req.GetVersion()))
	if err != nil {
		return nil, err
	}
	return &ecoutev1.GetGridResponse{Grid: GridToProto(r)}, nil
}

func (s *Evaluations) grid(ctx context.Context, id string, version int) (store.GridRecord, error) {
	r, err := s.Store.GetGrid(ctx, id, version)
	if errors.Is(err, store.ErrNotFound) {
		return store.GridRecord{}, status.Errorf(codes.NotFound, "grid %s version %d not found", id, version)
	}
	if err != nil {
		return store.GridRecord{}, internal(s.Log, "get grid", err)
	}
	return r, nil
}

// SaveGrid validates and stores a grid, from its message or its YAML.
func (s *Evaluations) SaveGrid(ctx context.Context, req *ecoutev1.SaveGridRequest) (*ecoutev1.SaveGridResponse, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var g grid.Grid
	switch {
	case req.GetYaml() != "" && req.GetGrid() != nil:
		return nil, status.Error(codes.InvalidArgument, "grid, yaml: give one, not both")
	case req.GetYaml() != "":
		if g, err = grid.ParseYAML([]byte(req.GetYaml())); err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "yaml: %v", err)
		}
	case req.GetGrid() != nil:
		g = GridFromProto(req.GetGrid())
		if err := grid.Validate(g); err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "grid: %v", err)
		}
	default:
		return nil, status.Error(codes.InvalidArgument, "grid or yaml is required")
	}
	rec, isNew, err := s.Store.SaveGrid(ctx, g, p.User.ID, s.Clock.Now())
	if err != nil {
		return nil, internal(s.Log, "save grid", err)
	}
	if err := s.audit(ctx, p, ActionGridSave, rec.Grid.ID, map[string]string{
		"version": strconv.Itoa(rec.Grid.Version), "new_version": strconv.FormatBool(isNew)}); err != nil {
		return nil, err
	}
	return &ecoutev1.SaveGridResponse{Grid: GridToProto(rec), NewVersion: isNew}, nil
}

// StartEvaluation opens the evaluation of a call, creating a draft if the
// call has none.
func (s *Evaluations) StartEvaluation(ctx context.Context, req *ecoutev1.StartEvaluationRequest) (*ecoutev1.StartEvaluationResponse, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if req.GetCallId() == "" {
		return nil, status.Error(codes.InvalidArgument, "call_id is required")
	}
	c, err := s.Store.GetCall(ctx, req.GetCallId(), policy.Scope(p.User))
	if errors.Is(err, store.ErrNotFound) {
		return nil, status.Errorf(codes.NotFound, "call %s not found", req.GetCallId())
	}
	if err != nil {
		return nil, internal(s.Log, "get call", err)
	}
	scope := policy.EvaluationScope(p.User)
	if ex, err := s.Store.ListEvaluations(ctx, store.EvalQuery{Scope: scope, CallID: c.ID, Limit: 1}); err != nil {
		return nil, internal(s.Log, "find evaluation", err)
	} else if len(ex) == 1 {
		e, g, err := s.view(ctx, ex[0])
		if err != nil {
			return nil, err
		}
		return &ecoutev1.StartEvaluationResponse{Evaluation: e, Grid: g, Existing: true}, nil
	}
	rec, err := s.pickGrid(ctx, req.GetGridId(), c.Direction)
	if err != nil {
		return nil, err
	}
	// In UTC, so that "one year" is the same instant whatever the server's
	// zone and its daylight-saving changes.
	now := s.Clock.Now().UTC()
	e := store.Evaluation{ID: NewID(), CallID: c.ID, CallStartedAt: c.StartedAt, GridID: rec.Grid.ID,
		GridVersion: rec.Grid.Version, AgentID: c.AgentID, TeamID: c.TeamID, EvaluatorID: p.User.ID,
		Status: store.EvalDraft, Version: 1, CreatedAt: now, UpdatedAt: now,
		RetainedUntil: config.EvaluationKeptUntil(now)}
	if err := s.Store.CreateEvaluation(ctx, e); errors.Is(err, store.ErrDuplicate) {
		return nil, status.Errorf(codes.AlreadyExists, "call %s already has an evaluation", c.ID)
	} else if err != nil {
		return nil, internal(s.Log, "create evaluation", err)
	}
	if err := s.audit(ctx, p, ActionEvalStart, e.ID, map[string]string{"call_id": c.ID,
		"grid": fmt.Sprintf("%s v%d", rec.Grid.ID, rec.Grid.Version)}); err != nil {
		return nil, err
	}
	got, err := s.get(ctx, p.User, e.ID)
	if err != nil {
		return nil, err
	}
	pe, pg, err := s.view(ctx, got)
	if err != nil {
		return nil, err
	}
	return &ecoutev1.StartEvaluationResponse{Evaluation: pe, Grid: pg}, nil
}

// pickGrid is the requested grid, or the latest grid made for direction.
func (s *Evaluations) pickGrid(ctx context.Context, id, direction string) (store.GridRecord, error) {
	if id != "" {
		return s.grid(ctx, id, 0)
	}
	recs, err := s.Store.ListGrids(ctx)
	if err != nil {
		return store.GridRecord{}, internal(s.Log, "list grids", err)
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
	return store.GridRecord{}, status.Errorf(codes.FailedPrecondition,
		"no grid for %s calls: import one with `ecouted grid import FILE`", direction)
}

// get reads an evaluation in the caller's scope; outside it is "not found",
// so that another team's evaluations do not even show they exist.
func (s *Evaluations) get(ctx context.Context, u store.User, id string) (store.Evaluation, error) {
	if id == "" {
		return store.Evaluation{}, status.Error(codes.InvalidArgument, "evaluation_id is required")
	}
	e, err := s.Store.GetEvaluation(ctx, id, policy.EvaluationScope(u))
	if errors.Is(err, store.ErrNotFound) {
		return store.Evaluation{}, status.Errorf(codes.NotFound, "evaluation %s not found", id)
	}
	if err != nil {
		return store.Evaluation{}, internal(s.Log, "get evaluation", err)
	}
	return e, nil
}

// answersFrom checks the answers against the grid: known criteria, once
// each, accepted values, bounded comments.
func answersFrom(g grid.Grid, in []*ecoutev1.Answer) ([]grid.Answer, map[string]grid.Answer, error) {
	out := make([]grid.Answer, 0, len(in))
	byID := map[string]grid.Answer{}
	for i, a := range in {
		c, ok := g.Criterion(a.GetCriterionId())
		if !ok {
			return nil, nil, status.Errorf(codes.InvalidArgument, "answers[%d].criterion_id: %q is not in grid %s v%d",
				i, a.GetCriterionId(), g.ID, g.Version)
		}
		if _, dup := byID[c.ID]; dup {
			return nil, nil, status.Errorf(codes.InvalidArgument, "answers[%d].criterion_id: %q answered twice", i, c.ID)
		}
		if err := c.CheckValue(a.GetValue()); err != nil {
			return nil, nil, status.Errorf(codes.InvalidArgument, "answers[%d].value: %v", i, err)
		}
		if len(a.GetComment()) > MaxCommentLen {
			return nil, nil, status.Errorf(codes.InvalidArgument, "answers[%d].comment: longer than %d bytes", i, MaxCommentLen)
		}
		ga := grid.Answer{CriterionID: c.ID, Value: a.GetValue(), Comment: strings.TrimSpace(a.GetComment())}
		if ga.Value == "" && ga.Comment == "" {
			continue
		}
		out = append(out, ga)
		byID[c.ID] = ga
	}
	return out, byID, nil
}

func byCriterion(as []grid.Answer) map[string]grid.Answer {
	m := make(map[string]grid.Answer, len(as))
	for _, a := range as {
		m[a.CriterionID] = a
	}
	return m
}

func applyScore(e *store.Evaluation, r scoring.Result) {
	e.TotalTenths = int64(r.Total*10 + 0.5)
	e.HasTotal, e.CriticalFailed = r.HasTotal, r.CriticalFailed
}

// staleError is ABORTED with the current version in the message and in an
// ErrorInfo detail, so a client can reload and retry.
func staleError(e *store.StaleError) error {
	st := status.Newf(codes.Aborted, "evaluation %s was saved elsewhere: current version is %d", e.ID, e.Current)
	if d, err := st.WithDetails(&errdetails.ErrorInfo{Reason: "STALE_VERSION", Domain: "ecoute.v1",
		Metadata: map[string]string{"current_version": strconv.FormatInt(e.Current, 10)}}); err == nil {
		st = d
	}
	return st.Err()
}

func (s *Evaluations) update(ctx context.Context, e store.Evaluation, expect int64) (store.Evaluation, error) {
	saved, err := s.Store.UpdateEvaluation(ctx, e, expect)
	var stale *store.StaleError
	if errors.As(err, &stale) {
		return store.Evaluation{}, staleError(stale)
	}
	if err != nil {
		return store.Evaluation{}, internal(s.Log, "save evaluation", err)
	}
	return saved, nil
}

// SaveEvaluation saves a draft, refusing a stale version.
func (s *Evaluations) SaveEvaluation(ctx context.Context, req *ecoutev1.SaveEvaluationRequest) (*ecoutev1.SaveEvaluationResponse, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	e, err := s.get(ctx, p.User, req.GetEvaluationId())
	if err != nil {
		return nil, err
	}
	if e.Status != store.EvalDraft {
		return nil, status.Errorf(codes.FailedPrecondition, "evaluation %s is %s: only a draft can be edited", e.ID, e.Status)
	}
	if req.GetExpectedVersion() != e.Version {
		return nil, staleError(&store.StaleError{ID: e.ID, Current: e.Version})
	}
	if len(req.GetComment()) > MaxCommentLen {
		return nil, status.Errorf(codes.InvalidArgument, "comment: longer than %d bytes", MaxCommentLen)
	}
	rec, err := s.grid(ctx, e.GridID, e.GridVersion)
	if err != nil {
		return nil, err
	}
	answers, byID, err := answersFrom(rec.Grid, req.GetAnswers())
	if err != nil {
		return nil, err
	}
	res, err := scoring.Score(rec.Grid, byID)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "answers: %v", err)
	}
	e.Answers, e.Comment, e.UpdatedAt = answers, strings.TrimSpace(req.GetComment()), s.Clock.Now()
	applyScore(&e, res)
	saved, err := s.update(ctx, e, req.GetExpectedVersion())
	if err != nil {
		return nil, err
	}
	pe, _, err := s.view(ctx, saved)
	if err != nil {
		return nil, err
	}
	return &ecoutev1.SaveEvaluationResponse{Evaluation: pe}, nil
}

// hits runs the R13 check over every comment of an evaluation.
func (s *Evaluations) hits(answers []grid.Answer, comment string) []*ecoutev1.CommentHit {
	var out []*ecoutev1.CommentHit
	add := func(crit, text string) {
		for _, h := range s.Lexicon.Check(text) {
			out = append(out, &ecoutev1.CommentHit{CriterionId: crit, Category: h.Category, Start: int32(h.Start),
				End: int32(h.End), Text: h.Text})
		}
	}
	for _, a := range answers {
		add(a.CriterionID, a.Comment)
	}
	add("", comment)
	return out
}

// SubmitEvaluation closes a complete draft.
func (s *Evaluations) SubmitEvaluation(ctx context.Context, req *ecoutev1.SubmitEvaluationRequest) (*ecoutev1.SubmitEvaluationResponse, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	e, err := s.get(ctx, p.User, req.GetEvaluationId())
	if err != nil {
		return nil, err
	}
	if e.Status != store.EvalDraft {
		return nil, status.Errorf(codes.FailedPrecondition, "evaluation %s is already %s", e.ID, e.Status)
	}
	if req.GetExpectedVersion() != e.Version {
		return nil, staleError(&store.StaleError{ID: e.ID, Current: e.Version})
	}
	rec, err := s.grid(ctx, e.GridID, e.GridVersion)
	if err != nil {
		return nil, err
	}
	res, err := scoring.Score(rec.Grid, byCriterion(e.Answers))
	if err != nil {
		return nil, internal(s.Log, "score evaluation", err)
	}
	if !res.Complete {
		return nil, status.Errorf(codes.FailedPrecondition, "evaluation %s is incomplete: %d of %d criteria answered",
			e.ID, res.Answered, res.Criteria)
	}
	if len(res.MissingComments) > 0 {
		return nil, status.Errorf(codes.FailedPrecondition, "a comment is required for the failed criteria: %s",
			strings.Join(res.MissingComments, ", "))
	}
	reason := strings.TrimSpace(req.GetOverrideReason())
	hits := s.hits(e.Answers, e.Comment)
	cats := hitCategories(hits)
	if len(hits) > 0 && reason == "" {
		return nil, status.Errorf(codes.FailedPrecondition,
			"comments contain %d flagged term(s) (%s): rewrite them, or give override_reason", len(hits), cats)
	}
	if len(reason) > MaxCommentLen {
		return nil, status.Errorf(codes.InvalidArgument, "override_reason: longer than %d bytes", MaxCommentLen)
	}
	now := s.Clock.Now()
	e.Status, e.SubmittedAt, e.UpdatedAt = store.EvalSubmitted, now, now
	if len(hits) > 0 {
		e.OverrideReason = reason
	}
	applyScore(&e, res)
	saved, err := s.update(ctx, e, req.GetExpectedVersion())
	if err != nil {
		return nil, err
	}
	details := map[string]string{"call_id": e.CallID, "total": strconv.FormatFloat(res.Total, 'f', 1, 64),
		"critical_failed": strconv.FormatBool(res.CriticalFailed)}
	if len(hits) > 0 {
		details["override_reason"] = e.OverrideReason
		details["flagged"] = cats
	}
	if err := s.audit(ctx, p, ActionEvalSubmit, e.ID, details); err != nil {
		return nil, err
	}
	pe, _, err := s.view(ctx, saved)
	if err != nil {
		return nil, err
	}
	return &ecoutev1.SubmitEvaluationResponse{Evaluation: pe}, nil
}

func hitCategories(hits []*ecoutev1.CommentHit) string {
	var cats []string
	seen := map[string]bool{}
	for _, h := range hits {
		if !seen[h.Category] {
			seen[h.Category] = true
			cats = append(cats, h.Category)
		}
	}
	return strings.Join(cats, ", ")
}

// ListEvaluations lists the evaluations the caller may read.
func (s *Evaluations) ListEvaluations(ctx context.Context, req *ecoutev1.ListEvaluationsRequest) (*ecoutev1.ListEvaluationsResponse, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	size := int(req.GetPageSize())
	switch {
	case size < 0:
		return nil, status.Error(codes.InvalidArgument, "page_size: must not be negative")
	case size == 0:
		size = 100
	case size > MaxPageSize:
		size = MaxPageSize
	}
	var sts []string
	for _, st := range req.GetStatuses() {
		name, ok := statusName[st]
		if !ok {
			return nil, status.Errorf(codes.InvalidArgument, "statuses: %v is not a status", st)
		}
		sts = append(sts, name)
	}
	list, err := s.Store.ListEvaluations(ctx, store.EvalQuery{Scope: policy.EvaluationScope(p.User),
		CallID: req.GetCallId(), Statuses: sts, Limit: size})
	if err != nil {
		return nil, internal(s.Log, "list evaluations", err)
	}
	resp := &ecoutev1.ListEvaluationsResponse{}
	grids := map[string]store.GridRecord{}
	for _, e := range list {
		key := fmt.Sprintf("%s@%d", e.GridID, e.GridVersion)
		rec, ok := grids[key]
		if !ok {
			if rec, err = s.grid(ctx, e.GridID, e.GridVersion); err != nil {
				return nil, err
			}
			grids[key] = rec
		}
		resp.Evaluations = append(resp.Evaluations, s.toProto(e, rec.Grid))
	}
	return resp, nil
}

// GetEvaluation returns one evaluation with the grid version it uses.
func (s *Evaluations) GetEvaluation(ctx context.Context, req *ecoutev1.GetEvaluationRequest) (*ecoutev1.GetEvaluationResponse, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	e, err := s.get(ctx, p.User, req.GetEvaluationId())
	if err != nil {
		return nil, err
	}
	pe, pg, err := s.view(ctx, e)
	if err != nil {
		return nil, err
	}
	return &ecoutev1.GetEvaluationResponse{Evaluation: pe, Grid: pg}, nil
}

// respond checks that the caller is the evaluated agent and may still
// answer.
func (s *Evaluations) respond(ctx context.Context, id string) (auth.Principal, store.Evaluation, error) {
	p, err := caller(ctx)
	if err != nil {
		return p, store.Evaluation{}, err
	}
	e, err := s.get(ctx, p.User, id)
	if err != nil {
		return p, store.Evaluation{}, err
	}
	if p.User.AgentID == "" || e.AgentID != p.User.AgentID {
		return p, store.Evaluation{}, status.Error(codes.PermissionDenied, "only the evaluated agent may answer an evaluation")
	}
	if e.Status != store.EvalSubmitted {
		return p, store.Evaluation{}, status.Errorf(codes.FailedPrecondition, "evaluation %s is %s: it can be acknowledged or disputed once, after submission", e.ID, e.Status)
	}
	if until := e.SubmittedAt.Add(RespondWindow); s.Clock.Now().After(until) {
		return p, store.Evaluation{}, status.Errorf(codes.FailedPrecondition, "the 30 days to answer ended on %s",
			until.UTC().Format(time.RFC3339))
	}
	return p, e, nil
}

// AcknowledgeEvaluation records that the agent has read the evaluation.
func (s *Evaluations) AcknowledgeEvaluation(ctx context.Context, req *ecoutev1.AcknowledgeEvaluationRequest) (*ecoutev1.AcknowledgeEvaluationResponse, error) {
	p, e, err := s.respond(ctx, req.GetEvaluationId())
	if err != nil {
		return nil, err
	}
	if len(req.GetComment()) > MaxCommentLen {
		return nil, status.Errorf(codes.InvalidArgument, "comment: longer than %d bytes", MaxCommentLen)
	}
	now := s.Clock.Now()
	e.Status, e.AcknowledgedAt, e.UpdatedAt, e.AgentComment = store.EvalAcknowledged, now, now, strings.TrimSpace(req.GetComment())
	pe, err := s.transition(ctx, p, e, ActionEvalAcknowledge, map[string]string{"call_id": e.CallID})
	if err != nil {
		return nil, err
	}
	return &ecoutev1.AcknowledgeEvaluationResponse{Evaluation: pe}, nil
}

// DisputeEvaluation records the agent's disagreement, with a comment.
func (s *Evaluations) DisputeEvaluation(ctx context.Context, req *ecoutev1.DisputeEvaluationRequest) (*ecoutev1.DisputeEvaluationResponse, error) {
	p, e, err := s.respond(ctx, req.GetEvaluationId())
	if err != nil {
		return nil, err
	}
	c := strings.TrimSpace(req.GetComment())
	if c == "" {
		return nil, status.Error(codes.InvalidArgument, "comment: a dispute says what is contested")
	}
	if len(c) > MaxCommentLen {
		return nil, status.Errorf(codes.InvalidArgument, "comment: longer than %d bytes", MaxCommentLen)
	}
	now := s.Clock.Now()
	e.Status, e.DisputedAt, e.UpdatedAt, e.AgentComment = store.EvalDisputed, now, now, c
	pe, err := s.transition(ctx, p, e, ActionEvalDispute, map[string]string{"call_id": e.CallID})
	if err != nil {
		return nil, err
	}
	return &ecoutev1.DisputeEvaluationResponse{Evaluation: pe}, nil
}

// ResolveDispute closes a dispute: the evaluation is kept as it was, or
// revised with new answers; either way with a reason.
func (s *Evaluations) ResolveDispute(ctx context.Context, req *ecoutev1.ResolveDisputeRequest) (*ecoutev1.ResolveDisputeResponse, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	e, err := s.get(ctx, p.User, req.GetEvaluationId())
	if err != nil {
		return nil, err
	}
	if e.Status != store.EvalDisputed {
		return nil, status.Errorf(codes.FailedPrecondition, "evaluation %s is %s, not disputed", e.ID, e.Status)
	}
	reason := strings.TrimSpace(req.GetReason())
	if reason == "" {
		return nil, status.Error(codes.InvalidArgument, "reason: a resolution says why")
	}
	if len(reason) > MaxCommentLen {
		return nil, status.Errorf(codes.InvalidArgument, "reason: longer than %d bytes", MaxCommentLen)
	}
	switch req.GetResolution() {
	case ecoutev1.Resolution_RESOLUTION_KEPT:
		e.Resolution = store.ResolutionKept
	case ecoutev1.Resolution_RESOLUTION_REVISED:
		e.Resolution = store.ResolutionRevised
		rec, err := s.grid(ctx, e.GridID, e.GridVersion)
		if err != nil {
			return nil, err
		}
		answers, byID, err := answersFrom(rec.Grid, req.GetAnswers())
		if err != nil {
			return nil, err
		}
		res, err := scoring.Score(rec.Grid, byID)
		if err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "answers: %v", err)
		}
		if !res.Complete || len(res.MissingComments) > 0 {
			return nil, status.Error(codes.InvalidArgument, "answers: a revision answers every criterion, with the required comments")
		}
		if hits := s.hits(answers, req.GetComment()); len(hits) > 0 {
			return nil, status.Errorf(codes.FailedPrecondition, "the revised comments contain flagged terms (%s)", hitCategories(hits))
		}
		e.Answers, e.Comment = answers, strings.TrimSpace(req.GetComment())
		applyScore(&e, res)
	default:
		return nil, status.Error(codes.InvalidArgument, "resolution: kept or revised")
	}
	now := s.Clock.Now()
	e.Status, e.ResolvedAt, e.UpdatedAt, e.ResolutionReason, e.ResolvedBy = store.EvalResolved, now, now, reason, p.User.ID
	pe, err := s.transition(ctx, p, e, ActionEvalResolve, map[string]string{"call_id": e.CallID,
		"resolution": e.Resolution, "total": strconv.FormatFloat(float64(e.TotalTenths)/10, 'f', 1, 64)})
	if err != nil {
		return nil, err
	}
	return &ecoutev1.ResolveDisputeResponse{Evaluation: pe}, nil
}

// transition saves a status change made by the agent or the supervisor
// (no answer changes, so the version in hand is the one to replace),
// audits it and returns the evaluation as the caller may see it.
func (s *Evaluations) transition(ctx context.Context, p auth.Principal, e store.Evaluation, action string,
	details map[string]string) (*ecoutev1.Evaluation, error) {
	saved, err := s.update(ctx, e, e.Version)
	if err != nil {
		return nil, err
	}
	if err := s.audit(ctx, p, action, e.ID, details); err != nil {
		return nil, err
	}
	pe, _, err := s.view(ctx, saved)
	return pe, err
}

// CheckComment runs the R13 check on a text.
func (s *Evaluations) CheckComment(_ context.Context, req *ecoutev1.CheckCommentRequest) (*ecoutev1.CheckCommentResponse, error) {
	if len(req.GetText()) > MaxCommentLen {
		return nil, status.Errorf(codes.InvalidArgument, "text: longer than %d bytes", MaxCommentLen)
	}
	return &ecoutev1.CheckCommentResponse{Hits: s.hits(nil, req.GetText())}, nil
}

// view converts an evaluation with the grid version it uses.
func (s *Evaluations) view(ctx context.Context, e store.Evaluation) (*ecoutev1.Evaluation, *ecoutev1.Grid, error) {
	rec, err := s.grid(ctx, e.GridID, e.GridVersion)
	if err != nil {
		return nil, nil, err
	}
	return s.toProto(e, rec.Grid), GridToProto(rec), nil
}

var statusName = map[ecoutev1.EvaluationStatus]string{
	ecoutev1.EvaluationStatus_EVALUATION_STATUS_DRAFT:        store.EvalDraft,
	ecoutev1.EvaluationStatus_EVALUATION_STATUS_SUBMITTED:    store.EvalSubmitted,
	ecoutev1.EvaluationStatus_EVALUATION_STATUS_ACKNOWLEDGED: store.EvalAcknowledged,
	ecoutev1.EvaluationStatus_EVALUATION_STATUS_DISPUTED:     store.EvalDisputed,
	ecoutev1.EvaluationStatus_EVALUATION_STATUS_RESOLVED:     store.EvalResolved,
}

func statusProto(s string) ecoutev1.EvaluationStatus {
	for k, v := range statusName {
		if v == s {
			return k
		}
	}
	return ecoutev1.EvaluationStatus_EVALUATION_STATUS_UNSPECIFIED
}

func evalTS(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// toProto converts an evaluation; the interceptor redacts it per role.
func (s *Evaluations) toProto(e store.Evaluation, g grid.Grid) *ecoutev1.Evaluation {
	pe := &ecoutev1.Evaluation{
		EvaluationId: e.ID, CallId: e.CallID, GridId: e.GridID, GridVersion: int32(e.GridVersion), GridName: e.GridName,
		AgentId: e.AgentID, AgentName: e.AgentName, TeamId: e.TeamID, EvaluatorId: e.EvaluatorID,
		EvaluatorName: e.EvaluatorName, Status: statusProto(e.Status), Version: e.Version, Comment: e.Comment,
		OverrideReason: e.OverrideReason, CallStartedAt: evalTS(e.CallStartedAt), CreatedAt: evalTS(e.CreatedAt),
		UpdatedAt: evalTS(e.UpdatedAt), SubmittedAt: evalTS(e.SubmittedAt), RetainedUntil: evalTS(e.RetainedUntil),
		AcknowledgedAt: evalTS(e.AcknowledgedAt), DisputedAt: evalTS(e.DisputedAt), AgentComment: e.AgentComment,
		ResolvedAt: evalTS(e.ResolvedAt), ResolutionReason: e.ResolutionReason, ResolvedByName: e.ResolvedByName,
		Hits: s.hits(e.Answers, e.Comment),
	}
	switch e.Resolution {
	case store.ResolutionKept:
		pe.Resolution = ecoutev1.Resolution_RESOLUTION_KEPT
	case store.ResolutionRevised:
		pe.Resolution = ecoutev1.Resolution_RESOLUTION_REVISED
	}
	if !e.SubmittedAt.IsZero() {
		pe.RespondUntil = timestamppb.New(e.SubmittedAt.Add(RespondWindow))
	}
	for _, a := range e.Answers {
		pe.Answers = append(pe.Answers, &ecoutev1.Answer{CriterionId: a.CriterionID, Value: a.Value, Comment: a.Comment})
	}
	if r, err := scoring.Score(g, byCriterion(e.Answers)); err == nil {
		pe.Score = scoreProto(r)
	} else {
		// A stored evaluation that no longer scores is a defect; keep the
		// stored total rather than fail the read.
		s.Log.Error("score evaluation", "id", e.ID, "err", err)
		pe.Score = &ecoutev1.Score{Total: float64(e.TotalTenths) / 10, HasTotal: e.HasTotal, CriticalFailed: e.CriticalFailed}
	}
	return pe
}

func scoreProto(r scoring.Result) *ecoutev1.Score {
	ps := &ecoutev1.Score{Total: r.Total, HasTotal: r.HasTotal, CriticalFailed: r.CriticalFailed,
		CriticalCriteria: r.CriticalCriteria, Answered: int32(r.Answered), Criteria: int32(r.Criteria),
		Complete: r.Complete, Failed: r.Failed, MissingComments: r.MissingComments}
	for _, sr := range r.Sections {
		ps.Sections = append(ps.Sections, &ecoutev1.SectionScore{SectionId: sr.ID, Score: sr.Score, HasScore: sr.HasScore})
	}
	return ps
}

var answerTypes = map[string]ecoutev1.AnswerType{
	grid.TypeYesNo:  ecoutev1.AnswerType_ANSWER_TYPE_YES_NO,
	grid.TypeScale:  ecoutev1.AnswerType_ANSWER_TYPE_SCALE,
	grid.TypeChoice: ecoutev1.AnswerType_ANSWER_TYPE_CHOICE,
}

// GridToProto converts a stored grid version.
func GridToProto(r store.GridRecord) *ecoutev1.Grid {
	g := r.Grid
	pg := &ecoutev1.Grid{GridId: g.ID, Version: int32(g.Version), Name: g.Name, Description: g.Description,
		Direction: g.Direction, Used: r.Used, CreatedAt: evalTS(r.CreatedAt)}
	for _, sec := range g.Sections {
		ps := &ecoutev1.GridSection{SectionId: sec.ID, Title: sec.Title, Weight: sec.Weight}
		for _, c := range sec.Criteria {
			pc := &ecoutev1.Criterion{CriterionId: c.ID, Label: c.Label, Help: c.Help, Type: answerTypes[c.Type],
				Weight: c.Weight, Critical: c.Critical, AllowNa: c.AllowNA, CommentWhenFailed: c.CommentWhenFailed}
			for _, ch := range c.Choices {
				pc.Choices = append(pc.Choices, &ecoutev1.Choice{ChoiceId: ch.ID, Label: ch.Label, Points: ch.Points})
			}
			ps.Criteria = append(ps.Criteria, pc)
		}
		pg.Sections = append(pg.Sections, ps)
	}
	return pg
}

// GridFromProto converts a grid message; Validate says whether it is sound.
func GridFromProto(pg *ecoutev1.Grid) grid.Grid {
	g := grid.Grid{ID: pg.GetGridId(), Name: pg.GetName(), Description: pg.GetDescription(), Direction: pg.GetDirection()}
	for _, ps := range pg.GetSections() {
		sec := grid.Section{ID: ps.GetSectionId(), Title: ps.GetTitle(), Weight: ps.GetWeight()}
		for _, pc := range ps.GetCriteria() {
			c := grid.Criterion{ID: pc.GetCriterionId(), Label: pc.GetLabel(), Help: pc.GetHelp(), Weight: pc.GetWeight(),
				Critical: pc.GetCritical(), AllowNA: pc.GetAllowNa(), CommentWhenFailed: pc.GetCommentWhenFailed()}
			for name, t := range answerTypes {
				if t == pc.GetType() {
					c.Type = name
				}
			}
			for _, ch := range pc.GetChoices() {
				c.Choices = append(c.Choices, grid.Choice{ID: ch.GetChoiceId(), Label: ch.GetLabel(), Points: ch.GetPoints()})
			}
			sec.Criteria = append(sec.Criteria, c)
		}
		g.Sections = append(g.Sections, sec)
	}
	return g
}
