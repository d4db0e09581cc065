package service

import (
	"context"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/backend/core"
	"github.com/ecoute/ecoute/backend/domain"
)

// Evaluations implements EvaluationService over core: grids, the
// evaluation lifecycle (backend/lifecycle) and the comment check.
type Evaluations struct {
	ecoutev1.UnimplementedEvaluationServiceServer
	Core *core.Backend
}

// ListGrids returns the latest version of every grid.
func (s *Evaluations) ListGrids(ctx context.Context, _ *ecoutev1.ListGridsRequest) (*ecoutev1.ListGridsResponse, error) {
	recs, err := s.Core.ListGrids(ctx)
	if err != nil {
		return nil, err
	}
	resp := &ecoutev1.ListGridsResponse{}
	for _, r := range recs {
		resp.Grids = append(resp.Grids, GridToProto(r))
	}
	return resp, nil
}

// GetGrid returns one version of a grid.
func (s *Evaluations) GetGrid(ctx context.Context, req *ecoutev1.GetGridRequest) (*ecoutev1.GetGridResponse, error) {
	r, err := s.Core.GetGrid(ctx, req.GetGridId(), int(req.GetVersion()))
	if err != nil {
		return nil, err
	}
	return &ecoutev1.GetGridResponse{Grid: GridToProto(r)}, nil
}

// SaveGrid validates and stores a grid, from its message or its YAML.
func (s *Evaluations) SaveGrid(ctx context.Context, req *ecoutev1.SaveGridRequest) (*ecoutev1.SaveGridResponse, error) {
	c, err := caller(ctx, req)
	if err != nil {
		return nil, err
	}
	var src core.GridSource
	if req.GetGrid() != nil {
		g := GridFromProto(req.GetGrid())
		src.Grid = &g
	}
	if req.GetYaml() != "" {
		src.YAML = []byte(req.GetYaml())
	}
	rec, isNew, err := s.Core.SaveGrid(ctx, c, src)
	if err != nil {
		return nil, err
	}
	return &ecoutev1.SaveGridResponse{Grid: GridToProto(rec), NewVersion: isNew}, nil
}

// StartEvaluation opens the evaluation of a call, creating a draft if the
// call has none.
func (s *Evaluations) StartEvaluation(ctx context.Context, req *ecoutev1.StartEvaluationRequest) (*ecoutev1.StartEvaluationResponse, error) {
	c, err := caller(ctx, req)
	if err != nil {
		return nil, err
	}
	v, err := s.Core.StartEvaluation(ctx, c, req.GetCallId(), req.GetGridId())
	if err != nil {
		return nil, err
	}
	return &ecoutev1.StartEvaluationResponse{Evaluation: evaluationOf(v), Grid: GridToProto(v.Grid), Existing: v.Existing}, nil
}

// SaveEvaluation saves a draft, refusing a stale version.
func (s *Evaluations) SaveEvaluation(ctx context.Context, req *ecoutev1.SaveEvaluationRequest) (*ecoutev1.SaveEvaluationResponse, error) {
	c, err := caller(ctx, req)
	if err != nil {
		return nil, err
	}
	v, err := s.Core.SaveEvaluation(ctx, c, core.Draft{ID: req.GetEvaluationId(), ExpectedVersion: req.GetExpectedVersion(),
		Answers: answersOf(req.GetAnswers()), Comment: req.GetComment()})
	if err != nil {
		return nil, err
	}
	return &ecoutev1.SaveEvaluationResponse{Evaluation: evaluationOf(v)}, nil
}

// SubmitEvaluation closes a complete draft.
func (s *Evaluations) SubmitEvaluation(ctx context.Context, req *ecoutev1.SubmitEvaluationRequest) (*ecoutev1.SubmitEvaluationResponse, error) {
	c, err := caller(ctx, req)
	if err != nil {
		return nil, err
	}
	v, err := s.Core.SubmitEvaluation(ctx, c, req.GetEvaluationId(), req.GetExpectedVersion(), req.GetOverrideReason())
	if err != nil {
		return nil, err
	}
	return &ecoutev1.SubmitEvaluationResponse{Evaluation: evaluationOf(v)}, nil
}

