package service

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"time"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/backend/audio"
	"github.com/ecoute/ecoute/backend/blobs"
	"github.com/ecoute/ecoute/backend/store"
	"github.com/ecoute/ecoute/internal/clock"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// MaxUploadBytes bounds one recording held in memory while it is checked:
// about 18 hours at 32 kbps, 9 hours at 64 kbps.
const MaxUploadBytes = 256 << 20

// DefaultRetention is how long a recording is kept (R4: 6 months).
const DefaultRetentionMonths = 6

// Ingest implements IngestService.
type Ingest struct {
	ecoutev1.UnimplementedIngestServiceServer
	Store store.Store
	Blobs blobs.Store
	Clock clock.Clock
	Log   *slog.Logger
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)

// NewID returns a random 128-bit identifier in hex.
func NewID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return fmt.Sprintf("%x", b)
}

// AudioKey is where a call's recording lives in the blob store.
func AudioKey(callID string) string { return "calls/" + callID[:2] + "/" + callID + ".mp3" }

func bad(format string, a ...any) error { return status.Errorf(codes.InvalidArgument, format, a...) }

// UploadRecording receives metadata, then audio. An opted-out call is
// refused before a single audio byte is read (R3); every other refusal
// leaves no row and no file behind.
func (s *Ingest) UploadRecording(stream grpc.ClientStreamingServer[ecoutev1.UploadRecordingRequest, ecoutev1.UploadRecordingResponse]) error {
	ctx := stream.Context()
	first, err := stream.Recv()
	if errors.Is(err, io.EOF) {
		return bad("metadata: the first message must be the metadata")
	}
	if err != nil {
		return err
	}
	md := first.GetMetadata()
	if md == nil {
		return bad("metadata: the first message must be the metadata")
	}
	if md.GetConsent() == nil {
		return bad("metadata.consent: is required (R3)")
	}
	if !md.GetConsent().GetAccepted() {
		day := s.Clock.Now()
		if md.StartedAt != nil {
			day = md.StartedAt.AsTime()
		}
		if err := s.Store.AddOptOut(ctx, day, 1); err != nil {
			return internal(s.Log, "count opt-out", err)
		}
		return status.Error(codes.FailedPrecondition, "the caller opted out of recording: nothing is stored")
	}
	call, err := s.validate(ctx, md)
	if err != nil {
		return err
	}
	if id, err := s.Store.CallIDByExternalID(ctx, md.GetExternalId()); err == nil {
		return stream.SendAndClose(&ecoutev1.UploadRecordingResponse{CallId: id, Duplicate: true})
	} else if !errors.Is(err, store.ErrNotFound) {
		return internal(s.Log, "look up external id", err)
	}

	var buf bytes.Buffer
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if msg.GetMetadata() != nil {
			return bad("metadata: sent twice; send it once, then audio")
		}
		if buf.Len()+len(msg.GetAudio()) > MaxUploadBytes {
			return status.Errorf(codes.ResourceExhausted, "audio: more than %d bytes", MaxUploadBytes)
		}
		buf.Write(msg.GetAudio())
	}
	if buf.Len() == 0 {
		return bad("audio: no audio received")
	}
	data := buf.Bytes()
	an, err := audio.Analyze(data)
	if err != nil {
		return bad("audio: %v", err)
	}
	ix := an.Index
	call.Audio = store.Audio{Key: AudioKey(call.ID), Size: int64(len(data)), Codec: "mp3", SampleRate: ix.SampleRate,
		Channels: ix.Channels, BitrateKbps: ix.BitrateKbps, FrameCount: len(ix.Offsets),
		SamplesPerFrame: ix.SamplesPerFrame, Duration: ix.Duration()}
	wf := store.Waveform{Peaks: an.Peaks, Bucket: audio.Bucket, FrameOffsets: ix.Offsets,
		SamplesPerFrame: ix.SamplesPerFrame, SampleRate: ix.SampleRate}

	if _, err := s.Blobs.Put(ctx, call.Audio.Key, bytes.NewReader(data)); err != nil {
		return internal(s.Log, "store audio", err)
	}
	err = s.Store.InsertCalls(ctx, []store.NewCall{{Call: call, Waveform: wf}})
	if err != nil {
		// The row is the commit point: without it the file must go.
		if derr := s.Blobs.Delete(context.WithoutCancel(ctx), call.Audio.Key); derr != nil {
			s.Log.Error("remove orphan audio", "key", call.Audio.Key, "err", derr)
		}
		if errors.Is(err, store.ErrDuplicate) {
			if id, lerr := s.Store.CallIDByExternalID(ctx, md.GetExternalId()); lerr == nil {
				return stream.SendAndClose(&ecoutev1.UploadRecordingResponse{CallId: id, Duplicate: true})
			}
		}
		return internal(s.Log, "store call", err)
	}
	s.Log.Info("recording stored", "call", call.ID, "external_id", call.ExternalID, "bytes", len(data),
		"duration", call.Audio.Duration)
	return stream.SendAndClose(&ecoutev1.UploadRecordingResponse{CallId: call.ID})
}

