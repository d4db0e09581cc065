package domain

import (
	"errors"
	"fmt"
	"maps"
	"strings"
)

// Reason is the stable, machine-readable cause of a refusal. Its values are
// the names of the ecoute.v1.ErrorReason enum without the "ERROR_REASON_"
// prefix (api/ecoute/v1/errors.proto, where each is documented with its
// gRPC code and metadata); backend/rpcerr checks that both lists agree.
type Reason string

// Reasons. Metadata keys are the Meta* constants.
const (
	// Generic reasons, one per kind of failure that has no more precise one.
	ReasonInternal           Reason = "INTERNAL"
	ReasonInvalidArgument    Reason = "INVALID_ARGUMENT"
	ReasonNotFound           Reason = "NOT_FOUND"
	ReasonAlreadyExists      Reason = "ALREADY_EXISTS"
	ReasonPermissionDenied   Reason = "PERMISSION_DENIED"
	ReasonFailedPrecondition Reason = "FAILED_PRECONDITION"
	ReasonAborted            Reason = "ABORTED"
	ReasonOutOfRange         Reason = "OUT_OF_RANGE"
	ReasonResourceExhausted  Reason = "RESOURCE_EXHAUSTED"
	ReasonCancelled          Reason = "CANCELLED"
	ReasonDeadlineExceeded   Reason = "DEADLINE_EXCEEDED"
	ReasonUnimplemented      Reason = "UNIMPLEMENTED"
	ReasonUnavailable        Reason = "UNAVAILABLE"

	// Sessions and accounts.
	ReasonUnauthenticated        Reason = "UNAUTHENTICATED"
	ReasonSessionExpired         Reason = "SESSION_EXPIRED"
	ReasonBadCredentials         Reason = "BAD_CREDENTIALS"
	ReasonAccountLocked          Reason = "ACCOUNT_LOCKED"
	ReasonAccountDisabled        Reason = "ACCOUNT_DISABLED"
	ReasonPasswordChangeRequired Reason = "PASSWORD_CHANGE_REQUIRED"
	ReasonPasswordRefused        Reason = "PASSWORD_REFUSED"
	ReasonOldPasswordWrong       Reason = "OLD_PASSWORD_WRONG"
	ReasonSelfDisable            Reason = "SELF_DISABLE"

	// Access.
	ReasonRoleForbidden     Reason = "ROLE_FORBIDDEN"
	ReasonFieldForbidden    Reason = "FIELD_FORBIDDEN"
	ReasonNotEvaluatedAgent Reason = "NOT_EVALUATED_AGENT"

	// Evaluations.
	ReasonStaleVersion           Reason = "STALE_VERSION"
	ReasonAlreadySubmitted       Reason = "ALREADY_SUBMITTED"
	ReasonWrongStatus            Reason = "WRONG_STATUS"
	ReasonEvaluationIncomplete   Reason = "EVALUATION_INCOMPLETE"
	ReasonCommentRequired        Reason = "COMMENT_REQUIRED"
	ReasonOverrideReasonRequired Reason = "OVERRIDE_REASON_REQUIRED"
	ReasonFlaggedTerms           Reason = "FLAGGED_TERMS"
	ReasonRespondWindowClosed    Reason = "RESPOND_WINDOW_CLOSED"
	ReasonNoGrid                 Reason = "NO_GRID"

	// Recordings.
	ReasonOptedOut               Reason = "OPTED_OUT"
	ReasonOutsideRecordingPeriod Reason = "OUTSIDE_RECORDING_PERIOD"
	ReasonAudioFormatRefused     Reason = "AUDIO_FORMAT_REFUSED"
	ReasonAudioTooLarge          Reason = "AUDIO_TOO_LARGE"
	ReasonSampledOut             Reason = "SAMPLED_OUT"

	// Plumbing.
	ReasonAuditUnavailable Reason = "AUDIT_UNAVAILABLE"
	ReasonRequestIDReused  Reason = "REQUEST_ID_REUSED"

	// The directory (teams, agents, campaigns).
	ReasonDirectoryEnded Reason = "DIRECTORY_ENDED"
	ReasonDirectoryInUse Reason = "DIRECTORY_IN_USE"
	// Trust: separation of duties, throttling, the dpo's register.
	ReasonNotEvaluator         Reason = "NOT_EVALUATOR"
	ReasonSelfApproval         Reason = "SELF_APPROVAL"
	ReasonGrantPending         Reason = "GRANT_PENDING"
	ReasonGrantClosed          Reason = "GRANT_CLOSED"
	ReasonTooManyAttempts      Reason = "TOO_MANY_ATTEMPTS"
	ReasonPrivacyRequestClosed Reason = "PRIVACY_REQUEST_CLOSED"

	// Training: screen captures, blind calibration.
	ReasonCapturesTrainingOnly    Reason = "CAPTURES_TRAINING_ONLY"
	ReasonCalibrationBlind        Reason = "CALIBRATION_BLIND"
	ReasonNotCalibrationEvaluator Reason = "NOT_CALIBRATION_EVALUATOR"
	// Statistics.
	ReasonOutsideScope   Reason = "OUTSIDE_SCOPE"
	ReasonNoCompany      Reason = "NO_COMPANY"
	ReasonMonthNotClosed Reason = "MONTH_NOT_CLOSED"

	// Pairing a companion with a console that runs elsewhere (SSH).
	ReasonPairingCodeInvalid Reason = "PAIRING_CODE_INVALID"
	ReasonPairingEnded       Reason = "PAIRING_ENDED"
)

