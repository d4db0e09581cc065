package service

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/backend/audio"
	"github.com/ecoute/ecoute/backend/blobs"
	"github.com/ecoute/ecoute/backend/domain"
	"github.com/ecoute/ecoute/backend/limits"
	"github.com/ecoute/ecoute/backend/policy"
	"github.com/ecoute/ecoute/backend/store"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Page sizes and the audio chunk size.
const (
	DefaultPageSize = 50
	MaxPageSize     = 500
	ChunkSize       = 32 << 10
)

// Calls implements CallService.
type Calls struct {
	ecoutev1.UnimplementedCallServiceServer
	Store store.Store
	Blobs blobs.Store
	// Waveforms computes what a kept call lacks for playback (core); nil
	// serves what the store holds.
	Waveforms Waveforms
	// KeptUntil dates a recording's deletion from its start (config's one
	// function, the purge's); nil shows the date stored with the call.
	KeptUntil func(start time.Time) time.Time
	// Calibrations resolves calibration_id: the call an evaluator of a
	// blind calibration hears without its id or agent; nil refuses it.
	Calibrations CalibrationCalls
}

// Waveforms gives what playback needs of a kept call, computing it on the
// first open; pending says the peaks are still being computed.
type Waveforms interface {
	Waveform(ctx context.Context, id string, scope store.Scope) (w store.Waveform, pending bool, err error)
}

// CalibrationCalls finds the call of a calibration the user takes part in
// (core.Backend implements it).
type CalibrationCalls interface {
	CalibrationCall(ctx context.Context, u domain.User, calibrationID string) (store.Call, error)
}

// heard is the call a listening names: by call_id in the caller's scope,
// or, for a blind calibration's evaluator, by calibration_id.
func (s *Calls) heard(ctx context.Context, u store.User, callID, calibrationID string) (store.Call, error) {
	if calibrationID == "" {
		return s.get(ctx, u, callID)
	}
	if callID != "" {
		return store.Call{}, domain.Invalid("call_id", "give call_id or calibration_id, not both")
	}
	if s.Calibrations == nil {
		return store.Call{}, domain.NotFound("calibration %s not found", calibrationID)
	}
	return s.Calibrations.CalibrationCall(ctx, u, calibrationID)
}

// pageToken is the opaque continuation of a listing. It is tied to the order
// and filter it was made for, so it cannot be replayed against another query.
type pageToken struct {
	Order string `json:"o"`
	Int   int64  `json:"i,omitempty"`
	Str   string `json:"s,omitempty"`
	ID    string `json:"id"`
	// Agent is the last call's agent in agent-name order (calls of
	// agents named alike are kept apart by agent id).
	Agent  string `json:"a,omitempty"`
	Filter string `json:"f"`
}

// parsePageToken reads a page token made for order and the filter hash
// fh. Fuzzed (FuzzPageToken).
func parsePageToken(t, order, fh string) (*store.Cursor, error) {
	var pt pageToken
	raw, err := base64.RawURLEncoding.DecodeString(t)
	if err == nil {
		err = json.Unmarshal(raw, &pt)
	}
	if err != nil || pt.ID == "" || limits.ID("page_token", pt.ID) != nil {
		return nil, domain.Invalid("page_token", "malformed")
	}
	if pt.Order != order || pt.Filter != fh {
		return nil, domain.Invalid("page_token", "made for another order_by or filter")
	}
	return &store.Cursor{Int: pt.Int, Str: pt.Str, ID: pt.ID, Agent: pt.Agent}, nil
}

func filterHash(f *ecoutev1.CallFilter) string {
	b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(f)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:8])
}

func parseOrder(s string) (key string, desc bool, err error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return store.OrderStartedAt, true, nil
	}
	f := strings.Fields(s)
	if len(f) > 2 || (len(f) == 2 && !strings.EqualFold(f[1], "desc") && !strings.EqualFold(f[1], "asc")) {
		return "", false, domain.Invalid("order_by", "%q is not \"<field> [desc]\"", s)
	}
	switch f[0] {
	case store.OrderStartedAt, store.OrderDuration, store.OrderAgentName:
	default:
		return "", false, domain.Invalid("order_by", "unknown field %q (started_at, duration, agent_name)", f[0])
	}
	return f[0], len(f) == 2 && strings.EqualFold(f[1], "desc"), nil
}

