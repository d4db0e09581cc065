//go:build !nosound && cgo

package player

// The ALSA library prints its errors straight to fd 2, which would corrupt a
// full-screen terminal UI. A no-op handler keeps it quiet; oto still returns
// the error, which we show in the status bar instead.

// #cgo pkg-config: alsa
// #include <alsa/asoundlib.h>
// static void ecoute_alsa_quiet(const char *file, int line, const char *function, int err, const char *fmt, ...) {}
// static void ecoute_silence_alsa(void) { snd_lib_error_set_handler(ecoute_alsa_quiet); }
// static int ecoute_probe_default(void) {
//   snd_pcm_t *h;
//   int err = snd_pcm_open(&h, "default", SND_PCM_STREAM_PLAYBACK, SND_PCM_NONBLOCK);
//   if (err < 0) return err;
//   snd_pcm_close(h);
//   return 0;
// }
import "C"

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/ebitengine/oto/v3"
)

// speakerOpenTimeout bounds the wait for the device; a sound server that
// never answers must not keep the console from starting.
const speakerOpenTimeout = 3 * time.Second

// speakerChunk is oto's own buffer in front of the device. It must hold at
// least one device period (oto asks ALSA for two periods per
// speakerBuffer): oto's mixer hands the device only what this buffer holds.
// A 20 ms buffer under 25 ms periods put 5 ms of silence in every period,
// found by the end-to-end capture test (test/e2e/audio_test.go).
const speakerChunk = speakerBuffer

// speakerReason describes the speaker output.
var speakerReason = fmt.Sprintf("ALSA default device, %d kHz", SampleRate/1000)

// openSpeaker drives oto directly rather than through beep's speaker:
// beep's speaker never looks at oto's Context.Err, so without a sound card it
// "succeeds" and playback hangs, and oto allows one context per process, so
// beep's speaker cannot be opened after a first try.
//
// When ALSA's default device opens (a probe, opened and closed at once), the
// device is opened for good only when the first track is: oto writes
// silence to the device from the moment it opens, and a card plays all it
// was given before the first samples of the track. Opened with the track,
// the device's first period is the track's. Otherwise oto tries every
// device it knows, now.
func openSpeaker(e *Engine) (string, error) {
	C.ecoute_silence_alsa()
	probe := make(chan C.int, 1)
	go func() { probe <- C.ecoute_probe_default() }()
	select {
	case rc := <-probe:
		if rc < 0 {
			return openSpeakerNow(e)
		}
	case <-time.After(speakerOpenTimeout):
		return "", fmt.Errorf("sound device did not answer within %s", speakerOpenTimeout)
	}
	var once sync.Once
	e.mu.Lock()
	e.startSpeaker = func() { once.Do(func() { go openSpeakerForTrack(e) }) }
	e.mu.Unlock()
	return speakerReason, nil
}

