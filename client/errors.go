package client

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The gateway's typed errors. Every error a gateway method returns is one of
// these (wrapped with the operation's name), so the console decides what to
// show with errors.Is and errors.As and never reads a gRPC status. The
// server's own sentence, in English, is kept in Message for the cases where
// nothing better can be said; Reason is the stable reason code the server
// put in its google.rpc.ErrorInfo ("STALE_VERSION"), "" when it sent none.
var (
	// ErrUnreachable: the server could not be reached (down, network, TLS)
	// and the request was not retried, or the caller gave up waiting.
	ErrUnreachable = errors.New("server unreachable")
	// ErrTimeout: the server was reached but did not answer in time.
	ErrTimeout = errors.New("the server did not answer in time")
	// ErrSessionEnded: the session is no longer valid (expired, revoked,
	// logged out elsewhere); the user must log in again.
	ErrSessionEnded = errors.New("session ended")
	// ErrNotFound: the object does not exist, or the role may not know it
	// does (the server answers both the same way).
	ErrNotFound = errors.New("not found")
	// ErrUnsupported: the server (or a test double) does not offer the
	// capability at all.
	ErrUnsupported = errors.New("not offered by this server")
	// ErrCanceled: the caller cancelled the request (the screen closed).
	ErrCanceled = errors.New("request cancelled")
)

// ErrForbidden is a refusal for the role or the account: the role may not
// call the method, the account is locked or disabled.
type ErrForbidden struct {
	Reason   string
	Message  string
	Metadata map[string]string
}

func (e *ErrForbidden) Error() string { return "forbidden: " + e.Message }

// ErrBadCredentials is a login refused for its login and password (the
// server gives the same answer for an unknown login and a wrong password).
type ErrBadCredentials struct {
	Reason  string
	Message string
}

func (e *ErrBadCredentials) Error() string { return "login refused: " + e.Message }

// FieldViolation names one field of a request and what is wrong with it.
type FieldViolation struct {
	Field       string
	Description string
}

// ErrInvalid is bad input: Field is the first field the server named
// ("new_password", "metadata.agent_id"), Violations all of them.
type ErrInvalid struct {
	Reason     string
	Field      string
	Message    string
	Violations []FieldViolation
	Metadata   map[string]string
}

func (e *ErrInvalid) Error() string { return "invalid: " + e.Message }

// Description is what is wrong with Field, without the field's name, when
// the server said it; otherwise the whole message.
func (e *ErrInvalid) Description() string {
	for _, v := range e.Violations {
		if v.Field == e.Field && v.Description != "" {
			return v.Description
		}
	}
	return e.Message
}

// ErrStale is a write refused because the object changed since it was
// read: Current is the version the server holds now.
type ErrStale struct {
	Current int64
	Message string
}

func (e *ErrStale) Error() string {
	return fmt.Sprintf("changed meanwhile (now version %d): %s", e.Current, e.Message)
}

// ErrRefused is a request the server understood and refused in the state
// things are in (already submitted, outside the recording period, a
// comment that needs a reason): Message says why.
type ErrRefused struct {
	Reason   string
	Message  string
	Metadata map[string]string
}

func (e *ErrRefused) Error() string { return e.Message }

// ErrServer is any other failure the server reported (an internal error).
type ErrServer struct {
	Reason  string
	Message string
}

func (e *ErrServer) Error() string { return "server error: " + e.Message }

// opError wraps a typed error with the operation that met it ("list
// calls"); errors.Is and errors.As see through it.
type opError struct {
	op  string
	err error
}

func (e *opError) Error() string { return e.op + ": " + e.err.Error() }
func (e *opError) Unwrap() error { return e.err }

