package client

import (
	"context"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
)

// Coaching is the trainers' coaching sessions and, inside one, the screen
// captures of the calls it includes (R11: nowhere else).
type Coaching interface {
	// ListCoachingSessions lists a trainer's own sessions, or an agent's
	// shared sessions about them, newest first.
	ListCoachingSessions(ctx context.Context) ([]*ecoutev1.CoachingSession, error)
	GetCoachingSession(ctx context.Context, sessionID string) (*ecoutev1.CoachingSession, error)
	// CreateCoachingSession opens a draft for an agent of the trainer's
	// teams.
	CreateCoachingSession(ctx context.Context, agentID, title string) (*ecoutev1.CoachingSession, error)
	// AddCoachingGoal sets a target on a criterion of a grid, due at due.
	AddCoachingGoal(ctx context.Context, g CoachingGoal) (*ecoutev1.CoachingSession, error)
	// AddClip attaches a time range of one of the agent's calls.
	AddClip(ctx context.Context, c CoachingClip) (*ecoutev1.CoachingSession, error)
	ShareCoachingSession(ctx context.Context, sessionID string) (*ecoutev1.CoachingSession, error)
	AcknowledgeCoachingSession(ctx context.Context, sessionID, comment string) (*ecoutev1.CoachingSession, error)
	DisputeCoachingSession(ctx context.Context, sessionID, comment string) (*ecoutev1.CoachingSession, error)
	// ListScreenCaptures lists a call's captures (without images) inside
	// a session, in order on the call's clock.
	ListScreenCaptures(ctx context.Context, sessionID, callID string) ([]*ecoutev1.ScreenCapture, error)
	// GetScreenCapture sends one capture's image.
	GetScreenCapture(ctx context.Context, sessionID, callID, captureID string) (*ecoutev1.GetScreenCaptureResponse, error)
}

// CoachingGoal is a goal to set on a session.
type CoachingGoal struct {
	SessionID   string
	GridID      string
	CriterionID string
	Target      float64
	DueAt       time.Time
}

// CoachingClip is a clip to attach to a session.
type CoachingClip struct {
	SessionID      string
	CallID         string
	From, To       time.Duration
	Note           string
	OverrideReason string
}

// CalibrationScoreEdit is the caller's draft score of a calibration.
type CalibrationScoreEdit struct {
	CalibrationID string
	Version       int64
	Answers       []*ecoutev1.Answer
	Comment       string
}

// Calibrations is blind calibration and its agreement report.
type Calibrations interface {
	ListCalibrations(ctx context.Context) ([]*ecoutev1.Calibration, error)
	// GetCalibration returns the calibration as the caller may see it, with
	// the grid it is scored on.
	GetCalibration(ctx context.Context, calibrationID string) (*ecoutev1.GetCalibrationResponse, error)
	SaveCalibrationScore(ctx context.Context, e CalibrationScoreEdit) (*ecoutev1.Calibration, error)
	SubmitCalibrationScore(ctx context.Context, calibrationID string, version int64, overrideReason string) (*ecoutev1.Calibration, error)
	// GetAgreementReport measures one calibration (calibrationID), or every
	// calibration on a grid (gridID).
	GetAgreementReport(ctx context.Context, calibrationID, gridID string) (*ecoutev1.AgreementReport, error)
}

func (c *Client) coaching() ecoutev1.CoachingServiceClient {
	return ecoutev1.NewCoachingServiceClient(c.conn)
}

func (c *Client) calibrations() ecoutev1.CalibrationServiceClient {
	return ecoutev1.NewCalibrationServiceClient(c.conn)
}

// ListCoachingSessions implements Coaching.
func (c *Client) ListCoachingSessions(ctx context.Context) ([]*ecoutev1.CoachingSession, error) {
	var resp *ecoutev1.ListCoachingSessionsResponse
	err := c.conns.do(ctx, "list coaching sessions", Again, func(ctx context.Context) (err error) {
		resp, err = c.coaching().ListCoachingSessions(ctx, &ecoutev1.ListCoachingSessionsRequest{})
		return err
	})
	return resp.GetSessions(), err
}

// GetCoachingSession implements Coaching.
func (c *Client) GetCoachingSession(ctx context.Context, sessionID string) (*ecoutev1.CoachingSession, error) {
	var resp *ecoutev1.GetCoachingSessionResponse
	err := c.conns.do(ctx, "get coaching session "+sessionID, Again, func(ctx context.Context) (err error) {
		resp, err = c.coaching().GetCoachingSession(ctx, &ecoutev1.GetCoachingSessionRequest{SessionId: sessionID})
		return err
	})
	return resp.GetSession(), err
}

// CreateCoachingSession implements Coaching.
func (c *Client) CreateCoachingSession(ctx context.Context, agentID, title string) (*ecoutev1.CoachingSession, error) {
	req := &ecoutev1.CreateCoachingSessionRequest{RequestId: newRequestID(), AgentId: agentID, Title: title}
	var resp *ecoutev1.CreateCoachingSessionResponse
	err := c.conns.do(ctx, "create coaching session", writeRetry, func(ctx context.Context) (err error) {
		resp, err = c.coaching().CreateCoachingSession(ctx, req)
		return err
	})
	return resp.GetSession(), err
}

