package client

import (
	"context"
	"errors"
	"io"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
)

// Drill names the figure whose evaluations to open: its selection, and
// the criterion failed or the evaluator, when the figure is one.
type Drill struct {
	Filter          *ecoutev1.StatsFilter
	FailedCriterion string
	EvaluatorID     string
	PageSize        int
}

// ExportProgress is how far an export has come: bytes of the encrypted
// file received out of Total, and the rows it holds.
type ExportProgress struct {
	Sent, Total, Rows int64
}

// Stats is the statistics (issue 17): the dashboards of the roles that
// have them, the client role's fixed tables, the evaluations behind a
// figure, and exports encrypted with age on the server.
type Stats interface {
	QualityStats(ctx context.Context, f *ecoutev1.StatsFilter) (*ecoutev1.QualityStatsResponse, error)
	AgentActivity(ctx context.Context, f *ecoutev1.StatsFilter) (*ecoutev1.AgentActivityResponse, error)
	// ClientTables is the month's table (the zero month: the latest).
	ClientTables(ctx context.Context, month *ecoutev1.ClientTablesRequest) (*ecoutev1.ClientTablesResponse, error)
	StatsEvaluations(ctx context.Context, d Drill) ([]*ecoutev1.Evaluation, error)
	// ExportStats writes the encrypted export to w as it arrives and
	// reports its progress after each chunk (progress may be nil). It is
	// not retried: a broken export is started again by the user.
	ExportStats(ctx context.Context, req *ecoutev1.ExportStatsRequest, w io.Writer, progress func(ExportProgress)) (ExportProgress, error)
}

// exportTimeout bounds an export, which the server computes whole before
// sending it.
const exportTimeout = 8 * AttemptTimeout

func (c *Client) stats() ecoutev1.StatsServiceClient { return ecoutev1.NewStatsServiceClient(c.conn) }

// QualityStats implements Stats.
func (c *Client) QualityStats(ctx context.Context, f *ecoutev1.StatsFilter) (*ecoutev1.QualityStatsResponse, error) {
	var resp *ecoutev1.QualityStatsResponse
	err := c.conns.do(ctx, "quality statistics", Again, func(ctx context.Context) (err error) {
		resp, err = c.stats().QualityStats(ctx, &ecoutev1.QualityStatsRequest{Filter: f})
		return err
	})
	return resp, err
}

// AgentActivity implements Stats.
func (c *Client) AgentActivity(ctx context.Context, f *ecoutev1.StatsFilter) (*ecoutev1.AgentActivityResponse, error) {
	var resp *ecoutev1.AgentActivityResponse
	err := c.conns.do(ctx, "activity statistics", Again, func(ctx context.Context) (err error) {
		resp, err = c.stats().AgentActivity(ctx, &ecoutev1.AgentActivityRequest{Filter: f})
		return err
	})
	return resp, err
}

// ClientTables implements Stats.
func (c *Client) ClientTables(ctx context.Context, req *ecoutev1.ClientTablesRequest) (*ecoutev1.ClientTablesResponse, error) {
	var resp *ecoutev1.ClientTablesResponse
	err := c.conns.do(ctx, "client tables", Again, func(ctx context.Context) (err error) {
		resp, err = c.stats().ClientTables(ctx, req)
		return err
	})
	return resp, err
}

// StatsEvaluations implements Stats.
func (c *Client) StatsEvaluations(ctx context.Context, d Drill) ([]*ecoutev1.Evaluation, error) {
	req := &ecoutev1.StatsEvaluationsRequest{Filter: d.Filter, FailedCriterionId: d.FailedCriterion,
		EvaluatorId: d.EvaluatorID, PageSize: int32(d.PageSize)}
	var resp *ecoutev1.StatsEvaluationsResponse
	err := c.conns.do(ctx, "evaluations behind a figure", Again, func(ctx context.Context) (err error) {
		resp, err = c.stats().StatsEvaluations(ctx, req)
		return err
	})
	return resp.GetEvaluations(), err
}

// ExportStats implements Stats.
func (c *Client) ExportStats(ctx context.Context, req *ecoutev1.ExportStatsRequest, w io.Writer, progress func(ExportProgress)) (ExportProgress, error) {
	var p ExportProgress
	err := c.conns.doWithin(ctx, "export statistics", Once, exportTimeout, func(ctx context.Context) error {
		st, err := c.stats().ExportStats(ctx, req)
		if err != nil {
			return err
		}
		for {
			m, err := st.Recv()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			if _, err := w.Write(m.GetData()); err != nil {
				return &opError{op: "write export", err: err}
			}
			p = ExportProgress{Sent: m.GetSent(), Total: m.GetTotal(), Rows: m.GetRows()}
			if progress != nil {
				progress(p)
			}
		}
	})
	return p, err
}
