package client

import (
	"context"
	"io"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
)

// The gateway: what the console asks of the server, one interface per
// capability. *Client implements all of them over gRPC; tests implement
// them with fakes (embedding Unimplemented for the parts they leave out).
// Every method returns the api's messages as plain values and the typed
// errors of errors.go; none exposes gRPC.

// Session is logging in and out, and the account's own password.
type Session interface {
	// Login opens a session; the gateway keeps its token for every later
	// request. A refusal is *ErrBadCredentials or *ErrForbidden (locked).
	Login(ctx context.Context, login, password string) (*ecoutev1.LoginResponse, error)
	// Logout ends the session and forgets the token, even if the server
	// could not be told.
	Logout(ctx context.Context) error
	// ChangePassword replaces the password; the server ends every other
	// session and answers with a new token, which the gateway keeps. A
	// refused password is *ErrInvalid naming new_password or old_password.
	ChangePassword(ctx context.Context, oldPassword, newPassword string) (*ecoutev1.ChangePasswordResponse, error)
}

// CallQuery is one page of the call list.
type CallQuery struct {
	Filter    *ecoutev1.CallFilter
	OrderBy   string // "started_at desc", "duration", "agent_name"; "" is newest first
	PageSize  int
	PageToken string
}

// Calls is the sampled calls the role may read.
type Calls interface {
	ListCalls(ctx context.Context, q CallQuery) (*ecoutev1.ListCallsResponse, error)
	GetCall(ctx context.Context, callID string) (*ecoutev1.Call, error)
	// GetWaveform returns the peaks and frame index playback needs.
	GetWaveform(ctx context.Context, callID string) (*ecoutev1.GetWaveformResponse, error)
}

// ByteSource opens a recording's bytes from an offset. It has the method
// set of the player's Source, so the console hands it to the player
// without this package knowing the player.
type ByteSource interface {
	Open(ctx context.Context, offset int64) (io.ReadCloser, error)
}

// Audio is a call's recording, by byte range.
type Audio interface {
	// AudioSize is the stored size of a call's audio, for the roles that
	// may listen but not see the technical metadata.
	AudioSize(ctx context.Context, callID string) (int64, error)
	// AudioSource reads the call's audio with a chunk cache and
	// read-ahead; size is the stored size.
	AudioSource(callID string, size int64) ByteSource
	// PlaybackInfo completes GetWaveform's answer into what a player needs
	// (the rest of a long call's frame index comes page by page).
	PlaybackInfo(callID string, wf *ecoutev1.GetWaveformResponse, size int64) Playback
}

// EvaluationView is an evaluation with the grid it is scored on.
type EvaluationView struct {
	Evaluation *ecoutev1.Evaluation
	Grid       *ecoutev1.Grid
}

// EvaluationQuery narrows the list of evaluations.
type EvaluationQuery struct {
	CallID   string
	Statuses []ecoutev1.EvaluationStatus
	PageSize int
}

// EvaluationEdit is a draft's answers and comment, saved over Version.
type EvaluationEdit struct {
	EvaluationID string
	Version      int64
	Answers      []*ecoutev1.Answer
	Comment      string
}

// Resolution settles a disputed evaluation: kept as it is, or revised with
// new answers. Reason is required.
type Resolution struct {
	EvaluationID string
	Revised      bool
	Reason       string
	Answers      []*ecoutev1.Answer // when Revised
	Comment      string             // when Revised
}

// Evaluations is scoring calls on grids, and the agent's answer to a
// score. Writes carry a request id, so a write whose reply was lost is
// asked again and applied once.
type Evaluations interface {
	// StartEvaluation opens the caller's draft on a call (an existing
	// draft is returned as it is).
	StartEvaluation(ctx context.Context, callID string) (EvaluationView, error)
	GetEvaluation(ctx context.Context, evaluationID string) (EvaluationView, error)
	ListEvaluations(ctx context.Context, q EvaluationQuery) ([]*ecoutev1.Evaluation, error)
	// SaveEvaluation saves a draft; a draft saved elsewhere meanwhile is
	// *ErrStale with the current version.
	SaveEvaluation(ctx context.Context, e EvaluationEdit) (*ecoutev1.Evaluation, error)
	// SubmitEvaluation submits the draft at version; a comment the
	// lexicon flags needs overrideReason.
	SubmitEvaluation(ctx context.Context, evaluationID string, version int64, overrideReason string) (*ecoutev1.Evaluation, error)
	AcknowledgeEvaluation(ctx context.Context, evaluationID, comment string) (*ecoutev1.Evaluation, error)
	DisputeEvaluation(ctx context.Context, evaluationID, comment string) (*ecoutev1.Evaluation, error)
	ResolveDispute(ctx context.Context, r Resolution) (*ecoutev1.Evaluation, error)
}

// AuditQuery is one page of the audit trail, newest first.
type AuditQuery struct {
	PageSize  int
	PageToken string
}

// Audit is the audit trail, for the roles that may read it.
type Audit interface {
	ListAuditEvents(ctx context.Context, q AuditQuery) (*ecoutev1.ListAuditEventsResponse, error)
	VerifyAuditChain(ctx context.Context) (*ecoutev1.VerifyAuditChainResponse, error)
}

// Accounts is the nominative list of accounts (R8, R9).
type Accounts interface {
	ListAccounts(ctx context.Context) ([]*ecoutev1.Account, error)
}

// Periods is when the caller may be recorded (R6).
type Periods interface {
	MyRecordingPeriods(ctx context.Context) (*ecoutev1.MyRecordingPeriodsResponse, error)
}

// Connection tells how the connection to the server is.
type Connection interface {
	// ConnEvents carries the connection's state when it changes (the
	// newest state only, never a backlog).
	ConnEvents() <-chan ConnEvent
}

// Gateway is everything the console asks of the server.
type Gateway interface {
	Session
	Calls
	Audio
	Evaluations
	Audit
	Accounts
	Periods
	PrivacyRequests
	Coaching
	Calibrations
	CalibrationAudio
	Stats
	Connection
	Pairing
}

var _ Gateway = (*Client)(nil)
