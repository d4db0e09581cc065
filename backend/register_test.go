package backend_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/backend/audit"
	"github.com/ecoute/ecoute/backend/config"
	"github.com/ecoute/ecoute/backend/store"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// exportTo streams an export to its end and returns the error.
func exportTo(ctx context.Context, req *ecoutev1.ExportSubjectRequest) error {
	st, err := ecoutev1.NewPrivacyServiceClient(env.conn).ExportSubject(ctx, req)
	if err != nil {
		return err
	}
	for {
		if _, err := st.Recv(); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return err
		}
	}
}

// The dpo's register (R7): a request recorded with its channel and
// identity check is due one calendar month after receipt; an overdue one
// says so; the export that answers it closes it; each step is audited,
// without the requester's name.
func TestPrivacyRequestRegister(t *testing.T) {
	ctx := context.Background()
	dpo := login(t, "dpo")
	reg := ecoutev1.NewPrivacyRequestServiceClient(env.conn)
	cs, _, err := env.app.Store().ListCalls(ctx, store.ListQuery{Scope: store.Scope{All: true}, Order: store.OrderStartedAt, Limit: 2})
	if err != nil || len(cs) < 2 {
		t.Fatalf("calls: %v", err)
	}
	phone, other := cs[0].CustomerPhone, cs[1].CustomerPhone

	// An e-mail request needs its identity check.
	_, err = reg.RecordPrivacyRequest(dpo, &ecoutev1.RecordPrivacyRequestRequest{Kind: "access", Channel: "email",
		ReceivedAt: timestamppb.Now(), CustomerPhoneE164: phone})
	if info, _ := errorInfo(err); code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "identity_check") ||
		info.GetReason() != "INVALID_ARGUMENT" {
		t.Errorf("e-mail request without identity check: %v", err)
	}
	for _, bad := range []*ecoutev1.RecordPrivacyRequestRequest{
		{Kind: "curiosity", Channel: "letter", ReceivedAt: timestamppb.Now(), CustomerPhoneE164: phone},
		{Kind: "access", Channel: "pigeon", ReceivedAt: timestamppb.Now(), CustomerPhoneE164: phone},
		{Kind: "access", Channel: "letter", ReceivedAt: timestamppb.New(time.Now().Add(48 * time.Hour)), CustomerPhoneE164: phone},
		{Kind: "access", Channel: "letter", ReceivedAt: timestamppb.Now()},
	} {
		if _, err := reg.RecordPrivacyRequest(dpo, bad); code(err) != codes.InvalidArgument {
			t.Errorf("%v: %v", bad, err)
		}
	}
	// Received six weeks ago: overdue.
	received := time.Now().UTC().AddDate(0, 0, -42).Truncate(time.Second)
	old, err := reg.RecordPrivacyRequest(dpo, &ecoutev1.RecordPrivacyRequestRequest{Kind: "access", Channel: "email",
		ReceivedAt: timestamppb.New(received), IdentityCheck: "Copie de la carte d'identité reçue par courrier",
		CustomerPhoneE164: phone, Requester: "Mme Requérante Zéphyrine"})
	if err != nil {
		t.Fatal(err)
	}
	r := old.PrivacyRequest
	if !r.DueAt.AsTime().Equal(config.PrivacyRequestDue(received)) || !r.Overdue || r.DaysLeft >= 0 || r.Status != "open" {
		t.Errorf("old request: due %v, overdue %v, %d days left", r.DueAt.AsTime(), r.Overdue, r.DaysLeft)
	}
	fresh, err := reg.RecordPrivacyRequest(dpo, &ecoutev1.RecordPrivacyRequestRequest{Kind: "objection", Channel: "letter",
		ReceivedAt: timestamppb.Now(), CustomerPhoneE164: other})
	if err != nil || fresh.PrivacyRequest.Overdue || fresh.PrivacyRequest.DaysLeft < 28 || fresh.PrivacyRequest.DaysLeft > 31 {
		t.Fatalf("fresh request: %v %v", fresh, err)
	}
	list, err := reg.ListPrivacyRequests(dpo, &ecoutev1.ListPrivacyRequestsRequest{})
	if err != nil || len(list.PrivacyRequests) < 2 || list.PrivacyRequests[0].PrivacyRequestId != r.PrivacyRequestId ||
		!list.PrivacyRequests[0].Overdue {
		t.Fatalf("open requests, soonest due first: %v %v", list, err)
	}

	// The export closes the access request it answers …
	id, _ := age.GenerateX25519Identity()
	req := &ecoutev1.ExportSubjectRequest{Subject: &ecoutev1.ExportSubjectRequest_CustomerPhoneE164{CustomerPhoneE164: other},
		Recipient: id.Recipient().String(), PrivacyRequestId: r.PrivacyRequestId}
	if err := exportTo(dpo, req); code(err) != codes.FailedPrecondition {
		t.Errorf("export of another person closing the request: %v", err)
	}
	req.Subject = &ecoutev1.ExportSubjectRequest_CustomerPhoneE164{CustomerPhoneE164: phone}
	if err := exportTo(dpo, req); err != nil {
		t.Fatal(err)
	}
	list, err = reg.ListPrivacyRequests(dpo, &ecoutev1.ListPrivacyRequestsRequest{IncludeClosed: true})
	var closed *ecoutev1.PrivacyRequest
	for _, p := range list.GetPrivacyRequests() {
		if p.PrivacyRequestId == r.PrivacyRequestId {
			closed = p
		}
	}
	if err != nil || closed == nil || closed.Status != "closed" || closed.ClosedBy != "demo-dpo" ||
		!strings.HasPrefix(closed.Outcome, "exported:") || closed.Overdue {
		t.Fatalf("after the export: %v %v", closed, err)
	}
	// … once.
	if err := exportTo(dpo, req); code(err) != codes.FailedPrecondition {
		t.Errorf("second export against a closed request: %v", err)
	}
	// An access request does not close by an erasure.
	_, err = ecoutev1.NewPrivacyServiceClient(env.conn).EraseSubject(dpo, &ecoutev1.EraseSubjectRequest{
		CustomerPhoneE164: other, Reason: "lettre 12", PrivacyRequestId: r.PrivacyRequestId})
	if code(err) != codes.FailedPrecondition {
		t.Errorf("erasure against an access request: %v", err)
	}
	// The trail has the steps, not the requester.
	links, err := env.app.Audit().List(ctx, audit.Query{Action: "privacy.", Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	var steps []string
	for _, l := range links {
		if l.Target == r.PrivacyRequestId || l.Details["request"] == r.PrivacyRequestId {
			steps = append(steps, l.Action)
		}
		for _, v := range l.Details {
			if strings.Contains(v, "Zéphyrine") || strings.Contains(v, "carte d'identité") {
				t.Errorf("register text in the trail: %s %v", l.Action, l.Details)
			}
		}
	}
	if got := strings.Join(steps, " "); !strings.Contains(got, "privacy.request.close privacy.export") ||
		!strings.Contains(got, "privacy.request.record") {
		t.Errorf("audited steps %q", got)
	}
}
