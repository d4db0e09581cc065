package client

import (
	"context"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
)

// verifyTimeout bounds a verification of the whole chain, which walks every
// entry: longer than one ordinary attempt.
const verifyTimeout = 4 * AttemptTimeout

// ListAuditEvents implements Audit.
func (c *Client) ListAuditEvents(ctx context.Context, q AuditQuery) (*ecoutev1.ListAuditEventsResponse, error) {
	req := &ecoutev1.ListAuditEventsRequest{PageSize: int32(q.PageSize), PageToken: q.PageToken}
	var resp *ecoutev1.ListAuditEventsResponse
	err := c.conns.do(ctx, "list audit events", Again, func(ctx context.Context) (err error) {
		resp, err = c.audit.ListAuditEvents(ctx, req)
		return err
	})
	return resp, err
}

// VerifyAuditChain implements Audit. Its attempt may take longer than
// AttemptTimeout: the server walks the whole chain.
func (c *Client) VerifyAuditChain(ctx context.Context) (*ecoutev1.VerifyAuditChainResponse, error) {
	var resp *ecoutev1.VerifyAuditChainResponse
	err := c.conns.doWithin(ctx, "verify audit chain", Again, verifyTimeout, func(ctx context.Context) (err error) {
		resp, err = c.audit.VerifyAuditChain(ctx, &ecoutev1.VerifyAuditChainRequest{})
		return err
	})
	return resp, err
}
