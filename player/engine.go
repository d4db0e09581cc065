package player

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/ecoute/ecoute/internal/clock"
)

// SampleRate is the one rate at which the engine hands samples to its
// output. Files are resampled to it. 48 kHz is what sound cards run at
// natively and an exact multiple of our 16 kHz recordings.
const SampleRate = 48000

// speakerBuffer is the device buffer (two periods), and also oto's buffer
// in front of it (see speakerChunk).
const speakerBuffer = 40 * time.Millisecond

// speakerDrain covers what the device and oto's buffer hold.
const speakerDrain = 3 * speakerBuffer

// EngineOptions configure NewEngine. The zero value is usable: real clock,
// speaker when a device opens, logs discarded.
type EngineOptions struct {
	// Clock drives the null output; nil means the real clock.
	Clock clock.Clock
	// ForceNull skips the sound device: samples go to the null output.
	ForceNull bool
	// Log receives diagnostics (device errors, decoder failures); nil
	// discards them. It must not be the terminal while a TUI runs.
	Log io.Writer
	// Manual opens no output at all: samples are mixed only when the
	// caller pulls them with Pull, as fast as it likes (rendering a
	// recording offline, tests that compare what the player produces).
	Manual bool
}

// Engine owns the one audio output of the process and mixes the tracks
// opened on it. Build one with NewEngine; there is one per process because
// the sound library allows one device context per process.
type Engine struct {
	clock clock.Clock
	log   io.Writer

	mu     sync.Mutex
	kind   OutputKind
	reason string
	tracks []*track
	null   *nullOutput
	closed bool
	// speaker keeps the device player reachable: oto closes a Player
	// that is garbage-collected, which silenced playback after the first
	// collection.
	speaker any
	// added is when a track was last opened: the speaker waits for its
	// first samples rather than queue silence in front of them.
	added time.Time
	// startSpeaker starts pulling samples for the device; called when a
	// track is opened (the device plays silence until then).
	startSpeaker func()
}

// NewEngine picks the output once: the speaker where a sound device really
// opens, otherwise the null output, which consumes samples at the pace of the
// clock. It never prints to the terminal.
func NewEngine(opts EngineOptions) *Engine {
	e := &Engine{clock: opts.Clock, log: opts.Log}
	if e.clock == nil {
		e.clock = clock.Real{}
	}
	if e.log == nil {
		e.log = io.Discard
	}
	if opts.Manual {
		e.kind, e.reason = OutputNull, "manual: samples are pulled by the caller"
		return e
	}
	if opts.ForceNull {
		e.useNull("silent: sound turned off (--silent)")
		return e
	}
	reason, err := openSpeaker(e)
	if err != nil {
		fmt.Fprintf(e.log, "player: no speaker: %v\n", err)
		e.useNull("silent: " + err.Error())
		return e
	}
	e.kind, e.reason = OutputSpeaker, "speaker: "+reason
	fmt.Fprintf(e.log, "player: output %s\n", e.reason)
	return e
}

// Output says where samples go.
func (e *Engine) Output() OutputKind {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.kind
}

// OutputReason is a one-line description of the output and, for the null
// output, why the speaker is not used — meant for a status bar.
func (e *Engine) OutputReason() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.reason
}

// Close stops the null output. The speaker, if any, stays open until the
// process exits: it cannot be opened again.
func (e *Engine) Close() error {
	e.mu.Lock()
	e.closed = true
	null := e.null
	e.null = nil
	speaker := e.kind == OutputSpeaker
	e.mu.Unlock()
	if speaker {
		// Let the device play what oto and ALSA still hold (the end of
		// the recording) before the process exits.
		time.Sleep(speakerDrain)
	}
	// Outside the lock: the null output may be inside stream, waiting for it.
	if null != nil {
		null.stop()
	}
	return nil
}

// useNull switches to the null output, at start or when the speaker fails
// while playing.
func (e *Engine) useNull(reason string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.kind, e.reason = OutputNull, reason
	if e.null == nil && !e.closed {
		e.null = startNull(e.clock, func(s [][2]float64) { e.stream(s) })
	}
}

func (e *Engine) add(t *track) {
	now := e.clock.Now()
	e.mu.Lock()
	e.tracks = append(e.tracks, t)
	e.added = now
	start := e.startSpeaker
	e.mu.Unlock()
	if start != nil {
		start()
	}
}

// lastAdded is when a track was last opened.
func (e *Engine) lastAdded() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.added
}

func (e *Engine) remove(t *track) {
	e.mu.Lock()
	defer e.mu.Unlock()
	kept := make([]*track, 0, len(e.tracks))
	for _, x := range e.tracks {
		if x != t {
			kept = append(kept, x)
		}
	}
	e.tracks = kept
}

// Pull mixes the tracks' next samples into samples as an output would, and
// says how many the tracks had ready: the rest is silence (nothing playing,
// or the decoder has not caught up yet — pull again). For an engine opened
// with EngineOptions.Manual; on another it competes with the output.
func (e *Engine) Pull(samples [][2]float64) int {
	return e.stream(samples)
}

// mixInto is stream, as the speaker's reader calls it.
func (e *Engine) mixInto(samples [][2]float64) int { return e.stream(samples) }

// stream fills samples with the mix of all tracks, silence where there is
// nothing to play, and returns how many samples the fullest track gave. The output calls it; it never blocks on I/O, because
// tracks hand out only what their decoder has already buffered.
func (e *Engine) stream(samples [][2]float64) int {
	clear(samples)
	e.mu.Lock()
	// remove builds a new slice and add only appends, so this view stays
	// valid outside the lock.
	tracks := e.tracks[:len(e.tracks):len(e.tracks)]
	e.mu.Unlock()
	ready := 0
	for _, t := range tracks {
		ready = max(ready, t.mix(samples))
	}
	// A raised volume can push peaks past full scale: clip here rather
	// than let the device wrap or distort them.
	for i := range samples[:ready] {
		samples[i][0] = min(1, max(-1, samples[i][0]))
		samples[i][1] = min(1, max(-1, samples[i][1]))
	}
	return ready
}
