package client

import (
	"context"
	"io"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
)

// Unimplemented answers every gateway method with ErrUnsupported. Test
// doubles embed it and implement only what they exercise, as gRPC servers
// embed their Unimplemented…Server.
type Unimplemented struct{}

var _ Gateway = Unimplemented{}

func unsupported(op string) error { return &opError{op: op, err: ErrUnsupported} }

// Login implements Session.
func (Unimplemented) Login(context.Context, string, string) (*ecoutev1.LoginResponse, error) {
	return nil, unsupported(opLogin)
}

// Logout implements Session.
func (Unimplemented) Logout(context.Context) error { return nil }

// ChangePassword implements Session.
func (Unimplemented) ChangePassword(context.Context, string, string) (*ecoutev1.ChangePasswordResponse, error) {
	return nil, unsupported("change password")
}

// ListCalls implements Calls.
func (Unimplemented) ListCalls(context.Context, CallQuery) (*ecoutev1.ListCallsResponse, error) {
	return nil, unsupported("list calls")
}

// GetCall implements Calls.
func (Unimplemented) GetCall(context.Context, string) (*ecoutev1.Call, error) {
	return nil, unsupported("get call")
}

// GetWaveform implements Calls.
func (Unimplemented) GetWaveform(context.Context, string) (*ecoutev1.GetWaveformResponse, error) {
	return nil, unsupported("get waveform")
}

// AudioSize implements Audio.
func (Unimplemented) AudioSize(context.Context, string) (int64, error) {
	return 0, unsupported("audio size")
}

// AudioSource implements Audio.
func (Unimplemented) AudioSource(string, int64) ByteSource { return nil }

// PlaybackInfo implements Audio: the format GetWaveform gave, its index whole.
func (Unimplemented) PlaybackInfo(_ string, wf *ecoutev1.GetWaveformResponse, size int64) Playback {
	return Playback{Size: size, SampleRate: int(wf.GetSampleRate()), SamplesPerFrame: int(wf.GetSamplesPerFrame()),
		Channels: int(wf.GetChannels()), FrameOffsets: wf.GetFrameOffsets()}
}

// StartEvaluation implements Evaluations.
func (Unimplemented) StartEvaluation(context.Context, string) (EvaluationView, error) {
	return EvaluationView{}, unsupported("start evaluation")
}

// GetEvaluation implements Evaluations.
func (Unimplemented) GetEvaluation(context.Context, string) (EvaluationView, error) {
	return EvaluationView{}, unsupported("get evaluation")
}

// ListEvaluations implements Evaluations.
func (Unimplemented) ListEvaluations(context.Context, EvaluationQuery) ([]*ecoutev1.Evaluation, error) {
	return nil, unsupported("list evaluations")
}

// SaveEvaluation implements Evaluations.
func (Unimplemented) SaveEvaluation(context.Context, EvaluationEdit) (*ecoutev1.Evaluation, error) {
	return nil, unsupported("save evaluation")
}

// SubmitEvaluation implements Evaluations.
func (Unimplemented) SubmitEvaluation(context.Context, string, int64, string) (*ecoutev1.Evaluation, error) {
	return nil, unsupported("submit evaluation")
}

// AcknowledgeEvaluation implements Evaluations.
func (Unimplemented) AcknowledgeEvaluation(context.Context, string, string) (*ecoutev1.Evaluation, error) {
	return nil, unsupported("acknowledge evaluation")
}

// DisputeEvaluation implements Evaluations.
func (Unimplemented) DisputeEvaluation(context.Context, string, string) (*ecoutev1.Evaluation, error) {
	return nil, unsupported("dispute evaluation")
}

// ResolveDispute implements Evaluations.
func (Unimplemented) ResolveDispute(context.Context, Resolution) (*ecoutev1.Evaluation, error) {
	return nil, unsupported("resolve dispute")
}

// ListAuditEvents implements Audit.
func (Unimplemented) ListAuditEvents(context.Context, AuditQuery) (*ecoutev1.ListAuditEventsResponse, error) {
	return nil, unsupported("list audit events")
}

// VerifyAuditChain implements Audit.
func (Unimplemented) VerifyAuditChain(context.Context) (*ecoutev1.VerifyAuditChainResponse, error) {
	return nil, unsupported("verify audit chain")
}

// ListAccounts implements Accounts.
func (Unimplemented) ListAccounts(context.Context) ([]*ecoutev1.Account, error) {
	return nil, unsupported("list accounts")
}

// MyRecordingPeriods implements Periods.
func (Unimplemented) MyRecordingPeriods(context.Context) (*ecoutev1.MyRecordingPeriodsResponse, error) {
	return nil, unsupported("recording periods")
}

// ConnEvents implements Connection: a channel on which nothing comes.
func (Unimplemented) ConnEvents() <-chan ConnEvent { return nil }

// CreatePairing implements Pairing.
func (Unimplemented) CreatePairing(context.Context) (*ecoutev1.CreatePairingResponse, error) {
	return nil, unsupported("create pairing")
}

// PublishPlayback implements Pairing.
func (Unimplemented) PublishPlayback(context.Context, string, *ecoutev1.PlaybackState) (int, error) {
	return 0, unsupported("publish playback")
}

// FollowPlayback implements Pairing.
func (Unimplemented) FollowPlayback(context.Context, string, string) (PlaybackStream, error) {
	return nil, unsupported("follow playback")
}

