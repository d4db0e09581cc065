package core

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/ecoute/ecoute/backend/audio"
	"github.com/ecoute/ecoute/backend/domain"
	"github.com/ecoute/ecoute/backend/store"
	"github.com/ecoute/ecoute/internal/mp3frame"
)

// What only kept calls need is computed after the sampling, for them
// alone: 95 % of the uploads are deleted the next night and were never
// decoded. The frame index (for seeking) is read from the frame headers
// when a kept call is first opened, in milliseconds; the peaks (for
// drawing) need the audio decoded, which takes seconds for a long call, so
// they are computed in the background: by the daily job after the
// sampling, or when a call is opened before the job got to it. Meanwhile
// the call plays and seeks, and its waveform is shown as pending.

// Waveform returns what playback needs of a kept call within scope;
// pending says its peaks are still being computed (they are empty).
// store.ErrNotFound when the call is not found.
func (b *Backend) Waveform(ctx context.Context, id string, scope store.Scope) (w store.Waveform, pending bool, err error) {
	w, err = b.Store.GetWaveform(ctx, id, scope)
	if err != nil {
		return w, false, err
	}
	if len(w.FrameOffsets) == 0 {
		a, _, err := b.Store.IngestedAudio(ctx, id)
		if err != nil {
			return w, false, err
		}
		ix, err := b.index(ctx, a.Key)
		if err != nil {
			return w, false, domain.Internal("index the audio", err)
		}
		w.FrameOffsets, w.SamplesPerFrame, w.SampleRate = ix.Offsets, ix.SamplesPerFrame, ix.SampleRate
		if err := b.Store.SetWaveform(context.WithoutCancel(ctx), id, store.Waveform{FrameOffsets: ix.Offsets}); err != nil {
			return w, false, domain.Internal("store the frame index", err)
		}
	}
	if w.Bucket == 0 {
		w.Bucket = audio.Bucket
		b.peaks.start(b, id)
		return w, true, nil
	}
	return w, false, nil
}

// FillPeaks computes and stores the frame index and peaks of a kept call
// that lacks them. Audio that does not decode gets no peaks (an empty
// waveform, not pending forever).
func (b *Backend) FillPeaks(ctx context.Context, id string) error {
	a, w, err := b.Store.IngestedAudio(ctx, id)
	if err != nil {
		return err
	}
	if w.Bucket != 0 {
		return nil
	}
	blob, err := b.Blobs.Open(ctx, a.Key)
	if err != nil {
		return fmt.Errorf("open the audio of %s: %w", id, err)
	}
	defer blob.Close()
	ix, err := audio.Inspect(blob, blob.Size())
	if err != nil {
		return fmt.Errorf("index the audio of %s: %w", id, err)
	}
	nw := store.Waveform{FrameOffsets: ix.Offsets, Bucket: audio.Bucket}
	nw.Peaks, nw.ChannelPeaks, err = audio.Waveform(blob, blob.Size(), ix)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		b.Log.Warn("the audio of a call does not decode: no waveform", "call", id, "err", err)
		nw.Peaks, nw.ChannelPeaks = nil, nil
	}
	return b.Store.SetWaveform(ctx, id, nw)
}

// FillAllPeaks computes the peaks of every kept call lacking them, the
// most recent first, until none is left or ctx ends; the daily job runs it
// after the sampling. It returns how many calls it did.
func (b *Backend) FillAllPeaks(ctx context.Context) (int, error) {
	done := 0
	failed := map[string]bool{}
	for {
		ids, err := b.Store.CallsWithoutPeaks(ctx, 100+len(failed))
		if err != nil {
			return done, err
		}
		todo := 0
		for _, id := range ids {
			if failed[id] {
				continue
			}
			todo++
			if err := ctx.Err(); err != nil {
				return done, err
			}
			if err := b.FillPeaks(ctx, id); err != nil {
				if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
					return done, err
				}
				b.Log.Error("waveform", "call", id, "err", err)
				failed[id] = true
				continue
			}
			done++
		}
		if todo == 0 {
			return done, nil
		}
	}
}

func (b *Backend) index(ctx context.Context, key string) (ix mp3frame.Index, err error) {
	blob, err := b.Blobs.Open(ctx, key)
	if err != nil {
		return ix, err
	}
	defer blob.Close()
	return audio.Inspect(blob, blob.Size())
}

// peakWorker computes peaks in the background, one call at a time, each
// call once however many consoles open it.
type peakWorker struct {
	mu       sync.Mutex
	inflight map[string]bool
	sem      chan struct{}
	wg       sync.WaitGroup
	ctx      context.Context
	stop     context.CancelFunc
}

func (p *peakWorker) start(b *Backend, id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.inflight == nil {
		p.inflight = map[string]bool{}
		p.sem = make(chan struct{}, 1)
	}
	if p.stop == nil {
		p.ctx, p.stop = context.WithCancel(context.Background())
	}
	if p.inflight[id] || p.ctx.Err() != nil {
		return
	}
	p.inflight[id] = true
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer func() {
			p.mu.Lock()
			delete(p.inflight, id)
			p.mu.Unlock()
		}()
		select {
		case p.sem <- struct{}{}:
		case <-p.ctx.Done():
			return
		}
		defer func() { <-p.sem }()
		if err := b.FillPeaks(p.ctx, id); err != nil && p.ctx.Err() == nil {
			b.Log.Error("waveform", "call", id, "err", err)
		}
	}()
}

// Close stops the background work and waits for it.
func (b *Backend) Close() {
	p := &b.peaks
	p.mu.Lock()
	if p.stop == nil {
		p.ctx, p.stop = context.WithCancel(context.Background())
	}
	p.stop()
	p.mu.Unlock()
	p.wg.Wait()
}
