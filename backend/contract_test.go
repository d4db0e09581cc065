package backend_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/ecoute/ecoute/backend/domain"
	"github.com/ecoute/ecoute/backend/service"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/status"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
)

// Every ecoute service answers the health check, not only a few: a load
// balancer may probe any of them.
func TestHealthReportsEveryService(t *testing.T) {
	ctx := context.Background()
	services := reflectedServices(t, ctx)
	var ecoute int
	for _, name := range services {
		if !strings.HasPrefix(name, "ecoute.v1.") {
			continue
		}
		ecoute++
		h, err := healthpb.NewHealthClient(env.conn).Check(ctx, &healthpb.HealthCheckRequest{Service: name})
		if err != nil || h.Status != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("health of %s: %v %v", name, h, err)
		}
	}
	if ecoute != 15 {
		t.Errorf("%d ecoute services listed by reflection, want 15: %v", ecoute, services)
	}
	if _, err := healthpb.NewHealthClient(env.conn).Check(ctx, &healthpb.HealthCheckRequest{Service: "ecoute.v1.Nope"}); code(err) != codes.NotFound {
		t.Errorf("an unknown service: %v", err)
	}
}

func reflect(t *testing.T, ctx context.Context, req *reflectionpb.ServerReflectionRequest) *reflectionpb.ServerReflectionResponse {
	t.Helper()
	st, err := reflectionpb.NewServerReflectionClient(env.conn).ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer st.CloseSend()
	if err := st.Send(req); err != nil {
		t.Fatal(err)
	}
	resp, err := st.Recv()
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func reflectedServices(t *testing.T, ctx context.Context) []string {
	t.Helper()
	resp := reflect(t, ctx, &reflectionpb.ServerReflectionRequest{
		MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}})
	var out []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		out = append(out, s.GetName())
	}
	return out
}

// An integrator with only reflection (grpcurl describe) reads the
// contract's comments: the served descriptors keep them.
func TestReflectionServesTheComments(t *testing.T) {
	resp := reflect(t, context.Background(), &reflectionpb.ServerReflectionRequest{
		MessageRequest: &reflectionpb.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: "ecoute.v1.ListCallsRequest"}})
	files := resp.GetFileDescriptorResponse().GetFileDescriptorProto()
	if len(files) == 0 {
		t.Fatalf("no file for ListCallsRequest: %v", resp)
	}
	var comments []string
	for _, raw := range files {
		var fd descriptorpb.FileDescriptorProto
		if err := proto.Unmarshal(raw, &fd); err != nil {
			t.Fatal(err)
		}
		for _, loc := range fd.GetSourceCodeInfo().GetLocation() {
			comments = append(comments, loc.GetLeadingComments())
		}
	}
	all := strings.Join(comments, "\n")
	for _, want := range []string{`Empty means "started_at desc", newest first`, "CallService reads the sampled calls"} {
		if !strings.Contains(all, want) {
			t.Errorf("reflection lacks the comment %q", want)
		}
	}
}

// errorInfo is the ecoute ErrorInfo of an error status.
func errorInfo(err error) (*errdetails.ErrorInfo, *errdetails.BadRequest) {
	var info *errdetails.ErrorInfo
	var br *errdetails.BadRequest
	for _, d := range status.Convert(err).Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			if d.GetDomain() == "ecoute.v1" {
				info = d
			}
		case *errdetails.BadRequest:
			br = d
		}
	}
	return info, br
}

// checkErrorDetails: every error status carries an ErrorInfo with a
// documented reason, and bad input names its fields.
func checkErrorDetails(t *testing.T, what string, err error) {
	t.Helper()
	info, br := errorInfo(err)
	switch {
	case info == nil:
		t.Errorf("%s: %v carries no ecoute ErrorInfo", what, err)
	case !slices.Contains(domain.Reasons, domain.Reason(info.GetReason())):
		t.Errorf("%s: reason %q is not an ErrorReason", what, info.GetReason())
	case code(err) == codes.InvalidArgument && (br == nil || len(br.GetFieldViolations()) == 0 ||
		br.GetFieldViolations()[0].GetField() == ""):
		t.Errorf("%s: %v names no field (%v)", what, err, br)
	case strings.Contains(status.Convert(err).Message(), "rpc error"):
		t.Errorf("%s: message %q nests a status", what, status.Convert(err).Message())
	}
}

// The methods whose operations audit themselves are served methods: a typo
// would have them recorded twice.
func TestSelfAuditedMethodsAreServed(t *testing.T) {
	srv, err := env.app.NewGRPCServer(false)
	if err != nil {
		t.Fatal(err)
	}
	rpcs := servedRPCs(t, srv)
	for m := range service.SelfAudited {
		if !slices.ContainsFunc(rpcs, func(r rpc) bool { return r.full == m }) {
			t.Errorf("%s is self-audited but not served", m)
		}
	}
}