// Reasons lists every reason, in the order of the proto enum.
var Reasons = []Reason{
	ReasonInternal, ReasonInvalidArgument, ReasonNotFound, ReasonAlreadyExists, ReasonPermissionDenied,
	ReasonFailedPrecondition, ReasonAborted, ReasonOutOfRange, ReasonResourceExhausted, ReasonCancelled,
	ReasonDeadlineExceeded, ReasonUnimplemented, ReasonUnavailable,
	ReasonUnauthenticated, ReasonSessionExpired, ReasonBadCredentials, ReasonAccountLocked, ReasonAccountDisabled,
	ReasonPasswordChangeRequired, ReasonPasswordRefused, ReasonOldPasswordWrong, ReasonSelfDisable,
	ReasonRoleForbidden, ReasonFieldForbidden, ReasonNotEvaluatedAgent,
	ReasonStaleVersion, ReasonAlreadySubmitted, ReasonWrongStatus, ReasonEvaluationIncomplete,
	ReasonCommentRequired, ReasonOverrideReasonRequired, ReasonFlaggedTerms, ReasonRespondWindowClosed, ReasonNoGrid,
	ReasonOptedOut, ReasonOutsideRecordingPeriod, ReasonAudioFormatRefused, ReasonAudioTooLarge, ReasonSampledOut,
	ReasonAuditUnavailable, ReasonRequestIDReused,
	ReasonDirectoryEnded, ReasonDirectoryInUse,
	ReasonNotEvaluator, ReasonSelfApproval, ReasonGrantPending, ReasonGrantClosed, ReasonTooManyAttempts,
	ReasonPrivacyRequestClosed,
	ReasonCapturesTrainingOnly, ReasonCalibrationBlind, ReasonNotCalibrationEvaluator,
	ReasonOutsideScope, ReasonNoCompany, ReasonMonthNotClosed,
	ReasonPairingCodeInvalid, ReasonPairingEnded,
}

// Metadata keys of Error.Meta, stable like the reasons.
const (
	MetaCurrentVersion = "current_version" // STALE_VERSION
	MetaRole           = "role"            // ROLE_FORBIDDEN, FIELD_FORBIDDEN
	MetaMethod         = "method"          // ROLE_FORBIDDEN from the gRPC guard
	MetaAction         = "action"          // ROLE_FORBIDDEN, ALREADY_SUBMITTED, WRONG_STATUS
	MetaStatus         = "status"          // ALREADY_SUBMITTED, WRONG_STATUS
	MetaField          = "field"           // FIELD_FORBIDDEN, ALREADY_EXISTS
	MetaLockedUntil    = "locked_until"    // ACCOUNT_LOCKED (RFC 3339, UTC)
	MetaAnswered       = "answered"        // EVALUATION_INCOMPLETE
	MetaCriteria       = "criteria"        // EVALUATION_INCOMPLETE (count), COMMENT_REQUIRED (ids)
	MetaCategories     = "categories"      // OVERRIDE_REASON_REQUIRED, FLAGGED_TERMS
	MetaRespondUntil   = "respond_until"   // RESPOND_WINDOW_CLOSED (RFC 3339, UTC)
	MetaDirection      = "direction"       // NO_GRID
	MetaTeamID         = "team_id"         // OUTSIDE_RECORDING_PERIOD
	MetaMaxBytes       = "max_bytes"       // AUDIO_TOO_LARGE
	MetaSize           = "size"            // OUT_OF_RANGE (audio size in bytes)
	MetaEndedAt        = "ended_at"        // DIRECTORY_ENDED (RFC 3339, UTC)
	MetaKind           = "kind"            // DIRECTORY_ENDED: team, agent or campaign
	MetaAgents         = "agents"          // DIRECTORY_IN_USE (count)
	MetaEvaluatorID    = "evaluator_id"    // NOT_EVALUATOR
	MetaGrantID        = "grant_id"        // GRANT_PENDING
	MetaRetryAfter     = "retry_after"     // TOO_MANY_ATTEMPTS (RFC 3339, UTC)
	MetaCalibrationID  = "calibration_id"  // CALIBRATION_BLIND
	MetaID             = "id"              // OUTSIDE_SCOPE (with MetaField)
	MetaClosesAt       = "closes_at"       // MONTH_NOT_CLOSED (RFC 3339, UTC)
)

