package client

import (
	"bytes"
	"context"
	"io"
	"sync"
	"testing"

	"google.golang.org/grpc"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
)

// recordingCalls is fakeCalls keeping every StreamAudio request.
type recordingCalls struct {
	*fakeCalls
	mu   sync.Mutex
	reqs []*ecoutev1.StreamAudioRequest
}

func (r *recordingCalls) StreamAudio(ctx context.Context, in *ecoutev1.StreamAudioRequest, opts ...grpc.CallOption) (grpc.ServerStreamingClient[ecoutev1.AudioChunk], error) {
	r.mu.Lock()
	r.reqs = append(r.reqs, in)
	r.mu.Unlock()
	return r.fakeCalls.StreamAudio(ctx, in, opts...)
}

// A blind calibration's audio is asked for by the calibration's id only:
// the evaluator's console never names the call (its id would lead to its
// agent).
func TestCalibrationAudioNeverNamesTheCall(t *testing.T) {
	data := testAudio(200 << 10)
	rc := &recordingCalls{fakeCalls: &fakeCalls{data: data}}
	c := &Client{calls: rc}
	src := c.CalibrationAudioSource("cal-1", int64(len(data)))
	r, err := src.Open(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	r.Close()
	if err != nil || !bytes.Equal(got, data[1000:]) {
		t.Fatalf("read %d bytes, err %v", len(got), err)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.reqs) == 0 {
		t.Fatal("no stream opened")
	}
	for _, q := range rc.reqs {
		if q.GetCalibrationId() != "cal-1" || q.GetCallId() != "" {
			t.Errorf("request names call %q, calibration %q", q.GetCallId(), q.GetCalibrationId())
		}
	}
	if w := waveRequest("call-9", "cal-1"); w.GetCallId() != "" || w.GetCalibrationId() != "cal-1" {
		t.Errorf("waveform request %v", w)
	}
	if w := waveRequest("call-9", ""); w.GetCallId() != "call-9" || w.GetCalibrationId() != "" {
		t.Errorf("plain waveform request %v", w)
	}
}
