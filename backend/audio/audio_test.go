package audio

import (
	"bytes"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/ecoute/ecoute/internal/mp3frame"
)

func TestAnalyzeClip(t *testing.T) {
	data, err := os.ReadFile("../../internal/demo/audio/08-relance.mp3")
	if err != nil {
		t.Fatal(err)
	}
	a, err := Analyze(data)
	if err != nil {
		t.Fatal(err)
	}
	d := a.Index.Duration()
	if d < 20*time.Second || a.Index.SampleRate != 16000 {
		t.Fatalf("duration %v, rate %d", d, a.Index.SampleRate)
	}
	want := int((d + Bucket - 1) / Bucket)
	if len(a.Peaks) < want-1 || len(a.Peaks) > want+1 {
		t.Errorf("%d peaks for %v, want about %d", len(a.Peaks), d, want)
	}
	var loud int
	for _, p := range a.Peaks {
		if p > 30 {
			loud++
		}
	}
	if loud < len(a.Peaks)/3 {
		t.Errorf("only %d of %d buckets carry speech", loud, len(a.Peaks))
	}
}

func TestAnalyzeRefusesOtherProfiles(t *testing.T) {
	var data []byte
	for range 40 { // MPEG-2.5, 8 kHz: go-mp3 cannot decode it
		f := make([]byte, 72)
		copy(f, []byte{0xFF, 0xE3, 0x18, 0xC0})
		data = append(data, f...)
	}
	if _, err := Analyze(data); !errors.Is(err, ErrProfile) {
		t.Errorf("MPEG-2.5: %v", err)
	}
	if _, err := Analyze([]byte("definitely not audio")); err == nil {
		t.Error("junk accepted")
	}
}

func TestRebucket(t *testing.T) {
	// 576-sample frames at 16 kHz, 800-sample buckets: bucket 0 covers
	// frames 0–1, bucket 1 frames 1–2, bucket 2 frames 2–4 (1600..2399).
	got := Rebucket([]byte{10, 20, 30, 5, 40}, 576, 16000)
	want := []byte{20, 30, 40, 40}
	if string(got) != string(want) {
		t.Errorf("Rebucket = %v, want %v", got, want)
	}
}

// BenchmarkAnalyze is the ingestion's CPU cost per recording: frame index and
// peaks (a full go-mp3 decode) of the demo clip cut to its frames below
// 100 kB (about 25 s of audio).
func BenchmarkAnalyze(b *testing.B) {
	data, err := os.ReadFile("../../internal/demo/audio/07-carte.mp3")
	if err != nil {
		b.Fatal(err)
	}
	ix, err := mp3frame.Scan(bytes.NewReader(data))
	if err != nil {
		b.Fatal(err)
	}
	end := int64(0)
	for _, off := range ix.Offsets {
		if off <= 100_000 {
			end = off
		}
	}
	data = data[:end]
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Analyze(data); err != nil {
			b.Fatal(err)
		}
	}
}
