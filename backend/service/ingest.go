package service

import (
	"context"
	"errors"
	"io"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/backend/core"
	"github.com/ecoute/ecoute/backend/domain"
	"github.com/ecoute/ecoute/backend/rpcerr"
	"google.golang.org/grpc"
)

// Ingest implements IngestService.
type Ingest struct {
	ecoutev1.UnimplementedIngestServiceServer
	Core *core.Backend
}

// UploadRecording receives metadata, then audio, and hands both to core.
func (s *Ingest) UploadRecording(stream grpc.ClientStreamingServer[ecoutev1.UploadRecordingRequest, ecoutev1.UploadRecordingResponse]) error {
	ctx := stream.Context()
	c, err := caller(ctx, nil)
	if err != nil {
		return err
	}
	var md *core.Recording
	first, err := stream.Recv()
	switch {
	case errors.Is(err, io.EOF):
	case err != nil:
		return err
	default:
		md = RecordingFromProto(first.GetMetadata())
	}
	res, err := s.Core.Ingest(ctx, c, md, &uploadReader{stream: stream})
	if err != nil {
		return err
	}
	return stream.SendAndClose(&ecoutev1.UploadRecordingResponse{CallId: res.CallID, Duplicate: res.Duplicate,
		Converted: res.Converted, Repair: res.Repair})
}

// uploadReader turns the audio messages that follow the metadata into a
// stream of bytes. Its errors are typed (a transport failure keeps its
// reason: a cancelled upload is CANCELLED, not an internal failure).
type uploadReader struct {
	stream grpc.ClientStreamingServer[ecoutev1.UploadRecordingRequest, ecoutev1.UploadRecordingResponse]
	buf    []byte
}

func (u *uploadReader) Read(p []byte) (int, error) {
	for len(u.buf) == 0 {
		msg, err := u.stream.Recv()
		if errors.Is(err, io.EOF) {
			return 0, io.EOF
		}
		if err != nil {
			return 0, rpcerr.FromStatus(err)
		}
		if msg.GetMetadata() != nil {
			return 0, domain.Invalid("metadata", "sent twice; send it once, then audio")
		}
		u.buf = msg.GetAudio()
	}
	n := copy(p, u.buf)
	u.buf = u.buf[n:]
	return n, nil
}

// RecordingFromProto converts upload metadata (nil: none was sent). The
// command line reads the same message from JSON files.
func RecordingFromProto(md *ecoutev1.RecordingMetadata) *core.Recording {
	if md == nil {
		return nil
	}
	r := &core.Recording{ExternalID: md.GetExternalId(), StartedAt: timeOf(md.GetStartedAt()),
		EndedAt: timeOf(md.GetEndedAt()), AgentID: md.GetAgentId(), TeamID: md.GetTeamId(),
		CampaignID: md.GetCampaignId(), Direction: md.GetDirection()}
	cu := md.GetCustomer()
	r.Customer = core.Customer{Name: cu.GetName(), PhoneE164: cu.GetPhoneE164(), Address: cu.GetAddress(),
		Number: cu.GetCustomerNumber()}
	if con := md.GetConsent(); con != nil {
		r.Consent = &core.Consent{RequestedAt: timeOf(con.GetRequestedAt()), AnsweredAt: timeOf(con.GetAnsweredAt()),
			Accepted: con.GetAccepted()}
	}
	act := md.GetActivity()
	r.Activity = core.Activity{RingTime: act.GetRingTime().AsDuration(), TalkTime: act.GetTalkTime().AsDuration(),
		BackOfficeTime: act.GetBackOfficeTime().AsDuration(), Type: act.GetActivityType(), Lost: act.GetLost()}
	return r
}

// UploadActivity stores a batch of activity intervals (R5).
func (s *Ingest) UploadActivity(ctx context.Context, req *ecoutev1.UploadActivityRequest) (*ecoutev1.UploadActivityResponse, error) {
	rows := make([]core.ActivityRow, len(req.GetIntervals()))
	for i, in := range req.GetIntervals() {
		rows[i] = core.ActivityRow{AgentID: in.GetAgentId(), CampaignID: in.GetCampaignId(),
			ActivityType: in.GetActivityType(), StartedAt: timeOf(in.GetStartedAt()), EndedAt: timeOf(in.GetEndedAt()),
			Handled: in.GetCallsHandled(), Lost: in.GetCallsLost(), Talk: in.GetTalkTime().AsDuration(),
			BackOffice: in.GetBackOfficeTime().AsDuration(), Ring: in.GetRingTime().AsDuration()}
	}
	return serve(ctx, req, func(c core.Caller) (int, error) {
		return s.Core.ImportActivity(ctx, c, rows, "intervals", 0)
	}, func(n int) *ecoutev1.UploadActivityResponse {
		return &ecoutev1.UploadActivityResponse{Stored: int64(n)}
	})
}
