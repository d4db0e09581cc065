package client

import (
	"context"
	"fmt"
	"sync"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
)

func durationOrNil(d time.Duration) *durationpb.Duration {
	if d == 0 {
		return nil
	}
	return durationpb.New(d)
}

// DisplayBuckets is the resolution GetWaveform asks for: wider than any
// terminal, a few kilobytes whatever the length of the call (the console
// reduces it to its width).
const DisplayBuckets = 2048

// indexPage is how many frame offsets one GetWaveform page asks for: 16,384
// frames are 9.8 minutes at 16 kHz, about 80 KB on the wire.
const indexPage = 1 << 14

// indexPagesKept bounds the pages a call keeps in memory.
const indexPagesKept = 8

// FrameIndex is a recording's frame index read a page at a time; it has
// the method set of the player's FrameIndex, so the console hands it to
// the player without this package knowing the player.
type FrameIndex interface {
	Frames() int
	Offsets(ctx context.Context, from, n int) ([]int64, error)
}

// Playback is what a player needs to play a call, as the server describes
// it: the format, the frame index (whole, or read a page at a time) and a
// way to fetch the peaks at full resolution.
type Playback struct {
	Size            int64
	SampleRate      int
	SamplesPerFrame int
	Channels        int
	// FrameOffsets is the whole index when the first reply carried it;
	// otherwise Index reads it a page at a time.
	FrameOffsets []int64
	Index        FrameIndex
	// PeaksFunc fetches the peaks at the stored resolution (for the
	// silence jumps), the first time they are needed.
	PeaksFunc func(ctx context.Context) ([]byte, time.Duration, error)
}

// PlaybackInfo completes what GetWaveform answered (wf) into what the
// player needs for the call: the frame index, held whole when the first
// reply carried it, otherwise fetched a page at a time when playback gets
// there; and the peaks at full resolution for the silence jumps, fetched
// the first time one is asked for.
func (c *Client) PlaybackInfo(callID string, wf *ecoutev1.GetWaveformResponse, size int64) Playback {
	return c.playbackInfo(callID, "", wf, size)
}

// waveRequest names a call, or a blind calibration's call.
func waveRequest(callID, calibration string) *ecoutev1.GetWaveformRequest {
	if calibration != "" {
		return &ecoutev1.GetWaveformRequest{CalibrationId: calibration}
	}
	return &ecoutev1.GetWaveformRequest{CallId: callID}
}

func (c *Client) playbackInfo(callID, calibration string, wf *ecoutev1.GetWaveformResponse, size int64) Playback {
	info := Playback{
		Size:            size,
		SampleRate:      int(wf.GetSampleRate()),
		SamplesPerFrame: int(wf.GetSamplesPerFrame()),
		Channels:        int(wf.GetChannels()),
	}
	total := int(wf.GetTotalFrames())
	first := wf.GetFrameOffsets()
	switch {
	case total == 0 && wf.GetFirstFrame() == 0:
		// A server from before the index came in pages: the reply is
		// the whole index.
		info.FrameOffsets = first
	case wf.GetFirstFrame() == 0 && len(first) == total:
		info.FrameOffsets = first
	default:
		idx := &pagedIndex{c: c, callID: callID, calibration: calibration, total: total, pages: map[int][]int64{}}
		for k := 0; wf.GetFirstFrame() == 0 && (k+1)*indexPage <= len(first) && k < indexPagesKept; k++ {
			idx.pages[k*indexPage] = first[k*indexPage : (k+1)*indexPage]
			idx.order = append(idx.order, k*indexPage)
		}
		info.Index = idx
	}
	info.PeaksFunc = func(ctx context.Context) ([]byte, time.Duration, error) {
		return c.fullPeaks(ctx, callID, calibration)
	}
	return info
}

// fullPeaks fetches a call's peaks at the stored resolution (one per
// 50 ms), a page at a time: twelve hours are 14 replies of 64 KB.
func (c *Client) fullPeaks(ctx context.Context, callID, calibration string) ([]byte, time.Duration, error) {
	none := int32(0)
	var peaks []byte
	var bucket, from time.Duration
	for {
		var resp *ecoutev1.GetWaveformResponse
		err := c.conns.do(ctx, fmt.Sprintf("peaks of call %s from %v", callID, from), Again, func(ctx context.Context) (err error) {
			req := waveRequest(callID, calibration)
			req.FrameCount, req.From = &none, durationOrNil(from)
			resp, err = c.calls.GetWaveform(ctx, req)
			return err
		})
		if err != nil {
			return nil, 0, err
		}
		b := resp.GetBucket().AsDuration()
		if bucket == 0 {
			bucket = b
		}
		if b != bucket || b <= 0 || resp.GetFrom().AsDuration() != from {
			return nil, 0, fmt.Errorf("peaks of call %s: a page of %v buckets from %v, after %v buckets up to %v",
				callID, b, resp.GetFrom().AsDuration(), bucket, from)
		}
		peaks = append(peaks, resp.GetPeaks()...)
		from = time.Duration(len(peaks)) * bucket
		if len(resp.GetPeaks()) == 0 || from >= resp.GetDuration().AsDuration() {
			return peaks, bucket, nil
		}
	}
}

// pagedIndex is a call's frame index fetched from the server a page at a
// time, keeping the last few pages.
type pagedIndex struct {
	c           *Client
	callID      string
	calibration string
	total       int

	mu    sync.Mutex
	pages map[int][]int64 // by first frame
	order []int
}

func (p *pagedIndex) Frames() int { return p.total }

func (p *pagedIndex) Offsets(ctx context.Context, from, n int) ([]int64, error) {
	if from < 0 || from > p.total {
		return nil, fmt.Errorf("frame %d is outside the index (%d frames)", from, p.total)
	}
	n = min(n, p.total-from)
	out := make([]int64, 0, n)
	for len(out) < n {
		i := from + len(out)
		start := i / indexPage * indexPage
		page, err := p.page(ctx, start)
		if err != nil {
			return nil, err
		}
		k := i - start
		if k >= len(page) {
			return nil, fmt.Errorf("frame index of call %s: page at %d holds %d frames, want %d", p.callID, start, len(page), k+1)
		}
		out = append(out, page[k:min(len(page), k+n-len(out))]...)
	}
	return out, nil
}

func (p *pagedIndex) page(ctx context.Context, start int) ([]int64, error) {
	p.mu.Lock()
	pg, ok := p.pages[start]
	p.mu.Unlock()
	if ok {
		return pg, nil
	}
	none, count := int32(0), int32(indexPage)
	var resp *ecoutev1.GetWaveformResponse
	err := p.c.conns.do(ctx, fmt.Sprintf("frame index of call %s from frame %d", p.callID, start), Again, func(ctx context.Context) (err error) {
		req := waveRequest(p.callID, p.calibration)
		req.Buckets, req.FirstFrame, req.FrameCount = &none, int32(start), &count
		resp, err = p.c.calls.GetWaveform(ctx, req)
		return err
	})
	if err != nil {
		return nil, err
	}
	pg = resp.GetFrameOffsets()
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.pages[start]; !ok {
		p.order = append(p.order, start)
		if len(p.order) > indexPagesKept {
			delete(p.pages, p.order[0])
			p.order = p.order[1:]
		}
	}
	p.pages[start] = pg
	return pg, nil
}

// Calls is the CallService itself, for what the methods here do not cover
// (a GetWaveform asking for something else than the console does).
func (c *Client) Calls() ecoutev1.CallServiceClient { return c.calls }