// AddCoachingGoal implements Coaching.
func (c *Client) AddCoachingGoal(ctx context.Context, g CoachingGoal) (*ecoutev1.CoachingSession, error) {
	req := &ecoutev1.AddCoachingGoalRequest{RequestId: newRequestID(), SessionId: g.SessionID, GridId: g.GridID,
		CriterionId: g.CriterionID, Target: g.Target, DueAt: timestamppb.New(g.DueAt)}
	var resp *ecoutev1.AddCoachingGoalResponse
	err := c.conns.do(ctx, "add coaching goal", writeRetry, func(ctx context.Context) (err error) {
		resp, err = c.coaching().AddCoachingGoal(ctx, req)
		return err
	})
	return resp.GetSession(), err
}

// AddClip implements Coaching.
func (c *Client) AddClip(ctx context.Context, cl CoachingClip) (*ecoutev1.CoachingSession, error) {
	req := &ecoutev1.AddClipRequest{RequestId: newRequestID(), SessionId: cl.SessionID, CallId: cl.CallID,
		From: durationpb.New(cl.From), To: durationpb.New(cl.To), Note: cl.Note, OverrideReason: cl.OverrideReason}
	var resp *ecoutev1.AddClipResponse
	err := c.conns.do(ctx, "add clip", writeRetry, func(ctx context.Context) (err error) {
		resp, err = c.coaching().AddClip(ctx, req)
		return err
	})
	return resp.GetSession(), err
}

// ShareCoachingSession implements Coaching.
func (c *Client) ShareCoachingSession(ctx context.Context, sessionID string) (*ecoutev1.CoachingSession, error) {
	req := &ecoutev1.ShareCoachingSessionRequest{RequestId: newRequestID(), SessionId: sessionID}
	var resp *ecoutev1.ShareCoachingSessionResponse
	err := c.conns.do(ctx, "share coaching session", writeRetry, func(ctx context.Context) (err error) {
		resp, err = c.coaching().ShareCoachingSession(ctx, req)
		return err
	})
	return resp.GetSession(), err
}

// AcknowledgeCoachingSession implements Coaching.
func (c *Client) AcknowledgeCoachingSession(ctx context.Context, sessionID, comment string) (*ecoutev1.CoachingSession, error) {
	req := &ecoutev1.AcknowledgeCoachingSessionRequest{RequestId: newRequestID(), SessionId: sessionID, Comment: comment}
	var resp *ecoutev1.AcknowledgeCoachingSessionResponse
	err := c.conns.do(ctx, "acknowledge coaching session", writeRetry, func(ctx context.Context) (err error) {
		resp, err = c.coaching().AcknowledgeCoachingSession(ctx, req)
		return err
	})
	return resp.GetSession(), err
}

// DisputeCoachingSession implements Coaching.
func (c *Client) DisputeCoachingSession(ctx context.Context, sessionID, comment string) (*ecoutev1.CoachingSession, error) {
	req := &ecoutev1.DisputeCoachingSessionRequest{RequestId: newRequestID(), SessionId: sessionID, Comment: comment}
	var resp *ecoutev1.DisputeCoachingSessionResponse
	err := c.conns.do(ctx, "dispute coaching session", writeRetry, func(ctx context.Context) (err error) {
		resp, err = c.coaching().DisputeCoachingSession(ctx, req)
		return err
	})
	return resp.GetSession(), err
}

// ListScreenCaptures implements Coaching.
func (c *Client) ListScreenCaptures(ctx context.Context, sessionID, callID string) ([]*ecoutev1.ScreenCapture, error) {
	var resp *ecoutev1.ListScreenCapturesResponse
	err := c.conns.do(ctx, "list screen captures of call "+callID, Again, func(ctx context.Context) (err error) {
		resp, err = c.coaching().ListScreenCaptures(ctx, &ecoutev1.ListScreenCapturesRequest{SessionId: sessionID, CallId: callID})
		return err
	})
	return resp.GetCaptures(), err
}

// GetScreenCapture implements Coaching.
func (c *Client) GetScreenCapture(ctx context.Context, sessionID, callID, captureID string) (*ecoutev1.GetScreenCaptureResponse, error) {
	var resp *ecoutev1.GetScreenCaptureResponse
	err := c.conns.do(ctx, "get screen capture "+captureID, Again, func(ctx context.Context) (err error) {
		resp, err = c.coaching().GetScreenCapture(ctx, &ecoutev1.GetScreenCaptureRequest{SessionId: sessionID, CallId: callID, CaptureId: captureID})
		return err
	})
	return resp, err
}

