package service

import (
	"context"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/backend/core"
	"github.com/ecoute/ecoute/backend/domain"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Audit implements AuditService. Who may call it is the policy's business
// (dpo: read and verify; admin: read); reading the trail is itself recorded
// (by core).
type Audit struct {
	ecoutev1.UnimplementedAuditServiceServer
	Core *core.Backend
}

// checked converts an optional timestamp, refusing an invalid one.
func checked(field string, t *timestamppb.Timestamp) (*timestamppb.Timestamp, error) {
	if t == nil {
		return nil, nil
	}
	if err := t.CheckValid(); err != nil {
		return nil, domain.Invalid(field, "%v", err)
	}
	return t, nil
}

// ListAuditEvents lists entries newest first.
func (s *Audit) ListAuditEvents(ctx context.Context, req *ecoutev1.ListAuditEventsRequest) (*ecoutev1.ListAuditEventsResponse, error) {
	c, err := caller(ctx, nil)
	if err != nil {
		return nil, err
	}
	since, err := checked("since", req.GetSince())
	if err != nil {
		return nil, err
	}
	until, err := checked("until", req.GetUntil())
	if err != nil {
		return nil, err
	}
	page, err := s.Core.ListAudit(ctx, c, core.AuditListing{UserID: req.GetUserId(), UserLogin: req.GetUserLogin(),
		Action: req.GetAction(), Since: timeOf(since), Until: timeOf(until), PageSize: int(req.GetPageSize()),
		PageToken: req.GetPageToken()})
	if err != nil {
		return nil, err
	}
	resp := &ecoutev1.ListAuditEventsResponse{NextPageToken: page.NextPageToken}
	for _, l := range page.Links {
		resp.Events = append(resp.Events, &ecoutev1.AuditEvent{Seq: l.Seq, Time: timestamppb.New(l.Time),
			UserId: l.Actor.UserID, UserLogin: l.Actor.Login, Role: l.Actor.Role, Source: l.Source, Action: l.Action,
			Target: l.Target, Details: l.Details, PrevHash: l.PrevHash.String(), Hash: l.Hash.String()})
	}
	return resp, nil
}

// VerifyAuditChain walks the chain.
func (s *Audit) VerifyAuditChain(ctx context.Context, _ *ecoutev1.VerifyAuditChainRequest) (*ecoutev1.VerifyAuditChainResponse, error) {
	c, err := caller(ctx, nil)
	if err != nil {
		return nil, err
	}
	rep, err := s.Core.VerifyAudit(ctx, c)
	if err != nil {
		return nil, err
	}
	resp := &ecoutev1.VerifyAuditChainResponse{Ok: rep.OK, Entries: rep.Entries, FirstSeq: rep.FromSeq,
		LastSeq: rep.LastSeq, BadSeq: rep.BadSeq, Reason: rep.Reason, KeyFingerprint: rep.KeyFingerprint}
	if cp := rep.Checkpoint; cp != nil {
		resp.Checkpoint = &ecoutev1.AuditCheckpoint{Seq: cp.Seq, Hash: cp.Hash, PurgedBefore: ts(cp.PurgedBefore),
			Purged: cp.Purged, CreatedAt: ts(cp.CreatedAt)}
	}
	return resp, nil
}
