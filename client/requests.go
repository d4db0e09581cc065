package client

import (
	"context"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
)

// PrivacyRequests is the dpo's register of the requests of the people
// concerned (R7).
type PrivacyRequests interface {
	// ListPrivacyRequests lists the open requests, soonest due first, with
	// the days left (closed ones too when all).
	ListPrivacyRequests(ctx context.Context, all bool) ([]*ecoutev1.PrivacyRequest, error)
}

// ListPrivacyRequests implements PrivacyRequests.
func (c *Client) ListPrivacyRequests(ctx context.Context, all bool) ([]*ecoutev1.PrivacyRequest, error) {
	var resp *ecoutev1.ListPrivacyRequestsResponse
	rs := ecoutev1.NewPrivacyRequestServiceClient(c.conn)
	err := c.conns.do(ctx, "list privacy requests", Again, func(ctx context.Context) (err error) {
		resp, err = rs.ListPrivacyRequests(ctx, &ecoutev1.ListPrivacyRequestsRequest{IncludeClosed: all})
		return err
	})
	if err != nil {
		return nil, err
	}
	return resp.GetPrivacyRequests(), nil
}

// ListPrivacyRequests is not offered by a test double that leaves it out.
func (Unimplemented) ListPrivacyRequests(context.Context, bool) ([]*ecoutev1.PrivacyRequest, error) {
	return nil, unsupported("list privacy requests")
}
