package client

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func withDetails(t *testing.T, c codes.Code, msg string, ds ...*errdetails.ErrorInfo) error {
	t.Helper()
	st := status.New(c, msg)
	for _, d := range ds {
		var err error
		if st, err = st.WithDetails(d); err != nil {
			t.Fatal(err)
		}
	}
	return st.Err()
}

func TestTypedErrors(t *testing.T) {
	badReq, err := status.New(codes.InvalidArgument, "new_password: too short").WithDetails(
		&errdetails.ErrorInfo{Reason: "PASSWORD_REFUSED", Domain: "ecoute.v1"},
		&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: "new_password", Description: "too short"}}})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		op     string
		in     error
		check  func(error) bool
		reason string
	}{
		{"unavailable", "list calls", status.Error(codes.Unavailable, "refused"), func(e error) bool { return errors.Is(e, ErrUnreachable) }, ""},
		{"deadline", "list calls", status.Error(codes.DeadlineExceeded, "slow"), func(e error) bool { return errors.Is(e, ErrTimeout) }, ""},
		{"ctx deadline", "list calls", context.DeadlineExceeded, func(e error) bool { return errors.Is(e, ErrTimeout) }, ""},
		{"canceled", "list calls", context.Canceled, func(e error) bool { return errors.Is(e, ErrCanceled) }, ""},
		{"session", "list calls", status.Error(codes.Unauthenticated, "expired"), func(e error) bool { return errors.Is(e, ErrSessionEnded) }, ""},
		{"bad login", opLogin, withDetails(t, codes.Unauthenticated, "wrong", &errdetails.ErrorInfo{Reason: "BAD_CREDENTIALS"}),
			func(e error) bool { var b *ErrBadCredentials; return errors.As(e, &b) }, "BAD_CREDENTIALS"},
		{"forbidden", "get call", withDetails(t, codes.PermissionDenied, "role client may not", &errdetails.ErrorInfo{Reason: "ROLE_FORBIDDEN"}),
			func(e error) bool { var f *ErrForbidden; return errors.As(e, &f) && f.Message == "role client may not" }, "ROLE_FORBIDDEN"},
		{"not found", "get call", status.Error(codes.NotFound, "no call"), func(e error) bool { return errors.Is(e, ErrNotFound) }, ""},
		{"unimplemented", "get call", status.Error(codes.Unimplemented, "no"), func(e error) bool { return errors.Is(e, ErrUnsupported) }, ""},
		{"invalid", "change password", badReq.Err(), func(e error) bool {
			var i *ErrInvalid
			return errors.As(e, &i) && i.Field == "new_password" && i.Description() == "too short"
		}, "PASSWORD_REFUSED"},
		{"stale", "save evaluation", withDetails(t, codes.Aborted, "changed", &errdetails.ErrorInfo{Reason: "STALE_VERSION", Metadata: map[string]string{"current_version": "7"}}),
			func(e error) bool { var s *ErrStale; return errors.As(e, &s) && s.Current == 7 }, "STALE_VERSION"},
		{"refused", "submit evaluation", withDetails(t, codes.FailedPrecondition, "already submitted", &errdetails.ErrorInfo{Reason: "WRONG_STATUS"}),
			func(e error) bool { var r *ErrRefused; return errors.As(e, &r) && r.Message == "already submitted" }, "WRONG_STATUS"},
		{"internal", "list calls", status.Error(codes.Internal, "boom"), func(e error) bool { var s *ErrServer; return errors.As(e, &s) }, ""},
		{"wrapped status", "list calls", fmt.Errorf("ctx: %w", status.Error(codes.NotFound, "x")), func(e error) bool { return errors.Is(e, ErrNotFound) }, ""},
		{"network", "dial", errors.New("tls: bad certificate"), func(e error) bool { return errors.Is(e, ErrUnreachable) }, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := typed(c.op, c.in)
			if !c.check(got) {
				t.Fatalf("typed(%v) = %#v (%v)", c.in, got, got)
			}
			if r := Reason(got); r != c.reason {
				t.Errorf("Reason = %q, want %q", r, c.reason)
			}
			if again := typed("outer", got); !c.check(again) {
				t.Errorf("typing twice lost the kind: %v", again)
			}
		})
	}
}
