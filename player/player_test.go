package player

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ecoute/ecoute/internal/clock"
)

func openFixture(t testing.TB, e *Engine, name string) *track {
	t.Helper()
	src, info, err := FileSource("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := e.Open(src, info)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	return tr.(*track)
}

// The player's samples are go-mp3's, resampled: at 16 kHz → 48 kHz every
// third output sample falls exactly on a source sample, where beep's
// Lagrange interpolation returns it unchanged.
func TestOutputMatchesGoMP3(t *testing.T) {
	data := readFixture(t, "sweep.mp3")
	ref := goMP3Decode(t, data)
	tr := openFixture(t, manualEngine(), "sweep.mp3")
	tr.Play()
	got := pullN(t, tr, 3*len(ref)+10)
	if len(got) != 3*len(ref) {
		t.Fatalf("got %d samples at 48 kHz, want %d (3 × %d)", len(got), 3*len(ref), len(ref))
	}
	for i := range ref {
		if d := math.Abs(got[3*i] - ref[i]); d > 1e-9 {
			t.Fatalf("sample %d: player %v, go-mp3 %v", i, got[3*i], ref[i])
		}
	}
	if ev := waitEvent(t, tr, EventEnded, time.Second); ev.Position != tr.Duration() {
		t.Fatalf("ended at %v, want %v", ev.Position, tr.Duration())
	}
}

// At the source rate (no resampling) the decode boundary hands out exactly
// go-mp3's samples, from the start and after a seek, for both profiles.
func TestDecodeAtSourceRate(t *testing.T) {
	for _, name := range []string{"sweep.mp3", "stereo44.mp3"} {
		t.Run(name, func(t *testing.T) {
			data := readFixture(t, name)
			ref := goMP3Decode(t, data)
			info := scanInfo(t, data)
			for _, start := range []int64{0, 1, int64(info.SamplesPerFrame)*5 + 123, int64(len(ref)) / 2} {
				var got []float64
				err := decode(context.Background(), &memSource{data: data}, info, segment{start: start, speed: 1}, info.SampleRate, func(c chunk) bool {
					if c.srcStart != float64(start)+float64(len(got)) {
						t.Fatalf("chunk srcStart %v, want %v", c.srcStart, float64(start)+float64(len(got)))
					}
					for _, s := range c.samples {
						got = append(got, s[0])
					}
					return true
				})
				if err != nil {
					t.Fatal(err)
				}
				want := ref[start:]
				if len(got) != len(want) {
					t.Fatalf("start %d: %d samples, want %d", start, len(got), len(want))
				}
				for i := range want {
					if math.Abs(got[i]-want[i]) > 1e-9 {
						t.Fatalf("start %d, sample %d: %v, want %v", start, i, got[i], want[i])
					}
				}
			}
		})
	}
}

// Seeking lands within 50 ms (in practice to the sample): the tone bursts
// of markers.mp3 start where go-mp3's full decode says they do.
func TestSeekAccuracy(t *testing.T) {
	data := readFixture(t, "markers.mp3")
	ref := goMP3Decode(t, data)
	const rate = 16000
	bursts := onsets(ref, 0.05, rate/10)
	if len(bursts) != 4 {
		t.Fatalf("found %d bursts in the reference decode, want 4", len(bursts))
	}
	tr := openFixture(t, manualEngine(), "markers.mp3")
	tr.Play()
	for i, b := range bursts {
		want := time.Duration(b) * time.Second / rate
		// Land 200 ms before the burst, from a position after it so that
		// the seek really goes back.
		pullN(t, tr, 4800)
		at := want - 200*time.Millisecond + time.Duration(i)*7*time.Millisecond
		tr.Seek(at)
		if p := tr.Position(); p != at {
			t.Fatalf("Position after Seek(%v) = %v", at, p)
		}
		got := pullN(t, tr, SampleRate/2)
		k := onset(got, 0.05)
		if k < 0 {
			t.Fatalf("burst %d: no onset after seeking to %v", i, at)
		}
		heard := at + time.Duration(k)*time.Second/SampleRate
		if d := (heard - want).Abs(); d > 50*time.Millisecond {
			t.Fatalf("burst %d heard at %v, want %v (off by %v)", i, heard, want, d)
		}
		t.Logf("burst %d: want %v, heard %v", i, want, heard)
	}
}

// The null output consumes samples at the pace of the clock: with a fake
// clock, exactly as much as the clock moved; paused, nothing.
func TestNullOutputFollowsClock(t *testing.T) {
	fc := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	e := NewEngine(EngineOptions{Clock: fc, ForceNull: true})
	defer e.Close()
	if e.Output() != OutputNull || !strings.Contains(e.OutputReason(), "silent") {
		t.Fatalf("output %q %q", e.Output(), e.OutputReason())
	}
	tr := openFixture(t, e, "markers.mp3")
	tr.Play()
	waitPos := func(want time.Duration) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for tr.Position() < want && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(3 * nullTick) // would it go further?
		if got := tr.Position(); got != want {
			t.Fatalf("position %v, want %v", got, want)
		}
	}
	// The decoder must be ahead of the clock, or the null output rightly
	// underruns (slow machines, -race).
	buffered := func() {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			tr.mu.Lock()
			n := len(tr.dec.out)
			tr.mu.Unlock()
			if n >= 7 || time.Now().After(deadline) { // 140 ms > one step
				return
			}
			time.Sleep(time.Millisecond)
		}
	}
	for i := 1; i <= 10; i++ {
		buffered()
		fc.Advance(100 * time.Millisecond)
		waitPos(time.Duration(i) * 100 * time.Millisecond)
	}
	tr.Pause()
	fc.Advance(500 * time.Millisecond)
	time.Sleep(5 * nullTick)
	if got := tr.Position(); got != time.Second {
		t.Fatalf("paused: position moved to %v", got)
	}
	tr.Play()
	buffered()
	fc.Advance(130 * time.Millisecond)
	waitPos(1130 * time.Millisecond)
}