// newOtoContext opens the device through oto; ready is closed once it is
// open (or failed: see the context's Err).
func newOtoContext() (*oto.Context, chan struct{}, error) {
	ctx, ready, err := oto.NewContext(&oto.NewContextOptions{
		SampleRate:   SampleRate,
		ChannelCount: 2,
		Format:       oto.FormatFloat32LE,
		BufferSize:   speakerBuffer,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("no sound device (%s)", alsaReason(err))
	}
	return ctx, ready, nil
}

// waitReady waits for the device to open.
func waitReady(ctx *oto.Context, ready chan struct{}) error {
	select {
	case <-ready:
	case <-time.After(speakerOpenTimeout):
		return fmt.Errorf("sound device did not answer within %s", speakerOpenTimeout)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("no sound device (%s)", alsaReason(err))
	}
	return nil
}

// newOtoPlayer is the one oto player, pulling the engine's mix through r.
func newOtoPlayer(e *Engine, ctx *oto.Context, r *otoReader) *oto.Player {
	p := ctx.NewPlayer(r)
	p.SetBufferSize(int(speakerChunk.Seconds()*SampleRate) * 8)
	e.mu.Lock()
	e.speaker = p
	e.mu.Unlock()
	return p
}

// openSpeakerNow opens the device at once; the player starts pulling
// samples when the first track is opened.
func openSpeakerNow(e *Engine) (string, error) {
	ctx, ready, err := newOtoContext()
	if err != nil {
		return "", err
	}
	if err := waitReady(ctx, ready); err != nil {
		return "", err
	}
	p := newOtoPlayer(e, ctx, &otoReader{e: e})
	e.mu.Lock()
	e.startSpeaker = p.Play
	e.mu.Unlock()
	go watchSpeaker(e, ctx)
	return speakerReason, nil
}

// openSpeakerForTrack opens the device for the first track, once that
// track has given oto's buffer-full of samples (or nothing has played for
// speakerEager): oto's player is then full before the device asks for its
// first period, and the device plays the track first, not the silence oto
// mixes while no player is ready. A device that fails now makes the output
// silent, as one that fails while playing does.
func openSpeakerForTrack(e *Engine) {
	r := &otoReader{e: e}
	r.prefill(int(speakerChunk.Seconds() * SampleRate))
	ctx, ready, err := newOtoContext()
	if err == nil {
		newOtoPlayer(e, ctx, r).Play()
		err = waitReady(ctx, ready)
	}
	if err != nil {
		fmt.Fprintf(e.log, "player: speaker failed: %v\n", err)
		e.useNull("silent: " + err.Error())
		return
	}
	go watchSpeaker(e, ctx)
}

// watchSpeaker falls back to the null output if the device fails while
// playing (unplugged headset, sound server gone), so positions keep moving
// and the user is told why the sound stopped.
func watchSpeaker(e *Engine, ctx *oto.Context) {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for range t.C {
		if err := ctx.Err(); err != nil {
			fmt.Fprintf(e.log, "player: speaker failed: %v\n", err)
			e.useNull("silent: sound device failed (" + alsaReason(err) + ")")
			return
		}
		e.mu.Lock()
		closed := e.closed
		e.mu.Unlock()
		if closed {
			return
		}
	}
}

// alsaReason shortens oto's message (which lists every device it tried) to
// the first one, usually "default".
func alsaReason(err error) string {
	s := err.Error()
	s = strings.TrimPrefix(s, "oto: ")
	if i := strings.Index(s, ", \""); i > 0 {
		s = s[:i]
	}
	s = strings.Replace(s, "ALSA error at snd_pcm_open: ", "ALSA: cannot open ", 1)
	return s
}

// speakerEager is how long after the last sound, or after a track was
// opened, the speaker hands oto only real samples. In that window a Play is
// heard after the device's own buffer alone, not after up to speakerChunk
// of silence queued in front of it; oto polls about every millisecond
// meanwhile. Past it, silence fills oto's buffer again (about 50 reads a
// second).
const speakerEager = time.Second

// otoReader turns the engine's mix into oto's float32 little-endian stereo
// bytes. It never waits on a decoder: what is not decoded yet is not
// handed out (oto's mixer gives the device silence for it), and while
// nothing has played for a while it fills p with silence so that oto stops
// polling.
type otoReader struct {
	e         *Engine
	buf       [][2]float64
	pending   [][2]float64 // taken by prefill, handed out first
	lastSound time.Time
}

// eager says whether a track was opened or sounded within speakerEager.
func (r *otoReader) eager(now time.Time) bool {
	return now.Sub(r.lastSound) < speakerEager || now.Sub(r.e.lastAdded()) < speakerEager
}

// prefill takes up to n samples from the engine before the device opens,
// waiting for them as long as the reader is eager.
func (r *otoReader) prefill(n int) {
	buf := make([][2]float64, n)
	for len(r.pending) < n {
		filled := r.e.mixInto(buf[:n-len(r.pending)])
		now := r.e.clock.Now()
		if filled > 0 {
			r.lastSound = now
			r.pending = append(r.pending, buf[:filled]...)
			continue
		}
		if !r.eager(now) {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

func (r *otoReader) Read(p []byte) (int, error) {
	n := len(p) / 8
	if n == 0 {
		return 0, errors.New("player: oto buffer smaller than one frame")
	}
	if len(r.pending) > 0 {
		k := min(n, len(r.pending))
		putFloat32s(p, r.pending[:k])
		r.pending = r.pending[k:]
		return k * 8, nil
	}
	if cap(r.buf) < n {
		r.buf = make([][2]float64, n)
	}
	buf := r.buf[:n]
	filled := r.e.mixInto(buf)
	now := r.e.clock.Now()
	switch {
	case filled > 0:
		r.lastSound = now
		n = filled
	case r.eager(now):
		// oto reads again at once while its buffer is not full: wait
		// a little, as long as a decoder takes for its first chunk.
		time.Sleep(time.Millisecond)
		return 0, nil
	}
	putFloat32s(p, buf[:n])
	return n * 8, nil
}

// putFloat32s writes samples as float32 little-endian stereo.
func putFloat32s(p []byte, samples [][2]float64) {
	for i, s := range samples {
		binary.LittleEndian.PutUint32(p[i*8:], math.Float32bits(float32(s[0])))
		binary.LittleEndian.PutUint32(p[i*8+4:], math.Float32bits(float32(s[1])))
	}
}
