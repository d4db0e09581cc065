package core

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/ecoute/ecoute/backend/audio"
	"github.com/ecoute/ecoute/backend/audit"
	"github.com/ecoute/ecoute/backend/blobs"
	"github.com/ecoute/ecoute/backend/domain"
	"github.com/ecoute/ecoute/backend/plausibility"
	"github.com/ecoute/ecoute/backend/sampling"
	"github.com/ecoute/ecoute/backend/store"
	"github.com/ecoute/ecoute/internal/mp3frame"
)

// MaxUploadBytes bounds one recording: 12 hours of 16-bit stereo 8 kHz WAV
// (1.4 GB) fit, as does any MP3 of 12 hours up to 256 kbps. The upload
// streams to an encrypted temporary file, so this is a sanity bound, not
// memory.
const MaxUploadBytes = 1536 << 20

// Recording is the metadata of a call to store (ecoute.v1.RecordingMetadata
// as plain values; zero values are "not given").
type Recording struct {
	ExternalID         string
	StartedAt, EndedAt time.Time
	AgentID, TeamID    string
	CampaignID         string
	Direction          string
	Customer           Customer
	// Consent is required (nil: not given).
	Consent  *Consent
	Activity Activity
}

// Customer is who called or was called.
type Customer struct{ Name, PhoneE164, Address, Number string }

// Consent is the caller's answer to the recording notice (R3).
type Consent struct {
	RequestedAt, AnsweredAt time.Time
	Accepted                bool
}

// Activity holds the figures of R5.
type Activity struct {
	RingTime, TalkTime, BackOfficeTime time.Duration
	Type                               string
	Lost                               bool
}

// Stored is the outcome of an accepted upload.
type Stored struct {
	CallID    string
	Duplicate bool // external_id already known: nothing new stored
	Converted bool // the audio went through the transcoder
	// Repair says what of a damaged upload was left out or silenced to
	// store the rest; empty when nothing was.
	Repair string
}

// AudioKey is where a call's recording lives in the blob store.
func AudioKey(callID string) string { return "calls/" + callID[:2] + "/" + callID + ".mp3" }

// Ingest checks md (nil: no metadata was sent), then stores the audio read
// from r with its row. An opted-out call is refused before r is read at
// all (R3). The audio goes straight to an encrypted temporary file; the
// call is acknowledged (nil error) only once that file is synced and
// renamed into place and the row committed; every refusal leaves no row
// and no file. Each outcome is recorded (ingest.accepted, .duplicate,
// .refused, .refused.optout); a refusal names no call, and an opted-out
// caller leaves only a count. IngestService.UploadRecording and `ecouted
// ingest` both come here. r's errors that are typed (domain.Error) are
// returned as they are.
func (b *Backend) Ingest(ctx context.Context, c Caller, md *Recording, r io.Reader) (Stored, error) {
	res, err := b.ingest(ctx, md, r)
	action, e := audit.ActionIngestAccepted, entry{target: res.CallID}
	switch {
	case domain.Is(err, domain.ReasonOptedOut):
		action = audit.ActionIngestOptOut
	case err != nil:
		action, e = audit.ActionIngestRefused, entry{}
	case res.Duplicate:
		action = audit.ActionIngestDup
	case res.Converted || res.Repair != "":
		e.details = map[string]string{"converted": strconv.FormatBool(res.Converted)}
		if res.Repair != "" {
			e.details["repaired"] = res.Repair
		}
	}
	return res, b.record(ctx, c, action, e, err)
}

