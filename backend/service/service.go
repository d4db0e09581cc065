// Package service implements the gRPC services as thin adapters over the
// front door (backend/core): decode the request, call core with the caller
// and plain values, encode the answer. They build no error status (every
// error they return goes through backend/rpcerr in an interceptor) and
// audit nothing that core audits (SelfAudited).
package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/ecoute/ecoute/backend/auth"
	"github.com/ecoute/ecoute/backend/core"
	"github.com/ecoute/ecoute/backend/domain"
	"google.golang.org/grpc/peer"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// SelfAudited are the methods whose core operation records every outcome
// itself; the audit interceptor records only their refusals by the guard.
var SelfAudited = map[string]bool{
	"/ecoute.v1.AdminService/CreateUser":                    true,
	"/ecoute.v1.AdminService/SetUserDisabled":               true,
	"/ecoute.v1.AdminService/SetUserTeams":                  true,
	"/ecoute.v1.AdminService/ResetPassword":                 true,
	"/ecoute.v1.AdminService/RevokeSessions":                true,
	"/ecoute.v1.AdminService/CreateTeam":                    true,
	"/ecoute.v1.AdminService/AddRecordingPeriod":            true,
	"/ecoute.v1.EvaluationService/SaveGrid":                 true,
	"/ecoute.v1.EvaluationService/StartEvaluation":          true,
	"/ecoute.v1.EvaluationService/SaveEvaluation":           true,
	"/ecoute.v1.EvaluationService/SubmitEvaluation":         true,
	"/ecoute.v1.EvaluationService/AcknowledgeEvaluation":    true,
	"/ecoute.v1.EvaluationService/DisputeEvaluation":        true,
	"/ecoute.v1.EvaluationService/ResolveDispute":           true,
	"/ecoute.v1.EvaluationService/HandOverEvaluation":       true,
	"/ecoute.v1.AuditService/ListAuditEvents":               true,
	"/ecoute.v1.AuditService/VerifyAuditChain":              true,
	"/ecoute.v1.PrivacyService/ExportSubject":               true,
	"/ecoute.v1.PrivacyService/EraseSubject":                true,
	"/ecoute.v1.PrivacyService/ListAuthorizedPersons":       true,
	"/ecoute.v1.IngestService/UploadRecording":              true,
	"/ecoute.v1.TrustService/ApproveGrant":                  true,
	"/ecoute.v1.TrustService/RefuseGrant":                   true,
	"/ecoute.v1.PrivacyRequestService/RecordPrivacyRequest": true,
	"/ecoute.v1.PrivacyRequestService/ClosePrivacyRequest":  true,
	"/ecoute.v1.DirectoryService/CreateAgent":               true,
	"/ecoute.v1.DirectoryService/RenameAgent":               true,
	"/ecoute.v1.DirectoryService/MoveAgent":                 true,
	"/ecoute.v1.DirectoryService/EndAgent":                  true,
	"/ecoute.v1.DirectoryService/CreateCampaign":            true,
	"/ecoute.v1.DirectoryService/RenameCampaign":            true,
	"/ecoute.v1.DirectoryService/EndCampaign":               true,
	"/ecoute.v1.DirectoryService/RenameTeam":                true,
	"/ecoute.v1.DirectoryService/EndTeam":                   true,
	// Training (issue 13).
	"/ecoute.v1.IngestService/UploadScreenCaptures":         true,
	"/ecoute.v1.CoachingService/CreateCoachingSession":      true,
	"/ecoute.v1.CoachingService/AddCoachingGoal":            true,
	"/ecoute.v1.CoachingService/AttachEvaluation":           true,
	"/ecoute.v1.CoachingService/AddClip":                    true,
	"/ecoute.v1.CoachingService/SaveCoachingNotes":          true,
	"/ecoute.v1.CoachingService/ShareCoachingSession":       true,
	"/ecoute.v1.CoachingService/AcknowledgeCoachingSession": true,
	"/ecoute.v1.CoachingService/DisputeCoachingSession":     true,
	"/ecoute.v1.CoachingService/ListScreenCaptures":         true,
	"/ecoute.v1.CoachingService/GetScreenCapture":           true,
	"/ecoute.v1.CalibrationService/CreateCalibration":       true,
	"/ecoute.v1.CalibrationService/SaveCalibrationScore":    true,
	"/ecoute.v1.CalibrationService/SubmitCalibrationScore":  true,
	"/ecoute.v1.CalibrationService/CloseCalibration":        true,
	"/ecoute.v1.CalibrationService/ExportAgreementReport":   true,
	"/ecoute.v1.IngestService/UploadActivity":               true,
	"/ecoute.v1.StatsService/QualityStats":                  true,
	"/ecoute.v1.StatsService/AgentActivity":                 true,
	"/ecoute.v1.StatsService/ClientTables":                  true,
	"/ecoute.v1.StatsService/StatsEvaluations":              true,
	"/ecoute.v1.StatsService/ExportStats":                   true,
	"/ecoute.v1.AdminService/AddSshKey":                     true,
	"/ecoute.v1.AdminService/RemoveSshKey":                  true,
	"/ecoute.v1.PairingService/CreatePairing":               true,
	"/ecoute.v1.PairingService/PublishPlayback":             true,
	"/ecoute.v1.PairingService/FollowPlayback":              true,
}

