package service

import (
	"context"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/backend/core"
	"github.com/ecoute/ecoute/backend/domain"
	"github.com/ecoute/ecoute/backend/store"
)

// Evaluations implements EvaluationService over core: grids, the
// evaluation lifecycle (backend/lifecycle) and the comment check.
type Evaluations struct {
	ecoutev1.UnimplementedEvaluationServiceServer
	Core *core.Backend
}

// ListGrids returns the latest version of every grid.
func (s *Evaluations) ListGrids(ctx context.Context, _ *ecoutev1.ListGridsRequest) (*ecoutev1.ListGridsResponse, error) {
	return serve(ctx, nil, func(core.Caller) ([]store.GridRecord, error) { return s.Core.ListGrids(ctx) },
		func(recs []store.GridRecord) *ecoutev1.ListGridsResponse {
			return &ecoutev1.ListGridsResponse{Grids: each(recs, GridToProto)}
		})
}

// GetGrid returns one version of a grid.
func (s *Evaluations) GetGrid(ctx context.Context, req *ecoutev1.GetGridRequest) (*ecoutev1.GetGridResponse, error) {
	return serve(ctx, nil, func(core.Caller) (store.GridRecord, error) {
		return s.Core.GetGrid(ctx, req.GetGridId(), int(req.GetVersion()))
	}, func(r store.GridRecord) *ecoutev1.GetGridResponse {
		return &ecoutev1.GetGridResponse{Grid: GridToProto(r)}
	})
}

// SaveGrid validates and stores a grid, from its message or its YAML.
func (s *Evaluations) SaveGrid(ctx context.Context, req *ecoutev1.SaveGridRequest) (*ecoutev1.SaveGridResponse, error) {
	var src core.GridSource
	if req.GetGrid() != nil {
		g := GridFromProto(req.GetGrid())
		src.Grid = &g
	}
	if req.GetYaml() != "" {
		src.YAML = []byte(req.GetYaml())
	}
	return serve(ctx, req, func(c core.Caller) (*ecoutev1.SaveGridResponse, error) {
		rec, isNew, err := s.Core.SaveGrid(ctx, c, src)
		return &ecoutev1.SaveGridResponse{Grid: GridToProto(rec), NewVersion: isNew}, err
	}, same)
}

// StartEvaluation opens the evaluation of a call, creating a draft if the
// call has none.
func (s *Evaluations) StartEvaluation(ctx context.Context, req *ecoutev1.StartEvaluationRequest) (*ecoutev1.StartEvaluationResponse, error) {
	return serve(ctx, req, func(c core.Caller) (core.EvaluationView, error) {
		return s.Core.StartEvaluation(ctx, c, req.GetCallId(), req.GetGridId())
	}, func(v core.EvaluationView) *ecoutev1.StartEvaluationResponse {
		return &ecoutev1.StartEvaluationResponse{Evaluation: evaluationOf(v), Grid: GridToProto(v.Grid), Existing: v.Existing}
	})
}

// SaveEvaluation saves a draft, refusing a stale version.
func (s *Evaluations) SaveEvaluation(ctx context.Context, req *ecoutev1.SaveEvaluationRequest) (*ecoutev1.SaveEvaluationResponse, error) {
	return serve(ctx, req, func(c core.Caller) (core.EvaluationView, error) {
		return s.Core.SaveEvaluation(ctx, c, core.Draft{ID: req.GetEvaluationId(), ExpectedVersion: req.GetExpectedVersion(),
			Answers: answersOf(req.GetAnswers()), Comment: req.GetComment()})
	}, func(v core.EvaluationView) *ecoutev1.SaveEvaluationResponse {
		return &ecoutev1.SaveEvaluationResponse{Evaluation: evaluationOf(v)}
	})
}

// SubmitEvaluation closes a complete draft.
func (s *Evaluations) SubmitEvaluation(ctx context.Context, req *ecoutev1.SubmitEvaluationRequest) (*ecoutev1.SubmitEvaluationResponse, error) {
	return serve(ctx, req, func(c core.Caller) (core.EvaluationView, error) {
		return s.Core.SubmitEvaluation(ctx, c, req.GetEvaluationId(), req.GetExpectedVersion(), req.GetOverrideReason())
	}, func(v core.EvaluationView) *ecoutev1.SubmitEvaluationResponse {
		return &ecoutev1.SubmitEvaluationResponse{Evaluation: evaluationOf(v)}
	})
}

