package player

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"os"
	"testing"
	"time"

	"github.com/ecoute/ecoute/internal/clock"
	"github.com/ecoute/ecoute/internal/mp3frame"
	"github.com/hajimehoshi/go-mp3"
)

// manualEngine has no output: the test pulls samples itself.
func manualEngine() *Engine {
	return &Engine{clock: clock.Real{}, log: io.Discard, kind: OutputNull, reason: "test"}
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// memSource serves bytes from memory. A non-nil gate stalls every read past
// stallAt until the gate is closed, like a network that stops delivering.
type memSource struct {
	data    []byte
	stallAt int64
	gate    chan struct{}
	panicAt int64 // if > 0, reading past this byte panics
}

func (m *memSource) Open(ctx context.Context, offset int64) (io.ReadCloser, error) {
	if offset > int64(len(m.data)) {
		return nil, errors.New("offset past end")
	}
	return &memReader{m: m, ctx: ctx, off: offset}, nil
}

type memReader struct {
	m   *memSource
	ctx context.Context
	off int64
}

func (r *memReader) Read(p []byte) (int, error) {
	if r.off >= int64(len(r.m.data)) {
		return 0, io.EOF
	}
	if r.m.panicAt > 0 && r.off >= r.m.panicAt {
		panic("memReader: injected panic")
	}
	end := int64(len(r.m.data))
	if r.m.gate != nil {
		if r.off >= r.m.stallAt {
			select {
			case <-r.m.gate:
			case <-r.ctx.Done():
				return 0, r.ctx.Err()
			}
		} else {
			end = min(end, r.m.stallAt)
		}
	}
	n := copy(p, r.m.data[r.off:end])
	r.off += int64(n)
	return n, nil
}

func (r *memReader) Close() error { return nil }

func scanInfo(t testing.TB, data []byte) Info {
	t.Helper()
	ix, err := mp3frame.Scan(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return infoFromIndex(ix)
}

// goMP3Decode is the reference: go-mp3 over the whole file, at its rate,
// left channel.
func goMP3Decode(t testing.TB, data []byte) []float64 {
	t.Helper()
	d, err := mp3.NewDecoder(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	pcm, err := io.ReadAll(d)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float64, len(pcm)/4)
	for i := range out {
		out[i] = toSample(pcm[i*4:])[0]
	}
	return out
}

// pullN pulls up to n samples from a track through the engine's mix,
// waiting out underruns. It stops early at the end of the track.
func pullN(t testing.TB, tr *track, n int) []float64 {
	t.Helper()
	out := make([]float64, 0, min(n, 1<<20))
	buf := make([][2]float64, 480)
	deadline := time.Now().Add(10 * time.Second)
	for len(out) < n {
		clear(buf)
		k := tr.mix(buf[:min(len(buf), n-len(out))])
		for _, s := range buf[:k] {
			out = append(out, s[0])
		}
		if k == 0 {
			if !tr.Playing() {
				return out
			}
			if time.Now().After(deadline) {
				t.Fatalf("no samples for 10 s after %d", len(out))
			}
			time.Sleep(time.Millisecond)
		}
	}
	return out
}

// onset is the index of the first sample louder than thr, or -1.
func onset(x []float64, thr float64) int {
	for i, v := range x {
		if math.Abs(v) > thr {
			return i
		}
	}
	return -1
}

// onsets finds the start of each burst: a loud sample after at least gap
// quiet samples.
func onsets(x []float64, thr float64, gap int) []int {
	var out []int
	quiet := gap
	for i, v := range x {
		if math.Abs(v) > thr {
			if quiet >= gap {
				out = append(out, i)
			}
			quiet = 0
		} else {
			quiet++
		}
	}
	return out
}

// waitEvent returns the next event of kind k, failing on EventError or a
// timeout.
func waitEvent(t testing.TB, tr Track, k EventKind, timeout time.Duration) Event {
	t.Helper()
	tm := time.NewTimer(timeout)
	defer tm.Stop()
	for {
		select {
		case ev, ok := <-tr.Events():
			if !ok {
				t.Fatalf("events closed waiting for %v", k)
			}
			if ev.Kind == k {
				return ev
			}
			if ev.Kind == EventError {
				t.Fatalf("error waiting for %v: %v", k, ev.Err)
			}
		case <-tm.C:
			t.Fatalf("no event %v within %s", k, timeout)
		}
	}
}
