// Package rpcerr is the one place where errors become gRPC statuses. Every
// error an ecoute service returns goes through Status: a typed refusal
// (domain.Error) keeps its English message and gains its gRPC code, a
// google.rpc.ErrorInfo (domain "ecoute.v1", the stable reason, the
// metadata) and, for bad input, a google.rpc.BadRequest naming the fields;
// anything else becomes INTERNAL without its cause, which is logged. The
// interceptors apply it to every handler's result, so handlers return plain
// errors and never build a status by hand.
package rpcerr

import (
	"context"
	"errors"
	"log/slog"

	"github.com/ecoute/ecoute/backend/domain"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"
)

// Domain is the ErrorInfo domain of every ecoute error.
const Domain = "ecoute.v1"

// codeOf is the gRPC code of each reason (api/ecoute/v1/errors.proto says
// the same in words; a test keeps them together).
var codeOf = map[domain.Reason]codes.Code{
	domain.ReasonInternal:           codes.Internal,
	domain.ReasonInvalidArgument:    codes.InvalidArgument,
	domain.ReasonNotFound:           codes.NotFound,
	domain.ReasonAlreadyExists:      codes.AlreadyExists,
	domain.ReasonPermissionDenied:   codes.PermissionDenied,
	domain.ReasonFailedPrecondition: codes.FailedPrecondition,
	domain.ReasonAborted:            codes.Aborted,
	domain.ReasonOutOfRange:         codes.OutOfRange,
	domain.ReasonResourceExhausted:  codes.ResourceExhausted,
	domain.ReasonCancelled:          codes.Canceled,
	domain.ReasonDeadlineExceeded:   codes.DeadlineExceeded,
	domain.ReasonUnimplemented:      codes.Unimplemented,
	domain.ReasonUnavailable:        codes.Unavailable,

	domain.ReasonUnauthenticated:        codes.Unauthenticated,
	domain.ReasonSessionExpired:         codes.Unauthenticated,
	domain.ReasonBadCredentials:         codes.Unauthenticated,
	domain.ReasonAccountLocked:          codes.PermissionDenied,
	domain.ReasonAccountDisabled:        codes.PermissionDenied,
	domain.ReasonPasswordChangeRequired: codes.FailedPrecondition,
	domain.ReasonPasswordRefused:        codes.InvalidArgument,
	domain.ReasonOldPasswordWrong:       codes.InvalidArgument,
	domain.ReasonSelfDisable:            codes.FailedPrecondition,

	domain.ReasonRoleForbidden:     codes.PermissionDenied,
	domain.ReasonFieldForbidden:    codes.PermissionDenied,
	domain.ReasonNotEvaluatedAgent: codes.PermissionDenied,

	domain.ReasonStaleVersion:           codes.Aborted,
	domain.ReasonAlreadySubmitted:       codes.FailedPrecondition,
	domain.ReasonWrongStatus:            codes.FailedPrecondition,
	domain.ReasonEvaluationIncomplete:   codes.FailedPrecondition,
	domain.ReasonCommentRequired:        codes.FailedPrecondition,
	domain.ReasonOverrideReasonRequired: codes.FailedPrecondition,
	domain.ReasonFlaggedTerms:           codes.FailedPrecondition,
	domain.ReasonRespondWindowClosed:    codes.FailedPrecondition,
	domain.ReasonNoGrid:                 codes.FailedPrecondition,

	domain.ReasonOptedOut:               codes.FailedPrecondition,
	domain.ReasonOutsideRecordingPeriod: codes.FailedPrecondition,
	domain.ReasonAudioFormatRefused:     codes.InvalidArgument,
	domain.ReasonAudioTooLarge:          codes.ResourceExhausted,
	domain.ReasonSampledOut:             codes.AlreadyExists,

	domain.ReasonAuditUnavailable: codes.Internal,
	domain.ReasonRequestIDReused:  codes.InvalidArgument,

	domain.ReasonDirectoryEnded:       codes.FailedPrecondition,
	domain.ReasonDirectoryInUse:       codes.FailedPrecondition,
	domain.ReasonNotEvaluator:         codes.PermissionDenied,
	domain.ReasonSelfApproval:         codes.PermissionDenied,
	domain.ReasonGrantPending:         codes.PermissionDenied,
	domain.ReasonGrantClosed:          codes.FailedPrecondition,
	domain.ReasonTooManyAttempts:      codes.ResourceExhausted,
	domain.ReasonPrivacyRequestClosed: codes.FailedPrecondition,

	domain.ReasonCapturesTrainingOnly:    codes.PermissionDenied,
	domain.ReasonCalibrationBlind:        codes.PermissionDenied,
	domain.ReasonNotCalibrationEvaluator: codes.PermissionDenied,
	domain.ReasonOutsideScope:            codes.PermissionDenied,
	domain.ReasonNoCompany:               codes.FailedPrecondition,
	domain.ReasonMonthNotClosed:          codes.FailedPrecondition,

	domain.ReasonPairingCodeInvalid: codes.NotFound,
	domain.ReasonPairingEnded:       codes.FailedPrecondition,
}