// ListCalls lists the kept calls the caller may see.
func (s *Calls) ListCalls(ctx context.Context, req *ecoutev1.ListCallsRequest) (*ecoutev1.ListCallsResponse, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	role := p.User.Role
	if err := errors.Join(limits.Line("order_by", req.GetOrderBy(), limits.MaxName),
		limits.Line("page_token", req.GetPageToken(), limits.MaxPageToken)); err != nil {
		de, _ := domain.As(err)
		return nil, de
	}
	key, desc, err := parseOrder(req.GetOrderBy())
	if err != nil {
		return nil, err
	}
	if key == store.OrderAgentName && !policy.Visible(role, policy.FieldAgentName) {
		return nil, fieldForbidden(role, policy.FieldAgentName, "order_by: your role may not see agent names")
	}
	size := int(req.GetPageSize())
	switch {
	case size < 0:
		return nil, domain.Invalid("page_size", "must not be negative")
	case size == 0:
		size = DefaultPageSize
	case size > MaxPageSize:
		size = MaxPageSize
	}
	f, err := s.filter(role, req.GetFilter())
	if err != nil {
		return nil, err
	}
	order := key
	if desc {
		order += " desc"
	}
	fh := filterHash(req.GetFilter())
	q := store.ListQuery{Scope: policy.Scope(p.User), Filter: f, Order: key, Desc: desc, Limit: size + 1}
	if t := req.GetPageToken(); t != "" {
		if q.After, err = parsePageToken(t, order, fh); err != nil {
			return nil, err
		}
	}
	page, err := s.Store.ListCallsPage(ctx, q)
	if err != nil {
		return nil, domain.Internal("list calls", err)
	}
	calls := page.Calls
	resp := &ecoutev1.ListCallsResponse{TotalSize: page.Total, TotalIsEstimate: page.TotalIsEstimate}
	if len(calls) > size {
		calls = calls[:size]
		last := calls[len(calls)-1]
		pt := pageToken{Order: order, ID: last.ID, Filter: fh}
		switch key {
		case store.OrderStartedAt:
			pt.Int = last.StartedAt.UnixMilli()
		case store.OrderDuration:
			pt.Int = last.Audio.Duration.Milliseconds()
		case store.OrderAgentName:
			pt.Str, pt.Agent = last.AgentName, last.AgentID
		}
		b, _ := json.Marshal(pt)
		resp.NextPageToken = base64.RawURLEncoding.EncodeToString(b)
	}
	for _, c := range calls {
		resp.Calls = append(resp.Calls, toProto(role, s.dated(c)))
	}
	if req.GetPageToken() == "" {
		if err := s.addChoices(ctx, role, q.Scope, resp); err != nil {
			return nil, err
		}
	}
	return resp, nil
}

// addChoices fills the names the console completes in its filter prompt,
// each kind only when the role may both see the name and filter by the id.
func (s *Calls) addChoices(ctx context.Context, role string, scope store.Scope, resp *ecoutev1.ListCallsResponse) error {
	ch, err := s.Store.FilterChoices(ctx, scope)
	if err != nil {
		return domain.Internal("list filter choices", err)
	}
	conv := func(cs []store.Choice, idField, nameField string) []*ecoutev1.FilterChoice {
		if !policy.Visible(role, idField) || !policy.Visible(role, nameField) {
			return nil
		}
		out := make([]*ecoutev1.FilterChoice, len(cs))
		for i, c := range cs {
			out[i] = &ecoutev1.FilterChoice{Id: c.ID, Name: c.Name}
		}
		return out
	}
	resp.Agents = conv(ch.Agents, policy.FieldAgentID, policy.FieldAgentName)
	resp.Teams = conv(ch.Teams, policy.FieldTeamID, policy.FieldTeamName)
	resp.Campaigns = conv(ch.Campaigns, policy.FieldCampaignID, policy.FieldCampaignName)
	return nil
}