// typed converts an error from a gRPC call into the gateway's errors,
// naming the operation. It is the only place that reads gRPC statuses.
func typed(op string, err error) error {
	if err == nil {
		return nil
	}
	if isTyped(err) {
		return &opError{op: op, err: err}
	}
	switch {
	case errors.Is(err, context.Canceled):
		return &opError{op: op, err: ErrCanceled}
	case errors.Is(err, context.DeadlineExceeded):
		return &opError{op: op, err: ErrTimeout}
	}
	st, ok := status.FromError(err)
	if !ok {
		var se interface{ GRPCStatus() *status.Status }
		if !errors.As(err, &se) {
			return &opError{op: op, err: fmt.Errorf("%w: %v", ErrUnreachable, err)}
		}
		st = se.GRPCStatus()
	}
	info, violations := details(st)
	reason, meta := info.GetReason(), info.GetMetadata()
	msg := st.Message()
	var out error
	switch st.Code() {
	case codes.Unavailable:
		out = fmt.Errorf("%w: %s", ErrUnreachable, msg)
	case codes.DeadlineExceeded:
		out = ErrTimeout
	case codes.Canceled:
		out = ErrCanceled
	case codes.Unauthenticated:
		if op == opLogin {
			out = &ErrBadCredentials{Reason: reason, Message: msg}
		} else {
			out = fmt.Errorf("%w: %s", ErrSessionEnded, msg)
		}
	case codes.PermissionDenied:
		out = &ErrForbidden{Reason: reason, Message: msg, Metadata: meta}
	case codes.NotFound:
		out = fmt.Errorf("%w: %s", ErrNotFound, msg)
	case codes.Unimplemented:
		out = fmt.Errorf("%w: %s", ErrUnsupported, msg)
	case codes.InvalidArgument, codes.OutOfRange:
		e := &ErrInvalid{Reason: reason, Message: msg, Violations: violations, Metadata: meta}
		if len(violations) > 0 {
			e.Field = violations[0].Field
		} else if f := meta["field"]; f != "" {
			e.Field = f
		}
		out = e
	case codes.Aborted:
		if v, err := strconv.ParseInt(meta["current_version"], 10, 64); err == nil {
			out = &ErrStale{Current: v, Message: msg}
		} else {
			out = &ErrRefused{Reason: reason, Message: msg, Metadata: meta}
		}
	case codes.FailedPrecondition, codes.AlreadyExists, codes.ResourceExhausted:
		out = &ErrRefused{Reason: reason, Message: msg, Metadata: meta}
	default:
		out = &ErrServer{Reason: reason, Message: msg}
	}
	return &opError{op: op, err: out}
}

// isTyped tells whether err is already one of the gateway's errors (a
// helper wrapped one, e.g. a retry loop that gave up).
func isTyped(err error) bool {
	for _, s := range []error{ErrUnreachable, ErrTimeout, ErrSessionEnded, ErrNotFound, ErrUnsupported, ErrCanceled} {
		if errors.Is(err, s) {
			return true
		}
	}
	var (
		f  *ErrForbidden
		b  *ErrBadCredentials
		i  *ErrInvalid
		st *ErrStale
		r  *ErrRefused
		sv *ErrServer
	)
	return errors.As(err, &f) || errors.As(err, &b) || errors.As(err, &i) || errors.As(err, &st) ||
		errors.As(err, &r) || errors.As(err, &sv)
}

// details reads the ErrorInfo and BadRequest a status carries.
func details(st *status.Status) (*errdetails.ErrorInfo, []FieldViolation) {
	var info *errdetails.ErrorInfo
	var vs []FieldViolation
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			if info == nil {
				info = d
			}
		case *errdetails.BadRequest:
			for _, v := range d.GetFieldViolations() {
				vs = append(vs, FieldViolation{Field: v.GetField(), Description: v.GetDescription()})
			}
		}
	}
	return info, vs
}

// Details are the stable reason code of a gateway error and the arguments
// the server gave with it (ErrorInfo metadata), for the console to write
// the refusal in its own words and language.
func Details(err error) (reason string, meta map[string]string) {
	var (
		f  *ErrForbidden
		i  *ErrInvalid
		r  *ErrRefused
		st *ErrStale
	)
	switch {
	case errors.As(err, &f):
		return f.Reason, f.Metadata
	case errors.As(err, &i):
		return i.Reason, i.Metadata
	case errors.As(err, &r):
		return r.Reason, r.Metadata
	case errors.As(err, &st):
		return "STALE_VERSION", map[string]string{"current_version": strconv.FormatInt(st.Current, 10)}
	}
	return Reason(err), nil
}

// Reason is the stable reason code of a gateway error ("" when the server
// gave none or the error is not the server's).
func Reason(err error) string {
	var (
		f  *ErrForbidden
		b  *ErrBadCredentials
		i  *ErrInvalid
		r  *ErrRefused
		sv *ErrServer
	)
	switch {
	case errors.As(err, &f):
		return f.Reason
	case errors.As(err, &b):
		return b.Reason
	case errors.As(err, &i):
		return i.Reason
	case errors.As(err, &r):
		return r.Reason
	case errors.As(err, &sv):
		return sv.Reason
	}
	var s *ErrStale
	if errors.As(err, &s) {
		return "STALE_VERSION"
	}
	return ""
}

// ServerMessage is the server's own sentence in a gateway error, or the
// error's text when the server said nothing.
func ServerMessage(err error) string {
	var (
		f  *ErrForbidden
		b  *ErrBadCredentials
		i  *ErrInvalid
		st *ErrStale
		r  *ErrRefused
		sv *ErrServer
	)
	switch {
	case errors.As(err, &f):
		return f.Message
	case errors.As(err, &b):
		return b.Message
	case errors.As(err, &i):
		return i.Message
	case errors.As(err, &st):
		return st.Message
	case errors.As(err, &r):
		return r.Message
	case errors.As(err, &sv):
		return sv.Message
	}
	return err.Error()
}

// retryable tells whether an attempt failed only because the server could
// not be reached or did not answer in time, so that asking again may work.
func retryable(err error) bool {
	c := status.Code(err)
	return c == codes.Unavailable || c == codes.DeadlineExceeded && !errors.Is(err, context.Canceled)
}
