package service

import (
	"context"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/backend/core"
	"github.com/ecoute/ecoute/backend/store"
)

// Register implements PrivacyRequestService: the dpo's register of the
// requests of the people concerned (R7).
type Register struct {
	ecoutev1.UnimplementedPrivacyRequestServiceServer
	Core *core.Backend
}

// PrivacyRequestOf converts a request of the register.
func PrivacyRequestOf(r core.PrivacyRequest) *ecoutev1.PrivacyRequest {
	return &ecoutev1.PrivacyRequest{PrivacyRequestId: r.ID, Kind: r.Kind, ReceivedAt: ts(r.ReceivedAt),
		Channel: r.Channel, IdentityCheck: r.IdentityCheck, AgentId: r.Subject.AgentID,
		CustomerPhoneE164: r.Subject.CustomerPhone, Requester: r.Requester, DueAt: ts(r.DueAt),
		DaysLeft: int32(r.DaysLeft), Overdue: r.Overdue, Status: r.Status, ClosedAt: ts(r.ClosedAt),
		Outcome: r.Outcome, ClosedBy: r.ClosedBy, Note: r.Note, RecordedAt: ts(r.RecordedAt), RecordedBy: r.RecordedBy}
}

// RecordPrivacyRequest adds a request to the register.
func (s *Register) RecordPrivacyRequest(ctx context.Context, req *ecoutev1.RecordPrivacyRequestRequest) (*ecoutev1.RecordPrivacyRequestResponse, error) {
	return serve(ctx, req, func(c core.Caller) (core.PrivacyRequest, error) {
		return s.Core.RecordPrivacyRequest(ctx, c, core.NewPrivacyRequest{Kind: req.GetKind(),
			ReceivedAt: timeOf(req.GetReceivedAt()), Channel: req.GetChannel(), IdentityCheck: req.GetIdentityCheck(),
			Subject:   store.Subject{AgentID: req.GetAgentId(), CustomerPhone: req.GetCustomerPhoneE164()},
			Requester: req.GetRequester(), Note: req.GetNote()})
	}, func(r core.PrivacyRequest) *ecoutev1.RecordPrivacyRequestResponse {
		return &ecoutev1.RecordPrivacyRequestResponse{PrivacyRequest: PrivacyRequestOf(r)}
	})
}

// ListPrivacyRequests lists the register.
func (s *Register) ListPrivacyRequests(ctx context.Context, req *ecoutev1.ListPrivacyRequestsRequest) (*ecoutev1.ListPrivacyRequestsResponse, error) {
	return serve(ctx, nil, func(core.Caller) ([]core.PrivacyRequest, error) {
		return s.Core.ListPrivacyRequests(ctx, req.GetIncludeClosed())
	}, func(rs []core.PrivacyRequest) *ecoutev1.ListPrivacyRequestsResponse {
		return &ecoutev1.ListPrivacyRequestsResponse{PrivacyRequests: each(rs, PrivacyRequestOf)}
	})
}

// ClosePrivacyRequest records an outcome.
func (s *Register) ClosePrivacyRequest(ctx context.Context, req *ecoutev1.ClosePrivacyRequestRequest) (*ecoutev1.ClosePrivacyRequestResponse, error) {
	return serve(ctx, req, func(c core.Caller) (core.PrivacyRequest, error) {
		return s.Core.ClosePrivacyRequest(ctx, c, req.GetPrivacyRequestId(), req.GetOutcome())
	}, func(r core.PrivacyRequest) *ecoutev1.ClosePrivacyRequestResponse {
		return &ecoutev1.ClosePrivacyRequestResponse{PrivacyRequest: PrivacyRequestOf(r)}
	})
}
