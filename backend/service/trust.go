package service

import (
	"context"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/backend/core"
	"github.com/ecoute/ecoute/backend/store"
)

// Trust implements TrustService: the grant requests of the four-eyes rule
// and the login locks.
type Trust struct {
	ecoutev1.UnimplementedTrustServiceServer
	Core *core.Backend
}

// GrantOf converts a grant request; its secret never leaves.
func GrantOf(g core.Grant) *ecoutev1.GrantRequest {
	return &ecoutev1.GrantRequest{GrantId: g.ID, Kind: g.Kind, UserId: g.UserID, Login: g.Login, Role: g.Role,
		TeamIds: g.TeamIDs, RequestedBy: g.RequestedByLogin, RequestedAt: ts(g.RequestedAt), Status: g.Status,
		DecidedBy: g.DecidedLogin, DecidedAt: ts(g.DecidedAt), ExpiresAt: ts(g.ExpiresAt)}
}

// ListGrantRequests lists the requests, pending first.
func (s *Trust) ListGrantRequests(ctx context.Context, req *ecoutev1.ListGrantRequestsRequest) (*ecoutev1.ListGrantRequestsResponse, error) {
	return serve(ctx, nil, func(core.Caller) ([]core.Grant, error) { return s.Core.ListGrants(ctx, req.GetIncludeClosed()) },
		func(gs []core.Grant) *ecoutev1.ListGrantRequestsResponse {
			return &ecoutev1.ListGrantRequestsResponse{Grants: each(gs, GrantOf)}
		})
}

// ApproveGrant applies a pending request; for a reset, the second half.
func (s *Trust) ApproveGrant(ctx context.Context, req *ecoutev1.ApproveGrantRequest) (*ecoutev1.ApproveGrantResponse, error) {
	return serve(ctx, nil, func(c core.Caller) (*ecoutev1.ApproveGrantResponse, error) {
		g, second, err := s.Core.ApproveGrant(ctx, c, req.GetGrantId())
		return &ecoutev1.ApproveGrantResponse{Grant: GrantOf(g), SecondHalf: second}, err
	}, same)
}

// RefuseGrant closes a pending request without applying it.
func (s *Trust) RefuseGrant(ctx context.Context, req *ecoutev1.RefuseGrantRequest) (*ecoutev1.RefuseGrantResponse, error) {
	return serve(ctx, req, func(c core.Caller) (core.Grant, error) { return s.Core.RefuseGrant(ctx, c, req.GetGrantId()) },
		func(g core.Grant) *ecoutev1.RefuseGrantResponse {
			return &ecoutev1.RefuseGrantResponse{Grant: GrantOf(g)}
		})
}

// ListLoginLocks lists the throttled login and source pairs.
func (s *Trust) ListLoginLocks(ctx context.Context, _ *ecoutev1.ListLoginLocksRequest) (*ecoutev1.ListLoginLocksResponse, error) {
	return serve(ctx, nil, func(core.Caller) ([]store.Throttle, error) { return s.Core.LoginLocks(ctx) },
		func(ls []store.Throttle) *ecoutev1.ListLoginLocksResponse {
			return &ecoutev1.ListLoginLocksResponse{Locks: each(ls, func(t store.Throttle) *ecoutev1.LoginLock {
				return &ecoutev1.LoginLock{Login: t.Login, Source: t.Source, Failures: int32(t.Failures),
					LockedUntil: ts(t.LockedUntil), LastFailureAt: ts(t.LastFailureAt)}
			})}
		})
}
