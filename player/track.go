package player

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Open loads a recording. Decoding starts at once into a small buffer, so
// Play is heard after one pull of the output. When info has no frame index,
// Open reads the whole source once to build it (a local file; the backend
// sends its index).
func (e *Engine) Open(src Source, info Info) (Track, error) {
	if info.FrameOffsets == nil && info.Index == nil {
		var err error
		if info, err = indexSource(context.Background(), src); err != nil {
			return nil, err
		}
	}
	if err := checkInfo(info); err != nil {
		return nil, fmt.Errorf("open recording: %w", err)
	}
	t := &track{
		e:      e,
		src:    src,
		info:   info,
		total:  int64(info.frames()) * int64(info.SamplesPerFrame),
		ratio:  float64(info.SampleRate) / SampleRate,
		speed:  1,
		gain:   1,
		party:  [2]float64{1, 1},
		kick:   make(chan struct{}, 1),
		events: make(chan Event, 16),
		done:   make(chan struct{}),
		fwd:    make(chan struct{}),
	}
	t.dec = startDecoder(src, info, playSpec{speed: 1}, e.log)
	go t.forward()
	e.add(t)
	return t, nil
}

// track implements Track. The output calls mix from its own goroutine; the
// UI calls the methods; both take mu only for short, I/O-free sections.
type track struct {
	e     *Engine
	src   Source
	info  Info
	total int64   // source samples in the recording
	ratio float64 // source samples per output sample

	mu        sync.Mutex
	dec       *decoder
	cur       chunk // chunk being played
	curOff    int   // samples of cur already played
	pos       float64
	playing   bool
	ended     bool
	failed    error
	wantFirst bool // report EventFirstSample on the next samples played
	closed    bool
	speed     float64
	volDB     float64
	gain      float64 // from volDB; applied in mix, so heard at once
	muted     bool
	// balance and partyMuted drive party, the gains of the two parties
	// (channels) of a two-party recording.
	balance    float64
	partyMuted [2]bool
	party      [2]float64
	loopA      int64 // source samples; loopB > loopA means looping
	loopB      int64

	gapsOnce sync.Once
	gaps     []Gap
	gapsErr  error

	evMu    sync.Mutex
	pending []Event
	kick    chan struct{}
	events  chan Event
	done    chan struct{} // closed by Close
	fwd     chan struct{} // closed when forward returns
	closing sync.Once
}

func (t *track) Play() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed || t.playing {
		return
	}
	if t.ended {
		t.restart(0)
	} else if t.failed != nil {
		// Retry from where it stopped: a network error may be over.
		t.restart(t.pos)
	}
	t.playing, t.wantFirst = true, true
	t.post(Event{Kind: EventPlaying, Position: t.position()})
}

func (t *track) Pause() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed || !t.playing {
		return
	}
	t.playing = false
	t.post(Event{Kind: EventPaused, Position: t.position()})
}

func (t *track) Toggle() {
	if t.Playing() {
		t.Pause()
	} else {
		t.Play()
	}
}

func (t *track) Seek(pos time.Duration) {
	pos = min(max(pos, 0), t.Duration())
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	t.restart(float64(pos) / float64(time.Second) * float64(t.info.SampleRate))
	t.wantFirst = true
}

// restart begins decoding again at a source sample, with the current speed
// and loop; mu is held.
func (t *track) restart(at float64) {
	t.dec.stop()
	start := min(max(int64(at), 0), t.total)
	t.dec = startDecoder(t.src, t.info, playSpec{start: start, speed: t.speed, loopA: t.loopA, loopB: t.loopB}, t.e.log)
	t.cur, t.curOff = chunk{}, 0
	t.pos = float64(start)
	t.ended, t.failed = false, nil
}

func (t *track) Position() time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.position()
}

func (t *track) position() time.Duration { return sourceTime(t.pos, t.info.SampleRate) }

func (t *track) Duration() time.Duration { return t.info.framesDuration(t.info.frames()) }

func (t *track) Playing() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.playing
}

func (t *track) Events() <-chan Event { return t.events }

func (t *track) Close() error {
	t.closing.Do(func() {
		t.mu.Lock()
		t.closed, t.playing = true, false
		t.dec.stop()
		t.mu.Unlock()
		t.e.remove(t)
		close(t.done)
		<-t.fwd
		close(t.events)
	})
	return nil
}

// mix adds the track's next samples to out and says how many it added. It
// only takes what the decoder has buffered: on underrun the rest stays
// silent and the position does not move, as on a real device that starved.
func (t *track) mix(out [][2]float64) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.playing {
		return 0
	}
	i := 0
	for i < len(out) {
		if t.curOff == len(t.cur.samples) {
			if !t.nextChunk() {
				break
			}
		}
		if t.wantFirst {
			t.wantFirst = false
			t.post(Event{Kind: EventFirstSample, Position: t.position()})
		}
		src := t.cur.samples[t.curOff:]
		n := min(len(src), len(out)-i)
		g := t.gain
		if t.muted {
			g = 0
		}
		gl, gr := g*t.party[0], g*t.party[1]
		for j := range n {
			out[i+j][0] += gl * src[j][0]
			out[i+j][1] += gr * src[j][1]
		}
		i += n
		t.curOff += n
		t.pos = t.cur.srcStart + float64(t.curOff)*t.cur.srcStep
	}
	return i
}

// nextChunk takes the next buffered chunk without waiting; false means
// nothing to play now (underrun, end or error). mu is held.
func (t *track) nextChunk() bool {
	select {
	case c, ok := <-t.dec.out:
		if !ok {
			t.playing, t.ended = false, true
			t.pos = float64(t.total)
			if t.info.Damage != nil {
				// Played up to the damage: say why it stops here.
				t.post(Event{Kind: EventError, Position: t.position(), Err: t.info.Damage})
				return false
			}
			t.post(Event{Kind: EventEnded, Position: t.position()})
			return false
		}
		if c.err != nil {
			t.playing, t.failed = false, c.err
			t.post(Event{Kind: EventError, Position: t.position(), Err: c.err})
			return false
		}
		t.cur, t.curOff = c, 0
		return true
	default:
		return false
	}
}

// post queues an event without blocking: mix runs on the audio path and
// must never wait for the UI to read Events.
func (t *track) post(ev Event) {
	t.evMu.Lock()
	t.pending = append(t.pending, ev)
	t.evMu.Unlock()
	select {
	case t.kick <- struct{}{}:
	default:
	}
}

// forward moves queued events to the Events channel, in order.
func (t *track) forward() {
	defer close(t.fwd)
	for {
		select {
		case <-t.done:
			return
		case <-t.kick:
		}
		t.evMu.Lock()
		evs := t.pending
		t.pending = nil
		t.evMu.Unlock()
		for _, ev := range evs {
			select {
			case t.events <- ev:
			case <-t.done:
				return
			}
		}
	}
}