// With the real clock, the position advances at real time within 2%.
func TestNullOutputRealTime(t *testing.T) {
	e := NewEngine(EngineOptions{ForceNull: true})
	defer e.Close()
	tr := openFixture(t, e, "markers.mp3")
	tr.Play()
	waitEvent(t, tr, EventFirstSample, 2*time.Second)
	t0, p0 := time.Now(), tr.Position()
	time.Sleep(1500 * time.Millisecond)
	t1, p1 := time.Now(), tr.Position()
	rate := float64(p1-p0) / float64(t1.Sub(t0))
	t.Logf("played %v in %v: rate %.4f", p1-p0, t1.Sub(t0), rate)
	if math.Abs(rate-1) > 0.02 {
		t.Fatalf("position advanced %v in %v (rate %.3f), want real time ±2%%", p1-p0, t1.Sub(t0), rate)
	}
}

// A source that stops delivering never blocks the output: the pull returns
// at once, with silence, and the position holds until bytes flow again.
func TestStalledSourceDoesNotBlockOutput(t *testing.T) {
	data := readFixture(t, "markers.mp3")
	info := scanInfo(t, data)
	gate := make(chan struct{})
	src := &memSource{data: data, stallAt: info.FrameOffsets[20], gate: gate} // ~0.7 s then stall
	tr0, err := manualEngine().Open(src, info)
	if err != nil {
		t.Fatal(err)
	}
	tr := tr0.(*track)
	defer tr.Close()
	tr.Play()
	buf := make([][2]float64, 960)
	var played int
	// The source stays stalled (its gate is closed) for the whole loop: a
	// mix that waited for it would never return, so getting through the
	// loop is the proof that pulls never wait for the network. (No clock
	// threshold: on a busy machine any pull can be descheduled.)
	for range 200 { // 200 × 20 ms of output: far past the stall
		clear(buf)
		n := tr.mix(buf)
		for _, s := range buf[n:] {
			if s != [2]float64{} {
				t.Fatal("underrun is not silent")
			}
		}
		played += n
		if n == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	stalledAt := tr.Position()
	limit := time.Duration(20*info.SamplesPerFrame) * time.Second / time.Duration(info.SampleRate)
	if stalledAt > limit || stalledAt < limit/2 {
		t.Fatalf("position %v while stalled, want just under %v", stalledAt, limit)
	}
	if !tr.Playing() {
		t.Fatal("a stall must not stop playback")
	}
	close(gate)
	more := pullN(t, tr, SampleRate/2)
	if len(more) != SampleRate/2 || tr.Position() <= stalledAt {
		t.Fatalf("did not resume after the stall: %d samples, position %v", len(more), tr.Position())
	}
}

// A recording cut short ends playback with EventError, not a quiet end.
func TestTruncatedSourceReportsError(t *testing.T) {
	data := readFixture(t, "markers.mp3")
	info := scanInfo(t, data)
	src := &memSource{data: data[:len(data)/2]}
	tr := mustOpen(t, src, info)
	tr.Play()
	ev := drainUntilEnd(t, tr)
	if ev.Kind != EventError || !strings.Contains(ev.Err.Error(), "truncated") {
		t.Fatalf("got %v %v, want EventError about truncation", ev.Kind, ev.Err)
	}
	if tr.Playing() {
		t.Fatal("still playing after the error")
	}
}

// Bytes that are not a frame where the index says one starts stop playback
// with a message naming the byte.
func TestCorruptHeaderReportsError(t *testing.T) {
	data := bytes.Clone(readFixture(t, "markers.mp3"))
	info := scanInfo(t, data)
	off := info.FrameOffsets[40]
	copy(data[off:], "JUNK")
	tr := mustOpen(t, &memSource{data: data}, info)
	tr.Play()
	ev := drainUntilEnd(t, tr)
	if ev.Kind != EventError || !strings.Contains(ev.Err.Error(), "corrupt MP3 frame") {
		t.Fatalf("got %v %v, want EventError about a corrupt frame", ev.Kind, ev.Err)
	}
}

// A panic under the decoder (go-mp3 panics on some inputs) becomes an
// EventError; the process survives.
func TestDecoderPanicBecomesError(t *testing.T) {
	data := readFixture(t, "markers.mp3")
	info := scanInfo(t, data)
	tr := mustOpen(t, &memSource{data: data, panicAt: info.FrameOffsets[10]}, info)
	tr.Play()
	ev := drainUntilEnd(t, tr)
	if ev.Kind != EventError || !strings.Contains(ev.Err.Error(), "panic") {
		t.Fatalf("got %v %v, want EventError about a panic", ev.Kind, ev.Err)
	}
	// Play again retries from where it stopped, and fails the same way.
	tr.Play()
	if ev := drainUntilEnd(t, tr); ev.Kind != EventError {
		t.Fatalf("retry: got %v", ev.Kind)
	}
}

func TestFileSourceRefusesOtherProfiles(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"rate22050.mp3", "22050 Hz"},
		{"rate8000.mp3", "8000 Hz"},
	} {
		_, _, err := FileSource("testdata/" + tc.name)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "convert") {
			t.Errorf("%s: err = %v, want one naming %s and how to convert", tc.name, err, tc.want)
		}
	}
	if _, _, err := FileSource("testdata/missing.mp3"); err == nil {
		t.Error("missing file: no error")
	}
}