// generic is the reason of a status that was made without one (by gRPC
// itself, or a context that ended).
var generic = map[codes.Code]domain.Reason{
	codes.Canceled:           domain.ReasonCancelled,
	codes.Unknown:            domain.ReasonInternal,
	codes.InvalidArgument:    domain.ReasonInvalidArgument,
	codes.DeadlineExceeded:   domain.ReasonDeadlineExceeded,
	codes.NotFound:           domain.ReasonNotFound,
	codes.AlreadyExists:      domain.ReasonAlreadyExists,
	codes.PermissionDenied:   domain.ReasonPermissionDenied,
	codes.ResourceExhausted:  domain.ReasonResourceExhausted,
	codes.FailedPrecondition: domain.ReasonFailedPrecondition,
	codes.Aborted:            domain.ReasonAborted,
	codes.OutOfRange:         domain.ReasonOutOfRange,
	codes.Unimplemented:      domain.ReasonUnimplemented,
	codes.Internal:           domain.ReasonInternal,
	codes.Unavailable:        domain.ReasonUnavailable,
	codes.DataLoss:           domain.ReasonInternal,
	codes.Unauthenticated:    domain.ReasonUnauthenticated,
}

// Code is the gRPC code of a reason (INTERNAL for an unknown one).
func Code(r domain.Reason) codes.Code {
	if c, ok := codeOf[r]; ok {
		return c
	}
	return codes.Internal
}

// Status is the status a client receives for err (nil for nil).
func Status(err error) *status.Status {
	if err == nil {
		return nil
	}
	if e, ok := domain.As(err); ok {
		return build(Code(e.Reason), e.Message, e.Reason, e.Meta, e.Fields)
	}
	switch {
	case errors.Is(err, context.Canceled):
		return build(codes.Canceled, "the call was cancelled", domain.ReasonCancelled, nil, nil)
	case errors.Is(err, context.DeadlineExceeded):
		return build(codes.DeadlineExceeded, "the deadline passed", domain.ReasonDeadlineExceeded, nil, nil)
	}
	st, ok := status.FromError(err)
	if !ok {
		return build(codes.Internal, "internal error", domain.ReasonInternal, nil, nil)
	}
	if _, has := Info(st); has {
		return st
	}
	r := generic[st.Code()]
	msg := st.Message()
	if r == domain.ReasonInternal {
		msg = "internal error"
	}
	return build(st.Code(), msg, r, nil, nil)
}

// Error is Status(err) as an error (nil for nil).
func Error(err error) error {
	if err == nil {
		return nil
	}
	return Status(err).Err()
}

func build(c codes.Code, msg string, r domain.Reason, meta map[string]string, fields []domain.FieldViolation) *status.Status {
	st := status.New(c, msg)
	details := []protoadapt.MessageV1{&errdetails.ErrorInfo{Reason: string(r), Domain: Domain, Metadata: meta}}
	if c == codes.InvalidArgument {
		br := &errdetails.BadRequest{}
		for _, f := range fields {
			br.FieldViolations = append(br.FieldViolations,
				&errdetails.BadRequest_FieldViolation{Field: f.Field, Description: f.Description})
		}
		if len(br.FieldViolations) == 0 {
			br.FieldViolations = []*errdetails.BadRequest_FieldViolation{{Description: msg}}
		}
		details = append(details, br)
	}
	withDetails, err := st.WithDetails(details...)
	if err != nil {
		return st // cannot happen: both details marshal
	}
	return withDetails
}

// Info returns the ecoute ErrorInfo of a status, if it has one.
func Info(st *status.Status) (*errdetails.ErrorInfo, bool) {
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.GetDomain() == Domain {
			return info, true
		}
	}
	return nil, false
}

// FromStatus turns a status back into a typed error, for clients of the
// gRPC API written in Go (and tests): reason, message, metadata and field
// violations come back as they were sent.
func FromStatus(err error) *domain.Error {
	st := status.Convert(err)
	e := &domain.Error{Reason: generic[st.Code()], Message: st.Message()}
	if info, ok := Info(st); ok {
		e.Reason, e.Meta = domain.Reason(info.GetReason()), info.GetMetadata()
	}
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				e.Fields = append(e.Fields, domain.FieldViolation{Field: v.GetField(), Description: v.GetDescription()})
			}
		}
	}
	return e
}

// Interceptor converts every handler error with Status and logs the causes
// of internal failures. It goes last in the chain, right before the
// handler, so the interceptors before it (audit) see the final codes.
type Interceptor struct {
	Log *slog.Logger // nil: discard
}

func (i *Interceptor) convert(method string, err error) error {
	if err == nil {
		return nil
	}
	st := Status(err)
	if st.Code() == codes.Internal || st.Code() == codes.Unknown {
		if i.Log != nil {
			i.Log.Error(st.Message(), "method", method, "err", err)
		}
	}
	return st.Err()
}

// Unary is the unary interceptor.
func (i *Interceptor) Unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	resp, err := h(ctx, req)
	if err != nil {
		return nil, i.convert(info.FullMethod, err)
	}
	return resp, nil
}

// Stream is the stream interceptor.
func (i *Interceptor) Stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	return i.convert(info.FullMethod, h(srv, ss))
}
