package service

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strconv"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/backend/audit"
	"github.com/ecoute/ecoute/backend/auth"
	"github.com/ecoute/ecoute/backend/privacy"
	"github.com/ecoute/ecoute/backend/store"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// Privacy implements PrivacyService (dpo; the admin may list the authorised
// persons). Each request records its own audit entry.
type Privacy struct {
	ecoutev1.UnimplementedPrivacyServiceServer
	Requests *privacy.Requests
	Users    interface {
		ListUsers(ctx context.Context) ([]store.User, error)
	}
	Audit audit.Appender
	Log   *slog.Logger
}

// ExportChunk is the size of the encrypted pieces ExportSubject sends.
const ExportChunk = 64 << 10

func privacyCaller(ctx context.Context) (privacy.Caller, error) {
	p, ok := auth.FromContext(ctx)
	if !ok {
		return privacy.Caller{}, status.Error(codes.Unauthenticated, "not logged in")
	}
	c := privacy.Caller{Actor: audit.Actor{UserID: p.User.ID, Login: p.User.Login, Role: p.User.Role}}
	if pr, ok := peer.FromContext(ctx); ok && pr.Addr != nil {
		c.Source = pr.Addr.String()
	}
	return c, nil
}

func (s *Privacy) requestErr(what string, err error) error {
	switch {
	case errors.Is(err, privacy.ErrInvalid):
		return status.Error(codes.InvalidArgument, err.Error())
	case errors.Is(err, privacy.ErrNoRecord):
		return status.Error(codes.NotFound, err.Error())
	case status.Code(err) != codes.Unknown:
		return err
	}
	return internalErr(s.Log, what, err)
}

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
	who, err := privacyCaller(ctx)
	if err != nil {
		return err
	}
	subj := store.Subject{AgentID: req.GetAgentId(), CustomerPhone: req.GetCustomerPhoneE164()}
	if subj.AgentID == "" && subj.CustomerPhone == "" {
		return status.Error(codes.InvalidArgument, "subject: agent_id or customer_phone_e164 is required")
	}
	bw := bufio.NewWriterSize(sendWriter{stream: stream}, ExportChunk)
	if _, err := s.Requests.Export(ctx, who, subj, req.GetRecipient(), bw); err != nil {
		return s.requestErr("export subject", err)
	}
	if err := bw.Flush(); err != nil {
		return s.requestErr("export subject", err)
	}
	return nil
}

// EraseSubject deletes a customer's recordings.
func (s *Privacy) EraseSubject(ctx context.Context, req *ecoutev1.EraseSubjectRequest) (*ecoutev1.EraseSubjectResponse, error) {
	who, err := privacyCaller(ctx)
	if err != nil {
		return nil, err
	}
	calls, related, err := s.Requests.Erase(ctx, who, req.GetCustomerPhoneE164(), req.GetReason())
	if err != nil {
		return nil, s.requestErr("erase subject", err)
	}
	return &ecoutev1.EraseSubjectResponse{RecordingsDeleted: calls, RelatedRowsDeleted: related}, nil
}

// ListAuthorizedPersons is the nominative register of R8: every account,
// what its role may call and see, and which calls it reaches. With a
// recipient the dpo gets it as an encrypted CSV export instead.
func (s *Privacy) ListAuthorizedPersons(ctx context.Context, req *ecoutev1.ListAuthorizedPersonsRequest) (*ecoutev1.ListAuthorizedPersonsResponse, error) {
	who, err := privacyCaller(ctx)
	if err != nil {
		return nil, err
	}
	if req.GetRecipient() != "" && who.Actor.Role != "dpo" {
		return nil, status.Error(codes.PermissionDenied, "only the dpo exports the register of authorized persons")
	}
	users, err := s.Users.ListUsers(ctx)
	if err != nil {
		return nil, internalErr(s.Log, "list authorized persons", err)
	}
	resp := &ecoutev1.ListAuthorizedPersonsResponse{}
	details := map[string]string{"persons": strconv.Itoa(len(users))}
	persons := privacy.AuthorizedPersons(users)
	if req.GetRecipient() == "" {
		resp.Persons = persons
	} else {
		var buf bytes.Buffer
		if err := privacy.WriteRegister(persons, req.GetRecipient(), &buf); err != nil {
			return nil, s.requestErr("export authorized persons", err)
		}
		resp.EncryptedCsv = buf.Bytes()
		details["export"] = "age"
	}
	if err := s.Audit.Append(ctx, audit.Entry{Actor: who.Actor, Source: who.Source, Action: audit.ActionAuthorized,
		Details: details}); err != nil {
		return nil, internalErr(s.Log, "list authorized persons (audit)", err)
	}
	return resp, nil
}