// ListEvaluations lists the evaluations the caller may read.
func (s *Evaluations) ListEvaluations(ctx context.Context, req *ecoutev1.ListEvaluationsRequest) (*ecoutev1.ListEvaluationsResponse, error) {
	q := core.EvaluationQuery{CallID: req.GetCallId(), PageSize: int(req.GetPageSize())}
	for _, st := range req.GetStatuses() {
		name, ok := statusName[st]
		if !ok {
			return nil, domain.Invalid("statuses", "%v is not a status", st)
		}
		q.Statuses = append(q.Statuses, name)
	}
	return serve(ctx, nil, func(c core.Caller) ([]core.EvaluationView, error) {
		return s.Core.ListEvaluations(ctx, c, q)
	}, func(list []core.EvaluationView) *ecoutev1.ListEvaluationsResponse {
		return &ecoutev1.ListEvaluationsResponse{Evaluations: each(list, evaluationOf)}
	})
}

// GetEvaluation returns one evaluation with the grid version it uses.
func (s *Evaluations) GetEvaluation(ctx context.Context, req *ecoutev1.GetEvaluationRequest) (*ecoutev1.GetEvaluationResponse, error) {
	return serve(ctx, nil, func(c core.Caller) (core.EvaluationView, error) {
		return s.Core.GetEvaluation(ctx, c, req.GetEvaluationId())
	}, func(v core.EvaluationView) *ecoutev1.GetEvaluationResponse {
		return &ecoutev1.GetEvaluationResponse{Evaluation: evaluationOf(v), Grid: GridToProto(v.Grid)}
	})
}

// AcknowledgeEvaluation records that the agent has read the evaluation.
func (s *Evaluations) AcknowledgeEvaluation(ctx context.Context, req *ecoutev1.AcknowledgeEvaluationRequest) (*ecoutev1.AcknowledgeEvaluationResponse, error) {
	return serve(ctx, req, func(c core.Caller) (core.EvaluationView, error) {
		return s.Core.AcknowledgeEvaluation(ctx, c, req.GetEvaluationId(), req.GetComment())
	}, func(v core.EvaluationView) *ecoutev1.AcknowledgeEvaluationResponse {
		return &ecoutev1.AcknowledgeEvaluationResponse{Evaluation: evaluationOf(v)}
	})
}

// DisputeEvaluation records the agent's disagreement, with a comment.
func (s *Evaluations) DisputeEvaluation(ctx context.Context, req *ecoutev1.DisputeEvaluationRequest) (*ecoutev1.DisputeEvaluationResponse, error) {
	return serve(ctx, req, func(c core.Caller) (core.EvaluationView, error) {
		return s.Core.DisputeEvaluation(ctx, c, req.GetEvaluationId(), req.GetComment())
	}, func(v core.EvaluationView) *ecoutev1.DisputeEvaluationResponse {
		return &ecoutev1.DisputeEvaluationResponse{Evaluation: evaluationOf(v)}
	})
}

// ResolveDispute closes a dispute: kept, or revised with new answers.
func (s *Evaluations) ResolveDispute(ctx context.Context, req *ecoutev1.ResolveDisputeRequest) (*ecoutev1.ResolveDisputeResponse, error) {
	return serve(ctx, req, func(c core.Caller) (core.EvaluationView, error) {
		return s.Core.ResolveDispute(ctx, c, core.Resolution{ID: req.GetEvaluationId(),
			Kind: resolutionName[req.GetResolution()], Reason: req.GetReason(), Answers: answersOf(req.GetAnswers()),
			Comment: req.GetComment()})
	}, func(v core.EvaluationView) *ecoutev1.ResolveDisputeResponse {
		return &ecoutev1.ResolveDisputeResponse{Evaluation: evaluationOf(v)}
	})
}

// CheckComment runs the R13 check on a text.
func (s *Evaluations) CheckComment(ctx context.Context, req *ecoutev1.CheckCommentRequest) (*ecoutev1.CheckCommentResponse, error) {
	return serve(ctx, nil, func(core.Caller) ([]core.Hit, error) { return s.Core.CheckComment(ctx, req.GetText()) },
		func(hits []core.Hit) *ecoutev1.CheckCommentResponse {
			return &ecoutev1.CheckCommentResponse{Hits: hitsOf(hits)}
		})
}

// HandOverEvaluation gives a draft to another supervisor of its team.
func (s *Evaluations) HandOverEvaluation(ctx context.Context, req *ecoutev1.HandOverEvaluationRequest) (*ecoutev1.HandOverEvaluationResponse, error) {
	return serve(ctx, req, func(c core.Caller) (core.EvaluationView, error) {
		return s.Core.HandOverEvaluation(ctx, c, req.GetEvaluationId(), req.GetToUserId())
	}, func(v core.EvaluationView) *ecoutev1.HandOverEvaluationResponse {
		return &ecoutev1.HandOverEvaluationResponse{Evaluation: evaluationOf(v)}
	})
}