// ListEvaluations lists the evaluations the caller may read.
func (s *Evaluations) ListEvaluations(ctx context.Context, req *ecoutev1.ListEvaluationsRequest) (*ecoutev1.ListEvaluationsResponse, error) {
	c, err := caller(ctx, nil)
	if err != nil {
		return nil, err
	}
	q := core.EvaluationQuery{CallID: req.GetCallId(), PageSize: int(req.GetPageSize())}
	for _, st := range req.GetStatuses() {
		name, ok := statusName[st]
		if !ok {
			return nil, domain.Invalid("statuses", "%v is not a status", st)
		}
		q.Statuses = append(q.Statuses, name)
	}
	list, err := s.Core.ListEvaluations(ctx, c, q)
	if err != nil {
		return nil, err
	}
	resp := &ecoutev1.ListEvaluationsResponse{}
	for _, v := range list {
		resp.Evaluations = append(resp.Evaluations, evaluationOf(v))
	}
	return resp, nil
}

// GetEvaluation returns one evaluation with the grid version it uses.
func (s *Evaluations) GetEvaluation(ctx context.Context, req *ecoutev1.GetEvaluationRequest) (*ecoutev1.GetEvaluationResponse, error) {
	c, err := caller(ctx, nil)
	if err != nil {
		return nil, err
	}
	v, err := s.Core.GetEvaluation(ctx, c, req.GetEvaluationId())
	if err != nil {
		return nil, err
	}
	return &ecoutev1.GetEvaluationResponse{Evaluation: evaluationOf(v), Grid: GridToProto(v.Grid)}, nil
}

// AcknowledgeEvaluation records that the agent has read the evaluation.
func (s *Evaluations) AcknowledgeEvaluation(ctx context.Context, req *ecoutev1.AcknowledgeEvaluationRequest) (*ecoutev1.AcknowledgeEvaluationResponse, error) {
	c, err := caller(ctx, req)
	if err != nil {
		return nil, err
	}
	v, err := s.Core.AcknowledgeEvaluation(ctx, c, req.GetEvaluationId(), req.GetComment())
	if err != nil {
		return nil, err
	}
	return &ecoutev1.AcknowledgeEvaluationResponse{Evaluation: evaluationOf(v)}, nil
}

// DisputeEvaluation records the agent's disagreement, with a comment.
func (s *Evaluations) DisputeEvaluation(ctx context.Context, req *ecoutev1.DisputeEvaluationRequest) (*ecoutev1.DisputeEvaluationResponse, error) {
	c, err := caller(ctx, req)
	if err != nil {
		return nil, err
	}
	v, err := s.Core.DisputeEvaluation(ctx, c, req.GetEvaluationId(), req.GetComment())
	if err != nil {
		return nil, err
	}
	return &ecoutev1.DisputeEvaluationResponse{Evaluation: evaluationOf(v)}, nil
}

// ResolveDispute closes a dispute: kept, or revised with new answers.
func (s *Evaluations) ResolveDispute(ctx context.Context, req *ecoutev1.ResolveDisputeRequest) (*ecoutev1.ResolveDisputeResponse, error) {
	c, err := caller(ctx, req)
	if err != nil {
		return nil, err
	}
	v, err := s.Core.ResolveDispute(ctx, c, core.Resolution{ID: req.GetEvaluationId(),
		Kind: resolutionName[req.GetResolution()], Reason: req.GetReason(), Answers: answersOf(req.GetAnswers()),
		Comment: req.GetComment()})
	if err != nil {
		return nil, err
	}
	return &ecoutev1.ResolveDisputeResponse{Evaluation: evaluationOf(v)}, nil
}

// CheckComment runs the R13 check on a text.
func (s *Evaluations) CheckComment(ctx context.Context, req *ecoutev1.CheckCommentRequest) (*ecoutev1.CheckCommentResponse, error) {
	hits, err := s.Core.CheckComment(ctx, req.GetText())
	if err != nil {
		return nil, err
	}
	return &ecoutev1.CheckCommentResponse{Hits: hitsOf(hits)}, nil
}
