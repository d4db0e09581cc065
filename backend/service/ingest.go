package service

import (
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
	"github.com/ecoute/ecoute/internal/mp3frame"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// MaxUploadBytes bounds one recording: 12 hours of 16-bit stereo 8 kHz WAV
// (1.4 GB) fit, as does any MP3 of 12 hours up to 256 kbps. The upload
// streams to an encrypted temporary file, so this is a sanity bound, not
// memory.
const MaxUploadBytes = 1536 << 20

// DefaultRetentionMonths is how long a recording is kept (R4: 6 months).
const DefaultRetentionMonths = 6

// Ingest implements IngestService.
type Ingest struct {
	ecoutev1.UnimplementedIngestServiceServer
	Store store.Store
	Blobs blobs.Store
	Clock clock.Clock
	Log   *slog.Logger
	// Transcoder converts uploads outside the canonical profile; nil means
	// they are refused.
	Transcoder *audio.Transcoder
	// RetainUntil gives a recording's deletion date from its start
	// (retention.recordings); nil means DefaultRetentionMonths.
	RetainUntil func(start time.Time) time.Time
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

// Result is the outcome of an accepted upload.
type Result struct {
	CallID    string
	Duplicate bool // external_id already known: nothing new stored
	Converted bool // the audio went through the transcoder
	// Repair says what of a damaged upload was left out or silenced to
	// store the rest; empty when nothing was.
	Repair string
}

// UploadRecording receives metadata, then audio, and hands both to Store.
func (s *Ingest) UploadRecording(stream grpc.ClientStreamingServer[ecoutev1.UploadRecordingRequest, ecoutev1.UploadRecordingResponse]) error {
	first, err := stream.Recv()
	if errors.Is(err, io.EOF) {
		return bad("metadata: the first message must be the metadata")
	}
	if err != nil {
		return err
	}
	res, err := s.Ingest(stream.Context(), first.GetMetadata(), &uploadReader{stream: stream})
	if err != nil {
		return err
	}
	return stream.SendAndClose(&ecoutev1.UploadRecordingResponse{CallId: res.CallID, Duplicate: res.Duplicate,
		Converted: res.Converted, Repair: res.Repair})
}

// uploadReader turns the audio messages that follow the metadata into a
// stream of bytes.
type uploadReader struct {
	stream grpc.ClientStreamingServer[ecoutev1.UploadRecordingRequest, ecoutev1.UploadRecordingResponse]
	buf    []byte
}

func (u *uploadReader) Read(p []byte) (int, error) {
	for len(u.buf) == 0 {
		msg, err := u.stream.Recv()
		if err != nil {
			return 0, err
		}
		if msg.GetMetadata() != nil {
			return 0, bad("metadata: sent twice; send it once, then audio")
		}
		u.buf = msg.GetAudio()
	}
	n := copy(p, u.buf)
	u.buf = u.buf[n:]
	return n, nil
}

// Ingest checks md, then stores the audio read from r with its row. An
// opted-out call is refused before r is read at all (R3). The audio goes
// straight to an encrypted temporary file; the call is acknowledged (nil
// error) only once that file is synced and renamed into place and the row
// committed; every refusal leaves no row and no file. The gRPC service and
// `ecouted ingest` both come here.
func (s *Ingest) Ingest(ctx context.Context, md *ecoutev1.RecordingMetadata, r io.Reader) (Result, error) {
	if md == nil {
		return Result{}, bad("metadata: the first message must be the metadata")
	}
	if md.GetConsent() == nil {
		return Result{}, bad("metadata.consent: is required (R3)")
	}
	if !md.GetConsent().GetAccepted() {
		day := s.Clock.Now()
		if md.StartedAt != nil {
			day = md.StartedAt.AsTime()
		}
		if err := s.Store.AddOptOut(ctx, day, 1); err != nil {
			return Result{}, internal(s.Log, "count opt-out", err)
		}
		return Result{}, status.Error(codes.FailedPrecondition, "the caller opted out of recording: nothing is stored (R3)")
	}
	call, err := s.validate(ctx, md)
	if err != nil {
		return Result{}, err
	}
	if id, err := s.Store.CallIDByExternalID(ctx, md.GetExternalId()); err == nil {
		return Result{CallID: id, Duplicate: true}, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return Result{}, internal(s.Log, "look up external id", err)
	}

	key := AudioKey(call.ID)
	raw, err := s.Blobs.Create(key)
	if err != nil {
		return Result{}, internal(s.Log, "create audio", err)
	}
	defer raw.Discard()
	n, err := io.Copy(raw, io.LimitReader(r, MaxUploadBytes+1))
	if err != nil {
		if _, ok := status.FromError(err); ok {
			return Result{}, err
		}
		return Result{}, internal(s.Log, "receive audio", err)
	}
	if n > MaxUploadBytes {
		return Result{}, status.Errorf(codes.ResourceExhausted, "audio: more than %d bytes", MaxUploadBytes)
	}
	if n == 0 {
		return Result{}, bad("audio: no audio received")
	}
	if err := raw.Close(); err != nil {
		return Result{}, internal(s.Log, "store audio", err)
	}
	final, an, oc, err := s.canonical(ctx, key, raw)
	if err != nil {
		return Result{}, err
	}
	if final != raw {
		defer final.Discard()
	}
	ix := an.Index
	call.Audio = store.Audio{Key: key, Size: final.Size(), Codec: "mp3", SampleRate: ix.SampleRate,
		Channels: ix.Channels, BitrateKbps: ix.MeanKbps(), FrameCount: len(ix.Offsets),
		SamplesPerFrame: ix.SamplesPerFrame, Duration: ix.Duration(), Repair: oc.repair}
	wf := store.Waveform{Peaks: an.Peaks, ChannelPeaks: an.ChannelPeaks, Bucket: audio.Bucket, FrameOffsets: ix.Offsets,
		SamplesPerFrame: ix.SamplesPerFrame, SampleRate: ix.SampleRate}

	// From here on the upload is complete and checked: finish storing it even
	// if the client goes away (a retry is then answered as a duplicate).
	ctx = context.WithoutCancel(ctx)
	if err := final.Commit(ctx); err != nil {
		return Result{}, internal(s.Log, "store audio", err)
	}
	err = s.Store.InsertCalls(ctx, []store.NewCall{{Call: call, Waveform: wf}})
	if err != nil {
		// The row is the commit point: without it the file must go.
		if derr := s.Blobs.Delete(ctx, key); derr != nil {
			s.Log.Error("remove orphan audio", "key", key, "err", derr)
		}
		if errors.Is(err, store.ErrDuplicate) {
			if id, lerr := s.Store.CallIDByExternalID(ctx, md.GetExternalId()); lerr == nil {
				return Result{CallID: id, Duplicate: true}, nil
			}
		}
		return Result{}, internal(s.Log, "store call", err)
	}
	if err := s.Store.SyncCommitted(ctx); err != nil {
		// The row stays (the audio is whole): a retry is answered as a
		// duplicate once the disk recovers.
		return Result{}, internal(s.Log, "sync database", err)
	}
	if oc.repair != "" {
		s.Log.Warn("damaged recording repaired", "call", call.ID, "external_id", call.ExternalID, "repair", oc.repair)
	}
	s.Log.Info("recording stored", "call", call.ID, "external_id", call.ExternalID, "bytes", n,
		"converted", oc.converted, "repaired", oc.repair != "", "duration", call.Audio.Duration)
	return Result{CallID: call.ID, Converted: oc.converted, Repair: oc.repair}, nil
}

// outcome is what canonical did to an upload on its way to the store.
type outcome struct {
	converted bool
	repair    string // what was left out or silenced; "" when nothing
}

// canonical checks the sealed upload and returns the blob to keep (raw, a
// repaired copy or a converted one) with its frame index and peaks.
func (s *Ingest) canonical(ctx context.Context, key string, raw blobs.Pending) (blobs.Pending, audio.Analysis, outcome, error) {
	b, err := raw.Open()
	if err != nil {
		return nil, audio.Analysis{}, outcome{}, internal(s.Log, "read back audio", err)
	}
	defer b.Close()
	head := make([]byte, 12)
	k, _ := b.ReadAt(head, 0)
	if audio.IsWAV(head[:k]) {
		return s.fromWAV(ctx, key, b)
	}
	ix, err := audio.Inspect(b, b.Size())
	if err != nil {
		var fe *mp3frame.FormatError
		if errors.As(err, &fe) {
			// MPEG audio this package does not index (free-format bitrate,
			// Layer I or II): a transcoder may read it. ffmpeg cannot read
			// free-format MP3; lame can.
			what := fe.What()
			switch {
			case s.Transcoder == nil && fe.Free:
				return nil, audio.Analysis{}, outcome{}, bad("audio: %s is not stored as it is and no transcoder is configured: lame would convert it (ffmpeg cannot read free-format MP3); %s", what, audio.Accepted(false))
			case s.Transcoder == nil:
				return nil, audio.Analysis{}, outcome{}, bad("audio: %s is not stored as it is and no transcoder is configured: a transcoder would convert it; %s", what, audio.Accepted(false))
			case fe.Free && s.Transcoder.Kind == "ffmpeg":
				return nil, audio.Analysis{}, outcome{}, bad("audio: %s cannot be converted by ffmpeg, the configured transcoder: ffmpeg cannot read free-format MP3; set ingest.transcoder: lame to convert it", what)
			}
			return s.convert(ctx, key, outcome{}, func(out io.Writer) error {
				return s.Transcoder.FromMP3(ctx, io.NewSectionReader(b, 0, b.Size()), fe.Channels == 2, out)
			})
		}
		return nil, audio.Analysis{}, outcome{}, bad("audio: %v", err)
	}
	var oc outcome
	if ix.Repaired() {
		oc.repair = ix.RepairSummary()
	}
	if perr := ix.Profile(); perr != nil {
		if s.Transcoder == nil {
			return nil, audio.Analysis{}, outcome{}, bad("audio: %s is not stored as it is and no transcoder is configured: a transcoder would convert it; %s",
				describeMP3(ix), audio.Accepted(false))
		}
		// The transcoder gets what is valid of a damaged file.
		return s.convert(ctx, key, oc, func(out io.Writer) error {
			return s.Transcoder.FromMP3(ctx, ix.NewFrameReader(io.NewSectionReader(b, 0, b.Size())).Reader(), ix.Channels == 2, out)
		})
	}
	if !ix.Repaired() {
		an, err := audio.AnalyzeIndex(b, b.Size(), ix)
		if err != nil {
			return nil, audio.Analysis{}, outcome{}, bad("audio: %v", err)
		}
		return raw, an, oc, nil
	}
	// Damaged (junk, a cut frame, lost frames): keep what is valid.
	p, err := s.Blobs.Create(key)
	if err != nil {
		return nil, audio.Analysis{}, outcome{}, internal(s.Log, "create repaired audio", err)
	}
	fail := func(e error) (blobs.Pending, audio.Analysis, outcome, error) {
		p.Discard()
		return nil, audio.Analysis{}, outcome{}, e
	}
	if err := audio.WriteRepaired(p, b, b.Size(), &ix); err != nil {
		return fail(bad("audio: %v", err))
	}
	if err := p.Close(); err != nil {
		return fail(internal(s.Log, "store repaired audio", err))
	}
	rb, err := p.Open()
	if err != nil {
		return fail(internal(s.Log, "read back repaired audio", err))
	}
	defer rb.Close()
	an, err := audio.AnalyzeAt(rb, rb.Size())
	if err != nil {
		return fail(bad("audio: even repaired (%s), %v", oc.repair, err))
	}
	return p, an, oc, nil
}

// describeMP3 names an MP3's format for refusals.
func describeMP3(ix mp3frame.Index) string {
	ch := "mono"
	if ix.Channels == 2 {
		ch = "stereo"
	}
	if ix.IntensityLSF {
		ch = "stereo with intensity stereo"
	}
	return fmt.Sprintf("%s at %d Hz (Layer III, %s)", mp3frame.VersionName(ix.Version), ix.SampleRate, ch)
}

// fromWAV converts a WAV upload (never stored as it is).
func (s *Ingest) fromWAV(ctx context.Context, key string, b blobs.Blob) (blobs.Pending, audio.Analysis, outcome, error) {
	w, err := audio.ParseWAV(b, b.Size())
	if err != nil {
		return nil, audio.Analysis{}, outcome{}, bad("audio: %v", err)
	}
	oc := outcome{repair: w.Repair}
	switch {
	case s.Transcoder == nil && w.Known():
		help := "ffmpeg or lame would convert it"
		if !w.Decodable() {
			help = "ffmpeg would convert it (lame cannot decode " + w.EncodingName() + ")"
		}
		return nil, audio.Analysis{}, outcome{}, bad("audio: %s is not stored as it is and no transcoder is configured: %s (ingest.transcoder); %s",
			w.Describe(), help, audio.Accepted(false))
	case s.Transcoder == nil:
		return nil, audio.Analysis{}, outcome{}, bad("audio: %s is not stored as it is and is not a WAV encoding Écoute converts (%s); %s",
			w.Describe(), audio.WAVFormats, audio.Accepted(false))
	case !s.Transcoder.ReadsWAV(w):
		return nil, audio.Analysis{}, outcome{}, bad("audio: %s cannot be converted by lame, the configured transcoder: lame is given raw samples, which Écoute decodes only from PCM and G.711 WAV; set ingest.transcoder: ffmpeg to convert it",
			w.Describe())
	}
	stereo := w.Channels == 2
	if stereo {
		// A mono recording written on two channels is not two parties.
		dual, err := w.DualMono(b)
		if err != nil {
			return nil, audio.Analysis{}, outcome{}, internal(s.Log, "read WAV", err)
		}
		stereo = !dual
	}
	channels := 1
	if stereo {
		channels = 2
	}
	if s.Transcoder.Kind == "ffmpeg" {
		return s.convert(ctx, key, oc, func(out io.Writer) error {
			return s.Transcoder.FromWAV(ctx, w.NormalizedWAV(b), stereo, out)
		})
	}
	pcm := w.PCM(b, channels)
	defer pcm.Close()
	return s.convert(ctx, key, oc, func(out io.Writer) error {
		return s.Transcoder.FromPCM(ctx, pcm, w.SampleRate, channels, out)
	})
}

// convert writes the transcoder's output to a new sealed blob and checks it
// as if it had been uploaded.
func (s *Ingest) convert(ctx context.Context, key string, oc outcome, run func(io.Writer) error) (blobs.Pending, audio.Analysis, outcome, error) {
	p, err := s.Blobs.Create(key)
	if err != nil {
		return nil, audio.Analysis{}, outcome{}, internal(s.Log, "create converted audio", err)
	}
	fail := func(e error) (blobs.Pending, audio.Analysis, outcome, error) {
		p.Discard()
		return nil, audio.Analysis{}, outcome{}, e
	}
	if err := run(p); err != nil {
		if ctx.Err() != nil {
			return fail(status.FromContextError(ctx.Err()).Err())
		}
		return fail(bad("audio: conversion failed: %v", err))
	}
	if err := p.Close(); err != nil {
		return fail(internal(s.Log, "store converted audio", err))
	}
	b, err := p.Open()
	if err != nil {
		return fail(internal(s.Log, "read back converted audio", err))
	}
	defer b.Close()
	an, err := audio.AnalyzeAt(b, b.Size())
	if err != nil {
		return fail(bad("audio: the converted audio is not usable: %v", err))
	}
	oc.converted = true
	return p, an, oc, nil
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
	// Silence is consent (the caller refuses with a key press, R3), so an
	// accepted call may have no answer time; one given must precede the
	// recording.
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
	// R6: a team may be recorded only during the periods it was told of.
	if ok, err := s.Store.RecordingAllowed(ctx, md.GetTeamId(), md.StartedAt.AsTime()); err != nil {
		return store.Call{}, internal(s.Log, "check recording periods", err)
	} else if !ok {
		return store.Call{}, status.Errorf(codes.FailedPrecondition,
			"metadata.started_at: outside every recording period declared for team %s (R6)", md.GetTeamId())
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
		RetainedUntil: s.retainUntil(start),
		CreatedAt:     now,
	}, nil
}

func (s *Ingest) retainUntil(start time.Time) time.Time {
	if s.RetainUntil != nil {
		return s.RetainUntil(start)
	}
	return start.AddDate(0, DefaultRetentionMonths, 0)
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