// ListCoachingSessions implements Coaching.
func (Unimplemented) ListCoachingSessions(context.Context) ([]*ecoutev1.CoachingSession, error) {
	return nil, unsupported("list coaching sessions")
}

// GetCoachingSession implements Coaching.
func (Unimplemented) GetCoachingSession(context.Context, string) (*ecoutev1.CoachingSession, error) {
	return nil, unsupported("get coaching session")
}

// CreateCoachingSession implements Coaching.
func (Unimplemented) CreateCoachingSession(context.Context, string, string) (*ecoutev1.CoachingSession, error) {
	return nil, unsupported("create coaching session")
}

// AddCoachingGoal implements Coaching.
func (Unimplemented) AddCoachingGoal(context.Context, CoachingGoal) (*ecoutev1.CoachingSession, error) {
	return nil, unsupported("add coaching goal")
}

// AddClip implements Coaching.
func (Unimplemented) AddClip(context.Context, CoachingClip) (*ecoutev1.CoachingSession, error) {
	return nil, unsupported("add clip")
}

// ShareCoachingSession implements Coaching.
func (Unimplemented) ShareCoachingSession(context.Context, string) (*ecoutev1.CoachingSession, error) {
	return nil, unsupported("share coaching session")
}

// AcknowledgeCoachingSession implements Coaching.
func (Unimplemented) AcknowledgeCoachingSession(context.Context, string, string) (*ecoutev1.CoachingSession, error) {
	return nil, unsupported("acknowledge coaching session")
}

// DisputeCoachingSession implements Coaching.
func (Unimplemented) DisputeCoachingSession(context.Context, string, string) (*ecoutev1.CoachingSession, error) {
	return nil, unsupported("dispute coaching session")
}

// ListScreenCaptures implements Coaching.
func (Unimplemented) ListScreenCaptures(context.Context, string, string) ([]*ecoutev1.ScreenCapture, error) {
	return nil, unsupported("list screen captures")
}

// GetScreenCapture implements Coaching.
func (Unimplemented) GetScreenCapture(context.Context, string, string, string) (*ecoutev1.GetScreenCaptureResponse, error) {
	return nil, unsupported("get screen capture")
}

// ListCalibrations implements Calibrations.
func (Unimplemented) ListCalibrations(context.Context) ([]*ecoutev1.Calibration, error) {
	return nil, unsupported("list calibrations")
}

// GetCalibration implements Calibrations.
func (Unimplemented) GetCalibration(context.Context, string) (*ecoutev1.GetCalibrationResponse, error) {
	return nil, unsupported("get calibration")
}

// SaveCalibrationScore implements Calibrations.
func (Unimplemented) SaveCalibrationScore(context.Context, CalibrationScoreEdit) (*ecoutev1.Calibration, error) {
	return nil, unsupported("save calibration score")
}

// SubmitCalibrationScore implements Calibrations.
func (Unimplemented) SubmitCalibrationScore(context.Context, string, int64, string) (*ecoutev1.Calibration, error) {
	return nil, unsupported("submit calibration score")
}

// GetAgreementReport implements Calibrations.
func (Unimplemented) GetAgreementReport(context.Context, string, string) (*ecoutev1.AgreementReport, error) {
	return nil, unsupported("agreement report")
}

// CalibrationWaveform implements CalibrationAudio.
func (Unimplemented) CalibrationWaveform(context.Context, string) (*ecoutev1.GetWaveformResponse, error) {
	return nil, unsupported("get waveform of calibration")
}

// CalibrationAudioSize implements CalibrationAudio.
func (Unimplemented) CalibrationAudioSize(context.Context, string) (int64, error) {
	return 0, unsupported("audio size of calibration")
}

// CalibrationAudioSource implements CalibrationAudio.
func (Unimplemented) CalibrationAudioSource(string, int64) ByteSource { return nil }

// CalibrationPlaybackInfo implements CalibrationAudio: the format the
// waveform gave, its index whole.
func (u Unimplemented) CalibrationPlaybackInfo(id string, wf *ecoutev1.GetWaveformResponse, size int64) Playback {
	return u.PlaybackInfo(id, wf, size)
}

// QualityStats implements Stats.
func (Unimplemented) QualityStats(context.Context, *ecoutev1.StatsFilter) (*ecoutev1.QualityStatsResponse, error) {
	return nil, unsupported("quality statistics")
}

// AgentActivity implements Stats.
func (Unimplemented) AgentActivity(context.Context, *ecoutev1.StatsFilter) (*ecoutev1.AgentActivityResponse, error) {
	return nil, unsupported("activity statistics")
}

// ClientTables implements Stats.
func (Unimplemented) ClientTables(context.Context, *ecoutev1.ClientTablesRequest) (*ecoutev1.ClientTablesResponse, error) {
	return nil, unsupported("client tables")
}

// StatsEvaluations implements Stats.
func (Unimplemented) StatsEvaluations(context.Context, Drill) ([]*ecoutev1.Evaluation, error) {
	return nil, unsupported("evaluations behind a figure")
}

// ExportStats implements Stats.
func (Unimplemented) ExportStats(context.Context, *ecoutev1.ExportStatsRequest, io.Writer, func(ExportProgress)) (ExportProgress, error) {
	return ExportProgress{}, unsupported("export statistics")
}