// filter converts the request filter, refusing filters on fields the role
// may not see: filtering by agent would tell a maintenance account whose
// calls these are.
func (s *Calls) filter(role string, f *ecoutev1.CallFilter) (store.Filter, error) {
	var out store.Filter
	if f == nil {
		return out, nil
	}
	if err := checkFilter(f); err != nil {
		return out, err
	}
	need := func(field, name string) error {
		if !policy.Visible(role, field) {
			return fieldForbidden(role, field, "filter.%s: your role may not filter on %s", name, field)
		}
		return nil
	}
	if len(f.GetTeamIds()) > 0 {
		if err := need(policy.FieldTeamID, "team_ids"); err != nil {
			return out, err
		}
	}
	if len(f.GetAgentIds()) > 0 {
		if err := need(policy.FieldAgentID, "agent_ids"); err != nil {
			return out, err
		}
	}
	if len(f.GetCampaignIds()) > 0 {
		if err := need(policy.FieldCampaignID, "campaign_ids"); err != nil {
			return out, err
		}
	}
	if f.GetEvaluated() != ecoutev1.EvaluatedFilter_EVALUATED_FILTER_UNSPECIFIED {
		if err := need(policy.FieldEvaluated, "evaluated"); err != nil {
			return out, err
		}
		v := f.GetEvaluated() == ecoutev1.EvaluatedFilter_EVALUATED_FILTER_YES
		out.Evaluated = &v
	}
	if f.StartedAfter != nil {
		out.StartedAfter = f.StartedAfter.AsTime()
	}
	if f.StartedBefore != nil {
		out.StartedBefore = f.StartedBefore.AsTime()
	}
	out.TeamIDs, out.AgentIDs, out.CampaignIDs = f.GetTeamIds(), f.GetAgentIds(), f.GetCampaignIds()
	if f.MinDuration != nil {
		out.MinDuration = f.MinDuration.AsDuration()
	}
	if f.MaxDuration != nil {
		out.MaxDuration = f.MaxDuration.AsDuration()
	}
	if out.MinDuration < 0 || out.MaxDuration < 0 {
		return out, domain.Invalid("filter.min_duration", "min_duration and max_duration must not be negative")
	}
	if f.MinScore != nil || f.MaxScore != nil {
		// A score is part of an evaluation: only who may read them may
		// sort calls by it.
		if !policy.Allowed(role, policy.MGetEvaluation) {
			return out, domain.Forbidden(role, "filter by score", "filter.min_score/max_score: your role may not read evaluations")
		}
		for name, v := range map[string]*float64{"min_score": f.MinScore, "max_score": f.MaxScore} {
			if v != nil && (*v < 0 || *v > 100) {
				return out, domain.Invalid("filter."+name, "%v is not a percentage (0 to 100)", *v)
			}
		}
		if f.MinScore != nil && f.MaxScore != nil && *f.MinScore > *f.MaxScore {
			return out, domain.Invalid("filter.min_score", "greater than max_score")
		}
		out.MinScore, out.MaxScore = f.MinScore, f.MaxScore
	}
	return out, nil
}

// GetCall returns one call the caller may see.
func (s *Calls) GetCall(ctx context.Context, req *ecoutev1.GetCallRequest) (*ecoutev1.GetCallResponse, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.get(ctx, p.User, req.GetCallId())
	if err != nil {
		return nil, err
	}
	return &ecoutev1.GetCallResponse{Call: toProto(p.User.Role, s.dated(c))}, nil
}

// get finds a call in the caller's scope. A call outside the scope is "not
// found", so its existence does not leak.
func (s *Calls) get(ctx context.Context, u store.User, id string) (store.Call, error) {
	if id == "" {
		return store.Call{}, domain.Invalid("call_id", "is required")
	}
	if err := limits.ID("call_id", id); err != nil {
		return store.Call{}, err
	}
	c, err := s.Store.GetCall(ctx, id, policy.Scope(u))
	if errors.Is(err, store.ErrNotFound) {
		return store.Call{}, domain.NotFound("call %s not found", id)
	}
	if err != nil {
		return store.Call{}, domain.Internal("get call", err)
	}
	return c, nil
}

