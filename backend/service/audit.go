package service

import (
	"context"
	"encoding/base64"
	"log/slog"
	"strconv"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/backend/audit"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Audit implements AuditService. Who may call it is the policy's business
// (dpo: read and verify; admin: read); reading the trail is itself recorded
// by the audit interceptor.
type Audit struct {
	ecoutev1.UnimplementedAuditServiceServer
	Trail *audit.Log
	Log   *slog.Logger
}

// Page sizes of ListAuditEvents.
const (
	DefaultAuditPage = 100
	MaxAuditPage     = 1000
)

// The page token is the seq the next page starts below; it is opaque to
// clients so the paging scheme can change.
func auditToken(seq int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("a1:" + strconv.FormatInt(seq, 10)))
}

func parseAuditToken(s string) (int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil && len(b) > 3 && string(b[:3]) == "a1:" {
		if n, err := strconv.ParseInt(string(b[3:]), 10, 64); err == nil && n > 0 {
			return n, nil
		}
	}
	return 0, status.Error(codes.InvalidArgument, "page_token: not a token from a previous ListAuditEvents response")
}

// ListAuditEvents lists entries newest first.
func (s *Audit) ListAuditEvents(ctx context.Context, req *ecoutev1.ListAuditEventsRequest) (*ecoutev1.ListAuditEventsResponse, error) {
	size := int(req.GetPageSize())
	switch {
	case size < 0:
		return nil, status.Error(codes.InvalidArgument, "page_size: must not be negative")
	case size == 0:
		size = DefaultAuditPage
	case size > MaxAuditPage:
		size = MaxAuditPage
	}
	q := audit.Query{ActorID: req.GetUserId(), ActorLogin: req.GetUserLogin(), Action: req.GetAction(), Limit: size + 1}
	if req.GetSince() != nil {
		if err := req.GetSince().CheckValid(); err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "since: %v", err)
		}
		q.Since = req.GetSince().AsTime()
	}
	if req.GetUntil() != nil {
		if err := req.GetUntil().CheckValid(); err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "until: %v", err)
		}
		q.Until = req.GetUntil().AsTime()
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Until.After(q.Since) {
		return nil, status.Error(codes.InvalidArgument, "until: must be after since")
	}
	if t := req.GetPageToken(); t != "" {
		seq, err := parseAuditToken(t)
		if err != nil {
			return nil, err
		}
		q.BeforeSeq = seq
	}
	links, err := s.Trail.List(ctx, q)
	if err != nil {
		return nil, internalErr(s.Log, "list audit events", err)
	}
	resp := &ecoutev1.ListAuditEventsResponse{}
	if len(links) > size {
		links = links[:size]
		resp.NextPageToken = auditToken(links[size-1].Seq)
	}
	for _, l := range links {
		resp.Events = append(resp.Events, &ecoutev1.AuditEvent{Seq: l.Seq, Time: timestamppb.New(l.Time),
			UserId: l.Actor.UserID, UserLogin: l.Actor.Login, Role: l.Actor.Role, Source: l.Source, Action: l.Action,
			Target: l.Target, Details: l.Details, PrevHash: l.PrevHash.String(), Hash: l.Hash.String()})
	}
	return resp, nil
}

// VerifyAuditChain walks the chain.
func (s *Audit) VerifyAuditChain(ctx context.Context, _ *ecoutev1.VerifyAuditChainRequest) (*ecoutev1.VerifyAuditChainResponse, error) {
	rep, err := s.Trail.Verify(ctx)
	if err != nil {
		return nil, internalErr(s.Log, "verify audit chain", err)
	}
	resp := &ecoutev1.VerifyAuditChainResponse{Ok: rep.OK, Entries: rep.Entries, FirstSeq: rep.FromSeq,
		LastSeq: rep.LastSeq, BadSeq: rep.BadSeq, Reason: rep.Reason, KeyFingerprint: rep.KeyFingerprint}
	if cp := rep.Checkpoint; cp != nil {
		resp.Checkpoint = &ecoutev1.AuditCheckpoint{Seq: cp.Seq, Hash: cp.Hash, PurgedBefore: timestamppb.New(cp.PurgedBefore),
			Purged: cp.Purged, CreatedAt: timestamppb.New(cp.CreatedAt)}
	}
	return resp, nil
}

// internalErr logs the cause and hides it from the client.
func internalErr(log *slog.Logger, what string, err error) error {
	if log != nil {
		log.Error(what, "err", err)
	}
	return status.Errorf(codes.Internal, "%s failed", what)
}
