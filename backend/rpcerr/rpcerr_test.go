package rpcerr

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/backend/domain"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
)

// protoCode is how errors.proto spells each code.
var protoCode = map[codes.Code]string{
	codes.Canceled: "CANCELLED", codes.InvalidArgument: "INVALID_ARGUMENT", codes.DeadlineExceeded: "DEADLINE_EXCEEDED",
	codes.NotFound: "NOT_FOUND", codes.AlreadyExists: "ALREADY_EXISTS", codes.PermissionDenied: "PERMISSION_DENIED",
	codes.ResourceExhausted: "RESOURCE_EXHAUSTED", codes.FailedPrecondition: "FAILED_PRECONDITION",
	codes.Aborted: "ABORTED", codes.OutOfRange: "OUT_OF_RANGE", codes.Unimplemented: "UNIMPLEMENTED",
	codes.Internal: "INTERNAL", codes.Unavailable: "UNAVAILABLE", codes.Unauthenticated: "UNAUTHENTICATED",
}

// The Go reasons, the proto enum and its documented codes are one list.
func TestReasonsMatchTheProtoEnum(t *testing.T) {
	var enum []domain.Reason
	desc := ecoutev1.ErrorReason(0).Descriptor().Values()
	for i := range desc.Len() {
		v := desc.Get(i)
		if v.Number() == 0 {
			continue
		}
		enum = append(enum, domain.Reason(strings.TrimPrefix(string(v.Name()), "ERROR_REASON_")))
	}
	if !slices.Equal(enum, domain.Reasons) {
		t.Fatalf("proto enum %v\n!= domain.Reasons %v", enum, domain.Reasons)
	}
	if len(codeOf) != len(domain.Reasons) {
		t.Errorf("%d reasons, %d codes", len(domain.Reasons), len(codeOf))
	}
	comments := enumComments(t)
	for _, r := range domain.Reasons {
		c, ok := codeOf[r]
		if !ok {
			t.Errorf("%s has no gRPC code", r)
			continue
		}
		if doc := comments["ERROR_REASON_"+string(r)]; !strings.Contains(doc, "code "+protoCode[c]) {
			t.Errorf("errors.proto says of %s %q, not code %s", r, doc, protoCode[c])
		}
	}
	for c, r := range generic {
		if !slices.Contains(domain.Reasons, r) {
			t.Errorf("code %s falls back to an unknown reason %s", c, r)
		}
	}
}

// enumComments reads the comments of ErrorReason from the descriptor set
// that reflection serves.
func enumComments(t *testing.T) map[string]string {
	t.Helper()
	var set descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(ecoutev1.SourceDescriptors, &set); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range set.GetFile() {
		if f.GetName() != "ecoute/v1/errors.proto" {
			continue
		}
		for _, loc := range f.GetSourceCodeInfo().GetLocation() {
			// enum_type (5) #0, value (2) #i
			if p := loc.GetPath(); len(p) == 4 && p[0] == 5 && p[1] == 0 && p[2] == 2 {
				out[f.GetEnumType()[0].GetValue()[p[3]].GetName()] = strings.Join(strings.Fields(loc.GetLeadingComments()), " ")
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("no comments in the descriptor set: run make proto")
	}
	return out
}

func details(t *testing.T, err error) (*status.Status, *errdetails.ErrorInfo, *errdetails.BadRequest) {
	t.Helper()
	st, ok := status.FromError(err)
	if !ok {
		t.Fatalf("%v is not a status", err)
	}
	var info *errdetails.ErrorInfo
	var br *errdetails.BadRequest
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			info = d
		case *errdetails.BadRequest:
			br = d
		}
	}
	if info == nil || info.Domain != "ecoute.v1" {
		t.Fatalf("%v: no ecoute ErrorInfo (%v)", err, st.Details())
	}
	return st, info, br
}

func TestStatusCarriesReasonMetadataAndFields(t *testing.T) {
	st, info, br := details(t, Error(domain.InvalidAs(domain.ReasonPasswordRefused, "new_password", "too short: 12 characters at least")))
	if st.Code() != codes.InvalidArgument || st.Message() != "new_password: too short: 12 characters at least" ||
		info.Reason != "PASSWORD_REFUSED" || br == nil || len(br.FieldViolations) != 1 ||
		br.FieldViolations[0].Field != "new_password" || br.FieldViolations[0].Description != "too short: 12 characters at least" {
		t.Errorf("password refused: %v %v %v", st, info, br)
	}
	stale := domain.New(domain.ReasonStaleVersion, "evaluation e1 was saved elsewhere: current version is 4").
		With(domain.MetaCurrentVersion, "4")
	st, info, br = details(t, Error(fmt.Errorf("save: %w", stale)))
	if st.Code() != codes.Aborted || info.Reason != "STALE_VERSION" || info.Metadata["current_version"] != "4" || br != nil {
		t.Errorf("stale: %v %v %v", st, info, br)
	}
	back := FromStatus(st.Err())
	if back.Reason != domain.ReasonStaleVersion || back.Meta[domain.MetaCurrentVersion] != "4" || back.Message != stale.Message {
		t.Errorf("round trip: %+v", back)
	}
}

func TestEveryErrorGetsAReason(t *testing.T) {
	cases := []struct {
		err    error
		code   codes.Code
		reason string
		msg    string
	}{
		{context.Canceled, codes.Canceled, "CANCELLED", ""},
		{fmt.Errorf("receive: %w", context.DeadlineExceeded), codes.DeadlineExceeded, "DEADLINE_EXCEEDED", ""},
		{status.Error(codes.ResourceExhausted, "grpc: received message larger than max"), codes.ResourceExhausted,
			"RESOURCE_EXHAUSTED", "grpc: received message larger than max"},
		{status.Error(codes.Unimplemented, "method Foo not implemented"), codes.Unimplemented, "UNIMPLEMENTED", ""},
		{errors.New("disk on fire at /var/lib/secret"), codes.Internal, "INTERNAL", "internal error"},
		{domain.Internal("save grid", errors.New("disk on fire")), codes.Internal, "INTERNAL", "save grid failed"},
		{status.Error(codes.InvalidArgument, "bad"), codes.InvalidArgument, "INVALID_ARGUMENT", "bad"},
	}
	for _, c := range cases {
		st, info, br := details(t, Error(c.err))
		if st.Code() != c.code || info.Reason != c.reason || (c.msg != "" && st.Message() != c.msg) {
			t.Errorf("%v: got %s %s %q", c.err, st.Code(), info.Reason, st.Message())
		}
		if strings.Contains(st.Message(), "fire") {
			t.Errorf("%v: the cause leaks: %q", c.err, st.Message())
		}
		if (c.code == codes.InvalidArgument) != (br != nil) {
			t.Errorf("%v: BadRequest %v", c.err, br)
		}
	}
	// An ecoute status passes through unchanged.
	once := Error(domain.Invalid("call_id", "is required"))
	if again := Error(once); again.Error() != once.Error() || len(status.Convert(again).Details()) != 2 {
		t.Errorf("converted twice: %v", again)
	}
	if Error(nil) != nil {
		t.Error("nil is not an error")
	}
}