func (b *Backend) ingest(ctx context.Context, md *Recording, r io.Reader) (Stored, error) {
	if md == nil {
		return Stored{}, domain.Invalid("metadata", "the first message must be the metadata")
	}
	if md.Consent == nil {
		return Stored{}, domain.Invalid("metadata.consent", "is required (R3)")
	}
	if !md.Consent.Accepted {
		day := b.Clock.Now()
		if !md.StartedAt.IsZero() {
			day = md.StartedAt
		}
		if err := b.Store.AddOptOut(ctx, day, 1); err != nil {
			return Stored{}, domain.Internal("count opt-out", err)
		}
		return Stored{}, domain.New(domain.ReasonOptedOut, "the caller opted out of recording: nothing is stored (R3)")
	}
	call, facts, err := b.validate(ctx, md)
	if err != nil {
		return Stored{}, err
	}
	if id, err := b.Store.CallIDByExternalID(ctx, md.ExternalID); err == nil {
		return Stored{CallID: id, Duplicate: true}, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return Stored{}, domain.Internal("look up external id", err)
	}
	h := b.idHash(md.ExternalID)
	if gone, err := b.Store.SampledOut(ctx, h); err != nil {
		return Stored{}, domain.Internal("look up sampled-out calls", err)
	} else if gone {
		return Stored{}, sampledOut(md.ExternalID)
	}

	key := AudioKey(call.ID)
	raw, err := b.create(key)
	if err != nil {
		return Stored{}, domain.Internal("create audio", err)
	}
	defer raw.Discard()
	n, err := io.Copy(raw, io.LimitReader(r, MaxUploadBytes+1))
	if err != nil {
		return Stored{}, received(err)
	}
	if n > MaxUploadBytes {
		return Stored{}, domain.New(domain.ReasonAudioTooLarge, "audio: more than %d bytes", MaxUploadBytes).
			With(domain.MetaMaxBytes, strconv.Itoa(MaxUploadBytes))
	}
	if n == 0 {
		return Stored{}, domain.InvalidAs(domain.ReasonAudioFormatRefused, "audio", "no audio received")
	}
	if err := raw.Close(); err != nil {
		return Stored{}, domain.Internal("store audio", err)
	}
	final, ix, oc, err := b.canonical(ctx, key, raw)
	if err != nil {
		return Stored{}, err
	}
	if final != raw {
		defer final.Discard()
	}
	facts.Audio = ix.Duration()
	if err := plausibility.CheckAudio(facts); err != nil {
		return Stored{}, err
	}
	// Only the frame summary is stored now: the frame index and the peaks
	// are computed after the sampling, for the calls kept (Waveform).
	call.Audio = store.Audio{Key: key, Size: final.Size(), Codec: "mp3", SampleRate: ix.SampleRate,
		Channels: ix.Channels, BitrateKbps: ix.MeanKbps(), FrameCount: len(ix.Offsets),
		SamplesPerFrame: ix.SamplesPerFrame, Duration: ix.Duration(), Repair: oc.repair}

	// From here on the upload is complete and checked: finish storing it even
	// if the client goes away (a retry is then answered as a duplicate).
	ctx = context.WithoutCancel(ctx)
	res := b.commits.submit(ctx, b, &commitItem{up: store.PendingUpload{Call: store.NewCall{Call: call}, IDHash: h},
		blob: final, group: store.DayOf(call.StartedAt).Format(time.DateOnly)})
	switch {
	case res.err != nil:
		return Stored{}, res.err
	case res.outcome.SampledOut:
		return Stored{}, sampledOut(md.ExternalID)
	case res.outcome.Existing != "":
		return Stored{CallID: res.outcome.Existing, Duplicate: true}, nil
	}
	if oc.repair != "" {
		b.Log.Warn("damaged recording repaired", "call", call.ID, "external_id", call.ExternalID, "repair", oc.repair)
	}
	b.Log.Debug("recording stored", "call", call.ID, "external_id", call.ExternalID, "bytes", n,
		"converted", oc.converted, "repaired", oc.repair != "", "duration", call.Audio.Duration)
	return Stored{CallID: call.ID, Converted: oc.converted, Repair: oc.repair}, nil
}

// sampledOut refuses a call the sampling deleted (R2).
func sampledOut(externalID string) error {
	return domain.New(domain.ReasonSampledOut,
		"external_id %q: this call was uploaded before and deleted by the daily sampling; it is not stored again (R2: a retry is not another draw)",
		externalID).With(domain.MetaField, "metadata.external_id")
}

// idHash is the keyed hash of an external id (the sampling's).
func (b *Backend) idHash(externalID string) int64 {
	return sampling.NewHasher(b.IDKey).Hash(externalID)
}

// create starts a blob: staged for a pack when the store keeps packs.
func (b *Backend) create(key string) (blobs.Pending, error) {
	if pk, ok := b.Blobs.(blobs.Packer); ok {
		return pk.Stage(key)
	}
	return b.Blobs.Create(key)
}

