package client

import (
	"context"
	"crypto/rand"
	"encoding/hex"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
)

// newRequestID names one write, so that the server can answer a repeat of
// it (after a lost reply) without applying it twice.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// writeRetry is how evaluation writes are retried: they carry a request id
// the server deduplicates.
const writeRetry = Again

func view(ev *ecoutev1.Evaluation, g *ecoutev1.Grid) EvaluationView {
	return EvaluationView{Evaluation: ev, Grid: g}
}

// StartEvaluation implements Evaluations.
func (c *Client) StartEvaluation(ctx context.Context, callID string) (EvaluationView, error) {
	req := &ecoutev1.StartEvaluationRequest{CallId: callID, RequestId: newRequestID()}
	var resp *ecoutev1.StartEvaluationResponse
	err := c.conns.do(ctx, "start evaluation", writeRetry, func(ctx context.Context) (err error) {
		resp, err = c.evals.StartEvaluation(ctx, req)
		return err
	})
	return view(resp.GetEvaluation(), resp.GetGrid()), err
}

// GetEvaluation implements Evaluations.
func (c *Client) GetEvaluation(ctx context.Context, evaluationID string) (EvaluationView, error) {
	var resp *ecoutev1.GetEvaluationResponse
	err := c.conns.do(ctx, "get evaluation", Again, func(ctx context.Context) (err error) {
		resp, err = c.evals.GetEvaluation(ctx, &ecoutev1.GetEvaluationRequest{EvaluationId: evaluationID})
		return err
	})
	return view(resp.GetEvaluation(), resp.GetGrid()), err
}

// ListEvaluations implements Evaluations.
func (c *Client) ListEvaluations(ctx context.Context, q EvaluationQuery) ([]*ecoutev1.Evaluation, error) {
	req := &ecoutev1.ListEvaluationsRequest{CallId: q.CallID, Statuses: q.Statuses, PageSize: int32(q.PageSize)}
	var resp *ecoutev1.ListEvaluationsResponse
	err := c.conns.do(ctx, "list evaluations", Again, func(ctx context.Context) (err error) {
		resp, err = c.evals.ListEvaluations(ctx, req)
		return err
	})
	return resp.GetEvaluations(), err
}

// SaveEvaluation implements Evaluations.
func (c *Client) SaveEvaluation(ctx context.Context, e EvaluationEdit) (*ecoutev1.Evaluation, error) {
	req := &ecoutev1.SaveEvaluationRequest{EvaluationId: e.EvaluationID, ExpectedVersion: e.Version,
		Answers: e.Answers, Comment: e.Comment, RequestId: newRequestID()}
	var resp *ecoutev1.SaveEvaluationResponse
	err := c.conns.do(ctx, "save evaluation", writeRetry, func(ctx context.Context) (err error) {
		resp, err = c.evals.SaveEvaluation(ctx, req)
		return err
	})
	return resp.GetEvaluation(), err
}

// SubmitEvaluation implements Evaluations.
func (c *Client) SubmitEvaluation(ctx context.Context, evaluationID string, version int64, overrideReason string) (*ecoutev1.Evaluation, error) {
	req := &ecoutev1.SubmitEvaluationRequest{EvaluationId: evaluationID, ExpectedVersion: version,
		OverrideReason: overrideReason, RequestId: newRequestID()}
	var resp *ecoutev1.SubmitEvaluationResponse
	err := c.conns.do(ctx, "submit evaluation", writeRetry, func(ctx context.Context) (err error) {
		resp, err = c.evals.SubmitEvaluation(ctx, req)
		return err
	})
	return resp.GetEvaluation(), err
}

// AcknowledgeEvaluation implements Evaluations.
func (c *Client) AcknowledgeEvaluation(ctx context.Context, evaluationID, comment string) (*ecoutev1.Evaluation, error) {
	req := &ecoutev1.AcknowledgeEvaluationRequest{EvaluationId: evaluationID, Comment: comment, RequestId: newRequestID()}
	var resp *ecoutev1.AcknowledgeEvaluationResponse
	err := c.conns.do(ctx, "acknowledge evaluation", writeRetry, func(ctx context.Context) (err error) {
		resp, err = c.evals.AcknowledgeEvaluation(ctx, req)
		return err
	})
	return resp.GetEvaluation(), err
}

// DisputeEvaluation implements Evaluations.
func (c *Client) DisputeEvaluation(ctx context.Context, evaluationID, comment string) (*ecoutev1.Evaluation, error) {
	req := &ecoutev1.DisputeEvaluationRequest{EvaluationId: evaluationID, Comment: comment, RequestId: newRequestID()}
	var resp *ecoutev1.DisputeEvaluationResponse
	err := c.conns.do(ctx, "dispute evaluation", writeRetry, func(ctx context.Context) (err error) {
		resp, err = c.evals.DisputeEvaluation(ctx, req)
		return err
	})
	return resp.GetEvaluation(), err
}

// ResolveDispute implements Evaluations.
func (c *Client) ResolveDispute(ctx context.Context, r Resolution) (*ecoutev1.Evaluation, error) {
	req := &ecoutev1.ResolveDisputeRequest{EvaluationId: r.EvaluationID, Resolution: ecoutev1.Resolution_RESOLUTION_KEPT,
		Reason: r.Reason, RequestId: newRequestID()}
	if r.Revised {
		req.Resolution, req.Answers, req.Comment = ecoutev1.Resolution_RESOLUTION_REVISED, r.Answers, r.Comment
	}
	var resp *ecoutev1.ResolveDisputeResponse
	err := c.conns.do(ctx, "resolve dispute", writeRetry, func(ctx context.Context) (err error) {
		resp, err = c.evals.ResolveDispute(ctx, req)
		return err
	})
	return resp.GetEvaluation(), err
}
