//go:build !nosound && cgo

package player

// The ALSA library prints its errors straight to fd 2, which would corrupt a
// full-screen terminal UI. A no-op handler keeps it quiet; oto still returns
// the error, which we show in the status bar instead.

// #cgo pkg-config: alsa
// #include <alsa/asoundlib.h>
// static void ecoute_alsa_quiet(const char *file, int line, const char *function, int err, const char *fmt, ...) {}
// static void ecoute_silence_alsa(void) { snd_lib_error_set_handler(ecoute_alsa_quiet); }
import "C"

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
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

// openSpeaker drives oto directly rather than through beep's speaker:
// beep's speaker never looks at oto's Context.Err, so without a sound card it
// "succeeds" and playback hangs, and oto allows one context per process, so
// there is no probing first and opening beep's speaker after.
func openSpeaker(e *Engine) (string, error) {
	C.ecoute_silence_alsa()
	ctx, ready, err := oto.NewContext(&oto.NewContextOptions{
		SampleRate:   SampleRate,
		ChannelCount: 2,
		Format:       oto.FormatFloat32LE,
		BufferSize:   speakerBuffer,
	})
	if err != nil {
		return "", fmt.Errorf("no sound device (%s)", alsaReason(err))
	}
	select {
	case <-ready:
	case <-time.After(speakerOpenTimeout):
		return "", fmt.Errorf("sound device did not answer within %s", speakerOpenTimeout)
	}
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("no sound device (%s)", alsaReason(err))
	}
	p := ctx.NewPlayer(&otoReader{pull: func(s [][2]float64) { e.stream(s) }})
	p.SetBufferSize(int(speakerChunk.Seconds()*SampleRate) * 8)
	p.Play()
	e.mu.Lock()
	e.speaker = p
	e.mu.Unlock()
	go watchSpeaker(e, ctx)
	return fmt.Sprintf("ALSA default device, %d kHz", SampleRate/1000), nil
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

// otoReader turns the engine's mix into oto's float32 little-endian stereo
// bytes. It always fills p: silence when nothing plays, so the device never
// starves and never waits on a decoder.
type otoReader struct {
	pull func([][2]float64)
	buf  [][2]float64
}

func (r *otoReader) Read(p []byte) (int, error) {
	n := len(p) / 8
	if n == 0 {
		return 0, errors.New("player: oto buffer smaller than one frame")
	}
	if cap(r.buf) < n {
		r.buf = make([][2]float64, n)
	}
	buf := r.buf[:n]
	r.pull(buf)
	for i, s := range buf {
		binary.LittleEndian.PutUint32(p[i*8:], math.Float32bits(float32(s[0])))
		binary.LittleEndian.PutUint32(p[i*8+4:], math.Float32bits(float32(s[1])))
	}
	return n * 8, nil
}