// StreamAudio sends the stored MP3 bytes from an offset in 32 KiB chunks.
func (s *Calls) StreamAudio(req *ecoutev1.StreamAudioRequest, stream grpc.ServerStreamingServer[ecoutev1.AudioChunk]) error {
	ctx := stream.Context()
	p, err := principal(ctx)
	if err != nil {
		return err
	}
	if !policy.Visible(p.User.Role, policy.FieldAudioStream) {
		return fieldForbidden(p.User.Role, policy.FieldAudioStream, "your role may not listen to calls")
	}
	if req.GetOffset() < 0 {
		return domain.Invalid("offset", "must not be negative")
	}
	if req.GetLength() < 0 {
		return domain.Invalid("length", "must not be negative")
	}
	if req.GetLength() > math.MaxInt64-req.GetOffset() {
		return domain.Invalid("length", "offset + length is beyond any audio (%d + %d overflows)", req.GetOffset(), req.GetLength())
	}
	c, err := s.heard(ctx, p.User, req.GetCallId(), req.GetCalibrationId())
	if err != nil {
		return err
	}
	b, err := s.Blobs.Open(ctx, c.Audio.Key)
	if err != nil {
		return domain.Internal("open audio", err)
	}
	defer b.Close()
	size := b.Size()
	off := req.GetOffset()
	if off > size {
		return domain.New(domain.ReasonOutOfRange, "offset: %d is beyond the end of the audio (%d bytes)", off, size).With(domain.MetaSize, strconv.FormatInt(size, 10))
	}
	end := size
	if l := req.GetLength(); l > 0 && off+l < size {
		end = off + l
	}
	buf := make([]byte, ChunkSize)
	first := true
	for first || off < end {
		n := int(min(int64(ChunkSize), end-off))
		if n > 0 {
			// ReadAt fills the buffer or says why not; io.EOF with a
			// full buffer is fine.
			if k, err := b.ReadAt(buf[:n], off); k < n {
				return domain.Internal("read audio", fmt.Errorf("call %s at %d: %w", c.ID, off, err))
			}
		}
		chunk := &ecoutev1.AudioChunk{Offset: off, Data: buf[:n]}
		if first {
			chunk.TotalSize, chunk.Codec = size, "mp3"
			first = false
		}
		if err := stream.Send(chunk); err != nil {
			return err
		}
		off += int64(n)
	}
	return nil
}

// GetWaveform returns the peaks and the frame index, computed after the
// sampling (on the first open when the daily job did not get to it yet):
// the peaks at the resolution asked for, the index a page at a time, so
// that a reply stays bounded whatever the length of the recording.
func (s *Calls) GetWaveform(ctx context.Context, req *ecoutev1.GetWaveformRequest) (*ecoutev1.GetWaveformResponse, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if !policy.Visible(p.User.Role, policy.FieldAudioStream) {
		return nil, fieldForbidden(p.User.Role, policy.FieldAudioStream, "your role may not listen to calls")
	}
	callID, scope := req.GetCallId(), policy.Scope(p.User)
	if req.GetCalibrationId() != "" {
		c, err := s.heard(ctx, p.User, callID, req.GetCalibrationId())
		if err != nil {
			return nil, err
		}
		callID, scope = c.ID, store.Scope{All: true}
	}
	if callID == "" {
		return nil, domain.Invalid("call_id", "is required")
	}
	if err := limits.ID("call_id", callID); err != nil {
		return nil, err
	}
	from, to := req.GetFrom().AsDuration(), req.GetTo().AsDuration()
	switch {
	case req.Buckets != nil && req.GetBuckets() < 0:
		return nil, domain.Invalid("buckets", "must not be negative")
	case req.FrameCount != nil && req.GetFrameCount() < 0:
		return nil, domain.Invalid("frame_count", "must not be negative")
	case req.GetFirstFrame() < 0:
		return nil, domain.Invalid("first_frame", "must not be negative")
	case from < 0 || to < 0:
		return nil, domain.Invalid("from", "from and to must not be negative")
	case to > 0 && to <= from:
		return nil, domain.Invalid("to", "must be after from")
	}
	var w store.Waveform
	var pending bool
	if s.Waveforms != nil {
		w, pending, err = s.Waveforms.Waveform(ctx, callID, scope)
	} else {
		w, err = s.Store.GetWaveform(ctx, callID, scope)
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, domain.NotFound("call %s not found", callID)
	}
	if err != nil {
		return nil, domain.Internal("get waveform", err)
	}
	total := len(w.FrameOffsets)
	resp := &ecoutev1.GetWaveformResponse{SamplesPerFrame: int32(w.SamplesPerFrame), SampleRate: int32(w.SampleRate), TotalSize: w.AudioSize,
		FirstFrame: req.GetFirstFrame(), TotalFrames: int32(total), Channels: int32(max(1, len(w.ChannelPeaks), w.Channels)),
		Bucket: durationpb.New(w.Bucket), PeaksPending: pending}
	if w.SampleRate > 0 {
		resp.Duration = durationpb.New(time.Duration(int64(total) * int64(w.SamplesPerFrame) * int64(time.Second) / int64(w.SampleRate)))
	}
	if req.Buckets == nil || req.GetBuckets() > 0 {
		win := audio.PeakWindow(w.Peaks, w.ChannelPeaks, w.Bucket, from, to, int(req.GetBuckets()))
		resp.Peaks, resp.ChannelPeaks = win.Peaks, win.Channels
		resp.Bucket, resp.From = durationpb.New(win.Bucket), durationpb.New(win.From)
	}
	if first := int(req.GetFirstFrame()); req.FrameCount == nil || req.GetFrameCount() > 0 {
		if first > total {
			return nil, domain.New(domain.ReasonOutOfRange, "first_frame: %d is beyond the last frame (%d frames)", first, total)
		}
		n := audio.MaxFrameOffsets
		if req.FrameCount != nil {
			n = min(n, int(req.GetFrameCount()))
		}
		resp.FrameOffsets = w.FrameOffsets[first:min(total, first+n)]
	}
	return resp, nil
}

