package service

import (
	"context"
	"errors"
	"io"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/backend/core"
	"github.com/ecoute/ecoute/backend/domain"
	"github.com/ecoute/ecoute/backend/rpcerr"
	"github.com/ecoute/ecoute/backend/store"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Coaching implements CoachingService over core: coaching sessions and the
// screen captures shown inside them.
type Coaching struct {
	ecoutev1.UnimplementedCoachingServiceServer
	Core *core.Backend
}

var coachingStatus = map[ecoutev1.CoachingStatus]string{
	ecoutev1.CoachingStatus_COACHING_STATUS_DRAFT:        domain.CoachingDraft,
	ecoutev1.CoachingStatus_COACHING_STATUS_SHARED:       domain.CoachingShared,
	ecoutev1.CoachingStatus_COACHING_STATUS_ACKNOWLEDGED: domain.CoachingAcknowledged,
	ecoutev1.CoachingStatus_COACHING_STATUS_DISPUTED:     domain.CoachingDisputed,
}

// coachingOf converts a session as its reader may see it (core has cleared
// what the agent does not read).
func coachingOf(v core.CoachingView) *ecoutev1.CoachingSession {
	s := v.Session
	ps := &ecoutev1.CoachingSession{SessionId: s.ID, TrainerId: s.TrainerID, TrainerName: s.TrainerName,
		AgentId: s.AgentID, AgentName: s.AgentName, TeamId: s.TeamID, Title: s.Title, Notes: s.Notes,
		OverrideReason: s.OverrideReason, NotesHits: hitsOf(v.NotesHits), Status: keyOf(coachingStatus, s.Status),
		Version: s.Version, AgentComment: s.AgentComment, CreatedAt: ts(s.CreatedAt), UpdatedAt: ts(s.UpdatedAt),
		SharedAt: ts(s.SharedAt), AnsweredAt: ts(s.AnsweredAt), RetainedUntil: ts(s.RetainedUntil)}
	for _, g := range v.Goals {
		ps.Goals = append(ps.Goals, &ecoutev1.CoachingGoal{GoalId: g.Goal.ID, GridId: g.Goal.GridID,
			GridVersion: int32(g.Goal.GridVersion), CriterionId: g.Goal.CriterionID, CriterionLabel: g.Label,
			CriterionType: g.Type, Target: g.Goal.Target, DueAt: ts(g.Goal.DueAt), CreatedAt: ts(g.Goal.CreatedAt)})
	}
	for _, it := range s.Items {
		if it.Kind != store.ItemClip {
			continue
		}
		ps.Clips = append(ps.Clips, &ecoutev1.CoachingClip{ClipId: it.ID, CallId: it.CallID,
			CallStartedAt: ts(it.CallStartedAt), From: durationpb.New(it.From), To: durationpb.New(it.To), Note: it.Note,
			RetainedUntil: ts(it.CallRetainedUntil), Captures: int32(it.Captures), CreatedAt: ts(it.CreatedAt)})
	}
	for _, ev := range v.Evaluations {
		e := ev.Evaluation
		ce := &ecoutev1.CoachingEvaluation{EvaluationId: e.ID, CallId: e.CallID, CallStartedAt: ts(e.CallStartedAt),
			GridName: e.GridName, Status: keyOf(statusName, e.Status), RetainedUntil: ts(e.RetainedUntil)}
		if ev.Scored {
			ce.Total, ce.HasTotal = ev.Score.Total, ev.Score.HasTotal
		} else {
			ce.Total, ce.HasTotal = float64(e.TotalTenths)/10, e.HasTotal
		}
		ps.Evaluations = append(ps.Evaluations, ce)
	}
	return ps
}

// ListCoachingSessions lists the caller's sessions.
func (s *Coaching) ListCoachingSessions(ctx context.Context, req *ecoutev1.ListCoachingSessionsRequest) (*ecoutev1.ListCoachingSessionsResponse, error) {
	return serve(ctx, nil, func(c core.Caller) ([]core.CoachingView, error) {
		return s.Core.ListCoachingSessions(ctx, c, core.CoachingQuery{AgentID: req.GetAgentId(), PageSize: int(req.GetPageSize())})
	}, func(vs []core.CoachingView) *ecoutev1.ListCoachingSessionsResponse {
		return &ecoutev1.ListCoachingSessionsResponse{Sessions: each(vs, coachingOf)}
	})
}

// GetCoachingSession returns one session.
func (s *Coaching) GetCoachingSession(ctx context.Context, req *ecoutev1.GetCoachingSessionRequest) (*ecoutev1.GetCoachingSessionResponse, error) {
	return serve(ctx, nil, func(c core.Caller) (core.CoachingView, error) {
		return s.Core.GetCoachingSession(ctx, c, req.GetSessionId())
	}, func(v core.CoachingView) *ecoutev1.GetCoachingSessionResponse {
		return &ecoutev1.GetCoachingSessionResponse{Session: coachingOf(v)}
	})
}

// CreateCoachingSession opens a draft session.
func (s *Coaching) CreateCoachingSession(ctx context.Context, req *ecoutev1.CreateCoachingSessionRequest) (*ecoutev1.CreateCoachingSessionResponse, error) {
	return serve(ctx, req, func(c core.Caller) (core.CoachingView, error) {
		return s.Core.CreateCoachingSession(ctx, c, req.GetAgentId(), req.GetTitle())
	}, func(v core.CoachingView) *ecoutev1.CreateCoachingSessionResponse {
		return &ecoutev1.CreateCoachingSessionResponse{Session: coachingOf(v)}
	})
}

// AddCoachingGoal sets a goal.
func (s *Coaching) AddCoachingGoal(ctx context.Context, req *ecoutev1.AddCoachingGoalRequest) (*ecoutev1.AddCoachingGoalResponse, error) {
	return serve(ctx, req, func(c core.Caller) (core.CoachingView, error) {
		return s.Core.AddCoachingGoal(ctx, c, req.GetSessionId(), req.GetGridId(), req.GetCriterionId(), req.GetTarget(),
			timeOf(req.GetDueAt()))
	}, func(v core.CoachingView) *ecoutev1.AddCoachingGoalResponse {
		return &ecoutev1.AddCoachingGoalResponse{Session: coachingOf(v)}
	})
}

// AttachEvaluation attaches an evaluation.
func (s *Coaching) AttachEvaluation(ctx context.Context, req *ecoutev1.AttachEvaluationRequest) (*ecoutev1.AttachEvaluationResponse, error) {
	return serve(ctx, req, func(c core.Caller) (core.CoachingView, error) {
		return s.Core.AttachEvaluation(ctx, c, req.GetSessionId(), req.GetEvaluationId())
	}, func(v core.CoachingView) *ecoutev1.AttachEvaluationResponse {
		return &ecoutev1.AttachEvaluationResponse{Session: coachingOf(v)}
	})
}

// AddClip attaches a clip.
func (s *Coaching) AddClip(ctx context.Context, req *ecoutev1.AddClipRequest) (*ecoutev1.AddClipResponse, error) {
	return serve(ctx, req, func(c core.Caller) (core.CoachingView, error) {
		return s.Core.AddClip(ctx, c, core.Clip{SessionID: req.GetSessionId(), CallID: req.GetCallId(),
			From: req.GetFrom().AsDuration(), To: req.GetTo().AsDuration(), Note: req.GetNote(),
			OverrideReason: req.GetOverrideReason()})
	}, func(v core.CoachingView) *ecoutev1.AddClipResponse {
		return &ecoutev1.AddClipResponse{Session: coachingOf(v)}
	})
}

// SaveCoachingNotes replaces the notes.
func (s *Coaching) SaveCoachingNotes(ctx context.Context, req *ecoutev1.SaveCoachingNotesRequest) (*ecoutev1.SaveCoachingNotesResponse, error) {
	return serve(ctx, req, func(c core.Caller) (core.CoachingView, error) {
		return s.Core.SaveCoachingNotes(ctx, c, req.GetSessionId(), req.GetExpectedVersion(), req.GetNotes(),
			req.GetOverrideReason())
	}, func(v core.CoachingView) *ecoutev1.SaveCoachingNotesResponse {
		return &ecoutev1.SaveCoachingNotesResponse{Session: coachingOf(v)}
	})
}

// ShareCoachingSession shares a draft with its agent.
func (s *Coaching) ShareCoachingSession(ctx context.Context, req *ecoutev1.ShareCoachingSessionRequest) (*ecoutev1.ShareCoachingSessionResponse, error) {
	return serve(ctx, req, func(c core.Caller) (core.CoachingView, error) {
		return s.Core.ShareCoachingSession(ctx, c, req.GetSessionId())
	}, func(v core.CoachingView) *ecoutev1.ShareCoachingSessionResponse {
		return &ecoutev1.ShareCoachingSessionResponse{Session: coachingOf(v)}
	})
}

// AcknowledgeCoachingSession is the agent's acknowledgement.
func (s *Coaching) AcknowledgeCoachingSession(ctx context.Context, req *ecoutev1.AcknowledgeCoachingSessionRequest) (*ecoutev1.AcknowledgeCoachingSessionResponse, error) {
	return serve(ctx, req, func(c core.Caller) (core.CoachingView, error) {
		return s.Core.AcknowledgeCoachingSession(ctx, c, req.GetSessionId(), req.GetComment())
	}, func(v core.CoachingView) *ecoutev1.AcknowledgeCoachingSessionResponse {
		return &ecoutev1.AcknowledgeCoachingSessionResponse{Session: coachingOf(v)}
	})
}

// DisputeCoachingSession is the agent's disagreement.
func (s *Coaching) DisputeCoachingSession(ctx context.Context, req *ecoutev1.DisputeCoachingSessionRequest) (*ecoutev1.DisputeCoachingSessionResponse, error) {
	return serve(ctx, req, func(c core.Caller) (core.CoachingView, error) {
		return s.Core.DisputeCoachingSession(ctx, c, req.GetSessionId(), req.GetComment())
	}, func(v core.CoachingView) *ecoutev1.DisputeCoachingSessionResponse {
		return &ecoutev1.DisputeCoachingSessionResponse{Session: coachingOf(v)}
	})
}

func captureOf(c store.Capture) *ecoutev1.ScreenCapture {
	return &ecoutev1.ScreenCapture{CaptureId: c.ID, Offset: durationpb.New(c.Offset), Format: c.Format,
		Width: int32(c.Width), Height: int32(c.Height), SizeBytes: c.Size}
}

// ListScreenCaptures lists a call's captures inside a session.
func (s *Coaching) ListScreenCaptures(ctx context.Context, req *ecoutev1.ListScreenCapturesRequest) (*ecoutev1.ListScreenCapturesResponse, error) {
	return serve(ctx, nil, func(c core.Caller) ([]store.Capture, error) {
		return s.Core.ListCaptures(ctx, c, req.GetSessionId(), req.GetCallId())
	}, func(cs []store.Capture) *ecoutev1.ListScreenCapturesResponse {
		return &ecoutev1.ListScreenCapturesResponse{Captures: each(cs, captureOf)}
	})
}

// GetScreenCapture sends one capture's image.
func (s *Coaching) GetScreenCapture(ctx context.Context, req *ecoutev1.GetScreenCaptureRequest) (*ecoutev1.GetScreenCaptureResponse, error) {
	c, err := caller(ctx, nil)
	if err != nil {
		return nil, err
	}
	cp, img, err := s.Core.Capture(ctx, c, req.GetSessionId(), req.GetCallId(), req.GetCaptureId())
	if err != nil {
		return nil, err
	}
	return &ecoutev1.GetScreenCaptureResponse{Capture: captureOf(cp), Image: img}, nil
}

// UploadScreenCaptures receives the header, then the captures, and hands
// them to core.
func (s *Ingest) UploadScreenCaptures(stream grpc.ClientStreamingServer[ecoutev1.UploadScreenCapturesRequest, ecoutev1.UploadScreenCapturesResponse]) error {
	ctx := stream.Context()
	c, err := caller(ctx, nil)
	if err != nil {
		return err
	}
	var h *core.CaptureHeader
	first, err := stream.Recv()
	switch {
	case errors.Is(err, io.EOF):
	case err != nil:
		return err
	case first.GetHeader() != nil:
		hd := first.GetHeader()
		h = &core.CaptureHeader{ExternalID: hd.GetExternalId()}
		if con := hd.GetConsent(); con != nil {
			h.Consent = &core.Consent{RequestedAt: timeOf(con.GetRequestedAt()), AnsweredAt: timeOf(con.GetAnsweredAt()),
				Accepted: con.GetAccepted()}
		}
	}
	res, err := s.Core.UploadCaptures(ctx, c, h, func() (*core.CaptureUpload, error) {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		if err != nil {
			return nil, rpcerr.FromStatus(err)
		}
		if msg.GetHeader() != nil {
			return nil, domain.Invalid("header", "sent twice; send it once, then the captures")
		}
		cp := msg.GetCapture()
		if cp == nil {
			return nil, domain.Invalid("capture", "a message after the header carries a capture")
		}
		return &core.CaptureUpload{Offset: cp.GetOffset().AsDuration(), Image: cp.GetImage()}, nil
	})
	if err != nil {
		return err
	}
	return stream.SendAndClose(&ecoutev1.UploadScreenCapturesResponse{CallId: res.CallID, Stored: int32(res.Stored),
		Duplicates: int32(res.Duplicates)})
}
