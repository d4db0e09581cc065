package mp3frame

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
)

// frame16k is one MPEG-2 Layer III frame header, 16 kHz mono 32 kbps, padded
// with zeros to its 144-byte size.
func frame16k() []byte {
	f := make([]byte, 144)
	copy(f, []byte{0xFF, 0xF3, 0x48, 0xC0})
	return f
}

func frames(n int) []byte {
	var b bytes.Buffer
	for range n {
		b.Write(frame16k())
	}
	return b.Bytes()
}

func TestParseHeader(t *testing.T) {
	tests := []struct {
		name    string
		hdr     []byte
		want    Header
		wantErr string
	}{
		{"mpeg2 16k mono 32k", []byte{0xFF, 0xF3, 0x48, 0xC0},
			Header{Version: MPEG2, Layer: 3, BitrateKbps: 32, SampleRate: 16000, Channels: 1, FrameSize: 144, SamplesPerFrame: 576, Mode: ModeMono}, ""},
		{"mpeg1 44.1k stereo 128k padded", []byte{0xFF, 0xFB, 0x92, 0x00},
			Header{Version: MPEG1, Layer: 3, BitrateKbps: 128, SampleRate: 44100, Channels: 2, Padding: true, FrameSize: 418, SamplesPerFrame: 1152}, ""},
		{"mpeg2.5 8k mono 16k", []byte{0xFF, 0xE3, 0x28, 0xC0},
			Header{Version: MPEG25, Layer: 3, BitrateKbps: 16, SampleRate: 8000, Channels: 1, FrameSize: 144, SamplesPerFrame: 576, Mode: ModeMono}, ""},
		{"no sync", []byte{0x49, 0x44, 0x33, 0x04}, Header{}, "sync"},
		{"layer II", []byte{0xFF, 0xFD, 0x90, 0x00}, Header{}, "layer II"},
		{"free format", []byte{0xFF, 0xF3, 0x08, 0xC0}, Header{}, "free-format"},
		{"bad bitrate", []byte{0xFF, 0xF3, 0xF8, 0xC0}, Header{}, "bitrate"},
		{"reserved rate", []byte{0xFF, 0xF3, 0x4C, 0xC0}, Header{}, "sample rate"},
		{"short", []byte{0xFF}, Header{}, "EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseHeader(tt.hdr)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestCheckProfile(t *testing.T) {
	tests := []struct {
		version, rate int
		ok            bool
	}{
		{MPEG1, 44100, true}, {MPEG1, 32000, true}, {MPEG2, 16000, true}, {MPEG2, 24000, true},
		{MPEG2, 22050, false}, {MPEG25, 8000, false}, {MPEG25, 11025, false}, {MPEG25, 12000, false},
	}
	for _, tt := range tests {
		err := CheckProfile(Header{Version: tt.version, SampleRate: tt.rate})
		if (err == nil) != tt.ok {
			t.Errorf("%s %d Hz: err = %v, want ok=%v", VersionName(tt.version), tt.rate, err, tt.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "Hz") {
			t.Errorf("refusal must name the sample rate: %v", err)
		}
	}
}

func TestScanSynthetic(t *testing.T) {
	id3v2 := append([]byte("ID3\x04\x00\x00\x00\x00\x00\x0A"), make([]byte, 10)...)
	id3v1 := append([]byte("TAG"), make([]byte, 125)...)
	tests := []struct {
		name      string
		data      []byte
		frames    int
		firstOff  int64
		wantErr   string
		wantBytes int64
	}{
		{"plain", frames(10), 10, 0, "", 1440},
		{"id3v2 prefix", append(append([]byte{}, id3v2...), frames(3)...), 3, 20, "", 20 + 432},
		{"id3v1 suffix", append(frames(2), id3v1...), 2, 0, "", 288 + 128},
		{"ape suffix", append(frames(2), []byte("APETAGEX and the rest")...), 2, 0, "", 288 + 21},
		{"truncated last frame", frames(3)[:400], 0, 0, "112 bytes at byte 288 left out: a frame cut short (112 of 144 bytes)", 0},
		{"junk in the middle", append(append(frames(2), 0, 1, 2, 3), frames(1)...), 0, 0, "4 bytes at byte 288 left out", 0},
		{"empty", nil, 0, 0, "no MPEG audio frame", 0},
		{"data after id3v1", append(append(frames(1), id3v1...), 1), 0, 0, "129 bytes at byte 144 left out", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ix, err := Scan(bytes.NewReader(tt.data))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(ix.Offsets) != tt.frames || ix.Offsets[0] != tt.firstOff || ix.Size != tt.wantBytes {
				t.Fatalf("frames=%d first=%d size=%d, want %d %d %d", len(ix.Offsets), ix.Offsets[0], ix.Size, tt.frames, tt.firstOff, tt.wantBytes)
			}
			for i := 1; i < len(ix.Offsets); i++ {
				if ix.Offsets[i]-ix.Offsets[i-1] != 144 {
					t.Fatalf("frame %d spacing %d", i, ix.Offsets[i]-ix.Offsets[i-1])
				}
			}
		})
	}
}

func TestScanRejectsFormatChange(t *testing.T) {
	mpeg1 := make([]byte, 418)
	copy(mpeg1, []byte{0xFF, 0xFB, 0x92, 0x00})
	_, err := Scan(bytes.NewReader(append(frames(2), mpeg1...)))
	if err == nil || !strings.Contains(err.Error(), "frames of another format (MPEG-1 44100 Hz after MPEG-2 16000 Hz)") {
		t.Fatalf("err = %v", err)
	}
}

func TestTiming(t *testing.T) {
	ix := Index{Offsets: make([]int64, 1000), SampleRate: 16000, SamplesPerFrame: 576}
	if got := ix.FrameDuration(); got != 36*time.Millisecond {
		t.Fatalf("FrameDuration = %v", got)
	}
	if got := ix.Duration(); got != 36*time.Second {
		t.Fatalf("Duration = %v", got)
	}
	for _, tt := range []struct {
		pos  time.Duration
		want int
	}{{0, 0}, {-time.Second, 0}, {35 * time.Millisecond, 0}, {36 * time.Millisecond, 1}, {10 * time.Second, 277}, {time.Hour, 999}} {
		if got := ix.FrameAt(tt.pos); got != tt.want {
			t.Errorf("FrameAt(%v) = %d, want %d", tt.pos, got, tt.want)
		}
	}
	if got := ix.FrameTime(277); got != 9972*time.Millisecond {
		t.Fatalf("FrameTime(277) = %v", got)
	}
}

// The committed demo recordings must stay inside the profile go-mp3 decodes.
func TestDemoAudioProfile(t *testing.T) {
	data, err := os.ReadFile("../demo/audio/01-facture.mp3")
	if err != nil {
		t.Fatal(err)
	}
	ix, err := Scan(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckProfile(ix.Header()); err != nil {
		t.Fatal(err)
	}
	if ix.SampleRate != 16000 || ix.Channels != 1 || ix.BitrateKbps != 32 || ix.Size != int64(len(data)) {
		t.Fatalf("unexpected profile %+v", ix.Header())
	}
	// sox measured 59.073 s of speech; the encoder pads to whole frames.
	if d := ix.Duration(); d < 59*time.Second || d > 59500*time.Millisecond {
		t.Fatalf("duration %v, want about 59.1 s", d)
	}
}

func FuzzScan(f *testing.F) {
	f.Add(frames(3))
	f.Add([]byte("ID3\x04\x00\x00\x00\x00\x00\x01x"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ix, err := Scan(bytes.NewReader(data))
		if err != nil {
			return
		}
		for i, off := range ix.Offsets {
			if off < 0 || off >= int64(len(data)) || (i > 0 && off <= ix.Offsets[i-1]) {
				t.Fatalf("bad offset %d at %d", off, i)
			}
		}
	})
}