func peerAddr(ctx context.Context) string {
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		return p.Addr.String()
	}
	return ""
}

func principal(ctx context.Context) (auth.Principal, error) {
	p, ok := auth.FromContext(ctx)
	if !ok {
		return auth.Principal{}, domain.New(domain.ReasonUnauthenticated, "not logged in")
	}
	return p, nil
}

// caller is who calls, from the guard's principal and the peer, with the
// request id and fingerprint of req (nil for a read).
func caller(ctx context.Context, req proto.Message) (core.Caller, error) {
	p, err := principal(ctx)
	if err != nil {
		return core.Caller{}, err
	}
	c := core.Caller{User: p.User, Source: peerAddr(ctx)}
	if req != nil {
		c.Request = requestOf(req)
	}
	return c, nil
}

// requestOf reads the request_id of a write and fingerprints the rest of
// the request: the same id with other content is another request.
func requestOf(m proto.Message) core.Request {
	r := m.ProtoReflect()
	fd := r.Descriptor().Fields().ByName("request_id")
	if fd == nil || r.Get(fd).String() == "" {
		return core.Request{}
	}
	id := r.Get(fd).String()
	rest := proto.Clone(m)
	rest.ProtoReflect().Clear(fd)
	b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(rest)
	sum := sha256.Sum256(b)
	return core.Request{ID: id, Fingerprint: hex.EncodeToString(sum[:])}
}

// ts converts a time; the zero time is no time (unset), never 1970.
func ts(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// timeOf converts a timestamp; unset is the zero time.
func timeOf(t *timestamppb.Timestamp) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.AsTime()
}

// serve is the shape of every adapter: the caller (with the request id and
// fingerprint of req, when it is a write; nil for a read), the operation,
// the answer. Errors go back as they are; the interceptor makes them
// statuses.
func serve[V, R any](ctx context.Context, req proto.Message, op func(core.Caller) (V, error), answer func(V) R) (R, error) {
	var zero R
	c, err := caller(ctx, req)
	if err != nil {
		return zero, err
	}
	v, err := op(c)
	if err != nil {
		return zero, err
	}
	return answer(v), nil
}

// same answers the operation's value as it is.
func same[T any](v T) T { return v }

// each converts every element of a list (nil stays nil).
func each[T, P any](xs []T, f func(T) P) []P {
	if xs == nil {
		return nil
	}
	out := make([]P, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return out
}

// keyOf is the key of v in m (the zero key when absent): the reverse of
// the enum tables.
func keyOf[K, V comparable](m map[K]V, v V) K {
	for k, x := range m {
		if x == v {
			return k
		}
	}
	var zero K
	return zero
}