// dated sets the call's deletion date from the one function that the
// purge uses too (config.Config.RecordingKeptUntil).
func (s *Calls) dated(c store.Call) store.Call {
	if s.KeptUntil != nil {
		c.RetainedUntil = s.KeptUntil(c.StartedAt)
	}
	return c
}

// fieldForbidden refuses a request that filters, sorts or reads a field the
// role may not see.
func fieldForbidden(role, field, format string, a ...any) error {
	return domain.New(domain.ReasonFieldForbidden, format, a...).With(domain.MetaRole, role).With(domain.MetaField, field)
}

// toProto converts a stored call and redacts it for role before anything is
// serialised.
func toProto(role string, c store.Call) *ecoutev1.Call {
	pc := &ecoutev1.Call{
		CallId:       c.ID,
		StartedAt:    timestamppb.New(c.StartedAt),
		EndedAt:      timestamppb.New(c.EndedAt),
		Duration:     durationpb.New(c.Audio.Duration),
		AgentId:      c.AgentID,
		AgentName:    c.AgentName,
		TeamId:       c.TeamID,
		TeamName:     c.TeamName,
		CampaignId:   c.CampaignID,
		CampaignName: c.CampaignName,
		Direction:    c.Direction,
		Customer: &ecoutev1.Customer{Name: c.CustomerName, PhoneE164: c.CustomerPhone, Address: c.CustomerAddress,
			CustomerNumber: c.CustomerNumber},
		Consent:       &ecoutev1.Consent{RequestedAt: timestamppb.New(c.ConsentRequestedAt), Accepted: c.ConsentAccepted},
		RetainedUntil: ts(c.RetainedUntil),
		Evaluated:     c.Evaluated,
		Audio: &ecoutev1.AudioInfo{Codec: c.Audio.Codec, SampleRate: int32(c.Audio.SampleRate),
			Channels: int32(c.Audio.Channels), BitrateKbps: int32(c.Audio.BitrateKbps), SizeBytes: c.Audio.Size,
			Duration: durationpb.New(c.Audio.Duration), FrameCount: int32(c.Audio.FrameCount), StorageState: "file",
			Repair: c.Audio.Repair},
	}
	if !c.ConsentAnsweredAt.IsZero() {
		pc.Consent.AnsweredAt = timestamppb.New(c.ConsentAnsweredAt)
	}
	policy.RedactCall(role, pc)
	return pc
}