// validate checks the metadata and builds the pending call row.
func (s *Ingest) validate(ctx context.Context, md *ecoutev1.RecordingMetadata) (store.Call, error) {
	if md.GetExternalId() == "" {
		return store.Call{}, bad("metadata.external_id: is required")
	}
	if md.StartedAt == nil {
		return store.Call{}, bad("metadata.started_at: is required")
	}
	if md.EndedAt == nil {
		return store.Call{}, bad("metadata.ended_at: is required")
	}
	start, end := md.StartedAt.AsTime(), md.EndedAt.AsTime()
	if !end.After(start) {
		return store.Call{}, bad("metadata.ended_at: must be after started_at")
	}
	con := md.GetConsent()
	if con.RequestedAt == nil {
		return store.Call{}, bad("metadata.consent.requested_at: is required")
	}
	req := con.RequestedAt.AsTime()
	if req.After(start) {
		return store.Call{}, bad("metadata.consent.requested_at: must not be after started_at (consent precedes recording)")
	}
	var ans time.Time
	if con.AnsweredAt != nil {
		ans = con.AnsweredAt.AsTime()
		if ans.After(start) {
			return store.Call{}, bad("metadata.consent.answered_at: must not be after started_at (consent precedes recording)")
		}
		if ans.Before(req) {
			return store.Call{}, bad("metadata.consent.answered_at: must not be before requested_at")
		}
	}
	switch md.GetDirection() {
	case "inbound", "outbound":
	default:
		return store.Call{}, bad("metadata.direction: must be \"inbound\" or \"outbound\", not %q", md.GetDirection())
	}
	cu := md.GetCustomer()
	if p := cu.GetPhoneE164(); p != "" && !e164.MatchString(p) {
		return store.Call{}, bad("metadata.customer.phone_e164: %q is not E.164 (+ then up to 15 digits)", p)
	}
	if _, err := s.Store.AgentByID(ctx, md.GetAgentId()); err != nil {
		return store.Call{}, lookupErr(s.Log, err, "metadata.agent_id", md.GetAgentId())
	}
	if _, err := s.Store.TeamByID(ctx, md.GetTeamId()); err != nil {
		return store.Call{}, lookupErr(s.Log, err, "metadata.team_id", md.GetTeamId())
	}
	if _, err := s.Store.CampaignByID(ctx, md.GetCampaignId()); err != nil {
		return store.Call{}, lookupErr(s.Log, err, "metadata.campaign_id", md.GetCampaignId())
	}
	act := md.GetActivity()
	now := s.Clock.Now()
	return store.Call{
		ID: NewID(), ExternalID: md.GetExternalId(), StartedAt: start, EndedAt: end,
		AgentID: md.GetAgentId(), TeamID: md.GetTeamId(), CampaignID: md.GetCampaignId(), Direction: md.GetDirection(),
		CustomerName: cu.GetName(), CustomerPhone: cu.GetPhoneE164(), CustomerAddress: cu.GetAddress(),
		CustomerNumber:     cu.GetCustomerNumber(),
		ConsentRequestedAt: req, ConsentAnsweredAt: ans, ConsentAccepted: true,
		RingTime: act.GetRingTime().AsDuration(), TalkTime: act.GetTalkTime().AsDuration(),
		BackOfficeTime: act.GetBackOfficeTime().AsDuration(), ActivityType: act.GetActivityType(), Lost: act.GetLost(),
		State:         store.StatePending,
		RetainedUntil: start.AddDate(0, DefaultRetentionMonths, 0),
		CreatedAt:     now,
	}, nil
}

func lookupErr(log *slog.Logger, err error, field, id string) error {
	if errors.Is(err, store.ErrNotFound) {
		if id == "" {
			return bad("%s: is required", field)
		}
		return bad("%s: unknown %q", field, id)
	}
	return internal(log, "look up "+field, err)
}