// Without an index, Open builds one from the source.
func TestOpenWithoutIndex(t *testing.T) {
	data := readFixture(t, "sweep.mp3")
	tr0, err := manualEngine().Open(&memSource{data: data}, Info{})
	if err != nil {
		t.Fatal(err)
	}
	defer tr0.Close()
	if d := tr0.Duration(); d < 2*time.Second || d > 2200*time.Millisecond {
		t.Fatalf("duration %v, want about 2 s", d)
	}
	if _, err := manualEngine().Open(&memSource{data: readFixture(t, "rate8000.mp3")}, Info{}); err == nil {
		t.Fatal("opened an MPEG-2.5 source without an index")
	}
}

func TestEventsAndClose(t *testing.T) {
	tr := openFixture(t, manualEngine(), "sweep.mp3")
	tr.Play()
	if ev := waitEvent(t, tr, EventPlaying, time.Second); ev.Position != 0 {
		t.Fatalf("EventPlaying at %v", ev.Position)
	}
	pullN(t, tr, 10)
	if ev := waitEvent(t, tr, EventFirstSample, time.Second); ev.Position != 0 {
		t.Fatalf("EventFirstSample at %v", ev.Position)
	}
	tr.Pause()
	waitEvent(t, tr, EventPaused, time.Second)
	tr.Seek(time.Hour)
	if tr.Position() != tr.Duration() {
		t.Fatalf("Seek past the end: position %v, want %v", tr.Position(), tr.Duration())
	}
	tr.Play()
	pullN(t, tr, 10)
	waitEvent(t, tr, EventEnded, time.Second)
	// Play after the end starts over.
	tr.Play()
	if got := pullN(t, tr, 100); len(got) != 100 {
		t.Fatalf("replay gave %d samples", len(got))
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	tr.Close() // twice is fine
	for range tr.Events() {
	}
}

func mustOpen(t *testing.T, src Source, info Info) *track {
	t.Helper()
	tr, err := manualEngine().Open(src, info)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	return tr.(*track)
}

// drainUntilEnd pulls until the track stops and returns the last event.
func drainUntilEnd(t *testing.T, tr *track) Event {
	t.Helper()
	pullN(t, tr, math.MaxInt32)
	for {
		select {
		case ev := <-tr.Events():
			if ev.Kind == EventEnded || ev.Kind == EventError {
				return ev
			}
		case <-time.After(2 * time.Second):
			t.Fatal("no EventEnded or EventError")
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, name := range []string{"sweep.mp3", "stereo44.mp3"} {
		data := readFixture(f, name)
		info := scanInfo(f, data)
		f.Add(data[:info.FrameOffsets[min(12, len(info.FrameOffsets)-1)]])
	}
	f.Add([]byte{0xFF, 0xF3, 0x48, 0xC0})
	f.Fuzz(func(t *testing.T, data []byte) {
		src := &memSource{data: data}
		info, err := indexSource(context.Background(), src)
		if err != nil {
			return // FileSource and Open refuse it before any decoding
		}
		info.FrameOffsets = info.FrameOffsets[:min(len(info.FrameOffsets), 16)]
		spf := int64(info.SamplesPerFrame)
		for _, seg := range []segment{
			{start: 0, speed: 1},
			{start: spf * 4, speed: 1.5},
			{start: spf, end: spf * 9, speed: 0.75},
		} {
			err := decode(context.Background(), src, info, seg, SampleRate, func(c chunk) bool {
				for _, v := range c.samples {
					if math.IsNaN(v[0]) || math.IsInf(v[0], 0) {
						t.Fatalf("segment %+v: sample %v", seg, v)
					}
				}
				return true
			})
			if err != nil && errors.Is(err, io.EOF) {
				t.Fatalf("EOF leaked out as an error: %v", err)
			}
		}
	})
}

// BenchmarkPlayToFirstSample measures Play → first samples handed to the
// (null) output, with the recording already opened as the console does when
// a call is selected.
func BenchmarkPlayToFirstSample(b *testing.B) {
	e := NewEngine(EngineOptions{ForceNull: true})
	defer e.Close()
	src, info, err := FileSource("testdata/markers.mp3")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		tr, err := e.Open(src, info)
		if err != nil {
			b.Fatal(err)
		}
		tr.Play()
		waitEvent(b, tr, EventFirstSample, 2*time.Second)
		tr.Close()
	}
}

// BenchmarkSeekToFirstSample: Seek while playing → first samples of the new
// position at the output (decoder restarted, buffer empty).
func BenchmarkSeekToFirstSample(b *testing.B) {
	e := NewEngine(EngineOptions{ForceNull: true})
	defer e.Close()
	src, info, err := FileSource("testdata/markers.mp3")
	if err != nil {
		b.Fatal(err)
	}
	tr, err := e.Open(src, info)
	if err != nil {
		b.Fatal(err)
	}
	defer tr.Close()
	tr.Play()
	i := 0
	for b.Loop() {
		tr.Seek(time.Duration(i%3+1) * time.Second)
		waitEvent(b, tr, EventFirstSample, 2*time.Second)
		i++
	}
}

// A local file cut short plays up to the cut, then ends with a message that
// says where and why — not refused up front, not a panic.
func TestTruncatedFilePlaysUpToTheDamage(t *testing.T) {
	data := readFixture(t, "markers.mp3")
	path := t.TempDir() + "/cut.mp3"
	cut := len(data)*3/4 + 50 // mid-frame
	if err := os.WriteFile(path, data[:cut], 0o600); err != nil {
		t.Fatal(err)
	}
	src, info, err := FileSource(path)
	if err != nil {
		t.Fatalf("refused a truncated file up front: %v", err)
	}
	if info.Damage == nil || !strings.Contains(info.Damage.Error(), "truncated") {
		t.Fatalf("damage %v, want one about truncation", info.Damage)
	}
	tr0, err := manualEngine().Open(src, info)
	if err != nil {
		t.Fatal(err)
	}
	tr := tr0.(*track)
	defer tr.Close()
	tr.Play()
	got := pullN(t, tr, math.MaxInt32)
	full := 3 * len(goMP3Decode(t, data))
	if len(got) < full*7/10 || len(got) > full*8/10 {
		t.Fatalf("played %d of %d samples before the damage, want about 3/4", len(got), full)
	}
	ev := drainUntilEnd(t, tr)
	if ev.Kind != EventError || !strings.Contains(ev.Err.Error(), "damaged after 0:03") {
		t.Fatalf("got %v %v, want EventError naming the damage", ev.Kind, ev.Err)
	}
}
