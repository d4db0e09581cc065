package e2e

import (
	"bytes"
	"context"
	"math"
	"os"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"github.com/ecoute/ecoute/internal/mp3frame"
	"github.com/ecoute/ecoute/player"
)

// frame16 is the 16 kHz canonical frame: 576 samples, 36 ms, 144 bytes.
const frame16 = 36 * time.Millisecond

// framesOf returns the frames of a test recording (no bit reservoir, so
// that frames can be cut and joined).
func framesOf(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ix, err := mp3frame.Scan(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return data[ix.Offsets[0] : ix.Offsets[0]+int64(len(ix.Offsets))*144]
}

// TestTwelveHourCall uploads a 12-hour recording (built from frames, not
// encoded: a 4-second piece over and over, with a 2-second chirp at
// 11:59:01.968, frame 1,198,388) through IngestService, and plays it at 11:59:00 as the
// console does. Every GetWaveform reply stays well under the gRPC limit
// (4 MiB) — the screen's peaks, the frame index by pages, even a request
// that asks for everything — and the chirp is heard at its place, to the
// millisecond, twelve hours in.
func TestTwelveHourCall(t *testing.T) {
	if testing.Short() {
		t.Skip("uploads 173 MB")
	}
	piece := framesOf(t, "../../player/testdata/markers.mp3")
	chirp := framesOf(t, "../../player/testdata/sweep.mp3")
	const total = 12 * time.Hour
	frames := int(total / frame16)
	at := int((11*time.Hour + 59*time.Minute + 2*time.Second) / frame16) // frame of the chirp
	data := make([]byte, 0, frames*144)
	for len(data) < at*144 {
		data = append(data, piece[:min(len(piece), at*144-len(data))]...)
	}
	data = append(data, chirp...)
	for len(data) < frames*144 {
		data = append(data, piece[:min(len(piece), frames*144-len(data))]...)
	}
	chirpAt := time.Duration(at) * frame16

	r := newRig(t, "")
	t0 := time.Now()
	resp, err := r.upload(t, data, total)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("12 hours (%d MB) uploaded, indexed and analysed in %v", len(data)>>20, time.Since(t0).Round(time.Millisecond))
	id := resp.GetCallId()
	ctx := context.Background()
	call, err := r.sup.GetCall(ctx, id)
	if err != nil || call.GetDuration().AsDuration() != total {
		t.Fatalf("call: %v, %v; want %v", call.GetDuration().AsDuration(), err, total)
	}

	// Every reply is bounded, whatever one asks.
	calls := r.sup.Calls()
	for name, req := range map[string]*ecoutev1.GetWaveformRequest{
		"everything (an old console)": {CallId: id},
		"the last page of the index":  {CallId: id, FirstFrame: int32(frames - 100)},
		"a minute of peaks":           {CallId: id, From: durpb(11 * time.Hour), To: durpb(11*time.Hour + time.Minute)},
	} {
		w, err := calls.GetWaveform(ctx, req)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		size := proto.Size(w)
		t.Logf("GetWaveform, %s: %d bytes (%d peaks of %v, %d offsets of %d frames)", name, size,
			len(w.GetPeaks()), w.GetBucket().AsDuration(), len(w.GetFrameOffsets()), w.GetTotalFrames())
		if size > 1<<20 || w.GetTotalFrames() != int32(frames) {
			t.Errorf("%s: a reply of %d bytes, %d frames", name, size, w.GetTotalFrames())
		}
	}

	// The console: the screen's peaks and the first index page, then the
	// rest of the index as playback needs it.
	eng := player.NewEngine(player.EngineOptions{Manual: true})
	tr, wf := r.open(t, r.sup, eng, id)
	n := proto.Size(wf)
	t.Logf("GetWaveform, as the call screen asks: %d bytes (%d peaks, %d offsets)", n, len(wf.GetPeaks()), len(wf.GetFrameOffsets()))
	if n > 128<<10 {
		t.Errorf("the call screen's GetWaveform is %d bytes", n)
	}
	if tr.Duration() != total {
		t.Fatalf("the player says %v", tr.Duration())
	}
	start := 11*time.Hour + 59*time.Minute
	got := render(t, eng, tr, start, math.MaxInt32)
	if d := time.Duration(len(got)) * time.Second / captureRate; d != time.Minute {
		t.Errorf("played %v from 11:59:00, want the last minute", d)
	}
	// The chirp, as go-mp3 decodes it alone, where it belongs.
	ref := decodeLeft(t, "../../player/testdata/sweep.mp3")
	left := make([]float64, len(got))
	for i := range got {
		left[i] = got[i][0]
	}
	lag, corr := bestLag(left, ref, 3)
	heard := start + time.Duration(lag)*time.Second/captureRate
	t.Logf("chirp heard at %v (placed at %v), correlation %.5f", heard, chirpAt, corr)
	if corr < 0.999 || (heard-chirpAt).Abs() > time.Millisecond {
		t.Errorf("chirp heard at %v with correlation %.4f; want %v, > 0.999", heard, corr, chirpAt)
	}
	// The next-phrase jump uses the whole call's peaks at full resolution,
	// fetched a bounded reply at a time: from 11:59:00 it lands just
	// before the next sound after a silence (the tones come every second).
	tr.Seek(start)
	to, ok := tr.(player.Controls).SkipSilence(true)
	if !ok || to <= start || to > start+3*time.Second {
		t.Fatalf("next phrase after 11:59:00: %v (ok %v)", to, ok)
	}
	after := render(t, eng, tr, 0, captureRate/2)
	onset := -1
	for i, s := range after {
		if math.Abs(s[0]) > 0.05 {
			onset = i
			break
		}
	}
	if d := time.Duration(onset) * time.Second / captureRate; onset < 0 || d < 50*time.Millisecond || d > 250*time.Millisecond {
		t.Errorf("the jump to %v lands %v before the sound, want about 150 ms", to, d)
	}
}

func durpb(d time.Duration) *durationpb.Duration { return durationpb.New(d) }