// FieldViolation names a field of the request and what is wrong with it.
// Field is the path as in the request ("new_password",
// "metadata.agent_id", "answers[2].value").
type FieldViolation struct {
	Field       string
	Description string
}

// Error is a refusal or a failure with a stable reason, an English message
// for people, facts for programs (Meta) and, for bad input, the fields at
// fault. Err is the cause of an internal failure: logged, never shown.
type Error struct {
	Reason  Reason
	Message string
	Meta    map[string]string
	Fields  []FieldViolation
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil && e.Reason == ReasonInternal {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// With returns a copy of e with the metadata key set.
func (e *Error) With(key, value string) *Error {
	c := *e
	c.Meta = maps.Clone(e.Meta)
	if c.Meta == nil {
		c.Meta = map[string]string{}
	}
	c.Meta[key] = value
	return &c
}

// New builds a refusal.
func New(r Reason, format string, a ...any) *Error {
	return &Error{Reason: r, Message: fmt.Sprintf(format, a...)}
}

// Invalid is bad input in one field: the message reads "field: why".
func Invalid(field, format string, a ...any) *Error {
	return InvalidAs(ReasonInvalidArgument, field, format, a...)
}

// InvalidAs is Invalid with a more precise reason (PASSWORD_REFUSED…).
func InvalidAs(r Reason, field, format string, a ...any) *Error {
	why := fmt.Sprintf(format, a...)
	return &Error{Reason: r, Message: field + ": " + why, Fields: []FieldViolation{{Field: field, Description: why}}}
}

// Problems is bad input in several places at once.
func Problems(msg string, fields []FieldViolation) *Error {
	return &Error{Reason: ReasonInvalidArgument, Message: msg, Fields: fields}
}

// NotFound is a missing object (or one outside the caller's reach, which
// must not show it exists).
func NotFound(format string, a ...any) *Error { return New(ReasonNotFound, format, a...) }

// Internal is a failure of the server: the message says what failed, the
// cause is kept for the log.
func Internal(what string, err error) *Error {
	return &Error{Reason: ReasonInternal, Message: what + " failed", Err: err}
}

// Forbidden is a refusal by role: role may not do action.
func Forbidden(role, action, format string, a ...any) *Error {
	e := New(ReasonRoleForbidden, format, a...).With(MetaRole, role)
	if action != "" {
		e.Meta[MetaAction] = action
	}
	return e
}

// As returns the *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// ReasonOf is the reason of err: its *Error's, else INTERNAL (nil: "").
func ReasonOf(err error) Reason {
	if err == nil {
		return ""
	}
	if e, ok := As(err); ok {
		return e.Reason
	}
	return ReasonInternal
}

// Is tells whether err carries reason r.
func Is(err error, r Reason) bool { return err != nil && ReasonOf(err) == r }

// Describe is what an operator reads: the error's text (with its context),
// then the field problems that the text does not already say, one per line.
func Describe(err error) string {
	var b strings.Builder
	b.WriteString(err.Error())
	if e, ok := As(err); ok {
		for _, f := range e.Fields {
			line := f.Field + ": " + f.Description
			if !strings.Contains(err.Error(), line) {
				b.WriteString("\n  " + line)
			}
		}
	}
	return b.String()
}
