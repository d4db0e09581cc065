package service

import (
	"bufio"
	"context"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/backend/core"
	"github.com/ecoute/ecoute/backend/privacy"
	"github.com/ecoute/ecoute/backend/store"
	"google.golang.org/grpc"
)

// Privacy implements PrivacyService (dpo; the admin may list the authorised
// persons). Each request records its own audit entry (in core).
type Privacy struct {
	ecoutev1.UnimplementedPrivacyServiceServer
	Core *core.Backend
}

// ExportChunk is the size of the encrypted pieces ExportSubject sends.
const ExportChunk = 64 << 10

// sendWriter turns writes into ExportSubjectResponse messages. Send
// serialises the message before it returns, so the buffer can be reused.
type sendWriter struct {
	stream grpc.ServerStreamingServer[ecoutev1.ExportSubjectResponse]
}

func (w sendWriter) Write(p []byte) (int, error) {
	if err := w.stream.Send(&ecoutev1.ExportSubjectResponse{Data: p}); err != nil {
		return 0, err
	}
	return len(p), nil
}

// ExportSubject streams the age-encrypted archive; the plaintext never
// leaves memory.
func (s *Privacy) ExportSubject(req *ecoutev1.ExportSubjectRequest, stream grpc.ServerStreamingServer[ecoutev1.ExportSubjectResponse]) error {
	ctx := stream.Context()
	c, err := caller(ctx, nil)
	if err != nil {
		return err
	}
	subj := store.Subject{AgentID: req.GetAgentId(), CustomerPhone: req.GetCustomerPhoneE164()}
	bw := bufio.NewWriterSize(sendWriter{stream: stream}, ExportChunk)
	if _, err := s.Core.ExportSubject(ctx, c, subj, req.GetRecipient(), bw, req.GetPrivacyRequestId()); err != nil {
		return err
	}
	return bw.Flush()
}

// EraseSubject deletes a customer's recordings.
func (s *Privacy) EraseSubject(ctx context.Context, req *ecoutev1.EraseSubjectRequest) (*ecoutev1.EraseSubjectResponse, error) {
	c, err := caller(ctx, nil)
	if err != nil {
		return nil, err
	}
	r, err := s.Core.EraseSubject(ctx, c, req.GetCustomerPhoneE164(), req.GetReason(), req.GetPrivacyRequestId())
	if err != nil {
		return nil, err
	}
	return &ecoutev1.EraseSubjectResponse{RecordingsDeleted: r.Calls, RelatedRowsDeleted: r.Related,
		PrivacyRequestId: r.Request}, nil
}

// ListAuthorizedPersons is the nominative register of R8: every account,
// what its role may call and see, and which calls it reaches. With a
// recipient the dpo gets it as an encrypted CSV export instead.
func (s *Privacy) ListAuthorizedPersons(ctx context.Context, req *ecoutev1.ListAuthorizedPersonsRequest) (*ecoutev1.ListAuthorizedPersonsResponse, error) {
	c, err := caller(ctx, nil)
	if err != nil {
		return nil, err
	}
	persons, csv, err := s.Core.AuthorizedPersons(ctx, c, req.GetRecipient())
	if err != nil {
		return nil, err
	}
	resp := &ecoutev1.ListAuthorizedPersonsResponse{EncryptedCsv: csv}
	if csv != nil {
		return resp, nil // the export form: no register in clear
	}
	resp.Persons = each(persons, personOf)
	return resp, nil
}

func personOf(p privacy.Person) *ecoutev1.AuthorizedPerson {
	u := p.User
	return &ecoutev1.AuthorizedPerson{UserId: u.ID, Login: u.Login, DisplayName: u.DisplayName, Role: u.Role,
		Disabled: u.Disabled, TeamIds: u.TeamIDs, AgentId: u.AgentID, CreatedAt: ts(u.CreatedAt),
		CallsScope: p.CallsScope, AllowedMethods: p.AllowedMethods, VisibleFields: p.VisibleFields}
}