// ListCalibrations implements Calibrations.
func (c *Client) ListCalibrations(ctx context.Context) ([]*ecoutev1.Calibration, error) {
	var resp *ecoutev1.ListCalibrationsResponse
	err := c.conns.do(ctx, "list calibrations", Again, func(ctx context.Context) (err error) {
		resp, err = c.calibrations().ListCalibrations(ctx, &ecoutev1.ListCalibrationsRequest{})
		return err
	})
	return resp.GetCalibrations(), err
}

// GetCalibration implements Calibrations.
func (c *Client) GetCalibration(ctx context.Context, calibrationID string) (*ecoutev1.GetCalibrationResponse, error) {
	var resp *ecoutev1.GetCalibrationResponse
	err := c.conns.do(ctx, "get calibration "+calibrationID, Again, func(ctx context.Context) (err error) {
		resp, err = c.calibrations().GetCalibration(ctx, &ecoutev1.GetCalibrationRequest{CalibrationId: calibrationID})
		return err
	})
	return resp, err
}

// SaveCalibrationScore implements Calibrations.
func (c *Client) SaveCalibrationScore(ctx context.Context, e CalibrationScoreEdit) (*ecoutev1.Calibration, error) {
	req := &ecoutev1.SaveCalibrationScoreRequest{RequestId: newRequestID(), CalibrationId: e.CalibrationID,
		ExpectedVersion: e.Version, Answers: e.Answers, Comment: e.Comment}
	var resp *ecoutev1.SaveCalibrationScoreResponse
	err := c.conns.do(ctx, "save calibration score", writeRetry, func(ctx context.Context) (err error) {
		resp, err = c.calibrations().SaveCalibrationScore(ctx, req)
		return err
	})
	return resp.GetCalibration(), err
}

// SubmitCalibrationScore implements Calibrations.
func (c *Client) SubmitCalibrationScore(ctx context.Context, calibrationID string, version int64, overrideReason string) (*ecoutev1.Calibration, error) {
	req := &ecoutev1.SubmitCalibrationScoreRequest{RequestId: newRequestID(), CalibrationId: calibrationID,
		ExpectedVersion: version, OverrideReason: overrideReason}
	var resp *ecoutev1.SubmitCalibrationScoreResponse
	err := c.conns.do(ctx, "submit calibration score", writeRetry, func(ctx context.Context) (err error) {
		resp, err = c.calibrations().SubmitCalibrationScore(ctx, req)
		return err
	})
	return resp.GetCalibration(), err
}

// GetAgreementReport implements Calibrations.
func (c *Client) GetAgreementReport(ctx context.Context, calibrationID, gridID string) (*ecoutev1.AgreementReport, error) {
	var resp *ecoutev1.GetAgreementReportResponse
	err := c.conns.do(ctx, "agreement report", Again, func(ctx context.Context) (err error) {
		resp, err = c.calibrations().GetAgreementReport(ctx, &ecoutev1.GetAgreementReportRequest{CalibrationId: calibrationID, GridId: gridID})
		return err
	})
	return resp.GetReport(), err
}

// CalibrationAudio is a blind calibration's call, heard by its
// calibration id: the call's own id is never sent to the evaluators.
type CalibrationAudio interface {
	CalibrationWaveform(ctx context.Context, calibrationID string) (*ecoutev1.GetWaveformResponse, error)
	CalibrationAudioSize(ctx context.Context, calibrationID string) (int64, error)
	CalibrationAudioSource(calibrationID string, size int64) ByteSource
	CalibrationPlaybackInfo(calibrationID string, wf *ecoutev1.GetWaveformResponse, size int64) Playback
}

// CalibrationWaveform implements CalibrationAudio.
func (c *Client) CalibrationWaveform(ctx context.Context, calibrationID string) (*ecoutev1.GetWaveformResponse, error) {
	buckets, frames := int32(DisplayBuckets), int32(indexPage)
	var resp *ecoutev1.GetWaveformResponse
	err := c.conns.do(ctx, "get waveform of calibration "+calibrationID, Again, func(ctx context.Context) (err error) {
		req := waveRequest("", calibrationID)
		req.Buckets, req.FrameCount = &buckets, &frames
		resp, err = c.calls.GetWaveform(ctx, req)
		return err
	})
	return resp, err
}

// CalibrationAudioSize implements CalibrationAudio.
func (c *Client) CalibrationAudioSize(ctx context.Context, calibrationID string) (int64, error) {
	return c.audioSize(ctx, calibrationID, calibrationID)
}

// CalibrationAudioSource implements CalibrationAudio.
func (c *Client) CalibrationAudioSource(calibrationID string, size int64) ByteSource {
	s := newAudioSource(c.calls, calibrationID, size)
	s.calibration = calibrationID
	return s
}

// CalibrationPlaybackInfo implements CalibrationAudio.
func (c *Client) CalibrationPlaybackInfo(calibrationID string, wf *ecoutev1.GetWaveformResponse, size int64) Playback {
	return c.playbackInfo(calibrationID, calibrationID, wf, size)
}

var (
	_ Coaching         = (*Client)(nil)
	_ Calibrations     = (*Client)(nil)
	_ CalibrationAudio = (*Client)(nil)
)