// received is the error of reading the audio: the reader's own typed
// refusals and the end of the caller's context keep their reason.
func received(err error) error {
	switch {
	case errors.Is(err, context.Canceled):
		return domain.New(domain.ReasonCancelled, "the upload was cancelled")
	case errors.Is(err, context.DeadlineExceeded):
		return domain.New(domain.ReasonDeadlineExceeded, "the upload's deadline passed")
	}
	return failure("receive audio", err)
}

func refused(format string, a ...any) error {
	return domain.InvalidAs(domain.ReasonAudioFormatRefused, "audio", format, a...)
}

// outcome is what canonical did to an upload on its way to the store.
type outcome struct {
	converted bool
	repair    string // what was left out or silenced; "" when nothing
}

// canonical checks the sealed upload and returns the blob to keep (raw, a
// repaired copy or a converted one) with its frame index. Nothing is
// decoded: the frame headers say what is valid, and the peaks wait for the
// sampling.
func (b *Backend) canonical(ctx context.Context, key string, raw blobs.Pending) (blobs.Pending, mp3frame.Index, outcome, error) {
	src, err := raw.Open()
	if err != nil {
		return nil, mp3frame.Index{}, outcome{}, domain.Internal("read back audio", err)
	}
	defer src.Close()
	head := make([]byte, 12)
	k, _ := src.ReadAt(head, 0)
	if audio.IsWAV(head[:k]) {
		return b.fromWAV(ctx, key, src)
	}
	ix, err := audio.Inspect(src, src.Size())
	if err != nil {
		var fe *mp3frame.FormatError
		if errors.As(err, &fe) {
			// MPEG audio this package does not index (free-format bitrate,
			// Layer I or II): a transcoder may read it. ffmpeg cannot read
			// free-format MP3; lame can.
			what := fe.What()
			switch {
			case b.Transcoder == nil && fe.Free:
				return nil, mp3frame.Index{}, outcome{}, refused("%s is not stored as it is and no transcoder is configured: lame would convert it (ffmpeg cannot read free-format MP3); %s", what, audio.Accepted(false))
			case b.Transcoder == nil:
				return nil, mp3frame.Index{}, outcome{}, refused("%s is not stored as it is and no transcoder is configured: a transcoder would convert it; %s", what, audio.Accepted(false))
			case fe.Free && b.Transcoder.Kind == "ffmpeg":
				return nil, mp3frame.Index{}, outcome{}, refused("%s cannot be converted by ffmpeg, the configured transcoder: ffmpeg cannot read free-format MP3; set ingest.transcoder: lame to convert it", what)
			}
			return b.convert(ctx, key, outcome{}, func(out io.Writer) error {
				return b.Transcoder.FromMP3(ctx, io.NewSectionReader(src, 0, src.Size()), fe.Channels == 2, out)
			})
		}
		return nil, mp3frame.Index{}, outcome{}, refused("%v", err)
	}
	var oc outcome
	if ix.Repaired() {
		oc.repair = ix.RepairSummary()
	}
	if perr := ix.Profile(); perr != nil {
		if b.Transcoder == nil {
			return nil, mp3frame.Index{}, outcome{}, refused("%s is not stored as it is and no transcoder is configured: a transcoder would convert it; %s",
				describeMP3(ix), audio.Accepted(false))
		}
		// The transcoder gets what is valid of a damaged file.
		return b.convert(ctx, key, oc, func(out io.Writer) error {
			return b.Transcoder.FromMP3(ctx, ix.NewFrameReader(io.NewSectionReader(src, 0, src.Size())).Reader(), ix.Channels == 2, out)
		})
	}
	if !ix.Repaired() {
		return raw, ix, oc, nil
	}
	// Damaged (junk, a cut frame, lost frames): keep what is valid.
	p, err := b.create(key)
	if err != nil {
		return nil, mp3frame.Index{}, outcome{}, domain.Internal("create repaired audio", err)
	}
	fail := func(e error) (blobs.Pending, mp3frame.Index, outcome, error) {
		p.Discard()
		return nil, mp3frame.Index{}, outcome{}, e
	}
	if err := audio.WriteRepaired(p, src, src.Size(), &ix); err != nil {
		return fail(refused("%v", err))
	}
	if err := p.Close(); err != nil {
		return fail(domain.Internal("store repaired audio", err))
	}
	rb, err := p.Open()
	if err != nil {
		return fail(domain.Internal("read back repaired audio", err))
	}
	defer rb.Close()
	rix, err := audio.IndexWhole(rb, rb.Size())
	if err != nil {
		return fail(refused("even repaired (%s), %v", oc.repair, err))
	}
	return p, rix, oc, nil
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
func (b *Backend) fromWAV(ctx context.Context, key string, src blobs.Blob) (blobs.Pending, mp3frame.Index, outcome, error) {
	w, err := audio.ParseWAV(src, src.Size())
	if err != nil {
		return nil, mp3frame.Index{}, outcome{}, refused("%v", err)
	}
	oc := outcome{repair: w.Repair}
	switch {
	case b.Transcoder == nil && w.Known():
		help := "ffmpeg or lame would convert it"
		if !w.Decodable() {
			help = "ffmpeg would convert it (lame cannot decode " + w.EncodingName() + ")"
		}
		return nil, mp3frame.Index{}, outcome{}, refused("%s is not stored as it is and no transcoder is configured: %s (ingest.transcoder); %s",
			w.Describe(), help, audio.Accepted(false))
	case b.Transcoder == nil:
		return nil, mp3frame.Index{}, outcome{}, refused("%s is not stored as it is and is not a WAV encoding Écoute converts (%s); %s",
			w.Describe(), audio.WAVFormats, audio.Accepted(false))
	case !b.Transcoder.ReadsWAV(w):
		return nil, mp3frame.Index{}, outcome{}, refused("%s cannot be converted by lame, the configured transcoder: lame is given raw samples, which Écoute decodes only from PCM and G.711 WAV; set ingest.transcoder: ffmpeg to convert it",
			w.Describe())
	}
	stereo := w.Channels == 2
	if stereo {
		// A mono recording written on two channels is not two parties.
		dual, err := w.DualMono(src)
		if err != nil {
			return nil, mp3frame.Index{}, outcome{}, domain.Internal("read WAV", err)
		}
		stereo = !dual
	}
	channels := 1
	if stereo {
		channels = 2
	}
	if b.Transcoder.Kind == "ffmpeg" {
		return b.convert(ctx, key, oc, func(out io.Writer) error {
			return b.Transcoder.FromWAV(ctx, w.NormalizedWAV(src), stereo, out)
		})
	}
	pcm := w.PCM(src, channels)
	defer pcm.Close()
	return b.convert(ctx, key, oc, func(out io.Writer) error {
		return b.Transcoder.FromPCM(ctx, pcm, w.SampleRate, channels, out)
	})
}

// convert writes the transcoder's output to a new sealed blob and checks it
// as if it had been uploaded.
func (b *Backend) convert(ctx context.Context, key string, oc outcome, run func(io.Writer) error) (blobs.Pending, mp3frame.Index, outcome, error) {
	p, err := b.create(key)
	if err != nil {
		return nil, mp3frame.Index{}, outcome{}, domain.Internal("create converted audio", err)
	}
	fail := func(e error) (blobs.Pending, mp3frame.Index, outcome, error) {
		p.Discard()
		return nil, mp3frame.Index{}, outcome{}, e
	}
	if err := run(p); err != nil {
		if ctx.Err() != nil {
			return fail(received(ctx.Err()))
		}
		return fail(refused("conversion failed: %v", err))
	}
	if err := p.Close(); err != nil {
		return fail(domain.Internal("store converted audio", err))
	}
	src, err := p.Open()
	if err != nil {
		return fail(domain.Internal("read back converted audio", err))
	}
	defer src.Close()
	ix, err := audio.IndexWhole(src, src.Size())
	if err != nil {
		return fail(refused("the converted audio is not usable: %v", err))
	}
	oc.converted = true
	return p, ix, oc, nil
}

// validate checks the metadata (the plausibility table, then the
// directory) and builds the row of the upload; the facts are completed with
// the audio's length for the table's audio rules.
func (b *Backend) validate(ctx context.Context, md *Recording) (store.Call, plausibility.Facts, error) {
	now := b.Clock.Now()
	con, cu, act := md.Consent, md.Customer, md.Activity
	f := plausibility.Facts{Now: now, Upload: plausibility.Upload{ExternalID: md.ExternalID, StartedAt: md.StartedAt,
		EndedAt: md.EndedAt, AgentID: md.AgentID, TeamID: md.TeamID, CampaignID: md.CampaignID, Direction: md.Direction,
		CustomerName: cu.Name, CustomerPhone: cu.PhoneE164, CustomerAddress: cu.Address, CustomerNumber: cu.Number,
		ConsentRequestedAt: con.RequestedAt, ConsentAnsweredAt: con.AnsweredAt, RingTime: act.RingTime,
		TalkTime: act.TalkTime, BackOfficeTime: act.BackOfficeTime, ActivityType: act.Type}}
	if !md.StartedAt.IsZero() {
		f.KeptUntil = b.Settings.RecordingKeptUntil(md.StartedAt)
	}
	// The input limits first (sizes, instants a store can hold), then the
	// plausibility table.
	if err := CheckRecording(md); err != nil {
		return store.Call{}, f, err
	}
	if teams, err := b.Store.AgentTeams(ctx, md.AgentID); err == nil {
		f.AgentTeams = teams
	} else if !errors.Is(err, store.ErrNotFound) {
		return store.Call{}, f, domain.Internal("look up the agent's teams", err)
	}
	if err := plausibility.CheckMetadata(f); err != nil {
		return store.Call{}, f, err
	}
	// The directory is the administrator's: an upload never adds to it
	// (README, "Who adds agents"), and an ended entry takes no recording
	// started after its end.
	if a, err := b.Store.AgentByID(ctx, md.AgentID); err != nil {
		return store.Call{}, f, lookupErr(err, "metadata.agent_id", md.AgentID)
	} else if err := endedBefore(KindAgent, a.ID, a.EndedAt, md.StartedAt); err != nil {
		return store.Call{}, f, err
	}
	if t, err := b.Store.TeamByID(ctx, md.TeamID); err != nil {
		return store.Call{}, f, lookupErr(err, "metadata.team_id", md.TeamID)
	} else if err := endedBefore(KindTeam, t.ID, t.EndedAt, md.StartedAt); err != nil {
		return store.Call{}, f, err
	}
	// R6: a team may be recorded only during the periods it was told of.
	if ok, err := b.Store.RecordingAllowed(ctx, md.TeamID, md.StartedAt); err != nil {
		return store.Call{}, f, domain.Internal("check recording periods", err)
	} else if !ok {
		return store.Call{}, f, domain.New(domain.ReasonOutsideRecordingPeriod,
			"metadata.started_at: outside every recording period declared for team %s (R6)", md.TeamID).
			With(domain.MetaTeamID, md.TeamID)
	}
	if p, err := b.Store.CampaignByID(ctx, md.CampaignID); err != nil {
		return store.Call{}, f, lookupErr(err, "metadata.campaign_id", md.CampaignID)
	} else if err := endedBefore(KindCampaign, p.ID, p.EndedAt, md.StartedAt); err != nil {
		return store.Call{}, f, err
	}
	return store.Call{
		ID: NewID(), ExternalID: md.ExternalID, StartedAt: md.StartedAt, EndedAt: md.EndedAt,
		AgentID: md.AgentID, TeamID: md.TeamID, CampaignID: md.CampaignID, Direction: md.Direction,
		CustomerName: cu.Name, CustomerPhone: cu.PhoneE164, CustomerAddress: cu.Address, CustomerNumber: cu.Number,
		ConsentRequestedAt: con.RequestedAt, ConsentAnsweredAt: con.AnsweredAt, ConsentAccepted: true,
		RingTime: act.RingTime, TalkTime: act.TalkTime, BackOfficeTime: act.BackOfficeTime, ActivityType: act.Type,
		Lost: act.Lost, State: store.StatePending, RetainedUntil: f.KeptUntil, CreatedAt: now,
	}, f, nil
}

func lookupErr(err error, field, id string) error {
	if errors.Is(err, store.ErrNotFound) {
		if id == "" {
			return domain.Invalid(field, "is required")
		}
		return domain.Invalid(field, "unknown %q: uploads do not add to the directory; an administrator adds it first (ecouted directory import)", id)
	}
	return domain.Internal("look up "+field, err)
}

// endedBefore refuses a recording started at or after the end of the
// directory entry that it names (a recording made before the end and
// uploaded later is accepted).
func endedBefore(kind, id string, ended, started time.Time) error {
	if ended.IsZero() || started.Before(ended) {
		return nil
	}
	return Ended(kind, id, ended)
}
